"""Group-sequential testing: error-spending boundaries, crossing probabilities and the
stagewise-ordering p-value, for a one-sided test of "the mean improvement is positive"
looked at after any number of paired seeds.

The canonical joint distribution (Jennison & Turnbull 2000, "Group Sequential Methods
with Applications to Clinical Trials", ch. 3): at look k with information I_k (here the
number of paired seeds), the standardised statistic Z_k is N(theta sqrt(I_k), 1) and the
score Z_k sqrt(I_k) has independent increments. Boundaries come from an alpha-spending
function (Lan & DeMets 1983, Biometrika 70:659): the cumulative type I error spent by
information fraction t is alpha f(t), here the Hwang-Shih-DeCani family (1990, Stat. Med.
9:1439) f(t) = (1 - e^(-gamma t)) / (1 - e^(-gamma)), linear at gamma = 0; gamma = -4 is
close to O'Brien-Fleming, gamma = 1 to Pocock. Looks before `first` seeds spend nothing
(their boundary is +inf: the loop never keeps on one seed).

Crossing probabilities are computed by the recursive numerical integration of
Armitage, McPherson & Rowe (1969) as laid out in Jennison & Turnbull ch. 19: the
sub-density of Z_k on the continuation region, on a Simpson grid, propagated look by
look. Futility stopping is non-binding: boundaries are computed as if the test always
continued, so stopping early for futility only lowers the type I error.

The p-value of a test that stopped at look k with statistic z is the stagewise-ordering
p-value (Fairbanks & Madsen 1982; Jennison & Turnbull 8.4): the probability under the
null of crossing at an earlier look, or of reaching look k and seeing at least z. It is
uniform under the null for the design without futility stopping, and reject-at-alpha
exactly when the boundary is crossed, which is what an online FDR procedure needs.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special
from scipy import stats as sps

__all__ = ["Design", "crossing", "hsd", "schedule"]

_GRID = 121  # Simpson points per look (odd); 16 sd wide: boundaries agree with 241 to 1e-5
_WIDTH = 8.0  # the grid covers the mean +- this many sd, clipped to the continuation region
_TOP = 40.0  # a z-statistic above this is +inf for every purpose here


def hsd(t: float, gamma: float) -> float:
    """The Hwang-Shih-DeCani spending function's share of alpha spent by fraction t."""
    t = min(max(t, 0.0), 1.0)
    if abs(gamma) < 1e-12:
        return t
    return (1 - math.exp(-gamma * t)) / (1 - math.exp(-gamma))


def schedule(first: int, step: int, cap: int) -> tuple[int, ...]:
    """The looks (seeds seen at each) of a test: `first`, then every `step`, up to `cap`."""
    first, step = max(1, min(first, cap)), max(1, step)
    looks = list(range(first, cap, step))
    return (*looks, cap) if not looks or looks[-1] != cap else tuple(looks)


# --- numerical integration -------------------------------------------------------------


_ROOT_2PI = math.sqrt(2 * math.pi)


def _sf(x: float) -> float:
    """The standard normal's upper tail (scipy's sf is slow on scalars)."""
    return 0.5 * math.erfc(x / math.sqrt(2))


