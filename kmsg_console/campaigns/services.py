"""Creating, confirming, pausing, resuming and cancelling campaigns; every change is audited.

A campaign is created as a draft with its recipients and preview (``upload.py``); the operator
confirms it (the API confirms at once), and it becomes ``scheduled`` (a start in the future)
or ``running``; the worker (``dispatch.py``) starts scheduled ones when due and sends.
Cancelling marks every recipient not yet sent ``cancelled`` in one UPDATE; a worker holding a
claimed one sees the status before sending it and cancels it too.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app

from kmsg_console.audit.services import record_audit
from kmsg_console.campaigns.models import (
    DRAFT_LIFETIME,
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    RecipientState,
)
from kmsg_console.campaigns.upload import Preview, Row, write_recipients
from kmsg_console.extensions import db
from kmsg_console.field_errors import FieldError
from kmsg_console.i18n_markers import N_
from kmsg_console.messaging.phone import InvalidPhoneNumber, normalize_sender
from kmsg_console.orm import utcnow
from kmsg_console.providers import services as provider_services
from kmsg_console.sending.models import MessageLog, MessageStatus

VARIABLES_ENC_PURPOSE = "campaign:variables"
NAME_MAX = 120
#: Length of the ``public_id`` column: a longer id names no campaign.
PUBLIC_ID_MAX = 40
DEFAULT_RATE = 50
#: The console's ceiling per vendor, in messages per second (its own conservative caps, not
#: published vendor limits); a campaign's rate is capped by the lowest enabled provider's.
VENDOR_MAX_RATE = {"solapi": 200, "nhn": 200, "iwinv": 50, "aligo": 50, "sandbox": 500}
FALLBACK_MAX_RATE = 50


class CampaignError(FieldError):
    """Input that cannot become a campaign. ``field`` names the input, ``reason`` is an
    ``N_()`` template formatted with ``params``."""


@dataclass(frozen=True)
class Progress:
    total: int
    sent: int
    failed: int
    unknown: int
    skipped: int
    cancelled: int
    pending: int  # not yet sent: pending and claimed

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def max_rate() -> int:
    """The highest rate a campaign may ask for: the lowest cap of the enabled providers."""
    caps = [
        VENDOR_MAX_RATE.get(p.vendor, FALLBACK_MAX_RATE)
        for p in provider_services.enabled_providers()
    ]
    return min(caps) if caps else FALLBACK_MAX_RATE


def _check(name: str, text: str | None, template_code: str | None, rate: int | None) -> int:
    if not (name or "").strip():
        raise CampaignError("name", N_("A campaign needs a name."))
    if len(name.strip()) > NAME_MAX:
        raise CampaignError("name", N_("A name is at most %(max)s characters."), max=NAME_MAX)
    if bool((text or "").strip()) == bool((template_code or "").strip()):
        raise CampaignError("text", N_("Give either a text or an AlimTalk template code."))
    ceiling = max_rate()
    rate = DEFAULT_RATE if rate is None else rate
    if rate < 1 or rate > ceiling:
        raise CampaignError(
            "rate",
            N_("The rate must be between 1 and %(max)s messages per second."),
            max=ceiling,
        )
    return min(rate, ceiling)


def _sender(raw: str | None) -> str | None:
    """A sender number's digits (the sender rule checks it is registered when sending)."""
    if not (raw or "").strip():
        return None
    try:
        return normalize_sender(raw)
    except InvalidPhoneNumber as exc:
        raise CampaignError("from_number", exc.reason, **exc.params) from None


def create_draft(
    *,
    name: str,
    text: str | None = None,
    template_code: str | None = None,
    subject: str | None = None,
    from_number: str | None = None,
    variables: Mapping[str, Any] | None = None,
    ad: bool = False,
    rate: int | None = None,
    scheduled_at: datetime | None = None,
    rows: Iterable[Row],
    actor: Any = None,
    actor_label: str | None = None,
    api_key_id: int | None = None,
) -> Campaign:
    """A draft campaign with its recipients and preview, flushed (the caller commits).

    :raises CampaignError: for a campaign that cannot be made (nothing is written).
    :raises upload.UploadError: for a file that cannot be read (the caller rolls back).
    """
    rate = _check(name, text, template_code, rate)
    from_number = _sender(from_number)
    keyring = current_app.config["KEYRING"]
    campaign = Campaign(
        public_id=f"cmp_{secrets.token_hex(12)}",
        name=name.strip(),
        status=CampaignStatus.DRAFT.value,
        text=(text or "").strip() or None,
        template_code=(template_code or "").strip() or None,
        subject=(subject or "").strip() or None,
        from_number=(from_number or "").strip() or None,
        variables_enc=keyring.encrypt(
            json.dumps(dict(variables), ensure_ascii=False), VARIABLES_ENC_PURPOSE
        )
        if variables
        else None,
        is_ad=bool(ad),
        rate=rate,
        scheduled_at=scheduled_at,
        created_by=(actor_label or getattr(actor, "email", None) or "system")[:254],
        operator_id=getattr(actor, "id", None),
        api_key_id=api_key_id,
        preview={},
    )
    db.session.add(campaign)
    db.session.flush()
    preview = write_recipients(campaign, rows, variables or {})
    campaign.rows_read = preview.rows_read
    campaign.total = preview.rows_read - preview.invalid_count
    campaign.preview = preview.as_dict()
    record_audit(
        "campaign.create",
        actor=actor,
        actor_label=actor_label,
        target_type="campaign",
        target_id=campaign.public_id,
        details={
            "after": {
                "name": campaign.name,
                "rows_read": preview.rows_read,
                "to_send": preview.to_send,
                "invalid": preview.invalid_count,
                "ad": campaign.is_ad,
                "rate": campaign.rate,
            }
        },
    )
    return campaign


