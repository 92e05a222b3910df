"""operators and audit log

Revision ID: d1b7c33082e7
Revises:
Create Date: 2026-11-25 17:52:54.312922
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kmsg_console.orm

revision = "d1b7c33082e7"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=254), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_type", sa.String(length=64), nullable=True),
        sa.Column("target_id", sa.String(length=64), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_event_action_created_at", ["action", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_audit_event_actor_id_created_at", ["actor_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_audit_event_created_at_id", ["created_at", "id"], unique=False)

    op.create_table(
        "login_failure",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", kmsg_console.orm.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_failure")),
    )
    op.create_table(
        "operator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column(
            "role",
            sa.Enum("viewer", "operator", "admin", name="role", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("session_epoch", sa.Integer(), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("last_login_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator")),
        sa.UniqueConstraint("email", name=op.f("uq_operator_email")),
    )


def downgrade() -> None:
    op.drop_table("operator")
    op.drop_table("login_failure")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_created_at_id")
        batch_op.drop_index("ix_audit_event_actor_id_created_at")
        batch_op.drop_index("ix_audit_event_action_created_at")

    op.drop_table("audit_event")
