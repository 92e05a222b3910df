"""The send engine: the one path every message takes (API, console, OTP, templates, worker).

    prepare (request.py) → route → for each provider in the failover chain:
        durability point: the attempt is on disk (a new message: with its row, its timeline
            and whatever rows the caller hands over, such as an OTP verification)
        call the provider (no database transaction is open meanwhile)
    durability point: the last attempt's answer and the message's final status

A failed attempt's answer is written by the durability point of the next attempt, before
that provider is called. A message row therefore starts as UNKNOWN with an ``in_flight``
attempt: a crash between the writes leaves a row that truthfully says "outcome unknown"
instead of no row at all. An UNKNOWN outcome is never sent again automatically: status
polling resolves it. The writes themselves are in ``records.py``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from kmsg_console.audit.services import record_audit
from kmsg_console.events import outbox
from kmsg_console.extensions import db
from kmsg_console.messaging.errors import FIXED_AT_ACCOUNT, Acceptance
from kmsg_console.messaging.phone import mask_phone
from kmsg_console.messaging.prepare import PreparedMessage
from kmsg_console.messaging.result import SendOutcome, SendStatus
from kmsg_console.messaging.router import Attempt, Router
from kmsg_console.messaging.types import (
    Failover,
    FallbackChannel,
    KakaoOptions,
    Message,
    MessageType,
)
from kmsg_console.observability import metrics
from kmsg_console.orm import utcnow
from kmsg_console.providers import services as provider_services
from kmsg_console.sending import duplicates, rules
from kmsg_console.sending.models import (
    MessageAttempt,
    MessageEvent,
    MessageLog,
    MessageSource,
    MessageStatus,
    SandboxDelivery,
)
from kmsg_console.sending.reading import PHONE_HASH_PURPOSE
from kmsg_console.sending.records import (
    DurabilityPoint,
    RowUpdate,
    add_to_loaded,
    durability_point,
)
from kmsg_console.sending.request import SendRefused, SendRequest, final_text, prepare

logger = logging.getLogger(__name__)

#: K-Message's tracking defaults: first status check 30 s after the send.
FIRST_CHECK_DELAY = timedelta(seconds=30)
SCHEDULED_GRACE = timedelta(minutes=2)
REDACTION = "••••••"


@dataclass(frozen=True)
class SendResult:
    log: MessageLog
    created: bool  # False when an Idempotency-Key returned an earlier message


def send(
    request: SendRequest,
    *,
    source: MessageSource,
    api_key_id: int | None = None,
    operator_id: int | None = None,
    idempotency_key: str | None = None,
    sensitive_values: Iterable[str] = (),
    fallback_of_id: int | None = None,
    resent_from_id: int | None = None,
    message_id: str | None = None,
    also_write: Sequence[object | RowUpdate] = (),
    campaign_id: int | None = None,
) -> SendResult:
    """Send one message and return its log row (committed).

    ``sensitive_values`` (an OTP code) are masked in the stored body, which also disables
    retries for that message. ``message_id`` fixes the message's public id in advance (the
    OTP engine records it on the verification before sending); by default a new one is made.
    ``fallback_of_id`` and ``resent_from_id`` link the new row to the message it stands in for
    (unique: a second one raises ``IntegrityError`` before any provider is called).
    ``also_write``: the caller's rows (new objects, ``RowUpdate``s), written in order in the
    same transaction as the message row, before any provider is called; if that transaction
    fails (e.g. ``IntegrityError`` from one of them) nothing is sent and the error goes on.
    ``campaign_id`` links the message to the campaign it is sent for.
    """
    sensitive = [v for v in sensitive_values if v]
    fingerprint = request.fingerprint() if idempotency_key else None
    if idempotency_key and api_key_id is not None:
        existing = _find_idempotent(api_key_id, idempotency_key)
        if existing is not None:
            return _check_idempotent(existing, fingerprint)
    router = provider_services.build_router()
    prepared, chain = _checked(
        request,
        router,
        message_id=message_id,
        source=source,
        api_key_id=api_key_id,
        operator_id=operator_id,
        sensitive=sensitive,
        campaign_id=campaign_id,
        lookups=rules.Lookups(),
    )
    message = prepared.message
    log = _create_log(
        prepared,
        request,
        source=source,
        api_key_id=api_key_id,
        operator_id=operator_id,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
        sensitive=sensitive,
        fallback_of_id=fallback_of_id,
        resent_from_id=resent_from_id,
        campaign_id=campaign_id,
    )
    try:
        _route(router, log, message, trigger="initial", chain=chain, also_write=also_write)
    except IntegrityError:
        # Written with the first attempt, the unique indexes answer before anything is sent:
        # another request with the same Idempotency-Key won the race (it does the sending),
        # or a second fallback (or resend) of one original, or a row the caller handed over.
        existing = _find_idempotent(api_key_id, idempotency_key) if idempotency_key else None
        if existing is None:
            raise
        return _check_idempotent(existing, fingerprint)
    return SendResult(log, created=True)


def _checked(
    request: SendRequest,
    router: Router,
    *,
    message_id: str | None,
    source: MessageSource,
    api_key_id: int | None,
    operator_id: int | None,
    sensitive: list[str],
    campaign_id: int | None,
    lookups: rules.Lookups,
) -> tuple[PreparedMessage, list[str]]:
    """Prepare and route ``request`` and apply the sending rules; return the message and
    the chain it may use.

    :raises SendRefused: invalid, no provider, or refused by a rule (then the refusal is
        written first, and ``log`` on the exception is its row).
    """
    prepared = prepare(request, message_id=message_id)
    chain = router.candidates(prepared.message)
    if not isinstance(chain, list):
        raise SendRefused(422, "no_provider", chain.error.message)
    candidate = rules.Candidate(request, prepared.message, chain, router, source, lookups=lookups)
    try:
        return prepared, rules.check(candidate)
    except rules.RuleRefusal as refusal:
        log = _create_log(  # with no Idempotency-Key: the caller may fix it and retry
            prepared,
            request,
            source=source,
            api_key_id=api_key_id,
            operator_id=operator_id,
            sensitive=sensitive,
            campaign_id=campaign_id,
        )
        _write_refusal(log, refusal, provider_code=chain[0] if chain else None)
        raise SendRefused(
            refusal.status, refusal.code, refusal.message, refusal.issues, log=log
        ) from None


# -- batches ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchItem:
    """One message of a batch, its public id fixed by the caller in advance."""

    request: SendRequest
    message_id: str


@dataclass(frozen=True)
class BatchOutcome:
    """What became of one batch item. ``log``: its message row (sent, failed or unknown).
    ``refused``: nothing was sent (``refused.log`` is the row a sending rule wrote, if one
    did). ``already_written``: a row with this message id existed before, nothing was sent."""

    log: MessageLog | None = None
    refused: SendRefused | None = None
    already_written: bool = False


@dataclass(eq=False)  # compared by identity
class _Ready:
    """A batch item past the rules: its message, its chain, and its row (not yet written),
    with the way to build that row again should the batch's first write fail."""

    index: int
    message: Message
    chain: list[str]
    new_log: Callable[[], MessageLog]
    log: MessageLog = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.new_log()


