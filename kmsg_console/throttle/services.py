"""Throttle policies and number lists: edits from the console, defaults, the block log."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context

from kmsg_console.audit.services import diff, record_audit
from kmsg_console.extensions import db
from kmsg_console.i18n_markers import N_
from kmsg_console.messaging.phone import InvalidPhoneNumber, normalize_recipient
from kmsg_console.orm import utcnow
from kmsg_console.seeded_texts import SeededTexts
from kmsg_console.throttle import core, engine
from kmsg_console.throttle.backends import upsert
from kmsg_console.throttle.models import (
    EntryMatch,
    EventOutcome,
    KeyKind,
    ListKind,
    ThrottleAction,
    ThrottleEvent,
    ThrottleListEntry,
    ThrottleMode,
    ThrottlePolicy,
    ThrottlePolicyVersion,
    ThrottleWindow,
)
from kmsg_console.web.pagination import Page, keyset_page

logger = logging.getLogger(__name__)

MAX_WINDOW_SECONDS = 31 * 86400
MAX_REQUESTS = 1_000_000
PREFIX_RE = re.compile(r"^\+?\d{1,15}$")
PURPOSE_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_VERSION_FLAG = "kmsg_throttle_version_bumped"


class ThrottleError(ValueError):
    """An edit that cannot be made; ``code`` keys ``forms.ERROR_MESSAGES``, ``field`` names
    the form field it belongs to."""

    def __init__(self, code: str, field: str | None = None, index: int | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.field = field
        self.index = index


@dataclass(frozen=True)
class WindowData:
    max_requests: int
    window_seconds: int
    id: int | None = None


@dataclass
class PolicyData:
    name: str
    mode: ThrottleMode
    key_kind: KeyKind
    actions: list[str]
    windows: list[WindowData]
    description: str = ""
    purpose: str | None = None
    prefix: str | None = None
    enabled: bool = True


# --- the policy version ----------------------------------------------------------------


def bump_version() -> None:
    """Advance the policy version in the caller's transaction (commits with the edit)."""
    table = ThrottlePolicyVersion.__table__
    statement = upsert(db.session.get_bind().dialect.name)(table).values(id=1, version=1)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.id], set_={"version": table.c.version + 1}
        )
    )
    db.session.info[_VERSION_FLAG] = True


@sa.event.listens_for(db.session, "after_commit")
def _publish_version(session: sa.orm.Session) -> None:
    # Redis keeps a copy of the version so its hot path needs no database read; refresh it
    # once the edit is durable. A failure here is healed by the periodic revalidation.
    if not session.info.pop(_VERSION_FLAG, False) or not has_app_context():
        return
    runtime = engine.runtime(current_app._get_current_object())  # type: ignore[attr-defined]
    if runtime.backend.name != "redis":
        return  # SQL decisions read the version row themselves
    try:
        with runtime.backend.engine.connect() as conn:  # type: ignore[union-attr]
            version = engine.read_version(conn)
        runtime.backend.publish_version(version)
    except Exception:  # noqa: BLE001 - the edit is committed; never fail the request here
        logger.warning("could not publish throttle policy version", exc_info=True)


@sa.event.listens_for(db.session, "after_soft_rollback")
def _forget_version(session: sa.orm.Session, _previous: Any) -> None:
    session.info.pop(_VERSION_FLAG, None)


# --- policies ---------------------------------------------------------------------------


