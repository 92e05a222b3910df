"""sender numbers (발신번호 사전등록제)

The numbers SMS/LMS/MMS may leave from, with their status and the providers allowed to use
them. SMS/LMS/MMS from a number that is not a verified sender number of the provider are
refused from now on, so the senders existing providers already use (their default sender
setting; the sandbox's built-in one) are registered here as verified, by "migration": an
install keeps sending after the upgrade. Provider settings other than secrets are stored in
clear JSON, so no key is needed to read them.

Revision ID: f3b9d2c6a815
Revises: e2a7c4d91f36
Create Date: 2026-12-15 09:00:00.000000
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import kmsg_console.orm

revision = "f3b9d2c6a815"
down_revision = "e2a7c4d91f36"
branch_labels = None
depends_on = None

#: As the application names them at this revision (a migration never imports them).
SENDER_SETTINGS = ("default_from", "sender_number", "sender")
SANDBOX_DEFAULT_SENDER = "0212345678"


def upgrade() -> None:
    sender_number = op.create_table(
        "sender_number",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("verified_by", sa.String(length=254), nullable=True),
        sa.Column("verified_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status_note", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("created_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sender_number")),
        sa.UniqueConstraint("number", name=op.f("uq_sender_number_number")),
    )
    link = op.create_table(
        "sender_number_provider",
        sa.Column("sender_number_id", sa.Integer(), nullable=False),
        sa.Column("provider_code", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("added_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delisted_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["provider_code"],
            ["provider.code"],
            name=op.f("fk_sender_number_provider_provider_code_provider"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sender_number_id"],
            ["sender_number.id"],
            name=op.f("fk_sender_number_provider_sender_number_id_sender_number"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "sender_number_id", "provider_code", name=op.f("pk_sender_number_provider")
        ),
    )
    with op.batch_alter_table("sender_number_provider", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sender_number_provider_provider_code"), ["provider_code"], unique=False
        )
    _register_senders_in_use(sender_number, link)


def _default_sender(vendor: str, settings) -> str | None:
    if isinstance(settings, str):  # JSON read back as text by some drivers
        settings = json.loads(settings or "{}")
    for key in SENDER_SETTINGS:
        value = (settings or {}).get(key)
        if value:
            return re.sub(r"\D", "", str(value)) or None
    return SANDBOX_DEFAULT_SENDER if vendor == "sandbox" else None


def _register_senders_in_use(sender_number: sa.Table, link: sa.Table) -> None:
    """Every provider's default sender, verified for that provider by "migration"."""
    bind = op.get_bind()
    provider = sa.table(
        "provider",
        sa.column("code", sa.String),
        sa.column("vendor", sa.String),
        sa.column("settings", sa.JSON),
    )
    now = datetime.now(UTC)
    ids: dict[str, int] = {}
    for code, vendor, settings in bind.execute(
        sa.select(provider.c.code, provider.c.vendor, provider.c.settings).order_by(provider.c.code)
    ):
        number = _default_sender(vendor, settings)
        if not number or len(number) > 16:
            continue
        if number not in ids:
            ids[number] = bind.execute(
                sa.insert(sender_number)
                .values(
                    number=number,
                    label="",
                    category="business",
                    status="verified",
                    verified_by="migration",
                    verified_at=now,
                    status_note="",
                    created_by="migration",
                    created_at=now,
                    updated_at=now,
                )
                .returning(sender_number.c.id)
            ).scalar_one()
        bind.execute(
            sa.insert(link).values(
                sender_number_id=ids[number], provider_code=code, source="migration", added_at=now
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("sender_number_provider", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sender_number_provider_provider_code"))
    op.drop_table("sender_number_provider")
    op.drop_table("sender_number")
