"""Geometry of the small conversion chart (started vs approved per day), drawn as inline SVG.

Kept as plain numbers so the template only places shapes: no chart library, no script, and
nothing the content security policy would refuse.
"""

from __future__ import annotations

from dataclasses import dataclass

from kmsg_console.otp.queries import Conversion
from kmsg_console.web.charts import nice_max

WIDTH = 420
HEIGHT = 170
TOP = 22  # room for the rate labels above the bars
BOTTOM = 20  # room for the day labels
LEFT = 30  # room for the scale
BAR_GAP = 3


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int


@dataclass(frozen=True)
class Column:
    label: str
    center: float
    started: Bar
    approved: Bar
    rate: float | None


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    baseline: float
    top: int
    scale_max: int
    columns: list[Column]


def conversion_chart(conversion: Conversion) -> Chart:
    scale_max = nice_max(max([t.started for t in conversion.per_day] + [1]))
    baseline = HEIGHT - BOTTOM
    plot_height = baseline - TOP
    slot = (WIDTH - LEFT) / max(1, len(conversion.days))
    bar_width = min(20.0, (slot - 4 * BAR_GAP) / 2)
    columns = []
    for index, (day, tally) in enumerate(zip(conversion.days, conversion.per_day, strict=True)):
        center = LEFT + slot * index + slot / 2

        def bar(value: int, x: float) -> Bar:
            height = plot_height * value / scale_max
            return Bar(
                round(x, 1),
                round(baseline - height, 1),
                round(bar_width, 1),
                round(height, 1),
                value,
            )

        columns.append(
            Column(
                day.strftime("%m-%d"),
                round(center, 1),
                bar(tally.started, center - bar_width - BAR_GAP / 2),
                bar(tally.approved, center + BAR_GAP / 2),
                tally.rate,
            )
        )
    return Chart(WIDTH, HEIGHT, LEFT, baseline, TOP, scale_max, columns)
