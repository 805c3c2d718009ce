"""The progress chart: autoresearch's picture, made honest.

x is the evaluations spent (what a GPU user pays for); y is the target metric. The line
is the verified best, the sum of the paired effects of the keeps along its lineage; the
band is a re-validation's 95% interval against the baseline on fresh seeds. Each
candidate is a point at its parent's verified level plus its paired effect, coloured and
shaped by its verdict; crashes (no paired effect) and blocked mutations (never
evaluated, no evaluation spent) sit in their own lanes under the plot.
"""

from __future__ import annotations

from itertools import pairwise

from ladder.agent.report.axes import Scale, frame, padded
from ladder.agent.report.labels import Area, Want, along, place
from ladder.agent.report.model import VERDICTS, Point, RunReport
from ladder.agent.report.shapes import (
    BAND,
    BASELINE,
    BEST,
    COLOURS,
    INK,
    MARKERS,
    MUTED,
    Box,
    Dot,
    Figure,
    Line,
    Polyline,
    Shape,
    Text,
)
from ladder.agent.report.words import num, one_line

WIDTH, HEIGHT = 1000, 480
LEFT, RIGHT, TOP, PLOT_BOTTOM = 84, WIDTH - 28, 28, 304
LANES: dict[str, float] = {"crash": PLOT_BOTTOM + 20, "blocked": PLOT_BOTTOM + 40}
FLOOR = PLOT_BOTTOM + 54  # the x axis, under the lanes
LEGEND_Y = HEIGHT - 46
LABEL_CHARS = 42  # a kept point's label; the full description is in its tooltip
OUTLIERS = 0.75  # points further than this many spans of the core range are clamped


def progress_figure(report: RunReport) -> Figure:
    points = report.points
    x = Scale(0, max(1, report.counts.evaluations, *(p.evaluations for p in points)), LEFT, RIGHT)
    y = Scale(*_y_range(report), PLOT_BOTTOM, TOP)
    shapes: list[Shape] = frame(
        x, y, floor=FLOOR, x_title="evaluations spent (baseline, calibration and re-validations included)",
        y_title=f"{report.settings.target} ({'lower' if report.settings.direction == 'min' else 'higher'} is better)")
    shapes += _lanes(report)
    shapes += _bands(report, x, y)
    shapes += _baseline(report, x, y)
    shapes += _best_line(report, x, y)
    shapes += _events(report, x)
    for status in ("discard", "quarantine", "tamper", "crash", "blocked", "keep"):
        shapes += [_dot(p, x, y, report.settings.target) for p in points if p.status == status]
    shapes += _revalidations(report, x, y)
    shapes += _labels(report, x, y)
    shapes += _legend(report, off_scale=any(p.value is not None and not y.inside(p.value)
                                            for p in points))
    return Figure(WIDTH, HEIGHT, tuple(shapes), _title(report))


