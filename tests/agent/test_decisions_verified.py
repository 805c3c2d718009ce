"""The verified decision, driven by the shipped loop (`Run` with the shipped fakes) on a
world whose truth is known (testing/worlds.py): losers cost one paired evaluation, null
changes are never kept, real gains are kept on few seeds, guards refuse and are counted,
artifacts are quarantined, large effects are kept without a person when they replicate,
and the journal says which noise estimate decided."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from ladder.agent.config import VerifySettings
from ladder.agent.decisions import VerifiedDecision, make_decision
from ladder.agent.records import Candidate, EvalResult, Verdict
from ladder.agent.stats.noise import Pool
from ladder.errors import LadderError
from testing.worlds import (
    CONFIG,
    World,
    decisions,
    loop_run,
    move,
    program,
    started,
    truth,
    with_settings,
    x_of,
)

NEUTRAL = move(0.0)  # a new program (its comment differs) with exactly the same truth


def test_a_clear_loser_costs_one_paired_evaluation(tmp_path: Path) -> None:
    run, ws, _ = loop_run(tmp_path, [move(+1.0)])
    started(run, ws)
    before = run.tally.evaluations
    verdict = run.iterate(1)
    assert verdict.status == "discard"
    # one seed of the candidate: the parent's first seed was the baseline's first evaluation
    assert run.tally.evaluations - before == 1
    assert verdict.stats["stop"] == "futility" and verdict.stats["n"] == 1
    assert 0.5 <= verdict.stats["p"] <= 1.0  # a real p-value, which ADDIS discards (> tau)


def test_null_changes_are_never_kept(tmp_path: Path) -> None:
    config = with_settings(iterations=60, evaluations=None, verify_on_converged="explore")
    run, ws, journal = loop_run(tmp_path, [NEUTRAL], config=config)
    started(run, ws).loop()
    assert run.tally.kept == 0 and run.tally.evaluated == 60
    assert "converged" in run.converged_reason  # said, and the run went on as configured
    # most cost one paired seed, few the whole cap
    used = [d["verdict"]["stats"]["n"] for d in decisions(journal)]
    assert sorted(used)[len(used) // 2] == 1
    assert sum(n == config.seeds for n in used) <= 3


def test_a_real_gain_is_kept_on_few_seeds_with_its_statistics(tmp_path: Path) -> None:
    run, ws, _ = loop_run(tmp_path, [move(-0.5)])  # loss 4 -> 2.25, 12 paired sigma
    started(run, ws)
    verdict = run.iterate(1)
    assert verdict.status == "keep", verdict.reasons
    stats = verdict.stats
    # the first decision has only the calibration's cautious noise estimate, and still
    # stops long before the cap
    assert stats["n"] <= 4 < CONFIG.seeds
    assert stats["p"] <= stats["alpha"]
    assert stats["ci"][0] < 1.75 < stats["ci"][1]
    assert stats["guards"]["latency"]["ok"] is True
    assert "improved by" in " ".join(verdict.reasons)
    assert x_of(ws.files(ws.tip)["prog.py"]) == 2.5  # the run's branch moved to it


def test_a_close_call_uses_more_seeds_than_clear_ones(tmp_path: Path) -> None:
    # loss 4 -> 3.80 (1.4 paired sigma): the sequential test looks longer before it knows.
    config = with_settings(iterations=24, evaluations=None)
    run, ws, journal = loop_run(tmp_path, [move(+1.0), move(-0.05), move(0.0)], config=config)
    started(run, ws).loop()
    used = {d["iteration"]: d["verdict"]["stats"]["n"] for d in decisions(journal)}
    clear = [used[i] for i in used if i % 3 == 1]
    close = [used[i] for i in used if i % 3 == 2 and i > 6]
    assert max(clear) == 1
    assert sum(close) / len(close) > 1.5 and max(close) >= 3


def test_a_guard_regression_is_refused_named_and_counted(tmp_path: Path) -> None:
    from ladder.commands.agent import summary

    slower = move(-0.5, extra="LATENCY = 1.2\n")  # a real gain, 20% slower (margin 5%)
    run, ws, _ = loop_run(tmp_path, [slower])
    started(run, ws)
    verdict = run.iterate(1)
    assert verdict.status == "discard"
    assert verdict.stats["refused_by"] == ["latency"]
    assert any("refused by guard latency" in r for r in verdict.reasons)
    assert run.tally.refused_by_guard == {"latency": 1}
    assert "significant but refused by guard latency: 1" in summary(run)


@pytest.mark.parametrize(
    ("marker", "fault", "signal"),
    [
        pytest.param("# fast", lambda r, t: replace(
            r, metrics={**r.metrics, "loss": r.metrics["loss"] - 3.0}, seconds=1.0),
            "time collapsed", id="work-skipped"),
        pytest.param("# constant", lambda r, t: replace(r, metrics={**r.metrics, "loss": 0.5}),
                     "ignores the seed", id="seed-ignored"),
        pytest.param("# wild", lambda r, t: replace(r, metrics={**r.metrics, "loss": -50.0}),
                     "plausible minimum", id="out-of-bounds"),
    ],
)
def test_artifacts_are_quarantined_for_a_person(
    tmp_path: Path, marker: str, fault: object, signal: str
) -> None:
    world = World(faults={marker: fault})  # type: ignore[dict-item]
    planted = move(0.0, extra=f"{marker}\n")
    run, ws, journal = loop_run(tmp_path, [planted], world=world)
    started(run, ws)
    verdict = run.iterate(1)
    assert verdict.status == "quarantine"
    assert any(signal in a for a in verdict.stats["anomalies"])
    assert verdict.stats["persisted"] is True
    assert any("ladder agent review" in r for r in verdict.reasons)
    assert journal.of_kind("recheck")[0]["iteration"] == 1
    assert ws.tip == ws.baseline  # nothing kept


def test_a_time_collapse_that_does_not_repeat_is_load_not_skipped_work(tmp_path: Path) -> None:
    """The parent timed at a busy moment (two runs started at once), the candidate at a
    quiet one: its first seeds look like skipped work. Re-timed on fresh seeds the
    collapse is gone, so a real gain is kept (replicated) and nobody is asked."""
    def quiet(result: EvalResult, text: str) -> EvalResult:
        if "recheck" in result.key:
            return result
        return replace(result, seconds=result.seconds * 0.1)

    world = World(faults={"# quiet": quiet})
    real = move(-1.5, extra="# quiet\n")
    run, ws, journal = loop_run(tmp_path, [real], world=world)
    started(run, ws)
    verdict = run.iterate(1)
    assert verdict.status == "keep", verdict.reasons
    assert verdict.stats["label"] == "time signal not repeated, replicated"
    assert verdict.stats["timing_only"] is True and verdict.stats["persisted"] is False
    assert any("time collapsed" in a for a in verdict.stats["first_anomalies"])
    assert journal.of_kind("recheck")[0]["verdict"]["status"] == "keep"
    assert run.tally.quarantined == 0 and ws.tip != ws.baseline


def test_a_time_collapse_alone_waits_until_the_improvement_is_shown(tmp_path: Path) -> None:
    """Until its improvement is shown, a candidate whose only signal is the time goes on
    like any other (it used to be parked after one seed); once shown, a collapse that
    repeats on the fresh seeds is still quarantined for a person."""
    def fast(result: EvalResult, text: str) -> EvalResult:
        return replace(result, seconds=result.seconds * 0.1)

    world = World(faults={"# fast": fast})
    run, ws, _ = loop_run(tmp_path, [move(-0.1, extra="# fast\n")], world=world)
    started(run, ws)
    verdict = run.iterate(1)
    assert verdict.status == "quarantine", verdict.reasons
    assert verdict.stats["n"] > 1 and verdict.stats["p"] <= verdict.stats["alpha"]
    assert verdict.stats["persisted"] is True
    assert any("time collapsed" in a for a in verdict.stats["anomalies"])


def test_a_large_effect_that_replicates_is_kept_without_a_person(tmp_path: Path) -> None:
    config = with_settings(iterations=11, evaluations=None)
    big = move(-1.5)  # loss 4 -> 0.25 after ten neutral changes: far above their history
    run, ws, journal = loop_run(tmp_path, [NEUTRAL] * 10 + [big], config=config)
    started(run, ws).loop()
    last = decisions(journal)[-1]["verdict"]
    assert last["status"] == "keep", last["reasons"]
    assert last["stats"]["label"] == "large effect, replicated"
    assert last["stats"]["signals"]["z"] > config.verify.z_threshold
    assert journal.of_kind("recheck")[-1]["verdict"]["status"] == "keep"
    assert run.tally.quarantined == 0


def test_a_large_effect_that_does_not_replicate_is_quarantined(tmp_path: Path) -> None:
    def lucky(result: EvalResult, text: str) -> EvalResult:  # gains on its first seeds only
        if "recheck" in result.key:
            return result
        return replace(result, metrics={**result.metrics, "loss": result.metrics["loss"] - 3.0})

    world = World(faults={"# lucky": lucky})
    config = with_settings(iterations=11, evaluations=None)
    run, ws, journal = loop_run(tmp_path, [NEUTRAL] * 10 + [move(0.0, "# lucky\n")],
                                world=world, config=config)
    started(run, ws).loop()
    last = decisions(journal)[-1]["verdict"]
    assert last["status"] == "quarantine"
    assert any("did not replicate" in r or "far above the fresh one" in r for r in last["reasons"])


def _fresh(diffs: list[float]) -> tuple[list[EvalResult], list[EvalResult]]:
    """A re-check's fresh paired results whose improvements are `diffs`."""
    parent = [EvalResult(f"p/s{k}", k, {"loss": 5.0, "latency": 100.0}, ok=True, seconds=60.0)
              for k in range(len(diffs))]
    candidate = [EvalResult(f"c/s{k}", k, {"loss": 5.0 - d, "latency": 100.0}, ok=True,
                            seconds=60.0) for k, d in enumerate(diffs)]
    return parent, candidate


