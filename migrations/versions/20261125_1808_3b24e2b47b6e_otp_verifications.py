"""otp verifications

Revision ID: 3b24e2b47b6e
Revises: d0f0056550f6
Create Date: 2026-11-25 18:08:44.896573
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kmsg_console.orm

revision = "3b24e2b47b6e"
down_revision = "d0f0056550f6"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "verification_purpose",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("code_length", sa.Integer(), nullable=False),
        sa.Column("lifetime_seconds", sa.Integer(), nullable=False),
        sa.Column("max_checks", sa.Integer(), nullable=False),
        sa.Column("resend_cooldown_seconds", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("alimtalk_template_code", sa.String(length=64), nullable=True),
        sa.Column("sms_fallback", sa.Boolean(), nullable=False),
        sa.Column("brand", sa.String(length=30), nullable=False),
        sa.Column("message_template", sa.String(length=500), nullable=False),
        sa.Column("sender_number", sa.String(length=20), nullable=True),
        sa.Column("created_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_purpose")),
        sa.UniqueConstraint("code", name=op.f("uq_verification_purpose_code")),
    )
    op.create_table(
        "verification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=36), nullable=False),
        sa.Column("purpose_id", sa.Integer(), nullable=False),
        sa.Column("created_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("status_updated_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("phone_enc", sa.Text(), nullable=False),
        sa.Column("phone_masked", sa.String(length=20), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.Column("max_checks", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("client_ip_masked", sa.String(length=45), nullable=True),
        sa.Column("user_ref_hash", sa.String(length=64), nullable=True),
        sa.Column("message_public_id", sa.String(length=36), nullable=True),
        sa.Column("approved_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["purpose_id"],
            ["verification_purpose.id"],
            name=op.f("fk_verification_purpose_id_verification_purpose"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification")),
        sa.UniqueConstraint("public_id", name=op.f("uq_verification_public_id")),
    )
    with op.batch_alter_table("verification", schema=None) as batch_op:
        batch_op.create_index("ix_verification_created", ["created_at", "id"], unique=False)
        batch_op.create_index(
            "ix_verification_phone_purpose_created",
            ["phone_hash", "purpose_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_verification_status_created", ["status", "created_at"], unique=False
        )

    op.create_table(
        "verification_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("verification_id", sa.Integer(), nullable=False),
        sa.Column("at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["verification_id"],
            ["verification.id"],
            name=op.f("fk_verification_event_verification_id_verification"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_event")),
    )
    with op.batch_alter_table("verification_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_verification_event_verification_id"), ["verification_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("verification_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verification_event_verification_id"))

    op.drop_table("verification_event")

    with op.batch_alter_table("verification", schema=None) as batch_op:
        batch_op.drop_index("ix_verification_status_created")
        batch_op.drop_index("ix_verification_phone_purpose_created")
        batch_op.drop_index("ix_verification_created")

    op.drop_table("verification")
    op.drop_table("verification_purpose")
