"""What a caller asks to send, checked and normalized before anything is written.

``prepare`` turns a :class:`SendRequest` into a routed-ready message or raises
:class:`SendRefused`; nothing is logged and no provider is called for a refused request.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Flask, current_app

from kmsg_console.messaging.prepare import PreparedMessage, prepare_message
from kmsg_console.messaging.types import (
    SCHEDULE_HORIZON,
    Failover,
    FallbackChannel,
    KakaoOptions,
    Message,
    MessageType,
    MessageValidationError,
)
from kmsg_console.messaging.variables import render_template
from kmsg_console.orm import utcnow
from kmsg_console.providers import services as provider_services
from kmsg_console.sending.models import MessageLog, MessageSource


class SendRefused(Exception):
    """The request cannot be sent; nothing was logged and no provider was called.

    ``code`` is the API error code; ``issues`` lists field problems for forms and the API.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        issues: list[dict[str, Any]] | None = None,
        log: MessageLog | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.issues = issues or []
        self.log = log


@dataclass
class SendRequest:
    """What a caller asks to send (already type-checked by the API or the form)."""

    to: str
    text: str | None = None
    type: str | None = None
    from_: str | None = None
    subject: str | None = None
    template_code: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    provider: str | None = None
    failover: dict[str, Any] | None = None
    kakao: dict[str, Any] | None = None
    scheduled_at: datetime | None = None

    def fingerprint(self) -> str:
        """A stable hash of the request, for Idempotency-Key comparisons."""
        data = {k: v for k, v in self.__dict__.items()}
        data["scheduled_at"] = self.scheduled_at.isoformat() if self.scheduled_at else None
        canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class TemplateBody:
    """An approved template's text and the provider it is registered with."""

    code: str
    content: str
    provider_code: str | None = None
    profile_id: str | None = None


#: Looks an approved AlimTalk template up by code (see ``use_template_resolver``).
TemplateResolver = Callable[[str], TemplateBody | None]

#: ``app.extensions`` key of the app's template resolver.
TEMPLATE_RESOLVER = "kmsg_template_resolver"


def use_template_resolver(app: Flask, resolver: TemplateResolver) -> None:
    """Make ``resolver`` the app's template look-up (the app factory installs the registry's).

    Without one, every AlimTalk is refused as naming an unknown template.
    """
    app.extensions[TEMPLATE_RESOLVER] = resolver


def resolve_template(code: str) -> TemplateBody | None:
    resolver = current_app.extensions.get(TEMPLATE_RESOLVER)
    return resolver(code) if resolver is not None else None


@dataclass(frozen=True)
class Preview:
    """What a send would do, without doing it."""

    prepared: PreparedMessage
    provider_chain: list[str]
    final_text: str | None


@dataclass(frozen=True)
class SendResult:
    log: MessageLog
    created: bool  # False when an Idempotency-Key returned an earlier message


# -- preparing ------------------------------------------------------------------------------


def _issues_of(exc: MessageValidationError) -> list[dict[str, Any]]:
    return [
        {
            "field": i.field,
            "code": i.code,
            "message": i.message % dict(i.params) if i.params else i.message,
        }
        for i in exc.issues
    ]


def _check_schedule(scheduled_at: datetime | None) -> None:
    """Refuse a requested send time that has passed or lies beyond ``SCHEDULE_HORIZON``.

    Checked on the request, before anything is logged: a vendor would refuse either, after
    the message row existed (Aligo's code 42), or hold a reservation nobody remembers.
    """
    if scheduled_at is None or scheduled_at.utcoffset() is None:
        return  # no schedule, or a naive one that validation refuses with its own issue
    now = utcnow()
    days = SCHEDULE_HORIZON.days
    if scheduled_at <= now:
        message, code, detail = (
            "scheduled_at has passed; leave it out to send now.",
            "schedule_passed",
            "in the past",
        )
    elif scheduled_at > now + SCHEDULE_HORIZON:
        message, code, detail = (
            f"scheduled_at may be at most {days} days ahead.",
            "schedule_too_far",
            f"more than {days} days ahead",
        )
    else:
        return
    raise SendRefused(
        422,
        "invalid_request",
        message,
        [{"field": "scheduled_at", "code": code, "message": detail}],
    )


