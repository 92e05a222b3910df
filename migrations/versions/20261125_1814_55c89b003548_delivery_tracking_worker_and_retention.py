"""delivery tracking worker and retention

Tables of the background worker (job leases, retention settings, per-provider delivery
settings, webhook receipts) and the tracking/fallback columns of ``message_log``.

Revision ID: 55c89b003548
Revises: dd9f73203410
Create Date: 2026-11-25 18:14:31.079754
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kmsg_console.orm

revision = "55c89b003548"
down_revision = "dd9f73203410"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery_webhook_receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_code", sa.String(length=40), nullable=False),
        sa.Column("signature_hash", sa.String(length=64), nullable=False),
        sa.Column("received_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.Column("applied", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_webhook_receipt")),
        sa.UniqueConstraint(
            "signature_hash", name=op.f("uq_delivery_webhook_receipt_signature_hash")
        ),
    )
    with op.batch_alter_table("delivery_webhook_receipt", schema=None) as batch_op:
        batch_op.create_index(
            "ix_delivery_webhook_receipt_received", ["received_at", "id"], unique=False
        )

    op.create_table(
        "retention_policy",
        sa.Column("data_class", sa.String(length=24), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("updated_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("data_class", name=op.f("pk_retention_policy")),
    )
    op.create_table(
        "worker_job",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("lease_owner", sa.String(length=120), nullable=True),
        sa.Column("lease_until", kmsg_console.orm.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_started_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_finished_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_outcome", sa.String(length=12), nullable=True),
        sa.Column("last_detail", sa.String(length=255), nullable=True),
        sa.Column("last_result", sa.JSON(), nullable=True),
        sa.Column("last_worker", sa.String(length=120), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_job")),
    )
    op.create_table(
        "delivery_provider_setting",
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("fallback_enabled", sa.Boolean(), nullable=False),
        sa.Column("fallback_codes", sa.JSON(), nullable=False),
        sa.Column("fallback_texts", sa.JSON(), nullable=False),
        sa.Column("webhook_secret_enc", sa.Text(), nullable=True),
        sa.Column("webhook_tolerance_seconds", sa.Integer(), nullable=False),
        sa.Column("updated_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["provider.id"],
            name=op.f("fk_delivery_provider_setting_provider_id_provider"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("provider_id", name=op.f("pk_delivery_provider_setting")),
    )
    with op.batch_alter_table("message_log", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_checked_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("tracking_note", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column(
                "fallback_of_id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("fallback_state", sa.String(length=10), nullable=True))
        batch_op.create_index("ix_message_log_fallback_state", ["fallback_state"], unique=False)
        batch_op.create_index(
            "ix_message_log_provider_message",
            ["provider_code", "provider_message_id"],
            unique=False,
        )
        batch_op.create_index("uq_message_log_fallback_of", ["fallback_of_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("message_log", schema=None) as batch_op:
        batch_op.drop_index("uq_message_log_fallback_of")
        batch_op.drop_index("ix_message_log_provider_message")
        batch_op.drop_index("ix_message_log_fallback_state")
        batch_op.drop_column("fallback_state")
        batch_op.drop_column("fallback_of_id")
        batch_op.drop_column("tracking_note")
        batch_op.drop_column("last_checked_at")

    op.drop_table("delivery_provider_setting")
    op.drop_table("worker_job")
    op.drop_table("retention_policy")
    with op.batch_alter_table("delivery_webhook_receipt", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_webhook_receipt_received")

    op.drop_table("delivery_webhook_receipt")
