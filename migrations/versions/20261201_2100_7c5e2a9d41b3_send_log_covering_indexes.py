"""send log: covering indexes for period totals and the failure report

The failure report (and the dashboard) count a period's messages by status and provider,
and group its FAILED messages by error code, vendor code, provider and type. Reading those
columns from the table meant one heap/row fetch per message of the period (30 days of a
busy console: ~80,000). Both indexes keep their leading ``(..., created_at, id)`` columns,
so every list page is served exactly as before; the trailing columns let the report's
queries run on the indexes alone:

- ``ix_message_log_created``: ``created_at, id`` + ``status, provider_code, type``
  (PostgreSQL: index-only scan of the period);
- ``ix_message_log_status_created``: ``status, created_at, id`` + ``provider_code, type,
  error_code, vendor_code`` (the FAILED rows of a period; SQLite's per-status scan).

Rebuilding them reads the whole table once: on a large PostgreSQL send log run it in a
quiet hour (CREATE INDEX blocks writes to message_log while it runs).

Revision ID: 7c5e2a9d41b3
Revises: e6bb0e6a3d54
Create Date: 2026-12-01 21:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "7c5e2a9d41b3"
down_revision = "e6bb0e6a3d54"
branch_labels = None
depends_on = None

CREATED = ["created_at", "id"]
STATUS = ["status", "created_at", "id"]
CREATED_COVERING = CREATED + ["status", "provider_code", "type"]
STATUS_COVERING = STATUS + ["provider_code", "type", "error_code", "vendor_code"]


def _replace(created: list[str], status: list[str]) -> None:
    with op.batch_alter_table("message_log", schema=None) as batch_op:
        batch_op.drop_index("ix_message_log_created")
        batch_op.drop_index("ix_message_log_status_created")
        batch_op.create_index("ix_message_log_created", created, unique=False)
        batch_op.create_index("ix_message_log_status_created", status, unique=False)


def upgrade() -> None:
    _replace(CREATED_COVERING, STATUS_COVERING)


def downgrade() -> None:
    _replace(CREATED, STATUS)
