"""OTP verification purposes and verifications.

A code is never stored: only an HMAC of it, keyed with the server's hash key and bound to
the verification's id, so a database dump reveals nothing and a code cannot be moved to
another verification (another phone or purpose).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kmsg_console.extensions import db
from kmsg_console.i18n_markers import N_
from kmsg_console.orm import TimestampMixin, UTCDateTime, utcnow

DEFAULT_SMS_TEMPLATE = "[#{brand}] 인증번호 [#{code}]을 입력해주세요. (#{minutes}분 이내)"
MAX_LIFETIME_SECONDS = 600  # ASVS 2.7.2 / NIST 800-63B: out-of-band codes live at most 10 minutes


class VerificationStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    EXPIRED = "expired"
    MAX_ATTEMPTS = "max_attempts"
    CANCELED = "canceled"

    @property
    def label(self) -> str:
        return {
            VerificationStatus.PENDING: N_("Pending"),
            VerificationStatus.APPROVED: N_("Approved"),
            VerificationStatus.EXPIRED: N_("Expired"),
            VerificationStatus.MAX_ATTEMPTS: N_("Too many attempts"),
            VerificationStatus.CANCELED: N_("Canceled"),
        }[self]

    @property
    def badge(self) -> str:
        return {
            "pending": "info",
            "approved": "ok",
            "expired": "muted",
            "max_attempts": "bad",
            "canceled": "muted",
        }[self.value]


class OtpChannel(StrEnum):
    SMS = "sms"
    ALIMTALK = "alimtalk"  # with SMS fallback when the template allows


class VerificationPurpose(TimestampMixin, db.Model):
    """A flow that uses OTP (login, signup, payment...), with its own rules and message."""

    __tablename__ = "verification_purpose"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    enabled: Mapped[bool] = mapped_column(default=True, nullable=False)
    code_length: Mapped[int] = mapped_column(default=6, nullable=False)
    lifetime_seconds: Mapped[int] = mapped_column(default=180, nullable=False)
    max_checks: Mapped[int] = mapped_column(default=5, nullable=False)
    resend_cooldown_seconds: Mapped[int] = mapped_column(default=30, nullable=False)
    channel: Mapped[str] = mapped_column(
        sa.String(10), default=OtpChannel.SMS.value, nullable=False
    )
    alimtalk_template_code: Mapped[str | None] = mapped_column(sa.String(64))
    sms_fallback: Mapped[bool] = mapped_column(default=True, nullable=False)
    brand: Mapped[str] = mapped_column(sa.String(30), default="", nullable=False)
    #: SMS text; ``#{code}``, ``#{minutes}`` and ``#{brand}`` are filled in.
    message_template: Mapped[str] = mapped_column(
        sa.String(500), default=DEFAULT_SMS_TEMPLATE, nullable=False
    )
    sender_number: Mapped[str | None] = mapped_column(sa.String(20))


class Verification(db.Model):
    """One OTP verification: a phone, a purpose, one live code."""

    __tablename__ = "verification"
    __table_args__ = (
        sa.Index("ix_verification_phone_purpose_created", "phone_hash", "purpose_id", "created_at"),
        sa.Index("ix_verification_created", "created_at", "id"),
        sa.Index("ix_verification_status_created", "status", "created_at"),
        # One live code per phone and purpose, also when two starts race (see otp.services).
        sa.Index(
            "uq_verification_one_pending",
            "phone_hash",
            "purpose_id",
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(36), unique=True, nullable=False)
    purpose_id: Mapped[int] = mapped_column(
        sa.ForeignKey("verification_purpose.id"), nullable=False
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    status: Mapped[str] = mapped_column(sa.String(12), nullable=False)
    status_updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )
    phone_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    phone_enc: Mapped[str] = mapped_column(sa.Text, nullable=False)
    phone_masked: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    code_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    checks: Mapped[int] = mapped_column(default=0, nullable=False)
    max_checks: Mapped[int] = mapped_column(nullable=False)
    channel: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    api_key_id: Mapped[int | None] = mapped_column()
    operator_id: Mapped[int | None] = mapped_column()
    #: The end user's IP as reported by the calling application (masked form only).
    client_ip_masked: Mapped[str | None] = mapped_column(sa.String(45))
    user_ref_hash: Mapped[str | None] = mapped_column(sa.String(64))
    message_public_id: Mapped[str | None] = mapped_column(sa.String(36))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    purpose: Mapped[VerificationPurpose] = relationship()
    events: Mapped[list[VerificationEvent]] = relationship(
        back_populates="verification", order_by="VerificationEvent.id", cascade="all, delete-orphan"
    )

    @property
    def status_enum(self) -> VerificationStatus:
        return VerificationStatus(self.status)


class VerificationEvent(db.Model):
    """Status events of a verification (pending, check_failed, approved, expired, ...)."""

    __tablename__ = "verification_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    verification_id: Mapped[int] = mapped_column(
        sa.ForeignKey("verification.id", ondelete="CASCADE"), index=True, nullable=False
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    kind: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    detail: Mapped[str | None] = mapped_column(sa.String(255))

    verification: Mapped[Verification] = relationship(back_populates="events")