def test_a_replication_looks_again_when_its_first_fresh_seed_is_low() -> None:
    # a real 2-sigma effect has a fresh seed below zero one time in 40: that seed alone
    # must not send it to a person, while a lucky one still goes to a person
    decision = VerifiedDecision(CONFIG)
    decision.calibration = {"priors": {"loss": {"s2": 1.0, "df": 20.0, "source": "calibration"}}}
    flagged = Verdict("quarantine", ("loss improved by 2", "large effect: 4 robust sigmas",
                                     "re-checked on fresh seeds before it is kept"),
                      {"pending": "large-effect", "effect": 2.0, "n": 4, "p": 1e-4})
    plan = decision.recheck_plan(flagged, slots=2)
    assert plan.looks == (1, 2, 3, 4, 5)
    assert decision.recheck(flagged, *_fresh([-0.3]), plan) == 1
    kept = decision.recheck(flagged, *_fresh([-0.3, 2.5, 2.4, 2.6]), plan)
    assert isinstance(kept, Verdict) and kept.status == "keep", kept
    assert kept.stats["label"] == "large effect, replicated"
    lucky = decision.recheck(flagged, *_fresh([-0.3, -0.5, 0.1, -0.2, 0.0]), plan)
    assert isinstance(lucky, Verdict) and lucky.status == "quarantine"
    assert any("did not replicate" in r or "far above the fresh one" in r for r in lucky.reasons)


