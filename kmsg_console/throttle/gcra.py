"""GCRA for one decision: judge every counter, then consume all-or-nothing (see engine.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kmsg_console.throttle.core import (
    Plan,
    RuleVerdict,
    Slot,
    ThrottleDecision,
    Window,
    WindowVerdict,
)
from kmsg_console.throttle.models import EventOutcome, KeyKind, ThrottleMode

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC) - EPOCH
#: Smallest emission interval a window may have (1 ms), which bounds rounding of ``P // k``.
MIN_INTERVAL_US = 1000


def to_us(moment: datetime) -> int:
    return (moment - EPOCH) // _ONE_US


def from_us(us: int) -> datetime:
    return EPOCH + us * _ONE_US


@dataclass(frozen=True)
class SlotResult:
    allowed: bool
    retry_us: int
    remaining: int
    new_tat: int
    seen_us: int = 0  # the time the slot was judged at (never earlier than its last one)
    commit: bool = False


def rescale(tat: int, stored_interval: int, interval: int, now_us: int) -> int:
    """Carry a backlog over to an edited window (in requests, not in time)."""
    if tat > now_us and stored_interval and stored_interval != interval:
        return now_us + (tat - now_us) * interval // stored_interval
    return tat


def gcra(
    tat: int, stored_interval: int, window: Window, now_us: int, seen_us: int = 0
) -> SlotResult:
    """One GCRA step for one window (the Redis script mirrors this)."""
    now_us = max(now_us, seen_us)
    interval = window.interval_us
    capacity = window.max_requests * interval
    tat = max(rescale(tat, stored_interval, interval, now_us), now_us)
    new_tat = tat + interval
    if new_tat - now_us <= capacity:
        return SlotResult(True, 0, (now_us + capacity - new_tat) // interval, new_tat, now_us)
    return SlotResult(False, new_tat - capacity - now_us, 0, new_tat, now_us)


def evaluate(plan: Plan, states: dict[str, tuple[int, int, int]], now_us: int) -> list[SlotResult]:
    """Judge every slot; mark which ones to write (all-or-nothing per group)."""
    results = []
    for slot in plan.slots:
        tat, interval, seen = states.get(slot.key, (0, 0, 0))
        results.append(gcra(tat, interval, slot.window, now_us, seen))
    refused_groups = {
        slot.group for slot, result in zip(plan.slots, results, strict=True) if not result.allowed
    }
    if 0 in refused_groups:
        return results
    return [
        SlotResult(
            r.allowed,
            r.retry_us,
            r.remaining,
            r.new_tat,
            r.seen_us,
            commit=slot.group not in refused_groups,
        )
        for slot, r in zip(plan.slots, results, strict=True)
    ]


def _seconds(us: int) -> int:
    return max(1, -(-us // 1_000_000))


def build_decision(plan: Plan, results: list[SlotResult], *, dry_run: bool) -> ThrottleDecision:
    if plan.blocklisted:
        return ThrottleDecision(False, None, [], [], "blocklist", dry_run=dry_run)
    if plan.safelisted:
        return ThrottleDecision(True, None, [], [], None, safelisted=True, dry_run=dry_run)
    per_rule: list[list[tuple[Slot, SlotResult]]] = [[] for _ in plan.rules]
    for slot, result in zip(plan.slots, results, strict=True):
        per_rule[slot.rule].append((slot, result))
    verdicts = []
    for (rule, digest, masked), pairs in zip(plan.rules, per_rule, strict=True):
        refused = [r.retry_us for _s, r in pairs if not r.allowed]
        windows = tuple(
            WindowVerdict(
                s.window.id,
                s.window.max_requests,
                s.window.window_seconds,
                r.allowed,
                r.remaining,
                None if r.allowed else _seconds(r.retry_us),
            )
            for s, r in pairs
        )
        verdicts.append(
            RuleVerdict(
                rule.policy_id,
                rule.name,
                rule.mode.value,
                rule.key_kind.value,
                masked,
                digest,
                not refused,
                _seconds(max(refused)) if refused else None,
                windows,
            )
        )
    blocked = [v for v in verdicts if not v.allowed and v.mode == ThrottleMode.ENFORCE]
    monitored = [v for v in verdicts if not v.allowed and v.mode == ThrottleMode.MONITOR]
    retry = max((v.retry_after_seconds or 0) for v in blocked) if blocked else None
    return ThrottleDecision(
        not blocked,
        retry,
        blocked,
        monitored,
        "rate" if blocked else None,
        rules=verdicts,
        dry_run=dry_run,
        spent=() if dry_run else spent_keys(plan, results),
    )


def spent_keys(plan: Plan, results: list[SlotResult]) -> tuple[str, ...]:
    """The counters a counting decision wrote: the rule the three stores share (``evaluate``,
    the Redis script and ``kmsg_throttle_decide``), worked out again from the answers alone."""
    refused = {slot.group for slot, r in zip(plan.slots, results, strict=True) if not r.allowed}
    if 0 in refused:
        return ()
    return tuple(slot.key for slot in plan.slots if slot.group not in refused)


def event_rows(plan: Plan, decision: ThrottleDecision, now: datetime) -> list[dict[str, Any]]:
    """Rows for the block log: refusals, blocklist hits and monitor-mode "would have blocked"."""
    if decision.dry_run:
        return []
    if plan.blocklisted:
        return [
            dict(
                created_at=now,
                policy_id=None,
                policy_name=None,
                action=plan.action,
                outcome=EventOutcome.BLOCKLISTED,
                key_kind=KeyKind.PHONE.value,
                key_hash=plan.phone_hash,
                key_masked=plan.phone_masked,
                max_requests=None,
                window_seconds=None,
                retry_after_seconds=None,
            )
        ]
    rows = []
    for outcome, verdicts in (
        (EventOutcome.BLOCKED, decision.blocked_by),
        (EventOutcome.MONITORED, decision.monitored),
    ):
        for verdict in verdicts:
            worst = max(
                (w for w in verdict.windows if not w.allowed),
                key=lambda w: w.retry_after_seconds or 0,
            )
            rows.append(
                dict(
                    created_at=now,
                    policy_id=verdict.policy_id,
                    policy_name=verdict.policy_name,
                    action=plan.action,
                    outcome=outcome,
                    key_kind=verdict.key_kind,
                    key_hash=verdict.key_hash,
                    key_masked=verdict.key_masked,
                    max_requests=worst.max_requests,
                    window_seconds=worst.window_seconds,
                    retry_after_seconds=verdict.retry_after_seconds,
                )
            )
    return rows


@dataclass(frozen=True)
class CounterView:
    """A live counter, for the console (masked key, never the raw value)."""

    window_id: int
    key_masked: str
    used: int
    max_requests: int
    window_seconds: int
    next_free_at: datetime
    idle_at: datetime


def counter_view(
    window: Window, masked: str, tat: int, stored_interval: int, now_us: int
) -> CounterView | None:
    interval = window.interval_us
    tat = rescale(tat, stored_interval, interval, now_us)
    if tat <= now_us:
        return None
    used = min(window.max_requests, -(-(tat - now_us) // interval))
    next_free = max(now_us, tat + interval - window.max_requests * interval)
    return CounterView(
        window.id,
        masked,
        used,
        window.max_requests,
        window.window_seconds,
        from_us(next_free),
        from_us(tat),
    )
