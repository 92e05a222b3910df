"""A campaign and its recipients, one row per recipient.

A recipient's number is stored as the send log stores numbers: a keyed hash under the send
log's purpose (``phone_hash``, so duplicates and opt-outs are matched), encrypted
(``phone_enc``) and masked (``phone_masked``). Per-recipient variables are encrypted too.

A recipient's ``message_public_id`` is fixed when a worker claims it, before anything is
sent; the send engine writes the message row under that id (unique), so a recipient is sent
at most once even when a worker dies between the claim and the provider's answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from kmsg_console.extensions import db
from kmsg_console.i18n_markers import N_
from kmsg_console.orm import UTCDateTime, utcnow

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class CampaignStatus(StrEnum):
    #: Uploaded and previewed, not yet confirmed: the worker does not look at it.
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    CampaignStatus.DRAFT: N_("Draft"),
    CampaignStatus.SCHEDULED: N_("Scheduled"),
    CampaignStatus.RUNNING: N_("Running"),
    CampaignStatus.PAUSED: N_("Paused"),
    CampaignStatus.COMPLETED: N_("Completed"),
    CampaignStatus.CANCELLED: N_("Cancelled"),
}

#: A draft not confirmed within this many hours can no longer be confirmed, and the hourly
#: retention purge deletes it with its recipients (encrypted numbers nobody is going to send to).
DRAFT_HOURS = 24
DRAFT_LIFETIME = timedelta(hours=DRAFT_HOURS)

#: Statuses from which nothing more is sent.
FINISHED = (CampaignStatus.COMPLETED.value, CampaignStatus.CANCELLED.value)


class RecipientState(StrEnum):
    PENDING = "pending"
    #: A worker holds it with its message id fixed; the message row may or may not exist yet.
    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"
    #: The request may have reached the vendor: never resent, status polling decides.
    UNKNOWN = "unknown"
    #: Not sent by decision: a duplicate of an earlier row, or opted out of advertising.
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class Campaign(db.Model):
    __tablename__ = "campaign"
    __table_args__ = (
        sa.Index("ix_campaign_status_scheduled_at", "status", "scheduled_at"),
        sa.Index("ix_campaign_created_at_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(40), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    #: The text (SMS/LMS), with ``#{name}`` variables; or an AlimTalk template's code.
    text: Mapped[str | None] = mapped_column(sa.Text)
    template_code: Mapped[str | None] = mapped_column(sa.String(64))
    subject: Mapped[str | None] = mapped_column(sa.String(200))
    from_number: Mapped[str | None] = mapped_column(sa.String(20))
    #: Variables common to every recipient (encrypted JSON); a recipient's own ones win.
    variables_enc: Mapped[str | None] = mapped_column(sa.Text)
    is_ad: Mapped[bool] = mapped_column(default=False, nullable=False)
    #: Messages per second, across every worker.
    rate: Mapped[int] = mapped_column(nullable=False)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Rows read, and the preview (counts, invalid rows by row number, type mix).
    rows_read: Mapped[int] = mapped_column(default=0, nullable=False)
    total: Mapped[int] = mapped_column(default=0, nullable=False)
    preview: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict, nullable=False)
    #: The send slot the next batch may start at (workers reserve slots to keep the rate).
    next_send_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    created_by: Mapped[str] = mapped_column(sa.String(254), nullable=False)
    api_key_id: Mapped[int | None] = mapped_column()
    operator_id: Mapped[int | None] = mapped_column()
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def status_enum(self) -> CampaignStatus:
        return CampaignStatus(self.status)


class CampaignRecipient(db.Model):
    __tablename__ = "campaign_recipient"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "row_number"),
        sa.Index("ix_campaign_recipient_claim", "campaign_id", "state", "id"),
        sa.Index("ix_campaign_recipient_campaign_hash", "campaign_id", "phone_hash"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        sa.ForeignKey("campaign.id", ondelete="CASCADE"), nullable=False
    )
    #: The row of the uploaded file (line 2 is the first recipient) or the API list's index + 1.
    row_number: Mapped[int] = mapped_column(nullable=False)
    phone_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    phone_enc: Mapped[str] = mapped_column(sa.Text, nullable=False)
    phone_masked: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    variables_enc: Mapped[str | None] = mapped_column(sa.Text)
    state: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    #: Why it was skipped (duplicate, opted_out) or the message's error code.
    reason: Mapped[str | None] = mapped_column(sa.String(40))
    message_public_id: Mapped[str | None] = mapped_column(sa.String(36), unique=True)
    message_log_id: Mapped[int | None] = mapped_column(BigId)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
