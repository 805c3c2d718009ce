"""Why a candidate was kept, discarded, quarantined or blocked, read from a run's journal;
and the quarantine review (`ladder agent review`).

Pure functions of the journal's records (`ladder.agent.journal.read_records`), so they
work on a finished run, a running one (read without its lock) and a copied journal.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ladder.errors import LadderError

REVIEW = "review"  # the kind of a review record
RECHECK = "recheck"  # the kind of a quarantined candidate's re-evaluation on fresh seeds


def decisions(records: Sequence[Mapping[str, Any]]) -> dict[int, Mapping[str, Any]]:
    """Iteration -> the data of its (last) decision record."""
    out: dict[int, Mapping[str, Any]] = {}
    for rec in records:
        if rec.get("kind") == "decision":
            out[int(rec["data"]["iteration"])] = rec["data"]
    return out


def _by_iteration(records: Sequence[Mapping[str, Any]], kind: str) -> dict[int, Mapping[str, Any]]:
    out: dict[int, Mapping[str, Any]] = {}
    for rec in records:
        data = rec.get("data") or {}
        if rec.get("kind") == kind and "iteration" in data:
            out[int(data["iteration"])] = data
    return out


def quarantined(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The quarantined candidates, oldest first: iteration, commit, description, reasons,
    the re-check on fresh seeds when there was one, and the review when a person decided
    (`reviewed` is "" while none has)."""
    rechecks = _by_iteration(records, RECHECK)
    reviews = _by_iteration(records, REVIEW)
    out: list[dict[str, Any]] = []
    for it, data in sorted(decisions(records).items()):
        verdict = data.get("verdict") or {}
        if verdict.get("status") != "quarantine":
            continue
        cand = data.get("candidate") or {}
        review = reviews.get(it)
        out.append({
            "iteration": it,
            "commit": cand.get("commit", ""),
            "parent": cand.get("parent", ""),
            "description": cand.get("description", ""),
            "reasons": list(verdict.get("reasons", [])),
            "anomalies": list((verdict.get("stats") or {}).get("anomalies", [])),
            "recheck": dict(rechecks[it]) if it in rechecks else None,
            "reviewed": str(review.get("action", "")) if review else "",
            "why": str(review.get("why", "")) if review else "",
        })
    return out


def review_record(
    records: Sequence[Mapping[str, Any]], iteration: int, action: str, why: str = ""
) -> dict[str, Any]:
    """The data of the "review" record a person's decision on a quarantined candidate
    writes (action "keep" or "reject"); an error when the iteration is not a quarantined
    candidate awaiting review."""
    if action not in ("keep", "reject"):
        raise LadderError(f"unknown review action {action!r}", todo="use --keep IT or --reject IT")
    pending = {q["iteration"]: q for q in quarantined(records)}
    if iteration not in pending:
        known = ", ".join(str(i) for i in sorted(pending)) or "none"
        raise LadderError(
            f"iteration {iteration} is not a quarantined candidate of this run",
            todo=f"quarantined iterations: {known}",
        )
    entry = pending[iteration]
    if entry["reviewed"]:
        raise LadderError(
            f"iteration {iteration} was already reviewed ({entry['reviewed']})",
            todo="a review is final; the journal keeps it",
        )
    if action == "keep" and not entry["commit"]:
        raise LadderError(f"iteration {iteration} has no commit to keep")
    return {
        "iteration": iteration,
        "action": action,
        "commit": entry["commit"],
        "why": why,
        "anomalies": entry["anomalies"],
    }


def explain(records: Sequence[Mapping[str, Any]], iteration: int) -> str:
    """Why iteration `iteration` ended as it did: its statistics, and in words."""
    data = decisions(records).get(iteration)
    if data is None:
        known = sorted(decisions(records))
        span = f"{known[0]}..{known[-1]}" if known else "none yet"
        raise LadderError(f"no decision for iteration {iteration} in this run",
                          todo=f"decided iterations: {span}")
    verdict = data.get("verdict") or {}
    stats: Mapping[str, Any] = verdict.get("stats") or {}
    cand = data.get("candidate") or {}
    status = str(verdict.get("status", "?"))
    unverified = bool(stats.get("unverified"))
    lines = [f"iteration {iteration}: {status.upper()}"
             + ("  (UNVERIFIED: crude decision, one seed, keep if better)" if unverified else "")]
    if cand.get("description"):
        lines.append(f"  change: {cand['description']}")
    if cand.get("commit"):
        lines.append(f"  commit {str(cand['commit'])[:12]}  parent {str(cand.get('parent', ''))[:12]}")
    if status == "blocked":
        kind = stats.get("kind", "hook")
        lessons = ", ".join(stats.get("lessons") or []) or "-"
        lines.append(f"  refused before evaluation ({kind}); lessons: {lessons}")
    else:
        lines += _numbers(stats)
    lines.append("  why:")
    lines += [f"    - {r}" for r in verdict.get("reasons", [])] or ["    - (no reason recorded)"]
    lines += _output(status, stats)
    if status == "keep" and not _scored(records, iteration):
        lines.append("  trust: self-reported metric: the candidate can forge it; configure `score`")
    lines += _after(records, iteration)
    return "\n".join(lines)


OUTPUT_LINES = 12  # of a crash's or a refused commit's output


