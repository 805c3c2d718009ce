"""Convergence verification: keep a change only when the improvement is real, no guard
regressed, and the result is not too good to be true.

The decision of one candidate against its parent, on paired seeds (parent[i] and
candidate[i] share a seed), in two stages:

1. **Screen** (`first_stage` seeds, default 3): can only stop a candidate. It is dropped
   when its mean improvement of the target is not positive (one-sided paired t-test
   p >= `futility`), when a guard has clearly regressed beyond its margin, or it is
   quarantined when an anomaly shows (a value outside its `bounds`, evaluation time
   collapsing, the seed ignored, an effect far above the run's history of effects).
2. **Confirm** (the remaining `seeds - first_stage` seeds, fresh): a one-sided paired
   t-test of "no improvement" on the confirmation seeds ONLY, at the level alpha_t that
   LORD++ (Ramdas et al. 2017) gives this decision. The screen picked the candidate on
   other seeds, so the confirmation's p-value is valid as it stands: no alpha is spent
   on the screen, and a screened-out candidate costs none of the run's alpha-wealth.
   Keep when p <= alpha_t, the confirmed effect is at least the minimum effect, every
   guard passes its non-inferiority test (upper one-sided bound of its mean relative
   regression below its margin, level `guard_alpha`, on all seeds), and no anomaly.

Every statistic is a pure function of the results; the Verifier's state (LORD++'s test
count and rejection times, the calibration, the decision count) is JSON and is journaled
by the loop after each decision, so a resumed run continues with the same alphas.

See docs/verification.md for each test, its defaults and references.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scipy import stats as sps

from ladder.agent.config import AgentConfig, MetricSpec, VerifySettings
from ladder.agent.decide import outside_bounds
from ladder.agent.records import Candidate, EvalResult, Verdict
from ladder.agent.strategies.pool import score
from ladder.agent.strategies.stuck import mann_kendall

__all__ = ["Lord", "TTest", "Verifier", "VerifySettings", "noninferiority", "robust_z", "t_test"]


# --- statistics ------------------------------------------------------------------------


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


def noninferiority(regressions: Sequence[float], margin: float, alpha: float) -> dict[str, Any]:
    """Is the mean relative regression (positive = worse) below `margin`?

    H0: mean >= margin, rejected (the guard is ok) when the one-sided p < alpha, i.e. when
    the upper (1 - alpha) bound of the mean is below the margin. One value, or no spread:
    the point value decides (nothing better is possible; the crude mode lives with it).
    """
    finite = [r for r in regressions if math.isfinite(r)]
    if len(finite) < len(regressions):  # a regression from zero: unbounded
        return {"ok": False, "margin": margin, "regression": math.inf, "n": len(regressions)}
    shifted = t_test([margin - r for r in finite])  # > 0 when under the margin
    mean = margin - shifted.mean
    if shifted.n < 2 or shifted.sd == 0:
        ok = mean <= margin
        upper = mean
        p = 0.0 if ok else 1.0
    else:
        ok = shifted.p < alpha
        upper = mean + float(sps.t.ppf(1 - alpha, shifted.n - 1)) * shifted.se
        p = shifted.p
    return {"ok": ok, "margin": margin, "regression": mean, "upper": upper, "p": p, "n": shifted.n}


MAD_SCALE = 1.4826  # MAD of a normal sample times this estimates its sigma
MEANAD_SCALE = 1.253314  # ... and its mean absolute deviation times this


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


# --- LORD++ -------------------------------------------------------------------------------


@dataclass
class Lord:
    """LORD++ (Ramdas, Yang, Wainwright & Jordan 2017, "Online control of the false
    discovery rate with decaying memory"), with initial wealth W0 = fdr / 2:

        alpha_t = gamma_t W0 + (fdr - W0) gamma_{t - tau_1} + fdr sum_{j>=2} gamma_{t - tau_j}

    t counts the tests (confirmations), tau_j is the test of the j-th rejection (keep).
    Any nonincreasing gamma summing to at most 1 controls the FDR; ours is geometric,
    gamma_j = (1 - q) q^(j - 1) with q = 1 - 1 / horizon, so the wealth is spent over
    about `horizon` confirmations and every keep refills it (Javanmard & Montanari's
    default sequence is built for thousands of tests: its alphas are tiny for a run's few).
    """

    fdr: float = 0.05
    horizon: int = 10
    tests: int = 0
    rejections: list[int] = field(default_factory=list)

    def gamma(self, j: int) -> float:
        if j < 1:
            return 0.0
        q = 1 - 1 / max(1, self.horizon)
        return (1 - q) * q ** (j - 1) if q > 0 else (1.0 if j == 1 else 0.0)

    def next_alpha(self) -> float:
        t = self.tests + 1
        w0 = self.fdr / 2
        alpha = self.gamma(t) * w0
        for k, tau in enumerate(self.rejections):
            alpha += (self.fdr - w0 if k == 0 else self.fdr) * self.gamma(t - tau)
        return alpha

    def record(self, rejected: bool) -> None:
        self.tests += 1
        if rejected:
            self.rejections.append(self.tests)

    def state(self) -> dict[str, Any]:
        return {"fdr": self.fdr, "horizon": self.horizon, "tests": self.tests,
                "rejections": list(self.rejections)}


# --- pairing ----------------------------------------------------------------------------

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
    return [spec.improvement(c.metrics[spec.name], p.metrics[spec.name]) for p, c in pairs]


def relative_regressions(spec: MetricSpec, pairs: Sequence[Pair]) -> list[float] | None:
    """Per pair, how much worse the candidate is, relative to the parent (None: the
    candidate did not report the metric)."""
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
    if not result.ok:
        return result.reason or "the evaluation failed"
    if config.target.name not in result.metrics:
        return f"no value for the target metric {config.target.name!r}"
    for name in config.metrics:
        value = result.metrics.get(name)
        if value is not None and not math.isfinite(value):
            return f"{name} is {value}"
    return ""


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values) if values else 0.0


def _sd(values: Sequence[float]) -> float:
    return statistics.stdev(values) if len(values) >= 2 else 0.0


def _ci(test: TTest, level: float = 0.95) -> list[float] | None:
    interval = test.interval(level)
    return [interval[0], interval[1]] if interval else None


# --- the Verifier -------------------------------------------------------------------------


_SCREEN_MEMORY = 50  # screens whose spread plans the next confirmation


class Verifier:
    """The verified decision of the loop (see the module docstring)."""

    def __init__(self, config: AgentConfig, state: Mapping[str, Any] | None = None) -> None:
        self.config = config
        self.settings: VerifySettings = config.verify
        s = self.settings
        state = dict(state or {})
        lord = state.get("lord") or {}
        self.lord = Lord(
            fdr=s.fdr,
            horizon=s.horizon,
            tests=int(lord.get("tests", 0)),
            rejections=[int(t) for t in lord.get("rejections", [])],
        )
        self.calibration: dict[str, Any] = dict(state.get("calibration") or {})
        self.decisions = int(state.get("decisions", 0))
        self.keeps = int(state.get("keeps", 0))
        self.quarantined = int(state.get("quarantined", 0))
        self.screen_ss = float(state.get("screen_ss", 0.0))  # pooled screen variance (planning)
        self.screen_df = int(state.get("screen_df", 0))
        # recent screens' spreads: their median plans a confirmation (robust to broken programs)
        self.screen_sds = [float(v) for v in state.get("screen_sds", [])][-_SCREEN_MEMORY:]

    # --- state -------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return {
            "lord": self.lord.state(),
            "calibration": self.calibration,
            "decisions": self.decisions,
            "keeps": self.keeps,
            "quarantined": self.quarantined,
            "screen_ss": self.screen_ss,
            "screen_df": self.screen_df,
            "screen_sds": self.screen_sds[-_SCREEN_MEMORY:],
        }

    @property
    def min_effect(self) -> float:
        if self.settings.min_effect is not None:
            return self.settings.min_effect
        return float(self.calibration.get("min_effect", 0.0))

    def first_stage(self) -> int:
        return max(1, min(self.settings.first_stage, self.config.seeds))

    # --- calibration ------------------------------------------------------------------

    def calibrate(self, first: Sequence[EvalResult], second: Sequence[EvalResult]) -> dict[str, Any]:
        """Noise of every metric from the baseline on k seeds (`first`) and the same
        program on the same seeds again (`second`).

        seed_sd: spread across seeds; rerun_sd: spread of a re-run on the same seed
        (sd of the paired differences / sqrt 2); both in the metric's units. The default
        minimum effect is max(rerun_sd, 0.1 x seed_sd) of the target: an effect smaller
        than what re-running the same program produces, or than a tenth of what changing
        the seed does, is not worth a commit.
        """
        ok_first = [r for r in first if r.ok]
        by_seed = {r.seed: r for r in second if r.ok}
        names = sorted({n for r in ok_first for n in r.metrics})
        metrics: dict[str, Any] = {}
        for name in names:
            values = [r.metrics[name] for r in ok_first if name in r.metrics]
            diffs = [
                by_seed[r.seed].metrics[name] - r.metrics[name]
                for r in ok_first
                if r.seed in by_seed and name in r.metrics and name in by_seed[r.seed].metrics
            ]
            metrics[name] = {
                "mean": _mean(values),
                "seed_sd": _sd(values),
                "rerun_sd": _sd(diffs) / math.sqrt(2) if len(diffs) >= 2 else 0.0,
                "rerun_max": max((abs(d) for d in diffs), default=0.0),
                "n": len(values),
            }
        target = metrics.get(self.config.target.name, {})
        floor = max(float(target.get("rerun_sd", 0.0)), 0.1 * float(target.get("seed_sd", 0.0)))
        self.calibration = {
            "n": len(ok_first),
            "metrics": metrics,
            "min_effect": floor,
            "min_effect_source": "setting" if self.settings.min_effect is not None else "calibration",
        }
        return {**self.calibration, "min_effect": self.min_effect}

    # --- the decision ------------------------------------------------------------------

    def judge(
        self,
        parent: Sequence[EvalResult],
        candidate: Sequence[EvalResult],
        history: Sequence[Candidate],
    ) -> Verdict | int:
        """More seeds to evaluate (an int k > 0), or the final verdict."""
        config = self.config
        target = config.target
        first = self.first_stage()
        total = max(config.seeds, first)
        if not candidate:
            return self._final(Verdict("crash", ("no evaluation of the candidate",), {"n": 0}))
        for result in candidate:
            why = crash_reason(result, config)
            if why:
                stats = {"n": len(candidate), "seed": result.seed, "key": result.key,
                         "tail": result.tail}
                return self._final(Verdict("crash", (f"seed {result.seed}: {why}",), stats))
        pairs, dropped = pairs_of(parent, candidate, target.name)
        notes = [f"seeds without a usable parent result: {dropped}"] if dropped else []
        screening = len(candidate) <= first < total
        diffs = improvements(target, pairs)
        base = self._common(pairs, diffs, history, candidate)
        if not pairs:
            return self._final(Verdict("discard", (*notes, "no paired seeds to compare"),
                                       {**base, "n": 0, "stage": 1}))
        failed = [(n, g) for n, g in base["guards"].items() if not g["ok"]]
        clear_regressions = [(n, g) for n, g in failed if g.get("clear")]
        stage = 1 if screening else 2
        z_only = base["anomalies"] == [base["signals"].get("z_anomaly")]
        if base["anomalies"] and not (z_only and clear_regressions):
            reasons = (*notes, *(f"anomaly: {a}" for a in base["anomalies"]),
                       "quarantined: re-evaluate on fresh seeds; a person decides "
                       "(`ladder agent review`)")
            return self._final(Verdict("quarantine", reasons, {**base, "stage": stage}))
        if clear_regressions:  # a guard regressed beyond its margin beyond doubt: stop now
            reasons = (*notes, *(_guard_reason(n, g) for n, g in clear_regressions))
            return self._final(Verdict("discard", reasons, {**base, "stage": stage}))
        if screening:
            return self._screen(diffs, base, notes, total - len(candidate))
        # the confirmation: the seeds after the screen, or all when there was no screen
        confirm_pairs = pairs[first:] if len(candidate) > first else pairs
        confirm = t_test(improvements(target, confirm_pairs))
        alpha = self.lord.next_alpha()
        ci = _ci(confirm)
        stats = {
            **base,
            "stage": 2 if len(candidate) > first else 1,
            "n_confirm": confirm.n,
            "effect": confirm.mean,
            "delta": -confirm.mean if target.direction == "min" else confirm.mean,
            "ci": ci,
            "p": confirm.p,
            "alpha": alpha,
            "test": self.lord.tests + 1,
            "min_effect": self.min_effect,
        }
        if len(candidate) > first:
            stats["screen"] = _test_stats(t_test(diffs[:first]))
        significant = confirm.p <= alpha
        big_enough = confirm.mean >= self.min_effect and confirm.mean > 0
        keep = significant and big_enough and not failed
        self.lord.record(keep)
        words: list[str] = list(notes)
        words += [_guard_reason(n, g) for n, g in failed]
        shown = _interval_words(ci)
        if not significant:
            words.append(
                f"{target.name}: improvement {confirm.mean:.4g}{shown} over {confirm.n} fresh "
                f"seed(s) is not significant (p={confirm.p:.3g} > alpha={alpha:.3g})")
        elif not big_enough:
            words.append(
                f"{target.name}: improvement {confirm.mean:.4g} is below the minimum effect "
                f"{self.min_effect:.4g}")
        if keep:
            words.append(
                f"{target.name} improved by {confirm.mean:.4g}{shown} over {confirm.n} fresh "
                f"seed(s), p={confirm.p:.3g} <= alpha={alpha:.3g}")
        return self._final(Verdict("keep" if keep else "discard", tuple(words), stats))

    def _screen(
        self, diffs: Sequence[float], base: Mapping[str, Any], notes: Sequence[str], room: int
    ) -> Verdict | int:
        """After the first stage: drop the candidate (futility), or say how many fresh
        seeds its confirmation needs for `power` at this decision's alpha (conditional
        power on the screen's effect), at least `min_confirm` and at most `room`."""
        s = self.settings
        target = self.config.target
        screen = t_test(diffs)
        if screen.n >= 2:
            self.screen_ss += (screen.n - 1) * screen.sd**2
            self.screen_df += screen.n - 1
            self.screen_sds = [*self.screen_sds, screen.sd][-_SCREEN_MEMORY:]
        stats = {**base, "stage": 1, "screen": _test_stats(screen)}
        if screen.p >= s.futility or screen.mean <= 0:
            reason = (f"futility: {target.name} shows no sign of improvement after "
                      f"{screen.n} seed(s) (mean improvement {screen.mean:.4g}, p={screen.p:.2f})")
            return self._final(Verdict("discard", (*notes, reason), stats))
        sd = self.planning_sd(screen)
        alpha = self.lord.next_alpha()
        z_alpha = float(sps.norm.isf(alpha))
        if sd <= 0:
            return max(1, min(room, s.min_confirm))
        needed = _seeds_for_power(screen.mean, sd, alpha, s.power)
        power_at_room = float(sps.norm.cdf(screen.mean * math.sqrt(room) / sd - z_alpha))
        stats["plan"] = {"sd": sd, "alpha": alpha, "needed": needed, "room": room,
                         "power_at_room": power_at_room}
        if needed > room and power_at_room < s.futility_power:
            reason = (f"futility: an improvement of {screen.mean:.4g} would need about {needed} "
                      f"more seeds to confirm at alpha={alpha:.2g}; {room} allowed give it "
                      f"{power_at_room:.0%} power")
            return self._final(Verdict("discard", (*notes, reason), stats))
        return max(1, min(room, max(s.min_confirm, needed)))

    def planning_sd(self, screen: TTest) -> float:
        """The spread of a paired difference, for planning only (never for a test).

        Once five screens are known, the median of the recent screens' spreads and this
        one's: a median, not a pooled variance, because broken programs (a deleted
        optimiser step) have huge paired spreads that say nothing about a contender's.
        Before that, the larger of an 80% upper confidence bound of this screen's spread
        (three seeds can look deceptively tight) and the calibrated re-run spread. Not the
        seed-to-seed spread: pairing on the seed removes most of it, often 90% (the same
        initialisation and batch order on both sides)."""
        if len(self.screen_sds) >= 5:
            return float(statistics.median([*self.screen_sds, screen.sd]))
        metrics = self.calibration.get("metrics", {})
        rerun_sd = float(metrics.get(self.config.target.name, {}).get("rerun_sd", 0.0))
        df = max(1, screen.n - 1)
        upper = screen.sd * math.sqrt(df / float(sps.chi2.ppf(0.2, df)))
        return max(upper, rerun_sd)

    def discard_unfinished(self, why: str) -> Verdict:
        """A candidate whose evaluation stopped before its verification could finish."""
        return self._final(Verdict("discard", (why,), {"n": 0}))

    def _final(self, verdict: Verdict) -> Verdict:
        self.decisions += 1
        if verdict.status == "keep":
            self.keeps += 1
        elif verdict.status == "quarantine":
            self.quarantined += 1
        stats = {"rule": "verified", **verdict.stats, "decision": self.decisions}
        return Verdict(verdict.status, verdict.reasons, stats)

    def _common(
        self,
        pairs: Sequence[Pair],
        diffs: Sequence[float],
        history: Sequence[Candidate],
        candidate: Sequence[EvalResult],
    ) -> dict[str, Any]:
        """What every verdict reports: n, the all-seed effect, guards, tracked, anomalies."""
        target = self.config.target
        effect = _mean(diffs)
        guards = {g.name: self._guard(g, pairs) for g in self.config.guards}
        stats: dict[str, Any] = {
            "n": len(pairs),
            "effect": effect,
            "delta": -effect if target.direction == "min" else effect,
            "diffs": [
                {"seed": c.seed, "parent": p.metrics[target.name],
                 "candidate": c.metrics[target.name], "improvement": d}
                for (p, c), d in zip(pairs, diffs, strict=True)
            ],
            "guards": guards,
            "tracked": self._tracked(pairs),
            "seconds": math.fsum(r.seconds for r in candidate),
        }
        anomalies, signals = self._anomalies(pairs, diffs, history, candidate)
        stats["anomalies"] = anomalies
        stats["signals"] = signals
        return stats

    def _guard(self, spec: MetricSpec, pairs: Sequence[Pair]) -> dict[str, Any]:
        regressions = relative_regressions(spec, pairs)
        if regressions is None:
            return {"ok": False, "margin": spec.margin, "regression": None, "missing": True,
                    "clear": True}
        result = noninferiority(regressions, spec.margin, self.settings.guard_alpha)
        # "clear": even the lower bound is beyond the margin (the screen may stop on it)
        test = t_test([r - spec.margin for r in regressions if math.isfinite(r)])
        result["clear"] = (not result["ok"]) and (
            result["regression"] == math.inf or (test.n >= 2 and test.p < self.settings.guard_alpha)
        )
        return result

    def _tracked(self, pairs: Sequence[Pair]) -> dict[str, Any]:
        declared = set(self.config.metrics)
        names = sorted({n for p, c in pairs for n in c.metrics if n in p.metrics} - declared)
        out: dict[str, Any] = {}
        for name in names:
            deltas = [c.metrics[name] - p.metrics[name] for p, c in pairs
                      if name in c.metrics and name in p.metrics
                      and math.isfinite(c.metrics[name]) and math.isfinite(p.metrics[name])]
            if len(deltas) < 2:
                continue
            p = two_sided_p(deltas)
            if p < self.settings.tracked_alpha:
                out[name] = {"delta": _mean(deltas), "p": p, "n": len(deltas)}
        return out

    def _anomalies(
        self,
        pairs: Sequence[Pair],
        diffs: Sequence[float],
        history: Sequence[Candidate],
        candidate: Sequence[EvalResult],
    ) -> tuple[list[str], dict[str, Any]]:
        s = self.settings
        target = self.config.target
        found: list[str] = []
        signals: dict[str, Any] = {}
        for result in candidate:
            for spec in self.config.metrics.values():
                value = result.metrics.get(spec.name)
                why = outside_bounds(spec, value) if value is not None else ""
                if why:
                    found.append(f"seed {result.seed}: {why}")
        effect = _mean(diffs)
        past = effect_history(history, target)
        z = robust_z(effect, past) if len(past) >= s.min_history else None
        signals["z"] = z
        if z is not None and z > s.z_threshold:
            signals["z_anomaly"] = (f"the effect {effect:.4g} is {z:.1f} robust sigmas above the run's "
                                    f"history of effects (threshold {s.z_threshold:g})")
            found.append(signals["z_anomaly"])
        parent_time = _mean([p.seconds for p, _ in pairs])
        cand_time = _mean([c.seconds for _, c in pairs])
        if pairs and parent_time > 0:
            ratio = cand_time / parent_time
            signals["time_ratio"] = ratio
            if ratio < s.time_collapse and effect > 0:
                found.append(f"evaluation time collapsed to {ratio:.0%} of the parent's "
                             f"({cand_time:.3g}s vs {parent_time:.3g}s): was work skipped?")
        if len(pairs) >= 2:
            cand_values = [c.metrics[target.name] for _, c in pairs]
            parent_values = [p.metrics[target.name] for p, _ in pairs]
            if len(set(cand_values)) == 1 and len(set(parent_values)) > 1:
                found.append(f"{target.name} is identical on all {len(pairs)} seeds while the "
                             f"parent's varies: the candidate ignores the seed")
        return found, signals

    # --- quarantine, convergence, re-validation ---------------------------------------

    def recheck(
        self, flagged: Verdict, parent: Sequence[EvalResult], candidate: Sequence[EvalResult]
    ) -> Verdict:
        """The quarantined candidate on fresh seeds: still a quarantine (a person decides),
        with what the fresh seeds show and whether the anomaly persisted."""
        target = self.config.target
        pairs, _ = pairs_of(parent, candidate, target.name)
        crashed = [crash_reason(r, self.config) for r in candidate]
        diffs = improvements(target, [(p, c) for p, c in pairs if c.ok and target.name in c.metrics])
        test = t_test(diffs)
        anomalies, signals = self._anomalies(
            [(p, c) for p, c in pairs if not crash_reason(c, self.config)], diffs, [], candidate)
        first = list(flagged.stats.get("anomalies", []))
        persisted = bool(anomalies) or any(crashed)
        fresh = {
            "n": test.n, "effect": test.mean, "ci": _ci(test), "p": test.p,
            "anomalies": anomalies, "signals": signals, "crashed": [c for c in crashed if c],
            "guards": {g.name: self._guard(g, pairs) for g in self.config.guards},
        }
        words = (f"on {test.n} fresh seed(s) the anomaly persisted: {anomalies[0]}" if anomalies
                 else f"on {test.n} fresh seed(s) no anomaly showed; improvement {test.mean:.4g}"
                 f"{_interval_words(_ci(test))}, p={test.p:.3g}")
        reasons = (*flagged.reasons, words, "a person decides: `ladder agent review RUN "
                   "--keep IT` or `--reject IT`")
        stats = {**flagged.stats, "recheck": fresh, "persisted": persisted, "first_anomalies": first}
        return Verdict("quarantine", reasons, stats)

    def converged(self, history: Sequence[Candidate]) -> str:
        """Why the run has converged, or "".

        Converged when no new verified best came in the last `patience` evaluated
        decisions, the candidates of that window show no improving trend (Mann-Kendall),
        and the expected remaining gain is below the noise floor (the minimum effect):
        keep rate over the window (Laplace: (keeps + 1) / (window + 2)) x the median
        verified gain of a keep x the decisions left in the budget (one more window when
        the budget is unbounded).
        """
        s = self.settings
        target = self.config.target
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
        per_keep = statistics.median(gains) if gains else self.min_effect
        rate = 1 / (len(window) + 2)
        done = sum(1 for c in history if c.status != "baseline")
        budget = self.config.iterations
        left = max(0, budget - done) if budget is not None else len(window)
        expected = rate * per_keep * left
        noise = self.min_effect
        if expected >= noise:
            return ""
        return (f"converged: no verified keep in the last {len(window)} evaluated candidates, "
                f"no improving trend, and the expected remaining gain {expected:.3g} "
                f"(keep rate <= {rate:.2g} x median gain {per_keep:.3g} x {left} decisions left) "
                f"is below the calibrated noise {noise:.3g}")

    def revalidate(
        self, baseline: Sequence[EvalResult], best: Sequence[EvalResult]
    ) -> dict[str, Any]:
        """The best against the baseline on fresh paired seeds: the run's headline."""
        target = self.config.target
        pairs, dropped = pairs_of(baseline, [r for r in best if r.ok], target.name)
        test = t_test(improvements(target, pairs))
        ci = _ci(test)
        base_mean = _mean([p.metrics[target.name] for p, _ in pairs])
        sign = -1 if target.direction == "min" else 1
        delta = sign * test.mean
        scale = abs(base_mean) if base_mean else 1.0
        relative = delta / scale
        rel_ci = sorted(sign * v / scale for v in ci) if ci else None
        half = (rel_ci[1] - rel_ci[0]) / 2 if rel_ci else None
        headline = (f"{target.name} {relative:+.1%} ± {half:.1%} (95% CI)" if half is not None
                    else f"{target.name} {relative:+.1%} (one seed: no interval)")
        replicated = bool(ci is not None and ci[0] > 0)
        return {
            "n": test.n,
            "gain": test.mean,
            "delta": delta,
            "relative": relative,
            "ci": ci,
            "relative_ci": rel_ci,
            "p": test.p,
            "replicated": replicated,
            "headline": headline,
            "dropped": dropped,
            "baseline_mean": base_mean,
        }


def _seeds_for_power(effect: float, sd: float, alpha: float, power: float) -> int:
    """Paired seeds a one-sided t-test needs for `power` against `effect` (the normal
    approximation, refined with t quantiles: with a handful of seeds the t tails are
    what decide), plus one for luck."""
    z = float(sps.norm.isf(alpha) + sps.norm.isf(1 - power))
    n = max(2, math.ceil((z * sd / effect) ** 2))
    for _ in range(4):
        df = max(1, n - 1)
        t = float(sps.t.isf(alpha, df) + sps.t.isf(1 - power, df))
        n = max(2, math.ceil((t * sd / effect) ** 2))
    return n + 1


def effect_history(history: Sequence[Candidate], target: MetricSpec) -> list[float]:
    """The improvements (positive = better) of the run's evaluated candidates."""
    out: list[float] = []
    for c in history:
        if c.status in ("keep", "discard") and c.effect is not None and math.isfinite(c.effect):
            out.append(-c.effect if target.direction == "min" else c.effect)
    return out


def _test_stats(test: TTest) -> dict[str, Any]:
    return {"n": test.n, "effect": test.mean, "p": test.p, "ci": _ci(test)}


def _interval_words(ci: Sequence[float] | None) -> str:
    return f" (95% CI {ci[0]:.4g} to {ci[1]:.4g})" if ci else ""


def _guard_reason(name: str, guard: Mapping[str, Any]) -> str:
    if guard.get("missing"):
        return f"guard {name}: the candidate did not report it"
    upper = guard.get("upper")
    bound = f", upper bound {upper:.1%}" if isinstance(upper, float) and math.isfinite(upper) else ""
    return (f"guard {name} regressed {guard['regression']:.1%}{bound} "
            f"(margin {guard['margin']:.1%}): non-inferiority not shown")


def verified_decide(verifier: Verifier) -> Any:
    """A `Decide` (one call, all seeds already evaluated) driving `verifier`'s stages:
    for callers that evaluate every seed up front (`ladder try`, tests). The staged loop
    calls `judge` itself and evaluates the second stage only when asked."""

    def decide(
        parent: Sequence[EvalResult],
        candidate: Sequence[EvalResult],
        config: Any,
        history: Sequence[Candidate],
    ) -> Verdict:
        n = verifier.first_stage()
        while True:
            outcome = verifier.judge(parent[:n], candidate[:n], history)
            if isinstance(outcome, Verdict):
                return outcome
            if n >= len(candidate):  # asked for seeds that were not evaluated
                why = f"only {len(candidate)} seed(s) evaluated; the verification needs {n + outcome}"
                return verifier.discard_unfinished(why)
            n = min(len(candidate), n + outcome)

    return decide