def send_batch(
    items: Sequence[BatchItem],
    *,
    source: MessageSource,
    operator_id: int | None = None,
    campaign_id: int | None = None,
) -> list[BatchOutcome]:
    """Send many messages, through their providers' batch endpoints where they have one;
    an outcome per item, in order.

    Each message takes the path of :func:`send` (prepared, routed, the rules, its row and
    first attempt on disk before its provider is called, the answer right after), but those
    whose first provider has a batch endpoint travel together: one durability point writes
    all their rows and attempts, one request carries them, one durability point writes all
    their answers. A message whose batched attempt may fail over goes on alone through the
    rest of its chain, as any failover does. Messages of providers without a batch endpoint
    are sent one by one.
    """
    router = provider_services.build_router()
    lookups = rules.Lookups()  # the rules' lists, read once for the whole batch
    outcomes: list[BatchOutcome | None] = [None] * len(items)
    groups: dict[tuple[str, Any], list[_Ready]] = {}
    written = _existing_ids([item.message_id for item in items])
    for index, item in enumerate(items):
        if item.message_id in written:
            outcomes[index] = BatchOutcome(already_written=True)
            continue
        try:
            prepared, chain = _checked(
                item.request,
                router,
                message_id=item.message_id,
                source=source,
                api_key_id=None,
                operator_id=operator_id,
                sensitive=[],
                campaign_id=campaign_id,
                lookups=lookups,
            )
        except SendRefused as refused:
            outcomes[index] = BatchOutcome(refused=refused)
            continue
        except IntegrityError:  # a refusal's row: another worker wrote this id meanwhile
            outcomes[index] = BatchOutcome(already_written=True)
            continue
        new_log = partial(
            _create_log,
            prepared,
            item.request,
            source=source,
            operator_id=operator_id,
            campaign_id=campaign_id,
        )
        ready = _Ready(index, prepared.message, chain, new_log)
        groups.setdefault((chain[0], prepared.message.scheduled_at), []).append(ready)
    for (provider_code, _schedule), members in groups.items():
        size = router.batch_size(provider_code)
        for start in range(0, len(members), size):
            chunk = members[start : start + size]
            sent = (
                _send_chunk(router, provider_code, chunk)
                if size > 1
                else _send_alone(router, chunk)
            )
            for ready, outcome in zip(chunk, sent, strict=True):
                outcomes[ready.index] = outcome
    return [outcome or BatchOutcome(already_written=True) for outcome in outcomes]


