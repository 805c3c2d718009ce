"""Calibration: the run's noise, from the baseline evaluated twice on the same seeds.

For every metric: the **seed-to-seed spread** (sd across the seeds of the first pass) and
the **re-run spread** (sd of the second pass minus the first, over sqrt 2: the
nondeterminism of one evaluation). Each declared metric's first prior for the variance of
a paired difference is 2 x seed-to-seed variance -- what two unrelated programs would
give; pairing only removes spread, so this is an upper bound -- with k - 1 degrees of
freedom, and 2 x re-run variance is a floor (relative to the baseline's mean for
guards, whose margins are relative): an estimate itself, on k - 1 degrees of freedom,
pooled with any estimate that falls below it (stats.noise._floored). The default minimum effect is
max(re-run spread, 0.1 x seed-to-seed spread) of the target.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from ladder.agent.config import AgentConfig, MetricSpec
from ladder.agent.decisions.base import mean
from ladder.agent.records import EvalResult


def measure(
    config: AgentConfig, first: Sequence[EvalResult], second: Sequence[EvalResult]
) -> dict[str, Any]:
    """The calibration record: per-metric noise, the priors, the minimum effect."""
    ok_first = [r for r in first if r.ok]
    by_seed = {r.seed: r for r in second if r.ok}
    names = sorted({n for r in ok_first for n in r.metrics})
    metrics: dict[str, Any] = {}
    for name in names:
        values = [r.metrics[name] for r in ok_first if name in r.metrics]
        diffs = [by_seed[r.seed].metrics[name] - r.metrics[name] for r in ok_first
                 if r.seed in by_seed and name in r.metrics and name in by_seed[r.seed].metrics]
        metrics[name] = {
            "mean": mean(values),
            "seed_sd": statistics.stdev(values) if len(values) >= 2 else 0.0,
            "rerun_sd": statistics.stdev(diffs) / math.sqrt(2) if len(diffs) >= 2 else 0.0,
            "rerun_max": max((abs(d) for d in diffs), default=0.0),
            "rerun_n": len(diffs),
            "n": len(values),
        }
    target = metrics.get(config.target.name, {})
    floor = max(float(target.get("rerun_sd", 0.0)), 0.1 * float(target.get("seed_sd", 0.0)))
    return {
        "n": len(ok_first),
        "metrics": metrics,
        "priors": {spec.name: prior(spec, metrics[spec.name])
                   for spec in config.metrics.values() if spec.name in metrics},
        "min_effect": floor,
        "min_effect_source": "setting" if config.verify.min_effect is not None else "calibration",
    }


def prior(spec: MetricSpec, noise: Mapping[str, Any]) -> dict[str, Any]:
    """The calibration's prior for a paired difference of `spec` (relative for guards)."""
    scale = abs(float(noise["mean"])) if spec.role == "guard" else 1.0
    scale = scale or 1.0
    seed_sd = float(noise["seed_sd"]) / scale
    rerun_sd = float(noise["rerun_sd"]) / scale
    s2 = max(2 * seed_sd**2, 2 * rerun_sd**2)
    what = "relative " if spec.role == "guard" else ""
    return {"s2": s2, "df": max(0, int(noise["n"]) - 1), "floor": 2 * rerun_sd**2,
            "floor_df": max(0, int(noise.get("rerun_n", noise["n"])) - 1),
            "source": f"calibration ({what}seed-to-seed spread of the baseline, an upper bound)"}
