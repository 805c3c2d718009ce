"""What every decision rule shares: pairing results by seed, the improvement and relative
regression of a metric, crash reasons and plausible bounds."""

from __future__ import annotations

import math
from collections.abc import Sequence

from ladder.agent.config import AgentConfig, MetricSpec
from ladder.agent.records import EvalResult

Pair = tuple[EvalResult, EvalResult]  # (parent, candidate) on one seed


def pairs_of(
    parent: Sequence[EvalResult], candidate: Sequence[EvalResult], target: str
) -> tuple[list[Pair], list[int]]:
    """Pairs by seed in the candidate's order, and the seeds without a usable parent."""
    by_seed = {r.seed: r for r in parent}
    pairs: list[Pair] = []
    dropped: list[int] = []
    for result in candidate:
        base = by_seed.get(result.seed)
        if base is not None and base.ok and math.isfinite(base.metrics.get(target, math.nan)):
            pairs.append((base, result))
        else:
            dropped.append(result.seed)
    return pairs, dropped


def improvements(spec: MetricSpec, pairs: Sequence[Pair]) -> list[float]:
    """Per pair, how much better the candidate is (positive = better), in the metric's units."""
    return [spec.improvement(c.metrics[spec.name], p.metrics[spec.name]) for p, c in pairs]


def relative_regressions(spec: MetricSpec, pairs: Sequence[Pair]) -> list[float] | None:
    """Per pair, how much worse the candidate is relative to the parent (positive = worse;
    None: the candidate did not report the metric; inf: worse than a parent at zero)."""
    out: list[float] = []
    for parent, cand in pairs:
        new, old = cand.metrics.get(spec.name), parent.metrics.get(spec.name)
        if new is None:
            return None
        if old is None or not math.isfinite(old):
            continue
        worse = -spec.improvement(new, old)
        out.append((0.0 if worse <= 0 else math.inf) if old == 0 else worse / abs(old))
    return out


def crash_reason(result: EvalResult, config: AgentConfig) -> str:
    """Why an evaluation counts as a crash ("" when it does not)."""
    if not result.ok:
        return result.reason or "the evaluation failed"
    if config.target.name not in result.metrics:
        return f"no value for the target metric {config.target.name!r}"
    for name in config.metrics:
        value = result.metrics.get(name)
        if value is not None and not math.isfinite(value):
            return f"{name} is {value}"
    return ""


def outside_bounds(spec: MetricSpec, value: float) -> str:
    """Why `value` is implausible for `spec` ("" when it is within its bounds)."""
    lo, hi = spec.bounds
    if lo is not None and value < lo:
        return f"{spec.name} = {value:g} is below its plausible minimum {lo:g}"
    if hi is not None and value > hi:
        return f"{spec.name} = {value:g} is above its plausible maximum {hi:g}"
    return ""


def mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values) if values else 0.0