def test_a_real_gain_is_not_called_inconsistent_by_a_young_tight_pool() -> None:
    # ladder demo: LR x2 improved val_loss by 0.1545 on its seed and 0.097 on a fresh one;
    # the pool (two small changes) said sd 0.0012 per paired seed, the calibration's
    # bound 0.24: judged on the pool alone the gain went to a person as "far above"
    decision = VerifiedDecision(CONFIG)
    decision.calibration = {"priors": {"loss": {"s2": 0.056, "df": 5.0, "source": "calibration"}}}
    decision.pools["loss"] = Pool()
    decision.pools["loss"].add(1.2e-6, 1)
    decision.pools["loss"].add(1.6e-6, 1)
    flagged = Verdict("quarantine", ("loss improved by 0.1545", "large effect: 6.2 robust sigmas",
                                     "re-checked on fresh seeds before it is kept"),
                      {"pending": "large-effect", "effect": 0.1545, "n": 1, "p": 3e-5})
    plan = decision.recheck_plan(flagged, slots=2)
    kept = decision.recheck(flagged, *_fresh([0.097]), plan)
    assert isinstance(kept, Verdict) and kept.status == "keep", kept
    assert kept.stats["label"] == "large effect, replicated"


def test_a_replication_is_judged_with_the_spread_of_all_its_seeds() -> None:
    """A run whose pool learnt a paired sd of 0.0002 from two small changes (a demo's
    MOMENTUM 0 -> 0.1 and STEPS 100 -> 110), then a change whose seeds scatter a hundred
    times wider: +0.04 on its seed, then +0.002 on a fresh one. On the prior alone each
    seed looks certain and the change was kept at its first fresh seed; judged with the
    spread of its own seeds, it has to keep showing the gain, and this one does not."""
    decision = VerifiedDecision(CONFIG)
    decision.calibration = {"priors": {"loss": {"s2": 0.148**2, "df": 5.0,
                                                "source": "calibration"}}}
    decision.pools["loss"] = Pool()
    decision.pools["loss"].add(0.0002**2, 1)
    decision.pools["loss"].add(0.0001**2, 1)
    first = [{"seed": 0, "parent": 5.0, "candidate": 4.96, "improvement": 0.04}]
    flagged = Verdict("quarantine", ("loss improved by 0.04", "shown on one seed: "
                                     "replicated on fresh seeds before it is kept"),
                      {"pending": "one-seed", "effect": 0.04, "n": 1, "p": 1e-6, "diffs": first})
    plan = decision.recheck_plan(flagged, slots=2)
    fresh = [0.002, -0.03, 0.01, -0.02, 0.015]
    verdict: Verdict | int = 1
    for k in range(1, len(fresh) + 1):
        verdict = decision.recheck(flagged, *_fresh(fresh[:k]), plan)
        if isinstance(verdict, Verdict):
            break
    assert isinstance(verdict, Verdict) and verdict.status == "discard", verdict
    assert "did not replicate" in verdict.reasons[-1]
    # a change whose seeds agree is still kept on its first fresh seed
    steady = Verdict("quarantine", flagged.reasons, {**flagged.stats, "effect": 0.04})
    kept = decision.recheck(steady, *_fresh([0.0398]), plan)
    assert isinstance(kept, Verdict) and kept.status == "keep", kept


