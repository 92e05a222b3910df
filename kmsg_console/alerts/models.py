"""Where each alert stands, so it fires once per crossing and not on every check."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from kmsg_console.extensions import db
from kmsg_console.orm import UTCDateTime, utcnow


class AlertState(db.Model):
    """One alert's state: ``balance:<provider>``, ``failure_rate``, ``cap:day``, ``cap:month``,
    ``worker``.

    ``level`` is 0 when quiet, 1 when raised; for a volume cap it is the highest warning
    sent in ``period`` (70 or 100), so each warning goes out once per KST day or month.
    """

    __tablename__ = "alert_state"

    key: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    level: Mapped[int] = mapped_column(default=0, nullable=False)
    #: The KST day (``2026-12-07``) or month (``2026-12``) of a cap's level; None otherwise.
    period: Mapped[str | None] = mapped_column(sa.String(16))
    #: When the alert was last raised.
    since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The figures of the last raise (no secret, no number): shown on the dashboard.
    data: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )
