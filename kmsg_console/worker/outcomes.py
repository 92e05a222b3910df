"""Recording what a status check (or a delivery report) found: final statuses, back-off,
giving up after 24 hours, and "no status API". Final statuses are never overwritten.

A campaign message that leaves UNKNOWN here takes its recipient out of ``unknown`` too
(``campaigns.services.recipient_resolved``), in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from kmsg_console import sending
from kmsg_console.campaigns import services as campaign_services
from kmsg_console.messaging.errors import ErrorCode, SendError
from kmsg_console.messaging.provider import DeliveryStatus, DeliveryStatusResult
from kmsg_console.messaging.result import Err, Result
from kmsg_console.sending.models import MessageLog, MessageStatus
from kmsg_console.worker import fallback

BACKOFF = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=2),
)
MAX_TRACKING = timedelta(hours=24)
POLLABLE = (MessageStatus.PENDING.value, MessageStatus.SENT.value, MessageStatus.UNKNOWN.value)
#: Statuses a report may still change; DELIVERED, FAILED and CANCELLED are final.
OPEN = POLLABLE

# Tracking notes (``MessageLog.tracking_note``), as in K-Message's ``lastError``.
UNSUPPORTED = "UNSUPPORTED_PROVIDER"
TIMEOUT = "TRACKING_TIMEOUT"
PROVIDER_NOT_FOUND = "PROVIDER_NOT_FOUND"
NO_VENDOR_ID = "MISSING_PROVIDER_MESSAGE_ID"
VENDOR_UNKNOWN = "VENDOR_REPORTED_UNKNOWN"
TRACKING_ERROR = "TRACKING_ERROR"


@dataclass(frozen=True)
class Note:
    """A check settled without asking the vendor (K-Message's ``lastError`` codes)."""

    code: str


def tracking_deadline(log: MessageLog) -> datetime:
    """When polling gives up: 24 h after the send, or after the scheduled time plus grace."""
    if log.scheduled_at is not None:
        return log.scheduled_at + sending.SCHEDULED_GRACE + MAX_TRACKING
    return (log.sent_at or log.created_at) + MAX_TRACKING


def _query_retryable(error: SendError) -> bool:
    # A status query is a read: unlike a send, a timeout is safe to repeat.
    return (
        error.code.retryable_by_default
        or (error.http_status or 0) in (408, 429)
        or (error.http_status or 0) >= 500
    )


def apply_result(
    log: MessageLog, outcome: Result | Note, now: datetime, *, polled: bool, source: str = "polling"
) -> str:
    """Record one status answer (from polling or a report); returns what happened.

    Final statuses are never overwritten, so a repeated answer changes nothing.
    """
    if log.status not in OPEN:
        return "ignored"
    if polled:
        log.check_count += 1
        log.last_checked_at = now
    if isinstance(outcome, Note):
        return (
            _unsupported(log) if outcome.code == UNSUPPORTED else give_up(log, outcome.code, None)
        )
    if isinstance(outcome, Err):
        error = outcome.error
        if not _query_retryable(error):
            return give_up(log, error.code.value, error.message)
        log.tracking_note = error.code.value
        return _reschedule(log, now)
    result: DeliveryStatusResult | None = outcome.value
    if result is None:
        log.tracking_note = None
        return _reschedule(log, now)
    status = result.status
    if status is DeliveryStatus.DELIVERED:
        log.delivered_at = result.delivered_at or now
        log.sent_at = log.sent_at or result.sent_at
        return _final(
            log, MessageStatus.DELIVERED, f"delivered ({source}, code {result.vendor_code or '-'})"
        )
    if status is DeliveryStatus.FAILED:
        log.failed_at = result.failed_at or now
        log.error_code = ErrorCode.MESSAGE_SEND_FAILED.value
        log.vendor_code = (result.vendor_code or "")[:40] or None
        log.vendor_text = (result.vendor_text or "")[:500] or None
        log.retryable = False
        outcome_name = _final(
            log,
            MessageStatus.FAILED,
            f"delivery failed ({source}): {result.vendor_code or '-'} {result.vendor_text or ''}",
        )
        fallback.consider(log, result)
        return outcome_name
    if status is DeliveryStatus.CANCELLED:
        return _final(log, MessageStatus.CANCELLED, f"cancelled at the vendor ({source})")
    if status is DeliveryStatus.UNKNOWN:
        return give_up(log, VENDOR_UNKNOWN, result.vendor_text)
    # PENDING or SENT: the vendor has it. An UNKNOWN send is resolved as accepted here.
    wanted = MessageStatus(status.value)
    changed = log.status != wanted.value and not (
        log.status == MessageStatus.SENT.value and wanted is MessageStatus.PENDING
    )
    if changed:
        was = log.status
        log.sent_at = log.sent_at or result.sent_at
        sending.record_status(
            log, wanted, f"{source}: vendor reports {status.value} ({result.vendor_code or '-'})"
        )
        if was == MessageStatus.UNKNOWN.value:  # the vendor has it: the recipient was sent
            campaign_services.recipient_resolved(log)
    if not polled:
        return "updated" if changed else "unchanged"
    log.tracking_note = None
    return _reschedule(log, now)


def _reschedule(log: MessageLog, now: datetime) -> str:
    deadline = tracking_deadline(log)
    if now >= deadline:
        return give_up(log, TIMEOUT, "no final status within 24 hours")
    step = BACKOFF[min(max(log.check_count, 1) - 1, len(BACKOFF) - 1)]
    log.next_check_at = min(now + step, deadline)
    return "pending"


def _final(log: MessageLog, status: MessageStatus, detail: str) -> str:
    was = log.status
    log.next_check_at = None
    log.tracking_note = None
    sending.record_status(log, status, detail)
    if was == MessageStatus.UNKNOWN.value:
        # A campaign recipient whose send ended unknown waited for this answer: it takes it
        # in the same transaction, so its campaign's counts follow the message.
        campaign_services.recipient_resolved(log)
    return status.value.lower()


def give_up(log: MessageLog, note: str, detail: str | None) -> str:
    log.next_check_at = None
    log.tracking_note = note[:40]
    sending.record_status(log, MessageStatus.UNKNOWN, f"{note}: {detail or ''}".strip(": "))
    return "unknown"


def _unsupported(log: MessageLog) -> str:
    """No status API at this vendor: accepted means handed over; stop polling and say so."""
    log.next_check_at = None
    log.tracking_note = UNSUPPORTED
    if log.status == MessageStatus.UNKNOWN.value:
        # An unknown send stays unknown: nothing will ever tell us more.
        sending.record_status(log, MessageStatus.UNKNOWN, "provider has no delivery-status API")
    elif log.status != MessageStatus.SENT.value:
        sending.record_status(
            log, MessageStatus.SENT, "provider has no delivery-status API; tracking stopped"
        )
    return "unsupported"
