"""The failure report: failed messages grouped by error code and provider over time.

Buckets follow the operator's calendar (local hours or local days), computed here as UTC
boundaries so the database only compares timestamps. The bucket of a row is a ``CASE`` over
those boundaries, which every backend runs the same way and which stays correct across
daylight-saving changes. Only ``FAILED`` messages are counted (a final, proven failure);
``UNKNOWN`` ones appear in the status totals. A failed AlimTalk whose SMS/LMS fallback the
console sent (and the vendor took) reached its recipient: it is "delivered by fallback", not
a failure, and keeps rows of its own so that AlimTalk failing stays in view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from kmsg_console.extensions import db
from kmsg_console.messaging.types import MessageType
from kmsg_console.messaging.vendor_codes import Explanation
from kmsg_console.orm import utcnow
from kmsg_console.send_logs import services
from kmsg_console.sending.models import MessageLog, MessageStatus
from kmsg_console.web.charts import BarChart, stacked_bars
from kmsg_console.web.timezones import operator_zone

#: period -> (bucket width, number of buckets)
PERIODS: dict[str, tuple[str, int]] = {"24h": ("hour", 24), "7d": ("day", 7), "30d": ("day", 30)}
DEFAULT_PERIOD = "24h"
TOP_VENDOR_CODES = 20


@dataclass(frozen=True)
class Bucket:
    start: datetime  # UTC
    end: datetime  # UTC, exclusive
    label: str  # in the operator's zone


@dataclass
class FailureRow:
    """Failed messages of one (error code, vendor code, provider) group, per bucket."""

    error_code: str | None
    vendor_code: str | None
    provider: str | None
    counts: list[int]
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    #: All messages of this provider in the period (the traffic the failures are a share of).
    provider_total: int = 0
    #: AlimTalks delivered by their SMS/LMS fallback: not failures, shown apart.
    fallback: bool = False
    #: The send log's ``fallback`` filter that picks exactly this row's messages, when the
    #: other filters alone would also pick those of its twin row (same codes and provider).
    fallback_filter: str | None = None

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def share(self) -> float | None:
        """This group's failures as a share of its provider's messages in the period."""
        return self.total / self.provider_total if self.provider_total else None

    def seen(self, at_min: datetime, at_max: datetime) -> None:
        self.first_seen = at_min if self.first_seen is None else min(self.first_seen, at_min)
        self.last_seen = at_max if self.last_seen is None else max(self.last_seen, at_max)


@dataclass(frozen=True)
class VendorCodeRow:
    provider: str | None
    type: str
    vendor_code: str
    error_code: str | None
    count: int
    explanation: Explanation | None


@dataclass
class FailureReport:
    period: str
    buckets: list[Bucket]
    status_counts: dict[str, int]
    rows: list[FailureRow] = field(default_factory=list)
    vendor_codes: list[VendorCodeRow] = field(default_factory=list)

    @cached_property
    def fallback_delivered(self) -> int:
        """Failed AlimTalks delivered by the SMS/LMS fallback the console sent."""
        return sum(row.total for row in self.rows if row.fallback)

    @property
    def failed(self) -> int:
        """Failed messages, without the AlimTalks their fallback delivered."""
        return self.status_counts.get(MessageStatus.FAILED.value, 0) - self.fallback_delivered

    @property
    def since(self) -> datetime:
        return self.buckets[0].start

    @property
    def until(self) -> datetime:
        return self.buckets[-1].end

    # Cached: the grid asks for these once per cell, and each is a pass over every cell
    # (rows x buckets), which made a 30-day report quadratic. A report is built once and
    # only read afterwards.
    @cached_property
    def max_count(self) -> int:
        return max((c for row in self.rows for c in row.counts), default=0)

    @cached_property
    def column_totals(self) -> list[int]:
        """Failures per bucket (fallback deliveries are not failures)."""
        return self._per_bucket(fallback=False)

    @cached_property
    def fallback_totals(self) -> list[int]:
        return self._per_bucket(fallback=True)

    def _per_bucket(self, *, fallback: bool) -> list[int]:
        rows = [row for row in self.rows if row.fallback is fallback]
        return [sum(row.counts[i] for row in rows) for i in range(len(self.buckets))]

    @property
    def total_messages(self) -> int:
        return sum(self.status_counts.values())

    @property
    def failure_share(self) -> float | None:
        """Failed messages as a share of all messages in the period."""
        return self.failed / self.total_messages if self.total_messages else None


def buckets(period: str, now: datetime | None = None) -> list[Bucket]:
    """The period's buckets, oldest first, the last one holding ``now``."""
    unit, count = PERIODS[period]
    zone = operator_zone()
    local_now = (now or utcnow()).astimezone(zone)
    if unit == "hour":
        # Step in UTC from the current local hour: each bucket is one real hour even when
        # the wall clock jumps.
        top = local_now.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
        starts = [top - timedelta(hours=n) for n in range(count - 1, -1, -1)]
        edges = starts + [top + timedelta(hours=1)]
        return [
            Bucket(a, b, a.astimezone(zone).strftime("%H:%M"))
            for a, b in zip(edges, edges[1:], strict=False)
        ]
    days = [local_now.date() - timedelta(days=n) for n in range(count - 1, -1, -1)]
    days.append(local_now.date() + timedelta(days=1))
    edges = [datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC) for day in days]
    return [
        Bucket(a, b, day.strftime("%m-%d"))
        for a, b, day in zip(edges, edges[1:], days, strict=False)
    ]


