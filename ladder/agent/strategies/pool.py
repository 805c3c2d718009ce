"""What every strategy reads from a run's history: the valid parents, their ranking by the
target metric, and the lineage (ancestry) of kept programs.

Everything here is a pure function of the history, so a strategy rebuilt after
`--resume` makes the same choices as the one that was killed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from ladder.agent.config import MetricSpec
from ladder.agent.records import Candidate
from ladder.errors import LadderError

PARENT_STATUSES = frozenset({"keep", "baseline"})

# The feature a crossover candidate carries naming its second parent (the program merged
# into `Candidate.parent`): the merge descends from both, and a pair already tried is not
# merged again. The loop's crossover proposal sets {"operator": "crossover", "second": sha}.
SECOND_PARENT = "second"


def parents(history: Sequence[Candidate]) -> list[Candidate]:
    """The programs a new proposal may start from: the baseline and every verified keep."""
    valid = [c for c in history if c.status in PARENT_STATUSES and c.commit]
    if not valid:
        raise LadderError(
            "the run's history holds no baseline to start from",
            where="agent strategy",
            todo="evaluate the baseline before selecting parents",
        )
    return valid


def score(candidate: Candidate, spec: MetricSpec) -> float | None:
    """The candidate's value of `spec`, oriented so that higher is better (None if absent)."""
    value = candidate.metrics.get(spec.name)
    if value is None:
        return None
    return -value if spec.direction == "min" else value


def ranked(candidates: Iterable[Candidate], spec: MetricSpec) -> list[Candidate]:
    """Best first by `spec`; ties go to the most recent; programs without the metric last."""
    order = list(enumerate(candidates))

    def key(item: tuple[int, Candidate]) -> tuple[bool, float, int]:
        position, candidate = item
        value = score(candidate, spec)
        return (value is None, -(value if value is not None else 0.0), -position)

    return [candidate for _, candidate in sorted(order, key=key)]


def best(candidates: Iterable[Candidate], spec: MetricSpec) -> Candidate:
    return ranked(candidates, spec)[0]


def gains(history: Sequence[Candidate], spec: MetricSpec) -> dict[str, float]:
    """Each parent's estimated improvement over the baseline (higher is better), by commit:
    the sum of the paired effects along its lineage -- a keep's `effect` is candidate
    minus parent on the same seeds. Raw means are measured on different seeds, and
    seed-to-seed noise larger than a verified gain would rank the parent above its
    verified child. A keep without an effect or a known parent falls back to its mean
    against the baseline's. `spec` is the target (the metric `effect` is about)."""
    sign = -1.0 if spec.direction == "min" else 1.0
    base = next((c for c in history if c.status == "baseline"), None)
    base_score = score(base, spec) if base is not None else None
    out: dict[str, float] = {}
    for c in history:  # chronological: a parent comes before its children
        if not c.commit:
            continue
        if c.status == "baseline":
            out[c.commit] = 0.0
        elif c.status == "keep":
            up = out.get(c.parent)
            if up is not None and c.effect is not None and math.isfinite(c.effect):
                out[c.commit] = up + sign * c.effect
            elif (own := score(c, spec)) is not None and base_score is not None:
                out[c.commit] = own - base_score
    return out


def ranked_by_gain(
    candidates: Iterable[Candidate], history: Sequence[Candidate], spec: MetricSpec
) -> list[Candidate]:
    """`candidates` best first by their gain over the baseline (`gains`; ties go to the
    most recent), then those without one in `ranked` order."""
    found = gains(history, spec)
    order = list(enumerate(candidates))
    with_gain = sorted((item for item in order if item[1].commit in found),
                       key=lambda item: (-found[item[1].commit], -item[0]))
    rest = ranked((c for _, c in order if c.commit not in found), spec)
    return [c for _, c in with_gain] + rest


def best_verified(history: Sequence[Candidate], spec: MetricSpec) -> Candidate:
    """The parent with the largest estimated gain over the baseline (`gains`); ties go to
    the most recent."""
    return ranked_by_gain(parents(history), history, spec)[0]


def second_parent(candidate: Candidate) -> str:
    value = candidate.features.get(SECOND_PARENT, "")
    return value if isinstance(value, str) else ""


def ancestry(history: Sequence[Candidate]) -> dict[str, frozenset[str]]:
    """Every committed candidate's ancestors among the history's commits (itself excluded),
    following `Candidate.parent` and, for merges, the second parent."""
    links: dict[str, tuple[str, ...]] = {}
    for c in history:
        if c.commit:
            links[c.commit] = tuple(p for p in (c.parent, second_parent(c)) if p)
    found: dict[str, frozenset[str]] = {}
    for commit in links:
        found[commit] = _walk(commit, links)
    return found


def _walk(start: str, links: Mapping[str, tuple[str, ...]]) -> frozenset[str]:
    seen: set[str] = set()
    todo = list(links.get(start, ()))
    while todo:
        commit = todo.pop()
        if commit in seen or commit == start:
            continue
        seen.add(commit)
        todo.extend(links.get(commit, ()))
    return frozenset(seen)


def related(a: Candidate, b: Candidate, ancestors: Mapping[str, frozenset[str]]) -> bool:
    """Same lineage: one is the other, or an ancestor of it (a merge would add nothing)."""
    if a.commit == b.commit:
        return True
    return a.commit in ancestors.get(b.commit, frozenset()) or b.commit in ancestors.get(
        a.commit, frozenset()
    )


def tried_pairs(history: Sequence[Candidate]) -> set[frozenset[str]]:
    """The pairs of commits a crossover was already attempted on (whatever its verdict)."""
    return {frozenset((c.parent, second_parent(c))) for c in history if second_parent(c)}
