"""API keys that applications use to call ``/api/v1``."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from kmsg_console.extensions import db
from kmsg_console.i18n_markers import N_
from kmsg_console.orm import UTCDateTime, utcnow


class Scope(StrEnum):
    """What a key may do."""

    SEND = "send"
    OTP = "otp"
    WEBHOOKS = "webhooks"

    @property
    def label(self) -> str:
        return {
            Scope.SEND: N_("Send messages"),
            Scope.OTP: N_("Run OTP verifications"),
            Scope.WEBHOOKS: N_("Manage webhook endpoints"),
        }[self]


class ApiKey(db.Model):
    """A key is shown once at creation; only a hash of its secret part is stored."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    #: Public identifier inside the key (``kmsg_<key_id>_<secret>``), used to find the row.
    key_id: Mapped[str] = mapped_column(sa.String(16), unique=True, nullable=False)
    #: SHA-256 of the secret part. Keys carry 192 random bits, so a fast hash is enough:
    #: there is nothing to brute-force the way there is with a password.
    secret_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    scopes: Mapped[list[str]] = mapped_column(sa.JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    created_by: Mapped[str] = mapped_column(sa.String(254), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_ip: Mapped[str | None] = mapped_column(sa.String(45))

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def display_prefix(self) -> str:
        return f"kmsg_{self.key_id}_…"
