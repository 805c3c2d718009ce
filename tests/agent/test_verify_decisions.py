"""The Verifier with a fake evaluator of known noise: a null mutation is not kept, a large
true improvement is kept, a guard regression is rejected, a too-good result is
quarantined; plus crashes, bounds, re-check, re-validation, convergence and resume; and
one run of the real loop (ladder.agent.loop.Run) deciding through the Verifier."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from ladder.agent.config import AgentConfig, MetricSpec, VerifySettings
from ladder.agent.journal import Journal
from ladder.agent.loop import LoopParts, Run
from ladder.agent.records import Candidate, EvalJob, EvalResult, Proposal, ProposalContext, Verdict
from ladder.agent.strategies import make_strategy
from ladder.agent.verify import Verifier, verified_decide
from ladder.agent.workspace import Workspace
from testing.fixtures import git, make_repo

CONFIG = AgentConfig(
    editable=("prog.py",),
    eval="fake",
    metrics={
        "loss": MetricSpec("loss", "min", "target", bounds=(0.0, None)),
        "latency": MetricSpec("latency", "min", "guard", margin=0.05),
    },
    seeds=15,
    iterations=None,
)
NOISE = 0.1  # sd of the program-specific noise of one evaluation
SHARED = 0.3  # sd of the noise every program shares under one seed


class World:
    """Evaluations of programs named by their true loss: truth + shared + specific noise."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.count = 0

    def seeds(self, n: int) -> list[int]:
        return [self.rng.randrange(2**31) for _ in range(n)]

    def evaluate(self, truth: float, seed: int, *, latency: float = 100.0, seconds: float = 60.0,
                 ignore_seed: bool = False) -> EvalResult:
        self.count += 1
        shared = random.Random(seed).gauss(0, SHARED)
        specific = random.Random(f"{truth}/{seed}").gauss(0, NOISE)
        value = truth + 5.0 if ignore_seed else truth + 5.0 + shared + specific
        lat = latency * (1 + random.Random(f"lat/{latency}/{seed}").gauss(0, 0.01))
        return EvalResult(f"e{self.count}", seed, {"loss": value, "latency": lat, "extra": 1.0},
                          ok=True, seconds=seconds)


Evaluate = Callable[[int], EvalResult]


def decide(verifier: Verifier, world: World, parent: Evaluate, cand: Evaluate,
           history: Sequence[Candidate] = ()) -> tuple[Verdict, int]:
    """Drive the verifier's stages as the loop does; returns the verdict and the seeds used."""
    seeds = world.seeds(verifier.first_stage())
    p, c = [parent(s) for s in seeds], [cand(s) for s in seeds]
    while True:
        outcome = verifier.judge(p, c, history)
        if isinstance(outcome, Verdict):
            return outcome, len(c)
        assert outcome > 0 and len(c) + outcome <= CONFIG.seeds
        more = world.seeds(outcome)
        p, c = p + [parent(s) for s in more], c + [cand(s) for s in more]


def calibrated(world: World, config: AgentConfig = CONFIG) -> Verifier:
    verifier = Verifier(config)
    seeds = world.seeds(5)
    verifier.calibrate([world.evaluate(1.0, s) for s in seeds],
                       [world.evaluate(1.0, s) for s in seeds])
    return verifier


def history_of(effects: Sequence[float]) -> list[Candidate]:
    """A run's history whose candidates had these improvements (loss: delta = -effect)."""
    base = Candidate(0, "b", "", "baseline", "baseline", {"loss": 1.0})
    return [base] + [Candidate(i + 1, f"c{i}", "b", "x", "discard", {"loss": 1.0}, -e)
                     for i, e in enumerate(effects)]


