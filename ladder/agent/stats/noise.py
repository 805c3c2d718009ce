"""How noisy a paired difference is, estimated from the whole run: borrowing strength
across decisions.

Each decision sees a few paired differences; their sample variance on two or three
seeds is wild. But every decision of a run measures the same kind of noise (the same
evaluation, re-seeded), so the run's decisions together say much more. This is the
empirical-Bayes moderated t of Smyth (2004, "Linear models and empirical Bayes methods
for assessing differential expression in microarray experiments", Statistical
Applications in Genetics and Molecular Biology 3(1), art. 3): the decisions' variances
s_g^2 (d_g degrees of freedom) are modelled as draws around a prior s0^2 with d0
degrees of freedom, estimated by moments of log s_g^2:

    e_g = log s_g^2 - digamma(d_g / 2) + log(d_g / 2)
    var(e) - mean(trigamma(d_g / 2)) = trigamma(d0 / 2)        (d0 = inf when <= 0)
    log s0^2 = mean(e) + digamma(d0 / 2) - log(d0 / 2)

and one decision's variance is moderated toward the prior,

    s~^2 = (d0 s0^2 + d s^2) / (d0 + d),   t = mean / (s~ / sqrt(n)) ~ t(d0 + d),

so a decision on its first seed already has a usable spread, and one whose own spread
is far from the run's (a broken program) leans on its own seeds.

One change to Smyth's moments: s0^2 is the pooled variance, the decisions' sums of
squares over their degrees of freedom, rather than the mean of their log variances. Both
estimate a common variance without bias, but a run's decisions mostly have one or two
degrees of freedom, where a log variance is wild (log chi^2 on 1 df has sd 2.2): with
the dozen decisions of a run's first hours the log mean missed by up to 30%. d0, how much
the decisions' variances differ, still comes from the log moments.

A decision's own variance is biased upward a little by its stopping rule (it goes on
past a seed that looked good and stops after one that did not): the pooled variance came
out about 10% above the truth (in sd) in the benchmark's hill climbs. That errs on the
side of keeping less; it is not corrected.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scipy import special
from scipy import stats as sps

__all__ = ["Moderated", "Pool", "Prior", "moderated", "trigamma_inverse"]


def trigamma_inverse(x: float) -> float:
    """y with trigamma(y) = x (Newton's method, as limma's trigammaInverse)."""
    if x > 1e7:
        return 1 / math.sqrt(x)
    if x < 1e-6:
        return 1 / x
    y = 0.5 + 1 / x
    for _ in range(50):
        tri = float(special.polygamma(1, y))
        step = tri * (1 - tri / x) / float(special.polygamma(2, y))
        y += step
        if -step / y < 1e-8:
            break
    return y


@dataclass(frozen=True)
class Prior:
    """A prior for the variance of one paired difference: s0^2 with d0 degrees of
    freedom, and where it came from (said in the journal)."""

    s2: float
    df: float  # 0: no prior (a decision uses its own seeds only)
    source: str

    @property
    def sd(self) -> float:
        return math.sqrt(self.s2)


NO_PRIOR = Prior(0.0, 0.0, "none: each decision's own seeds")


@dataclass
class Pool:
    """Running moments of the finished decisions' log-variances of one metric."""

    count: int = 0  # decisions with a positive variance on >= 2 seeds
    df: float = 0.0
    sum_e: float = 0.0
    sum_e2: float = 0.0
    sum_trigamma: float = 0.0
    zeros: int = 0  # decisions whose differences were all equal
    sum_ss: float = 0.0  # sums of squares (s^2 x df): the pooled variance's numerator

    def add(self, s2: float, df: int) -> None:
        if df < 1 or not math.isfinite(s2):
            return
        if s2 <= 0:
            self.zeros += 1
            return
        half = df / 2
        e = math.log(s2) - float(special.digamma(half)) + math.log(half)
        self.count += 1
        self.df += df
        self.sum_ss += s2 * df
        self.sum_e += e
        self.sum_e2 += e * e
        self.sum_trigamma += float(special.polygamma(1, half))

    def prior(self) -> Prior | None:
        """Smyth's (s0^2, d0) from the decisions so far (None before two of them)."""
        if self.zeros > self.count and self.zeros >= 2:
            return Prior(0.0, float(self.zeros), f"{self.zeros} decisions without spread")
        g = self.count
        if g < 2:
            return None
        mean = self.sum_e / g
        var = max(0.0, (self.sum_e2 - g * mean * mean) / (g - 1))
        excess = var - self.sum_trigamma / g
        if excess > 0:
            d0 = 2 * trigamma_inverse(excess)
            log_s2 = mean + float(special.digamma(d0 / 2)) - math.log(d0 / 2)
        else:
            d0 = math.inf
            log_s2 = mean
        d0 = min(d0, self.df)  # no more certain than the seeds it came from
        s2 = self.sum_ss / self.df if self.sum_ss > 0 else math.exp(log_s2)  # (older states)
        return Prior(s2, d0, f"pooled over {g} decisions ({self.df:.0f} df)")

    def spread(self) -> Prior | None:
        """The decisions' pooled variance on all their degrees of freedom (None before
        any): what an F test against the calibration's bound compares. Smyth's d0
        (`prior`) counts how much the decisions differ from one another, not how well
        their average variance is known; with scattered spreads it stayed near two after
        eighteen degrees of freedom and the bound, seven times too wide, never tested
        loose."""
        if self.df <= 0 or self.sum_ss <= 0:
            return None
        return Prior(self.sum_ss / self.df, self.df, f"pooled over {self.count} decisions")

    def state(self) -> dict[str, float]:
        return {"count": self.count, "df": self.df, "sum_e": self.sum_e, "sum_e2": self.sum_e2,
                "sum_trigamma": self.sum_trigamma, "zeros": self.zeros, "sum_ss": self.sum_ss}

    @classmethod
    def restore(cls, state: Mapping[str, Any]) -> Pool:
        return cls(int(state.get("count", 0)), float(state.get("df", 0.0)),
                   float(state.get("sum_e", 0.0)), float(state.get("sum_e2", 0.0)),
                   float(state.get("sum_trigamma", 0.0)), int(state.get("zeros", 0)),
                   float(state.get("sum_ss", 0.0)))