def _existing_ids(public_ids: list[str]) -> set[str]:
    if not public_ids:
        return set()
    return set(
        db.session.scalars(
            sa.select(MessageLog.public_id).where(MessageLog.public_id.in_(public_ids))
        )
    )


def _send_alone(router: Router, chunk: list[_Ready]) -> list[BatchOutcome]:
    """Each message on its own, as :func:`send` sends it."""
    outcomes = []
    for ready in chunk:
        try:
            _route(router, ready.log, ready.message, trigger="initial", chain=ready.chain)
        except IntegrityError:  # another worker wrote this message id first
            outcomes.append(BatchOutcome(already_written=True))
            continue
        outcomes.append(BatchOutcome(log=ready.log))
    return outcomes


def _send_chunk(router: Router, provider_code: str, chunk: list[_Ready]) -> list[BatchOutcome]:
    """One batch request to ``provider_code``, with a durability point before and after."""
    attempts = [_first_attempt(ready.log, provider_code, trigger="initial") for ready in chunk]
    try:
        with durability_point() as point:
            point.insert_many(
                [ready.log for ready in chunk],
                [event for ready in chunk for event in ready.log.events],
                attempts,
            )
    except IntegrityError:
        # Another worker wrote one of these ids after ``_existing_ids`` looked: no provider
        # was called. The failed block's rows are forgotten: each message is written anew,
        # alone, as ``send`` would write it, so each id is settled by its own unique insert.
        return _send_alone(router, [_Ready(r.index, r.message, r.chain, r.new_log) for r in chunk])
    results = router.send_batch(provider_code, [ready.message for ready in chunk])
    answers = [
        _answer(router, ready.log, ready.message, result)
        for ready, result in zip(chunk, results, strict=True)
    ]
    # Those whose attempt may fail over go on alone; the others' outcome is final now.
    going_on = [
        ready
        for ready, result in zip(chunk, results, strict=True)
        if not result.outcome.ok and result.outcome.error.failover_eligible and len(ready.chain) > 1
    ]
    finals = [
        (ready.log, *_final_status(ready.log, result.outcome))
        for ready, result in zip(chunk, results, strict=True)
        if ready not in going_on
    ]
    with durability_point() as point:
        point.update_many([(a, values) for a, (values, _) in zip(attempts, answers, strict=True)])
        point.update_many([(log, values) for log, values, _ in finals])
        point.insert_many(
            [delivery for _, delivery in answers if delivery is not None],
            [event for _, _, event in finals],
            [e for log, _, _ in finals for e in outbox.message_events(log)],
        )
    for log, _values, event in finals:
        add_to_loaded(log, "events", [event])
        _count_message(log)
    for result in results:
        _count_attempt(result)
    for ready in going_on:
        _route(router, ready.log, ready.message, trigger="failover", chain=ready.chain[1:])
    return [BatchOutcome(log=ready.log) for ready in chunk]


