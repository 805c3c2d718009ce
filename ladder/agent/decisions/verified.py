"""The verified decision: keep a change when its improvement is real, no guard regressed,
and the result is not an artifact -- using every seed, and stopping as soon as the answer
is known.

One decision, candidate against parent on paired seeds (parent[i] and candidate[i] share
a seed), looked at after every `step` seeds up to its cap (`seeds`, or fewer when the
evaluation budget is short):

1. **Sequential test of the target** (ladder.agent.stats.sequential): a group-sequential
   one-sided test of "mean improvement > 0" at the level ADDIS gives this decision
   (ladder.agent.stats.online_fdr), with Hwang-Shih-DeCani alpha spending over the looks.
   The statistic is a moderated t (ladder.agent.stats.noise): the spread of a paired
   difference is borrowed from all the run's decisions and the calibration, so one seed
   already says something and a decision does not rest on its own two or three seeds.
   It stops for efficacy when the boundary is crossed (a keep shown on one seed is
   replicated on fresh seeds first) and for futility when the mean improvement is not
   positive (p >= `futility`) or when, were the effect what it looks like now
   (OPTIMISM), it would cross the last boundary with less than `futility_power`
   probability -- the latter once LEARNING decisions have measured the spread, and only
   at looks whose test has POWER_DF degrees of freedom.
2. **Guards**: once the target is shown, every guard must pass its non-inferiority test
   (ladder.agent.decisions.guards); an undecided guard asks for more seeds.
3. **Anomalies** (ladder.agent.decisions.anomalies): an artifact signal quarantines at
   any look; a large effect is re-checked on fresh seeds and kept when it replicates.

What ADDIS is told: every exit's stagewise p-value (sequential.Design), futility and
the cap included -- exactly uniform under a zero effect and large under a harmful one,
which ADDIS discards without spending the run's alpha on them. A candidate that was
significant but not kept (a guard, a too small effect, a quarantine) reports p = 1:
moving p-values from below alpha to 1 keeps the null p-values left below tau
conservative (ADDIS's condition), where moving futility exits to 1 would not.

Every statistic is a pure function of the results; the state (ADDIS's counts, the
calibration, the pooled variance sums, counters) is small JSON, journaled by the loop
after every decision, so a resumed run continues exactly.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scipy import stats as sps

from ladder.agent.config import AgentConfig
from ladder.agent.decisions import calibration, progress
from ladder.agent.decisions.anomalies import Signals, signals
from ladder.agent.decisions.base import (
    Pair,
    crash_reason,
    improvements,
    mean,
    pairs_of,
    relative_regressions,
)
from ladder.agent.decisions.guards import GuardTest, clear_regression, guard_test, needed_margin
from ladder.agent.records import Candidate, EvalResult, Outlook, Plan, Verdict
from ladder.agent.stats.noise import NO_PRIOR, Moderated, Pool, Prior, combine, moderated
from ladder.agent.stats.online_fdr import Addis
from ladder.agent.stats.sequential import Design, schedule
from ladder.agent.stats.ttest import two_sided_p

FIRST_EFFICACY = 1  # a keep shown on one seed is replicated on fresh seeds first
CALIBRATION_SEEDS = 6  # the baseline on this many seeds, twice
MIN_CALIBRATION_SEEDS = 3  # ... or on the seed cap, when smaller, but never fewer than this
LEARNING = 5  # decisions with a measured spread before conditional-power futility
POWER_DF = 2.0  # ... which also needs a test on at least this many degrees of freedom
RESOLUTION = 1e-6  # a decision's paired variance below this share of the calibration's is
# rounding, not noise: left out of the pool (`_pool`)
REPLICATE_ALPHA = 0.05  # a replication's fresh seeds must show the effect at this level
REPLICATE_SEEDS = 5  # ... on at most this many fresh seeds (most replicate on one or two)
# the label of a flagged candidate kept on its fresh seeds, by what flagged it
REPLICATED = {"large-effect": "large effect, replicated",
              "timing": "time signal not repeated, replicated"}
CONSISTENT_ALPHA = 0.001  # ... and the first estimate must not be far above the fresh one
OPTIMISM = 0.5  # futility: conditional power under the current estimate (J&T 10.3)
POWER = 0.8  # "effects above X can be kept": kept this often


def quantize(alpha: float) -> float:
    """`alpha` rounded down to a grid of 50 steps a decade: testing at a slightly lower
    level is always valid, and the designs (costly to compute) repeat."""
    if alpha <= 0:
        return 0.0
    return 10 ** (math.floor(math.log10(alpha) * 50 + 1e-9) / 50)


@dataclass(frozen=True)
class Look:
    """The target's sequential test at one look."""

    index: int
    test: Moderated
    z: float
    bound: float

    @property
    def crossed(self) -> bool:
        return self.z >= self.bound


