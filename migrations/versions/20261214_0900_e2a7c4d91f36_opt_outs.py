"""opt-out list

Numbers that opted out of advertising, globally or for one free 080 line: a keyed hash for
lookup (unique per scope), the number encrypted and masked, never in clear.

Revision ID: e2a7c4d91f36
Revises: c8e4a1f07b52
Create Date: 2026-12-14 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kmsg_console.orm

revision = "e2a7c4d91f36"
down_revision = "c8e4a1f07b52"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "opt_out",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("phone_enc", sa.Text(), nullable=False),
        sa.Column("phone_masked", sa.String(length=20), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opt_out")),
        sa.UniqueConstraint("phone_hash", "scope", name=op.f("uq_opt_out_phone_hash_scope")),
    )
    with op.batch_alter_table("opt_out", schema=None) as batch_op:
        batch_op.create_index("ix_opt_out_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index(
            "ix_opt_out_scope_created_at_id", ["scope", "created_at", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("opt_out", schema=None) as batch_op:
        batch_op.drop_index("ix_opt_out_scope_created_at_id")
        batch_op.drop_index("ix_opt_out_created_at_id")
    op.drop_table("opt_out")
