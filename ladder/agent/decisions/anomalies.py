"""Results too good to be true: artifact signals, and effects far above the run's history.

Two different things, handled differently (docs/verification.md, section 5):

- **Artifact signals** say the measurement itself is suspect: a declared metric outside
  its plausible `bounds`, the evaluation's time collapsing (work skipped), a target that
  ignores the seed. They quarantine the candidate for a person.
- **A large effect** (a robust z against the run's history of effects above
  `z_threshold`) may well be real -- far from an optimum, real gains are large. It is
  re-checked on fresh seeds automatically and kept as "large effect, replicated" when it
  replicates and no artifact signal fires; quarantined when it does not.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from ladder.agent.config import AgentConfig, MetricSpec, VerifySettings
from ladder.agent.decisions.base import Pair, mean, outside_bounds
from ladder.agent.records import Candidate, EvalResult

MAD_SCALE = 1.4826  # MAD of a normal sample times this estimates its sigma
MEANAD_SCALE = 1.253314  # ... and its mean absolute deviation times this


@dataclass(frozen=True)
class Signals:
    """What the anomaly checks found on one set of paired results."""

    artifacts: tuple[str, ...] = ()  # bounds, time collapse, seed ignored
    z: float | None = None  # robust z of the effect against the run's history
    large: str = ""  # why the effect is large ("" when it is not)
    time_ratio: float | None = None
    extra: dict[str, float] = field(default_factory=dict)
    collapsed: bool = False  # one of `artifacts` is the time collapse

    @property
    def timing_only(self) -> bool:
        """The only artifact signal is the time collapse: a comparison of wall times
        taken at different moments (a parent's results are shared), which a machine
        busier at one of them fakes; the other signals read the values themselves."""
        return self.collapsed and len(self.artifacts) == 1

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"z": self.z, "time_ratio": self.time_ratio}
        if self.large:
            out["z_anomaly"] = self.large
        return out


def robust_z(value: float, history: Sequence[float]) -> float | None:
    """(value - median) / robust sigma of `history` (Iglewicz & Hoaglin's modified z-score).

    The sigma is 1.4826 x MAD; when the MAD is zero (over half the history equal),
    1.2533 x the mean absolute deviation; None when both are zero or history is empty.
    """
    if not history:
        return None
    med = statistics.median(history)
    deviations = [abs(h - med) for h in history]
    scale = MAD_SCALE * statistics.median(deviations)
    if scale == 0:
        scale = MEANAD_SCALE * math.fsum(deviations) / len(deviations)
    if scale == 0:
        return None
    return (value - med) / scale


def effect_history(history: Sequence[Candidate], target: MetricSpec) -> list[float]:
    """The improvements (positive = better) of the run's evaluated candidates."""
    out: list[float] = []
    for c in history:
        if c.status in ("keep", "discard") and c.effect is not None and math.isfinite(c.effect):
            out.append(-c.effect if target.direction == "min" else c.effect)
    return out


def signals(
    config: AgentConfig,
    pairs: Sequence[Pair],
    diffs: Sequence[float],
    candidate: Sequence[EvalResult],
    history: Sequence[Candidate] = (),
    earlier: Sequence[tuple[float, float]] = (),
) -> Signals:
    """Every anomaly check on one decision's paired results; `earlier`: the (parent,
    candidate) target values of the same candidate on other seeds (a re-check's first
    look), which the seed check counts too."""
    s: VerifySettings = config.verify
    target = config.target
    found: list[str] = []
    for result in candidate:
        for spec in config.metrics.values():
            value = result.metrics.get(spec.name)
            why = outside_bounds(spec, value) if value is not None else ""
            if why:
                found.append(f"seed {result.seed}: {why}")
    effect = mean(diffs)
    ratio = None
    collapsed = False
    parent_time = mean([p.seconds for p, _ in pairs])
    if pairs and parent_time > 0:
        ratio = mean([c.seconds for _, c in pairs]) / parent_time
        if ratio < s.time_collapse and effect > 0:
            collapsed = True
            found.append(f"evaluation time collapsed to {ratio:.0%} of the parent's "
                         f"({ratio * parent_time:.3g}s vs {parent_time:.3g}s): was work skipped?")
    values = [(p.metrics[target.name], c.metrics[target.name]) for p, c in pairs] + list(earlier)
    if len(values) >= 2:
        cand_values = {c for _, c in values}
        parent_values = {p for p, _ in values}
        if len(cand_values) == 1 and len(parent_values) > 1:
            found.append(f"{target.name} is identical on all {len(values)} seeds while the "
                         f"parent's varies: the candidate ignores the seed")
    past = effect_history(history, target)
    z = robust_z(effect, past) if len(past) >= s.min_history else None
    large = ""
    if z is not None and z > s.z_threshold:
        large = (f"the effect {effect:.4g} is {z:.1f} robust sigmas above the run's history of "
                 f"effects (threshold {s.z_threshold:g})")
    return Signals(tuple(found), z, large, ratio, collapsed=collapsed)