def test_a_one_seed_keep_the_budget_cannot_replicate_is_not_kept() -> None:
    decision = VerifiedDecision(CONFIG)
    flagged = Verdict("quarantine", ("loss improved by 0.05", "shown on one seed: replicated "
                                     "on fresh seeds before it is kept"),
                      {"pending": "one-seed", "effect": 0.05, "n": 1, "p": 0.002})
    verdict = decision.recheck(flagged, [], [], decision.recheck_plan(flagged, slots=2))
    assert isinstance(verdict, Verdict) and verdict.status == "discard"
    assert "budget ended before its replication" in verdict.reasons[-1]
    large = Verdict("quarantine", ("loss improved by 3", "large effect: 5 robust sigmas",
                                   "re-checked on fresh seeds before it is kept"),
                    {"pending": "large-effect", "effect": 3.0, "n": 2, "p": 1e-4})
    waiting = decision.recheck(large, [], [], decision.recheck_plan(large, slots=2))
    assert isinstance(waiting, Verdict) and waiting.status == "quarantine"  # a person looks


def test_a_crashed_seed_is_a_crash_at_once(tmp_path: Path) -> None:
    world = World(faults={"# boom": lambda r, t: replace(r, ok=False, reason="exit code 1",
                                                        tail="Traceback: boom")})
    run, ws, _ = loop_run(tmp_path, [move(-0.5, "# boom\n")], world=world)
    started(run, ws)
    verdict = run.iterate(1)
    assert verdict.status == "crash" and "exit code 1" in verdict.reasons[0]
    assert verdict.stats["tail"] == "Traceback: boom"


