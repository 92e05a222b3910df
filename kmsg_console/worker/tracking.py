"""Delivery-status polling on K-Message's schedule, shared safely by several workers.

A send sets ``next_check_at`` (30 s after the send, or the scheduled time plus 2 minutes).
Each round claims due rows with one UPDATE that pushes ``next_check_at`` a lease ahead:
on PostgreSQL the rows are picked with ``FOR UPDATE SKIP LOCKED``, so two workers never
claim the same row; SQLite serialises writers, so the same statement is atomic there. The
vendor calls run in a small thread pool; results are written back by the claiming worker.
A worker that dies mid-round leaves its rows to come back when the lease runs out.

Back-off after an inconclusive check: 30 s, 2 min, 10 min, 30 min, then every 2 h; after
24 h (from the send, or from the scheduled time plus grace) the message becomes UNKNOWN.
"""

from __future__ import annotations

import logging
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from kmsg_console.extensions import db
from kmsg_console.messaging.errors import Acceptance, ErrorCode, SendError
from kmsg_console.messaging.provider import DeliveryStatus, DeliveryStatusResult
from kmsg_console.messaging.result import Err, Ok, Result
from kmsg_console.messaging.types import MessageType
from kmsg_console.orm import utcnow
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.models import Provider
from kmsg_console.sending.models import MessageLog, SandboxDelivery
from kmsg_console.worker import fallback, outcomes
from kmsg_console.worker.outcomes import (  # noqa: F401 - the tracking vocabulary, re-exported
    BACKOFF,
    MAX_TRACKING,
    NO_VENDOR_ID,
    OPEN,
    POLLABLE,
    PROVIDER_NOT_FOUND,
    TIMEOUT,
    TRACKING_ERROR,
    UNSUPPORTED,
    VENDOR_UNKNOWN,
    Note,
    apply_result,
    tracking_deadline,
)

logger = logging.getLogger(__name__)

#: The tracker's clock; tests replace it to walk a message through 24 hours.
clock = utcnow

#: How long a claimed row is hidden from other workers while it is being checked.
CLAIM_LEASE = timedelta(minutes=5)
BATCH_SIZE = 200
CONCURRENCY = 8


@dataclass(frozen=True)
class _Lookup:
    """What one vendor call needs, read in the main thread (no session in the pool)."""

    log_id: int
    adapter: Any
    vendor_id: str
    type: MessageType
    to: str
    requested_at: datetime


