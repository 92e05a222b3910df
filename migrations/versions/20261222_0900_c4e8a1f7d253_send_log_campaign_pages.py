"""send log: the pages of one campaign's messages, newest first

``/send-logs?campaign=...`` lists a campaign's messages newest first, like every other filter
of the send log from an index starting ``(filter, created_at, id)``. Without one, a campaign
sent months ago is found by walking the whole log newest first (SQLite, PostgreSQL for a large
campaign) or by reading and sorting all of its messages (PostgreSQL for a small one).

The index is partial (``campaign_id IS NOT NULL``): messages sent for no campaign, most of
the log, are not in it and cost nothing more to write. Building it reads the whole table once:
on a large PostgreSQL send log run it in a quiet hour (CREATE INDEX blocks writes to
message_log while it runs).

Revision ID: c4e8a1f7d253
Revises: a7c3e5f19b42
Create Date: 2026-12-22 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c4e8a1f7d253"
down_revision = "a7c3e5f19b42"
branch_labels = None
depends_on = None

IN_A_CAMPAIGN = sa.text("campaign_id IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("message_log", schema=None) as batch_op:
        batch_op.create_index(
            "ix_message_log_campaign_created",
            ["campaign_id", "created_at", "id"],
            unique=False,
            sqlite_where=IN_A_CAMPAIGN,
            postgresql_where=IN_A_CAMPAIGN,
        )


def downgrade() -> None:
    with op.batch_alter_table("message_log", schema=None) as batch_op:
        batch_op.drop_index("ix_message_log_campaign_created")
