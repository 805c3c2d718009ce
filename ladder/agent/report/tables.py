"""The report's tables read from the journal: counts by verdict, the keeps with their
statistics and diffs, each decision's guard tests, the blocks by lesson with what they
saved, and what the run learned."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ladder.agent.records import Candidate, Verdict
from ladder.agent.replay import Replayed
from ladder.agent.report.model import (
    Blocked,
    Counts,
    GuardCheck,
    GuardPoint,
    Keep,
    Learned,
    Placement,
)
from ladder.agent.report.values import finite, integer, pair

Records = Sequence[Mapping[str, Any]]
Differ = Callable[[str, str], str]  # (parent, commit) -> the diff between them


def counts(state: Replayed, records: Records) -> Counts:
    t = state.tally
    reviewed = {int(r["data"]["iteration"]) for r in records if r.get("kind") == "review"
                and isinstance((r.get("data") or {}).get("iteration"), int)}
    waiting = sum(1 for it, v in state.verdicts.items()
                  if v.status == "quarantine" and it not in reviewed)
    return Counts(
        iterations=t.iterations, evaluated=t.evaluated, kept=t.kept, discarded=t.discarded,
        quarantined=t.quarantined, crashed=t.crashed, blocked=sum(t.blocked.values()),
        tampered=t.tampered, evaluations=t.evaluations,
        refused_by_guard=tuple(sorted(t.refused_by_guard.items())), awaiting_review=waiting,
    )


def keeps(state: Replayed, diff: Differ | None) -> tuple[Keep, ...]:
    out = []
    for cand in state.history:
        if cand.status != "keep":
            continue
        stats = state.verdicts.get(cand.iteration, Verdict("keep")).stats
        out.append(Keep(
            iteration=cand.iteration, commit=cand.commit, parent=cand.parent,
            description=cand.description, improvement=finite(stats.get("effect")),
            ci=pair(stats.get("ci")), p=finite(stats.get("p")),
            seeds=integer(stats.get("n")) or 0, label=str(stats.get("label") or ""),
            guards=_guard_checks(stats),
            diff=diff(cand.parent, cand.commit) if diff and cand.commit and cand.parent else "",
        ))
    return tuple(out)


def _guard_checks(stats: Mapping[str, Any]) -> tuple[GuardCheck, ...]:
    guards = stats.get("guards")
    if not isinstance(guards, Mapping):
        return ()
    return tuple(
        GuardCheck(name=str(name), ok=bool(g.get("ok")), regression=finite(g.get("regression")),
                   upper=finite(g.get("upper")), margin=finite(g.get("margin")) or 0.0,
                   missing=bool(g.get("missing")))
        for name, g in sorted(guards.items()) if isinstance(g, Mapping))


def guard_points(state: Replayed, at: Mapping[int, int]) -> tuple[GuardPoint, ...]:
    return tuple(GuardPoint(at.get(it, 0), it, verdict.status, check)
                 for it, verdict in sorted(state.verdicts.items())
                 for check in _guard_checks(verdict.stats))


def blocked(state: Replayed, records: Records) -> tuple[Blocked, ...]:
    """Blocks by lesson, priced at the run's mean evaluated candidate: its evaluations
    and the wall time of its evaluations."""
    spent = [state.spent_in.get(it, 0) for it, v in state.verdicts.items()
             if v.status not in ("blocked",) and state.spent_in.get(it)]
    times = [float(s) for v in state.verdicts.values()
             if isinstance(s := v.stats.get("seconds"), (int, float)) and v.status != "blocked"]
    per_eval = sum(spent) / len(spent) if spent else 0.0
    per_second = sum(times) / len(times) if times else 0.0
    taught = _taught_ids(records)
    groups: dict[str, list[tuple[Candidate, Verdict]]] = {}
    for cand in state.history:
        verdict = state.verdicts.get(cand.iteration)
        if cand.status != "blocked" or verdict is None:
            continue
        for by in verdict.stats.get("lessons") or [str(verdict.stats.get("kind", "hook"))]:
            groups.setdefault(str(by), []).append((cand, verdict))
    out = [Blocked(by=by, count=len(found), evaluations_saved=len(found) * per_eval,
                   seconds_saved=len(found) * per_second,
                   reason=next((v.reasons[0] for _, v in reversed(found) if v.reasons), ""),
                   examples=tuple(dict.fromkeys(c.description for c, _ in found))[:3],
                   taught=by in taught)
           for by, found in groups.items()]
    return tuple(sorted(out, key=lambda b: (-b.count, b.by)))


def _taught_ids(records: Records) -> set[str]:
    """Lessons taught from failures: by this run's lesson records, or named as taught by
    an earlier run in its summary (`blocked_by_taught_lessons`)."""
    out = {str(r["data"].get("id")) for r in records if r.get("kind") == "lesson"
           and isinstance(r.get("data"), Mapping)}
    for rec in records:
        learned = (rec.get("data") or {}).get("learned") if rec.get("kind") == "stop" else None
        if isinstance(learned, Mapping):
            out.update(str(k) for k in (learned.get("blocked_by_taught_lessons") or {}))
    return out


def learned(records: Records) -> tuple[Learned, ...]:
    return tuple(
        Learned(kind=str(rec["kind"]), action=str(d.get("action", "")), id=str(d.get("id", "")),
                iteration=integer(d.get("iteration")), why=str(d.get("why", "")))
        for rec in records if rec.get("kind") in ("skill", "lesson")
        and isinstance(d := rec.get("data"), Mapping))


def learned_count(records: Records, key: str) -> int | None:
    stops = [r["data"].get("learned") for r in records if r.get("kind") == "stop"
             and isinstance(r.get("data"), Mapping)]
    last = stops[-1] if stops else None
    return integer(last.get(key)) if isinstance(last, Mapping) else None


def placements(records: Records) -> tuple[Placement, ...]:
    """Where the evaluations ran, by node and device, busiest first; () when no
    evaluation record says (fakes, journals from before placements were recorded)."""
    rows: dict[tuple[str, str, str], list[float]] = {}
    for rec in records:
        data = rec.get("data")
        if rec.get("kind") != "evaluation" or not isinstance(data, Mapping):
            continue
        where = data.get("placement")
        if not isinstance(where, Mapping) or not where:
            continue
        key = (str(where.get("node", "")), str(where.get("host", "")), str(where.get("device", "")))
        row = rows.setdefault(key, [0, 0.0, 0])
        row[0] += 1
        row[1] += finite(data.get("seconds")) or 0.0
        row[2] += str(where.get("attempt", "1")) not in ("", "1")
    return tuple(Placement(node, host, device, int(n), seconds, int(retried))
                 for (node, host, device), (n, seconds, retried)
                 in sorted(rows.items(), key=lambda kv: (-kv[1][0], kv[0])))