def _check_template_type(request: SendRequest) -> None:
    """Refuse a ``template_code`` on a message that is not an AlimTalk.

    The type is not guessed from it: a message without a type is an SMS (the API's rule),
    and an SMS refused for its missing text would hide the caller's real mistake.
    """
    kind = (request.type or "").upper()
    if not request.template_code or kind == MessageType.ALIMTALK.value:
        return
    if not kind:
        raise SendRefused(
            422,
            "invalid_request",
            'type is missing: template_code is for ALIMTALK, so send "type": "ALIMTALK" with it '
            "(a message without a type is an SMS).",
            [{"field": "type", "code": "required", "message": "required with template_code"}],
        )
    raise SendRefused(
        422,
        "invalid_request",
        f"template_code is for ALIMTALK only, not for type {kind}.",
        [{"field": "template_code", "code": "not_allowed", "message": "for ALIMTALK only"}],
    )


def prepare(request: SendRequest, *, message_id: str | None = None) -> PreparedMessage:
    """Validate and normalize ``request`` into a message; raises SendRefused."""
    _check_schedule(request.scheduled_at)
    _check_template_type(request)
    template = None
    if request.type and request.type.upper() == MessageType.ALIMTALK.value:
        if not request.template_code:
            raise SendRefused(
                422,
                "invalid_request",
                "An AlimTalk needs a template_code.",
                [{"field": "template_code", "code": "required", "message": "required"}],
            )
        template = resolve_template(request.template_code)
        if template is None:
            raise SendRefused(
                422,
                "unknown_template",
                f"No approved template with code {request.template_code!r}.",
                [
                    {
                        "field": "template_code",
                        "code": "unknown_template",
                        "message": "unknown or not approved template",
                    }
                ],
            )
    failover = None
    if request.failover:
        failover = Failover(
            enabled=bool(request.failover.get("enabled")),
            fallback_channel=FallbackChannel(request.failover.get("channel", "sms")),
            fallback_content=request.failover.get("content"),
            fallback_title=request.failover.get("title"),
        )
        if failover.enabled and not failover.fallback_content and template is not None:
            # Derive the SMS/LMS fallback from the template text itself.
            failover = Failover(
                True, failover.fallback_channel, template.content, failover.fallback_title
            )
    kakao = KakaoOptions(
        profile_id=(request.kakao or {}).get("profile_id")
        or (template.profile_id if template else None)
    )
    try:
        return prepare_message(
            to=request.to,
            text=request.text,
            type=request.type,
            from_=request.from_,
            subject=request.subject,
            template_id=template.code if template else None,
            template_content=template.content if template else None,
            variables=request.variables,
            kakao=kakao,
            failover=failover,
            scheduled_at=request.scheduled_at,
            provider_id=request.provider or (template.provider_code if template else None),
            message_id=message_id,
        )
    except MessageValidationError as exc:
        issues = _issues_of(exc)
        code = (
            "invalid_phone"
            if any(i["field"] in {"to", "from"} for i in issues)
            else "invalid_request"
        )
        raise SendRefused(
            422, code, issues[0]["message"] if issues else "invalid message", issues
        ) from exc


def final_text(message: Message) -> str | None:
    """The text the recipient sees (AlimTalk: the template filled with the variables)."""
    if message.type is MessageType.ALIMTALK and message.template_content:
        return render_template(message.template_content, message.variables)
    return message.text


def preview(request: SendRequest) -> Preview:
    """Prepare, route and apply the sending rules without sending (the console's preview
    step): the chain shown is the one a send would use, and a rule that would refuse the
    message refuses it here, before the operator confirms."""
    from kmsg_console.sending import rules  # imported here: the rules module imports this one

    prepared = prepare(request)
    router = provider_services.build_router()
    chain = router.candidates(prepared.message)
    if not isinstance(chain, list):
        raise SendRefused(422, "no_provider", chain.error.message)
    candidate = rules.Candidate(request, prepared.message, chain, router, MessageSource.CONSOLE)
    try:
        chain = rules.check(candidate)
    except rules.RuleRefusal as refusal:
        raise SendRefused(refusal.status, refusal.code, refusal.message, refusal.issues) from None
    return Preview(prepared, chain, final_text(prepared.message))
