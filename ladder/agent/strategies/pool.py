"""What every strategy reads from a run's history: the valid parents, their ranking by the
target metric, and the lineage (ancestry) of kept programs.

Everything here is a pure function of the history, so a strategy rebuilt after
`--resume` makes the same choices as the one that was killed.
"""

from __future__ import annotations

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
