"""providers and routing

Revision ID: e93f7982c0c3
Revises: d42973ecee1c
Create Date: 2026-11-25 18:01:54.216700
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kmsg_console.orm

revision = "e93f7982c0c3"
down_revision = "d42973ecee1c"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "provider",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("vendor", sa.String(length=16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("secrets", sa.JSON(), nullable=False),
        sa.Column("health_ok", sa.Boolean(), nullable=True),
        sa.Column("health_checked_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=True),
        sa.Column("health_latency_ms", sa.Integer(), nullable=True),
        sa.Column("health_error", sa.String(length=255), nullable=True),
        sa.Column("balance", sa.String(length=40), nullable=True),
        sa.Column("created_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider")),
        sa.UniqueConstraint("code", name=op.f("uq_provider_code")),
    )
    op.create_table(
        "routing_rule",
        sa.Column("message_type", sa.String(length=16), nullable=False),
        sa.Column("provider_codes", sa.JSON(), nullable=False),
        sa.Column("updated_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("message_type", name=op.f("pk_routing_rule")),
    )


def downgrade() -> None:
    op.drop_table("routing_rule")
    op.drop_table("provider")