def _pdf(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.exp(-0.5 * x * x) / _ROOT_2PI
    return out


@dataclass(frozen=True)
class _Stage:
    """The sub-density of Z_k on a grid over the continuation region of look k:
    `z` the points, `w` Simpson weight x density (their sum is P(still going at k))."""

    info: float
    z: np.ndarray
    w: np.ndarray


def _simpson(lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    z = np.linspace(lo, hi, _GRID)
    h = (hi - lo) / (_GRID - 1)
    weights = np.full(_GRID, 2.0)
    weights[1::2] = 4.0
    weights[0] = weights[-1] = 1.0
    return z, weights * h / 3


def _first(info: float, lower: float, upper: float, theta: float) -> _Stage | None:
    mean = theta * math.sqrt(info)
    lo, hi = max(lower, mean - _WIDTH), min(upper, mean + _WIDTH)
    if lo >= hi:
        return None
    z, weights = _simpson(lo, hi)
    return _Stage(info, z, weights * _pdf(z - mean))


def _beyond(stage: _Stage, info: float, bound: float, theta: float) -> float:
    """P(reach the look after `stage` (at `info`) and see Z >= bound) under drift theta."""
    if bound >= _TOP:
        return 0.0
    step = info - stage.info
    arg = (bound * math.sqrt(info) - stage.z * math.sqrt(stage.info) - theta * step) / math.sqrt(step)
    return float(np.dot(stage.w, special.ndtr(-arg)))


def _below(stage: _Stage, info: float, bound: float, theta: float) -> float:
    """P(reach the look after `stage` and see Z <= bound)."""
    if bound <= -_TOP:
        return 0.0
    step = info - stage.info
    arg = (bound * math.sqrt(info) - stage.z * math.sqrt(stage.info) - theta * step) / math.sqrt(step)
    return float(np.dot(stage.w, special.ndtr(arg)))


def _next(stage: _Stage, info: float, lower: float, upper: float, theta: float) -> _Stage | None:
    mean_step = theta * (info - stage.info)
    centre = (float(np.dot(stage.w, stage.z)) / max(float(stage.w.sum()), 1e-300)
              * math.sqrt(stage.info) + mean_step) / math.sqrt(info)
    lo, hi = max(lower, centre - _WIDTH), min(upper, centre + _WIDTH)
    if lo >= hi or float(stage.w.sum()) < 1e-300:
        return None
    z, weights = _simpson(lo, hi)
    step = info - stage.info
    scale = math.sqrt(info / step)
    arg = (z[:, None] * math.sqrt(info) - stage.z[None, :] * math.sqrt(stage.info) - mean_step)
    density = scale * _pdf(arg / math.sqrt(step)) @ stage.w
    return _Stage(info, z, weights * density)


def crossing(
    infos: Sequence[float],
    upper: Sequence[float],
    lower: Sequence[float] | None = None,
    theta: float = 0.0,
) -> tuple[list[float], list[float]]:
    """P(first crossing of the upper / lower boundary at look k), for every look, with
    absorbing boundaries on both sides (`lower` None: no lower boundary) and drift theta
    per unit of information."""
    lows = list(lower) if lower is not None else [-math.inf] * len(infos)
    ups: list[float] = []
    downs: list[float] = []
    stage: _Stage | None = None
    for k, info in enumerate(infos):
        if k == 0:
            mean = theta * math.sqrt(info)
            ups.append(float(sps.norm.sf(upper[0] - mean)))
            downs.append(float(sps.norm.cdf(lows[0] - mean)))
            stage = _first(info, lows[0], upper[0], theta)
        else:
            if stage is None:  # nothing continues
                ups.append(0.0)
                downs.append(0.0)
                continue
            ups.append(_beyond(stage, info, upper[k], theta))
            downs.append(_below(stage, info, lows[k], theta))
            stage = _next(stage, info, lows[k], upper[k], theta)
    return ups, downs


# --- the design ------------------------------------------------------------------------


@dataclass(frozen=True)
class Design:
    """One decision's sequential test: its level `alpha`, its looks (paired seeds seen
    at each, the last one the cap), the spending function's `gamma`, the fewest seeds
    on which it may stop for efficacy, and its futility rule.

    Futility is part of the design (binding): at look k the test stops for futility when
    Z_k <= a_k, where a_k is the larger of `futility_z` (z = 0: the mean improvement is
    not positive) and the z below which even an optimistic effect -- the `optimism`
    upper confidence bound of the drift -- would cross the last efficacy boundary with
    less than `futility_power` probability (conditional power, Jennison & Turnbull
    ch. 10). The efficacy boundaries spend alpha with the futility exits accounted for,
    and every exit -- efficacy, futility, the cap -- has its stagewise p-value, exactly
    uniform under a zero effect and larger under a harmful one. That matters to ADDIS,
    which discards large p-values: a futility stop must report its real p-value, not 1
    (moving those to 1 would leave the remaining null p-values skewed small).
    """

    alpha: float
    looks: tuple[int, ...]
    gamma: float = -2.0
    first: int = 2
    futility_z: float = 0.0
    futility_power: float = 0.1
    optimism: float = 0.8
    power_from: int = 0  # the first look (index) where the conditional-power rule applies

    @property
    def cap(self) -> int:
        return self.looks[-1]

    def _key(self) -> tuple[float, tuple[int, ...], float, int, float, float, float, int]:
        return (round(self.alpha, 15), self.looks, self.gamma, self.first,
                round(self.futility_z, 12), round(self.futility_power, 12), round(self.optimism, 12),
                self.power_from)

    def bounds(self) -> tuple[float, ...]:
        """The efficacy boundary of each look on the z scale (+inf: no stop there)."""
        return _design(*self._key())[0]

    def futility(self) -> tuple[float, ...]:
        """The futility boundary of each look on the z scale (-inf at the last look)."""
        return _design(*self._key())[1]

    def spent(self, k: int) -> float:
        """Cumulative alpha the design may spend by look index k (0-based)."""
        n = self.looks[k]
        return 0.0 if n < self.first else self.alpha * hsd(n / self.cap, self.gamma)

    def p_value(self, k: int, z: float) -> float:
        """The stagewise-ordering p-value of a test that exits at look index k with
        statistic z (crossing either boundary, or reaching the cap)."""
        return _p_value(*self._key(), k, z)


@functools.lru_cache(maxsize=4096)
def _design(
    alpha: float, looks: tuple[int, ...], gamma: float, first: int, futility_z: float,
    futility_power: float, optimism: float, power_from: int,
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(efficacy, futility) boundaries: the futility boundaries from the efficacy design
    without them, then the efficacy boundaries again with the futility exits binding."""
    free = _efficacy(alpha, looks, gamma, first, (-math.inf,) * len(looks))
    lower = _futility(looks, free[-1], futility_z, futility_power, optimism, power_from)
    return _efficacy(alpha, looks, gamma, first, lower), lower


def _futility(
    looks: tuple[int, ...], last: float, futility_z: float, power: float, optimism: float,
    power_from: int,
) -> tuple[float, ...]:
    cap = looks[-1]
    z_opt = float(sps.norm.isf(1 - optimism)) if 0 < optimism < 1 else 0.0
    out: list[float] = []
    for k, n in enumerate(looks[:-1]):
        bound = futility_z
        if power > 0 and math.isfinite(last) and k >= power_from:

            def chance(z: float, n: int = n) -> float:
                theta = (z + z_opt) / math.sqrt(n)  # the optimistic drift per paired seed
                arg = (last * math.sqrt(cap) - z * math.sqrt(n) - theta * (cap - n)) / math.sqrt(cap - n)
                return _sf(arg) - power

            if chance(bound) < 0:
                bound = float(optimize.brentq(chance, bound, _TOP))
        out.append(bound)
    return (*out, -math.inf)


def _efficacy(
    alpha: float, looks: tuple[int, ...], gamma: float, first: int, lower: tuple[float, ...]
) -> tuple[float, ...]:
    """Each look's efficacy boundary, spending alpha f(t) with the `lower` exits binding.
    A boundary never goes below z of a one-sided p of min(0.5, 4 alpha) at its own look:
    with aggressive futility, the null mass left at the end can be smaller than the alpha
    left, and "keep whatever survived" is not a test anyone wants. Such a design spends
    less than alpha (conservative). A look whose futility boundary reaches its efficacy
    boundary ends every test there."""
    cap = looks[-1]
    floor = float(sps.norm.isf(min(0.5, 4 * alpha)))
    out: list[float] = []
    spent = 0.0
    stage: _Stage | None = None
    for k, n in enumerate(looks):
        if k and stage is None:  # the test always ended before this look
            out.append(math.inf)
            continue
        last = k == len(looks) - 1
        target = 0.0 if n < first else alpha if last else alpha * hsd(n / cap, gamma)
        bound = _spend(stage, float(n), target - spent)
        if n >= first and not last and lower[k] >= bound:
            bound = _spend(stage, float(n), alpha - spent)  # the test ends here
            last = True
        if math.isfinite(bound):
            bound = max(bound, floor)
            spent += (float(sps.norm.sf(bound)) if stage is None
                      else _beyond(stage, float(n), bound, 0.0))
        out.append(bound)
        if last:
            stage = None
            continue
        low = min(lower[k], bound)
        stage = (_first(float(n), low, bound, 0.0) if k == 0
                 else _next(stage, float(n), low, bound, 0.0) if stage is not None else None)
    return (*out, *([math.inf] * (len(looks) - len(out))))


def _spend(stage: _Stage | None, info: float, want: float) -> float:
    """The boundary b with P(still going, Z >= b) = want at this look (`stage` None: the
    first look)."""
    if want <= 1e-15:
        return math.inf
    if stage is None:
        return float(sps.norm.isf(min(want, 1.0)))

    def excess(b: float) -> float:
        return _beyond(stage, info, b, 0.0) - want

    if excess(-_TOP) <= 0:
        return -_TOP  # everything still going may stop here
    return float(optimize.brentq(excess, -_TOP, _TOP, xtol=1e-10))


@functools.lru_cache(maxsize=16384)
def _p_value(
    alpha: float, looks: tuple[int, ...], gamma: float, first: int, futility_z: float,
    futility_power: float, optimism: float, power_from: int, k: int, z: float,
) -> float:
    upper, lower = _design(alpha, looks, gamma, first, futility_z, futility_power, optimism,
                           power_from)
    infos = [float(n) for n in looks[: k + 1]]
    earlier, _ = crossing(infos[:k], upper[:k], lower[:k]) if k else ([], [])
    if k == 0:
        here = float(sps.norm.sf(z))
    else:
        stage = _first(infos[0], lower[0], upper[0], 0.0)
        for j in range(1, k):
            if stage is None:
                break
            stage = _next(stage, infos[j], lower[j], upper[j], 0.0)
        here = _beyond(stage, infos[k], z, 0.0) if stage is not None else 0.0
    return min(1.0, max(0.0, math.fsum(earlier) + here))
