"""Throttle policies, their windows, the safe/block lists, the block log and counter state."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kmsg_console.extensions import db
from kmsg_console.i18n_markers import N_
from kmsg_console.orm import TimestampMixin, UTCDateTime, utcnow


def _enum(cls: type[StrEnum]) -> sa.Enum:
    return sa.Enum(
        cls, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]
    )


class ThrottleAction(StrEnum):
    """What a caller is about to do; a policy applies to one or more of these."""

    OTP_START = "otp_start"
    OTP_CHECK_FAILURE = "otp_check_failure"
    API_SEND = "api_send"

    @property
    def label(self) -> str:
        return _LABELS[self]


class ThrottleMode(StrEnum):
    """Enforce refuses requests; monitor only records that it would have."""

    ENFORCE = "enforce"
    MONITOR = "monitor"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def badge(self) -> str:
        return "bad" if self is ThrottleMode.ENFORCE else "warn"


class KeyKind(StrEnum):
    """Which attribute of a request a policy counts by."""

    PHONE = "phone"
    IP = "ip"
    API_KEY = "api_key"
    PURPOSE = "purpose"
    PREFIX = "prefix"
    USER = "user"
    GLOBAL = "global"

    @property
    def label(self) -> str:
        return _LABELS[self]


class ListKind(StrEnum):
    SAFE = "safe"
    BLOCK = "block"

    @property
    def label(self) -> str:
        return _LABELS[self]


class EntryMatch(StrEnum):
    NUMBER = "number"
    PREFIX = "prefix"

    @property
    def label(self) -> str:
        return _LABELS[self]


class EventOutcome(StrEnum):
    """Why a throttle event was logged."""

    BLOCKED = "blocked"
    MONITORED = "monitored"
    BLOCKLISTED = "blocklisted"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def badge(self) -> str:
        return "warn" if self is EventOutcome.MONITORED else "bad"


_LABELS: dict[StrEnum, str] = {
    ThrottleAction.OTP_START: N_("OTP start"),
    ThrottleAction.OTP_CHECK_FAILURE: N_("Failed OTP check"),
    ThrottleAction.API_SEND: N_("API send"),
    ThrottleMode.ENFORCE: N_("Enforce"),
    ThrottleMode.MONITOR: N_("Monitor only"),
    KeyKind.PHONE: N_("Per phone number"),
    KeyKind.IP: N_("Per client IP"),
    KeyKind.API_KEY: N_("Per API key"),
    KeyKind.PURPOSE: N_("Per purpose"),
    KeyKind.PREFIX: N_("Per number prefix (shared)"),
    KeyKind.USER: N_("Per end user"),
    KeyKind.GLOBAL: N_("Global"),
    ListKind.SAFE: N_("Safelist"),
    ListKind.BLOCK: N_("Blocklist"),
    EntryMatch.NUMBER: N_("Exact number"),
    EntryMatch.PREFIX: N_("Prefix"),
    EventOutcome.BLOCKED: N_("Blocked"),
    EventOutcome.MONITORED: N_("Would have blocked"),
    EventOutcome.BLOCKLISTED: N_("Blocklisted"),
}


def action_label(value: str) -> str:
    """The label of a stored action value (the value itself if it is no longer known)."""
    try:
        return ThrottleAction(value).label
    except ValueError:
        return value


class ThrottlePolicy(TimestampMixin, db.Model):
    """A rate rule: what it counts by, which actions it covers, and its windows."""

    __tablename__ = "throttle_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True, nullable=False)
    description: Mapped[str] = mapped_column(sa.String(500), default="", nullable=False)
    enabled: Mapped[bool] = mapped_column(default=True, nullable=False)
    mode: Mapped[ThrottleMode] = mapped_column(_enum(ThrottleMode), nullable=False)
    key_kind: Mapped[KeyKind] = mapped_column(_enum(KeyKind), nullable=False)
    #: ``ThrottleAction`` values, e.g. ``["otp_start", "api_send"]``.
    actions: Mapped[list[str]] = mapped_column(sa.JSON, default=list, nullable=False)
    #: Only requests for this OTP purpose / message purpose count (None: every purpose).
    purpose: Mapped[str | None] = mapped_column(sa.String(64))
    #: Only numbers starting with this prefix count: domestic (``010``) or E.164 (``+1``).
    prefix: Mapped[str | None] = mapped_column(sa.String(16))

    windows: Mapped[list[ThrottleWindow]] = relationship(
        back_populates="policy",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ThrottleWindow.window_seconds",
    )

    @property
    def action_labels(self) -> list[str]:
        return [action_label(action) for action in self.actions]

    def snapshot(self) -> dict[str, Any]:
        """The editable state, for audit diffs."""
        return {
            "name": self.name,
            "description": self.description,
            "enabled": self.enabled,
            "mode": self.mode.value,
            "key_kind": self.key_kind.value,
            "actions": sorted(self.actions),
            "purpose": self.purpose,
            "prefix": self.prefix,
            "windows": [f"{w.max_requests}/{w.window_seconds}s" for w in self.windows],
        }


class ThrottleWindow(db.Model):
    """At most ``max_requests`` per ``window_seconds`` (one of a policy's windows)."""

    __tablename__ = "throttle_window"
    __table_args__ = (sa.UniqueConstraint("policy_id", "window_seconds"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(
        sa.ForeignKey("throttle_policy.id", ondelete="CASCADE"), nullable=False
    )
    max_requests: Mapped[int] = mapped_column(nullable=False)
    window_seconds: Mapped[int] = mapped_column(nullable=False)

    policy: Mapped[ThrottlePolicy] = relationship(back_populates="windows")


class ThrottleListEntry(db.Model):
    """A safelisted or blocklisted number or number prefix.

    Exact numbers are stored only as a keyed hash and a masked form; prefixes are not
    personal data and are kept as typed.
    """

    __tablename__ = "throttle_list_entry"
    __table_args__ = (sa.UniqueConstraint("list_kind", "match_kind", "value_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_kind: Mapped[ListKind] = mapped_column(_enum(ListKind), nullable=False)
    match_kind: Mapped[EntryMatch] = mapped_column(_enum(EntryMatch), nullable=False)
    #: Keyed hash of the number, or the prefix itself.
    value_key: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    display: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    note: Mapped[str] = mapped_column(sa.String(200), default="", nullable=False)
    created_by: Mapped[str] = mapped_column(sa.String(254), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class ThrottleEvent(db.Model):
    """A refused request, or a monitor-mode rule that would have refused one."""

    __tablename__ = "throttle_event"
    __table_args__ = (
        sa.Index("ix_throttle_event_created_at_id", "created_at", "id"),
        sa.Index("ix_throttle_event_policy_id_created_at", "policy_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    #: Plain id (no foreign key), like audit rows: the log outlives edits.
    policy_id: Mapped[int | None] = mapped_column()
    policy_name: Mapped[str | None] = mapped_column(sa.String(100))
    action: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    outcome: Mapped[EventOutcome] = mapped_column(_enum(EventOutcome), nullable=False)
    key_kind: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    #: Keyed hash and masked form of the counted value; never the raw number or IP.
    key_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    key_masked: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    max_requests: Mapped[int | None] = mapped_column()
    window_seconds: Mapped[int | None] = mapped_column()
    retry_after_seconds: Mapped[int | None] = mapped_column()

    @property
    def action_label(self) -> str:
        return action_label(self.action)


class ThrottleCounter(db.Model):
    """GCRA state of one window for one key (SQL backend): the theoretical arrival time."""

    __tablename__ = "throttle_counter"

    key: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    window_id: Mapped[int] = mapped_column(
        sa.ForeignKey("throttle_window.id", ondelete="CASCADE"), index=True, nullable=False
    )
    #: Microseconds since the epoch; 0 means "never used".
    tat_us: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    #: Emission interval the TAT was computed with, so an edited window rescales it.
    interval_us: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    #: Latest time the counter was judged at; later requests are never judged earlier.
    seen_us: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    key_masked: Mapped[str] = mapped_column(sa.String(64), nullable=False)


class ThrottlePolicyVersion(db.Model):
    """One row whose ``version`` is bumped by every policy or list edit.

    Each process caches the policy set with the version it was read at and revalidates it
    on every decision by reading this one integer.
    """

    __tablename__ = "throttle_policy_version"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(nullable=False)
