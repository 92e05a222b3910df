"""operator alerts: alert state and a provider's balance threshold

``alert_state`` keeps where each operator alert stands (balance low per provider, failure
rate, daily and monthly volume caps, worker stopped) so each crossing is announced once; a
provider may have a balance below which the operators are alerted.

Revision ID: a7c3e5d20b14
Revises: f3b9d0c6a851
Create Date: 2026-12-20 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kmsg_console.orm

revision = "a7c3e5d20b14"
down_revision = "f3b9d0c6a851"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_state",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=True),
        sa.Column("since", kmsg_console.orm.UTCDateTime(timezone=True), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("updated_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_alert_state")),
    )
    with op.batch_alter_table("provider", schema=None) as batch_op:
        batch_op.add_column(sa.Column("balance_alert_below", sa.Integer(), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+): a batch copy would recreate ``provider``, which
    # SQLite's foreign keys refuse while other tables' rows point at providers.
    op.drop_column("provider", "balance_alert_below")
    op.drop_table("alert_state")