def _first_attempt(
    log: MessageLog, provider_code: str, *, trigger: str, operator_id: int | None = None
) -> MessageAttempt:
    """The first attempt of a new message, set on its row (both written together)."""
    attempt = MessageAttempt(
        number=1,
        trigger=trigger,
        provider_code=provider_code,
        started_at=utcnow(),
        outcome="in_flight",
        operator_id=operator_id,
    )
    attempt.message = log
    log.attempt_count, log.provider_code = attempt.number, provider_code
    return attempt


def _find_idempotent(api_key_id: int | None, key: str) -> MessageLog | None:
    return db.session.scalar(
        sa.select(MessageLog).where(
            MessageLog.api_key_id == api_key_id, MessageLog.idempotency_key == key
        )
    )


def _check_idempotent(existing: MessageLog, fingerprint: str | None) -> SendResult:
    if existing.request_hash != fingerprint:
        raise SendRefused(
            409,
            "idempotency_conflict",
            "This Idempotency-Key was already used with a different request body.",
        )
    return SendResult(existing, created=False)


def _create_log(
    prepared: PreparedMessage,
    request: SendRequest,
    *,
    source,
    operator_id,
    api_key_id=None,
    idempotency_key=None,
    fingerprint=None,
    sensitive=(),
    fallback_of_id=None,
    resent_from_id=None,
    campaign_id=None,
) -> MessageLog:
    keyring = current_app.config["KEYRING"]
    message = prepared.message
    body = _redact(final_text(message), sensitive)
    log = MessageLog(
        public_id=message.message_id,
        status=MessageStatus.UNKNOWN.value,
        source=source.value,
        requested_type=(request.type or None) and request.type.upper(),
        type=message.type.value,
        to_hash=keyring.lookup_hash(message.to, PHONE_HASH_PURPOSE),
        to_enc=keyring.encrypt(message.to, f"message:{message.message_id}:to"),
        to_masked=mask_phone(message.to),
        dedupe_hash=duplicates.dedupe_hash(message, source=source, sensitive=bool(sensitive)),
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
        is_ad=request.ad,
        attempts=[],  # a new message has none: no lazy load when the first one is added
        attempt_count=0,
        fallback_of_id=fallback_of_id,
        resent_from_id=resent_from_id,
        campaign_id=campaign_id,
    )
    log.events.append(
        MessageEvent(
            kind="accepted",
            status=MessageStatus.UNKNOWN.value,
            detail="accepted for sending; outcome unknown until a provider answers",
        )
    )
    return log  # written with its first attempt, before that provider is called (_route)


def _write_refusal(log: MessageLog, refusal: rules.RuleRefusal, *, provider_code) -> None:
    """Write a message a sending rule refused: FAILED with the rule's code, no attempt.

    Never retryable from the console: the rule would refuse it again until the list or
    the text changes, and then it is a new message.
    """
    now = utcnow()
    log.provider_code = provider_code
    log.status = MessageStatus.FAILED.value
    log.status_updated_at = now
    log.error_code = refusal.code
    log.retryable = False
    log.failed_at = now
    # Its only event says why: it was never "accepted for sending".
    log.events = [
        MessageEvent(
            at=now,
            kind="refused",
            status=MessageStatus.FAILED.value,
            detail=f"{refusal.code}: {refusal.message}"[:500],
        )
    ]
    with durability_point() as point:
        point.insert(log, *log.events, *outbox.message_events(log))
    metrics.MESSAGES.labels(provider_code or "", log.type, log.status, refusal.code).inc()


