"""Checking the alert thresholds and announcing each crossing once.

Every alert keeps a row in ``alert_state``. A check computes the level the figures call for
and moves the row there with a conditional UPDATE (``WHERE level = <what was read>``): the
process whose UPDATE matched writes the event, in the same transaction, so two workers (or a
worker and a dashboard view) never announce the same crossing twice, and a rolled-back check
announces nothing.

Settings (console-wide, in the settings store, audited): the failure-rate threshold, its
window and minimum volume, and the daily and monthly volume caps. A provider's balance
threshold is a column of the provider. Volume caps warn only: sending goes on at 100 %.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from kmsg_console.alerts.models import AlertState
from kmsg_console.events.outbox import new_event
from kmsg_console.events.types import EventType
from kmsg_console.extensions import db
from kmsg_console.providers.models import Provider
from kmsg_console.sending.models import MessageLog, MessageStatus
from kmsg_console.settings import services as settings
from kmsg_console.worker import tracking
from kmsg_console.worker.health import STALE_AFTER
from kmsg_console.worker.models import WorkerJob

logger = logging.getLogger(__name__)

KST = timezone(timedelta(hours=9), "KST")

#: Statuses counted as sent: a provider took the message.
SENT = (MessageStatus.PENDING.value, MessageStatus.SENT.value, MessageStatus.DELIVERED.value)
FAILED = MessageStatus.FAILED.value

FAILURE_PERCENT = "alerts.failure_rate_percent"
FAILURE_WINDOW = "alerts.failure_window_minutes"
FAILURE_MIN = "alerts.failure_min_messages"
DAILY_CAP = "alerts.daily_volume_cap"
MONTHLY_CAP = "alerts.monthly_volume_cap"
DEFAULTS: dict[str, int | None] = {
    FAILURE_PERCENT: None,
    FAILURE_WINDOW: 15,
    FAILURE_MIN: 20,
    DAILY_CAP: None,
    MONTHLY_CAP: None,
}
#: Warnings of a volume cap, in percent of the cap.
CAP_LEVELS = (70, 100)


@dataclass(frozen=True)
class AlertSettings:
    failure_rate_percent: int | None
    failure_window_minutes: int
    failure_min_messages: int
    daily_volume_cap: int | None
    monthly_volume_cap: int | None


def current_settings() -> AlertSettings:
    value = {key: settings.get(key, default) for key, default in DEFAULTS.items()}
    return AlertSettings(
        failure_rate_percent=value[FAILURE_PERCENT],
        failure_window_minutes=value[FAILURE_WINDOW],
        failure_min_messages=value[FAILURE_MIN],
        daily_volume_cap=value[DAILY_CAP],
        monthly_volume_cap=value[MONTHLY_CAP],
    )


def save_settings(new: AlertSettings, *, actor: Any, actor_label: str | None = None) -> bool:
    """Save every setting (each change audited); True when something changed."""
    values = {
        FAILURE_PERCENT: new.failure_rate_percent,
        FAILURE_WINDOW: new.failure_window_minutes,
        FAILURE_MIN: new.failure_min_messages,
        DAILY_CAP: new.daily_volume_cap,
        MONTHLY_CAP: new.monthly_volume_cap,
    }
    changed = False
    for key, value in values.items():
        changed |= settings.put(
            key, value, actor=actor, default=DEFAULTS[key], actor_label=actor_label
        )
    return changed


def set_balance_threshold(
    provider: Provider, amount: int | None, *, actor: Any = None, actor_label: str | None = None
) -> None:
    """Alert when ``provider``'s balance falls below ``amount`` (None: no alert); audited."""
    from kmsg_console.audit.services import record_audit

    before = provider.balance_alert_below
    if before == amount:
        return
    provider.balance_alert_below = amount
    record_audit(
        "provider.update",
        actor=actor,
        actor_label=actor_label,
        target_type="provider",
        target_id=provider.code,
        details={
            "before": {"balance_alert_below": before},
            "after": {"balance_alert_below": amount},
        },
    )


# -- state ------------------------------------------------------------------------------------


def _state(key: str) -> AlertState:
    """The row of ``key`` as stored now (created at level 0 when missing)."""
    query = sa.select(AlertState).where(AlertState.key == key)
    row = db.session.scalar(query.execution_options(populate_existing=True))
    if row is not None:
        return row
    try:
        # A savepoint: when another process created it first, only this insert is undone.
        with db.session.begin_nested():
            db.session.add(AlertState(key=key, level=0))
    except IntegrityError:
        pass
    return db.session.scalar(query.execution_options(populate_existing=True))


