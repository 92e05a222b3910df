"""The dashboard's figures: sends and outcomes today and over seven days, failures by code,
provider health and latency, OTP conversion.

Every figure is one grouped query over an indexed time range (``created_at`` of the send
log), so the page costs the same on a table of millions of rows as on an empty one: only the
last seven days are read. Days are the operator's calendar days, computed as UTC boundaries
(see ``send_logs.report.buckets``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from kmsg_console.extensions import db
from kmsg_console.orm import utcnow
from kmsg_console.otp import queries as otp_queries
from kmsg_console.providers.models import Provider
from kmsg_console.send_logs.report import Bucket, buckets
from kmsg_console.sending.models import MessageAttempt, MessageLog, MessageStatus

#: Statuses that mean a provider took the message (delivery may still be pending).
ACCEPTED = (MessageStatus.PENDING.value, MessageStatus.SENT.value, MessageStatus.DELIVERED.value)
TOP_ERROR_CODES = 6
#: Provider latency and failure share are read over this recent window.
PROVIDER_WINDOW = timedelta(hours=24)


@dataclass
class Totals:
    """Messages by status over a span, and the share a provider accepted."""

    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    def count(self, *statuses: str) -> int:
        return sum(self.by_status.get(s, 0) for s in statuses)

    @property
    def accepted(self) -> int:
        return self.count(*ACCEPTED)

    @property
    def failed(self) -> int:
        return self.count(MessageStatus.FAILED.value)

    @property
    def unknown(self) -> int:
        return self.count(MessageStatus.UNKNOWN.value)

    @property
    def success_rate(self) -> float | None:
        """Accepted / all messages, or None when nothing was sent."""
        return self.accepted / self.total if self.total else None

    def add(self, status: str, n: int) -> None:
        self.by_status[status] = self.by_status.get(status, 0) + n


@dataclass(frozen=True)
class ErrorCount:
    error_code: str
    count: int


@dataclass
class ProviderRow:
    provider: Provider
    attempts: int = 0
    failed: int = 0
    unknown: int = 0
    median_ms: int | None = None
    p95_ms: int | None = None

    @property
    def failure_rate(self) -> float | None:
        return (self.failed + self.unknown) / self.attempts if self.attempts else None


@dataclass
class Overview:
    days: list[Bucket]
    per_day: list[Totals]
    week: Totals
    top_errors: list[ErrorCount]
    providers: list[ProviderRow]
    provider_since: datetime
    otp: otp_queries.Conversion

    @property
    def today(self) -> Totals:
        return self.per_day[-1]

    @property
    def since(self) -> datetime:
        return self.days[0].start

    @property
    def until(self) -> datetime:
        return self.days[-1].end


def _per_day(days: list[Bucket]) -> list[Totals]:
    """Messages per local day and status, in one grouped query."""
    day = sa.case(
        *((MessageLog.created_at < b.end, i) for i, b in enumerate(days[:-1])), else_=len(days) - 1
    )
    # Grouped over a subquery: PostgreSQL does not match a CASE of bound parameters in the
    # SELECT list with the same CASE in GROUP BY.
    rows = (
        sa.select(day.label("day"), MessageLog.status)
        .where(MessageLog.created_at >= days[0].start, MessageLog.created_at < days[-1].end)
        .subquery()
    )
    per_day = [Totals() for _ in days]
    for index, status, n in db.session.execute(
        sa.select(rows.c.day, rows.c.status, sa.func.count()).group_by(rows.c.day, rows.c.status)
    ):
        per_day[index].add(status, n)
    return per_day


def _top_errors(since: datetime, until: datetime) -> list[ErrorCount]:
    n = sa.func.count().label("n")
    query = (
        sa.select(MessageLog.error_code, n)
        .where(
            MessageLog.status == MessageStatus.FAILED.value,
            MessageLog.created_at >= since,
            MessageLog.created_at < until,
        )
        .group_by(MessageLog.error_code)
        .order_by(n.desc(), MessageLog.error_code)
        .limit(TOP_ERROR_CODES)
    )
    return [ErrorCount(code or "—", count) for code, count in db.session.execute(query)]


def _recent_attempts(since: datetime) -> sa.Select:
    # Attempts of the messages created in the window: the join starts from the send log's
    # time index and follows the attempts' message_id index, never scanning all attempts.
    return (
        sa.select(MessageAttempt.provider_code, MessageAttempt.outcome, MessageAttempt.latency_ms)
        .join(MessageLog, MessageLog.id == MessageAttempt.message_id)
        .where(MessageLog.created_at >= since)
    )


def _percentile(recent: sa.Subquery, provider_code: str, count: int, share: float) -> int | None:
    """The latency at ``share`` (0.5, 0.95) of a provider's timed attempts (nearest rank)."""
    if count <= 0:
        return None
    offset = min(count - 1, max(0, math.ceil(share * count) - 1))
    return db.session.scalar(
        sa.select(recent.c.latency_ms)
        .where(recent.c.provider_code == provider_code, recent.c.latency_ms.is_not(None))
        .order_by(recent.c.latency_ms)
        .offset(offset)
        .limit(1)
    )


def _providers(since: datetime) -> list[ProviderRow]:
    recent = _recent_attempts(since).subquery()
    stats = {
        code: (attempts, failed or 0, unknown or 0, timed or 0)
        for code, attempts, failed, unknown, timed in db.session.execute(
            sa.select(
                recent.c.provider_code,
                sa.func.count(),
                sa.func.sum(sa.case((recent.c.outcome == "failed", 1), else_=0)),
                sa.func.sum(sa.case((recent.c.outcome.in_(("unknown", "in_flight")), 1), else_=0)),
                sa.func.count(recent.c.latency_ms),
            ).group_by(recent.c.provider_code)
        )
    }
    rows = []
    providers = db.session.scalars(
        sa.select(Provider).order_by(Provider.enabled.desc(), Provider.code)
    )
    for provider in providers:
        attempts, failed, unknown, timed = stats.get(provider.code, (0, 0, 0, 0))
        rows.append(
            ProviderRow(
                provider,
                attempts,
                failed,
                unknown,
                _percentile(recent, provider.code, timed, 0.5),
                _percentile(recent, provider.code, timed, 0.95),
            )
        )
    return rows


def overview(now: datetime | None = None) -> Overview:
    """Everything the dashboard shows, for the seven local days ending today."""
    now = now or utcnow()
    days = buckets("7d", now)
    per_day = _per_day(days)
    week = Totals()
    for totals in per_day:
        for status, n in totals.by_status.items():
            week.add(status, n)
    provider_since = now - PROVIDER_WINDOW
    return Overview(
        days=days,
        per_day=per_day,
        week=week,
        top_errors=_top_errors(days[0].start, days[-1].end),
        providers=_providers(provider_since),
        provider_since=provider_since,
        otp=otp_queries.conversion(7, now),
    )
