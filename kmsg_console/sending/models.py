"""The send log: one row per message, every provider attempt, and the status timeline.

Designed for millions of rows: the recipient is stored encrypted (``to_enc``), as a keyed
hash for exact search (``to_hash``) and masked for display (``to_masked``), never in clear;
every console filter has an index starting ``(filter, created_at, id)`` so keyset pages stay
fast, and the two busiest ones also carry the columns the failure report and the dashboard
count by, so those queries read the index alone (``bench/send_logs.py`` measures both).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kmsg_console.extensions import db
from kmsg_console.i18n_markers import N_
from kmsg_console.orm import UTCDateTime, utcnow

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class MessageStatus(StrEnum):
    """K-Message's delivery lifecycle. UNKNOWN also covers "the request left and no answer came"."""

    PENDING = "PENDING"
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    UNKNOWN = "UNKNOWN"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]

    @property
    def badge(self) -> str:
        return _STATUS_BADGES[self]


_STATUS_LABELS = {
    MessageStatus.PENDING: N_("Pending"),
    MessageStatus.SENT: N_("Sent"),
    MessageStatus.DELIVERED: N_("Delivered"),
    MessageStatus.FAILED: N_("Failed"),
    MessageStatus.CANCELLED: N_("Cancelled"),
    MessageStatus.UNKNOWN: N_("Unknown"),
}
_STATUS_BADGES = {
    MessageStatus.PENDING: "",
    MessageStatus.SENT: "info",
    MessageStatus.DELIVERED: "ok",
    MessageStatus.FAILED: "bad",
    MessageStatus.CANCELLED: "muted",
    MessageStatus.UNKNOWN: "warn",
}


class MessageSource(StrEnum):
    API = "api"
    CONSOLE = "console"
    OTP = "otp"
    CAMPAIGN = "campaign"


def _filter_index(column: str) -> sa.Index:
    return sa.Index(f"ix_message_log_{column}_created", column, "created_at", "id")


