"""send log

Revision ID: d0f0056550f6
Revises: e93f7982c0c3
Create Date: 2026-11-25 18:04:42.642108
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kmsg_console.orm

revision = "d0f0056550f6"
down_revision = "e93f7982c0c3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("public_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("status_updated_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("requested_type", sa.String(length=12), nullable=True),
        sa.Column("type", sa.String(length=12), nullable=False),
        sa.Column("provider_code", sa.String(length=40), nullable=True),
        sa.Column("provider_message_id", sa.String(length=100), nullable=True),
        sa.Column("to_hash", sa.String(length=64), nullable=False),
        sa.Column("to_enc", sa.Text(), nullable=False),
        sa.Column("to_masked", sa.String(length=20), nullable=False),
        sa.Column("from_number", sa.String(length=20), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("body_enc", sa.Text(), nullable=True),
        sa.Column("body_redacted", sa.Boolean(), nullable=False),
        sa.Column("payload_enc", sa.Text(), nullable=True),
        sa.Column("template_code", sa.String(length=64), nullable=True),
        sa.Column("byte_count", sa.Integer(), nullable=True),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("error_code", sa.String(length=40), nullable=True),
        sa.Column("vendor_code", sa.String(length=40), nullable=True),
        sa.Column("vendor_text", sa.String(length=500), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("retryable", sa.Boolean(), nullable=False),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("scheduled_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failed_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_check_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=True),
        sa.Column("check_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_log")),
        sa.UniqueConstraint("api_key_id", "idempotency_key", name="uq_message_log_idempotency"),
        sa.UniqueConstraint("public_id", name=op.f("uq_message_log_public_id")),
    )
    with op.batch_alter_table("message_log", schema=None) as batch_op:
        batch_op.create_index(
            "ix_message_log_api_key_id_created", ["api_key_id", "created_at", "id"], unique=False
        )
        batch_op.create_index("ix_message_log_created", ["created_at", "id"], unique=False)
        batch_op.create_index(
            "ix_message_log_error_code_created", ["error_code", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_message_log_operator_id_created", ["operator_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_message_log_provider_code_created",
            ["provider_code", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_message_log_source_created", ["source", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_message_log_status_created", ["status", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_message_log_template_code_created",
            ["template_code", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_message_log_to_hash_created", ["to_hash", "created_at", "id"], unique=False
        )
        batch_op.create_index("ix_message_log_tracking", ["status", "next_check_at"], unique=False)
        batch_op.create_index(
            "ix_message_log_type_created", ["type", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_message_log_vendor_code_created", ["vendor_code", "created_at", "id"], unique=False
        )

    op.create_table(
        "sandbox_delivery",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("provider_code", sa.String(length=40), nullable=False),
        sa.Column("message_public_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=12), nullable=False),
        sa.Column("to_hash", sa.String(length=64), nullable=False),
        sa.Column("to_masked", sa.String(length=20), nullable=False),
        sa.Column("body_enc", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_delivery")),
    )
    with op.batch_alter_table("sandbox_delivery", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sandbox_delivery_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            "ix_sandbox_delivery_to_hash_created", ["to_hash", "created_at"], unique=False
        )

    op.create_table(
        "message_attempt",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=10), nullable=False),
        sa.Column("provider_code", sa.String(length=40), nullable=False),
        sa.Column("started_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("error_code", sa.String(length=40), nullable=True),
        sa.Column("error_message", sa.String(length=500), nullable=True),
        sa.Column("vendor_code", sa.String(length=40), nullable=True),
        sa.Column("vendor_text", sa.String(length=500), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("provider_message_id", sa.String(length=100), nullable=True),
        sa.Column("raw", sa.JSON(), nullable=True),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["message_log.id"],
            name=op.f("fk_message_attempt_message_id_message_log"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_attempt")),
    )
    with op.batch_alter_table("message_attempt", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_message_attempt_message_id"), ["message_id"], unique=False
        )

    op.create_table(
        "message_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["message_log.id"],
            name=op.f("fk_message_event_message_id_message_log"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_event")),
    )
    with op.batch_alter_table("message_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_message_event_message_id"), ["message_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("message_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_event_message_id"))

    op.drop_table("message_event")
    with op.batch_alter_table("message_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_attempt_message_id"))

    op.drop_table("message_attempt")
    with op.batch_alter_table("sandbox_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_sandbox_delivery_to_hash_created")
        batch_op.drop_index(batch_op.f("ix_sandbox_delivery_created_at"))

    op.drop_table("sandbox_delivery")
    with op.batch_alter_table("message_log", schema=None) as batch_op:
        batch_op.drop_index("ix_message_log_vendor_code_created")
        batch_op.drop_index("ix_message_log_type_created")
        batch_op.drop_index("ix_message_log_tracking")
        batch_op.drop_index("ix_message_log_to_hash_created")
        batch_op.drop_index("ix_message_log_template_code_created")
        batch_op.drop_index("ix_message_log_status_created")
        batch_op.drop_index("ix_message_log_source_created")
        batch_op.drop_index("ix_message_log_provider_code_created")
        batch_op.drop_index("ix_message_log_operator_id_created")
        batch_op.drop_index("ix_message_log_error_code_created")
        batch_op.drop_index("ix_message_log_created")
        batch_op.drop_index("ix_message_log_api_key_id_created")

    op.drop_table("message_log")