def _move(
    key: str,
    level: int,
    now: datetime,
    *,
    period: str | None = None,
    data: dict[str, Any] | None = None,
    only_up: bool = False,
) -> int | None:
    """Move ``key`` to ``level`` (in ``period``); the level it left, or None when it was there
    already or another process moved it first. ``only_up``: never lower it within a period."""
    row = _state(key)
    before = row.level if row.period == period else 0
    if before == level or (only_up and level < before):
        return None
    values: dict[str, Any] = {"level": level, "period": period, "updated_at": now}
    if level > before:
        values.update(since=now, data=data)
    same_period = (
        AlertState.period.is_(None) if row.period is None else AlertState.period == row.period
    )
    result = db.session.execute(
        sa.update(AlertState)
        .where(AlertState.key == key, AlertState.level == row.level, same_period)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return before if result.rowcount == 1 else None


# -- checks -----------------------------------------------------------------------------------


def _count(since: datetime, until: datetime, statuses: tuple[str, ...]) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(MessageLog)
            .where(
                MessageLog.created_at >= since,
                MessageLog.created_at < until,
                MessageLog.status.in_(statuses),
            )
        )
        or 0
    )


def failure_figures(now: datetime, config: AlertSettings) -> dict[str, Any]:
    since = now - timedelta(minutes=config.failure_window_minutes)
    failed = _count(since, now + timedelta(seconds=1), (FAILED,))
    total = failed + _count(since, now + timedelta(seconds=1), SENT)
    return {
        "failed": failed,
        "total": total,
        "rate_percent": round(failed * 100 / total, 1) if total else 0.0,
        "threshold_percent": config.failure_rate_percent,
        "window_minutes": config.failure_window_minutes,
        "min_messages": config.failure_min_messages,
        "since": since.isoformat(),
    }


def check_failure_rate(now: datetime, config: AlertSettings) -> list[str]:
    """``alert.failure_rate`` when failed / (sent + failed) over the window reaches the
    threshold with at least the minimum volume; ``alert.failure_rate_resolved`` when not."""
    if config.failure_rate_percent is None:
        _move("failure_rate", 0, now)  # switched off: quiet, without an event
        return []
    figures = failure_figures(now, config)
    high = (
        figures["total"] >= config.failure_min_messages
        and figures["failed"] * 100 >= config.failure_rate_percent * figures["total"]
    )
    before = _move("failure_rate", 1 if high else 0, now, data=figures)
    if before is None:
        return []
    type = EventType.ALERT_FAILURE_RATE if high else EventType.ALERT_FAILURE_RATE_RESOLVED
    db.session.add(new_event(type, figures, at=now))
    return [type.value]


def kst_period(kind: str, now: datetime) -> tuple[str, datetime, datetime]:
    """The KST day or month holding ``now``: its key and its UTC bounds."""
    local = now.astimezone(KST)
    if kind == "day":
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        end = start + timedelta(days=1)
        key = start.strftime("%Y-%m-%d")
    else:
        start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        end = (start + timedelta(days=32)).replace(day=1)
        key = start.strftime("%Y-%m")
    return key, start.astimezone(UTC), end.astimezone(UTC)


def cap_figures(kind: str, cap: int, now: datetime) -> dict[str, Any]:
    key, start, end = kst_period(kind, now)
    sent = _count(start, end, SENT)
    return {
        "period": kind,
        "period_key": key,
        "sent": sent,
        "cap": cap,
        "used_percent": round(sent * 100 / cap, 1),
        "blocks_sending": False,
    }


def cap_level(figures: dict[str, Any]) -> int:
    return max(
        (level for level in CAP_LEVELS if figures["sent"] * 100 >= level * figures["cap"]),
        default=0,
    )


def check_caps(now: datetime, config: AlertSettings) -> list[str]:
    """``alert.volume_cap`` at 70 % and at 100 % of a daily or monthly cap, each once per KST
    period (both when one check passes both)."""
    fired: list[str] = []
    for kind, cap in (("day", config.daily_volume_cap), ("month", config.monthly_volume_cap)):
        if not cap:
            continue
        figures = cap_figures(kind, cap, now)
        level = cap_level(figures)
        before = _move(
            f"cap:{kind}", level, now, period=figures["period_key"], data=figures, only_up=True
        )
        if before is None:
            continue
        for warning in CAP_LEVELS:
            if before < warning <= level:
                db.session.add(
                    new_event(EventType.ALERT_VOLUME_CAP, {**figures, "percent": warning}, at=now)
                )
                fired.append(f"{EventType.ALERT_VOLUME_CAP.value}:{kind}:{warning}")
    return fired


def last_worker_round() -> datetime | None:
    return db.session.scalar(
        sa.select(WorkerJob.last_finished_at).where(WorkerJob.name == "delivery_tracking")
    )