def claim_due(limit: int, now: datetime) -> list[int]:
    """Claim up to ``limit`` due messages for this worker (committed) and return their ids."""
    due = (
        sa.select(MessageLog.id)
        .where(MessageLog.status.in_(POLLABLE), MessageLog.next_check_at <= now)
        .order_by(MessageLog.next_check_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claim = (
        sa.update(MessageLog)
        .where(MessageLog.id.in_(due), MessageLog.next_check_at <= now)
        .values(next_check_at=now + CLAIM_LEASE)
        .returning(MessageLog.id)
        .execution_options(synchronize_session=False)
    )
    ids = list(db.session.execute(claim).scalars())
    db.session.commit()
    return ids


def run_round(*, max_batches: int = 10, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Poll every due message (in batches), then send the fallbacks that became due."""
    totals: Counter[str] = Counter()
    for _ in range(max_batches):
        now = clock()
        ids = claim_due(batch_size, now)
        if not ids:
            break
        totals.update(poll_batch(ids, now))
    totals.update(fallback.send_due())
    return dict(totals)


def poll_batch(ids: list[int], now: datetime) -> Counter[str]:
    """Check the claimed messages ``ids`` at their vendors and record the answers."""
    logs = list(db.session.scalars(sa.select(MessageLog).where(MessageLog.id.in_(ids))))
    providers = {
        p.code: p
        for p in db.session.scalars(
            sa.select(Provider).where(
                Provider.code.in_({log.provider_code for log in logs if log.provider_code})
            )
        )
    }
    counts: Counter[str] = Counter()
    lookups: list[_Lookup] = []
    settled: list[tuple[int, Result | Note]] = []
    for log in logs:
        immediate = _without_vendor_call(log, providers.get(log.provider_code or ""))
        if immediate is None:
            lookups.append(_lookup(log, providers[log.provider_code]))
        elif immediate is not False:
            settled.append((log.id, immediate))
    db.session.commit()  # no transaction stays open across the vendor calls
    settled += [
        (lookup.log_id, outcome)
        for lookup, outcome in zip(lookups, _query_all(lookups), strict=True)
    ]
    for log_id, outcome in settled:
        counts[_apply_and_commit(log_id, outcome, now)] += 1
    counts["checked"] = len(logs)
    return counts


def _apply_and_commit(log_id: int, outcome: Result | Note, now: datetime) -> str:
    """Record one answer in its own transaction, so one bad row cannot stall the others."""
    try:
        result = apply_result(db.session.get(MessageLog, log_id), outcome, now, polled=True)
        db.session.commit()
        return result
    except Exception:  # noqa: BLE001 - logged; the message is settled as UNKNOWN below
        db.session.rollback()
        logger.exception("recording the status of message %s failed", log_id)
    log = db.session.get(MessageLog, log_id)
    outcomes.give_up(log, TRACKING_ERROR, "the answer could not be recorded")
    db.session.commit()
    return "error"


def poll_now(log: MessageLog) -> str:
    """Check one message at once (the console's "check now"); the caller commits."""
    now = clock()
    provider = provider_services.get_by_code(log.provider_code) if log.provider_code else None
    immediate = _without_vendor_call(log, provider)
    if immediate is False:
        return "skipped"
    if immediate is None:
        immediate = _query(_lookup(log, provider))
    return apply_result(log, immediate, now, polled=True)


def _without_vendor_call(log: MessageLog, provider: Provider | None) -> Result | Note | bool | None:
    """Settle a message that needs no vendor call; None means "ask the vendor".

    Returns False when the row is not tracked at all (already final).
    """
    if log.status not in OPEN:
        log.next_check_at = None
        return False
    if provider is None:
        return Note(PROVIDER_NOT_FOUND)
    if not log.provider_message_id:
        # The request may have reached the vendor, but without its id there is nothing to
        # look up: say so instead of polling for 24 hours.
        return Note(NO_VENDOR_ID)
    if (
        provider.vendor == "sandbox"
        and db.session.scalar(
            sa.select(SandboxDelivery.id)
            .where(SandboxDelivery.message_public_id == log.public_id)
            .limit(1)
        )
        is not None
    ):
        # The sandbox "delivers" into the database, which every process sees.
        return Ok(DeliveryStatusResult(DeliveryStatus.DELIVERED, "DELIVERED"))
    if not provider_services.adapter_for(provider).supports_delivery_status:
        return Note(UNSUPPORTED)
    return None


def _lookup(log: MessageLog, provider: Provider) -> _Lookup:
    keyring = current_app.config["KEYRING"]
    return _Lookup(
        log.id,
        provider_services.adapter_for(provider),
        log.provider_message_id,
        MessageType(log.type),
        keyring.decrypt(log.to_enc, f"message:{log.public_id}:to"),
        log.sent_at or log.created_at,
    )


def _query(lookup: _Lookup) -> Result:
    try:
        return lookup.adapter.get_delivery_status(
            lookup.vendor_id, lookup.type, lookup.to, lookup.requested_at
        )
    except Exception as exc:  # noqa: BLE001 - a broken adapter must not stop the round
        logger.exception("status query for message %s failed", lookup.log_id)
        return Err(
            SendError.of(
                ErrorCode.UNKNOWN_ERROR,
                f"status query raised {type(exc).__name__}",
                accepted=Acceptance.NOT_ACCEPTED,
                retryable=True,
            )
        )


def _query_all(lookups: list[_Lookup]) -> list[Result]:
    if len(lookups) <= 1:
        return [_query(lookup) for lookup in lookups]
    with ThreadPoolExecutor(
        max_workers=min(CONCURRENCY, len(lookups)), thread_name_prefix="kmsg-status"
    ) as pool:
        return list(pool.map(_query, lookups))
