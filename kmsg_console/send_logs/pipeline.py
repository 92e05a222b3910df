"""The one path every message takes: API, console and OTP all send through here.

normalize → validate → route → write the log row → for each provider attempt: write the
attempt and commit (the first one together with the row) → call → record the outcome → final
status, committed with the outcome (on failover the outcome is committed with the next
attempt, before that call).

The row exists before any provider is called and starts as UNKNOWN with an ``in_flight``
attempt, so a crash between the writes leaves a row that truthfully says "outcome unknown"
instead of no row at all. An UNKNOWN outcome is never sent again automatically: status
polling resolves it. The rows are written with Core statements at those points
(``send_logs/rows.py``), their ORM objects kept loaded for the caller.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from kmsg_console.audit.services import record_audit
from kmsg_console.extensions import db
from kmsg_console.messaging.errors import Acceptance
from kmsg_console.messaging.phone import InvalidPhoneNumber, mask_phone, normalize_recipient
from kmsg_console.messaging.prepare import PreparedMessage, prepare_message
from kmsg_console.messaging.result import SendStatus
from kmsg_console.messaging.router import Attempt, Router
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
from kmsg_console.observability import metrics
from kmsg_console.orm import utcnow
from kmsg_console.providers import services as provider_services
from kmsg_console.send_logs.models import (
    MessageAttempt,
    MessageEvent,
    MessageLog,
    MessageSource,
    MessageStatus,
    SandboxDelivery,
)
from kmsg_console.send_logs.rows import (
    add_to_loaded,
    commit_kept,
    insert_rows,
    new_row,
    update_row,
)

logger = logging.getLogger(__name__)

PHONE_HASH_PURPOSE = "phone"
#: K-Message's tracking defaults: first status check 30 s after the send.
FIRST_CHECK_DELAY = timedelta(seconds=30)
SCHEDULED_GRACE = timedelta(minutes=2)
REDACTION = "••••••"


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


#: Looks an AlimTalk template up by code; the template registry installs the real one.
TemplateResolver = Callable[[str], TemplateBody | None]


def _no_templates(_code: str) -> TemplateBody | None:
    return None


template_resolver: TemplateResolver = _no_templates


@dataclass(frozen=True)
class Preview:
    """What a send would do, without doing it."""

    prepared: PreparedMessage
    provider_chain: list[str]
    final_text: str | None


@dataclass(frozen=True)
class SendResultView:
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


def prepare(request: SendRequest, *, message_id: str | None = None) -> PreparedMessage:
    """Validate and normalize ``request`` into a message; raises SendRefused."""
    _check_schedule(request.scheduled_at)
    template = None
    if request.template_code or (request.type or "").upper() == MessageType.ALIMTALK.value:
        if not request.template_code:
            raise SendRefused(
                422,
                "invalid_request",
                "An AlimTalk needs a template_code.",
                [{"field": "template_code", "code": "required", "message": "required"}],
            )
        template = template_resolver(request.template_code)
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
    """Prepare and route without sending (the console's preview step)."""
    prepared = prepare(request)
    router = provider_services.build_router()
    chain = router.candidates(prepared.message)
    if not isinstance(chain, list):
        raise SendRefused(422, "no_provider", chain.error.message)
    return Preview(prepared, chain, final_text(prepared.message))


# -- sending --------------------------------------------------------------------------------


def _redact(text: str | None, sensitive: Iterable[str]) -> str | None:
    if text is None:
        return None
    for value in sensitive:
        if value:
            text = text.replace(value, REDACTION)
    return text


def _payload(message: Message) -> dict[str, Any]:
    return {
        "variables": {
            k: (v if isinstance(v, str | int | float | bool) or v is None else str(v))
            for k, v in message.variables.items()
        },
        "kakao": {"profile_id": message.kakao.profile_id},
        "failover": None
        if message.failover is None
        else {
            "enabled": message.failover.enabled,
            "channel": message.failover.fallback_channel.value,
            "content": message.failover.fallback_content,
            "title": message.failover.fallback_title,
        },
        "text": message.text,
        "template_content": message.template_content,
    }


def _find_idempotent(api_key_id: int, key: str) -> MessageLog | None:
    return db.session.scalar(
        sa.select(MessageLog).where(
            MessageLog.api_key_id == api_key_id, MessageLog.idempotency_key == key
        )
    )


def _check_idempotent(existing: MessageLog, fingerprint: str) -> SendResultView:
    if existing.request_hash != fingerprint:
        raise SendRefused(
            409,
            "idempotency_conflict",
            "This Idempotency-Key was already used with a different request body.",
        )
    return SendResultView(existing, created=False)


def send(
    request: SendRequest,
    *,
    source: MessageSource,
    api_key_id: int | None = None,
    operator_id: int | None = None,
    idempotency_key: str | None = None,
    sensitive_values: Iterable[str] = (),
    fallback_of_id: int | None = None,
    message_id: str | None = None,
) -> SendResultView:
    """Send one message and return its log row (committed).

    ``sensitive_values`` (an OTP code) are masked in the stored body, which also disables
    retries for that message. ``message_id`` fixes the message's public id in advance (the
    OTP engine records it on the verification before sending); by default a new one is made.
    """
    sensitive = [v for v in sensitive_values if v]
    fingerprint = request.fingerprint() if idempotency_key else None
    # These lookups only read configuration and earlier messages: whatever the caller has
    # pending in the session is written with the message row below.
    with db.session.no_autoflush:
        if idempotency_key and api_key_id is not None:
            existing = _find_idempotent(api_key_id, idempotency_key)
            if existing is not None:
                return _check_idempotent(existing, fingerprint)
        prepared = prepare(request, message_id=message_id)
        message = prepared.message
        router = provider_services.build_router()
        chain = router.candidates(message)
        if not isinstance(chain, list):
            raise SendRefused(422, "no_provider", chain.error.message)

    log = _create_log(
        prepared,
        request,
        source=source,
        api_key_id=api_key_id,
        operator_id=operator_id,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
        sensitive=sensitive,
    )
    # The SMS/LMS fallback of an AlimTalk names its original (a unique index: at most one).
    log.fallback_of_id = fallback_of_id
    if idempotency_key or fallback_of_id is not None:
        try:
            # Written now, so the unique index (same Idempotency-Key, or a second fallback of
            # one original) answers before anything is sent.
            insert_rows(log, *log.events)
        except IntegrityError:
            # Another request with the same Idempotency-Key won the race; it does the sending.
            db.session.rollback()
            existing = _find_idempotent(api_key_id, idempotency_key) if idempotency_key else None
            if existing is None:
                raise
            return _check_idempotent(existing, fingerprint)
    # The row is committed with its first attempt, before that provider is called (_route).
    _route(router, log, message, trigger="initial", sensitive=sensitive)
    return SendResultView(log, created=True)


def _create_log(
    prepared: PreparedMessage,
    request: SendRequest,
    *,
    source,
    api_key_id,
    operator_id,
    idempotency_key,
    fingerprint,
    sensitive,
) -> MessageLog:
    keyring = current_app.config["KEYRING"]
    message = prepared.message
    body = _redact(final_text(message), sensitive)
    log = new_row(
        MessageLog,
        public_id=message.message_id,
        status=MessageStatus.UNKNOWN.value,
        source=source.value,
        requested_type=(request.type or None) and request.type.upper(),
        type=message.type.value,
        to_hash=keyring.lookup_hash(message.to, PHONE_HASH_PURPOSE),
        to_enc=keyring.encrypt(message.to, f"message:{message.message_id}:to"),
        to_masked=mask_phone(message.to),
        from_number=message.from_,
        subject=message.subject,
        body_enc=keyring.encrypt(body, f"message:{message.message_id}:body")
        if body is not None
        else None,
        body_redacted=bool(sensitive),
        payload_enc=None
        if sensitive
        else keyring.encrypt(
            json.dumps(_payload(message), ensure_ascii=False),
            f"message:{message.message_id}:payload",
        ),
        template_code=message.template_id,
        byte_count=prepared.byte_count.bytes if prepared.byte_count else None,
        api_key_id=api_key_id,
        operator_id=operator_id,
        idempotency_key=idempotency_key,
        request_hash=fingerprint,
        warnings=[
            {
                "code": w.code,
                "message": w.message % dict(w.details)
                if w.details and "%(" in w.message
                else w.message,
            }
            for w in prepared.warnings
        ],
        scheduled_at=message.scheduled_at,
        attempts=[],  # a new message has none: no lazy load when the first one is added
        attempt_count=0,  # read before the row is flushed (column defaults apply at flush)
    )
    log.events.append(
        new_row(
            MessageEvent,
            kind="accepted",
            status=MessageStatus.UNKNOWN.value,
            detail="accepted for sending; outcome unknown until a provider answers",
        )
    )
    return log  # written by insert_rows (send_logs/rows.py), with its first attempt at the latest


def _route(
    router: Router,
    log: MessageLog,
    message: Message,
    *,
    trigger: str,
    sensitive: list[str],
    operator_id: int | None = None,
) -> None:
    """Run the router, persisting each attempt before and after its provider call."""
    state: dict[str, MessageAttempt] = {}
    first = [True]

    def on_start(provider_code: str) -> None:
        # The rows are built here and written by the commit, in SQLite's writer queue only
        # for the statements and the commit themselves.
        attempt = new_row(
            MessageAttempt,
            trigger=trigger if first[0] else "failover",
            provider_code=provider_code,
            started_at=utcnow(),
            outcome="in_flight",
            operator_id=operator_id,
        )
        first[0] = False
        if sa.inspect(log).transient:  # a new message: its row goes in with its first attempt
            log.attempt_count = attempt.number = 1
            log.provider_code = provider_code
            attempt.message = log  # its message_id is the row's id, once written
            insert_rows(log, *log.events, attempt, at_commit=True)
        else:
            attempt.number = log.attempt_count + 1
            attempt.message_id = log.id
            update_row(
                log,
                {"attempt_count": attempt.number, "provider_code": provider_code},
                at_commit=True,
            )
            insert_rows(attempt, at_commit=True)
            add_to_loaded(log, "attempts", [attempt])
        # The attempt (and, the first time, the row) is on disk before the call.
        commit_kept(in_writer_queue=True)
        state["current"] = attempt

    def on_done(result: Attempt) -> None:
        attempt = state["current"]
        _record_attempt(attempt, result)
        metrics.ATTEMPTS.labels(result.provider_id, attempt.outcome, attempt.error_code or "").inc()
        metrics.PROVIDER_LATENCY.labels(result.provider_id).observe(result.latency_ms / 1000)
        if result.outcome.ok and _vendor_of(router, result.provider_id) == "sandbox":
            _record_sandbox_delivery(log, message, result.provider_id)
        # Committed with what comes next, before anything else leaves this process: the next
        # attempt's row (failover) or the final status. A crash in between leaves the attempt
        # in_flight and the message UNKNOWN, which is what it is until that commit.

    outcome = router.send(message, on_attempt_start=on_start, on_attempt_done=on_done)
    _finish(log, outcome.outcome)
    commit_kept(in_writer_queue=True)
    metrics.MESSAGES.labels(
        log.provider_code or "", log.type, log.status, log.error_code or ""
    ).inc()


def _vendor_of(router: Router, provider_code: str) -> str | None:
    return getattr(router.providers.get(provider_code), "vendor", None)


def _record_attempt(attempt: MessageAttempt, result: Attempt) -> None:
    """Write what the provider answered on the attempt's row (committed with what follows)."""
    values: dict[str, Any] = {"finished_at": result.finished_at, "latency_ms": result.latency_ms}
    outcome = result.outcome
    if outcome.ok:
        value = outcome.value
        values.update(
            outcome="accepted",
            provider_message_id=value.provider_message_id,
            http_status=value.http_status,
            raw=value.raw,
        )
    else:
        error = outcome.error
        values.update(
            outcome="failed" if error.accepted is Acceptance.NOT_ACCEPTED else "unknown",
            error_code=error.code.value,
            error_message=(error.message or "")[:500],
            vendor_code=error.vendor_code,
            vendor_text=(error.vendor_text or "")[:500] or None,
            http_status=error.http_status,
            raw=error.raw,
        )
    # Written right before the commit that follows (the final status or the next attempt).
    update_row(attempt, values, at_commit=True)


def _status_change(
    log: MessageLog, status: MessageStatus, detail: str | None
) -> tuple[dict[str, Any], MessageEvent]:
    """The columns and the timeline event of moving ``log`` to ``status``."""
    now = utcnow()
    event = new_row(
        MessageEvent,
        message_id=log.id,
        at=now,
        kind="status",
        status=status.value,
        detail=(detail or "")[:500] or None,
    )
    return {"status": status.value, "status_updated_at": now}, event


def record_status(log: MessageLog, status: MessageStatus, detail: str | None = None) -> None:
    """Move ``log`` to ``status`` with a timeline event (used by delivery tracking)."""
    values, event = _status_change(log, status, detail)
    for key, value in values.items():
        setattr(log, key, value)
    log.events.append(event)


def _finish(log: MessageLog, outcome) -> None:
    """Write the message's final status of this send and its timeline event."""
    now = utcnow()
    if outcome.ok:
        value = outcome.value
        provider_code = value.provider_id or log.provider_code
        status = MessageStatus.PENDING if value.status == SendStatus.PENDING else MessageStatus.SENT
        values: dict[str, Any] = {
            "provider_code": provider_code,
            "provider_message_id": value.provider_message_id,
            "error_code": None,
            "vendor_code": None,
            "vendor_text": None,
            "retryable": False,
            "http_status": value.http_status,
            "sent_at": now,
            "next_check_at": log.scheduled_at + SCHEDULED_GRACE
            if log.scheduled_at
            else now + FIRST_CHECK_DELAY,
        }
        if value.warnings:
            values["warnings"] = list(log.warnings or []) + [
                {"code": w.code, "message": w.message} for w in value.warnings
            ]
        detail = f"accepted by {provider_code}"
    else:
        error = outcome.error
        values = {
            "error_code": error.code.value,
            "vendor_code": error.vendor_code,
            "vendor_text": (error.vendor_text or error.message or "")[:500],
            "http_status": error.http_status,
        }
        if error.accepted is Acceptance.NOT_ACCEPTED:
            status = MessageStatus.FAILED
            values.update(
                failed_at=now,
                retryable=bool(error.retryable) and not log.body_redacted,
                next_check_at=None,
            )
            detail = f"{error.code.value}: {error.message}"
        else:
            # The request may have reached the vendor: never resend; let status polling decide.
            status = MessageStatus.UNKNOWN
            values.update(retryable=False, next_check_at=now + FIRST_CHECK_DELAY)
            detail = f"{error.code.value}: outcome unknown ({error.message})"
    status_values, event = _status_change(log, status, detail)
    # Written by the commit that follows (see _route).
    update_row(log, {**values, **status_values}, at_commit=True)
    insert_rows(event, at_commit=True)
    add_to_loaded(log, "events", [event])


def _record_sandbox_delivery(log: MessageLog, message: Message, provider_code: str) -> None:
    keyring = current_app.config["KEYRING"]
    text = final_text(message) or ""
    db.session.add(
        SandboxDelivery(
            provider_code=provider_code,
            message_public_id=log.public_id,
            type=message.type.value,
            to_hash=log.to_hash,
            to_masked=log.to_masked,
            body_enc=keyring.encrypt(text, f"sandbox:{log.public_id}"),
        )
    )


# -- retry ----------------------------------------------------------------------------------


def rebuild_message(log: MessageLog) -> Message:
    """The message of ``log`` as it was sent (for retries), from its encrypted columns."""
    keyring = current_app.config["KEYRING"]
    payload = json.loads(keyring.decrypt(log.payload_enc, f"message:{log.public_id}:payload"))
    failover = None
    if payload.get("failover"):
        fo = payload["failover"]
        failover = Failover(
            fo["enabled"], FallbackChannel(fo["channel"]), fo.get("content"), fo.get("title")
        )
    return Message(
        type=MessageType(log.type),
        to=keyring.decrypt(log.to_enc, f"message:{log.public_id}:to"),
        text=payload.get("text"),
        from_=log.from_number,
        subject=log.subject,
        template_id=log.template_code,
        template_content=payload.get("template_content"),
        variables=payload.get("variables") or {},
        kakao=KakaoOptions(profile_id=(payload.get("kakao") or {}).get("profile_id")),
        failover=failover,
        scheduled_at=log.scheduled_at,
        message_id=log.public_id,
    )


def retry(log: MessageLog, *, operator) -> MessageLog:
    """Send a failed, retryable message again (same message id, a new attempt), audited."""
    if log.status != MessageStatus.FAILED.value or not log.retryable or log.payload_enc is None:
        raise SendRefused(
            409, "not_retryable", "Only failed messages with a retryable error can be retried."
        )
    message = rebuild_message(log)
    router = provider_services.build_router()
    record_audit(
        "message.retry",
        actor=operator,
        target_type="message",
        target_id=log.public_id,
        details={"before": {"status": log.status, "error_code": log.error_code}},
    )
    log.events.append(
        MessageEvent(
            kind="retry",
            status=log.status,
            detail=f"retry requested by {getattr(operator, 'email', 'system')}",
        )
    )
    # A plain (expiring) commit: the caller claimed this row with a Core UPDATE and holds some
    # of its columns in memory as it wants them, not as they are; the reload puts them right.
    db.session.commit()
    _route(
        router,
        log,
        message,
        trigger="retry",
        sensitive=[],
        operator_id=getattr(operator, "id", None),
    )
    return log


# -- reading --------------------------------------------------------------------------------


def find_by_public_id(public_id: str) -> MessageLog | None:
    return db.session.scalar(sa.select(MessageLog).where(MessageLog.public_id == public_id))


def phone_hash(raw_phone: str) -> str | None:
    """The lookup hash of any accepted format of a number, or None when it is not a number."""
    try:
        digits = normalize_recipient(raw_phone)
    except InvalidPhoneNumber:
        return None
    return current_app.config["KEYRING"].lookup_hash(digits, PHONE_HASH_PURPOSE)


def decrypt_body(log: MessageLog) -> str | None:
    if log.body_enc is None:
        return None
    return current_app.config["KEYRING"].decrypt(log.body_enc, f"message:{log.public_id}:body")


def sandbox_inbox(raw_phone: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """Recent sandbox deliveries (decrypted), optionally for one number."""
    keyring = current_app.config["KEYRING"]
    query = sa.select(SandboxDelivery).order_by(SandboxDelivery.id.desc()).limit(limit)
    if raw_phone:
        digest = phone_hash(raw_phone)
        if digest is None:
            return []
        query = query.where(SandboxDelivery.to_hash == digest)
    return [
        {
            "at": d.created_at,
            "to": d.to_masked,
            "type": d.type,
            "message_id": d.message_public_id,
            "text": keyring.decrypt(d.body_enc, f"sandbox:{d.message_public_id}"),
        }
        for d in db.session.scalars(query)
    ]


def attempts_summary(log: MessageLog) -> list[Mapping[str, Any]]:
    return [
        {
            "number": a.number,
            "provider": a.provider_code,
            "trigger": a.trigger,
            "outcome": a.outcome,
            "error_code": a.error_code,
            "vendor_code": a.vendor_code,
            "vendor_text": a.vendor_text,
            "http_status": a.http_status,
            "latency_ms": a.latency_ms,
            "started_at": a.started_at.isoformat(),
            "finished_at": a.finished_at.isoformat() if a.finished_at else None,
        }
        for a in log.attempts
    ]
