"""The run's strategy, convergence and bookkeeping records in words, one function per
kind (a registry, as the loop's other families have): what the report's timeline and
the chart's markers show."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from ladder.agent.records import Outlook
from ladder.agent.report.model import Event

Words = Callable[[Mapping[str, Any], str], str]


def _calibration(d: Mapping[str, Any], target: str) -> str:
    summary = d.get("summary") or (d.get("decision") or {}).get("calibration") or {}
    spread = ((summary.get("metrics") or {}).get(target) or {}).get("seed_sd")
    smallest = summary.get("min_effect")
    return (f"calibration: the baseline twice on the same seeds; {target} seed-to-seed sd "
            f"{_g(spread)}, minimum effect {_g(smallest)}")


def _outlook(d: Mapping[str, Any], target: str) -> str:
    try:
        words = Outlook(**{k: d[k] for k in ("sd", "source", "cap", "alpha", "smallest",
                                             "power")}).words(target)
    except (KeyError, TypeError):
        words = "(unreadable)"
    return f"outlook: {words}" + (f"; NO keep possible: {d['impossible']}" if d.get("impossible") else "")


def _escalation(d: Mapping[str, Any], target: str) -> str:
    why = f" ({d['why']})" if d.get("why") else ""
    return f"strategy: {d.get('from', '?')} -> {d.get('to', '?')}{why}"


def _converged(d: Mapping[str, Any], target: str) -> str:
    return f"converged: {d.get('reason', '')}"


def _revalidation(d: Mapping[str, Any], target: str) -> str:
    flag = "" if d.get("replicated") else " - NOT replicated: treat the gain as noise"
    return (f"re-validation ({d.get('tag', '')}): best #{d.get('iteration', '?')} "
            f"{str(d.get('commit', ''))[:8]} against the baseline on {d.get('n', '?')} fresh "
            f"seed(s): {d.get('headline', '')}{flag}")


def _stop(d: Mapping[str, Any], target: str) -> str:
    return f"stopped: {d.get('reason', '')}"


def _resume(d: Mapping[str, Any], target: str) -> str:
    return (f"resumed at iteration {d.get('next_iteration', '?')} "
            f"({d.get('evaluations_kept', 0)} journaled evaluation(s) reused)")


def _reconfigure(d: Mapping[str, Any], target: str) -> str:
    changes = d.get("changes") or {}
    said = ", ".join(f"{k} {v[0]!r} -> {v[1]!r}" for k, v in changes.items()
                     if isinstance(v, (list, tuple)) and len(v) == 2)
    return f"reconfigured on resume: {said or 'no change'}"


def _tamper(d: Mapping[str, Any], target: str) -> str:
    changed = ", ".join(str(c) for c in (d.get("changed") or [])[:3])
    return f"tamper during the {d.get('window', '?')}: {changed}; rolled back, results discarded"


def _learn_error(d: Mapping[str, Any], target: str) -> str:
    return f"learning failed {d.get('when', '')}: {str(d.get('error', ''))[:200]}; the run went on"


def _infrastructure(d: Mapping[str, Any], target: str) -> str:
    if not d.get("key"):  # about the cluster, not an evaluation
        asked = d.get("asked")
        return f"infrastructure: {d.get('what', '?')}" + (
            f" (one evaluation asks {dict(asked)}, the cluster has {d.get('cluster')})"
            if isinstance(asked, Mapping) else "")
    then = "; it runs again" if d.get("retry") else "; retries spent: the run stopped"
    node = f" on node {str(d['node'])[:12]}" if d.get("node") else ""
    return (f"infrastructure: {d.get('what', '?')}{node}, evaluation {d['key']} (try "
            f"{d.get('attempt', '?')}){then}; not the candidate's failure")


def _recovered(d: Mapping[str, Any], target: str) -> str:
    return "a torn last journal line (a kill mid-write) was cut and noted"


EVENTS: dict[str, Words] = {
    "calibration": _calibration,
    "outlook": _outlook,
    "escalation": _escalation,
    "converged": _converged,
    "revalidation": _revalidation,
    "stop": _stop,
    "resume": _resume,
    "reconfigure": _reconfigure,
    "tamper": _tamper,
    "learn-error": _learn_error,
    "infrastructure": _infrastructure,
    "recovered": _recovered,
}


def event(kind: str, data: Mapping[str, Any], evaluations: int, target: str) -> Event | None:
    """The event a record of `kind` makes, or None for records that are not events."""
    words = EVENTS.get(kind)
    if words is None:
        return None
    it = data.get("iteration")
    return Event(evaluations, it if isinstance(it, int) and not isinstance(it, bool) else None,
                 kind, words(data, target))


def _g(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return f"{value:.4g}"
    return "-"