LOOSE = 0.05  # the calibration's upper bound is set aside once the decisions show, at
# this level, that the paired spread is smaller (a one-sided F test)


def combine(pool: Pool, calibration: Prior | None, floor_s2: float = 0.0,
            floor_df: float = math.inf) -> Prior:
    """The prior a decision uses: the run's decisions once they carry at least as many
    degrees of freedom as the calibration (and five decisions), or as soon as they show
    the calibration's upper bound to be loose (pairing cancels most of the seed-to-seed
    spread the calibration sees: a one-sided F test at LOOSE on all their degrees of
    freedom); before that both, weighted by their degrees of freedom, the calibration's
    weight at most the decisions' (`_blend`); never below the re-run noise floor (see
    `_floored`)."""
    pooled = pool.prior()
    if pooled is not None and (calibration is None or (pool.count >= 5 and pooled.df >= calibration.df)):
        chosen = pooled
    elif pooled is not None and calibration is not None and _loose(pool.spread(), calibration):
        chosen = Prior(pooled.s2, pooled.df,
                       f"{pooled.source}; the calibration's upper bound is loose")
    elif pooled is not None and calibration is not None:
        chosen = _blend(pooled, calibration)
    else:
        chosen = calibration or NO_PRIOR
    return _floored(chosen, floor_s2, floor_df)


def _blend(pooled: Prior, calibration: Prior) -> Prior:
    """The decisions' prior and the calibration's bound, weighted by degrees of freedom,
    the bound's weight at most the decisions'.

    The decisions' d0 says how much any one shared variance tells about the next
    decision's (Smyth's model: their true variances scatter around s0^2 with d0 degrees
    of freedom); the calibration's bound is one more shared variance, and an inflated
    one. Weighed on its own k - 1 seeds it held a demo's early decisions at a paired
    spread five times the truth: a learning rate doubled, -0.19 on six seeds with a
    paired sd of 0.026, missed alpha by a hair (p 0.00045 > 0.0004), and with the
    decisions' spreads scattered (d0 about 2) the bound came back at full weight later and
    dropped a real gain after one seed."""
    weight = min(calibration.df, pooled.df)
    df = pooled.df + weight
    s2 = (pooled.df * pooled.s2 + weight * calibration.s2) / df
    return Prior(s2, df, f"calibration and {pooled.source}")


