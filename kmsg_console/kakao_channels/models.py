"""Kakao sender profiles (발신프로필): the Kakao channels a provider sends AlimTalk through.

One row per (provider, profile key). The key is what the vendor calls the channel in every
send: SOLAPI's ``pfId``, Aligo's ``senderKey``. The public ``@handle`` (plus id) and the name
are for people. ``status`` is normalized from the vendor's answer (``vendor_status`` keeps
the vendor's own code); a profile nobody has synced yet is ``unknown``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from kmsg_console.extensions import db
from kmsg_console.i18n_markers import N_
from kmsg_console.orm import TimestampMixin, UTCDateTime

KEY_MAX = 64


class ProfileStatus(StrEnum):
    """A sender profile's state at Kakao, the same for every vendor."""

    ACTIVE = "active"
    BLOCKED = "blocked"
    DORMANT = "dormant"
    DELETED = "deleted"
    #: The vendor's list no longer has it (unlinked, or a key typed wrong).
    NOT_FOUND = "not_found"
    #: Never synced (entered by hand, or found in the settings by the upgrade).
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return _STATUS[self][0]

    @property
    def badge(self) -> str:
        return _STATUS[self][1]

    @property
    def usable(self) -> bool:
        """False for the states Kakao refuses every message from."""
        return self not in UNUSABLE


_STATUS = {
    ProfileStatus.ACTIVE: (N_("Active"), "ok"),
    ProfileStatus.BLOCKED: (N_("Blocked"), "bad"),
    ProfileStatus.DORMANT: (N_("Dormant"), "warn"),
    ProfileStatus.DELETED: (N_("Deleted at Kakao"), "bad"),
    ProfileStatus.NOT_FOUND: (N_("Not at the provider"), "warn"),
    ProfileStatus.UNKNOWN: (N_("Unknown (not synced)"), "muted"),
}
#: Kakao sends nothing from these; a send or template naming one is refused.
UNUSABLE = frozenset({ProfileStatus.BLOCKED, ProfileStatus.DORMANT, ProfileStatus.DELETED})


class ProfileSource(StrEnum):
    """How a profile came into the list."""

    SYNC = "sync"
    MANUAL = "manual"
    SETTINGS = "settings"
    #: Already in use by a template when the console learnt about profiles (the upgrade).
    UPGRADE = "upgrade"

    @property
    def label(self) -> str:
        return {
            ProfileSource.SYNC: N_("Synced from the provider"),
            ProfileSource.MANUAL: N_("Entered by hand"),
            ProfileSource.SETTINGS: N_("From the provider's settings"),
            ProfileSource.UPGRADE: N_("In use by a template before the upgrade"),
        }[self]


class KakaoProfile(TimestampMixin, db.Model):
    """One Kakao sender profile of one provider (see the module docstring)."""

    __tablename__ = "kakao_profile"
    __table_args__ = (sa.UniqueConstraint("provider_code", "profile_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The provider's code (``solapi-main``), as routing and the send log name it.
    provider_code: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    #: pfId (SOLAPI) or senderKey (Aligo); what every send and template call carries.
    profile_key: Mapped[str] = mapped_column(sa.String(KEY_MAX), nullable=False)
    #: The public ``@handle`` (Kakao's search id).
    plus_id: Mapped[str | None] = mapped_column(sa.String(40))
    name: Mapped[str | None] = mapped_column(sa.String(100))
    status: Mapped[str] = mapped_column(
        sa.String(12), default=ProfileStatus.UNKNOWN.value, nullable=False
    )
    #: The vendor's own status code(s), as it answered (``A``, ``C``...).
    vendor_status: Mapped[str | None] = mapped_column(sa.String(40))
    source: Mapped[str] = mapped_column(
        sa.String(10), default=ProfileSource.MANUAL.value, nullable=False
    )
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def status_enum(self) -> ProfileStatus:
        try:
            return ProfileStatus(self.status)
        except ValueError:
            return ProfileStatus.UNKNOWN

    @property
    def usable(self) -> bool:
        return self.status_enum.usable

    @property
    def source_label(self) -> str:
        try:
            return ProfileSource(self.source).label
        except ValueError:
            return self.source

    @property
    def display(self) -> str:
        """How selects and lists name it: ``@handle (name)`` or the key."""
        head = self.plus_id or self.profile_key
        return f"{head} · {self.name}" if self.name and self.name != head.lstrip("@") else head


#: The provider setting that names the channel a provider sends through when a message names
#: none (the adapters' config fields); the upgrade and a provider save register it.
KEY_SETTING = {"solapi": "kakao_pf_id", "aligo": "sender_key"}


def configured_key(vendor: str, settings: dict | None) -> str | None:
    """The profile key a provider's settings name, if any."""
    name = KEY_SETTING.get(vendor)
    value = (settings or {}).get(name) if name else None
    return str(value).strip() or None if value else None
