"""campaigns: a campaign, its recipients (one row each), and the campaign of a message

Recipients' numbers are stored hashed, encrypted and masked, never in clear. A recipient's
message id is unique: it is fixed when a worker claims the recipient, before the send.

Revision ID: a7c3e5f19b42
Revises: a7c3e5d20b14
Create Date: 2026-12-21 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kmsg_console.orm

revision = "a7c3e5f19b42"
down_revision = "a7c3e5d20b14"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, kmsg_console.orm.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("template_code", sa.String(length=64), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("from_number", sa.String(length=20), nullable=True),
        sa.Column("variables_enc", sa.Text(), nullable=True),
        sa.Column("is_ad", sa.Boolean(), nullable=False),
        sa.Column("rate", sa.Integer(), nullable=False),
        _time("scheduled_at"),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("preview", sa.JSON(), nullable=False),
        _time("next_send_at"),
        _time("created_at", nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        _time("started_at"),
        _time("finished_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
        sa.UniqueConstraint("public_id", name=op.f("uq_campaign_public_id")),
    )
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index(
            "ix_campaign_status_scheduled_at", ["status", "scheduled_at"], unique=False
        )
    op.create_table(
        "campaign_recipient",
        sa.Column("id", BigId, nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("phone_enc", sa.Text(), nullable=False),
        sa.Column("phone_masked", sa.String(length=20), nullable=False),
        sa.Column("variables_enc", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("message_public_id", sa.String(length=36), nullable=True),
        sa.Column("message_log_id", BigId, nullable=True),
        _time("claimed_at"),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_campaign_recipient_campaign_id_campaign"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_recipient")),
        sa.UniqueConstraint(
            "campaign_id", "row_number", name=op.f("uq_campaign_recipient_campaign_id_row_number")
        ),
        sa.UniqueConstraint(
            "message_public_id", name=op.f("uq_campaign_recipient_message_public_id")
        ),
    )
    with op.batch_alter_table("campaign_recipient", schema=None) as batch_op:
        batch_op.create_index(
            "ix_campaign_recipient_campaign_hash", ["campaign_id", "phone_hash"], unique=False
        )
        batch_op.create_index(
            "ix_campaign_recipient_claim", ["campaign_id", "state", "id"], unique=False
        )
    with op.batch_alter_table("message_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("campaign_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            "ix_message_log_campaign", ["campaign_id", "status", "error_code"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("message_log", schema=None) as batch_op:
        batch_op.drop_index("ix_message_log_campaign")
        batch_op.drop_column("campaign_id")
    with op.batch_alter_table("campaign_recipient", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_recipient_claim")
        batch_op.drop_index("ix_campaign_recipient_campaign_hash")
    op.drop_table("campaign_recipient")
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_status_scheduled_at")
        batch_op.drop_index("ix_campaign_created_at_id")
    op.drop_table("campaign")
