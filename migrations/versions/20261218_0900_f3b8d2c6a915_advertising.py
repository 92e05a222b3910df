"""advertising messages

Whether a message is advertising (``message_log.is_ad``, with a filter index; every existing
message is not) and the one row of advertising settings: the sender name and the free 080
opt-out line the console's send form writes into advertising.

Revision ID: f3b8d2c6a915
Revises: 2302604abc40
Create Date: 2026-12-18 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "f3b8d2c6a915"
down_revision = "2302604abc40"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message_log", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_ad", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index(
            "ix_message_log_is_ad_created", ["is_ad", "created_at", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("message_log", schema=None) as batch_op:
        batch_op.drop_index("ix_message_log_is_ad_created")
        batch_op.drop_column("is_ad")