def _y_range(report: RunReport) -> tuple[float, float]:
    """The range that shows the baseline, the best, its band and every keep, and the other
    points within OUTLIERS spans of it, a span being the larger of that core's height and
    the middle 80% of the other points'; points further out are clamped at the edge (an
    arrow): one diverged candidate must not flatten the picture of the whole run."""
    core = [v for v in (report.baseline,) if v is not None]
    core += [s.value for s in report.best]
    core += [v for r in report.revalidations for v in (r.value, r.low, r.high) if v is not None]
    core += [p.value for p in report.points if p.status == "keep" and p.value is not None]
    others = sorted(p.value for p in report.points if p.value is not None)
    middle = others[len(others) // 10: len(others) - len(others) // 10]
    if not core:
        core = middle or [0.0, 1.0]
    lo, hi = min(core), max(core)
    spread = middle[-1] - middle[0] if middle else 0.0
    span = max(hi - lo, spread) or abs(hi) * 0.05 or 1.0
    inside = [v for v in others if lo - OUTLIERS * span <= v <= hi + OUTLIERS * span]
    return padded([*core, *inside], 0.06)


def _lanes(report: RunReport) -> list[Shape]:
    out: list[Shape] = [Line(LEFT, PLOT_BOTTOM + 8, RIGHT, PLOT_BOTTOM + 8, "#d0d7de")]
    words = {"crash": "crashed", "blocked": "blocked"}
    for status, lane in LANES.items():
        out.append(Text(LEFT - 8, lane, words[status], 10, COLOURS[status], "end"))
    return out


def _bands(report: RunReport, x: Scale, y: Scale) -> list[Shape]:
    out: list[Shape] = []
    revals = list(report.revalidations)
    for k, r in enumerate(revals):
        if r.low is None or r.high is None:
            continue
        later = [s.since for s in revals[k + 1:] if s.commit != r.commit]
        end = x(later[0]) if later else RIGHT
        top, bottom = y(y.clamp(r.high)), y(y.clamp(r.low))
        start = x(r.since)
        out.append(Box(start, min(top, bottom) - 1, max(2.0, end - start), abs(bottom - top) + 2,
                       BAND, 0.14))
    return out


def _baseline(report: RunReport, x: Scale, y: Scale) -> list[Shape]:
    if report.baseline is None:
        return []
    py = y(report.baseline)
    return [Line(LEFT, py, RIGHT, py, BASELINE, 1.2, dash=True),
            Text(RIGHT - 4, py - 9, f"baseline {num(report.baseline)}", 11, MUTED, "end")]


def _best_line(report: RunReport, x: Scale, y: Scale) -> list[Shape]:
    pts = _best_points(report, x, y)
    return [Polyline(tuple(pts), BEST, 2.5)] if pts else []


def _best_points(report: RunReport, x: Scale, y: Scale) -> list[tuple[float, float]]:
    """The verified best as a step line, on to the right edge."""
    steps = report.best
    if not steps:
        return []
    pts = [(x(steps[0].evaluations), y(steps[0].value))]
    for prev, step in pairwise(steps):
        pts += [(x(step.evaluations), y(prev.value)), (x(step.evaluations), y(step.value))]
    pts.append((RIGHT, y(steps[-1].value)))
    return pts


def _events(report: RunReport, x: Scale) -> list[Shape]:
    """Strategy escalations and convergence as marks along the top of the plot."""
    out: list[Shape] = []
    for e in report.events:
        if e.kind not in ("escalation", "converged"):
            continue
        px = x(e.evaluations)
        word = e.text.split(":", 1)[-1].split("(")[0].strip() if e.kind == "escalation" else "converged"
        left = px > LEFT + 0.8 * (RIGHT - LEFT)  # near the right edge: the words go left
        out.append(Line(px, TOP, px, PLOT_BOTTOM, MUTED, 1.0, dash=True))
        out.append(Text(px - 4 if left else px + 4, TOP + 8, one_line(word, 28), 10, MUTED,
                        "end" if left else "start"))
    return out


def _dot(p: Point, x: Scale, y: Scale, target: str) -> Dot:
    px = x(p.evaluations)
    marker = MARKERS.get(p.status, "circle")
    py: float
    if p.value is None:
        py = LANES["blocked" if p.status == "blocked" else "crash"]
    elif not y.inside(p.value):
        # Clamped at the edge, pointing the way it went: its value is in the tooltip.
        py = y(y.clamp(p.value))
        marker = "up" if (p.value > y.hi) else "down"
    else:
        py = y(p.value)
    size = 5.5 if p.status == "keep" else 4.2
    return Dot(px, py, size, COLOURS.get(p.status, INK), marker, _tooltip(p, target))


def _tooltip(p: Point, target: str) -> str:
    lines = [f"#{p.iteration} {p.status}: {one_line(p.description)}"]
    if p.value is not None:
        lines.append(f"{target} {num(p.value)} = its parent's verified level + its paired effect")
    if p.mean is not None:
        lines.append(f"its own mean on its seeds: {num(p.mean)}")
    if p.improvement is not None:
        lines.append(f"paired improvement {num(p.improvement)} over {p.seeds} seed(s)")
    lines.append(f"after {p.evaluations} evaluations")
    if p.reason:
        lines.append(one_line(p.reason, 300))
    return "\n".join(lines)


def _revalidations(report: RunReport, x: Scale, y: Scale) -> list[Shape]:
    out: list[Shape] = []
    for r in report.revalidations:
        px = x(r.evaluations)
        if r.low is not None and r.high is not None:
            out.append(Line(px, y(y.clamp(r.low)), px, y(y.clamp(r.high)), BEST, 1.5))
        title = f"re-validation ({r.tag}) of #{r.iteration}: {r.headline}" + (
            "" if r.replicated else " - NOT replicated")
        out.append(Dot(px, y(y.clamp(r.value)), 6.0, BEST, "diamond", title))
    return out


def _labels(report: RunReport, x: Scale, y: Scale) -> list[Shape]:
    """Each kept point labelled with its description where it covers nothing else (the
    largest improvements first); crowded ones get a shorter text, then just `#N`."""
    keeps = sorted((p for p in report.points if p.status == "keep" and p.value is not None),
                   key=lambda p: -(p.improvement or 0.0))
    wants = [Want(x(p.evaluations), y(y.clamp(p.value)), _texts(p)) for p in keeps
             if p.value is not None]
    dots = [(x(p.evaluations), y(y.clamp(p.value))) for p in report.points if p.value is not None]
    area = Area(LEFT + 2, TOP + 14, RIGHT - 2, PLOT_BOTTOM - 4)
    return list(place(wants, area, [*dots, *along(_best_points(report, x, y))], INK))


def _texts(p: Point) -> tuple[str, ...]:
    full = f"#{p.iteration} {one_line(p.description, LABEL_CHARS)}"
    short = f"#{p.iteration} {one_line(p.description, LABEL_CHARS // 2)}"
    return tuple(dict.fromkeys((full, short, f"#{p.iteration}")))


def _legend(report: RunReport, off_scale: bool) -> list[Shape]:
    out: list[Shape] = []
    present = {p.status for p in report.points}
    cx = float(LEFT)
    words = {"keep": "kept", "discard": "discarded", "quarantine": "quarantined",
             "crash": "crashed", "blocked": "blocked (0 evaluations)", "tamper": "tampered"}
    for status in [v for v in VERDICTS if v != "tamper" or v in present]:
        out.append(Dot(cx + 5, LEGEND_Y, 4.5, COLOURS[status], MARKERS[status]))
        out.append(Text(cx + 14, LEGEND_Y, words[status], 11, INK))
        cx += 24 + 6.2 * len(words[status])
    if off_scale:  # a diverged candidate, clamped at the edge: its value is in its tooltip
        out.append(Dot(cx + 5, LEGEND_Y, 4.5, MUTED, "up"))
        out.append(Text(cx + 14, LEGEND_Y, "off the scale (hover for its value)", 11, INK))
    row = LEGEND_Y + 22
    out.append(Line(LEFT, row, LEFT + 22, row, BEST, 2.5))
    out.append(Text(LEFT + 28, row, "verified best (paired effects along its lineage)", 11, INK))
    bx = LEFT + 330
    out.append(Box(bx, row - 6, 22, 12, BAND, 0.14))
    out.append(Dot(bx + 11, row, 4.5, BEST, "diamond"))
    out.append(Text(bx + 28, row, "re-validated against the baseline, 95% CI", 11, INK))
    lx = bx + 300
    out.append(Line(lx, row, lx + 22, row, BASELINE, 1.2, dash=True))
    out.append(Text(lx + 28, row, "baseline", 11, INK))
    return out


def _title(report: RunReport) -> str:
    c = report.counts
    return (f"Progress of run {report.run_id}: {report.settings.target} over {c.evaluations} "
            f"evaluations; {c.kept} kept, {c.discarded} discarded, {c.crashed} crashed, "
            f"{c.blocked} blocked")
