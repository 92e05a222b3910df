"""message templates

Revision ID: e6bb0e6a3d54
Revises: 55c89b003548
Create Date: 2026-11-25 18:19:27.915154
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kmsg_console.orm

revision = "e6bb0e6a3d54"
down_revision = "55c89b003548"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.Column("sender_profile", sa.String(length=64), nullable=True),
        sa.Column("plus_id", sa.String(length=40), nullable=True),
        sa.Column("category", sa.String(length=20), nullable=True),
        sa.Column("category_code", sa.String(length=20), nullable=True),
        sa.Column("message_type", sa.String(length=2), nullable=False),
        sa.Column("emphasis_type", sa.String(length=10), nullable=False),
        sa.Column("emphasis_title", sa.String(length=50), nullable=True),
        sa.Column("emphasis_subtitle", sa.String(length=50), nullable=True),
        sa.Column("extra_info", sa.String(length=500), nullable=True),
        sa.Column("buttons", sa.JSON(), nullable=False),
        sa.Column("security_flag", sa.Boolean(), nullable=False),
        sa.Column("variables", sa.JSON(), nullable=False),
        sa.Column("sample_values", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=True),
        sa.Column("vendor_code", sa.String(length=64), nullable=True),
        sa.Column("vendor_status", sa.String(length=20), nullable=True),
        sa.Column("review_comments", sa.JSON(), nullable=False),
        sa.Column("status_changed_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_synced_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["provider.id"], name=op.f("fk_message_template_provider_id_provider")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_template")),
        sa.UniqueConstraint(
            "provider_id", "vendor_code", name="uq_message_template_provider_vendor_code"
        ),
    )
    with op.batch_alter_table("message_template", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_message_template_provider_id"), ["provider_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_message_template_status"), ["status"], unique=False)
        batch_op.create_index("ix_message_template_updated", ["updated_at", "id"], unique=False)
        batch_op.create_index(
            "ix_message_template_vendor_code_status", ["vendor_code", "status"], unique=False
        )

    op.create_table(
        "message_template_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("from_status", sa.String(length=12), nullable=True),
        sa.Column("to_status", sa.String(length=12), nullable=True),
        sa.Column("vendor_status", sa.String(length=20), nullable=True),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.Column("actor_label", sa.String(length=254), nullable=True),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["message_template.id"],
            name=op.f("fk_message_template_event_template_id_message_template"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_template_event")),
    )
    with op.batch_alter_table("message_template_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_message_template_event_template_id"), ["template_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("message_template_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_template_event_template_id"))

    op.drop_table("message_template_event")
    with op.batch_alter_table("message_template", schema=None) as batch_op:
        batch_op.drop_index("ix_message_template_vendor_code_status")
        batch_op.drop_index("ix_message_template_updated")
        batch_op.drop_index(batch_op.f("ix_message_template_status"))
        batch_op.drop_index(batch_op.f("ix_message_template_provider_id"))

    op.drop_table("message_template")