def _route(
    router: Router,
    log: MessageLog,
    message: Message,
    *,
    trigger: str,
    chain: list[str] | None = None,
    operator_id: int | None = None,
    also_write: Sequence[object | RowUpdate] = (),
) -> None:
    """Run the router, with a durability point before each provider call and one after."""
    #: The attempt being made and, once its provider answered, what came back.
    current: dict[str, Any] = {}

    def before_call(provider_code: str) -> None:
        step = "failover" if "attempt" in current else trigger
        with durability_point() as point:
            if sa.inspect(log).transient:  # a new message: its row with its first attempt
                point.apply(*also_write)
                attempt = _first_attempt(log, provider_code, trigger=step, operator_id=operator_id)
                point.insert(log, *log.events, attempt)
            else:
                if "result" in current:  # failover: the failed attempt's answer first
                    _write_answer(
                        point, router, log, message, current["attempt"], current["result"]
                    )
                attempt = MessageAttempt(
                    message_id=log.id,
                    number=log.attempt_count + 1,
                    trigger=step,
                    provider_code=provider_code,
                    started_at=utcnow(),
                    outcome="in_flight",
                    operator_id=operator_id,
                )
                point.update(log, {"attempt_count": attempt.number, "provider_code": provider_code})
                point.insert(attempt)
                add_to_loaded(log, "attempts", [attempt])
        current.clear()
        current["attempt"] = attempt

    def after_call(result: Attempt) -> None:
        current["result"] = result
        _count_attempt(result)

    routed = router.send(
        message, on_attempt_start=before_call, on_attempt_done=after_call, chain=chain
    )
    with durability_point() as point:
        _write_answer(point, router, log, message, current["attempt"], current["result"])
        _write_final_status(point, log, routed.outcome)
    _count_message(log)


def _count_attempt(result: Attempt) -> None:
    outcome = _attempt_outcome(result)
    metrics.ATTEMPTS.labels(result.provider_id, outcome, _error_code(result) or "").inc()
    metrics.PROVIDER_LATENCY.labels(result.provider_id).observe(result.latency_ms / 1000)


def _count_message(log: MessageLog) -> None:
    metrics.MESSAGES.labels(
        log.provider_code or "", log.type, log.status, log.error_code or ""
    ).inc()


def _attempt_outcome(result: Attempt) -> str:
    if result.outcome.ok:
        return "accepted"
    return "failed" if result.outcome.error.accepted is Acceptance.NOT_ACCEPTED else "unknown"


def _error_code(result: Attempt) -> str | None:
    return None if result.outcome.ok else result.outcome.error.code.value


def _write_answer(
    point: DurabilityPoint,
    router: Router,
    log: MessageLog,
    message: Message,
    attempt: MessageAttempt,
    result: Attempt,
) -> None:
    """What the provider answered, on the attempt's row (and in the sandbox's inbox)."""
    values, delivery = _answer(router, log, message, result)
    point.update(attempt, values)
    if delivery is not None:
        point.insert(delivery)


def _answer(
    router: Router, log: MessageLog, message: Message, result: Attempt
) -> tuple[dict[str, Any], SandboxDelivery | None]:
    """The attempt row's columns for what the provider answered, and the sandbox inbox's row
    when the sandbox took the message."""
    values: dict[str, Any] = {
        "finished_at": result.finished_at,
        "latency_ms": result.latency_ms,
        "outcome": _attempt_outcome(result),
    }
    outcome = result.outcome
    if outcome.ok:
        value = outcome.value
        values.update(
            provider_message_id=value.provider_message_id,
            http_status=value.http_status,
            raw=value.raw,
        )
    else:
        error = outcome.error
        values.update(
            error_code=error.code.value,
            error_message=(error.message or "")[:500],
            vendor_code=error.vendor_code,
            vendor_text=(error.vendor_text or "")[:500] or None,
            http_status=error.http_status,
            raw=error.raw,
        )
    if outcome.ok and _vendor_of(router, result.provider_id) == "sandbox":
        return values, _sandbox_delivery(log, message, result.provider_id)
    return values, None


