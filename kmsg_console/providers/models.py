"""Configured providers (credentials encrypted at rest) and message routing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from kmsg_console.extensions import db
from kmsg_console.orm import TimestampMixin, UTCDateTime


class Provider(TimestampMixin, db.Model):
    """One configured account at a vendor (several per vendor are allowed)."""

    __tablename__ = "provider"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The id routing, send logs and the API use (e.g. ``solapi-main``); never changes.
    code: Mapped[str] = mapped_column(sa.String(40), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    vendor: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    enabled: Mapped[bool] = mapped_column(default=True, nullable=False)
    #: Settings that are not secret, as entered.
    settings: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict, nullable=False)
    #: Secret settings: field name -> AES-GCM ciphertext (which names its key id).
    secrets: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict, nullable=False)
    health_ok: Mapped[bool | None] = mapped_column()
    health_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    health_latency_ms: Mapped[int | None] = mapped_column()
    #: Normalized code and a short vendor text of the last failed check (never a secret).
    health_error: Mapped[str | None] = mapped_column(sa.String(255))
    balance: Mapped[str | None] = mapped_column(sa.String(40))
    #: Duplicate-send window of this provider in minutes (0: off); None: the global one.
    duplicate_window_minutes: Mapped[int | None] = mapped_column()
    #: Operator alert when the vendor balance falls below this amount (KRW); None: no alert.
    balance_alert_below: Mapped[int | None] = mapped_column()


class RoutingRule(db.Model):
    """Ordered providers for one message type: the first is tried, then the failover list."""

    __tablename__ = "routing_rule"

    #: A message type (``SMS``, ``ALIMTALK``...) or ``DEFAULT`` for the fallback provider.
    message_type: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    provider_codes: Mapped[list[str]] = mapped_column(sa.JSON, default=list, nullable=False)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
