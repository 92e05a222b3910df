"""A small key-value store for console-wide settings (absent key: the built-in default)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from kmsg_console.extensions import db
from kmsg_console.orm import UTCDateTime, utcnow


class ConsoleSetting(db.Model):
    """One setting: a dotted key (``sending.duplicate_window_minutes``) and its JSON value."""

    __tablename__ = "console_setting"

    key: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    value: Mapped[Any] = mapped_column(sa.JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )
    updated_by: Mapped[str | None] = mapped_column(sa.String(255))