def _validate(data: PolicyData) -> None:
    data.name = data.name.strip()
    data.purpose = (data.purpose or "").strip() or None
    data.prefix = (data.prefix or "").strip() or None
    if not data.name:
        raise ThrottleError("name_required", "name")
    if data.purpose and not PURPOSE_RE.match(data.purpose):
        raise ThrottleError("bad_purpose", "purpose")
    if data.prefix and not PREFIX_RE.match(data.prefix):
        raise ThrottleError("bad_prefix", "prefix")
    if data.prefix and not core.prefix_can_match(data.prefix):
        raise ThrottleError("prefix_unreachable", "prefix")
    if data.key_kind is KeyKind.PREFIX and not data.prefix:
        raise ThrottleError("prefix_required", "prefix")
    if data.key_kind is KeyKind.PURPOSE and data.purpose:
        raise ThrottleError("purpose_conflict", "purpose")
    if not data.actions or any(a not in engine.ACTIONS for a in data.actions):
        raise ThrottleError("actions_required", "actions")
    if not data.windows:
        raise ThrottleError("windows_required", "windows", 0)
    seen: set[int] = set()
    for index, window in enumerate(data.windows):
        if not 1 <= window.window_seconds <= MAX_WINDOW_SECONDS:
            raise ThrottleError("window_length", "amount", index)
        if not 1 <= window.max_requests <= MAX_REQUESTS:
            raise ThrottleError("window_limit", "max_requests", index)
        if window.window_seconds * 1_000_000 // window.max_requests < engine.MIN_INTERVAL_US:
            raise ThrottleError("window_too_dense", "max_requests", index)
        if window.window_seconds in seen:
            raise ThrottleError("window_duplicate", "amount", index)
        seen.add(window.window_seconds)


def _name_taken(name: str, exclude_id: int | None = None) -> bool:
    query = sa.select(ThrottlePolicy.id).where(sa.func.lower(ThrottlePolicy.name) == name.lower())
    if exclude_id is not None:
        query = query.where(ThrottlePolicy.id != exclude_id)
    return db.session.scalar(query) is not None


def _apply(policy: ThrottlePolicy, data: PolicyData) -> None:
    policy.name = data.name
    policy.description = data.description.strip()
    policy.mode = data.mode
    policy.key_kind = data.key_kind
    policy.actions = sorted(set(data.actions))
    policy.purpose = data.purpose
    policy.prefix = data.prefix
    policy.enabled = data.enabled
    existing = {window.id: window for window in policy.windows}
    for window in data.windows:
        row = existing.get(window.id) if window.id is not None else None
        if row is None:
            policy.windows.append(
                ThrottleWindow(
                    max_requests=window.max_requests, window_seconds=window.window_seconds
                )
            )
        else:
            row.max_requests = window.max_requests
            row.window_seconds = window.window_seconds


def _touch(policy: ThrottlePolicy) -> None:
    # Windows live in their own table, so editing only them leaves the policy row (and its
    # onupdate timestamp) untouched; "last changed" covers the whole policy.
    policy.updated_at = utcnow()


def create_policy(data: PolicyData, *, actor: Any = None) -> ThrottlePolicy:
    """Add a policy; raises ThrottleError for invalid input or a taken name."""
    _validate(data)
    if _name_taken(data.name):
        raise ThrottleError("name_taken", "name")
    policy = ThrottlePolicy(windows=[])
    _apply(policy, data)
    db.session.add(policy)
    db.session.flush()
    bump_version()
    record_audit(
        "throttle.create",
        actor=actor,
        actor_label=None if actor else "system",
        target_type="throttle_policy",
        target_id=policy.id,
        details={"after": policy.snapshot()},
    )
    return policy


def update_policy(policy: ThrottlePolicy, data: PolicyData, *, actor: Any) -> None:
    """Change a policy and its windows (windows without an id are added)."""
    kept = {w.id for w in policy.windows}
    data.windows = [w for w in data.windows if w.id is None or w.id in kept] + [
        WindowData(w.max_requests, w.window_seconds, w.id)
        for w in policy.windows
        if w.id not in {d.id for d in data.windows}
    ]
    _validate(data)
    if _name_taken(data.name, exclude_id=policy.id):
        raise ThrottleError("name_taken", "name")
    before = policy.snapshot()
    _apply(policy, data)
    db.session.flush()
    after = policy.snapshot()
    if before != after:
        _touch(policy)
        bump_version()
        record_audit(
            "throttle.update",
            actor=actor,
            target_type="throttle_policy",
            target_id=policy.id,
            details=diff(before, after),
        )


def set_enabled(policy: ThrottlePolicy, enabled: bool, *, actor: Any) -> None:
    if policy.enabled == enabled:
        return
    policy.enabled = enabled
    bump_version()
    record_audit(
        "throttle.enable" if enabled else "throttle.disable",
        actor=actor,
        target_type="throttle_policy",
        target_id=policy.id,
        details={"before": {"enabled": not enabled}, "after": {"enabled": enabled}},
    )


