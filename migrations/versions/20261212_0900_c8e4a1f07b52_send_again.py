"""send log: a message sent again as a new one

An operator may send a failed message, or one whose outcome stays unknown, again as a new
message. The new row names the one it was sent from; a unique index lets each message be
sent again once, so a double click or two operators cannot send it twice.

Revision ID: c8e4a1f07b52
Revises: b5d2e8a41c67
Create Date: 2026-12-12 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c8e4a1f07b52"
down_revision = "b5d2e8a41c67"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message_log", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "resent_from_id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=True,
            )
        )
        batch_op.create_index("uq_message_log_resent_from", ["resent_from_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("message_log", schema=None) as batch_op:
        batch_op.drop_index("uq_message_log_resent_from")
        batch_op.drop_column("resent_from_id")
