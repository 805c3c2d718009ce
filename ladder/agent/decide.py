"""The decision seam: keep, discard, crash or quarantine a candidate against its parent.

PLACEHOLDER. This is the simple, honest paired rule the verification issue replaces with
real statistics (confidence intervals, sequential testing, a noise floor learnt from the
`history`). The loop only calls `decider(config)` and the `Decide` Protocol of
ladder.agent.records, so the replacement changes this module alone.

The rule, `decide` (config.decision == "paired"):
1. any candidate evaluation crashed -> "crash", with its reason and output tail;
2. any declared metric of the candidate outside its plausible `bounds` -> "quarantine"
   (a result too good to be true is held, not kept);
3. results are paired by seed (seeds the parent crashed on are dropped, and said so);
   no pair left -> "discard";
4. effect = mean over pairs of MetricSpec.improvement (positive = better);
   keep when effect > 0 and every guard's mean relative regression <= its margin.
   A tie (effect 0, e.g. a change that does nothing) is not kept.

`decide_crude` (config.decision == "crude") compares one seed and keeps if better,
marking the verdict stats["unverified"] = True. Both are deterministic and ignore
`history` for now.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ladder.agent.config import AgentConfig, MetricSpec
from ladder.agent.records import Candidate, Decide, EvalResult, Verdict

Pair = tuple[EvalResult, EvalResult]  # (parent, candidate) on one seed


def decider(config: AgentConfig) -> Decide:
    """The decision rule `config.decision` names."""
    return decide_crude if config.decision == "crude" else decide


def decide(
    parent: Sequence[EvalResult],
    candidate: Sequence[EvalResult],
    config: AgentConfig,
    history: Sequence[Candidate],
) -> Verdict:
    return _timed(_paired(parent, candidate, config), candidate)


def _paired(
    parent: Sequence[EvalResult], candidate: Sequence[EvalResult], config: AgentConfig
) -> Verdict:
    early = _crash_or_quarantine(candidate, config)
    if early:
        return early
    pairs, notes = _pairs(parent, candidate, config)
    if not pairs:
        reasons = (*notes, "no paired seeds to compare")
        return Verdict("discard", reasons, {"n": 0, "rule": "paired-mean"})
    return _judge(pairs, config, notes, rule="paired-mean")


def decide_crude(
    parent: Sequence[EvalResult],
    candidate: Sequence[EvalResult],
    config: AgentConfig,
    history: Sequence[Candidate],
) -> Verdict:
    """Karpathy's rule: one run each, keep if better. Cheap, and unverified."""
    early = _crash_or_quarantine(candidate[:1], config)
    if early:
        return _timed(
            Verdict(early.status, early.reasons, {**early.stats, "unverified": True}), candidate
        )
    pairs, notes = _pairs(parent, candidate, config)
    if not pairs:
        verdict = Verdict("discard", (*notes, "no paired seed to compare"), {"n": 0})
    else:
        verdict = _judge(pairs[:1], config, notes, rule="crude")
    stats = {**verdict.stats, "unverified": True}
    reasons = (*verdict.reasons, "crude decision: one seed, unverified")
    return _timed(Verdict(verdict.status, reasons, stats), candidate)


def _timed(verdict: Verdict, candidate: Sequence[EvalResult]) -> Verdict:
    """The verdict with stats["seconds"]: the candidate's evaluation time (results.tsv)."""
    seconds = math.fsum(r.seconds for r in candidate)
    return Verdict(verdict.status, verdict.reasons, {**verdict.stats, "seconds": seconds})


# --- steps -------------------------------------------------------------------------------


def _crash_or_quarantine(candidate: Sequence[EvalResult], config: AgentConfig) -> Verdict | None:
    if not candidate:
        return Verdict("crash", ("no evaluation of the candidate",), {"n": 0})
    for result in candidate:
        why = _crash_reason(result, config)
        if why:
            stats = {"seed": result.seed, "key": result.key, "tail": result.tail}
            return Verdict("crash", (f"seed {result.seed}: {why}",), stats)
    for result in candidate:
        for spec in config.metrics.values():
            value = result.metrics.get(spec.name)
            outside = outside_bounds(spec, value) if value is not None else ""
            if outside:
                reason = f"seed {result.seed}: {outside}"
                return Verdict("quarantine", (reason,), {"seed": result.seed, "metric": spec.name})
    return None