def delete_window(policy: ThrottlePolicy, window: ThrottleWindow, *, actor: Any) -> None:
    """Remove one window; a policy keeps at least one."""
    if window.policy_id != policy.id:
        raise ThrottleError("window_missing")
    if len(policy.windows) <= 1:
        raise ThrottleError("last_window")
    before = policy.snapshot()
    policy.windows.remove(window)
    _touch(policy)
    db.session.flush()
    bump_version()
    record_audit(
        "throttle.delete_window",
        actor=actor,
        target_type="throttle_policy",
        target_id=policy.id,
        details=diff(before, policy.snapshot()),
    )


def event_counts(since: datetime) -> dict[int, dict[str, int]]:
    """Blocks and monitor hits per policy since ``since``: ``{policy_id: {outcome: n}}``."""
    rows = db.session.execute(
        sa.select(ThrottleEvent.policy_id, ThrottleEvent.outcome, sa.func.count())
        .where(ThrottleEvent.created_at >= since, ThrottleEvent.policy_id.is_not(None))
        .group_by(ThrottleEvent.policy_id, ThrottleEvent.outcome)
    )
    counts: dict[int, dict[str, int]] = {}
    for policy_id, outcome, count in rows:
        counts.setdefault(policy_id, {})[EventOutcome(outcome).value] = count
    return counts


def policy_events(
    policy_id: int | None, *, cursor: str | None, per_page: int
) -> Page[ThrottleEvent]:
    """A keyset page of one policy's events (``None``: blocklist hits), newest first."""
    query = sa.select(ThrottleEvent)
    if policy_id is None:
        query = query.where(ThrottleEvent.outcome == EventOutcome.BLOCKLISTED)
    else:
        query = query.where(ThrottleEvent.policy_id == policy_id)
    return keyset_page(
        query, ThrottleEvent.created_at, ThrottleEvent.id, cursor=cursor, per_page=per_page
    )


def policy_counters(policy: ThrottlePolicy) -> list[engine.CounterView]:
    windows = [engine.Window(w.id, w.max_requests, w.window_seconds) for w in policy.windows]
    return engine.current_counters(windows) if windows else []


# --- safelist and blocklist --------------------------------------------------------------


def normalize_number(raw: str) -> str:
    """Domestic digits for a Korean mobile number, ``+digits`` for a foreign one."""
    text = (raw or "").strip()
    digits = re.sub(r"[\s\-().]", "", text)
    if (
        digits.startswith("+")
        and not digits.startswith("+82")
        and digits[1:].isdigit()
        and 8 <= len(digits) <= 16
    ):
        return digits
    return normalize_recipient(text)


def add_list_entry(
    list_kind: ListKind, match: EntryMatch, value: str, note: str, *, actor: Any
) -> ThrottleListEntry:
    """Safelist or blocklist a number (stored hashed and masked) or a prefix."""
    if match is EntryMatch.NUMBER:
        try:
            number = normalize_number(value)
        except InvalidPhoneNumber as exc:
            raise ThrottleError("bad_number", "value") from exc
        value_key = core.Hasher(current_app.config["KEYRING"])(KeyKind.PHONE, number)
        display = core.mask_subject(KeyKind.PHONE, number)
    else:
        value_key = display = re.sub(r"[\s\-]", "", value or "")
        if not PREFIX_RE.match(value_key):
            raise ThrottleError("bad_prefix", "value")
        if not core.prefix_can_match(value_key):
            raise ThrottleError("prefix_unreachable", "value")
    duplicate = db.session.scalar(
        sa.select(ThrottleListEntry.id).where(
            ThrottleListEntry.list_kind == list_kind,
            ThrottleListEntry.match_kind == match,
            ThrottleListEntry.value_key == value_key,
        )
    )
    if duplicate is not None:
        raise ThrottleError("entry_exists", "value")
    entry = ThrottleListEntry(
        list_kind=list_kind,
        match_kind=match,
        value_key=value_key,
        display=display,
        note=note.strip(),
        created_by=getattr(actor, "email", None) or "system",
    )
    db.session.add(entry)
    db.session.flush()
    bump_version()
    record_audit(
        f"throttle.{list_kind.value}list_add",
        actor=actor,
        target_type="throttle_list_entry",
        target_id=entry.id,
        details={"after": _entry_snapshot(entry)},
    )
    return entry


