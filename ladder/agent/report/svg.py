"""A Figure as inline SVG. Every piece of text is escaped: descriptions and reasons come
from an untrusted proposer and evaluation (a description may be `<script>...`)."""

from __future__ import annotations

from html import escape

from ladder.agent.report.shapes import (
    Box,
    Dot,
    Figure,
    Line,
    Polyline,
    Shape,
    Text,
    marker_points,
)
from ladder.agent.report.words import clean

FONT = "DejaVu Sans, Liberation Sans, Helvetica, Arial, sans-serif"


def svg(figure: Figure) -> str:
    body = "\n".join(_shape(s) for s in figure.shapes)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {figure.width} {figure.height}" '
            f'width="100%" role="img" aria-label="{_attr(figure.title)}" '
            f'font-family="{FONT}">\n<title>{_text(figure.title)}</title>\n{body}\n</svg>')


def _shape(shape: Shape) -> str:
    if isinstance(shape, Line):
        dash = ' stroke-dasharray="5 4"' if shape.dash else ""
        return (f'<line x1="{_n(shape.x1)}" y1="{_n(shape.y1)}" x2="{_n(shape.x2)}" '
                f'y2="{_n(shape.y2)}" stroke="{shape.colour}" stroke-width="{_n(shape.width)}"{dash}/>')
    if isinstance(shape, Polyline):
        pts = " ".join(f"{_n(x)},{_n(y)}" for x, y in shape.points)
        return (f'<polyline points="{pts}" fill="none" stroke="{shape.colour}" '
                f'stroke-width="{_n(shape.width)}" stroke-linejoin="round"/>')
    if isinstance(shape, Box):
        return (f'<rect x="{_n(shape.x)}" y="{_n(shape.y)}" width="{_n(shape.w)}" '
                f'height="{_n(shape.h)}" fill="{shape.fill}" fill-opacity="{shape.opacity}"/>')
    if isinstance(shape, Dot):
        return _dot(shape)
    return _label(shape)


def _dot(dot: Dot) -> str:
    title = f"<title>{_text(dot.title)}</title>" if dot.title else ""
    style = f'fill="{dot.colour}" stroke="#ffffff" stroke-width="1"'
    if dot.marker == "circle":
        inner = f'<circle cx="{_n(dot.x)}" cy="{_n(dot.y)}" r="{_n(dot.r)}" {style}/>'
    elif dot.marker == "ring":
        inner = (f'<circle cx="{_n(dot.x)}" cy="{_n(dot.y)}" r="{_n(dot.r)}" fill="#ffffff" '
                 f'stroke="{dot.colour}" stroke-width="1.5"/>')
    elif dot.marker == "cross":
        r = dot.r
        inner = (f'<path d="M{_n(dot.x - r)},{_n(dot.y - r)}L{_n(dot.x + r)},{_n(dot.y + r)}'
                 f'M{_n(dot.x - r)},{_n(dot.y + r)}L{_n(dot.x + r)},{_n(dot.y - r)}" '
                 f'stroke="{dot.colour}" stroke-width="2.2" stroke-linecap="round"/>')
    else:
        pts = " ".join(f"{_n(x)},{_n(y)}" for x, y in marker_points(dot))
        inner = f'<polygon points="{pts}" {style}/>'
    return f"<g>{title}{inner}</g>" if title else inner


def _label(text: Text) -> str:
    rotate = f' transform="rotate({_n(text.angle)} {_n(text.x)} {_n(text.y)})"' if text.angle else ""
    weight = ' font-weight="bold"' if text.bold else ""
    return (f'<text x="{_n(text.x)}" y="{_n(text.y)}" font-size="{_n(text.size)}" '
            f'fill="{text.colour}" text-anchor="{text.anchor}" dominant-baseline="central"'
            f'{weight}{rotate}>{_text(text.text)}</text>')


def _text(value: str) -> str:
    return escape(clean(value), quote=False)


def _attr(value: str) -> str:
    return escape(clean(value), quote=True)


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
