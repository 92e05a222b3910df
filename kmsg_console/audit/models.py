"""One row per operator action."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from kmsg_console.extensions import db
from kmsg_console.orm import UTCDateTime, utcnow


class AuditEvent(db.Model):
    """An action taken by an operator (or by an API key, or by the system)."""

    __tablename__ = "audit_event"
    __table_args__ = (
        sa.Index("ix_audit_event_created_at_id", "created_at", "id"),
        sa.Index("ix_audit_event_action_created_at", "action", "created_at"),
        sa.Index("ix_audit_event_actor_id_created_at", "actor_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    #: The operator who acted; kept as a plain id (no foreign key) so audit rows outlive
    #: the operator row and are never cascaded away.
    actor_id: Mapped[int | None] = mapped_column()
    #: The actor as shown at the time (e-mail, "api-key:NAME" or "system").
    actor_label: Mapped[str] = mapped_column(sa.String(254), nullable=False)
    action: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    target_type: Mapped[str | None] = mapped_column(sa.String(64))
    target_id: Mapped[str | None] = mapped_column(sa.String(64))
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    outcome: Mapped[str] = mapped_column(sa.String(16), default="success", nullable=False)
    #: ``{"before": {...}, "after": {...}}`` or free details, with secrets redacted.
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict, nullable=False)