def test_calibration_sets_the_minimum_effect_and_is_journal_ready() -> None:
    world = World()
    verifier = Verifier(CONFIG)
    seeds = world.seeds(5)
    summary = verifier.calibrate([world.evaluate(1.0, s) for s in seeds],
                                 [world.evaluate(1.0, s) for s in seeds])
    loss = summary["metrics"]["loss"]
    assert loss["rerun_sd"] == 0.0  # the fake is deterministic per (program, seed)
    assert 0.05 < loss["seed_sd"] < 1.0
    assert summary["min_effect"] == pytest.approx(0.1 * loss["seed_sd"])
    assert verifier.min_effect == summary["min_effect"]
    import json

    json.dumps(verifier.state())  # the loop journals it


def test_null_mutations_are_never_kept() -> None:
    world = World(1)
    verifier = calibrated(world)
    statuses = []
    for _ in range(60):
        verdict, _ = decide(verifier, world, lambda s: world.evaluate(1.0, s),
                            lambda s: world.evaluate(1.0 + 1e-9, s))
        statuses.append(verdict.status)
    assert "keep" not in statuses
    assert set(statuses) == {"discard"}


def test_a_large_true_improvement_is_kept_with_its_statistics() -> None:
    world = World(2)
    verifier = calibrated(world)
    verdict, used = decide(verifier, world, lambda s: world.evaluate(1.0, s),
                           lambda s: world.evaluate(0.0, s))
    assert verdict.status == "keep", verdict.reasons
    stats = verdict.stats
    assert stats["effect"] == pytest.approx(1.0, abs=0.15)
    assert stats["delta"] == pytest.approx(-stats["effect"])
    assert stats["ci"][0] < 1.0 < stats["ci"][1]
    assert stats["p"] <= stats["alpha"]
    assert stats["guards"]["latency"]["ok"] is True
    assert stats["anomalies"] == []
    assert used < CONFIG.seeds  # a clear effect needs fewer seeds than the most allowed
    assert "improved" in verdict.reasons[-1]


def test_a_harmful_change_stops_at_the_screen() -> None:
    world = World(3)
    verifier = calibrated(world)
    verdict, used = decide(verifier, world, lambda s: world.evaluate(1.0, s),
                           lambda s: world.evaluate(1.5, s))
    assert verdict.status == "discard" and used == verifier.first_stage()
    assert "futility" in verdict.reasons[-1]
    assert verdict.stats["stage"] == 1


def test_a_guard_regression_is_rejected_with_the_guard_named() -> None:
    world = World(4)
    verifier = calibrated(world)
    verdict, _ = decide(verifier, world, lambda s: world.evaluate(1.0, s),
                        lambda s: world.evaluate(0.5, s, latency=110.0))
    assert verdict.status == "discard"
    assert any("guard latency regressed" in r for r in verdict.reasons)
    assert verdict.stats["guards"]["latency"]["ok"] is False


@pytest.mark.parametrize(
    ("fault", "signal"),
    [
        pytest.param({"seconds": 2.0}, "time collapsed", id="work-skipped"),
        pytest.param({"ignore_seed": True}, "ignores the seed", id="seed-ignored"),
    ],
)
def test_a_too_good_result_is_quarantined(fault: dict[str, object], signal: str) -> None:
    world = World(5)
    verifier = calibrated(world)
    verdict, used = decide(verifier, world, lambda s: world.evaluate(1.0, s),
                           lambda s: world.evaluate(0.2, s, **fault))  # type: ignore[arg-type]
    assert verdict.status == "quarantine"
    assert used == verifier.first_stage()
    assert any(signal in a for a in verdict.stats["anomalies"])
    assert any("ladder agent review" in r for r in verdict.reasons)


def test_an_effect_far_above_the_history_is_quarantined() -> None:
    world = World(6)
    verifier = calibrated(world)
    history = history_of([0.01, -0.02, 0.0, 0.03, -0.01, 0.02, -0.03, 0.0, 0.01])
    verdict, _ = decide(verifier, world, lambda s: world.evaluate(1.0, s),
                        lambda s: world.evaluate(0.0, s), history)
    assert verdict.status == "quarantine"
    assert verdict.stats["signals"]["z"] > 3.5


