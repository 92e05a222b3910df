"""Helpers shared by the console's server-drawn SVG charts."""

from __future__ import annotations


def nice_max(value: int) -> int:
    """A round upper bound for a chart's scale (1, 2, 5, 10, 20, 50, ...)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if value <= step * factor:
                return step * factor
        step *= 10
