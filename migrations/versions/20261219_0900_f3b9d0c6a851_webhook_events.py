"""events for integrators: the event outbox, webhook endpoints, deliveries and attempts

Every event is written to ``event_outbox`` with the change that caused it; the worker fans it
out into one ``webhook_delivery`` per subscribed endpoint and records each POST as a
``webhook_attempt``. Endpoint secrets are stored encrypted.

Revision ID: f3b9d0c6a851
Revises: f3b8d2c6a915
Create Date: 2026-12-19 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kmsg_console.orm

revision = "f3b9d0c6a851"
down_revision = "f3b8d2c6a915"
branch_labels = None
depends_on = None


def _time(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, kmsg_console.orm.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "event_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        _time("occurred_at", nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        _time("fanned_out_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_outbox")),
        sa.UniqueConstraint("public_id", name=op.f("uq_event_outbox_public_id")),
    )
    with op.batch_alter_table("event_outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_event_outbox_fanned_out_at_id", ["fanned_out_at", "id"], unique=False
        )
    op.create_table(
        "webhook_endpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("secret_enc", sa.Text(), nullable=False),
        sa.Column("previous_secret_enc", sa.Text(), nullable=True),
        _time("previous_secret_until"),
        _time("failing_since"),
        _time("created_at", nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        _time("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoint")),
        sa.UniqueConstraint("public_id", name=op.f("uq_webhook_endpoint_public_id")),
    )
    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _time("created_at", nullable=False),
        _time("next_attempt_at"),
        _time("retry_until", nullable=False),
        _time("last_attempt_at"),
        _time("delivered_at"),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_latency_ms", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=255), nullable=True),
        sa.Column("response_excerpt", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoint.id"],
            name=op.f("fk_webhook_delivery_endpoint_id_webhook_endpoint"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event_outbox.id"],
            name=op.f("fk_webhook_delivery_event_id_event_outbox"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
        sa.UniqueConstraint(
            "event_id", "endpoint_id", name=op.f("uq_webhook_delivery_event_id_endpoint_id")
        ),
    )
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_delivery_endpoint_id_id", ["endpoint_id", "id"], unique=False
        )
        batch_op.create_index(
            "ix_webhook_delivery_status_next_attempt_at",
            ["status", "next_attempt_at"],
            unique=False,
        )
    op.create_table(
        "webhook_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        _time("at", nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=255), nullable=True),
        sa.Column("response_excerpt", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_delivery.id"],
            name=op.f("fk_webhook_attempt_delivery_id_webhook_delivery"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempt")),
    )
    with op.batch_alter_table("webhook_attempt", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_attempt_delivery_id_number", ["delivery_id", "number"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_attempt_delivery_id_number")
    op.drop_table("webhook_attempt")
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_delivery_status_next_attempt_at")
        batch_op.drop_index("ix_webhook_delivery_endpoint_id_id")
    op.drop_table("webhook_delivery")
    op.drop_table("webhook_endpoint")
    with op.batch_alter_table("event_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_event_outbox_fanned_out_at_id")
    op.drop_table("event_outbox")