def test_a_value_outside_its_bounds_is_quarantined() -> None:
    world = World(7)
    verifier = calibrated(world)
    verdict, _ = decide(verifier, world, lambda s: world.evaluate(1.0, s),
                        lambda s: world.evaluate(-10.0, s))
    assert verdict.status == "quarantine"
    assert any("plausible minimum" in a for a in verdict.stats["anomalies"])


def test_a_crashed_seed_is_a_crash_at_once() -> None:
    world = World(8)
    verifier = calibrated(world)
    seeds = world.seeds(3)
    parent = [world.evaluate(1.0, s) for s in seeds]
    cand = [world.evaluate(0.5, s) for s in seeds]
    cand[1] = replace(cand[1], ok=False, reason="exit 1", tail="Traceback")
    verdict = verifier.judge(parent, cand, [])
    assert isinstance(verdict, Verdict) and verdict.status == "crash"
    assert "exit 1" in verdict.reasons[0]


def test_undeclared_metrics_that_move_are_tracked() -> None:
    world = World(9)
    verifier = calibrated(world)
    seeds = world.seeds(3)
    parent = [world.evaluate(1.0, s) for s in seeds]
    cand = [replace(r, metrics={**r.metrics, "extra": 2.0 + i / 100})
            for i, r in enumerate(world.evaluate(1.0, s) for s in seeds)]
    outcome = verifier.judge(parent, cand, [])
    stats = outcome.stats if isinstance(outcome, Verdict) else {}
    if not isinstance(outcome, Verdict):  # screened on: the stats come at the end
        stats = verifier._common(list(zip(parent, cand, strict=True)), [0.0] * 3, [], cand)
    assert "extra" in stats["tracked"]
    assert stats["tracked"]["extra"]["delta"] == pytest.approx(1.01)


def test_recheck_is_never_a_keep_and_says_whether_the_anomaly_persisted() -> None:
    world = World(10)
    verifier = calibrated(world)
    flagged, _ = decide(verifier, world, lambda s: world.evaluate(1.0, s),
                        lambda s: world.evaluate(0.2, s, seconds=2.0))
    seeds = world.seeds(3)
    still = verifier.recheck(flagged, [world.evaluate(1.0, s) for s in seeds],
                             [world.evaluate(0.2, s, seconds=2.0) for s in seeds])
    assert still.status == "quarantine" and still.stats["persisted"] is True
    gone = verifier.recheck(flagged, [world.evaluate(1.0, s) for s in seeds],
                            [world.evaluate(0.9, s) for s in seeds])
    assert gone.status == "quarantine" and gone.stats["persisted"] is False
    assert gone.stats["recheck"]["effect"] == pytest.approx(0.1, abs=0.2)


def test_revalidation_reports_the_headline_with_its_interval() -> None:
    world = World(11)
    verifier = calibrated(world)
    seeds = world.seeds(10)
    report = verifier.revalidate([world.evaluate(1.0, s) for s in seeds],
                                 [world.evaluate(0.8, s) for s in seeds])
    assert report["replicated"] is True
    assert report["ci"][0] < 0.2 < report["ci"][1]
    assert report["headline"].startswith("loss -") and "(95% CI)" in report["headline"]
    same = verifier.revalidate([world.evaluate(1.0, s) for s in seeds],
                               [world.evaluate(1.0 + 1e-9, s) for s in seeds])
    assert same["replicated"] is False


def test_convergence_needs_a_long_plateau_below_the_noise() -> None:
    verifier = Verifier(replace(CONFIG, iterations=40, verify=VerifySettings(patience=10,
                                                                             min_effect=0.05)))
    flat = history_of([0.0] * 9)
    assert verifier.converged(flat) == ""  # not enough decisions yet
    long_flat = history_of([0.001 * (-1) ** i for i in range(39)])
    assert "converged" in verifier.converged(long_flat)
    kept = [*long_flat[:-1], replace(long_flat[-1], status="keep")]
    assert verifier.converged(kept) == ""


