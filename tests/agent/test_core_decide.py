from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import pytest

from ladder.agent.config import AgentConfig, MetricSpec
from ladder.agent.decide import decide, decide_crude, decider
from ladder.agent.records import EvalResult

CONFIG = AgentConfig(
    editable=("train.py",),
    eval="python evaluate.py",
    metrics={
        "val_loss": MetricSpec("val_loss", "min", "target", bounds=(0.01, None)),
        "seconds": MetricSpec("seconds", "min", "guard", margin=0.05),
    },
)


def results(losses: Sequence[float], seconds: float = 10.0, *, name: str = "p") -> list[EvalResult]:
    return [
        EvalResult(f"{name}/s{seed}", seed, {"val_loss": loss, "seconds": seconds}, ok=True)
        for seed, loss in enumerate(losses)
    ]


PARENT = results([1.00, 1.10, 0.90])


def test_null_change_is_not_kept() -> None:
    verdict = decide(PARENT, results([1.00, 1.10, 0.90], name="c"), CONFIG, [])
    assert verdict.status == "discard"
    assert verdict.stats["effect"] == 0.0
    assert "no change" in verdict.reasons[-1]


def test_clear_improvement_is_kept() -> None:
    verdict = decide(PARENT, results([0.90, 1.00, 0.80], name="c"), CONFIG, [])
    assert verdict.status == "keep"
    assert verdict.stats["n"] == 3
    assert verdict.stats["effect"] == pytest.approx(0.1)  # positive = better
    assert verdict.stats["delta"] == pytest.approx(-0.1)  # candidate minus parent
    assert [d["seed"] for d in verdict.stats["diffs"]] == [0, 1, 2]
    assert verdict.stats["guards"]["seconds"]["ok"] is True


def test_worse_is_discarded() -> None:
    verdict = decide(PARENT, results([1.05, 1.15, 0.95], name="c"), CONFIG, [])
    assert verdict.status == "discard"
    assert "worse" in verdict.reasons[-1]


def test_max_direction() -> None:
    config = replace(CONFIG, metrics={"acc": MetricSpec("acc", "max", "target")})
    parent = [EvalResult("p", 0, {"acc": 0.5}, ok=True)]
    assert decide(parent, [EvalResult("c", 0, {"acc": 0.6}, ok=True)], config, []).status == "keep"
    assert (
        decide(parent, [EvalResult("c", 0, {"acc": 0.4}, ok=True)], config, []).status == "discard"
    )


def test_guard_within_margin_is_kept() -> None:
    verdict = decide(PARENT, results([0.90, 1.00, 0.80], seconds=10.4, name="c"), CONFIG, [])
    assert verdict.status == "keep"
    assert verdict.stats["guards"]["seconds"]["regression"] == pytest.approx(0.04)


def test_guard_regression_is_rejected_naming_the_guard() -> None:
    verdict = decide(PARENT, results([0.90, 1.00, 0.80], seconds=11.0, name="c"), CONFIG, [])
    assert verdict.status == "discard"
    assert verdict.reasons == ("guard seconds regressed 10.0% (margin 5.0%)",)
    assert verdict.stats["guards"]["seconds"]["ok"] is False


def test_missing_guard_is_rejected() -> None:
    candidate = [EvalResult(f"c{s}", s, {"val_loss": 0.5}, ok=True) for s in range(3)]
    verdict = decide(PARENT, candidate, CONFIG, [])
    assert verdict.status == "discard"
    assert verdict.reasons == ("guard seconds: the candidate did not report it",)


def test_crash_is_reported_with_reason_and_tail() -> None:
    candidate = results([0.5, 0.5], name="c")
    candidate.append(
        EvalResult("c/s2", 2, {}, ok=False, reason="exit code 1", tail="Traceback ...\nOOM")
    )
    verdict = decide(PARENT, candidate, CONFIG, [])
    assert verdict.status == "crash"
    assert verdict.reasons == ("seed 2: exit code 1",)
    assert verdict.stats["tail"] == "Traceback ...\nOOM"


def test_nan_target_is_a_crash() -> None:
    verdict = decide(PARENT, results([math.nan, 1.0, 1.0], name="c"), CONFIG, [])
    assert verdict.status == "crash"
    assert "val_loss is nan" in verdict.reasons[0]


def test_implausible_value_is_quarantined() -> None:
    verdict = decide(PARENT, results([0.001, 1.0, 0.9], name="c"), CONFIG, [])
    assert verdict.status == "quarantine"
    assert "below its plausible minimum" in verdict.reasons[0]


def test_pairs_by_seed_not_by_position() -> None:
    candidate = list(reversed(results([0.99, 1.09, 0.89], name="c")))
    verdict = decide(PARENT, candidate, CONFIG, [])
    assert verdict.status == "keep"
    assert all(d["improvement"] == pytest.approx(0.01) for d in verdict.stats["diffs"])


def test_seeds_the_parent_crashed_on_are_dropped_and_said() -> None:
    parent = [*PARENT[:2], EvalResult("p/s2", 2, {}, ok=False, reason="flaky")]
    verdict = decide(parent, results([0.9, 1.0, 5.0], name="c"), CONFIG, [])
    assert verdict.status == "keep"
    assert verdict.stats["n"] == 2
    assert verdict.reasons[0] == "seeds without a usable parent result: [2]"


def test_deterministic() -> None:
    candidate = results([0.95, 1.12, 0.85], name="c")
    assert decide(PARENT, candidate, CONFIG, []) == decide(PARENT, candidate, CONFIG, [])


def test_crude_uses_one_seed_and_says_unverified() -> None:
    crude = replace(CONFIG, decision="crude")
    assert decider(crude) is decide_crude
    assert decider(CONFIG) is decide
    # Better on seed 0, much worse on the others: the crude rule only sees seed 0.
    verdict = decide_crude(PARENT, results([0.99, 2.0, 2.0], name="c"), crude, [])
    assert verdict.status == "keep"
    assert verdict.stats["unverified"] is True
    assert verdict.stats["n"] == 1
    assert decide(PARENT, results([0.99, 2.0, 2.0], name="c"), CONFIG, []).status == "discard"


def test_crude_tie_is_not_kept() -> None:
    verdict = decide_crude(
        PARENT[:1], results([1.0], name="c"), replace(CONFIG, decision="crude"), []
    )
    assert verdict.status == "discard"
    assert verdict.stats["unverified"] is True


def test_stats_carry_the_candidates_evaluation_seconds() -> None:
    candidate = [replace(r, seconds=2.5) for r in results([0.9, 1.0, 0.8], name="c")]
    assert decide(PARENT, candidate, CONFIG, []).stats["seconds"] == 7.5
    crashed = [EvalResult("c", 0, {}, ok=False, reason="x", seconds=1.5)]
    assert decide(PARENT, crashed, CONFIG, []).stats["seconds"] == 1.5