def check_worker(now: datetime) -> list[str]:
    """``worker.stopped`` when delivery polling (run by every worker every few seconds) has
    not finished a round for ``STALE_AFTER``; ``worker.recovered`` when it has again.

    A console whose worker never ran announces nothing (the dashboard says it is not running).
    """
    last = last_worker_round()
    if last is None:
        return []
    stopped = now - last > STALE_AFTER
    data = {"last_run": last.isoformat(), "stale_after_seconds": int(STALE_AFTER.total_seconds())}
    before = _move("worker", 1 if stopped else 0, now, data=data)
    if before is None:
        return []
    type = EventType.WORKER_STOPPED if stopped else EventType.WORKER_RECOVERED
    db.session.add(new_event(type, data, at=now))
    return [type.value]


def check_worker_on_view() -> None:
    """The dashboard's check: a stopped worker cannot announce itself, so the web process
    does, on each dashboard view; a failure here never breaks the page."""
    try:
        check_worker(tracking.clock())
        db.session.commit()
    except Exception:  # noqa: BLE001 - the dashboard still shows the worker's state
        db.session.rollback()
        logger.exception("worker alert check")


def check_balances(now: datetime) -> list[str]:
    """``provider.balance_low`` when an enabled provider's balance is below its threshold,
    once until it is back at or above it. Providers without a balance call are skipped, and
    so is a balance call that fails (the provider's health check says why).

    Commits after each provider, so no write is held open during the next vendor call."""
    from kmsg_console.providers import services as provider_services

    fired: list[str] = []
    for provider in provider_services.all_providers():
        if _check_balance(provider, now):
            fired.append(f"{EventType.PROVIDER_BALANCE_LOW.value}:{provider.code}")
        db.session.commit()
    return fired


def _check_balance(provider: Provider, now: datetime) -> bool:
    from kmsg_console.providers import services as provider_services

    key = f"balance:{provider.code}"
    threshold = provider.balance_alert_below
    if threshold is None or not provider.enabled:
        _move(key, 0, now)  # no alert wanted: quiet, without an event
        return False
    adapter = provider_services.adapter_for(provider)
    if not getattr(adapter, "supports_balance", False):
        return False
    try:
        outcome = adapter.get_balance()
    except Exception:  # noqa: BLE001 - one vendor's failure must not stop the others
        logger.exception("balance of %s", provider.code)
        return False
    if not outcome.ok:
        return False
    amount: Decimal = outcome.value.amount
    low = amount < threshold
    data = {
        "provider": provider.code,
        "vendor": provider.vendor,
        "balance": format(amount.normalize(), "f"),
        "currency": outcome.value.currency,
        "threshold": threshold,
    }
    before = _move(key, 1 if low else 0, now, data=data)
    if before is None or not low:
        return False
    db.session.add(new_event(EventType.PROVIDER_BALANCE_LOW, data, at=now))
    return True


def run_checks(now: datetime | None = None) -> dict[str, Any]:
    """The worker's alert round (failure rate, caps, the worker itself); commits."""
    now = now or tracking.clock()
    config = current_settings()
    fired = check_worker(now) + check_failure_rate(now, config) + check_caps(now, config)
    db.session.commit()
    return {"fired": fired}


def run_balance_checks(now: datetime | None = None) -> dict[str, Any]:
    """The worker's balance round; commits."""
    fired = check_balances(now or tracking.clock())
    db.session.commit()
    return {"fired": fired}


# -- the dashboard ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActiveAlert:
    kind: str  # balance_low, failure_rate, cap, worker_stopped
    since: datetime | None
    data: dict[str, Any]
    provider: Provider | None = None

    def moment(self, key: str) -> datetime:
        """A time in ``data`` (stored as ISO text)."""
        return datetime.fromisoformat(self.data[key])


def active_alerts(now: datetime | None = None) -> list[ActiveAlert]:
    """The alerts raised now: stored ones, caps read live (a raised cap shows at once)."""
    now = now or tracking.clock()
    rows = {
        row.key: row
        for row in db.session.scalars(sa.select(AlertState).where(AlertState.level > 0))
    }
    alerts: list[ActiveAlert] = []
    if "worker" in rows:
        alerts.append(
            ActiveAlert("worker_stopped", rows["worker"].since, rows["worker"].data or {})
        )
    if "failure_rate" in rows:
        row = rows["failure_rate"]
        alerts.append(ActiveAlert("failure_rate", row.since, row.data or {}))
    config = current_settings()
    for kind, cap in (("day", config.daily_volume_cap), ("month", config.monthly_volume_cap)):
        if cap:
            figures = cap_figures(kind, cap, now)
            level = cap_level(figures)
            if level:
                row = rows.get(f"cap:{kind}")
                alerts.append(
                    ActiveAlert("cap", row.since if row else None, {**figures, "percent": level})
                )
    providers = {p.code: p for p in db.session.scalars(sa.select(Provider))}
    for key, row in sorted(rows.items()):
        if key.startswith("balance:"):
            provider = providers.get(key.split(":", 1)[1])
            if provider is not None and provider.balance_alert_below is not None:
                alerts.append(ActiveAlert("balance_low", row.since, row.data or {}, provider))
    return alerts