class VerifiedDecision:
    """The verified decision of the loop (see the module docstring)."""

    name = "verified"
    unverified = False
    min_seeds = 2  # one to show an effect, one fresh to replicate it

    def __init__(self, config: AgentConfig, state: Mapping[str, Any] | None = None) -> None:
        self.config = config
        s = config.verify
        state = dict(state or {})
        self.fdr = Addis.restore(s.fdr, s.addis_tau, s.addis_lambda, state.get("fdr") or {})
        self.calibration: dict[str, Any] = dict(state.get("calibration") or {})
        self.pools = {str(k): Pool.restore(v) for k, v in (state.get("pools") or {}).items()}
        self.decisions = int(state.get("decisions", 0))
        self.keeps = int(state.get("keeps", 0))
        self.quarantined = int(state.get("quarantined", 0))
        self.refused = {str(k): int(v) for k, v in (state.get("refused") or {}).items()}

    # --- state and settings ------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return {"fdr": self.fdr.state(), "calibration": self.calibration,
                "pools": {k: p.state() for k, p in sorted(self.pools.items())},
                "decisions": self.decisions, "keeps": self.keeps,
                "quarantined": self.quarantined, "refused": dict(sorted(self.refused.items()))}

    @property
    def calibration_seeds(self) -> int:
        # Enough for a first noise estimate; the run's decisions soon say more (noise.py).
        # Never fewer than MIN_CALIBRATION_SEEDS, whatever the seed cap: on two seeds the
        # spread has one degree of freedom, the first decisions' t test three, and a
        # 14-sigma improvement was discarded as often as not (issue 10's numpy project).
        return max(MIN_CALIBRATION_SEEDS, min(self.config.seeds, CALIBRATION_SEEDS))

    @property
    def revalidation_seeds(self) -> int:
        return self.config.seeds

    @property
    def min_effect(self) -> float:
        if self.config.verify.min_effect is not None:
            return self.config.verify.min_effect
        return float(self.calibration.get("min_effect", 0.0))

    def plan(self, slots: int, room: int | None = None) -> Plan:
        """Looks every max(1, slots // 2) seeds (a look fills the slots with parent and
        candidate side by side), up to `seeds` or the `room` the budget leaves."""
        step = max(1, slots // 2)
        cap = self.config.seeds if room is None else min(self.config.seeds, room)
        return Plan(schedule(step, step, max(1, cap)))

    def prior(self, name: str) -> Prior:
        """The variance prior of metric `name`'s paired difference (relative for guards)."""
        cal = self._calibrated(name)
        calibration = Prior(float(cal["s2"]), float(cal["df"]), str(cal["source"])) if cal else None
        floor = float(cal.get("floor", 0.0)) if cal else 0.0
        floor_df = float(cal.get("floor_df", math.inf)) if cal else math.inf  # older journals
        return combine(self.pools.get(name, Pool()), calibration, floor, floor_df)

    def level(self) -> float:
        """This decision's level: ADDIS's alpha, rounded down to the design grid."""
        return quantize(self.fdr.level())

    def design(self, plan: Plan, prior: Prior | None = None) -> Design:
        """The sequential test of the next decision (docs/verification.md, section 2).

        Until LEARNING decisions have measured the spread of a paired difference, the
        conditional-power futility waits for a candidate's second look: at the first it
        would trust the calibration's spread, an upper bound that can be several times
        too wide, and stop every candidate after one seed -- where no spread is
        measured, so the run would never learn better."""
        s = self.config.verify
        target = self.config.target.name
        learned = self.pools.get(target, Pool()).count >= LEARNING
        # ... and it waits, whatever was learned, for a look whose test has POWER_DF
        # degrees of freedom: where the decisions' spreads differ widely (a demo's went
        # from 0.000001 to 0.05), the prior is worth a fraction of one, a look on one
        # seed has a p-value near 0.3 whatever its effect, and the rule dropped gains
        # of 2 to 10 sigma after their first seed. The sign rule still applies.
        prior_df = (prior or self.prior(target)).df
        informative = next((k for k, n in enumerate(plan.looks) if prior_df + n - 1 >= POWER_DF),
                           len(plan.looks))
        return Design(self.level(), plan.looks, s.spending, FIRST_EFFICACY,
                      futility_z=_z(s.futility), futility_power=s.futility_power,
                      optimism=OPTIMISM, power_from=max(0 if learned else 1, informative))

    # --- calibration ------------------------------------------------------------------

    def calibrate(self, first: Sequence[EvalResult], second: Sequence[EvalResult]) -> dict[str, Any]:
        """The run's noise from the baseline run twice on the same seeds (calibration.py)."""
        self.calibration = calibration.measure(self.config, first, second)
        return {**self.calibration, "min_effect": self.min_effect}

    def outlook(self, plan: Plan) -> Outlook:
        """The smallest target effect this run can keep, and the guards' feasibility."""
        s = self.config.verify
        alpha = self.level()
        prior = self.prior(self.config.target.name)
        design = self.design(plan, prior)
        last = design.bounds()[-1]
        z_power = float(sps.norm.isf(1 - POWER))
        cap = plan.cap
        smallest = (last + z_power) * prior.sd / math.sqrt(cap) if math.isfinite(last) else math.inf
        impossible = ""
        if cap < FIRST_EFFICACY:
            impossible = (f"seeds = {cap}: a verified keep needs at least {FIRST_EFFICACY} paired "
                          "seeds")
        guards: list[tuple[str, float, float, float]] = []
        for spec in self.config.guards:
            sd = self.prior(spec.name).sd
            need = needed_margin(sd, cap, s.guard_alpha)
            guards.append((spec.name, spec.margin, sd, need))
            # "impossible": even a guard that does not regress at all passes < 10% of the time
            hopeless = needed_margin(sd, cap, s.guard_alpha, power=0.1)
            if sd > 0 and spec.margin < hopeless and not impossible:
                impossible = (f"guard {spec.name}: its noise (sd {sd:.1%} per paired seed) makes "
                              f"its margin {spec.margin:.1%} impossible to show with at most {cap} "
                              f"seeds; it would need a margin of about {need:.1%}")
        return Outlook(prior.sd, prior.source, cap, alpha, smallest, POWER, tuple(guards), impossible)

    # --- the decision ------------------------------------------------------------------

    def judge(
        self,
        parent: Sequence[EvalResult],
        candidate: Sequence[EvalResult],
        history: Sequence[Candidate],
        plan: Plan,
    ) -> Verdict | int:
        """More seeds to evaluate (an int k > 0), or the verdict (a quarantine with
        stats["pending"] asks the loop for a re-check on fresh seeds first)."""
        config = self.config
        target = config.target
        if not candidate:
            return self._final(Verdict("crash", ("no evaluation of the candidate",), {"n": 0}))
        for result in candidate:
            why = crash_reason(result, config)
            if why:
                stats = {"n": len(candidate), "seed": result.seed, "key": result.key,
                         "tail": result.tail, "seconds": _seconds(candidate)}
                return self._final(Verdict("crash", (f"seed {result.seed}: {why}",), stats))
        pairs, dropped = pairs_of(parent, candidate, target.name)
        notes = [f"seeds without a usable parent result: {dropped}"] if dropped else []
        if not pairs:
            return self._final(Verdict("discard", (*notes, "no paired seeds to compare"),
                                       {"n": 0, "seconds": _seconds(candidate)}))
        diffs = improvements(target, pairs)
        found = signals(config, pairs, diffs, candidate, history)
        prior = self.prior(target.name)  # one pooled estimate per look (Newton's method)
        design = self.design(plan, prior)
        looks = self._looks(diffs, design, len(candidate), prior)
        now = looks[-1]
        base = self._base(pairs, diffs, found, candidate, now, design, prior)
        shown = next((look for look in looks if look.crossed), None)
        more = plan.more(len(candidate))
        # A time collapse alone matters only for a candidate about to be kept: until its
        # improvement is shown it goes on (or out) like any other. Two runs started at
        # once on one machine timed the baseline at 19 s and every later candidate at
        # 3 s, and parked each improving candidate after one seed.
        if found.artifacts and not (found.timing_only and shown is None):
            reasons = (*notes, *(f"anomaly: {a}" for a in found.artifacts),
                       "quarantined: re-evaluated on fresh seeds; a person decides "
                       "(`ladder agent review`)")
            stats = {**base, "pending": "artifact", "timing_only": found.timing_only}
            if shown is not None:  # what ADDIS hears should it be kept after its re-check
                stats["p"] = _shown_p(design, shown)
                stats["shown_at"] = design.looks[shown.index]
            return Verdict("quarantine", reasons, stats)
        if shown is None:
            return self._not_shown(base, notes, design, now, more)
        return self._shown(pairs, base, notes, design, shown, found, more)

    def _looks(self, diffs: Sequence[float], design: Design, seen: int, prior: Prior) -> list[Look]:
        """The target's test at every look so far (prefixes of the paired differences)."""
        bounds = design.bounds()
        out: list[Look] = []
        for k, n in enumerate(design.looks):
            if n > seen:
                break
            test = moderated(diffs[:n], prior)
            out.append(Look(k, test, _z(test.p), bounds[k]))
        if not out:  # fewer seeds than the first look (the parent crashed on some)
            test = moderated(diffs, prior)
            out.append(Look(0, test, _z(test.p), bounds[0]))
        return out

    def _not_shown(
        self,
        base: dict[str, Any],
        notes: list[str],
        design: Design,
        now: Look,
        more: int,
    ) -> Verdict | int:
        target = self.config.target
        test = now.test
        if test.df <= 0:  # one seed and no prior (`ladder try` before any decision)
            if more:
                return more
            return self._final(Verdict("discard", (*notes, "one seed and no noise estimate: "
                                       "no test possible"), {**base, "stop": "cap"}), p=1.0)
        p = design.p_value(now.index, now.z)
        stats = {**base, "p": p}
        floor = design.futility()[now.index]
        if more and now.z <= floor:
            if now.z <= design.futility_z:
                why = (f"futility: {target.name} shows no sign of improvement after {test.n} "
                       f"seed(s) (mean improvement {test.mean:.4g})")
            else:
                why = (f"futility: at the improvement seen so far ({test.mean:.4g} after "
                       f"{test.n} seed(s)) it would be shown by seed {design.cap} less than "
                       f"{design.futility_power:.0%} of the time")
            return self._final(Verdict("discard", (*notes, why), {**stats, "stop": "futility",
                                                                   "floor": floor}), p=p)
        if more:
            return more
        why = (f"{target.name}: improvement {test.mean:.4g}{_interval_words(test.interval())} over "
               f"{test.n} seed(s) is not significant (p={p:.3g} > alpha={design.alpha:.3g})")
        return self._final(Verdict("discard", (*notes, why), {**stats, "stop": "cap"}), p=p)

    def _shown(
        self,
        pairs: Sequence[Pair],
        base: dict[str, Any],
        notes: list[str],
        design: Design,
        shown: Look,
        found: Signals,
        more: int,
    ) -> Verdict | int:
        target = self.config.target
        p = _shown_p(design, shown)
        stats = {**base, "p": p, "shown_at": design.looks[shown.index]}
        effect = float(base["effect"])
        if effect < self.min_effect:
            why = (f"{target.name}: improvement {effect:.4g} is significant (p={p:.3g}) but below "
                   f"the minimum effect {self.min_effect:.4g}")
            return self._final(Verdict("discard", (*notes, why), {**stats, "stop": "min_effect"}),
                               p=1.0)
        guards = self._guards(pairs, design, start=shown.index)
        stats["guards"] = {g.name: g.as_dict() for g in guards}
        failed = [g for g in guards if g.outcome in ("fail", "missing")]
        if failed:
            for g in failed:
                self.refused[g.name] = self.refused.get(g.name, 0) + 1
            refusals = [f"{target.name} improved significantly (p={p:.3g}), but refused by "
                        f"guard {g.name}: {g.reason()}" for g in failed]
            stats = {**stats, "stop": "guard", "refused_by": [g.name for g in failed]}
            return self._final(Verdict("discard", (*notes, *refusals), stats), p=1.0)
        if any(g.outcome == "undecided" for g in guards) and more:
            return more
        ci = _interval_words(base.get("ci"))
        words = (f"{target.name} improved by {effect:.4g}{ci} over {len(pairs)} seed(s), "
                 f"p={p:.3g} <= alpha={design.alpha:.3g}")
        if found.large:
            reasons = (*notes, words, f"large effect: {found.large}",
                       "re-checked on fresh seeds before it is kept")
            return Verdict("quarantine", reasons, {**stats, "pending": "large-effect"})
        if len(pairs) < 2:
            reasons = (*notes, words, "shown on one seed: replicated on fresh seeds before it "
                       "is kept")
            return Verdict("quarantine", reasons, {**stats, "pending": "one-seed"})
        return self._final(Verdict("keep", (*notes, words), {**stats, "stop": "efficacy"}), p=p)

    def _guards(self, pairs: Sequence[Pair], design: Design, start: int) -> list[GuardTest]:
        """Every guard's non-inferiority test at this look, tested from look `start`."""
        alpha = self.config.verify.guard_alpha
        return [guard_test(spec, pairs, self.prior(spec.name), alpha, design.looks, start)
                for spec in self.config.guards]

    # --- large effects and artifacts: the re-check -------------------------------------

    def recheck_plan(self, flagged: Verdict, slots: int) -> Plan:
        """Fresh seeds for a flagged candidate: an artifact is re-evaluated on as many
        seeds as it used (for the person who decides); a replication looks after every
        fresh seed and stops as soon as it is clear, up to REPLICATE_SEEDS."""
        used = int(flagged.stats.get("n", 0) or 0)
        if flagged.stats.get("pending") == "artifact":
            return Plan((max(2, min(self.config.seeds, used)),))
        step = max(1, slots // 2)
        return Plan(schedule(step, step, min(self.config.seeds, REPLICATE_SEEDS)))

    def recheck(
        self,
        flagged: Verdict,
        parent: Sequence[EvalResult],
        candidate: Sequence[EvalResult],
        plan: Plan | None = None,
    ) -> Verdict | int:
        """The flagged candidate on fresh seeds (more fresh seeds: an int). An artifact
        stays in quarantine (with whether it persisted). A large effect, or a keep shown
        on one seed, is kept when it replicates -- significant on the fresh seeds (at
        REPLICATE_ALPHA spread over the looks), consistent with its first estimate, no
        artifact signal, no guard clearly regressed; otherwise a large effect is
        quarantined for a person, and a one-seed keep is discarded."""
        config = self.config
        target = config.target
        kind = str(flagged.stats.get("pending", "artifact"))
        stats = {k: v for k, v in flagged.stats.items() if k != "pending"}
        if not candidate and kind == "one-seed":
            # one seed is not a verified keep, and nobody should be asked to judge it
            reasons = (*flagged.reasons[:-1], "not kept: the evaluation budget ended before "
                       "its replication on fresh seeds")
            return self._final(Verdict("discard", reasons, {**stats, "stop": "budget"}), p=1.0)
        if not candidate:
            reasons = (*flagged.reasons, "the evaluation budget could not pay for the re-check; "
                       "a person decides (`ladder agent review`)")
            return self._final(Verdict("quarantine", reasons, {**stats, "flag": kind}), p=1.0)
        pairs, _ = pairs_of(parent, candidate, target.name)
        crashed = [c for r in candidate if (c := crash_reason(r, config))]
        good = [(p, c) for p, c in pairs if not crash_reason(c, config)]
        diffs = improvements(target, good)
        found = signals(config, good, diffs, candidate, earlier=_pairs_of_stats(flagged.stats))
        # The fresh seeds' mean, tested with the spread of all the candidate's seeds: a
        # candidate shown on one seed and replicated on one more was otherwise judged on
        # the run's prior alone, and a prior learnt from small changes (two of a demo's
        # decisions had paired sds of 0.0002) made a change whose seeds scatter 100 times
        # wider look certain on both of them, in either direction.
        earlier = [float(d["improvement"]) for d in _recorded(stats, "improvement")]
        fresh = moderated(diffs, self.prior(target.name), spread=[*earlier, *diffs])
        first = float(stats.get("effect", 0.0))
        fresh_ci = _ci(fresh.interval())
        fresh_guards = self._recheck_guards(good)
        fresh_stats: dict[str, Any] = {
            "n": fresh.n, "effect": fresh.mean, "p": fresh.p, "sd": fresh.sd, "ci": fresh_ci,
            "anomalies": list(found.artifacts), "crashed": crashed, "guards": fresh_guards}
        persisted = bool(found.artifacts) or bool(crashed)
        if kind == "artifact" and stats.get("timing_only") and not persisted:
            # Timed again on fresh seeds (the parent's too, or its results there), the
            # collapse did not repeat: the machine's load, not skipped work. What is
            # left is an improvement shown at the run's alpha: replicated like a
            # one-seed keep (a candidate that skipped work only at first is judged on
            # the honest fresh values, which must agree with its first estimate).
            kind = "timing"
        stats = {**stats, "recheck": fresh_stats, "persisted": persisted, "flag": kind,
                 "first_anomalies": list(flagged.stats.get("anomalies", []))}
        words = (f"on {fresh.n} fresh seed(s) the anomaly persisted: "
                 f"{(found.artifacts or crashed)[0]}" if persisted else
                 f"on {fresh.n} fresh seed(s) no anomaly showed; improvement {fresh.mean:.4g}"
                 f"{_interval_words(fresh_ci)}, p={fresh.p:.3g}")
        if kind != "artifact" and not persisted:
            consistent = _consistent(first, int(stats.get("n", 0) or 0), fresh,
                                     self._bound_sd(target.name))
            failed_guard = [n for n, g in fresh_guards.items() if g.get("clear")]
            shown = _z(fresh.p) >= _replication_bound(plan, len(candidate))
            replicated = shown and consistent and not failed_guard
            more = plan.more(len(candidate)) if plan is not None else 0
            if replicated:
                label = REPLICATED.get(kind, "replicated on fresh seeds")
                reasons = (*flagged.reasons[:-1], f"{label}: {words}")
                return self._final(Verdict("keep", reasons, {**stats, "label": label,
                                                             "stop": "efficacy"}),
                                   p=float(stats.get("p", 1.0)))
            if more and consistent and not failed_guard:
                return more  # a real effect's fresh seeds can start low: look again
            if not consistent:
                why = f"its first estimate {first:.4g} is far above the fresh one"
            elif failed_guard:
                why = f"guard {failed_guard[0]} regressed on the fresh seeds"
            else:
                why = "it did not replicate"
            words += f"; {why}"
            if kind in ("one-seed", "timing"):
                reasons = (*flagged.reasons[:-1], words)
                return self._final(Verdict("discard", reasons, {**stats, "stop": "replication"}),
                                   p=1.0)
        kept = flagged.reasons[:-1] if kind != "artifact" else flagged.reasons
        reasons = (*kept, words,
                   "a person decides: `ladder agent review RUN --keep IT` or `--reject IT`")
        return self._final(Verdict("quarantine", reasons, stats), p=1.0)

    def _calibrated(self, name: str) -> Mapping[str, Any] | None:
        """The calibration's prior record of metric `name` (None before calibration)."""
        return (self.calibration.get("priors") or {}).get(name)

    def _bound_sd(self, name: str) -> float:
        """The calibration's upper bound on the sd of metric `name`'s paired difference
        (0 without a calibration)."""
        cal = self._calibrated(name)
        return math.sqrt(float(cal["s2"])) if cal else 0.0

    def _recheck_guards(self, pairs: Sequence[Pair]) -> dict[str, Any]:
        """Whether a guard clearly regressed on a re-check's fresh seeds."""
        alpha = self.config.verify.guard_alpha
        return {spec.name: clear_regression(spec, pairs, self.prior(spec.name), alpha).as_dict()
                for spec in self.config.guards}

    def unfinished(self, why: str) -> Verdict:
        """A candidate whose evaluation stopped before its decision could finish."""
        return self._final(Verdict("discard", (why,), {"n": 0}), p=1.0)

    # --- bookkeeping -------------------------------------------------------------------

    def _final(self, verdict: Verdict, p: float | None = None) -> Verdict:
        """Count the verdict, tell ADDIS (p None: no test took place, e.g. a crash), and
        pool the decision's spreads."""
        alpha = self.level()
        if p is not None and p <= alpha and verdict.status != "keep":
            # Significant but not kept (a guard, the minimum effect, a quarantine, or a
            # futility exit of a design that spends less than alpha): ADDIS hears p = 1.
            # Replacing a small p-value by a larger one is always valid.
            p = 1.0
        rejected = self.fdr.record(p, alpha) if p is not None else False
        assert rejected == (verdict.status == "keep") or p is None, (p, alpha, verdict.status)
        self.decisions += 1
        if verdict.status == "keep":
            self.keeps += 1
        elif verdict.status == "quarantine":
            self.quarantined += 1
        if verdict.status in ("keep", "discard"):  # an artifact's spread says nothing
            self._pool(verdict.stats)
        stats = {"rule": "verified", **verdict.stats, "alpha": alpha,
                 "fdr_test": self.fdr.tests if p is not None else None,
                 "decision": self.decisions}
        return Verdict(verdict.status, verdict.reasons, stats)

    def _pool(self, stats: Mapping[str, Any]) -> None:
        """Add a finished decision's spreads to the run's pools -- but not a spread that
        is a vanishing fraction of the calibration's (below RESOLUTION of its variance,
        not zero): a change that barely moves the program (a weight decay nudged by a
        tenth) has its seeds' differences at the evaluation's rounding, and one such
        log-variance, 14 nats below the rest, made Smyth's d0 a fifth of a degree of
        freedom for the rest of a demo run (without it: about 13). Robust estimation
        of the prior downweights such outliers (Phipson et al. 2016, "Robust
        hyperparameter estimation protects against hypervariable genes and improves
        power to detect differential expression", Annals of Applied Statistics 10(2));
        with running moments, leaving them out is the simplest form of it."""
        for name, spread in (stats.get("spreads") or {}).items():
            sd, df = spread
            s2 = float(sd) ** 2
            cal = self._calibrated(name)
            if cal and 0 < s2 < RESOLUTION * float(cal["s2"]):
                continue
            self.pools.setdefault(name, Pool()).add(s2, int(df))

    def _base(
        self,
        pairs: Sequence[Pair],
        diffs: Sequence[float],
        found: Signals,
        candidate: Sequence[EvalResult],
        now: Look,
        design: Design,
        prior: Prior,
    ) -> dict[str, Any]:
        """What every verdict reports: n, the effect on all seeds, the test at this look,
        the prior that decided, the spreads for the pool, tracked metrics, anomalies."""
        target = self.config.target
        effect = mean(diffs)
        test = now.test
        spreads: dict[str, tuple[float, int]] = {}
        if len(diffs) >= 2:
            spreads[target.name] = (statistics.stdev(diffs), len(diffs) - 1)
        for spec in self.config.guards:
            regressions = relative_regressions(spec, pairs) or []
            finite = [r for r in regressions if math.isfinite(r)]
            if len(finite) >= 2:
                spreads[spec.name] = (statistics.stdev(finite), len(finite) - 1)
        return {
            "n": len(pairs),
            "effect": effect,
            "delta": -effect if target.direction == "min" else effect,
            "ci": _ci(test.interval()),
            "z": now.z if math.isfinite(now.z) else None,  # on the boundary's scale
            "t": test.t if math.isfinite(test.t) else None,
            "bound": design.bounds()[now.index],
            "look": now.index + 1,
            "looks": list(design.looks),
            "sd": test.sd,
            "own_sd": test.own_sd,
            "df": test.df,
            "noise": prior.source if prior is not NO_PRIOR else "this decision's own seeds",
            "prior_sd": prior.sd,
            "prior_df": prior.df,
            "min_effect": self.min_effect,
            "diffs": [{"seed": c.seed, "parent": p.metrics[target.name],
                       "candidate": c.metrics[target.name], "improvement": d}
                      for (p, c), d in zip(pairs, diffs, strict=True)],
            "guards": {},
            "tracked": self._tracked(pairs),
            "anomalies": list(found.artifacts) + ([found.large] if found.large else []),
            "signals": found.as_dict(),
            "spreads": spreads,
            "seconds": _seconds(candidate),
        }

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
            if p < self.config.verify.tracked_alpha:
                out[name] = {"delta": mean(deltas), "p": p, "n": len(deltas)}
        return out

    # --- convergence and re-validation (progress.py) ---------------------------------

    def converged(self, history: Sequence[Candidate], left: int | None) -> str:
        return progress.converged(self.config, self.min_effect, history, left)

    def revalidate(self, baseline: Sequence[EvalResult], best: Sequence[EvalResult]) -> dict[str, Any]:
        return progress.revalidate(self.config, baseline, best)


def _recorded(stats: Mapping[str, Any], *keys: str) -> list[Mapping[str, Any]]:
    """The per-seed records of a verdict's stats ("diffs") that carry all of `keys`."""
    return [d for d in stats.get("diffs") or ()
            if isinstance(d, Mapping) and all(k in d for k in keys)]


def _pairs_of_stats(stats: Mapping[str, Any]) -> list[tuple[float, float]]:
    """The (parent, candidate) target values a verdict's stats recorded."""
    return [(float(d["parent"]), float(d["candidate"]))
            for d in _recorded(stats, "parent", "candidate")]


def _replication_bound(plan: Plan | None, seen: int) -> float:
    """The z a replication's fresh seeds must reach at this look: REPLICATE_ALPHA spent
    over the re-check's looks (Hwang-Shih-DeCani, gamma -2: the later looks keep most of it),
    no futility exit -- a replication stops early only when it fails consistency."""
    if plan is None or not plan.looks:
        return float(sps.norm.isf(REPLICATE_ALPHA))
    design = Design(REPLICATE_ALPHA, plan.looks, gamma=-2.0, first=1,
                    futility_z=-math.inf, futility_power=0.0)
    index = max((k for k, n in enumerate(plan.looks) if n <= seen), default=0)
    return design.bounds()[index]


def _consistent(first: float, n_first: int, fresh: Moderated, bound_sd: float = 0.0) -> bool:
    """Is the first estimate within reach of the fresh one (one-sided, CONSISTENT_ALPHA)?
    Judged on the larger of the pooled spread and the calibration's upper bound: a real
    change's paired spread grows with its size (doubling a learning rate moves the loss
    by a different amount on every seed), so a spread pooled from small changes -- early
    in a run, from two of them -- called a real gain's 0.15 against 0.10 "far above".
    The fresh seeds' own test (`shown`) still decides whether the gain is real."""
    sd = max(fresh.sd, bound_sd)
    if fresh.df <= 0 or sd <= 0 or n_first < 1:
        return True
    se = sd * math.sqrt(1 / n_first + 1 / fresh.n)
    z = (first - fresh.mean) / se
    return float(sps.t.sf(z, fresh.df)) >= CONSISTENT_ALPHA


def _z(p: float) -> float:
    if p <= 0:
        return math.inf
    if p >= 1:
        return -math.inf
    return float(sps.norm.isf(p))


def _seconds(results: Sequence[EvalResult]) -> float:
    return math.fsum(r.seconds for r in results)


def _ci(interval: tuple[float, float] | Sequence[float] | None) -> list[float] | None:
    return [float(interval[0]), float(interval[1])] if interval else None


def _interval_words(ci: Sequence[float] | None) -> str:
    return f" (95% CI {ci[0]:.4g} to {ci[1]:.4g})" if ci else ""


def _shown_p(design: Design, shown: Look) -> float:
    """The stagewise p-value of a look that crossed its boundary: at most alpha (crossing
    means p <= alpha; the integration's last digits may disagree)."""
    return min(design.p_value(shown.index, shown.z), design.alpha)
