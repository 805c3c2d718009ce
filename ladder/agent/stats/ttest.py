"""The plain one-sample t-test on paired differences (scipy's ttest_1samp), with the
degenerate cases a loop meets: one value, no spread."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats as sps

__all__ = ["TTest", "t_test", "two_sided_p"]


@dataclass(frozen=True)
class TTest:
    """A one-sample t-test of mean(values) > 0 (paired differences: improvements)."""

    n: int
    mean: float
    sd: float  # sample standard deviation (0.0 when n < 2)
    t: float  # +inf / -inf / 0 when sd == 0 and n >= 2; nan when n < 2
    p: float  # one-sided p of "mean <= 0"; 1.0 when no test is possible (n < 2)

    @property
    def se(self) -> float:
        return self.sd / math.sqrt(self.n) if self.n else math.nan

    def interval(self, level: float = 0.95) -> tuple[float, float] | None:
        """Two-sided t confidence interval of the mean (None when n < 2)."""
        if self.n < 2:
            return None
        half = float(sps.t.ppf(0.5 + level / 2, self.n - 1)) * self.se
        return (self.mean - half, self.mean + half)


def t_test(values: Sequence[float]) -> TTest:
    """One-sided one-sample t-test of mean > 0 (scipy's ttest_1samp, alternative="greater").

    Ties: with zero spread the sign of the mean decides (p 0, 0.5 or 1). n < 2: no test
    (p = 1), so a single seed can never show significance.
    """
    n = len(values)
    if n == 0:
        return TTest(0, 0.0, 0.0, math.nan, 1.0)
    mean = math.fsum(values) / n
    if n < 2:
        return TTest(1, mean, 0.0, math.nan, 1.0)
    sd = statistics.stdev(values)
    if sd == 0 or sd < 1e-13 * max(1.0, abs(mean)):
        t = math.inf if mean > 0 else -math.inf if mean < 0 else 0.0
        p = 0.0 if mean > 0 else 1.0 if mean < 0 else 0.5
        return TTest(n, mean, 0.0, t, p)
    t = mean / (sd / math.sqrt(n))
    return TTest(n, mean, sd, t, float(sps.t.sf(t, n - 1)))


def two_sided_p(values: Sequence[float]) -> float:
    """Two-sided p of mean == 0 (1.0 when no test is possible)."""
    test = t_test(values)
    if test.n < 2:
        return 1.0
    return min(1.0, 2 * min(test.p, 1 - test.p))
