"""Geometry of the dashboard's sends-per-day chart: one stacked bar per day (accepted,
outcome unknown, failed), drawn by the template as inline SVG — no chart library, no script.
"""

from __future__ import annotations

from dataclasses import dataclass

from kmsg_console.dashboard.services import Totals
from kmsg_console.send_logs.report import Bucket
from kmsg_console.web.charts import nice_max

WIDTH = 560
HEIGHT = 190
TOP = 14
BOTTOM = 22  # room for the day labels
LEFT = 36  # room for the scale
#: Bottom to top; each segment is drawn with the CSS class of its name.
SEGMENTS = ("accepted", "unknown", "failed")


@dataclass(frozen=True)
class Segment:
    kind: str
    y: float
    height: float
    value: int


@dataclass(frozen=True)
class Column:
    label: str
    x: float
    width: float
    center: float
    total: int
    segments: list[Segment]


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    top: int
    baseline: float
    scale_max: int
    columns: list[Column]



def _values(totals: Totals) -> dict[str, int]:
    return {"accepted": totals.accepted, "unknown": totals.unknown, "failed": totals.failed}


def sends_chart(days: list[Bucket], per_day: list[Totals]) -> Chart:
    scale_max = nice_max(max([sum(_values(t).values()) for t in per_day] + [1]))
    baseline = HEIGHT - BOTTOM
    plot = baseline - TOP
    slot = (WIDTH - LEFT) / max(1, len(days))
    width = min(44.0, slot * 0.6)
    columns = []
    for index, (day, totals) in enumerate(zip(days, per_day, strict=True)):
        center = LEFT + slot * index + slot / 2
        y = baseline
        segments = []
        values = _values(totals)
        for kind in SEGMENTS:
            height = plot * values[kind] / scale_max
            y -= height
            if values[kind]:
                segments.append(Segment(kind, round(y, 1), round(height, 1), values[kind]))
        columns.append(
            Column(day.label, round(center - width / 2, 1), round(width, 1), round(center, 1),
                   sum(values.values()), segments)
        )
    return Chart(WIDTH, HEIGHT, LEFT, TOP, baseline, scale_max, columns)