def _crash_reason(result: EvalResult, config: AgentConfig) -> str:
    if not result.ok:
        return result.reason or "the evaluation failed"
    target = config.target.name
    if target not in result.metrics:
        return f"no value for the target metric {target!r}"
    bad = [
        n for n in config.metrics if n in result.metrics and not math.isfinite(result.metrics[n])
    ]
    return f"{bad[0]} is {result.metrics[bad[0]]}" if bad else ""


def outside_bounds(spec: MetricSpec, value: float) -> str:
    """Why `value` is implausible for `spec` ("" when it is within its bounds)."""
    lo, hi = spec.bounds
    if lo is not None and value < lo:
        return f"{spec.name} = {value:g} is below its plausible minimum {lo:g}"
    if hi is not None and value > hi:
        return f"{spec.name} = {value:g} is above its plausible maximum {hi:g}"
    return ""


def _pairs(
    parent: Sequence[EvalResult], candidate: Sequence[EvalResult], config: AgentConfig
) -> tuple[list[Pair], tuple[str, ...]]:
    """(parent, candidate) results on the same seeds, in the candidate's order."""
    target = config.target.name
    by_seed = {r.seed: r for r in parent}
    pairs: list[Pair] = []
    dropped: list[int] = []
    for result in candidate:
        base = by_seed.get(result.seed)
        usable = base is not None and base.ok and math.isfinite(base.metrics.get(target, math.nan))
        if base is not None and usable:
            pairs.append((base, result))
        else:
            dropped.append(result.seed)
    notes = (f"seeds without a usable parent result: {dropped}",) if dropped else ()
    return pairs, notes


def _judge(
    pairs: Sequence[Pair], config: AgentConfig, notes: tuple[str, ...], rule: str
) -> Verdict:
    target = config.target
    diffs = [_diff(target, p, c) for p, c in pairs]
    effect = _mean([d["improvement"] for d in diffs])
    delta = _mean([d["candidate"] - d["parent"] for d in diffs])
    guards = {g.name: _guard(g, pairs) for g in config.guards}
    stats: dict[str, Any] = {
        "rule": rule,
        "n": len(pairs),
        "effect": effect,  # mean improvement, positive = better
        "delta": delta,  # mean candidate minus parent, in the target's units
        "diffs": diffs,
        "guards": guards,
    }
    failed = [(name, g) for name, g in guards.items() if not g["ok"]]
    if failed:
        reasons = tuple(_guard_reason(name, g) for name, g in failed)
        return Verdict("discard", (*notes, *reasons), stats)
    if effect > 0:
        reason = f"{target.name} improved by {effect:.6g} on average over {len(pairs)} seed(s)"
        return Verdict("keep", (*notes, reason), stats)
    word = "no change" if effect == 0 else "worse"
    reason = f"{target.name}: {word} (mean improvement {effect:.6g} over {len(pairs)} seed(s))"
    return Verdict("discard", (*notes, reason), stats)


def _diff(target: MetricSpec, parent: EvalResult, candidate: EvalResult) -> dict[str, Any]:
    old, new = parent.metrics[target.name], candidate.metrics[target.name]
    return {
        "seed": candidate.seed,
        "parent": old,
        "candidate": new,
        "improvement": target.improvement(new, old),
    }


def _guard(spec: MetricSpec, pairs: Sequence[Pair]) -> dict[str, Any]:
    """Mean relative regression of a guard (positive = worse) against its margin."""
    regressions: list[float] = []
    for parent, candidate in pairs:
        old, new = parent.metrics.get(spec.name), candidate.metrics.get(spec.name)
        if new is None:
            return {"ok": False, "margin": spec.margin, "regression": None, "missing": True}
        if old is None or not math.isfinite(old):
            continue  # the parent never reported it: nothing to regress from
        regressions.append(_relative_regression(spec, new, old))
    regression = _mean(regressions) if regressions else 0.0
    return {
        "ok": regression <= spec.margin,
        "margin": spec.margin,
        "regression": regression,
        "n": len(regressions),
    }


def _relative_regression(spec: MetricSpec, new: float, old: float) -> float:
    worse = -spec.improvement(new, old)
    if old == 0:  # no scale to be relative to: any regression from zero is unbounded
        return 0.0 if worse <= 0 else math.inf
    return worse / abs(old)


def _guard_reason(name: str, guard: Mapping[str, Any]) -> str:
    if guard.get("missing"):
        return f"guard {name}: the candidate did not report it"
    return f"guard {name} regressed {guard['regression']:.1%} (margin {guard['margin']:.1%})"


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)
