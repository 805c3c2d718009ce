"""A run's headline results in one record, for `ladder agent list` and `compare`: what a
user compares run over run to see compounding (hit rate, evaluations per keep, the share
blocked before evaluation, the gain with its interval)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ladder.agent.report import words as w
from ladder.agent.report.model import RunReport


@dataclass(frozen=True)
class RunSummary:
    run: str
    started: str
    state: str  # finished | interrupted | unfinished
    stop_reason: str
    target: str
    direction: str
    iterations: int
    evaluations: int
    evaluated: int
    kept: int
    discarded: int
    crashed: int
    blocked: int
    quarantined: int
    hit_rate: float | None  # keeps per evaluated candidate
    evaluations_per_keep: float | None
    blocked_share: float | None  # of all proposals
    gain_state: str  # the headline's state (model.Headline)
    gain: float | None  # relative change of the target, best against the baseline
    gain_low: float | None
    gain_high: float | None
    headline: str
    skills_at_start: int | None
    saved_by_taught: int | None
    unverified: bool


def summarize(report: RunReport) -> RunSummary:
    c, h = report.counts, report.headline
    return RunSummary(
        run=report.run_id, started=report.started, state=report.state,
        stop_reason=report.stop_reason, target=report.settings.target,
        direction=report.settings.direction, iterations=c.iterations,
        evaluations=c.evaluations, evaluated=c.evaluated, kept=c.kept, discarded=c.discarded,
        crashed=c.crashed, blocked=c.blocked, quarantined=c.quarantined,
        hit_rate=c.kept / c.evaluated if c.evaluated else None,
        evaluations_per_keep=c.evaluations / c.kept if c.kept else None,
        blocked_share=c.blocked / c.iterations if c.iterations else None,
        gain_state=h.state, gain=h.relative, gain_low=h.relative_low, gain_high=h.relative_high,
        headline=w.headline(h), skills_at_start=report.skills_at_start,
        saved_by_taught=report.saved_by_taught, unverified=report.settings.unverified,
    )


def gain_words(s: RunSummary) -> str:
    """The gain with its interval in a few words, and what kind of number it is."""
    if s.gain_state in ("no-baseline", "nothing-kept"):
        return "none" if s.gain_state == "nothing-kept" else "no baseline yet"
    ci = f" ({w.pct(s.gain_low)} to {w.pct(s.gain_high)})" if s.gain_low is not None else ""
    note = {"not-replicated": ", NOT replicated", "not-revalidated": ", not re-validated"}
    flag = note.get(s.gain_state, "") + (", UNVERIFIED" if s.unverified else "")
    return f"{s.target} {w.pct(s.gain)}{ci}{flag}"


def list_text(summaries: Sequence[RunSummary], broken: Sequence[tuple[str, str]] = ()) -> str:
    """The runs as an aligned plain-text table, oldest first; `broken`: (run, why) of
    runs whose journal could not be read."""
    head = ("run", "started", "status", "evaluations", "keeps", "best gain (95% CI)")
    rows = [(s.run, s.started[:16].replace("T", " "), s.state, str(s.evaluations), str(s.kept),
             gain_words(s)) for s in summaries]
    rows += [(run, "-", "unreadable", "-", "-", w.one_line(why, 80)) for run, why in broken]
    return _table(head, rows, right=(3, 4))


def compare_text(a: RunSummary, b: RunSummary) -> str:
    """Two runs side by side."""
    rows = [
        ("target", a.target, b.target),
        ("status", a.state, b.state),
        ("iterations", str(a.iterations), str(b.iterations)),
        ("evaluations", str(a.evaluations), str(b.evaluations)),
        ("kept", str(a.kept), str(b.kept)),
        ("hit rate (keeps per evaluated)", _rate(a.hit_rate, a.kept, a.evaluated),
         _rate(b.hit_rate, b.kept, b.evaluated)),
        ("evaluations per keep", _per(a.evaluations_per_keep), _per(b.evaluations_per_keep)),
        ("blocked share (of proposals)", _rate(a.blocked_share, a.blocked, a.iterations),
         _rate(b.blocked_share, b.blocked, b.iterations)),
        ("crashed", str(a.crashed), str(b.crashed)),
        ("best gain (95% CI)", gain_words(a), gain_words(b)),
        ("skills at start", _opt(a.skills_at_start), _opt(b.skills_at_start)),
        ("blocked by taught lessons", _opt(a.saved_by_taught), _opt(b.saved_by_taught)),
    ]
    text = _table(("", a.run, b.run), rows)
    if a.target != b.target or a.direction != b.direction:
        text += "\nthe runs have different targets: their gains are not comparable"
    return text


def _rate(rate: float | None, part: int, whole: int) -> str:
    return f"{rate:.0%} ({part}/{whole})" if rate is not None else "-"


def _per(value: float | None) -> str:
    return f"{value:.1f}" if value is not None else "- (no keep)"


def _opt(value: int | None) -> str:
    return "-" if value is None else str(value)


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> str:
    cells = [[w.one_line(c) for c in row] for row in [head, *rows]]
    widths = [max(len(r[k]) for r in cells) for k in range(len(head))]
    lines = ["  ".join(c.rjust(widths[k]) if k in right else c.ljust(widths[k])
                       for k, c in enumerate(row)).rstrip() for row in cells]
    return "\n".join(lines)
