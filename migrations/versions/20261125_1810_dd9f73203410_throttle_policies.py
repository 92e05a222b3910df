"""throttle policies

Revision ID: dd9f73203410
Revises: 3b24e2b47b6e
Create Date: 2026-11-25 18:10:18.832249
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kmsg_console.orm

revision = "dd9f73203410"
down_revision = "3b24e2b47b6e"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "throttle_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=True),
        sa.Column("policy_name", sa.String(length=100), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "blocked",
                "monitored",
                "blocklisted",
                name="eventoutcome",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("key_kind", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("key_masked", sa.String(length=64), nullable=False),
        sa.Column("max_requests", sa.Integer(), nullable=True),
        sa.Column("window_seconds", sa.Integer(), nullable=True),
        sa.Column("retry_after_seconds", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_throttle_event")),
    )
    with op.batch_alter_table("throttle_event", schema=None) as batch_op:
        batch_op.create_index("ix_throttle_event_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index(
            "ix_throttle_event_policy_id_created_at", ["policy_id", "created_at"], unique=False
        )

    op.create_table(
        "throttle_list_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "list_kind",
            sa.Enum("safe", "block", name="listkind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column(
            "match_kind",
            sa.Enum("number", "prefix", name="entrymatch", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("value_key", sa.String(length=64), nullable=False),
        sa.Column("display", sa.String(length=32), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("created_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_throttle_list_entry")),
        sa.UniqueConstraint(
            "list_kind",
            "match_kind",
            "value_key",
            name=op.f("uq_throttle_list_entry_list_kind_match_kind_value_key"),
        ),
    )
    op.create_table(
        "throttle_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column(
            "mode",
            sa.Enum("enforce", "monitor", name="throttlemode", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column(
            "key_kind",
            sa.Enum(
                "phone",
                "ip",
                "api_key",
                "purpose",
                "prefix",
                "user",
                "global",
                name="keykind",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=True),
        sa.Column("prefix", sa.String(length=16), nullable=True),
        sa.Column("created_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_throttle_policy")),
        sa.UniqueConstraint("name", name=op.f("uq_throttle_policy_name")),
    )
    op.create_table(
        "throttle_policy_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_throttle_policy_version")),
    )
    op.create_table(
        "throttle_window",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("max_requests", sa.Integer(), nullable=False),
        sa.Column("window_seconds", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["throttle_policy.id"],
            name=op.f("fk_throttle_window_policy_id_throttle_policy"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_throttle_window")),
        sa.UniqueConstraint(
            "policy_id", "window_seconds", name=op.f("uq_throttle_window_policy_id_window_seconds")
        ),
    )
    op.create_table(
        "throttle_counter",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("window_id", sa.Integer(), nullable=False),
        sa.Column("tat_us", sa.BigInteger(), nullable=False),
        sa.Column("interval_us", sa.BigInteger(), nullable=False),
        sa.Column("seen_us", sa.BigInteger(), nullable=False),
        sa.Column("key_masked", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["window_id"],
            ["throttle_window.id"],
            name=op.f("fk_throttle_counter_window_id_throttle_window"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_throttle_counter")),
    )
    with op.batch_alter_table("throttle_counter", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_throttle_counter_window_id"), ["window_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("throttle_counter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_throttle_counter_window_id"))

    op.drop_table("throttle_counter")
    op.drop_table("throttle_window")
    op.drop_table("throttle_policy_version")
    op.drop_table("throttle_policy")
    op.drop_table("throttle_list_entry")
    with op.batch_alter_table("throttle_event", schema=None) as batch_op:
        batch_op.drop_index("ix_throttle_event_policy_id_created_at")
        batch_op.drop_index("ix_throttle_event_created_at_id")

    op.drop_table("throttle_event")
