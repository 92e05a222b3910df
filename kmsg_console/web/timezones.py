"""Times are stored in UTC and shown in the operator's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, has_request_context
from flask_login import current_user


def operator_zone() -> ZoneInfo:
    """The signed-in operator's zone, else the configured default (Asia/Seoul)."""
    name = None
    if has_request_context() and current_user.is_authenticated:
        name = current_user.timezone
    try:
        return ZoneInfo(name or current_app.config["DEFAULT_TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Seoul")


def to_local(moment: datetime | None) -> datetime | None:
    """``moment`` converted to the operator's zone."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(operator_zone())


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """UTC start and end of ``day`` as the operator's calendar sees it."""
    zone = operator_zone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def format_local(moment: datetime | None, with_seconds: bool = True) -> str:
    """Jinja filter: ``2026-11-25 14:03:09 KST``."""
    local = to_local(moment)
    if local is None:
        return "—"
    pattern = "%Y-%m-%d %H:%M:%S %Z" if with_seconds else "%Y-%m-%d %H:%M %Z"
    return local.strftime(pattern)
