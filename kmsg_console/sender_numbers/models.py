"""Sender numbers (발신번호 사전등록제): the numbers SMS/LMS/MMS may leave from, per provider.

A number is stored once (its domestic digits, public: it is shown to every recipient) with a
status that moves pending → verified | rejected | blocked, who set it and when. The
providers that may send from it are rows of ``sender_number_provider``: a number verified
at SOLAPI is not registered at Aligo until someone says so. A provider's row is marked
``delisted_at`` when the vendor's own list (a sync) no longer names the number.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kmsg_console.extensions import db
from kmsg_console.i18n_markers import N_
from kmsg_console.orm import TimestampMixin, UTCDateTime, utcnow


class SenderNumberStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"
    BLOCKED = "blocked"

    @property
    def label(self) -> str:
        return _STATUS[self][0]

    @property
    def badge(self) -> str:
        return _STATUS[self][1]


_STATUS = {
    SenderNumberStatus.PENDING: (N_("Pending"), "warn"),
    SenderNumberStatus.VERIFIED: (N_("Verified"), "ok"),
    SenderNumberStatus.REJECTED: (N_("Rejected"), "bad"),
    SenderNumberStatus.BLOCKED: (N_("Blocked"), "bad"),
}


class SenderNumberCategory(StrEnum):
    """Who owns the number, as the vendors' registration forms ask (the documents differ)."""

    BUSINESS = "business"
    PERSONAL = "personal"
    GOVERNMENT = "government"
    NON_PROFIT = "non_profit"

    @property
    def label(self) -> str:
        return {
            SenderNumberCategory.BUSINESS: N_("Business"),
            SenderNumberCategory.PERSONAL: N_("Personal"),
            SenderNumberCategory.GOVERNMENT: N_("Government"),
            SenderNumberCategory.NON_PROFIT: N_("Non-profit"),
        }[self]


class RegistrationSource(StrEnum):
    """How a provider came to be allowed to use a number."""

    CONSOLE = "console"
    SYNC = "sync"
    CLI = "cli"
    PROVIDER = "provider"  # the provider's default sender, saved with the provider
    MIGRATION = "migration"
    BOOTSTRAP = "bootstrap"

    @property
    def label(self) -> str:
        return {
            RegistrationSource.CONSOLE: N_("Console"),
            RegistrationSource.SYNC: N_("Vendor sync"),
            RegistrationSource.CLI: N_("Command line"),
            RegistrationSource.PROVIDER: N_("Provider's default sender"),
            RegistrationSource.MIGRATION: N_("Upgrade"),
            RegistrationSource.BOOTSTRAP: N_("Installation"),
        }[self]


class SenderNumber(TimestampMixin, db.Model):
    __tablename__ = "sender_number"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Domestic digits (``0212345678``, ``15881234``); one row per number.
    number: Mapped[str] = mapped_column(sa.String(16), unique=True, nullable=False)
    label: Mapped[str] = mapped_column(sa.String(80), default="", nullable=False)
    category: Mapped[str] = mapped_column(
        sa.String(16), default=SenderNumberCategory.BUSINESS.value, nullable=False
    )
    status: Mapped[str] = mapped_column(
        sa.String(12), default=SenderNumberStatus.PENDING.value, nullable=False
    )
    #: Who verified, rejected or blocked it (an operator's e-mail, ``cli``, a vendor's name).
    verified_by: Mapped[str | None] = mapped_column(sa.String(254))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Why it was rejected or blocked (shown beside the status).
    status_note: Mapped[str] = mapped_column(sa.String(200), default="", nullable=False)
    created_by: Mapped[str] = mapped_column(sa.String(254), default="system", nullable=False)

    providers: Mapped[list[SenderNumberProvider]] = relationship(
        back_populates="sender_number",
        cascade="all, delete-orphan",
        order_by="SenderNumberProvider.provider_code",
        lazy="selectin",
    )

    @property
    def status_enum(self) -> SenderNumberStatus:
        return SenderNumberStatus(self.status)

    @property
    def category_enum(self) -> SenderNumberCategory:
        return SenderNumberCategory(self.category)

    @property
    def provider_codes(self) -> list[str]:
        return [row.provider_code for row in self.providers]


class SenderNumberProvider(db.Model):
    """A provider that may send from a number."""

    __tablename__ = "sender_number_provider"

    sender_number_id: Mapped[int] = mapped_column(
        sa.ForeignKey("sender_number.id", ondelete="CASCADE"), primary_key=True
    )
    provider_code: Mapped[str] = mapped_column(
        sa.ForeignKey("provider.code", ondelete="CASCADE"), primary_key=True, index=True
    )
    source: Mapped[str] = mapped_column(sa.String(12), nullable=False)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    #: Set when the vendor's list no longer names the number (a sync): the vendor would
    #: refuse it, so sends through this provider from it are refused before calling it.
    delisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    sender_number: Mapped[SenderNumber] = relationship(back_populates="providers")

    @property
    def usable(self) -> bool:
        return self.delisted_at is None
