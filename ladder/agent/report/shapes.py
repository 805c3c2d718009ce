"""A figure as plain shapes in pixel coordinates, drawn by two backends: `svg` (inline in
report.html) and `png` (progress.png, with Pillow). One layout for both, so the picture
shared in a pull request is the one in the report."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

Anchor = Literal["start", "middle", "end"]
Marker = Literal["circle", "ring", "cross", "triangle", "diamond", "up", "down"]

# Verdict colours: readable on white, distinguishable in the common colour-blindnesses
# (after Okabe and Ito), and a shape for each too.
COLOURS = {
    "keep": "#009e73",
    "discard": "#8c8c8c",
    "quarantine": "#e69f00",
    "crash": "#d55e00",
    "blocked": "#7b5ea7",
    "tamper": "#000000",
}
MARKERS: dict[str, Marker] = {
    "keep": "circle",
    "discard": "circle",
    "quarantine": "diamond",
    "crash": "cross",
    "blocked": "triangle",
    "tamper": "cross",
}
BEST = "#0b57d0"
BAND = "#0b57d0"
INK = "#1f2328"
MUTED = "#59636e"
GRID = "#e6e8eb"
BASELINE = "#59636e"
LIMIT = "#cf222e"


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    colour: str
    width: float = 1.0
    dash: bool = False


@dataclass(frozen=True)
class Polyline:
    points: tuple[tuple[float, float], ...]
    colour: str
    width: float = 1.0


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float
    fill: str
    opacity: float = 1.0


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    r: float
    colour: str
    marker: Marker = "circle"
    title: str = ""  # the tooltip in SVG


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # the middle of the line of text
    text: str
    size: float = 12.0
    colour: str = INK
    anchor: Anchor = "start"
    angle: float = 0.0  # degrees, clockwise (SVG's sense)
    bold: bool = False


Shape = Line | Polyline | Box | Dot | Text


@dataclass(frozen=True)
class Figure:
    width: int
    height: int
    shapes: tuple[Shape, ...]
    title: str  # what the figure shows, for screen readers


def marker_points(dot: Dot) -> tuple[tuple[float, float], ...]:
    """The outline of a polygon marker (triangle, diamond, arrows), shared by backends."""
    x, y, r = dot.x, dot.y, dot.r
    if dot.marker == "triangle":
        return ((x, y - r * 1.15), (x + r, y + r * 0.75), (x - r, y + r * 0.75))
    if dot.marker == "diamond":
        return ((x, y - r * 1.25), (x + r * 1.25, y), (x, y + r * 1.25), (x - r * 1.25, y))
    if dot.marker == "up":
        return ((x, y - r * 1.3), (x + r, y + r * 0.3), (x - r, y + r * 0.3))
    if dot.marker == "down":
        return ((x, y + r * 1.3), (x + r, y - r * 0.3), (x - r, y - r * 0.3))
    return ()


def titled(figure: Figure, title: str, size: float = 15.0) -> Figure:
    """`figure` under a title line (progress.png travels alone, without the page's headline)."""
    dy = 2.4 * size
    moved = tuple(_moved(s, dy) for s in figure.shapes)
    head = Text(figure.width / 2, dy / 2 + 4, title, size, INK, "middle", bold=True)
    return Figure(figure.width, round(figure.height + dy), (head, *moved), figure.title)


def _moved(shape: Shape, dy: float) -> Shape:
    if isinstance(shape, Line):
        return replace(shape, y1=shape.y1 + dy, y2=shape.y2 + dy)
    if isinstance(shape, Polyline):
        return replace(shape, points=tuple((x, y + dy) for x, y in shape.points))
    return replace(shape, y=shape.y + dy)
