"""A Figure as a PNG, with Pillow: drawn at SUPERSAMPLE times its output size and scaled
down, since Pillow draws lines and circles without anti-aliasing."""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

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

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
SUPERSAMPLE = 4  # drawing scale
OUTPUT = 2  # the saved image's scale: sharp on a high-density screen, 2000 px wide
_ANCHORS = {"start": "lm", "middle": "mm", "end": "rm"}


def write_png(figure: Figure, path: Path) -> None:
    s = SUPERSAMPLE
    image = Image.new("RGB", (figure.width * s, figure.height * s), "#ffffff")
    draw = ImageDraw.Draw(image, "RGBA")
    for shape in figure.shapes:
        _draw(image, draw, shape, s)
    image = image.resize((figure.width * OUTPUT, figure.height * OUTPUT), Image.Resampling.LANCZOS)
    image.save(path, "PNG", optimize=True)


def _draw(image: Image.Image, draw: ImageDraw.ImageDraw, shape: Shape, s: int) -> None:
    if isinstance(shape, Line):
        ends = ((shape.x1 * s, shape.y1 * s), (shape.x2 * s, shape.y2 * s))
        for a, b in (_dashes(*ends, 5 * s, 4 * s) if shape.dash else [ends]):
            draw.line([a, b], fill=_rgba(shape.colour), width=max(1, round(shape.width * s)))
    elif isinstance(shape, Polyline):
        draw.line([(x * s, y * s) for x, y in shape.points], fill=_rgba(shape.colour),
                  width=max(1, round(shape.width * s)), joint="curve")
    elif isinstance(shape, Box):
        draw.rectangle([shape.x * s, shape.y * s, (shape.x + shape.w) * s, (shape.y + shape.h) * s],
                       fill=_rgba(shape.fill, shape.opacity))
    elif isinstance(shape, Dot):
        _dot(draw, shape, s)
    else:
        _text(image, draw, shape, s)


def _dot(draw: ImageDraw.ImageDraw, dot: Dot, s: int) -> None:
    x, y, r = dot.x * s, dot.y * s, dot.r * s
    colour = _rgba(dot.colour)
    if dot.marker in ("circle", "ring"):
        fill = (255, 255, 255, 255) if dot.marker == "ring" else colour
        draw.ellipse([x - r, y - r, x + r, y + r], fill=fill, outline=(255, 255, 255, 255)
                     if dot.marker == "circle" else colour, width=s)
    elif dot.marker == "cross":
        width = round(2.2 * s)
        draw.line([(x - r, y - r), (x + r, y + r)], fill=colour, width=width)
        draw.line([(x - r, y + r), (x + r, y - r)], fill=colour, width=width)
    else:
        pts = [(px * s, py * s) for px, py in marker_points(dot)]
        draw.polygon(pts, fill=colour, outline=(255, 255, 255, 255))


def _text(image: Image.Image, draw: ImageDraw.ImageDraw, text: Text, s: int) -> None:
    font = _font(round(text.size * s), text.bold)
    words = clean(text.text)
    anchor = _ANCHORS[text.anchor]
    if not text.angle:
        draw.text((text.x * s, text.y * s), words, fill=_rgba(text.colour), font=font, anchor=anchor)
        return
    # Rotated: drawn on a square layer centred on its anchor, turned about that centre.
    left, top, right, bottom = draw.textbbox((0, 0), words, font=font, anchor=anchor)
    half = math.ceil(max(abs(left), abs(top), abs(right), abs(bottom))) + 2
    layer = Image.new("RGBA", (2 * half, 2 * half), (0, 0, 0, 0))
    ImageDraw.Draw(layer).text((half, half), words, fill=_rgba(text.colour), font=font, anchor=anchor)
    layer = layer.rotate(-text.angle, resample=Image.Resampling.BICUBIC)  # Pillow turns anticlockwise
    image.paste(layer, (round(text.x * s) - half, round(text.y * s) - half), layer)


@cache
def _font(size: int, bold: bool) -> Font:
    """DejaVu Sans where the system has it (what the SVG asks for first), else Pillow's
    own scalable font."""
    for name in (("DejaVuSans-Bold.ttf",) if bold else ()) + ("DejaVuSans.ttf",):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def _dashes(a: tuple[float, float], b: tuple[float, float], on: float,
            off: float) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    length = math.dist(a, b)
    if length == 0:
        return []
    ux, uy = (b[0] - a[0]) / length, (b[1] - a[1]) / length
    out, at = [], 0.0
    while at < length:
        end = min(at + on, length)
        out.append(((a[0] + ux * at, a[1] + uy * at), (a[0] + ux * end, a[1] + uy * end)))
        at = end + off
    return out


def _rgba(colour: str, opacity: float = 1.0) -> tuple[int, int, int, int]:
    h = colour.lstrip("#")
    return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), round(255 * opacity))
