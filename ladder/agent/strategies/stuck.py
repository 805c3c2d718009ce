"""A small plateau detector: patience on the verified best, and a Mann-Kendall trend test.

The series is the run's evaluated candidates (keep or discard) in order, each with its
target value oriented so that higher is better, and whether it set a new verified best.

- Patience: `patience` evaluations in a row without a new best.
- Trend: over the last `window` evaluations the candidates' values show no significant
  improving trend (one-sided Mann-Kendall, level `alpha`), and at least half the patience
  has passed since the last new best. The test runs on the candidates' own values, not on
  the best-so-far curve: that curve is a monotone step function, on which Mann-Kendall
  only says whether a step lies away from the window's edges — patience already knows.
  The half-patience floor keeps it from firing right after a new best.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ladder.agent.config import MetricSpec
from ladder.agent.records import Candidate
from ladder.agent.strategies.pool import score

PATIENCE = 8
WINDOW = 16
ALPHA = 0.05


@dataclass(frozen=True)
class Point:
    iteration: int
    value: float  # the target, oriented: higher is better
    new_best: bool


def evaluated(history: Sequence[Candidate], target: MetricSpec) -> list[Point]:
    """The evaluated candidates (keep or discard) with their target, in history order."""
    best: float | None = None
    points: list[Point] = []
    for c in history:
        value = score(c, target)
        if value is None:
            continue
        if c.status == "baseline":
            best = value if best is None else max(best, value)
        elif c.status in ("keep", "discard"):
            new_best = c.status == "keep" and (best is None or value > best)
            if new_best:
                best = value
            points.append(Point(c.iteration, value, new_best))
    return points


def mann_kendall(values: Sequence[float]) -> tuple[float, float]:
    """(z, one-sided p) of an increasing trend; the tie-corrected normal approximation."""
    n = len(values)
    s = sum(
        (values[j] > values[i]) - (values[j] < values[i]) for i in range(n) for j in range(i + 1, n)
    )
    ties = sum(t * (t - 1) * (2 * t + 5) for t in Counter(values).values())
    variance = (n * (n - 1) * (2 * n + 5) - ties) / 18
    if variance <= 0:
        return 0.0, 0.5  # a constant series: no trend either way
    z = (s - math.copysign(1, s)) / math.sqrt(variance) if s else 0.0
    return z, 0.5 * math.erfc(z / math.sqrt(2))


@dataclass(frozen=True)
class Plateau:
    patience: int = PATIENCE
    window: int = WINDOW
    alpha: float = ALPHA

    def why(self, points: Sequence[Point]) -> str:
        """Why the search is stuck over `points` (the evaluations since the current mode
        began), or "" when it is not."""
        since = since_best(points)
        if since >= self.patience:
            return f"no new best in {since} evaluations (patience {self.patience})"
        if len(points) < self.window or since < (self.patience + 1) // 2:
            return ""
        _, p = mann_kendall([pt.value for pt in points[-self.window :]])
        if p >= self.alpha:
            return (
                f"no improving trend over the last {self.window} evaluations "
                f"(Mann-Kendall p={p:.2f}) and no new best in {since}"
            )
        return ""


def since_best(points: Sequence[Point]) -> int:
    """Evaluations after the last new best (all of them when none was)."""
    for back, point in enumerate(reversed(points)):
        if point.new_best:
            return back
    return len(points)
