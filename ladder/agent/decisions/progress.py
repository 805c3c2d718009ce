"""The run's progress as the verified decision sees it: convergence, and the headline
re-validation of the best against the baseline."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from ladder.agent.config import AgentConfig
from ladder.agent.decisions.base import improvements, mean, pairs_of
from ladder.agent.records import Candidate, EvalResult
from ladder.agent.stats.ttest import t_test
from ladder.agent.strategies.pool import score
from ladder.agent.strategies.stuck import mann_kendall


def converged(
    config: AgentConfig, min_effect: float, history: Sequence[Candidate], left: int | None
) -> str:
    """Why the run has converged, or "".

    Converged when no verified keep came in the last `patience` evaluated decisions, the
    candidates of that window show no improving trend (Mann-Kendall), and the expected
    remaining gain is below the noise floor (the minimum effect): keep rate over the
    window (Laplace: 1 / (window + 2)) x the median verified gain of a keep x the
    decisions the budget has left (`left`; one more window when the budget is open).
    """
    s = config.verify
    target = config.target
    evaluated = [c for c in history if c.status in ("keep", "discard")]
    if len(evaluated) < s.patience:
        return ""
    window = evaluated[-s.patience:]
    if any(c.status == "keep" for c in window):
        return ""
    values = [v for c in window if (v := score(c, target)) is not None]
    if len(values) >= 3:
        _, p_trend = mann_kendall(values)
        if p_trend < 0.05:
            return ""
    gains = [-c.effect if target.direction == "min" else c.effect
             for c in evaluated if c.status == "keep" and c.effect is not None]
    per_keep = statistics.median(gains) if gains else min_effect
    rate = 1 / (len(window) + 2)
    remaining = len(window) if left is None else max(0, left)
    expected = rate * per_keep * remaining
    if expected >= min_effect:
        return ""
    return (f"converged: no verified keep in the last {len(window)} evaluated candidates, "
            f"no improving trend, and the expected remaining gain {expected:.3g} "
            f"(keep rate <= {rate:.2g} x median gain {per_keep:.3g} x {remaining} decisions "
            f"left) is below the calibrated noise {min_effect:.3g}")


def revalidate(
    config: AgentConfig, baseline: Sequence[EvalResult], best: Sequence[EvalResult]
) -> dict[str, Any]:
    """The best against the baseline on fresh paired seeds: the run's headline (the plain
    t interval on those seeds: nothing selected them, so it is unbiased)."""
    target = config.target
    pairs, dropped = pairs_of(baseline, [r for r in best if r.ok], target.name)
    test = t_test(improvements(target, pairs))
    interval = test.interval()
    ci = [interval[0], interval[1]] if interval else None
    base_mean = mean([p.metrics[target.name] for p, _ in pairs])
    sign = -1 if target.direction == "min" else 1
    delta = sign * test.mean
    scale = abs(base_mean) if base_mean else 1.0
    relative = delta / scale
    rel_ci = sorted(sign * v / scale for v in ci) if ci else None
    half = (rel_ci[1] - rel_ci[0]) / 2 if rel_ci else None
    headline = (f"{target.name} {relative:+.1%} ± {half:.1%} (95% CI)" if half is not None
                else f"{target.name} {relative:+.1%} (one seed: no interval)")
    return {"n": test.n, "gain": test.mean, "delta": delta, "relative": relative, "ci": ci,
            "relative_ci": rel_ci, "p": test.p, "replicated": bool(ci is not None and ci[0] > 0),
            "headline": headline, "dropped": dropped, "baseline_mean": base_mean}
