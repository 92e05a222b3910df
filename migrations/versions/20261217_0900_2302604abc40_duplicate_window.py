"""duplicate-send window and console settings

The send log keeps a keyed hash of what makes two messages the same (type, sender,
recipient, subject, final text) for the duplicate-send window; a provider may have a window
of its own; console-wide settings (the global window) live in a small key-value table.
Opt-outs synced from a vendor use the existing source column (``vendor`` fits).

Revision ID: 2302604abc40
Revises: f3b8d2a6c914
Create Date: 2026-12-17 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kmsg_console.orm

revision = "2302604abc40"
down_revision = "f3b8d2a6c914"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_setting",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("updated_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_console_setting")),
    )
    with op.batch_alter_table("message_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dedupe_hash", sa.String(length=64), nullable=True))
        batch_op.create_index(
            "ix_message_log_dedupe_hash", ["dedupe_hash", "created_at"], unique=False
        )
    with op.batch_alter_table("provider", schema=None) as batch_op:
        batch_op.add_column(sa.Column("duplicate_window_minutes", sa.Integer(), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+): a batch copy would drop and recreate ``provider``,
    # which SQLite's foreign keys refuse while other tables' rows point at providers.
    op.drop_column("provider", "duplicate_window_minutes")
    with op.batch_alter_table("message_log", schema=None) as batch_op:
        batch_op.drop_index("ix_message_log_dedupe_hash")
        batch_op.drop_column("dedupe_hash")
    op.drop_table("console_setting")