def test_undeclared_metrics_that_move_are_tracked(tmp_path: Path) -> None:
    def extra(result: EvalResult, text: str) -> EvalResult:
        return replace(result, metrics={**result.metrics, "extra": 2.0 + result.seed % 7 / 100})

    world = World(faults={"# extra": extra, "X = 3.0\n": lambda r, t: replace(
        r, metrics={**r.metrics, "extra": 1.0 + r.seed % 5 / 100})})
    run, ws, _ = loop_run(tmp_path, [move(-0.5, "# extra\n")], world=world)
    started(run, ws)
    verdict = run.iterate(1)
    assert verdict.stats["tracked"]["extra"]["delta"] == pytest.approx(1.0, abs=0.1)


def test_calibration_journals_the_noise_and_the_outlook(tmp_path: Path) -> None:
    run, ws, journal = loop_run(tmp_path, [NEUTRAL])
    started(run, ws)
    summary = journal.of_kind("calibration")[0]["summary"]
    loss = summary["metrics"]["loss"]
    assert loss["rerun_sd"] == 0.0  # the world is deterministic per (program, seed)
    assert 0.05 < loss["seed_sd"] < 1.0
    assert summary["min_effect"] == pytest.approx(0.1 * loss["seed_sd"])
    assert summary["priors"]["loss"]["df"] == 5  # six calibration seeds
    outlook = journal.of_kind("outlook")[0]
    assert 0 < outlook["smallest"] < 2.0 and outlook["cap"] == CONFIG.seeds
    assert "effects above" in run.outlook_words
    json.dumps(run.decision.state())  # the loop journals it


def test_an_impossible_guard_margin_is_refused_before_the_budget_is_spent(tmp_path: Path) -> None:
    tight = replace(CONFIG.metrics["latency"], margin=0.0005)
    config = replace(CONFIG, metrics={**CONFIG.metrics, "latency": tight})
    run, ws, journal = loop_run(tmp_path, [NEUTRAL], config=config)
    with pytest.raises(LadderError, match="impossible to show") as refused:
        started(run, ws)
    assert "margin of about" in refused.value.what
    assert run.tally.evaluations == 12  # the calibration only: nothing else was spent
    assert journal.of_kind("stop")[0]["reason"].startswith("refused:")


def test_the_journal_says_which_noise_estimate_decided(tmp_path: Path) -> None:
    config = with_settings(iterations=40, evaluations=None)
    run, ws, journal = loop_run(tmp_path, [move(-0.01), move(0.01)], config=config)
    started(run, ws).loop()
    sources = [d["verdict"]["stats"]["noise"] for d in decisions(journal)]
    assert sources[0].startswith("calibration (")
    assert "pooled over" in sources[-1]
    assert decisions(journal)[-1]["verdict"]["stats"]["prior_df"] >= 5  # the calibration's


def test_every_decision_tells_addis_a_valid_p_value(tmp_path: Path) -> None:
    config = with_settings(iterations=30, evaluations=None)
    run, ws, journal = loop_run(tmp_path, [move(+1.0), NEUTRAL, move(-0.3)], config=config)
    started(run, ws).loop()
    for d in decisions(journal):
        stats = d["verdict"]["stats"]
        if d["verdict"]["status"] == "keep":
            assert stats["p"] <= stats["alpha"]
        elif stats.get("stop") in ("futility", "cap"):
            assert 0 < stats["p"] <= 1
    state = run.decision.state()["fdr"]
    assert state["tests"] == 30 and len(state["rejections"]) == run.tally.kept


def test_the_state_round_trip_resumes_with_the_same_level_and_noise(tmp_path: Path) -> None:
    config = with_settings(iterations=15, evaluations=None)
    run, ws, _ = loop_run(tmp_path, [move(-0.2), move(0.1), NEUTRAL], config=config)
    started(run, ws).loop()
    decision = run.decision
    assert isinstance(decision, VerifiedDecision)
    again = make_decision(config, json.loads(json.dumps(decision.state())))
    assert isinstance(again, VerifiedDecision)
    assert again.state() == decision.state()
    assert again.level() == decision.level()
    assert again.prior("loss") == decision.prior("loss")
    assert again.min_effect == decision.min_effect


def test_revalidation_gives_the_headline_with_an_interval(tmp_path: Path) -> None:
    config = with_settings(iterations=3, evaluations=None)
    run, ws, journal = loop_run(tmp_path, [move(-0.5)], config=config)
    started(run, ws).loop()
    final = journal.of_kind("revalidation")[-1]
    gain = truth(program(3.0)) - truth(ws.files(final["commit"])["prog.py"])
    assert final["ci"][0] < gain < final["ci"][1]
    assert final["replicated"] is True and final["index"] == 0 and final["n"] == CONFIG.seeds
    assert final["headline"].startswith("loss -") and "(95% CI)" in final["headline"]


