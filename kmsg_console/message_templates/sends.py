"""Sending with templates: the send engine's template look-up and the console's test send.

The resolver is what makes "only approved templates are sent" hold for every caller (API,
console, OTP): the send engine asks it for the template body of an ALIMTALK, and it
answers only for an approved AlimTalk template. Missing variables are refused by the
engine (``prepare_message``) before any provider is called.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from kmsg_console import sending
from kmsg_console.extensions import db
from kmsg_console.sending.models import MessageLog, MessageSource

from .lifecycle import Action
from .models import MessageTemplate, ReviewStatus, TemplateKind
from .services import _audit, _event, _require

logger = logging.getLogger(__name__)


def resolve_template(code: str) -> sending.TemplateBody | None:
    """The send engine's resolver: only an approved AlimTalk template is ever returned."""
    rows = db.session.scalars(
        sa.select(MessageTemplate)
        .where(
            MessageTemplate.vendor_code == code,
            MessageTemplate.kind == TemplateKind.ALIMTALK.value,
            MessageTemplate.status == ReviewStatus.APPROVED.value,
        )
        .order_by(MessageTemplate.id)
    ).all()
    if not rows:
        return None
    if len(rows) > 1:  # the same code at two providers: the oldest registration wins
        logger.warning(
            "template code %s is approved at %d providers; using %s",
            code,
            len(rows),
            rows[0].provider.code if rows[0].provider else None,
        )
    row = rows[0]
    return sending.TemplateBody(
        code=code,
        content=row.content,
        provider_code=row.provider.code if row.provider else None,
        profile_id=row.sender_profile,
    )


def send_test(
    template: MessageTemplate, to: str, variables: Mapping[str, str], *, actor: Any
) -> MessageLog:
    """Send the template once to ``to`` through the send engine (which commits), then audit it.

    :raises TemplateError: when the template may not be sent in its state.
    :raises sending.SendRefused: when the send engine refuses (missing variable, bad number...).
    """
    _require(template, Action.SEND)
    provider_code = template.provider.code if template.provider else None
    if template.is_alimtalk:
        request = sending.SendRequest(
            to=to,
            type=TemplateKind.ALIMTALK.value,
            template_code=template.vendor_code,
            variables=dict(variables),
            provider=provider_code,
        )
    else:
        request = sending.SendRequest(
            to=to,
            type=template.kind,
            text=template.content,
            variables=dict(variables),
            provider=provider_code,
        )
    result = sending.send(
        request, source=MessageSource.CONSOLE, operator_id=getattr(actor, "id", None)
    )
    log = result.log
    _event(template, "test_send", f"{log.public_id} to {log.to_masked}: {log.status}", actor=actor)
    _audit(
        "test_send", template, actor, message_id=log.public_id, to=log.to_masked, status=log.status
    )
    return log
