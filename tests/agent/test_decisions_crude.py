"""The crude decision (`--crude`): one seed each, keep if better, UNVERIFIED; and the
registry the loop builds decisions from."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import pytest

from ladder.agent.config import AgentConfig, MetricSpec
from ladder.agent.decisions import DECISIONS, CrudeDecision, VerifiedDecision, make_decision
from ladder.agent.records import EvalResult, Plan, Verdict

CONFIG = AgentConfig(
    editable=("train.py",),
    eval="python evaluate.py",
    metrics={
        "val_loss": MetricSpec("val_loss", "min", "target", bounds=(0.01, None)),
        "seconds": MetricSpec("seconds", "min", "guard", margin=0.05),
    },
    decision="crude",
)


def results(losses: Sequence[float], seconds: float = 10.0, *, name: str = "p") -> list[EvalResult]:
    return [
        EvalResult(f"{name}/s{seed}", seed, {"val_loss": loss, "seconds": seconds}, ok=True)
        for seed, loss in enumerate(losses)
    ]


PARENT = results([1.00, 1.10, 0.90])


def decide(parent: Sequence[EvalResult], candidate: Sequence[EvalResult],
           config: AgentConfig = CONFIG) -> Verdict:
    verdict = CrudeDecision(config).judge(parent, candidate, [], Plan((1,)))
    assert isinstance(verdict, Verdict)
    return verdict


def test_the_registry_names_both_rules() -> None:
    assert set(DECISIONS) == {"verified", "crude"}
    assert isinstance(make_decision(CONFIG), CrudeDecision)
    assert isinstance(make_decision(replace(CONFIG, decision="verified")), VerifiedDecision)
    crude = make_decision(CONFIG)
    assert crude.unverified and crude.calibration_seeds == 0 and crude.revalidation_seeds == 0
    assert crude.plan(slots=4, room=100).looks == (1,)


def test_null_change_is_not_kept() -> None:
    verdict = decide(PARENT, results([1.00], name="c"))
    assert verdict.status == "discard"
    assert verdict.stats["effect"] == 0.0
    assert "no change" in verdict.reasons[0]


def test_better_on_one_seed_is_kept_and_unverified() -> None:
    verdict = decide(PARENT, results([0.90], name="c"))
    assert verdict.status == "keep"
    assert verdict.stats["n"] == 1 and verdict.stats["unverified"] is True
    assert verdict.stats["effect"] == pytest.approx(0.1)  # positive = better
    assert verdict.stats["delta"] == pytest.approx(-0.1)  # candidate minus parent
    assert verdict.stats["guards"]["seconds"]["ok"] is True
    assert verdict.reasons[-1] == "crude decision: one seed, unverified"


def test_it_only_sees_the_first_seed() -> None:
    # Better on seed 0, much worse on the others: the crude rule only sees seed 0.
    assert decide(PARENT, results([0.99, 2.0, 2.0], name="c")).status == "keep"


def test_worse_is_discarded() -> None:
    verdict = decide(PARENT, results([1.05], name="c"))
    assert verdict.status == "discard" and "worse" in verdict.reasons[0]


def test_max_direction() -> None:
    config = replace(CONFIG, metrics={"acc": MetricSpec("acc", "max", "target")})
    parent = [EvalResult("p", 0, {"acc": 0.5}, ok=True)]
    assert decide(parent, [EvalResult("c", 0, {"acc": 0.6}, ok=True)], config).status == "keep"
    assert decide(parent, [EvalResult("c", 0, {"acc": 0.4}, ok=True)], config).status == "discard"


def test_guard_within_margin_is_kept() -> None:
    verdict = decide(PARENT, results([0.90], seconds=10.4, name="c"))
    assert verdict.status == "keep"
    assert verdict.stats["guards"]["seconds"]["regression"] == pytest.approx(0.04)


def test_guard_regression_is_rejected_naming_the_guard() -> None:
    verdict = decide(PARENT, results([0.90], seconds=11.0, name="c"))
    assert verdict.status == "discard"
    assert verdict.reasons[0] == "guard seconds regressed 10.0% (margin 5.0%)"


def test_missing_guard_is_rejected() -> None:
    verdict = decide(PARENT, [EvalResult("c0", 0, {"val_loss": 0.5}, ok=True)])
    assert verdict.status == "discard"
    assert verdict.reasons[0] == "guard seconds: the candidate did not report it"


def test_crash_is_reported_with_reason_and_tail() -> None:
    crashed = [EvalResult("c/s0", 0, {}, ok=False, reason="exit code 1", tail="Traceback\nOOM")]
    verdict = decide(PARENT, crashed)
    assert verdict.status == "crash"
    assert verdict.reasons[0] == "seed 0: exit code 1"
    assert verdict.stats["tail"] == "Traceback\nOOM"


def test_nan_target_is_a_crash() -> None:
    verdict = decide(PARENT, results([math.nan], name="c"))
    assert verdict.status == "crash" and "val_loss is nan" in verdict.reasons[0]


def test_implausible_value_is_quarantined() -> None:
    verdict = decide(PARENT, results([0.001], name="c"))
    assert verdict.status == "quarantine"
    assert "below its plausible minimum" in verdict.reasons[0]


def test_a_parent_that_crashed_on_the_seed_is_said() -> None:
    parent = [EvalResult("p/s0", 0, {}, ok=False, reason="flaky")]
    verdict = decide(parent, results([0.9], name="c"))
    assert verdict.status == "discard"
    assert verdict.reasons[0] == "seeds without a usable parent result: [0]"


def test_crude_tie_is_not_kept() -> None:
    assert decide(PARENT[:1], results([1.0], name="c")).status == "discard"


def test_stats_carry_the_candidates_evaluation_seconds() -> None:
    candidate = [replace(r, seconds=2.5) for r in results([0.9], name="c")]
    assert decide(PARENT, candidate).stats["seconds"] == 2.5
    crashed = [EvalResult("c", 0, {}, ok=False, reason="x", seconds=1.5)]
    assert decide(PARENT, crashed).stats["seconds"] == 1.5
