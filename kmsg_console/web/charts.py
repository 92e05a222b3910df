"""Geometry of the console's server-drawn SVG bar charts.

Charts are plain numbers computed here; templates only place the shapes (see
``templates/macros/charts.html``), so there is no chart library, no script and nothing the
content security policy would refuse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

WIDTH = 560
HEIGHT = 190
TOP = 14
BOTTOM = 22  # room for the labels under the bars
LEFT = 36  # room for the scale


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
class BarChart:
    width: int
    height: int
    left: int
    top: int
    baseline: float
    scale_max: int
    columns: list[Column]
    kinds: tuple[str, ...]

    @property
    def label_every(self) -> int:
        """Show every n-th label so they never overlap (24 hourly columns: every 3rd)."""
        return max(1, -(-len(self.columns) // 12))


def nice_max(value: int) -> int:
    """A round upper bound for a chart's scale (1, 2, 5, 10, 20, 50, ...)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if value <= step * factor:
                return step * factor
        step *= 10


def stacked_bars(
    labels: Sequence[str],
    values: Sequence[Mapping[str, int]],
    kinds: tuple[str, ...],
    *,
    width: int = WIDTH,
) -> BarChart:
    """One bar per label, its segments stacked bottom to top in the order of ``kinds``.

    ``width`` is in the SVG's own units: give a chart that spans the page a wider box so its
    text is drawn at about the page's size instead of being scaled up.
    """
    scale_max = nice_max(max([sum(v.get(k, 0) for k in kinds) for v in values] + [1]))
    baseline = HEIGHT - BOTTOM
    plot = baseline - TOP
    slot = (width - LEFT) / max(1, len(labels))
    bar = min(44.0, slot * 0.6)
    columns = []
    for index, (label, counts) in enumerate(zip(labels, values, strict=True)):
        center = LEFT + slot * index + slot / 2
        y = baseline
        segments = []
        for kind in kinds:
            value = counts.get(kind, 0)
            height = plot * value / scale_max
            y -= height
            if value:
                segments.append(Segment(kind, round(y, 1), round(height, 1), value))
        columns.append(
            Column(
                label,
                round(center - bar / 2, 1),
                round(bar, 1),
                round(center, 1),
                sum(counts.get(k, 0) for k in kinds),
                segments,
            )
        )
    return BarChart(width, HEIGHT, LEFT, TOP, baseline, scale_max, columns, kinds)
