"""What the background worker keeps: job leases and runs, retention settings, per-provider
delivery settings (fallback rules, webhook secret) and webhook receipts for replay checks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from kmsg_console.extensions import db
from kmsg_console.orm import UTCDateTime, utcnow


class WorkerJob(db.Model):
    """One background job: who holds its lease, and how its last run went.

    Singleton jobs (retention, template sync, OTP expiry) are run by whichever worker takes
    the lease with a conditional UPDATE; delivery polling is shared row by row instead and
    only records its runs here.
    """

    __tablename__ = "worker_job"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    lease_owner: Mapped[str | None] = mapped_column(sa.String(120))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: ok or error (rows written by older versions may say unavailable).
    last_outcome: Mapped[str | None] = mapped_column(sa.String(12))
    last_detail: Mapped[str | None] = mapped_column(sa.String(255))
    last_result: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    last_worker: Mapped[str | None] = mapped_column(sa.String(120))
    runs: Mapped[int] = mapped_column(default=0, nullable=False)


class RetentionPolicy(db.Model):
    """How many days one class of data is kept (rows absent: the built-in default)."""

    __tablename__ = "retention_policy"

    data_class: Mapped[str] = mapped_column(sa.String(24), primary_key=True)
    days: Mapped[int] = mapped_column(nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )
    updated_by: Mapped[str | None] = mapped_column(sa.String(255))


class DeliveryProviderSetting(db.Model):
    """Delivery tracking settings of one provider: AlimTalk fallback rules and webhook secret."""

    __tablename__ = "delivery_provider_setting"

    provider_id: Mapped[int] = mapped_column(
        sa.ForeignKey("provider.id", ondelete="CASCADE"), primary_key=True
    )
    fallback_enabled: Mapped[bool] = mapped_column(default=True, nullable=False)
    #: Vendor status codes meaning "the recipient cannot get Kakao" (e.g. SOLAPI 3104).
    fallback_codes: Mapped[list[str]] = mapped_column(sa.JSON, default=list, nullable=False)
    #: Texts meaning the same; ``&`` joins parts that must all appear ("카카오&미사용").
    fallback_texts: Mapped[list[str]] = mapped_column(sa.JSON, default=list, nullable=False)
    #: AES-GCM ciphertext of the delivery-report webhook secret (None: webhook refused).
    webhook_secret_enc: Mapped[str | None] = mapped_column(sa.Text)
    webhook_tolerance_seconds: Mapped[int] = mapped_column(default=300, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )


class DeliveryWebhookReceipt(db.Model):
    """A delivery report already accepted, keyed by its signature, so a replay does nothing."""

    __tablename__ = "delivery_webhook_receipt"
    __table_args__ = (sa.Index("ix_delivery_webhook_receipt_received", "received_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_code: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    signature_hash: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    reports: Mapped[int] = mapped_column(default=0, nullable=False)
    applied: Mapped[int] = mapped_column(default=0, nullable=False)