def _output(status: str, stats: Mapping[str, Any]) -> list[str]:
    """The end of what a crash printed (its traceback) or of what the hooks said when
    they refused the commit: the journal has it, and the reader needs it (issue 14)."""
    from ladder.agent.console import tail_lines

    text = stats.get("tail") if status == "crash" else stats.get("output") if status == "blocked" else ""
    shown = tail_lines(str(text or ""), OUTPUT_LINES)
    if not shown:
        return []
    what = "the evaluation's output ends with" if status == "crash" else "the hooks said"
    return [f"  {what}:", *(f"    | {line}" for line in shown)]


def _scored(records: Sequence[Mapping[str, Any]], iteration: int) -> bool:
    """Did the protected scorer give the metrics of this iteration's evaluations?"""
    found = [r["data"] for r in records if r.get("kind") == "evaluation"
             and (r.get("data") or {}).get("iteration") == iteration and r["data"].get("ok")]
    return bool(found) and all(d.get("scored") for d in found)


_STOPS = {
    "efficacy": "the improvement was shown",
    "futility": "futility",
    "cap": "the seed cap",
    "guard": "a guard",
    "min_effect": "below the minimum effect",
    "replication": "it did not replicate on fresh seeds",
}


def _numbers(stats: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    rule = stats.get("rule", "")
    n = stats.get("n")
    if n is not None:
        looks = stats.get("looks")
        planned = (f" (looks at {', '.join(str(x) for x in looks)})"
                   if isinstance(looks, list) and looks else "")
        confirm = stats.get("n_confirm")  # journals of the earlier two-stage test
        extra = f", {confirm} of them fresh for the confirmation" if confirm is not None else ""
        stop = stats.get("stop")
        why = f"; stopped: {_STOPS.get(str(stop), stop)}" if stop else ""
        out.append(f"  rule: {rule or '-'}; paired seeds: {n}{extra}{planned}{why}")
    screen = stats.get("screen")
    if isinstance(screen, Mapping):
        out.append(f"  screen: {screen.get('n')} seed(s), improvement {_g(screen.get('effect'))}, "
                   f"p={_g(screen.get('p'))}")
    if "effect" in stats:
        ci = stats.get("ci")
        ci_words = f", 95% CI {_g(ci[0])} to {_g(ci[1])}" if isinstance(ci, list) and len(ci) == 2 else ""
        out.append(f"  effect: improvement {_g(stats.get('effect'))} (positive = better; "
                   f"candidate - parent {_g(stats.get('delta'))}){ci_words}")
    if "p" in stats or "alpha" in stats:
        test = stats.get("fdr_test", stats.get("test"))
        method = "ADDIS" if "fdr_test" in stats else "LORD++"
        bound = (f"z={_g(stats.get('z'))} against the boundary {_g(stats.get('bound'))}; "
                 if "bound" in stats else "")
        out.append(f"  test: {bound}p={_g(stats.get('p'))}, alpha={_g(stats.get('alpha'))}"
                   + (f" ({method} test {test})" if test is not None else "")
                   + (f", minimum effect {_g(stats.get('min_effect'))}" if "min_effect" in stats else ""))
    if "noise" in stats:
        out.append(f"  noise: sd {_g(stats.get('sd'))} per paired seed (its own seeds' "
                   f"{_g(stats.get('own_sd'))}), prior sd {_g(stats.get('prior_sd'))} with "
                   f"{_g(stats.get('prior_df'))} df from {stats.get('noise')}")
    if stats.get("label"):
        out.append(f"  kept as: {stats['label']}")
    guards = stats.get("guards") or {}
    for name, g in sorted(guards.items()):
        if g.get("missing"):
            out.append(f"  guard {name}: MISSING (the candidate did not report it)")
            continue
        word = "ok" if g.get("ok") else "FAILED"
        upper = g.get("upper")
        out.append(f"  guard {name}: {word}, regression {_pct(g.get('regression'))}"
                   + (f" (upper bound {_pct(upper)})" if upper is not None else "")
                   + f", margin {_pct(g.get('margin'))}")
    for name, t in sorted((stats.get("tracked") or {}).items()):
        out.append(f"  tracked {name} (undeclared): moved {_g(t.get('delta'))}, p={_g(t.get('p'))}")
    anomalies = stats.get("anomalies") or []
    out.append("  anomalies: " + ("; ".join(anomalies) if anomalies else "none"))
    return out


def _after(records: Sequence[Mapping[str, Any]], iteration: int) -> list[str]:
    out: list[str] = []
    recheck = _by_iteration(records, RECHECK).get(iteration)
    if recheck:
        fresh = (recheck.get("verdict") or {}).get("stats", {}).get("recheck") or recheck.get("recheck") or {}
        persisted = (recheck.get("verdict") or {}).get("stats", {}).get("persisted")
        out.append(f"  re-check on fresh seeds: n={fresh.get('n')}, improvement "
                   f"{_g(fresh.get('effect'))}, p={_g(fresh.get('p'))}; anomaly "
                   + ("persisted" if persisted else "did not persist" if persisted is not None else "?"))
    review = _by_iteration(records, REVIEW).get(iteration)
    if review:
        why = f": {review.get('why')}" if review.get("why") else ""
        out.append(f"  reviewed by a person: {review.get('action')}{why}")
    return out


def _g(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value) if value is not None else "-"
    if isinstance(value, (int, float)):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    return str(value)


def _pct(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return f"{value:.1%}"
    return _g(value)
