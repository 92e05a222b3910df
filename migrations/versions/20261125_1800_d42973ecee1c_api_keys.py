"""api keys

Revision ID: d42973ecee1c
Revises: d1b7c33082e7
Create Date: 2026-11-25 18:00:09.449399
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kmsg_console.orm

revision = "d42973ecee1c"
down_revision = "d1b7c33082e7"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("revoked_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_ip", sa.String(length=45), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("key_id", name=op.f("uq_api_key_key_id")),
    )


def downgrade() -> None:
    op.drop_table("api_key")