def _vendor_of(router: Router, provider_code: str) -> str | None:
    return getattr(router.providers.get(provider_code), "vendor", None)


def _status_change(
    log: MessageLog, status: MessageStatus, detail: str | None
) -> tuple[dict[str, Any], MessageEvent]:
    """The columns and the timeline event of moving ``log`` to ``status``."""
    now = utcnow()
    event = MessageEvent(
        message_id=log.id,
        at=now,
        kind="status",
        status=status.value,
        detail=(detail or "")[:500] or None,
    )
    return {"status": status.value, "status_updated_at": now}, event


def record_status(log: MessageLog, status: MessageStatus, detail: str | None = None) -> None:
    """Move ``log`` to ``status`` with a timeline event (delivery tracking; the caller commits)."""
    values, event = _status_change(log, status, detail)
    previous_status = log.status
    for key, value in values.items():
        setattr(log, key, value)
    log.events.append(event)
    db.session.add_all(outbox.message_events(log, previous_status=previous_status))


def _write_final_status(point: DurabilityPoint, log: MessageLog, outcome: SendOutcome) -> None:
    """The message's final status of this send, and its timeline event."""
    values, event = _final_status(log, outcome)
    point.update(log, values)
    point.insert(event, *outbox.message_events(log))
    add_to_loaded(log, "events", [event])


def _final_status(log: MessageLog, outcome: SendOutcome) -> tuple[dict[str, Any], MessageEvent]:
    """The message row's columns for the final status of this send, and its timeline event."""
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
            # The vendor's own words only: the adapter's account (an exception's text after a
            # timeout) stays on the attempt, where the page keeps it as technical detail.
            "vendor_text": (error.vendor_text or "")[:500] or None,
            "http_status": error.http_status,
        }
        if error.accepted is Acceptance.NOT_ACCEPTED:
            status = MessageStatus.FAILED
            # ``retryable`` here is the console's retry button; see FIXED_AT_ACCOUNT.
            retryable = bool(error.retryable) or error.code in FIXED_AT_ACCOUNT
            values.update(
                failed_at=now,
                retryable=retryable and not log.body_redacted,
                next_check_at=None,
            )
            detail = f"{error.code.value}: {error.message}"
        else:
            # The request may have reached the vendor: never resend; let status polling decide.
            status = MessageStatus.UNKNOWN
            values.update(retryable=False, next_check_at=now + FIRST_CHECK_DELAY)
            detail = f"{error.code.value}: outcome unknown ({error.message})"
    status_values, event = _status_change(log, status, detail)
    return {**values, **status_values}, event


def _sandbox_delivery(log: MessageLog, message: Message, provider_code: str) -> SandboxDelivery:
    keyring = current_app.config["KEYRING"]
    text = final_text(message) or ""
    return SandboxDelivery(
        provider_code=provider_code,
        message_public_id=log.public_id,
        type=message.type.value,
        to_hash=log.to_hash,
        to_masked=log.to_masked,
        body_enc=keyring.encrypt(text, f"sandbox:{log.public_id}"),
    )


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
        kakao=KakaoOptions(
            profile_id=(payload.get("kakao") or {}).get("profile_id"),
            ad_flag=True if log.is_ad and log.type == MessageType.FRIENDTALK.value else None,
        ),
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
    if log.is_ad:
        try:  # the night is as closed to an advertising retry as to its first send
            rules.check_quiet_hours(message, rules.clock())
        except rules.RuleRefusal as refusal:
            raise SendRefused(refusal.status, refusal.code, refusal.message) from None
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
        operator_id=getattr(operator, "id", None),
    )
    return log