def _floored(chosen: Prior, floor_s2: float, floor_df: float) -> Prior:
    """A paired difference is at least as noisy as two re-runs of one program (2 x the
    re-run variance, `floor_s2`), so an estimate below that floor is raised.

    The floor is itself an estimate, on `floor_df` degrees of freedom: the re-run
    spread of a calibration on three seeds rests on two, and a two-df variance is above
    twice the truth one time in seven. Held as a hard floor (on one df) it overruled the
    pooled spread of five decisions and discarded a 14-sigma improvement (issue 10's
    numpy project). When the order is violated the two are pooled, weighted by their degrees
    of freedom: the maximum-likelihood estimate of two normal variances under the
    order restriction (Robertson, Wright & Dykstra 1988, "Order Restricted Statistical
    Inference", ch. 1). A floor of infinite weight (journals written before it carried
    its degrees of freedom) is the old hard floor."""
    if chosen.df <= 0 or chosen.s2 >= floor_s2:
        return chosen
    if not math.isfinite(floor_df):
        return Prior(floor_s2, chosen.df, chosen.source + ", raised to the re-run noise floor")
    df = chosen.df + floor_df
    s2 = (chosen.df * chosen.s2 + floor_df * floor_s2) / df
    return Prior(s2, df, chosen.source + f", pooled with the re-run noise floor ({floor_df:.0f} df)")


def _loose(pooled: Prior | None, calibration: Prior) -> bool:
    """Is the pooled variance significantly below the calibration's bound?"""
    if pooled is None or pooled.df < 2 or calibration.df < 1 or pooled.s2 <= 0 or calibration.s2 <= 0:
        return False
    return pooled.s2 < calibration.s2 * float(sps.f.ppf(LOOSE, pooled.df, calibration.df))


@dataclass(frozen=True)
class Moderated:
    """The moderated one-sample t statistic of mean > 0 on n values."""

    n: int
    mean: float
    own_sd: float  # the values' own sample sd (0 when n < 2)
    sd: float  # the moderated sd of one value
    df: float  # d0 + n - 1 (0: no test possible)
    t: float
    p: float  # one-sided p of "mean <= 0"

    @property
    def se(self) -> float:
        return self.sd / math.sqrt(self.n) if self.n else math.nan

    def interval(self, level: float = 0.95) -> tuple[float, float] | None:
        if self.df <= 0 or self.n == 0:
            return None
        half = float(sps.t.ppf(0.5 + level / 2, self.df)) * self.se
        return (self.mean - half, self.mean + half)

    def upper(self, level: float) -> float:
        """The one-sided upper confidence bound of the mean (inf without a test)."""
        if self.df <= 0 or self.n == 0:
            return math.inf
        return self.mean + float(sps.t.ppf(level, self.df)) * self.se


def moderated(values: Sequence[float], prior: Prior,
              spread: Sequence[float] | None = None) -> Moderated:
    """The moderated t of `values` (prior.df 0: the ordinary t-test; n < 2 and no prior:
    no test, p = 1). With zero spread, the sign of the mean decides (p 0, 0.5 or 1).

    `spread`, when given, are the values whose sample variance is the decision's own
    (`values` among them): a replication tests its fresh seeds' mean with the spread of
    all the candidate's seeds, so that one fresh seed is never judged on the prior alone."""
    n = len(values)
    if n == 0:
        return Moderated(0, 0.0, 0.0, 0.0, 0.0, math.nan, 1.0)
    mean = math.fsum(values) / n
    own_values = values if spread is None else spread
    own = statistics.stdev(own_values) if len(own_values) >= 2 else 0.0
    if own < 1e-13 * max(1.0, abs(mean)):
        own = 0.0
    d = len(own_values) - 1
    df = prior.df + d
    if df <= 0:
        return Moderated(n, mean, own, 0.0, 0.0, math.nan, 1.0)
    s2 = prior.s2 if math.isinf(prior.df) else (prior.df * prior.s2 + d * own * own) / df
    sd = math.sqrt(max(0.0, s2))
    if sd == 0:
        t = math.inf if mean > 0 else -math.inf if mean < 0 else 0.0
        p = 0.0 if mean > 0 else 1.0 if mean < 0 else 0.5
        return Moderated(n, mean, own, 0.0, df, t, p)
    t = mean / (sd / math.sqrt(n))
    p = float(sps.norm.sf(t)) if math.isinf(df) else float(sps.t.sf(t, df))
    return Moderated(n, mean, own, sd, df, t, p)
