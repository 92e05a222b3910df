"""The dashboard's messages-per-day chart: accepted, outcome unknown and failed, stacked."""

from __future__ import annotations

from kmsg_console.dashboard.services import Totals
from kmsg_console.send_logs.report import Bucket
from kmsg_console.web.charts import BarChart, stacked_bars

KINDS = ("accepted", "unknown", "failed")


def sends_chart(days: list[Bucket], per_day: list[Totals]) -> BarChart:
    values = [{"accepted": t.accepted, "unknown": t.unknown, "failed": t.failed} for t in per_day]
    return stacked_bars([day.label for day in days], values, KINDS)