def _in_period(
    query: sa.Select[Any], spans: list[Bucket], message_type: str | None
) -> sa.Select[Any]:
    query = query.where(
        MessageLog.created_at >= spans[0].start, MessageLog.created_at < spans[-1].end
    )
    return query.where(MessageLog.type == message_type) if message_type else query


def _period_totals(
    spans: list[Bucket], message_type: str | None
) -> tuple[dict[str, int], dict[str | None, int]]:
    """Messages in the period per status and per provider."""
    status_counts: dict[str, int] = {}
    provider_totals: dict[str | None, int] = {}
    if db.session.get_bind().dialect.name == "sqlite" and not message_type:
        # SQLite has no hash aggregate: grouping ~80,000 rows of a 30-day period by status
        # and provider sorted them all (~30 ms). Two counts that each walk an index led by
        # their group column (status, provider) and range-scan the period within every value
        # need no sort (~13 ms). With a type filter the provider index lacks the type and the
        # single grouped query is the faster one; PostgreSQL hashes, and one pass wins there.
        by_status = _in_period(
            sa.select(sa.literal("s"), MessageLog.status, sa.func.count()).group_by(
                MessageLog.status
            ),
            spans,
            None,
        )
        by_provider = _in_period(
            sa.select(sa.literal("p"), MessageLog.provider_code, sa.func.count()).group_by(
                MessageLog.provider_code
            ),
            spans,
            None,
        )
        for kind, value, n in db.session.execute(sa.union_all(by_status, by_provider)):
            if kind == "s":
                status_counts[value] = n
            else:
                provider_totals[value] = n
        return status_counts, provider_totals
    for status, provider, n in db.session.execute(
        _in_period(
            sa.select(MessageLog.status, MessageLog.provider_code, sa.func.count()).group_by(
                MessageLog.status, MessageLog.provider_code
            ),
            spans,
            message_type,
        )
    ):
        status_counts[status] = status_counts.get(status, 0) + n
        provider_totals[provider] = provider_totals.get(provider, 0) + n
    return status_counts, provider_totals


