"""A run's report read from its journal: pure functions of the records
(`ladder.agent.journal.read_records`), on top of the replay `--resume` and `status` use.

The chart's x is the evaluations spent, counted in journal order: every evaluation
record, the baseline's, the calibration's and the re-validations' included, as the
budget counts them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ladder.agent.config import MetricSpec
from ladder.agent.records import Candidate, Verdict
from ladder.agent.replay import Replayed, replay
from ladder.agent.report import events as event_words
from ladder.agent.report import tables
from ladder.agent.report.model import (
    Headline,
    Journal,
    Point,
    Revalidation,
    RunReport,
    Settings,
    Step,
)
from ladder.agent.report.tables import Differ, Records
from ladder.agent.report.values import finite, integer, pair
from ladder.agent.strategies.pool import gains


@dataclass(frozen=True)
class _Placed:
    """A record and the evaluations spent when it was written."""

    kind: str
    data: Mapping[str, Any]
    evaluations: int
    ts: str


def read_report(run_id: str, records: Records, *, diff: Differ | None = None,
                journal: Journal | None = None) -> RunReport:
    """The report of run `run_id`; `diff` gives each keep's diff (none without it)."""
    placed = _place(records)
    settings = settings_of(records)
    state = replay(records)
    baseline = _baseline(state, settings)
    at = {int(p.data["iteration"]): p.evaluations for p in placed
          if p.kind == "decision" and isinstance(p.data.get("iteration"), int)}
    points = _points(state, settings, baseline, at)
    best = _best(state, settings, baseline, at)
    revalidations = _revalidations(placed, best, baseline, settings)
    return RunReport(
        run_id=run_id,
        settings=settings,
        started=placed[0].ts if placed else "",
        seconds=_duration(placed),
        stop_reason=state.stop_reason,
        state=_state(placed),
        baseline=baseline,
        baseline_evaluations=next((p.evaluations for p in placed if p.kind == "baseline"), 0),
        headline=_headline(state, settings, baseline, best, revalidations),
        counts=tables.counts(state, records),
        points=points,
        best=best,
        revalidations=revalidations,
        keeps=tables.keeps(state, diff),
        guard_points=tables.guard_points(state, at),
        blocked=tables.blocked(state, records),
        events=tuple(e for p in placed if (e := event_words.event(p.kind, p.data, p.evaluations,
                                                                   settings.target)) is not None),
        learned=tables.learned(records),
        placements=tables.placements(records),
        skills_at_start=tables.learned_count(records, "skills_loaded"),
        saved_by_taught=tables.learned_count(records, "evaluations_saved"),
        journal=journal,
    )


def settings_of(records: Records) -> Settings:
    """The target, guards and choices of the run, from its `start` record's configuration
    (what the run was judged under; a resume may change budgets only)."""
    start: Mapping[str, Any] = next((r["data"] for r in records if r.get("kind") == "start"
                  and isinstance(r.get("data"), Mapping)), {})
    config: Mapping[str, Any] = start.get("config") or {}
    metrics = [m for m in (config.get("metrics") or {}).values() if isinstance(m, Mapping)]
    target = next((m for m in metrics if m.get("role") == "target"), {})
    proposer = config.get("proposer")
    return Settings(
        target=str(target.get("name", "target")),
        direction="max" if target.get("direction") == "max" else "min",
        guards=tuple((str(m.get("name")), float(m.get("margin") or 0.0))
                     for m in metrics if m.get("role") == "guard"),
        decision=str(config.get("decision", "verified")),
        strategy=str(config.get("strategy", "")),
        proposer=str(proposer.get("kind", "")) if isinstance(proposer, Mapping) else str(proposer or ""),
        scored=bool(config.get("score")),
        iterations=integer(config.get("iterations")),
        evaluations=integer(config.get("evaluations")),
    )


# --- placing records on the evaluations axis ------------------------------------------


def _place(records: Records) -> list[_Placed]:
    out: list[_Placed] = []
    spent = 0
    for rec in records:
        data = rec.get("data")
        if not isinstance(data, Mapping):
            continue  # `ladder agent verify` names it; the report reads on
        kind = str(rec.get("kind", ""))
        spent += kind == "evaluation"
        out.append(_Placed(kind, data, spent, str(rec.get("ts", ""))))
    return out


def _baseline(state: Replayed, settings: Settings) -> float | None:
    """The baseline's mean target: as its own evaluations measured it, or (`ladder try`,
    whose baseline is evaluated beside its first candidate) the parent side of the first
    decision paired against it."""
    base = state.history[0] if state.history and state.history[0].status == "baseline" else None
    if base is None:
        return None
    own = finite(base.metrics.get(settings.target))
    if own is not None:
        return own
    for cand in state.history[1:]:
        diffs = state.verdicts.get(cand.iteration, Verdict(cand.status)).stats.get("diffs")
        values = [v for d in diffs or () if isinstance(d, Mapping)
                  and (v := finite(d.get("parent"))) is not None]
        if cand.parent == base.commit and values:
            return sum(values) / len(values)
    return None


def _duration(placed: Sequence[_Placed]) -> float:
    stamps = [t for p in placed if (t := _time(p.ts)) is not None]
    return max(stamps) - min(stamps) if stamps else 0.0


