"""Data retention: one-time codes and message texts within days, operational logs later.

Classes (K-Message's KR B2B preset keeps OTP and body text 1–7 days and ops logs 90 days):

- ``otp`` (default 3 days, 1–7): verification code hashes are blanked, OTP message texts
  dropped (they hold the masked code) and sandbox deliveries (full texts) deleted;
- ``send_logs`` (90 days): messages with their attempts and timeline events;
- ``verifications`` (90 days): verification rows and their events;
- ``throttle_events`` (90 days): blocked and monitored throttle decisions;
- ``audit_log`` (365 days, at least 365): operator actions are security evidence, and
  Korea's personal-information safety rules ask for access records to be kept a year.

Campaign drafts not confirmed within ``DRAFT_HOURS`` (24) are deleted with their recipients
(each holds a whole file's encrypted numbers and variables); that age is fixed, not a setting.

Purges run in batches of 1,000 rows per statement, one short transaction each, walking the
``(created_at, id)`` indexes, so no table is locked for long; a run stops after a bounded
number of batches and the next run continues.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from kmsg_console.audit.models import AuditEvent
from kmsg_console.audit.services import diff, record_audit
from kmsg_console.campaigns.models import (
    DRAFT_LIFETIME,
    Campaign,
    CampaignRecipient,
    CampaignStatus,
)
from kmsg_console.extensions import db
from kmsg_console.i18n_markers import N_
from kmsg_console.orm import utcnow
from kmsg_console.otp.models import Verification, VerificationEvent
from kmsg_console.sending.models import (
    MessageAttempt,
    MessageEvent,
    MessageLog,
    MessageSource,
    SandboxDelivery,
)
from kmsg_console.throttle.models import ThrottleEvent
from kmsg_console.worker.models import DeliveryWebhookReceipt, RetentionPolicy

logger = logging.getLogger(__name__)

BATCH = 1_000
MAX_BATCHES = 200
#: Webhook receipts only need to outlive the signature's timestamp tolerance.
RECEIPT_DAYS = 2
#: Drafts are deleted this long after confirming stopped being possible: confirming checks the
#: web server's clock, the purge the worker's, and a worker whose clock runs a little ahead
#: must not delete recipients of a draft that is still being confirmed.
DRAFT_GRACE = timedelta(minutes=10)


@dataclass(frozen=True)
class RetentionClass:
    key: str
    label: str
    help: str
    default: int
    minimum: int
    maximum: int


CLASSES: tuple[RetentionClass, ...] = (
    RetentionClass(
        "otp",
        N_("One-time codes and message texts of OTPs"),
        N_("Code hashes of verifications, OTP message texts and sandbox deliveries."),
        3,
        1,
        7,
    ),
    RetentionClass(
        "send_logs", N_("Send logs"), N_("Messages with their attempts and timelines."), 90, 7, 1825
    ),
    RetentionClass(
        "verifications",
        N_("OTP verifications"),
        N_("Verification rows and their events (their codes go earlier, with the class above)."),
        90,
        7,
        1825,
    ),
    RetentionClass(
        "throttle_events",
        N_("Throttle events"),
        N_("Requests the throttle policies blocked or flagged."),
        90,
        7,
        1825,
    ),
    RetentionClass(
        "audit_log",
        N_("Audit log"),
        N_("Operator actions; kept at least a year as security evidence."),
        365,
        365,
        3650,
    ),
)
BY_KEY = {c.key: c for c in CLASSES}


def policies() -> dict[str, int]:
    """Days kept per class (saved values, else the defaults)."""
    saved = {p.data_class: p.days for p in db.session.scalars(sa.select(RetentionPolicy))}
    return {c.key: saved.get(c.key, c.default) for c in CLASSES}


def save_policies(values: dict[str, int], *, actor) -> None:
    """Save days per class (each within its range; the form checks first), audited."""
    before = policies()
    for key, days in values.items():
        spec = BY_KEY[key]
        if not spec.minimum <= days <= spec.maximum:
            raise ValueError(f"{key}: {days} outside {spec.minimum}-{spec.maximum}")
        row = db.session.get(RetentionPolicy, key) or RetentionPolicy(data_class=key)
        row.days = days
        row.updated_by = getattr(actor, "email", None)
        db.session.add(row)
    db.session.flush()
    record_audit(
        "retention.update",
        actor=actor,
        target_type="retention",
        target_id="all",
        details=diff(before, policies()),
    )


def _ids(model, created, cutoff: datetime, *where) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(model.id)
            .where(created < cutoff, *where)
            .order_by(created, model.id)
            .limit(BATCH)
        )
    )


def _batches(step) -> int:
    """Run ``step`` (one batch, returns rows done) until it runs dry or the cap is hit."""
    total = 0
    for _ in range(MAX_BATCHES):
        done = step()
        db.session.commit()
        total += done
        if done < BATCH:
            break
    return total


def _delete(model, created, cutoff: datetime, *where, children=()) -> int:
    def step() -> int:
        ids = _ids(model, created, cutoff, *where)
        if ids:
            for child, key in children:
                db.session.execute(
                    sa.delete(child)
                    .where(key.in_(ids))
                    .execution_options(synchronize_session=False)
                )
            db.session.execute(
                sa.delete(model)
                .where(model.id.in_(ids))
                .execution_options(synchronize_session=False)
            )
        return len(ids)

    return _batches(step)


def _scrub(model, created, cutoff: datetime, where, values: dict) -> int:
    def step() -> int:
        ids = _ids(model, created, cutoff, where)
        if ids:
            db.session.execute(
                sa.update(model)
                .where(model.id.in_(ids))
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        return len(ids)

    return _batches(step)


def _campaign_drafts(cutoff: datetime) -> tuple[int, int]:
    """Delete drafts created before ``cutoff`` and their recipients; (drafts, recipients).

    A draft's recipients (up to a million rows) go in batches like any table; the draft itself
    goes once none are left, so a draft larger than one run's cap is finished by later runs.
    Confirming refuses drafts of that age, so none starts while its recipients are deleted.
    """
    expired = sa.select(Campaign.id).where(
        Campaign.status == CampaignStatus.DRAFT.value, Campaign.created_at < cutoff
    )

    def step() -> int:
        ids = list(
            db.session.scalars(
                sa.select(CampaignRecipient.id)
                .where(CampaignRecipient.campaign_id.in_(expired))
                .limit(BATCH)
            )
        )
        if ids:
            db.session.execute(
                sa.delete(CampaignRecipient)
                .where(CampaignRecipient.id.in_(ids))
                .execution_options(synchronize_session=False)
            )
        return len(ids)

    recipients = _batches(step)
    emptied = ~sa.exists().where(CampaignRecipient.campaign_id == Campaign.id)
    drafts = _delete(
        Campaign,
        Campaign.created_at,
        cutoff,
        Campaign.status == CampaignStatus.DRAFT.value,
        emptied,
    )
    return drafts, recipients


def purge(now: datetime | None = None) -> dict[str, int]:
    """Remove what is past its class's age; returns rows touched per kind."""
    now = now or utcnow()
    days = policies()
    cut = {key: now - timedelta(days=value) for key, value in days.items()}
    drafts, draft_recipients = _campaign_drafts(now - DRAFT_LIFETIME - DRAFT_GRACE)
    counts = {
        "otp_hashes": _scrub(
            Verification,
            Verification.created_at,
            cut["otp"],
            Verification.code_hash != "",
            {"code_hash": ""},
        ),
        "otp_texts": _scrub(
            MessageLog,
            MessageLog.created_at,
            cut["otp"],
            sa.and_(MessageLog.source == MessageSource.OTP.value, MessageLog.body_enc.is_not(None)),
            {"body_enc": None},
        ),
        "sandbox_deliveries": _delete(SandboxDelivery, SandboxDelivery.created_at, cut["otp"]),
        "send_logs": _delete(
            MessageLog,
            MessageLog.created_at,
            cut["send_logs"],
            children=(
                (MessageAttempt, MessageAttempt.message_id),
                (MessageEvent, MessageEvent.message_id),
            ),
        ),
        "verifications": _delete(
            Verification,
            Verification.created_at,
            cut["verifications"],
            children=((VerificationEvent, VerificationEvent.verification_id),),
        ),
        "throttle_events": _delete(ThrottleEvent, ThrottleEvent.created_at, cut["throttle_events"]),
        "audit_log": _delete(AuditEvent, AuditEvent.created_at, cut["audit_log"]),
        "webhook_receipts": _delete(
            DeliveryWebhookReceipt,
            DeliveryWebhookReceipt.received_at,
            now - timedelta(days=RECEIPT_DAYS),
        ),
        "campaign_drafts": drafts,
        "campaign_draft_recipients": draft_recipients,
    }
    touched = {k: v for k, v in counts.items() if v}
    if touched:
        record_audit(
            "retention.purge",
            actor_label="worker",
            target_type="retention",
            target_id="all",
            details={"rows": touched, "days": days},
        )
        db.session.commit()
        logger.info("retention purge: %s", touched)
    return counts
