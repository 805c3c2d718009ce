"""Guard metrics: a candidate may not regress one beyond its margin (non-inferiority).

Per paired seed the guard's relative regression r = (worse by) / |parent| (positive =
worse). H0: mean r >= margin, rejected -- the guard passes -- when the moderated t of
(margin - r) is significant. The spread of r is borrowed from the run's decisions like
the target's (ladder.agent.stats.noise), so a guard needs a few seeds, not a dozen;
the test is group-sequential (Pocock-like spending of `guard_alpha` over the looks from
the one where the target was shown to improve), so looking again after more seeds does
not inflate its error. A regression beyond the margin at the lower bound is "clear": the
candidate is dropped at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats as sps

from ladder.agent.config import MetricSpec
from ladder.agent.decisions.base import Pair, relative_regressions
from ladder.agent.stats.noise import Prior, moderated
from ladder.agent.stats.sequential import Design

GUARD_GAMMA = 1.0  # Pocock-like: a guard is as likely to be shown at the first look as later


@dataclass(frozen=True)
class GuardTest:
    """One guard's verdict at one look: "pass", "fail" (clearly beyond the margin or
    not shown at the last look), "missing", or "undecided" (more seeds may tell)."""

    name: str
    outcome: str
    margin: float
    regression: float | None  # mean relative regression (positive = worse)
    upper: float | None  # its upper confidence bound at the look's level
    n: int
    sd: float
    prior: str

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.outcome == "pass", "outcome": self.outcome, "margin": self.margin,
                "regression": self.regression, "upper": self.upper, "n": self.n, "sd": self.sd,
                "prior": self.prior, "missing": self.outcome == "missing",
                "clear": self.outcome == "fail"}

    def reason(self) -> str:
        if self.outcome == "missing":
            return f"guard {self.name}: the candidate did not report it"
        bound = (f", upper bound {self.upper:.1%}" if self.upper is not None
                 and math.isfinite(self.upper) else "")
        regression = f"{self.regression:.1%}" if self.regression is not None else "?"
        return (f"guard {self.name} regressed {regression}{bound} (margin {self.margin:.1%}): "
                f"non-inferiority not shown")


def guard_test(
    spec: MetricSpec,
    pairs: Sequence[Pair],
    prior: Prior,
    alpha: float,
    looks: tuple[int, ...],
    start: int,
) -> GuardTest:
    """The guard at the look with len(pairs) seeds; `start` is the look index from which
    the guard is tested (the target's first significant look), `looks` the plan's looks."""
    regressions = relative_regressions(spec, pairs)
    plain = _degenerate(spec, pairs, regressions, prior)
    if plain is not None or regressions is None:
        return plain or GuardTest(spec.name, "missing", spec.margin, None, None, 0, 0.0, "")
    test = moderated([spec.margin - r for r in regressions], prior)
    regression = spec.margin - test.mean
    n = len(regressions)
    if test.df <= 0 or test.sd == 0:  # one seed and no prior, or no spread: the point decides
        outcome = "pass" if regression <= spec.margin else "fail"
        return GuardTest(spec.name, outcome, spec.margin, regression, regression, n, test.sd,
                         prior.source)
    here = _look_index(looks, n)
    design = Design(alpha, looks[start:], GUARD_GAMMA, first=looks[start])
    k = max(0, here - start)
    level = design.spent(k) - (design.spent(k - 1) if k else 0.0)
    bound = design.bounds()[k]
    z = float(sps.norm.isf(test.p)) if test.p > 0 else math.inf
    upper = regression + float(sps.t.isf(max(level, 1e-12), test.df)) * test.se
    lower_p = moderated([r - spec.margin for r in regressions], prior).p  # beyond the margin?
    if z >= bound:
        outcome = "pass"
    elif lower_p < alpha or here >= len(looks) - 1:
        outcome = "fail"
    else:
        outcome = "undecided"
    return GuardTest(spec.name, outcome, spec.margin, regression, upper, n, test.sd, prior.source)


def clear_regression(spec: MetricSpec, pairs: Sequence[Pair], prior: Prior, alpha: float) -> GuardTest:
    """Has the guard regressed beyond its margin beyond doubt (even its lower bound)?
    "fail" when it has, "pass" otherwise (a re-check's question)."""
    regressions = relative_regressions(spec, pairs)
    plain = _degenerate(spec, pairs, regressions, prior)
    if plain is not None or regressions is None:
        return plain or GuardTest(spec.name, "missing", spec.margin, None, None, 0, 0.0, "")
    beyond = moderated([r - spec.margin for r in regressions], prior)
    outcome = "fail" if beyond.df > 0 and beyond.p < alpha else "pass"
    return GuardTest(spec.name, outcome, spec.margin, beyond.mean + spec.margin, None,
                     len(regressions), beyond.sd, prior.source)


def _degenerate(
    spec: MetricSpec, pairs: Sequence[Pair], regressions: list[float] | None, prior: Prior
) -> GuardTest | None:
    """The verdict when no test is needed: the candidate did not report the guard, it
    regressed from a parent at zero, or the parent never reported it."""
    if regressions is None:
        return GuardTest(spec.name, "missing", spec.margin, None, None, len(pairs), 0.0, prior.source)
    if any(not math.isfinite(r) for r in regressions):
        return GuardTest(spec.name, "fail", spec.margin, math.inf, math.inf, len(pairs), 0.0,
                         prior.source)
    if not regressions:  # the parent never reported it: nothing to regress from
        return GuardTest(spec.name, "pass", spec.margin, 0.0, 0.0, 0, 0.0, prior.source)
    return None


def _look_index(looks: tuple[int, ...], n: int) -> int:
    """The index of the last look with at most n seeds."""
    index = 0
    for k, seen in enumerate(looks):
        if seen <= n:
            index = k
    return index


def needed_margin(sd: float, seeds: int, alpha: float, power: float = 0.8) -> float:
    """The margin a guard with per-seed relative noise `sd` needs to pass with `power`
    at `seeds` seeds when it truly does not regress."""
    if sd <= 0 or seeds < 1:
        return 0.0
    return float(sps.norm.isf(alpha) + sps.norm.isf(1 - power)) * sd / math.sqrt(seeds)