def test_state_round_trip_resumes_with_the_same_alpha() -> None:
    world = World(12)
    verifier = calibrated(world)
    for truth in (0.5, 1.0, 0.6):
        decide(verifier, world, lambda s: world.evaluate(1.0, s),
               lambda s, t=truth: world.evaluate(t, s))
    resumed = Verifier(CONFIG, verifier.state())
    assert resumed.state() == verifier.state()
    assert resumed.lord.next_alpha() == verifier.lord.next_alpha()
    assert resumed.min_effect == verifier.min_effect


def test_one_seed_is_never_verified() -> None:
    verifier = Verifier(replace(CONFIG, seeds=1))
    world = World(13)
    verdict, _ = decide(verifier, world, lambda s: world.evaluate(1.0, s),
                        lambda s: world.evaluate(0.5, s))
    assert verdict.status == "discard"
    assert verdict.stats["p"] == 1.0


# --- the real loop, deciding through the Verifier --------------------------------------------

LOOP_CONFIG = AgentConfig(
    editable=("prog.py",),
    eval="unused: the fake executor reads prog.py",
    metrics={"loss": MetricSpec("loss", "min", "target")},
    seeds=8,
    iterations=4,
    strategy="hill",
)


def x_of(root: Path) -> float:
    match = re.search(r"X = (-?[\d.]+)", (root / "prog.py").read_text())
    assert match is not None
    return float(match.group(1))


class NoisyExecutor:
    """loss = (X - 1)^2 + seed noise (sd 0.05), paired by seed."""

    slots = 1

    def run(self, jobs: Sequence[EvalJob],
            on_result: Callable[[EvalResult], None] | None = None) -> list[EvalResult]:
        out = []
        for job in jobs:
            noise = random.Random(job.seed).gauss(0, 0.05)
            result = EvalResult(job.key, job.seed, {"loss": (x_of(job.root) - 1) ** 2 + noise}, True,
                                seconds=1.0)
            if on_result:
                on_result(result)
            out.append(result)
        return out


class Steps:
    name = "steps"

    def __init__(self, steps: Sequence[float]) -> None:
        self.steps = list(steps)

    def propose(self, ctx: ProposalContext) -> Proposal | None:
        step = self.steps[(ctx.iteration - 1) % len(self.steps)]
        x = x_of(ctx.root)
        return Proposal(f"X {x} -> {x + step} (it {ctx.iteration})",
                        {"prog.py": f"X = {x + step}\n# {ctx.iteration}\n"})


def test_the_loop_keeps_a_real_gain_and_not_a_null_change(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"prog.py": "X = 3.0\n", ".gitignore": ".ladder/runs/\n"})
    baseline = git(repo, "rev-parse", "HEAD").stdout.strip()
    verifier = Verifier(LOOP_CONFIG)
    parts = LoopParts(proposer=Steps([-1.0, 0.0]), strategy=make_strategy("hill", LOOP_CONFIG),
                      executor=NoisyExecutor(), decide=verified_decide(verifier))
    journal = Journal(repo / ".ladder" / "runs" / "v1" / "journal.jsonl")
    run = Run(root=repo, run_id="v1", config=LOOP_CONFIG, parts=parts,
              workspace=Workspace(repo, "v1", baseline, editable=LOOP_CONFIG.editable),
              journal=journal)
    run.start(baseline)
    run.loop()
    statuses = [c.status for c in run.history]
    assert statuses == ["baseline", "keep", "discard", "keep", "discard"]
    decisions = [r["data"]["verdict"]["stats"] for r in journal.records() if r["kind"] == "decision"]
    assert all(d["rule"] == "verified" for d in decisions)
    assert decisions[0]["p"] <= decisions[0]["alpha"]
    run.ws.cleanup()
