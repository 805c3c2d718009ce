"""Linear scales, readable ticks and the frame of a chart (grid, tick labels, titles)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ladder.agent.report.shapes import GRID, INK, MUTED, Line, Shape, Text


@dataclass(frozen=True)
class Scale:
    """Maps [lo, hi] in data units onto [start, end] in pixels (end < start flips it)."""

    lo: float
    hi: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        span = self.hi - self.lo
        frac = (value - self.lo) / span if span else 0.5
        return self.start + frac * (self.end - self.start)

    def clamp(self, value: float) -> float:
        return min(max(value, self.lo), self.hi)

    def inside(self, value: float) -> bool:
        return self.lo <= value <= self.hi


def ticks(lo: float, hi: float, count: int = 5, integer: bool = False) -> list[float]:
    """About `count` round values (1, 2 or 5 times a power of ten) within [lo, hi]."""
    span = hi - lo
    if not math.isfinite(span) or span <= 0:
        return [lo]
    raw = span / max(1, count)
    power = 10 ** math.floor(math.log10(raw))
    step = next((m * power for m in (1, 2, 5, 10) if m * power >= raw), 10 * power)
    if integer:
        step = max(1.0, round(step))
    first = math.ceil(lo / step) * step
    out, k = [], 0
    while first + k * step <= hi + step * 1e-9:
        out.append(round(first + k * step, 12))
        k += 1
    return out


def padded(values: list[float], pad: float = 0.08) -> tuple[float, float]:
    """The range of `values` with `pad` of it added each side (a flat range gets room)."""
    lo, hi = min(values), max(values)
    span = hi - lo or (abs(hi) * 0.05 or 1.0)
    return lo - pad * span, hi + pad * span


def tick_label(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1e5 or abs(value) < 1e-3:
        return f"{value:.2g}"
    return f"{value:.4g}"


def frame(x: Scale, y: Scale, *, x_title: str, y_title: str, integer_x: bool = True,
          y_label: Callable[[float], str] = tick_label, floor: float | None = None) -> list[Shape]:
    """Horizontal grid lines with y labels, x ticks with labels, and both axis titles;
    the x axis at `floor` (default: the bottom of `y`), below any lanes drawn between."""
    left, right = min(x.start, x.end), max(x.start, x.end)
    top, plot_bottom = min(y.start, y.end), max(y.start, y.end)
    bottom = plot_bottom if floor is None else floor
    out: list[Shape] = []
    for v in ticks(y.lo, y.hi, 5):
        py = y(v)
        out.append(Line(left, py, right, py, GRID))
        out.append(Text(left - 8, py, y_label(v), 11, MUTED, "end"))
    out.append(Line(left, bottom, right, bottom, MUTED))
    for v in ticks(x.lo, x.hi, 8, integer=integer_x):
        px = x(v)
        out.append(Line(px, bottom, px, bottom + 4, MUTED))
        out.append(Text(px, bottom + 14, tick_label(v), 11, MUTED, "middle"))
    out.append(Text((left + right) / 2, bottom + 32, x_title, 12, INK, "middle"))
    out.append(Text(left - 56, (top + plot_bottom) / 2, y_title, 12, INK, "middle", angle=-90))
    return out
