"""operators: signed-out sessions

Signing out used to clear only the browser's own cookie: a copy of that cookie kept working
until its idle or absolute lifetime ran out. Each session now carries an id, and signing out
stores it here so that every copy is refused.

Revision ID: b5d2e8a41c67
Revises: 9b3e6f1c7d20
Create Date: 2026-12-10 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kmsg_console.orm

revision = "b5d2e8a41c67"
down_revision = "9b3e6f1c7d20"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "revoked_session",
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("signed_in_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_revoked_session")),
    )
    with op.batch_alter_table("revoked_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_revoked_session_signed_in_at"), ["signed_in_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("revoked_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revoked_session_signed_in_at"))
    op.drop_table("revoked_session")
