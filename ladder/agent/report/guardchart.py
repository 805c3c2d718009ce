"""One small chart per guard metric: each decision's measured regression of the guard
(relative to its parent, on the paired seeds) with the upper bound of its
non-inferiority test, against the margin the run tolerates."""

from __future__ import annotations

from ladder.agent.report.axes import Scale, frame, padded
from ladder.agent.report.model import RunReport
from ladder.agent.report.shapes import (
    COLOURS,
    INK,
    LIMIT,
    MARKERS,
    MUTED,
    Dot,
    Figure,
    Line,
    Shape,
    Text,
)
from ladder.agent.report.words import num

WIDTH, HEIGHT = 1000, 250
LEFT, RIGHT, TOP, BOTTOM = 84, WIDTH - 28, 18, HEIGHT - 74


def guard_figure(report: RunReport, name: str, margin: float) -> Figure:
    found = [g for g in report.guard_points if g.check.name == name and g.check.regression is not None]
    values = [0.0, margin] + [v for g in found for v in (g.check.regression, g.check.upper)
                              if v is not None]
    x = Scale(0, max(1, report.counts.evaluations), LEFT, RIGHT)
    y = Scale(*padded(values, 0.1), BOTTOM, TOP)
    shapes: list[Shape] = frame(x, y, x_title="evaluations spent", y_title=f"{name} regression",
                                y_label=_percent)
    shapes.append(Line(LEFT, y(margin), RIGHT, y(margin), LIMIT, 1.2, dash=True))
    shapes.append(Text(RIGHT - 4, y(margin) - 9, f"margin {margin:+.0%}", 11, LIMIT, "end"))
    shapes.append(Line(LEFT, y(0), RIGHT, y(0), MUTED, 1.0))
    for g in found:
        assert g.check.regression is not None
        px, py = x(g.evaluations), y(g.check.regression)
        if g.check.upper is not None:
            shapes.append(Line(px, py, px, y(y.clamp(g.check.upper)), COLOURS.get(g.status, INK), 1.0))
        word = "ok" if g.check.ok else "FAILED"
        title = (f"#{g.iteration} {g.status}: {name} {word}, regression {num(g.check.regression)}"
                 f" (upper bound {num(g.check.upper)}), margin {num(g.check.margin)}")
        # A failed test is a hollow red ring whatever the verdict: where this guard said no.
        shapes.append(Dot(px, py, 4.6, LIMIT, "ring", title) if not g.check.ok else
                      Dot(px, py, 4.2, COLOURS.get(g.status, INK), MARKERS.get(g.status, "circle"), title))
    shapes += _legend()
    return Figure(WIDTH, HEIGHT, tuple(shapes),
                  f"Guard {name}: the regression of each decision against the margin {margin:.0%}")


def _percent(value: float) -> str:
    if value == 0:
        return "0"
    return f"{value:+.0%}" if abs(value) >= 0.1 else f"{value:+.1%}"


def _legend() -> list[Shape]:
    y = HEIGHT - 14
    return [Dot(LEFT + 5, y, 4.2, COLOURS["keep"], "circle"),
            Text(LEFT + 14, y, "passed (coloured by the candidate's verdict)", 11, INK),
            Dot(LEFT + 320, y, 4.6, LIMIT, "ring"),
            Text(LEFT + 330, y, "failed: this guard refused it", 11, INK),
            Line(LEFT + 540, y, LEFT + 562, y, LIMIT, 1.2, dash=True),
            Text(LEFT + 568, y, "the margin", 11, INK)]