def common_variables(campaign: Campaign) -> dict[str, Any]:
    if not campaign.variables_enc:
        return {}
    keyring = current_app.config["KEYRING"]
    return json.loads(keyring.decrypt(campaign.variables_enc, VARIABLES_ENC_PURPOSE))


def preview_of(campaign: Campaign) -> Preview:
    return Preview.from_dict(campaign.preview)


def _audit(action: str, campaign: Campaign, before: str, *, actor, actor_label=None, **extra):
    record_audit(
        action,
        actor=actor,
        actor_label=actor_label,
        target_type="campaign",
        target_id=campaign.public_id,
        details={"before": {"status": before}, "after": {"status": campaign.status, **extra}},
    )


def _move(
    campaign: Campaign, frm: Iterable[str], to: CampaignStatus, *where: Any, **values: Any
) -> bool:
    """Conditional UPDATE of the status (a worker may be changing it too); True if moved."""
    result = db.session.execute(
        sa.update(Campaign)
        .where(Campaign.id == campaign.id, Campaign.status.in_(list(frm)), *where)
        .values(status=to.value, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount:
        db.session.refresh(campaign)
    return bool(result.rowcount)


def draft_expired(campaign: Campaign, now: datetime | None = None) -> bool:
    """True for a draft older than ``DRAFT_HOURS``: it cannot be confirmed any more."""
    deadline = (now or utcnow()) - DRAFT_LIFETIME
    return campaign.status == CampaignStatus.DRAFT.value and campaign.created_at <= deadline


def confirm(campaign: Campaign, *, actor: Any = None, actor_label: str | None = None) -> bool:
    """Start a draft: ``scheduled`` when its start is in the future, else ``running``.

    A draft older than ``DRAFT_HOURS`` is not started: the retention purge may already be
    deleting its recipients, and a campaign must never start with part of its file.
    """
    now = utcnow()
    scheduled = campaign.scheduled_at is not None and campaign.scheduled_at > now
    target = CampaignStatus.SCHEDULED if scheduled else CampaignStatus.RUNNING
    values = {} if scheduled else {"started_at": now}
    fresh = Campaign.created_at > now - DRAFT_LIFETIME
    if not _move(campaign, [CampaignStatus.DRAFT.value], target, fresh, **values):
        return False
    _audit("campaign.confirm", campaign, "draft", actor=actor, actor_label=actor_label)
    return True


def pause(campaign: Campaign, *, actor: Any = None) -> bool:
    if not _move(campaign, [CampaignStatus.RUNNING.value], CampaignStatus.PAUSED):
        return False
    _audit("campaign.pause", campaign, "running", actor=actor)
    return True


def resume(campaign: Campaign, *, actor: Any = None) -> bool:
    if not _move(campaign, [CampaignStatus.PAUSED.value], CampaignStatus.RUNNING):
        return False
    _audit("campaign.resume", campaign, "paused", actor=actor)
    return True


def cancel(campaign: Campaign, *, actor: Any = None, actor_label: str | None = None) -> int | None:
    """Cancel a campaign that is not finished; the recipients not yet sent are cancelled and
    counted. Returns how many, or None when the campaign had already finished."""
    before = campaign.status
    movable = [
        CampaignStatus.DRAFT.value,
        CampaignStatus.SCHEDULED.value,
        CampaignStatus.RUNNING.value,
        CampaignStatus.PAUSED.value,
    ]
    if not _move(campaign, movable, CampaignStatus.CANCELLED, finished_at=utcnow()):
        return None
    result = db.session.execute(
        sa.update(CampaignRecipient)
        .where(
            CampaignRecipient.campaign_id == campaign.id,
            CampaignRecipient.state == RecipientState.PENDING.value,
        )
        .values(state=RecipientState.CANCELLED.value)
        .execution_options(synchronize_session=False)
    )
    _audit(
        "campaign.cancel",
        campaign,
        before,
        actor=actor,
        actor_label=actor_label,
        cancelled_recipients=result.rowcount,
    )
    return result.rowcount


def progress(campaign: Campaign) -> Progress:
    """The campaign's recipients counted by state (invalid rows were never recipients)."""
    counts = dict(
        db.session.execute(
            sa.select(CampaignRecipient.state, sa.func.count())
            .where(CampaignRecipient.campaign_id == campaign.id)
            .group_by(CampaignRecipient.state)
        ).all()
    )
    return Progress(
        total=sum(counts.values()),
        sent=counts.get("sent", 0),
        failed=counts.get("failed", 0),
        unknown=counts.get("unknown", 0),
        skipped=counts.get("skipped", 0),
        cancelled=counts.get("cancelled", 0),
        pending=counts.get("pending", 0) + counts.get("claimed", 0),
    )


#: The message statuses the progress page sends the operator to the send log for.
TROUBLE = (MessageStatus.FAILED.value, MessageStatus.UNKNOWN.value)


@dataclass(frozen=True)
class LogGroup:
    """The campaign's messages of one status and error code, as the send log counts them."""

    status: str
    error_code: str | None
    count: int


def send_log_groups(campaign: Campaign) -> list[LogGroup]:
    """The campaign's FAILED and UNKNOWN messages by status and error code, most first.

    Counted from the send log itself (``ix_message_log_campaign`` alone), so each group's
    count is what its link to the send log lists. It can exceed the recipients' counts: a
    carrier may fail a message after it was sent, and its recipient stays ``sent``.
    """
    rows = db.session.execute(
        sa.select(MessageLog.status, MessageLog.error_code, sa.func.count())
        .where(MessageLog.campaign_id == campaign.id, MessageLog.status.in_(TROUBLE))
        .group_by(MessageLog.status, MessageLog.error_code)
    ).all()
    groups = [LogGroup(status, code, count) for status, code, count in rows]
    return sorted(groups, key=lambda g: (-g.count, g.status, g.error_code or ""))


def unlogged_failures(campaign: Campaign) -> list[tuple[str | None, int]]:
    """Failed recipients refused before any message was written (no provider could take it,
    the request was invalid), by reason: the send log has nothing to show for them."""
    return db.session.execute(
        sa.select(CampaignRecipient.reason, sa.func.count())
        .where(
            CampaignRecipient.campaign_id == campaign.id,
            CampaignRecipient.state == RecipientState.FAILED.value,
            CampaignRecipient.message_log_id.is_(None),
        )
        .group_by(CampaignRecipient.reason)
        .order_by(sa.func.count().desc(), CampaignRecipient.reason)
    ).all()


#: A recipient's state once its message has this status.
STATE_OF_STATUS = {
    MessageStatus.PENDING.value: RecipientState.SENT,
    MessageStatus.SENT.value: RecipientState.SENT,
    MessageStatus.DELIVERED.value: RecipientState.SENT,
    MessageStatus.FAILED.value: RecipientState.FAILED,
    MessageStatus.CANCELLED.value: RecipientState.CANCELLED,
    MessageStatus.UNKNOWN.value: RecipientState.UNKNOWN,
}


def recipient_resolved(log: MessageLog) -> bool:
    """Settle the campaign recipient of ``log``, left ``unknown`` when the send's outcome was,
    now that a status check or a delivery report told the message's status (already set on
    ``log``). The caller commits, with the message's own status change.

    One conditional UPDATE by the recipient's message id (unique): a recipient in any other
    state is left as it is, so an answer that comes twice changes nothing. True if it moved.
    """
    state = STATE_OF_STATUS.get(log.status)
    if log.campaign_id is None or state in (None, RecipientState.UNKNOWN):
        return False
    result = db.session.execute(
        sa.update(CampaignRecipient)
        .where(
            CampaignRecipient.message_public_id == log.public_id,
            CampaignRecipient.campaign_id == log.campaign_id,
            CampaignRecipient.state == RecipientState.UNKNOWN.value,
        )
        .values(
            state=state.value,
            message_log_id=log.id,
            # The unknown outcome's code (a timeout, a dropped connection) no longer applies.
            reason=(log.error_code or "")[:40] or None if state is RecipientState.FAILED else None,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def get(public_id: str) -> Campaign | None:
    return db.session.scalar(sa.select(Campaign).where(Campaign.public_id == public_id))
