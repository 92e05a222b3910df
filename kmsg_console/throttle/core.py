"""The decision model: requests, verdicts, the cached policy set and the request plan.

Pure code (no Flask, no I/O except ``load_policy_set``/``read_version`` on a given connection);
the algorithm is in ``gcra.py`` and the public entry point in ``engine.py``.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sqlalchemy as sa

from kmsg_console.messaging.phone import mask_phone
from kmsg_console.throttle.models import (
    EntryMatch,
    KeyKind,
    ListKind,
    ThrottleAction,
    ThrottleListEntry,
    ThrottleMode,
    ThrottlePolicy,
    ThrottlePolicyVersion,
    ThrottleWindow,
)

if TYPE_CHECKING:
    from kmsg_console.crypto import Keyring

ACTIONS = frozenset(action.value for action in ThrottleAction)


@dataclass(frozen=True)
class ThrottleContext:
    """What is known about a request. ``phone`` is already normalized to domestic digits."""

    phone: str | None = None
    ip: str | None = None
    api_key_id: int | None = None
    purpose: str | None = None
    user_ref: str | None = None


@dataclass(frozen=True)
class WindowVerdict:
    window_id: int
    max_requests: int
    window_seconds: int
    allowed: bool
    #: Requests this window still admits after this one (0 when it refuses).
    remaining: int
    retry_after_seconds: int | None


@dataclass(frozen=True)
class RuleVerdict:
    """How one policy judged the request."""

    policy_id: int
    policy_name: str
    mode: str
    key_kind: str
    key_masked: str
    key_hash: str
    allowed: bool
    retry_after_seconds: int | None
    windows: tuple[WindowVerdict, ...]


@dataclass(frozen=True)
class ThrottleDecision:
    allowed: bool
    retry_after_seconds: int | None
    #: Enforce policies that refused the request.
    blocked_by: list[RuleVerdict]
    #: Monitor policies that would have refused it.
    monitored: list[RuleVerdict]
    reason: str | None  # "blocklist" | "rate" | None
    #: Every policy that applied, allowing or not (the console's tester shows them all).
    rules: list[RuleVerdict] = field(default_factory=list)
    safelisted: bool = False
    dry_run: bool = False
    #: Counters this decision counted on (slot keys), for ``engine.give_back``.
    spent: tuple[str, ...] = ()


# --- the policy set, cached per process -------------------------------------------------


@dataclass(frozen=True)
class Window:
    id: int
    max_requests: int
    window_seconds: int

    @property
    def interval_us(self) -> int:
        return self.window_seconds * 1_000_000 // self.max_requests


@dataclass(frozen=True)
class Rule:
    policy_id: int
    name: str
    mode: ThrottleMode
    key_kind: KeyKind
    actions: frozenset[str]
    purpose: str | None
    prefix: str | None
    windows: tuple[Window, ...]

    def applies(self, action: str, ctx: ThrottleContext) -> bool:
        if action not in self.actions or not self.windows:
            return False
        if self.purpose and ctx.purpose != self.purpose:
            return False
        if self.prefix and not (ctx.phone and phone_matches(ctx.phone, self.prefix)):
            return False
        return subject_of(self, ctx) is not None


@dataclass(frozen=True)
class PolicySet:
    version: int
    rules: tuple[Rule, ...]
    safe_hashes: frozenset[str] = frozenset()
    safe_prefixes: tuple[str, ...] = ()
    block_hashes: frozenset[str] = frozenset()
    block_prefixes: tuple[str, ...] = ()


def load_policy_set(conn: sa.Connection, version: int) -> PolicySet:
    """Read the enabled policies, their windows and the number lists (plain Core, any conn)."""
    p, w, e = ThrottlePolicy.__table__, ThrottleWindow.__table__, ThrottleListEntry.__table__
    windows: dict[int, list[Window]] = {}
    for row in conn.execute(
        sa.select(w.c.id, w.c.policy_id, w.c.max_requests, w.c.window_seconds).order_by(
            w.c.window_seconds
        )
    ):
        windows.setdefault(row.policy_id, []).append(
            Window(row.id, row.max_requests, row.window_seconds)
        )
    rules = tuple(
        Rule(
            row.id,
            row.name,
            ThrottleMode(row.mode),
            KeyKind(row.key_kind),
            frozenset(row.actions or ()),
            row.purpose,
            row.prefix,
            tuple(windows.get(row.id, ())),
        )
        for row in conn.execute(sa.select(p).where(p.c.enabled.is_(True)).order_by(p.c.id))
    )
    lists: dict[tuple[ListKind, EntryMatch], list[str]] = {}
    for row in conn.execute(sa.select(e.c.list_kind, e.c.match_kind, e.c.value_key)):
        lists.setdefault((ListKind(row.list_kind), EntryMatch(row.match_kind)), []).append(
            row.value_key
        )
    return PolicySet(
        version=version,
        rules=rules,
        safe_hashes=frozenset(lists.get((ListKind.SAFE, EntryMatch.NUMBER), ())),
        safe_prefixes=tuple(lists.get((ListKind.SAFE, EntryMatch.PREFIX), ())),
        block_hashes=frozenset(lists.get((ListKind.BLOCK, EntryMatch.NUMBER), ())),
        block_prefixes=tuple(lists.get((ListKind.BLOCK, EntryMatch.PREFIX), ())),
    )


VERSION_QUERY = sa.select(ThrottlePolicyVersion.__table__.c.version).where(
    ThrottlePolicyVersion.__table__.c.id == 1
)


def read_version(conn: sa.Connection) -> int:
    return conn.execute(VERSION_QUERY).scalar() or 0


# --- keys, masks and matching -----------------------------------------------------------


def phone_matches(phone: str, prefix: str) -> bool:
    """Does ``phone`` (domestic digits, or ``+`` and digits) start with ``prefix``?

    A prefix with ``+`` is compared with the E.164 form (``+82 10...`` for Korean numbers),
    one without with the domestic digits (``010...``).
    """
    if phone.startswith("+"):
        e164 = phone
        domestic = "0" + phone[3:] if phone.startswith("+82") else ""
    else:
        domestic = phone
        e164 = "+82" + phone.removeprefix("0")
    if prefix.startswith("+"):
        return e164.startswith(prefix)
    return bool(domestic) and domestic.startswith(prefix)


#: The start of every domestic number a throttle decision sees: only mobile numbers reach it
#: (``normalize_recipient``), ``010`` + 8 digits or ``011``/``016``-``019`` + 7 or 8.
_MOBILE_START = re.compile(r"0(1([016789][0-9]{0,8})?)?")


def prefix_can_match(prefix: str) -> bool:
    """Can any number :func:`phone_matches` sees start with ``prefix`` (``+`` and digits)?

    Without ``+`` a prefix is compared with domestic mobile digits, so ``10`` (the E.164 form
    without its ``+82``) or a landline's ``02`` would silently match nothing.
    """
    if not prefix.startswith("+"):
        return bool(_MOBILE_START.fullmatch(prefix))
    digits = prefix[1:]
    if digits.startswith("82"):
        return bool(_MOBILE_START.fullmatch("0" + digits[2:]))
    return digits[:1] not in ("", "0")  # no country code starts with 0


def subject_of(rule: Rule, ctx: ThrottleContext) -> str | None:
    """The value ``rule`` counts by for this request, or None when the request lacks it."""
    kind = rule.key_kind
    if kind is KeyKind.PHONE:
        return ctx.phone or None
    if kind is KeyKind.IP:
        return ctx.ip or None
    if kind is KeyKind.API_KEY:
        return None if ctx.api_key_id is None else str(ctx.api_key_id)
    if kind is KeyKind.PURPOSE:
        return ctx.purpose or None
    if kind is KeyKind.USER:
        return ctx.user_ref or None
    if kind is KeyKind.PREFIX:
        return rule.prefix or None
    return "*"


def mask_ip(value: str) -> str:
    """``203.0.113.7`` → ``203.0.113.*``; IPv6 keeps its /48."""
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return "*"
    if address.version == 4:
        return ".".join(str(address).split(".")[:3]) + ".*"
    groups = address.exploded.split(":")[:3]
    return ":".join(g.lstrip("0") or "0" for g in groups) + ":*"


def mask_subject(kind: KeyKind, value: str) -> str:
    if kind is KeyKind.PHONE:
        return mask_phone(value) if not value.startswith("+") else "+" + mask_phone(value[1:])
    if kind is KeyKind.IP:
        return mask_ip(value)
    if kind is KeyKind.API_KEY:
        return f"#{value}"
    if kind is KeyKind.USER:
        return (value[:2] + "***") if len(value) > 4 else "***"
    if kind is KeyKind.GLOBAL:
        return "*"
    return value[:64]


class Hasher:
    """Keyed hashes and masked forms of counted values, memoised for the length of one decision.

    Several rules count by the same value (the phone for the lists and for each phone rule),
    and a decision should pay for each hash and mask once.
    """

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring
        self.memo: dict[tuple[str, str], str] = {}
        self.masks: dict[tuple[KeyKind, str], str] = {}

    def __call__(self, kind: KeyKind | str, value: str) -> str:
        key = (str(kind), value)
        digest = self.memo.get(key)
        if digest is None:
            digest = self.memo[key] = self.keyring.lookup_hash(value, f"throttle:{key[0]}")
        return digest

    def mask(self, kind: KeyKind, value: str) -> str:
        key = (kind, value)
        masked = self.masks.get(key)
        if masked is None:
            masked = self.masks[key] = mask_subject(kind, value)
        return masked


# --- planning and evaluation (pure) -----------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """One counter a decision touches: a window of a rule for one key."""

    key: str
    rule: int  # index into Plan.rules
    window: Window
    group: int  # 0 for enforce rules, 1 + rule index for a monitor rule
    masked: str


@dataclass
class Plan:
    version: int
    action: str
    rules: list[tuple[Rule, str, str]]  # (rule, key hash, masked key)
    slots: list[Slot]
    blocklisted: bool = False
    safelisted: bool = False
    phone_hash: str = ""
    phone_masked: str = ""


def _listed(phone: str, digest: str, hashes: frozenset[str], prefixes: tuple[str, ...]) -> bool:
    return digest in hashes or any(phone_matches(phone, prefix) for prefix in prefixes)


def plan_request(policies: PolicySet, action: str, ctx: ThrottleContext, hasher: Hasher) -> Plan:
    """The counters a request touches, after the block and safe lists."""
    plan = Plan(version=policies.version, action=action, rules=[], slots=[])
    if ctx.phone:
        plan.phone_hash = hasher(KeyKind.PHONE, ctx.phone)
        plan.phone_masked = hasher.mask(KeyKind.PHONE, ctx.phone)
        if _listed(ctx.phone, plan.phone_hash, policies.block_hashes, policies.block_prefixes):
            plan.blocklisted = True
            return plan
        if _listed(ctx.phone, plan.phone_hash, policies.safe_hashes, policies.safe_prefixes):
            plan.safelisted = True
            return plan
    for rule in policies.rules:
        if not rule.applies(action, ctx):
            continue
        subject = subject_of(rule, ctx)
        assert subject is not None
        digest = hasher(rule.key_kind, subject)
        masked = hasher.mask(rule.key_kind, subject)
        index = len(plan.rules)
        plan.rules.append((rule, digest, masked))
        group = 0 if rule.mode is ThrottleMode.ENFORCE else index + 1
        for window in rule.windows:
            plan.slots.append(Slot(f"{window.id}:{digest[:32]}", index, window, group, masked))
    return plan