def _state(placed: Sequence[_Placed]) -> str:
    """finished, interrupted (stopped by a signal, resumable) or unfinished (running, or
    killed): by the last stop record and whether anything came after it."""
    last = next((k for k in range(len(placed) - 1, -1, -1) if placed[k].kind == "stop"), None)
    if last is None or any(p.kind in ("resume", "decision") for p in placed[last + 1:]):
        return "unfinished"
    return "interrupted" if placed[last].data.get("signal") else "finished"


def _time(ts: str) -> float | None:
    try:
        return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


# --- the chart --------------------------------------------------------------------------


def _levels(state: Replayed, settings: Settings) -> dict[str, float]:
    """Each kept commit's gain over the baseline: the sum of the paired effects along its
    lineage, the same estimate the strategies rank parents by (`pool.gains`)."""
    spec = MetricSpec(settings.target, "max" if settings.direction == "max" else "min")
    return gains(state.history, spec)


def _points(state: Replayed, settings: Settings, baseline: float | None,
            at: Mapping[int, int]) -> tuple[Point, ...]:
    found = _levels(state, settings)
    out = []
    for cand in state.history:
        if cand.status == "baseline":
            continue
        verdict = state.verdicts.get(cand.iteration, Verdict(cand.status))
        out.append(Point(
            iteration=cand.iteration,
            evaluations=at.get(cand.iteration, 0),
            status=cand.status,
            description=cand.description,
            value=_value(cand, found, baseline, settings),
            mean=finite(cand.metrics.get(settings.target)),
            improvement=finite(verdict.stats.get("effect")),
            seeds=integer(verdict.stats.get("n")) or 0,
            reason=verdict.reasons[0] if verdict.reasons else "",
        ))
    return tuple(out)


def _value(cand: Candidate, found: Mapping[str, float], baseline: float | None,
           settings: Settings) -> float | None:
    """Its parent's verified level plus its paired effect; its own mean when the parent
    has no verified level (a crossover partner's lineage); None when not evaluated."""
    effect = finite(cand.effect)
    up = found.get(cand.parent)
    if cand.status in ("blocked", "crash") or effect is None:
        return None
    if up is not None and baseline is not None:
        return baseline + settings.sign * up + effect
    return finite(cand.metrics.get(settings.target))


def _best(state: Replayed, settings: Settings, baseline: float | None,
          at: Mapping[int, int]) -> tuple[Step, ...]:
    """The verified best over evaluations: a step each time a keep raised the largest
    gain (a keep on a worse lineage does not move it)."""
    if baseline is None:
        return ()
    found = _levels(state, settings)
    base = state.history[0]
    steps = [Step(0, baseline, 0, base.commit)]
    top = 0.0
    for cand in state.history:
        gain = found.get(cand.commit) if cand.status == "keep" else None
        if gain is not None and gain > top:
            top = gain
            steps.append(Step(at.get(cand.iteration, 0), baseline + settings.sign * gain,
                              cand.iteration, cand.commit))
    return tuple(steps)


def _revalidations(placed: Sequence[_Placed], best: Sequence[Step], baseline: float | None,
                   settings: Settings) -> tuple[Revalidation, ...]:
    if baseline is None:
        return ()
    since = {s.commit: s.evaluations for s in best}
    out = []
    for p in placed:
        if p.kind != "revalidation":
            continue
        d = p.data
        delta = finite(d.get("delta"))
        ci = pair(d.get("ci"))  # of the gain, positive = better
        rel = pair(d.get("relative_ci"))
        levels = sorted(baseline + settings.sign * g for g in ci) if ci else None
        out.append(Revalidation(
            evaluations=p.evaluations,
            since=since.get(str(d.get("commit", "")), p.evaluations),
            tag=str(d.get("tag", "")),
            iteration=integer(d.get("iteration")) or 0,
            commit=str(d.get("commit", "")),
            value=baseline + (delta or 0.0),
            low=levels[0] if levels else None,
            high=levels[1] if levels else None,
            relative=finite(d.get("relative")),
            relative_low=rel[0] if rel else None,
            relative_high=rel[1] if rel else None,
            seeds=integer(d.get("n")) or 0,
            p=finite(d.get("p")),
            replicated=bool(d.get("replicated")),
            headline=str(d.get("headline", "")),
        ))
    return tuple(out)


def _headline(state: Replayed, settings: Settings, baseline: float | None,
              best: Sequence[Step], revalidations: Sequence[Revalidation]) -> Headline:
    empty = Headline("no-baseline", settings.target, baseline, unverified=settings.unverified)
    if baseline is None:
        return empty
    if len(best) < 2:
        return replace(empty, state="nothing-kept")
    top = best[-1]
    described = {c.commit: c.description for c in state.history}
    found = replace(empty, commit=top.commit, iteration=top.iteration,
                    description=described.get(top.commit, ""))
    last = revalidations[-1] if revalidations else None
    if last is None or last.commit != top.commit:
        # Kept, but never measured against the baseline on fresh seeds (a run stopped
        # before its final re-validation): the lineage estimate, said to be one.
        rel = (top.value - baseline) / abs(baseline) if baseline else None
        return replace(found, state="not-revalidated", best=top.value, relative=rel)
    return replace(found, state="verified" if last.replicated else "not-replicated",
                   best=last.value, relative=last.relative, relative_low=last.relative_low,
                   relative_high=last.relative_high, seeds=last.seeds)
