"""otp: at most one pending verification per phone and purpose

A new start cancels the pending verification of the same phone and purpose, but two starts
that raced could both read "nothing pending" and both write a pending code. A partial
unique index makes the database refuse the second write; the OTP engine then reads again
and either refuses the start (within the resend cooldown) or replaces the other code.

Older data may hold such pairs: all but the newest pending verification of each phone and
purpose are canceled first (they could never be the live code anyway).

Revision ID: 4f1d8b6c2a97
Revises: 7c5e2a9d41b3
Create Date: 2026-12-02 01:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "4f1d8b6c2a97"
down_revision = "7c5e2a9d41b3"
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.execute(
        "UPDATE verification SET status = 'canceled' "
        "WHERE status = 'pending' AND EXISTS ("
        " SELECT 1 FROM verification AS newer"
        " WHERE newer.phone_hash = verification.phone_hash"
        " AND newer.purpose_id = verification.purpose_id"
        " AND newer.status = 'pending'"
        " AND (newer.created_at > verification.created_at"
        "      OR (newer.created_at = verification.created_at AND newer.id > verification.id)))"
    )
    with op.batch_alter_table("verification", schema=None) as batch_op:
        batch_op.create_index(
            "uq_verification_one_pending",
            ["phone_hash", "purpose_id"],
            unique=True,
            sqlite_where=PENDING,
            postgresql_where=PENDING,
        )


def downgrade() -> None:
    with op.batch_alter_table("verification", schema=None) as batch_op:
        batch_op.drop_index("uq_verification_one_pending")
