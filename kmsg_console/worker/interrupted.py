"""Sends cut short by a process that died (a crash, a kill, a restart that timed out).

The send engine commits a message as UNKNOWN before any provider is called and each attempt as
``in_flight`` before its call, so a dead process leaves rows that say "outcome unknown" — but
without this job they would look "in flight" forever. Once a row is older than any send can
take, its attempts tell what happened, and it is settled truthfully:

- an attempt still ``in_flight``: the process ended during the provider call, so the vendor
  may or may not have the message. The attempt becomes ``unknown`` (``REQUEST_ABORTED``) and
  the message stays UNKNOWN with the tracking note ``INTERRUPTED``; it is never sent again
  by itself;
- the last attempt was ``accepted`` (the process ended before writing the final status): the
  message is SENT, and status polling takes it from there;
- no attempt, or only attempts the providers refused: the process ended before the next
  provider call (each attempt is on disk before its call), so nothing went out. The message
  becomes FAILED (``REQUEST_ABORTED``), retryable from the console unless its text was
  redacted (OTP);
- any other ended attempt (``unknown``): UNKNOWN with the note ``INTERRUPTED``.

Candidates come from the tracking index (``status, next_check_at``): UNKNOWN rows for which no
status check is scheduled and that carry no tracking note. The message is changed by a
conditional UPDATE on exactly that state, so two workers settle a row once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from kmsg_console.events import outbox
from kmsg_console.extensions import db
from kmsg_console.messaging.errors import ErrorCode
from kmsg_console.sending.engine import FIRST_CHECK_DELAY
from kmsg_console.sending.models import MessageAttempt, MessageEvent, MessageLog, MessageStatus

#: Longer than any send can take (every provider of a chain with its connect and read
#: timeouts, plus the database writes around them).
STALE_AFTER = timedelta(minutes=10)
BATCH_SIZE = 200
#: ``MessageLog.tracking_note`` of a send whose process ended during a provider call.
INTERRUPTED = "INTERRUPTED"
ABORTED = ErrorCode.REQUEST_ABORTED.value
UNKNOWN = MessageStatus.UNKNOWN.value


@dataclass(frozen=True)
class Verdict:
    kind: str  # "interrupted", "accepted", "never_sent" or "unknown"
    values: dict[str, Any]
    status: str
    detail: str


def verdict(log: MessageLog, now: datetime) -> Verdict | None:
    """What an abandoned message's attempts prove; None while an attempt may still be live."""
    attempts = sorted(log.attempts, key=lambda a: a.number)
    if any(a.outcome == "in_flight" and a.started_at >= now - STALE_AFTER for a in attempts):
        return None
    last = attempts[-1] if attempts else None
    if last is not None and last.outcome == "in_flight":
        return Verdict(
            "interrupted",
            {"tracking_note": INTERRUPTED, "error_code": ABORTED, "retryable": False},
            UNKNOWN,
            f"{ABORTED}: the sending process ended while calling {last.provider_code}; "
            "the provider may have the message, so it is not sent again",
        )
    if last is not None and last.outcome == "accepted":
        return Verdict(
            "accepted",
            {
                "status": MessageStatus.SENT.value,
                "provider_code": last.provider_code,
                "provider_message_id": last.provider_message_id,
                "http_status": last.http_status,
                "sent_at": last.finished_at or now,
                "next_check_at": now + FIRST_CHECK_DELAY,
                "error_code": None,
                "retryable": False,
            },
            MessageStatus.SENT.value,
            f"accepted by {last.provider_code} (recorded after the sending process ended)",
        )
    if all(a.outcome == "failed" for a in attempts):
        return Verdict(
            "never_sent",
            {
                "status": MessageStatus.FAILED.value,
                "failed_at": now,
                "error_code": last.error_code if last else ABORTED,
                "vendor_code": last.vendor_code if last else None,
                "retryable": not log.body_redacted and log.payload_enc is not None,
            },
            MessageStatus.FAILED.value,
            f"{ABORTED}: the sending process ended before another "
            "provider was called; nothing was sent",
        )
    return Verdict(
        "unknown",
        {"tracking_note": INTERRUPTED},
        UNKNOWN,
        f"{ABORTED}: the sending process ended before recording the outcome",
    )


def _apply(log: MessageLog, found: Verdict, now: datetime) -> bool:
    settled = db.session.execute(
        sa.update(MessageLog)
        .where(
            MessageLog.id == log.id,
            MessageLog.status == UNKNOWN,
            MessageLog.next_check_at.is_(None),
            MessageLog.tracking_note.is_(None),
        )
        .values(status_updated_at=now, **found.values)
        .execution_options(synchronize_session=False)
    )
    if settled.rowcount != 1:
        return False  # another worker (or a late answer) got there first
    if found.kind == "interrupted":
        db.session.execute(
            sa.update(MessageAttempt)
            .where(MessageAttempt.message_id == log.id, MessageAttempt.outcome == "in_flight")
            .values(
                outcome="unknown",
                error_code=ABORTED,
                error_message="the sending process ended during the provider call",
            )
            .execution_options(synchronize_session=False)
        )
    db.session.add(
        MessageEvent(
            message_id=log.id, at=now, kind="status", status=found.status, detail=found.detail[:500]
        )
    )
    db.session.refresh(log)  # as settled, for its event
    db.session.add_all(outbox.message_events(log))
    return True


def settle(now: datetime) -> dict[str, int]:
    """Settle one batch of sends abandoned for longer than ``STALE_AFTER`` (committed)."""
    candidates = db.session.scalars(
        sa.select(MessageLog)
        .where(
            MessageLog.status == UNKNOWN,
            MessageLog.next_check_at.is_(None),
            MessageLog.tracking_note.is_(None),
            MessageLog.created_at < now - STALE_AFTER,
        )
        .options(selectinload(MessageLog.attempts))
        .order_by(MessageLog.id)
        .limit(BATCH_SIZE)
    ).all()
    counts = {"interrupted": 0, "accepted": 0, "never_sent": 0, "unknown": 0}
    for log in candidates:
        found = verdict(log, now)
        if found is not None and _apply(log, found, now):
            counts[found.kind] += 1
    db.session.commit()
    return counts
