"""Karpathy's decision: the candidate on one seed against its parent's result on that
seed, keep if better (the parent is run once and its result serves all its candidates,
unless wall time is a metric: then the two run side by side each time).

Cheap and UNVERIFIED: it keeps noise as progress (every output that shows a crude
decision says so). It is here for comparison -- `bench/verification.py` measures the
verified decision against it at an equal evaluation budget -- and for runs that want
autoresearch's own rule (`--crude`, `decision = "crude"`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ladder.agent.config import AgentConfig
from ladder.agent.decisions.base import (
    crash_reason,
    improvements,
    outside_bounds,
    pairs_of,
    relative_regressions,
)
from ladder.agent.records import Candidate, EvalResult, Outlook, Plan, Verdict


class CrudeDecision:
    """One seed each, keep if the target is better and no guard regressed past its margin."""

    name = "crude"
    unverified = True
    min_seeds = 1
    calibration_seeds = 0
    revalidation_seeds = 0

    def __init__(self, config: AgentConfig, state: Mapping[str, Any] | None = None) -> None:
        self.config = config
        self.decisions = int((state or {}).get("decisions", 0))

    def state(self) -> dict[str, Any]:
        return {"decisions": self.decisions}

    def plan(self, slots: int, room: int | None = None) -> Plan:
        return Plan((1,))

    def judge(
        self,
        parent: Sequence[EvalResult],
        candidate: Sequence[EvalResult],
        history: Sequence[Candidate],
        plan: Plan,
    ) -> Verdict:
        self.decisions += 1
        verdict = self._verdict(parent, candidate[:1])
        stats = {"rule": "crude", **verdict.stats, "unverified": True,
                 "seconds": math.fsum(r.seconds for r in candidate)}
        return Verdict(verdict.status, (*verdict.reasons, "crude decision: one seed, unverified"),
                       stats)

    def _verdict(self, parent: Sequence[EvalResult], candidate: Sequence[EvalResult]) -> Verdict:
        config = self.config
        target = config.target
        if not candidate:
            return Verdict("crash", ("no evaluation of the candidate",), {"n": 0})
        result = candidate[0]
        why = crash_reason(result, config)
        if why:
            return Verdict("crash", (f"seed {result.seed}: {why}",),
                           {"n": 1, "seed": result.seed, "key": result.key, "tail": result.tail})
        for spec in config.metrics.values():
            value = result.metrics.get(spec.name)
            outside = outside_bounds(spec, value) if value is not None else ""
            if outside:
                return Verdict("quarantine", (f"seed {result.seed}: {outside}",),
                               {"n": 1, "anomalies": [outside]})
        pairs, dropped = pairs_of(parent, candidate, target.name)
        notes = (f"seeds without a usable parent result: {dropped}",) if dropped else ()
        if not pairs:
            return Verdict("discard", (*notes, "no paired seed to compare"), {"n": 0})
        effect = improvements(target, pairs)[0]
        (p, c) = pairs[0]
        stats: dict[str, Any] = {
            "n": 1,
            "effect": effect,
            "delta": -effect if target.direction == "min" else effect,
            "diffs": [{"seed": c.seed, "parent": p.metrics[target.name],
                       "candidate": c.metrics[target.name], "improvement": effect}],
        }
        guards: dict[str, Any] = {}
        failed: list[str] = []
        for spec in config.guards:
            regressions = relative_regressions(spec, pairs)
            if regressions is None:
                guards[spec.name] = {"ok": False, "missing": True, "margin": spec.margin}
                failed.append(f"guard {spec.name}: the candidate did not report it")
                continue
            regression = regressions[0] if regressions else 0.0
            ok = regression <= spec.margin
            guards[spec.name] = {"ok": ok, "regression": regression, "margin": spec.margin}
            if not ok:
                failed.append(f"guard {spec.name} regressed {regression:.1%} "
                              f"(margin {spec.margin:.1%})")
        stats["guards"] = guards
        if failed:
            return Verdict("discard", (*notes, *failed), stats)
        if effect > 0:
            return Verdict("keep", (*notes, f"{target.name} improved by {effect:.6g} on one seed"),
                           stats)
        word = "no change" if effect == 0 else "worse"
        return Verdict("discard", (*notes, f"{target.name}: {word} (improvement {effect:.6g} on "
                                   "one seed)"), stats)

    def unfinished(self, why: str) -> Verdict:
        self.decisions += 1
        return Verdict("discard", (why,), {"n": 0, "rule": "crude", "unverified": True})

    # Crude calibrates nothing, re-checks nothing (it never asks to) and re-validates
    # nothing: its headline is its recorded best, unverified.

    def calibrate(
        self, first: Sequence[EvalResult], second: Sequence[EvalResult]
    ) -> Mapping[str, Any]:
        return {}

    def outlook(self, plan: Plan) -> Outlook | None:
        return None

    def recheck_plan(self, flagged: Verdict, slots: int) -> Plan:
        return Plan((1,))

    def recheck(
        self,
        flagged: Verdict,
        parent: Sequence[EvalResult],
        candidate: Sequence[EvalResult],
        plan: Plan | None = None,
    ) -> Verdict:
        return flagged

    def revalidate(
        self, baseline: Sequence[EvalResult], best: Sequence[EvalResult]
    ) -> Mapping[str, Any]:
        return {}

    def converged(self, history: Sequence[Candidate], left: int | None) -> str:
        return ""
