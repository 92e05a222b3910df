"""The worker's campaign job: start due campaigns, claim recipients, send each exactly once.

Exactly once rests on two writes, in this order:

1. **The claim** (committed before anything is sent): a batch of recipients moves from
   ``pending`` to ``claimed`` and each gets its message's public id, fixed now. On PostgreSQL
   the batch is selected ``FOR UPDATE SKIP LOCKED``, so several workers share one campaign
   without waiting on each other; the UPDATE is conditional on the state it read, so even two
   SQLite workers cannot both claim a row.
2. **The send** through the send engine's batch path (``send_batch``) with those ids: the
   engine writes the message rows, unique by public id, before any provider is called. A
   second send of the same recipient therefore fails at the database before reaching a
   vendor.

A claimed batch is sent in groups of up to ``MAX_GROUP`` recipients (a quarter second of the
rate), each group at the send slot of its first recipient; a group whose provider has a
batch endpoint (SOLAPI send-many) is one request. Between groups a worker looks whether the
campaign was paused or cancelled.

A worker killed between the two leaves a ``claimed`` recipient. Once the claim is older than
``STALE_CLAIM`` another round takes it again: if its message row exists the recipient takes
that message's status (sent, failed, unknown); if not, it was never sent and is sent now
under the same id. An UNKNOWN outcome is marked ``unknown`` and never resent: a batch request
whose answer was lost leaves each of its messages unknown, which is why a group is bounded.

The rate holds across workers: each batch reserves its send slots on the campaign row
(``next_send_at``) before sending, and its messages are spaced ``1/rate`` apart.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from kmsg_console.campaigns import services
from kmsg_console.campaigns.models import (
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    RecipientState,
)
from kmsg_console.campaigns.upload import PHONE_ENC_PURPOSE, VARIABLES_ENC_PURPOSE
from kmsg_console.events import outbox
from kmsg_console.events.types import EventType
from kmsg_console.extensions import db
from kmsg_console.orm import utcnow
from kmsg_console.sending import BatchItem, SendRequest, send_batch
from kmsg_console.sending.models import MessageLog, MessageSource

logger = logging.getLogger(__name__)

#: A claim older than this belongs to a worker that died: another round takes it.
STALE_CLAIM = timedelta(minutes=2)
#: A round sends at most this many seconds' worth of a campaign's rate per worker.
ROUND_SECONDS = 5
MAX_BATCH = 500
#: Recipients sent together at most (SOLAPI's batch requests carry this many messages).
MAX_GROUP = 100
#: Groups per second at a campaign's rate: a group leaves at most a quarter second early.
GROUPS_PER_SECOND = 4
#: Sending lanes (threads) of one worker on PostgreSQL.
SEND_LANES = 4
#: Replaced by tests that must not wait.
sleep = time.sleep


@dataclass
class Claimed:
    id: int
    phone_enc: str
    variables_enc: str | None
    message_public_id: str


def run_round(*, stale_after: timedelta = STALE_CLAIM, max_batch: int = MAX_BATCH) -> dict:
    """One round of every running campaign (the ``campaign_dispatch`` job)."""
    totals: dict[str, Any] = {"started": _start_due(), "sent": 0, "completed": 0}
    running = db.session.scalars(
        sa.select(Campaign.id)
        .where(Campaign.status == CampaignStatus.RUNNING.value)
        .order_by(Campaign.id)
    ).all()
    for campaign_id in running:
        totals["sent"] += dispatch(campaign_id, stale_after=stale_after, max_batch=max_batch)
        totals["completed"] += _complete(campaign_id)
    db.session.commit()
    return totals


def _start_due() -> int:
    now = utcnow()
    result = db.session.execute(
        sa.update(Campaign)
        .where(
            Campaign.status == CampaignStatus.SCHEDULED.value,
            Campaign.scheduled_at <= now,
        )
        .values(status=CampaignStatus.RUNNING.value, started_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount


def _status(campaign_id: int) -> str:
    return db.session.scalar(sa.select(Campaign.status).where(Campaign.id == campaign_id))


def claim(campaign: Campaign, limit: int, *, stale_after: timedelta = STALE_CLAIM) -> list[Claimed]:
    """Claim up to ``limit`` recipients (pending, or claimed by a worker that died), each with
    its message's public id fixed; committed before anything is sent."""
    now = utcnow()
    table = CampaignRecipient.__table__
    query = (
        sa.select(
            table.c.id,
            table.c.state,
            table.c.claimed_at,
            table.c.phone_enc,
            table.c.variables_enc,
            table.c.message_public_id,
        )
        .where(
            table.c.campaign_id == campaign.id,
            sa.or_(
                table.c.state == RecipientState.PENDING.value,
                sa.and_(
                    table.c.state == RecipientState.CLAIMED.value,
                    table.c.claimed_at < now - stale_after,
                ),
            ),
        )
        .order_by(table.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = db.session.execute(query).all()
    if not rows:
        db.session.commit()
        return []
    fresh, stale, claimed = [], [], []
    for row in rows:
        pid = row.message_public_id or str(uuid.uuid4())
        claimed.append(Claimed(row.id, row.phone_enc, row.variables_enc, pid))
        values = {"rid": row.id, "pid": pid, "old_at": row.claimed_at}
        (fresh if row.state == RecipientState.PENDING.value else stale).append(values)
    update = table.update().values(
        state=RecipientState.CLAIMED.value, message_public_id=sa.bindparam("pid"), claimed_at=now
    )
    connection = db.session.connection()
    if fresh:
        connection.execute(
            update.where(
                table.c.id == sa.bindparam("rid"), table.c.state == RecipientState.PENDING.value
            ),
            fresh,
        )
    if stale:
        connection.execute(
            update.where(
                table.c.id == sa.bindparam("rid"),
                table.c.state == RecipientState.CLAIMED.value,
                table.c.claimed_at == sa.bindparam("old_at"),
            ),
            stale,
        )
    # What this worker holds: the rows now claimed at ``now`` under the ids it chose (another
    # worker that read the same stale row chose the same id: the message row decides).
    held = set(
        db.session.execute(
            sa.select(table.c.id).where(
                table.c.id.in_([c.id for c in claimed]),
                table.c.state == RecipientState.CLAIMED.value,
                table.c.claimed_at == now,
                table.c.message_public_id.in_([c.message_public_id for c in claimed]),
            )
        ).scalars()
    )
    db.session.commit()
    return [c for c in claimed if c.id in held]


def _set_outcomes(outcomes: list[dict[str, Any]]) -> None:
    """Record sent recipients' outcomes (``rid``, ``state``, ``log_id``, ``reason``), one
    statement for the group, conditional on the recipient still being claimed."""
    if not outcomes:
        return
    table = CampaignRecipient.__table__
    db.session.connection().execute(
        table.update()
        .where(table.c.id == sa.bindparam("rid"), table.c.state == RecipientState.CLAIMED.value)
        .values(
            state=sa.bindparam("new_state"),
            message_log_id=sa.bindparam("log_id"),
            reason=sa.bindparam("why"),
        ),
        outcomes,
    )
    db.session.commit()


def _outcome(item: Claimed, state: RecipientState, log_id=None, reason=None) -> dict[str, Any]:
    return {"rid": item.id, "new_state": state.value, "log_id": log_id, "why": reason}


def _release(claimed: list[Claimed], state: RecipientState) -> None:
    """Give back claimed recipients that were not sent: ``pending`` (paused) or ``cancelled``.
    Their message ids were never used: no message row exists for them."""
    if not claimed:
        return
    db.session.execute(
        sa.update(CampaignRecipient)
        .where(
            CampaignRecipient.id.in_([c.id for c in claimed]),
            CampaignRecipient.state == RecipientState.CLAIMED.value,
        )
        .values(state=state.value, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _reserve(campaign_id: int, count: int, rate: int) -> datetime:
    """Reserve ``count`` send slots at ``rate``; returns when the first one starts."""
    for _ in range(10):
        current = db.session.scalar(
            sa.select(Campaign.next_send_at).where(Campaign.id == campaign_id)
        )
        now = utcnow()
        start = max(now, current) if current else now
        same = (
            Campaign.next_send_at.is_(None) if current is None else Campaign.next_send_at == current
        )
        result = db.session.execute(
            sa.update(Campaign)
            .where(Campaign.id == campaign_id, same)
            .values(next_send_at=start + timedelta(seconds=count / rate))
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        if result.rowcount:
            return start
    return utcnow()


def _request(campaign: Campaign, common: dict[str, Any], item: Claimed) -> SendRequest:
    keyring = current_app.config["KEYRING"]
    variables = dict(common)
    if item.variables_enc:
        variables.update(json.loads(keyring.decrypt(item.variables_enc, VARIABLES_ENC_PURPOSE)))
    return SendRequest(
        to=keyring.decrypt(item.phone_enc, PHONE_ENC_PURPOSE),
        text=campaign.text,
        type="ALIMTALK" if campaign.template_code else None,
        template_code=campaign.template_code,
        subject=campaign.subject,
        from_=campaign.from_number,
        variables=variables,
        ad=campaign.is_ad,
    )


def _existing(public_ids: list[str]) -> dict[str, tuple[int, str, str | None]]:
    rows = db.session.execute(
        sa.select(
            MessageLog.public_id, MessageLog.id, MessageLog.status, MessageLog.error_code
        ).where(MessageLog.public_id.in_(public_ids))
    ).all()
    return {r.public_id: (r.id, r.status, r.error_code) for r in rows}


def _existing_outcome(item: Claimed, found: tuple[int, str, str | None]) -> dict[str, Any]:
    log_id, status, error_code = found
    return _outcome(item, services.STATE_OF_STATUS[status], log_id, error_code)


def send_group(
    campaign: Campaign, common: dict[str, Any], group: list[Claimed]
) -> list[RecipientState]:
    """Send claimed recipients, each under its fixed message id, through the send engine's
    batch path (one send-many request per provider batch), and record their outcomes."""
    results = send_batch(
        [BatchItem(_request(campaign, common, item), item.message_public_id) for item in group],
        source=MessageSource.CAMPAIGN,
        operator_id=campaign.operator_id,
        campaign_id=campaign.id,
    )
    outcomes = []
    taken_over = [
        item.message_public_id
        for item, result in zip(group, results, strict=True)
        if result.already_written
    ]
    # Another worker took the same stale claim and wrote the message first: its status.
    existing = _existing(taken_over) if taken_over else {}
    for item, result in zip(group, results, strict=True):
        if result.log is not None:
            log = result.log
            outcomes.append(
                _outcome(item, services.STATE_OF_STATUS[log.status], log.id, log.error_code)
            )
        elif result.refused is not None:
            refused = result.refused
            log_id = refused.log.id if refused.log is not None else None
            outcomes.append(_outcome(item, RecipientState.FAILED, log_id, refused.code[:40]))
        else:
            outcomes.append(_existing_outcome(item, existing[item.message_public_id]))
    _set_outcomes(outcomes)
    return [RecipientState(outcome["new_state"]) for outcome in outcomes]


def group_size(rate: int) -> int:
    """Recipients sent together (one request where the provider has a batch endpoint): a
    quarter second's worth of the rate, at most ``MAX_GROUP``."""
    return max(1, min(MAX_GROUP, rate // GROUPS_PER_SECOND))


def dispatch(
    campaign_id: int, *, stale_after: timedelta = STALE_CLAIM, max_batch: int = MAX_BATCH
) -> int:
    """Claim one batch of a running campaign and send it at the campaign's rate."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.status != CampaignStatus.RUNNING.value:
        return 0
    limit = max(1, min(max_batch, campaign.rate * ROUND_SECONDS))
    batch = claim(campaign, limit, stale_after=stale_after)
    if not batch:
        return 0
    # A stale claim whose message was written before its worker died is found by the send
    # engine (``already_written``) and takes that message's status in ``send_group``.
    to_send = batch
    common = services.common_variables(campaign)
    start = _reserve(campaign.id, len(to_send), campaign.rate)
    size = group_size(campaign.rate)
    # Each group leaves at the send slot of its first recipient.
    groups = [
        (start + timedelta(seconds=first / campaign.rate), to_send[first : first + size])
        for first in range(0, len(to_send), size)
    ]
    lanes = min(SEND_LANES, len(groups)) if db.engine.dialect.name == "postgresql" else 1
    if lanes == 1:
        return _send_lane(campaign, common, groups)
    # PostgreSQL: a few lanes send the groups side by side, each from its own session, each
    # group still at its own slot; SQLite has one writer, so one lane.
    app = current_app._get_current_object()

    def lane(part: list[tuple[datetime, list[Claimed]]]) -> int:
        with app.app_context():
            try:
                own = db.session.get(Campaign, campaign_id)
                return _send_lane(own, common, part)
            finally:
                db.session.remove()

    with ThreadPoolExecutor(lanes) as pool:
        return sum(pool.map(lane, [groups[k::lanes] for k in range(lanes)]))


def _send_lane(
    campaign: Campaign, common: dict[str, Any], groups: list[tuple[datetime, list[Claimed]]]
) -> int:
    """Send ``groups`` (due time, recipients) each at its time; stop and give the rest back
    when the campaign is paused or cancelled meanwhile."""
    sent = 0
    for position, (due, group) in enumerate(groups):
        if position:
            status = _status(campaign.id)
            if status != CampaignStatus.RUNNING.value:
                rest = [item for _, later in groups[position:] for item in later]
                cancelled = status == CampaignStatus.CANCELLED.value
                _release(rest, RecipientState.CANCELLED if cancelled else RecipientState.PENDING)
                return sent
        wait = (due - utcnow()).total_seconds()
        if wait > 0:
            sleep(wait)
        send_group(campaign, common, group)
        sent += len(group)
    return sent


def _complete(campaign_id: int) -> int:
    """Mark a running campaign with nothing left to send completed, with its event."""
    left = (
        sa.select(CampaignRecipient.id)
        .where(
            CampaignRecipient.campaign_id == campaign_id,
            CampaignRecipient.state.in_(
                [RecipientState.PENDING.value, RecipientState.CLAIMED.value]
            ),
        )
        .exists()
    )
    now = utcnow()
    result = db.session.execute(
        sa.update(Campaign)
        .where(
            Campaign.id == campaign_id,
            Campaign.status == CampaignStatus.RUNNING.value,
            ~left,
        )
        .values(status=CampaignStatus.COMPLETED.value, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:
        db.session.rollback()
        return 0
    campaign = db.session.get(Campaign, campaign_id)
    db.session.refresh(campaign)
    db.session.add(outbox.new_event(EventType.CAMPAIGN_COMPLETED, completed_data(campaign), at=now))
    db.session.commit()
    return 1


def completed_data(campaign: Campaign) -> dict[str, Any]:
    counts = services.progress(campaign)
    return {
        "campaign_id": campaign.public_id,
        "name": campaign.name,
        "status": campaign.status,
        **{k: v for k, v in counts.as_dict().items() if k != "pending"},
    }
