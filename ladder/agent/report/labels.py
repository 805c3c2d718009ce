"""Placing the kept points' labels so they do not cover each other, the points or the
best line: each label tries a few slants and sides, and falls back to a shorter text,
then to its iteration number alone. A label is modelled as points sampled along its
line of text, an obstacle as points with a clearance; overlap is two points too close.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from ladder.agent.report.shapes import Anchor, Text

CHAR = 6.0  # the mean advance of a character at LABEL_SIZE, in pixels
LABEL_SIZE = 10.5
CLEAR = 9.0  # how close two sampled points may come
STEP = 6.0  # sampling interval along a label
# (angle in degrees, clockwise; anchor): the slants tried, in order of preference
PLACES: tuple[tuple[float, Anchor], ...] = (
    (-24.0, "start"), (24.0, "start"), (24.0, "end"), (-24.0, "end"),
    (-50.0, "start"), (50.0, "start"), (0.0, "start"), (0.0, "end"),
)


@dataclass(frozen=True)
class Area:
    left: float
    top: float
    right: float
    bottom: float

    def holds(self, x: float, y: float) -> bool:
        return self.left <= x <= self.right and self.top <= y <= self.bottom


@dataclass(frozen=True)
class Want:
    """A label wanted next to the point (x, y): its texts, longest first."""

    x: float
    y: float
    texts: tuple[str, ...]


class Occupied:
    """Points already taken, bucketed on a grid of CLEAR-sized cells."""

    def __init__(self, points: Iterable[tuple[float, float]] = ()) -> None:
        self._cells: dict[tuple[int, int], list[tuple[float, float]]] = {}
        self.add(points)

    def add(self, points: Iterable[tuple[float, float]]) -> None:
        for p in points:
            self._cells.setdefault(self._cell(p), []).append(p)

    def hits(self, points: Iterable[tuple[float, float]]) -> bool:
        for p in points:
            cx, cy = self._cell(p)
            for dx in (-1, 0, 1):
                for dy in (-1, 0, 1):
                    if any(math.dist(p, q) < CLEAR for q in self._cells.get((cx + dx, cy + dy), ())):
                        return True
        return False

    @staticmethod
    def _cell(p: tuple[float, float]) -> tuple[int, int]:
        return (int(p[0] // CLEAR), int(p[1] // CLEAR))


def place(wants: Sequence[Want], area: Area, obstacles: Iterable[tuple[float, float]],
          colour: str) -> list[Text]:
    """A Text for each want, in order (put the most important first)."""
    taken = Occupied(obstacles)
    out = []
    for want in wants:
        text, spots = _first_fit(want, area, taken, colour)
        taken.add(spots)
        out.append(text)
    return out


def _first_fit(want: Want, area: Area, taken: Occupied,
               colour: str) -> tuple[Text, list[tuple[float, float]]]:
    """The first slant and text that fits the area and misses what is taken; when none
    does, the shortest text where it fits the area (overlapping: crowded everywhere)."""
    fallback: tuple[Text, list[tuple[float, float]]] | None = None
    for words in want.texts:
        for angle, anchor in PLACES:
            x, y = _start(want, angle, anchor)
            spots = _samples((x, y), words, angle, anchor)
            if not all(area.holds(*p) for p in spots):
                continue
            text = Text(x, y, words, LABEL_SIZE, colour, anchor, angle)
            if not taken.hits(spots):
                return text, spots
            if fallback is None and words == want.texts[-1]:
                fallback = (text, spots)
    if fallback is not None:
        return fallback
    x, y = _start(want, 0.0, "start")
    return Text(x, y, want.texts[-1], LABEL_SIZE, colour), []


def _start(want: Want, angle: float, anchor: Anchor) -> tuple[float, float]:
    """Where the label's anchor goes: a little off the point, on the side it extends to."""
    side = 1 if anchor == "start" else -1
    dy = 0.0 if angle == 0 else (-8.0 if angle * side < 0 else 8.0)
    return (want.x + side * 8.0, want.y + dy)


def _samples(start: tuple[float, float], words: str, angle: float,
             anchor: Anchor) -> list[tuple[float, float]]:
    length = CHAR * len(words)
    side = 1 if anchor == "start" else -1
    ux, uy = math.cos(math.radians(angle)) * side, math.sin(math.radians(angle)) * side
    n = max(1, int(length // STEP))
    return [(start[0] + ux * STEP * k, start[1] + uy * STEP * k) for k in range(n + 1)]


def along(points: Sequence[tuple[float, float]], step: float = STEP) -> list[tuple[float, float]]:
    """Points every `step` pixels along a polyline (the best line as an obstacle)."""
    out: list[tuple[float, float]] = []
    for a, b in pairwise(points):
        n = max(1, int(math.dist(a, b) // step))
        out += [(a[0] + (b[0] - a[0]) * k / n, a[1] + (b[1] - a[1]) * k / n) for k in range(n)]
    return out + list(points[-1:])