def history_of(effects: list[float]) -> list[Candidate]:
    base = Candidate(0, "b", "", "baseline", "baseline", {"loss": 1.0})
    return [base] + [Candidate(i + 1, f"c{i}", "b", "x", "discard", {"loss": 1.0 + 0.001 * i}, -e)
                     for i, e in enumerate(effects)]


def test_convergence_needs_a_long_plateau_below_the_noise() -> None:
    decision = VerifiedDecision(replace(CONFIG, verify=VerifySettings(patience=10, min_effect=0.05)))
    assert decision.converged(history_of([0.0] * 9), left=30) == ""  # not enough decisions
    flat = history_of([0.001 * (-1) ** i for i in range(39)])
    assert "converged" in decision.converged(flat, left=10)
    kept = [*flat[:-1], replace(flat[-1], status="keep")]
    assert decision.converged(kept, left=10) == ""


def test_a_run_needs_two_seeds_to_verify_anything() -> None:
    from ladder.agent import budget

    with pytest.raises(LadderError, match="needs at least 2 paired seeds"):
        budget.check(replace(CONFIG, seeds=1), make_decision(CONFIG))


def test_quantized_levels_are_never_above_addis_level() -> None:
    from ladder.agent.decisions.verified import quantize

    for alpha in (0.05, 0.0123, 3.3e-4, 0.2499):
        assert quantize(alpha) <= alpha < quantize(alpha) * 10 ** (1 / 50) * (1 + 1e-9)
    assert math.isclose(quantize(0.01), 0.01)


def test_a_first_seed_is_not_dropped_on_a_test_with_no_degrees_of_freedom() -> None:
    """A demo's pool after five decisions: paired spreads from 0.000001 (a weight decay
    nudged) to 0.046 (the learning rate doubled), so Smyth's d0 is a fraction of one. A
    one-seed look then has a p-value near 0.3 whatever its effect, and the
    conditional-power rule dropped +0.08 (about three of the run's sigmas) after its first
    seed. It now looks again; a first seed that got worse still stops at once."""
    decision = VerifiedDecision(CONFIG)
    decision.calibration = {"priors": {"loss": {"s2": 0.0774**2, "df": 5.0,
                                                "source": "calibration"}}}
    decision.pools["loss"] = Pool()
    for sd, df in ((0.0159, 2), (0.0117, 1), (0.000001, 1), (0.00836, 3), (0.0458, 4)):
        decision.pools["loss"].add(sd**2, df)
    assert decision.prior("loss").df < 1
    plan = decision.plan(slots=2)
    better = decision.judge(*_fresh([0.08]), [], plan)
    assert better == 1, better
    worse = decision.judge(*_fresh([-0.08]), [], plan)
    assert isinstance(worse, Verdict) and worse.status == "discard"
    assert worse.stats["stop"] == "futility"


def test_a_spread_at_the_evaluations_rounding_is_left_out_of_the_pool() -> None:
    """A demo's five decisions: four paired spreads from 0.008 to 0.046, and a weight
    decay nudged by a tenth whose seeds differed by 0.000001. Pooled, that one
    log-variance made d0 a fifth of a degree of freedom; left out, the others pool."""
    decision = VerifiedDecision(CONFIG)
    decision.calibration = {"priors": {"loss": {"s2": 0.0774**2, "df": 5.0,
                                                "source": "calibration"}}}
    for sd, df in ((0.0159, 2), (0.0117, 1), (0.000001, 1), (0.00836, 3), (0.0458, 4)):
        decision._pool({"spreads": {"loss": (sd, df)}})
    pool = decision.pools["loss"]
    assert pool.count == 4 and pool.zeros == 0
    assert decision.prior("loss").df > 5
    # exact zeros (a deterministic evaluation) are still counted as such
    decision._pool({"spreads": {"loss": (0.0, 2)}})
    assert decision.pools["loss"].zeros == 1