def failure_report(
    period: str = DEFAULT_PERIOD, *, message_type: str | None = None, now: datetime | None = None
) -> FailureReport:
    """Status totals, failed messages per (error code, provider) per bucket, top vendor codes."""
    spans = buckets(period, now)
    status_counts, provider_totals = _period_totals(spans, message_type)

    failed = MessageLog.status == MessageStatus.FAILED.value
    bucket = sa.case(
        *((MessageLog.created_at < b.end, i) for i, b in enumerate(spans[:-1])),
        else_=len(spans) - 1,
    )
    fallback = aliased(MessageLog)
    # Only AlimTalks have fallbacks: every other failed row skips the probe.
    delivered_by_fallback = sa.and_(
        MessageLog.type == MessageType.ALIMTALK.value,
        sa.exists().where(
            fallback.fallback_of_id == MessageLog.id,
            fallback.status.in_(services.FALLBACK_DELIVERED),
        ),
    )
    # Group over a subquery: PostgreSQL cannot match a CASE full of bound parameters in
    # SELECT with the "same" CASE in GROUP BY.
    inner = _in_period(
        sa.select(
            MessageLog.error_code,
            MessageLog.vendor_code,
            MessageLog.provider_code,
            MessageLog.created_at,
            bucket.label("bucket"),
            sa.case((delivered_by_fallback, True), else_=False).label("fallback"),
        ).where(failed),
        spans,
        message_type,
    ).subquery()
    grid: dict[tuple[str | None, str | None, str | None, bool], FailureRow] = {}
    group = (inner.c.error_code, inner.c.vendor_code, inner.c.provider_code, inner.c.fallback)
    for error_code, vendor_code, provider, rescued, index, n, first, last in db.session.execute(
        sa.select(
            *group,
            inner.c.bucket,
            sa.func.count(),
            sa.func.min(inner.c.created_at),
            sa.func.max(inner.c.created_at),
        ).group_by(*group, inner.c.bucket)
    ):
        row = grid.setdefault(
            (error_code, vendor_code, provider, bool(rescued)),
            FailureRow(
                error_code,
                vendor_code,
                provider,
                [0] * len(spans),
                provider_total=provider_totals.get(provider, 0),
                fallback=bool(rescued),
            ),
        )
        row.counts[index] += n
        row.seen(first, last)
    for (error_code, vendor_code, provider, rescued), row in grid.items():
        if rescued:
            row.fallback_filter = "delivered"
        elif (error_code, vendor_code, provider, True) in grid:
            row.fallback_filter = "none"

    vendors = services.provider_vendors()
    top = db.session.execute(
        _in_period(
            sa.select(
                MessageLog.provider_code,
                MessageLog.type,
                MessageLog.vendor_code,
                MessageLog.error_code,
                sa.func.count().label("n"),
            )
            # The vendor codes of failures: an AlimTalk its fallback delivered is none.
            .where(failed, MessageLog.vendor_code.is_not(None), ~delivered_by_fallback)
            .group_by(
                MessageLog.provider_code,
                MessageLog.type,
                MessageLog.vendor_code,
                MessageLog.error_code,
            )
            .order_by(sa.desc("n"), MessageLog.provider_code, MessageLog.vendor_code)
            .limit(TOP_VENDOR_CODES),
            spans,
            message_type,
        )
    )
    vendor_codes = [
        VendorCodeRow(p, t, v, e, n, services.explain_vendor_code(vendors, p, v, t))
        for p, t, v, e, n in top
    ]
    rows = sorted(
        grid.values(),
        key=lambda r: (
            r.fallback,
            -r.total,
            r.error_code or "",
            r.vendor_code or "",
            r.provider or "",
        ),
    )
    return FailureReport(period, spans, status_counts, rows, vendor_codes)


@dataclass(frozen=True)
class GridLinks:
    """The query-string tails of the report's links: the whole period and each bucket.

    A 30-day grid links thousands of cells to the send log. Building each with ``url_for``
    was a third of the page's time, and every cell of a row shares its filters and every
    cell of a column its time range, so the page builds one link per row (``url_for``) and
    appends one of these to it.
    """

    period: str
    buckets: list[str]


def grid_links(report: FailureReport) -> GridLinks:
    def tail(start: datetime, end: datetime) -> str:
        return urlencode(
            {"since": services.local_input_value(start), "until": services.local_input_value(end)}
        )

    return GridLinks(
        tail(report.since, report.until), [tail(b.start, b.end) for b in report.buckets]
    )


def failure_chart(report: FailureReport) -> BarChart:
    """Failed messages per bucket, as a bar chart (and the fallback deliveries, if any)."""
    kinds = ("failed", "fallback") if report.fallback_delivered else ("failed",)
    return stacked_bars(
        [b.label for b in report.buckets],
        [
            {"failed": failed, "fallback": rescued}
            for failed, rescued in zip(report.column_totals, report.fallback_totals, strict=True)
        ],
        kinds,
        width=1100,
    )


def heat_level(count: int, maximum: int) -> int:
    """0-4: how dark a grid cell is drawn (0 only for an empty cell)."""
    if count <= 0 or maximum <= 0:
        return 0
    return min(4, 1 + (4 * count - 1) // maximum)