def remove_list_entry(entry: ThrottleListEntry, *, actor: Any) -> None:
    record_audit(
        f"throttle.{entry.list_kind.value}list_remove",
        actor=actor,
        target_type="throttle_list_entry",
        target_id=entry.id,
        details={"before": _entry_snapshot(entry)},
    )
    db.session.delete(entry)
    bump_version()


def _entry_snapshot(entry: ThrottleListEntry) -> dict[str, Any]:
    return {
        "list": entry.list_kind.value,
        "match": entry.match_kind.value,
        "value": entry.display,
        "note": entry.note,
    }


def list_entries() -> dict[ListKind, list[ThrottleListEntry]]:
    entries = db.session.scalars(
        sa.select(ThrottleListEntry).order_by(
            ThrottleListEntry.created_at.desc(), ThrottleListEntry.id.desc()
        )
    )
    grouped: dict[ListKind, list[ThrottleListEntry]] = {ListKind.SAFE: [], ListKind.BLOCK: []}
    for entry in entries:
        grouped[entry.list_kind].append(entry)
    return grouped


# --- defaults and housekeeping -------------------------------------------------------------

DEFAULT_POLICIES: tuple[PolicyData, ...] = (
    PolicyData(
        N_("OTP starts per phone"),
        ThrottleMode.ENFORCE,
        KeyKind.PHONE,
        [ThrottleAction.OTP_START],
        [WindowData(3, 600), WindowData(5, 3600)],
        N_("Telnyx guidance: 3 per 10 minutes and 5 per hour per number."),
    ),
    PolicyData(
        N_("OTP starts per IP"),
        ThrottleMode.ENFORCE,
        KeyKind.IP,
        [ThrottleAction.OTP_START],
        [WindowData(10, 3600)],
        N_("10 per hour per client IP."),
    ),
    PolicyData(
        N_("Failed OTP checks per phone"),
        ThrottleMode.ENFORCE,
        KeyKind.PHONE,
        [ThrottleAction.OTP_CHECK_FAILURE],
        [WindowData(10, 3600)],
        N_("Wrong codes per number across verifications."),
    ),
    PolicyData(
        N_("Failed OTP checks per IP"),
        ThrottleMode.ENFORCE,
        KeyKind.IP,
        [ThrottleAction.OTP_CHECK_FAILURE],
        [WindowData(50, 3600)],
        N_("Wrong codes per client IP across numbers."),
    ),
    PolicyData(
        N_("Global daily cap"),
        ThrottleMode.ENFORCE,
        KeyKind.GLOBAL,
        [ThrottleAction.OTP_START, ThrottleAction.API_SEND],
        [WindowData(10_000, 86400)],
        N_("Circuit breaker against SMS pumping: all OTP starts and API sends per day."),
    ),
)

#: The default policies' names and descriptions: shown translated until an operator changes them.
SEEDED = SeededTexts(text for spec in DEFAULT_POLICIES for text in (spec.name, spec.description))


def ensure_default_policies() -> list[ThrottlePolicy]:
    """Create the default policies on a database that has none (idempotent; caller commits)."""
    if db.session.scalar(sa.select(sa.func.count()).select_from(ThrottlePolicy)):
        return []
    return [
        create_policy(
            PolicyData(
                **{
                    **spec.__dict__,
                    "actions": [str(a) for a in spec.actions],
                    "windows": list(spec.windows),
                }
            )
        )
        for spec in DEFAULT_POLICIES
    ]


def purge(now: datetime | None = None, *, keep_events: timedelta = timedelta(days=90)) -> None:
    """Drop idle counters and old block-log rows (for the background worker)."""
    now = now or utcnow()
    backend = engine.runtime().backend
    backend.purge(now)  # type: ignore[attr-defined]
    db.session.execute(sa.delete(ThrottleEvent).where(ThrottleEvent.created_at < now - keep_events))
