"""The event outbox, webhook endpoints, their deliveries and each delivery's attempts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kmsg_console.extensions import db
from kmsg_console.i18n_markers import N_
from kmsg_console.orm import UTCDateTime, utcnow


class OutboxEvent(db.Model):
    """One event, written with the change that caused it; fanned out by the worker."""

    __tablename__ = "event_outbox"
    __table_args__ = (sa.Index("ix_event_outbox_fanned_out_at_id", "fanned_out_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The event's stable id (``evt_<32 hex>``), sent as ``id`` and ``X-Webhook-Id``.
    public_id: Mapped[str] = mapped_column(sa.String(40), unique=True, nullable=False)
    type: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    #: Ids, statuses, codes and masked numbers only: never a code or a full number.
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False)
    #: When the worker made this event's deliveries (NULL: not yet).
    fanned_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebhookEndpoint(db.Model):
    """An integrator's URL and the event types it wants, with its signing secret."""

    __tablename__ = "webhook_endpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(40), unique=True, nullable=False)
    url: Mapped[str] = mapped_column(sa.String(2000), nullable=False)
    description: Mapped[str] = mapped_column(sa.String(200), default="", nullable=False)
    event_types: Mapped[list[str]] = mapped_column(sa.JSON, nullable=False)
    enabled: Mapped[bool] = mapped_column(default=True, nullable=False)
    #: The signing secret, encrypted with the app keyring (shown once, never again).
    secret_enc: Mapped[str] = mapped_column(sa.Text, nullable=False)
    #: After a rotation: the previous secret, still signing until ``previous_secret_until``.
    previous_secret_enc: Mapped[str | None] = mapped_column(sa.Text)
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Set when a delivery gave up after 24 hours of retries; cleared by the next success.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    created_by: Mapped[str] = mapped_column(sa.String(254), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )

    @property
    def failing(self) -> bool:
        return self.failing_since is not None


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up after the retry window
    SKIPPED = "skipped"  # the endpoint was disabled before it was sent

    @property
    def label(self) -> str:
        return {
            DeliveryStatus.PENDING: N_("Pending"),
            DeliveryStatus.DELIVERED: N_("Delivered"),
            DeliveryStatus.FAILED: N_("Gave up"),
            DeliveryStatus.SKIPPED: N_("Skipped"),
        }[self]


class WebhookDelivery(db.Model):
    """One event for one endpoint: retried until it is answered 2xx or the window ends."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "endpoint_id"),
        sa.Index("ix_webhook_delivery_status_next_attempt_at", "status", "next_attempt_at"),
        sa.Index("ix_webhook_delivery_endpoint_id_id", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("event_outbox.id", ondelete="CASCADE"), nullable=False
    )
    endpoint_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhook_endpoint.id", ondelete="CASCADE"), nullable=False
    )
    status: Mapped[str] = mapped_column(sa.String(12), nullable=False)
    attempts: Mapped[int] = mapped_column(default=0, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Retries stop (and the endpoint is marked failing) after this moment.
    retry_until: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status_code: Mapped[int | None] = mapped_column()
    last_latency_ms: Mapped[int | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(sa.String(255))
    response_excerpt: Mapped[str | None] = mapped_column(sa.String(500))

    event: Mapped[OutboxEvent] = relationship(lazy="joined")
    endpoint: Mapped[WebhookEndpoint] = relationship()
    attempt_log: Mapped[list[WebhookAttempt]] = relationship(
        order_by="WebhookAttempt.number", passive_deletes=True
    )

    @property
    def status_label(self) -> str:
        return DeliveryStatus(self.status).label


class WebhookAttempt(db.Model):
    """One POST of a delivery: the answer's status and start, or the error, and the latency."""

    __tablename__ = "webhook_attempt"
    __table_args__ = (sa.Index("ix_webhook_attempt_delivery_id_number", "delivery_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhook_delivery.id", ondelete="CASCADE"), nullable=False
    )
    number: Mapped[int] = mapped_column(nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    status_code: Mapped[int | None] = mapped_column()
    latency_ms: Mapped[int | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(sa.String(255))
    response_excerpt: Mapped[str | None] = mapped_column(sa.String(500))