class MessageLog(db.Model):
    __tablename__ = "message_log"
    __table_args__ = (
        # Unfiltered pages and time ranges; status, provider and type ride along so a period's
        # totals by status and provider are counted from the index alone.
        sa.Index("ix_message_log_created", "created_at", "id", "status", "provider_code", "type"),
        # Status pages; the trailing columns cover the failure report's grouping of a period's
        # FAILED messages (and SQLite's status-by-status count of a period).
        sa.Index(
            "ix_message_log_status_created",
            "status",
            "created_at",
            "id",
            "provider_code",
            "type",
            "error_code",
            "vendor_code",
        ),
        *(
            _filter_index(c)
            for c in (
                "provider_code",
                "error_code",
                "vendor_code",
                "type",
                "template_code",
                "to_hash",
                "api_key_id",
                "operator_id",
                "source",
                "is_ad",
            )
        ),
        sa.Index("ix_message_log_tracking", "status", "next_check_at"),
        # At most one SMS/LMS fallback per AlimTalk, enforced by the database.
        sa.Index("uq_message_log_fallback_of", "fallback_of_id", unique=True),
        sa.Index("ix_message_log_fallback_state", "fallback_state"),
        # An operator sends a failed or unknown message again at most once: a double click
        # or a colleague's click is refused by the database, not sent a second time.
        sa.Index("uq_message_log_resent_from", "resent_from_id", unique=True),
        # Delivery reports (webhooks) name the vendor's message id.
        sa.Index("ix_message_log_provider_message", "provider_code", "provider_message_id"),
        sa.UniqueConstraint("api_key_id", "idempotency_key", name="uq_message_log_idempotency"),
        # The duplicate-send window looks for an earlier message with the same hash.
        sa.Index("ix_message_log_dedupe_hash", "dedupe_hash", "created_at"),
        # A campaign's failures by code (its progress page), and the send log's pages of one
        # status (and code) of a campaign.
        sa.Index("ix_message_log_campaign", "campaign_id", "status", "error_code"),
        # The send log's pages of a campaign, newest first. Partial: the messages of no
        # campaign (API, OTP, console) are most of the log and never looked up by campaign.
        sa.Index(
            "ix_message_log_campaign_created",
            "campaign_id",
            "created_at",
            "id",
            sqlite_where=sa.text("campaign_id IS NOT NULL"),
            postgresql_where=sa.text("campaign_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(36), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )
    status: Mapped[str] = mapped_column(sa.String(12), nullable=False)
    status_updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )
    source: Mapped[str] = mapped_column(sa.String(8), nullable=False)
    requested_type: Mapped[str | None] = mapped_column(sa.String(12))
    type: Mapped[str] = mapped_column(sa.String(12), nullable=False)
    provider_code: Mapped[str | None] = mapped_column(sa.String(40))
    provider_message_id: Mapped[str | None] = mapped_column(sa.String(100))
    to_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    to_enc: Mapped[str] = mapped_column(sa.Text, nullable=False)
    to_masked: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    #: Keyed hash of type, sender, recipient, subject and final text (the duplicate-send
    #: window's lookup; never the text in clear). None for OTP messages.
    dedupe_hash: Mapped[str | None] = mapped_column(sa.String(64))
    from_number: Mapped[str | None] = mapped_column(sa.String(20))
    subject: Mapped[str | None] = mapped_column(sa.String(200))
    #: The final text, encrypted; for OTP messages the code is masked before encryption.
    body_enc: Mapped[str | None] = mapped_column(sa.Text)
    body_redacted: Mapped[bool] = mapped_column(default=False, nullable=False)
    #: Encrypted JSON with what a retry needs (variables, Kakao and failover options).
    payload_enc: Mapped[str | None] = mapped_column(sa.Text)
    template_code: Mapped[str | None] = mapped_column(sa.String(64))
    byte_count: Mapped[int | None] = mapped_column()
    api_key_id: Mapped[int | None] = mapped_column()
    operator_id: Mapped[int | None] = mapped_column()
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(255))
    request_hash: Mapped[str | None] = mapped_column(sa.String(64))
    error_code: Mapped[str | None] = mapped_column(sa.String(40))
    vendor_code: Mapped[str | None] = mapped_column(sa.String(40))
    vendor_text: Mapped[str | None] = mapped_column(sa.String(500))
    http_status: Mapped[int | None] = mapped_column()
    retryable: Mapped[bool] = mapped_column(default=False, nullable=False)
    attempt_count: Mapped[int] = mapped_column(default=0, nullable=False)
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list, nullable=False)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: An advertising message (정보통신망법 제50조), checked by the advertising rules.
    is_ad: Mapped[bool] = mapped_column(default=False, server_default=sa.false(), nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    check_count: Mapped[int] = mapped_column(default=0, nullable=False)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Why tracking stopped or stalls (UNSUPPORTED_PROVIDER, TRACKING_TIMEOUT, a query error...).
    tracking_note: Mapped[str | None] = mapped_column(sa.String(40))
    #: The AlimTalk this SMS/LMS is the fallback of (no foreign key: retention purges by age).
    fallback_of_id: Mapped[int | None] = mapped_column(BigId)
    #: This AlimTalk's API-level fallback: due, claimed (before sending), sent, failed, skipped.
    fallback_state: Mapped[str | None] = mapped_column(sa.String(10))
    #: The failed or unknown message an operator sent again as this new one (no foreign key,
    #: like ``fallback_of_id``).
    resent_from_id: Mapped[int | None] = mapped_column(BigId)
    #: The campaign this message was sent for (no foreign key, like ``fallback_of_id``).
    campaign_id: Mapped[int | None] = mapped_column()

    attempts: Mapped[list[MessageAttempt]] = relationship(
        back_populates="message", order_by="MessageAttempt.id", cascade="all, delete-orphan"
    )
    events: Mapped[list[MessageEvent]] = relationship(
        back_populates="message", order_by="MessageEvent.id", cascade="all, delete-orphan"
    )

    @property
    def status_enum(self) -> MessageStatus:
        return MessageStatus(self.status)


class MessageAttempt(db.Model):
    """One call to one provider for a message."""

    __tablename__ = "message_attempt"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("message_log.id", ondelete="CASCADE"), index=True, nullable=False
    )
    number: Mapped[int] = mapped_column(nullable=False)
    #: initial, failover (next provider after a proven non-acceptance) or retry (operator).
    trigger: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    provider_code: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    latency_ms: Mapped[int | None] = mapped_column()
    #: in_flight (written before the call), accepted, failed (proven not accepted) or unknown.
    outcome: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    error_code: Mapped[str | None] = mapped_column(sa.String(40))
    error_message: Mapped[str | None] = mapped_column(sa.String(500))
    vendor_code: Mapped[str | None] = mapped_column(sa.String(40))
    vendor_text: Mapped[str | None] = mapped_column(sa.String(500))
    http_status: Mapped[int | None] = mapped_column()
    provider_message_id: Mapped[str | None] = mapped_column(sa.String(100))
    raw: Mapped[Any | None] = mapped_column(sa.JSON)
    operator_id: Mapped[int | None] = mapped_column()

    message: Mapped[MessageLog] = relationship(back_populates="attempts")


class MessageEvent(db.Model):
    """A status change or notable step in a message's life, for the timeline."""

    __tablename__ = "message_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("message_log.id", ondelete="CASCADE"), index=True, nullable=False
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    status: Mapped[str | None] = mapped_column(sa.String(12))
    kind: Mapped[str] = mapped_column(sa.String(24), nullable=False)
    detail: Mapped[str | None] = mapped_column(sa.String(500))

    message: Mapped[MessageLog] = relationship(back_populates="events")


class SandboxDelivery(db.Model):
    """What the sandbox provider "delivered": the console's stand-in for a handset.

    Kept in the database (encrypted) rather than in process memory so every web and worker
    process sees the same inbox.
    """

    __tablename__ = "sandbox_delivery"
    __table_args__ = (sa.Index("ix_sandbox_delivery_to_hash_created", "to_hash", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, nullable=False, index=True
    )
    provider_code: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    message_public_id: Mapped[str] = mapped_column(sa.String(36), nullable=False)
    type: Mapped[str] = mapped_column(sa.String(12), nullable=False)
    to_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    to_masked: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    body_enc: Mapped[str] = mapped_column(sa.Text, nullable=False)
