"""Kakao sender profiles

One row per (provider, profile key): SOLAPI pfId or Aligo senderKey, the @handle, the name,
the status normalized from the vendor next to the vendor's raw status, the last sync. The
upgrade registers the profiles an existing install already sends through: the channel each
provider's settings name and every profile a template is bound to, status "unknown" until
synced, so nothing in service is refused.

Revision ID: f3b8d2a6c914
Revises: f3b9d2c6a815
Create Date: 2026-12-16 09:00:00.000000
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import kmsg_console.orm

revision = "f3b8d2a6c914"
down_revision = "f3b9d2c6a815"
branch_labels = None
depends_on = None

#: The provider setting naming each vendor's Kakao channel (as the adapters define them).
KEY_SETTING = {"solapi": "kakao_pf_id", "aligo": "sender_key"}


def upgrade() -> None:
    profile = op.create_table(
        "kakao_profile",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_code", sa.String(length=40), nullable=False),
        sa.Column("profile_key", sa.String(length=64), nullable=False),
        sa.Column("plus_id", sa.String(length=40), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("vendor_status", sa.String(length=40), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("last_synced_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", kmsg_console.orm.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kakao_profile")),
        sa.UniqueConstraint(
            "provider_code", "profile_key", name=op.f("uq_kakao_profile_provider_code_profile_key")
        ),
    )
    _register_profiles_in_use(profile)


def _register_profiles_in_use(profile: sa.Table) -> None:
    connection = op.get_bind()
    provider = sa.table(
        "provider",
        sa.column("id", sa.Integer),
        sa.column("code", sa.String),
        sa.column("vendor", sa.String),
        sa.column("settings", sa.JSON),
    )
    template = sa.table(
        "message_template",
        sa.column("provider_id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("sender_profile", sa.String),
        sa.column("plus_id", sa.String),
    )
    found: dict[tuple[str, str], dict[str, str | None]] = {}
    for code, vendor, settings in connection.execute(
        sa.select(provider.c.code, provider.c.vendor, provider.c.settings).order_by(provider.c.id)
    ):
        key = str((settings or {}).get(KEY_SETTING.get(vendor, ""), "") or "").strip()
        if key:
            found.setdefault((code, key[:64]), {"plus_id": None, "source": "settings"})
    for code, key, plus_id in connection.execute(
        sa.select(provider.c.code, template.c.sender_profile, template.c.plus_id)
        .join(provider, provider.c.id == template.c.provider_id)
        .where(template.c.kind == "ALIMTALK", template.c.sender_profile.is_not(None))
        .order_by(provider.c.id)
    ):
        key = (key or "").strip()[:64]
        if not key:
            continue
        entry = found.setdefault((code, key), {"plus_id": None, "source": "upgrade"})
        entry["plus_id"] = entry["plus_id"] or ((plus_id or "").strip()[:40] or None)
    now = datetime.now(UTC)
    rows = [
        {
            "provider_code": code,
            "profile_key": key,
            "plus_id": entry["plus_id"],
            "status": "unknown",
            "source": entry["source"],
            "created_at": now,
            "updated_at": now,
        }
        for (code, key), entry in found.items()
    ]
    if rows:
        op.bulk_insert(profile, rows)


def downgrade() -> None:
    op.drop_table("kakao_profile")
