"""The evaluation budget (`evaluations = N`, `--evaluations N`): every decision rule
stops within it, decisions are planned within what is left, the summary says what was
spent, and a budget under which nothing can be kept is refused before anything runs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ladder.agent import budget
from ladder.agent.config import load_agent_config
from ladder.agent.decisions import CrudeDecision, make_decision
from ladder.commands.agent import summary
from ladder.errors import LadderError
from ladder.project import Project
from testing.agent_repo import agent_table, make_agent_repo
from testing.cli import ladder
from testing.fixtures import write
from testing.worlds import CONFIG, loop_run, move, started, with_settings


@pytest.mark.parametrize("rule", ["verified", "crude"])
@pytest.mark.parametrize("evaluations", [60, 137])
def test_every_rule_stops_within_the_budget(tmp_path: Path, rule: str, evaluations: int) -> None:
    config = with_settings(decision=rule, evaluations=evaluations, iterations=None,
                           verify_on_converged="explore")
    run, ws, _ = loop_run(tmp_path, [move(-0.05), move(0.3), move(0.0)], config=config)
    reason = started(run, ws).loop()
    assert reason == f"evaluation budget ({evaluations}) spent"
    assert run.tally.evaluations <= evaluations
    # it stopped because nothing more could fit: not a decision's worth left
    assert evaluations - run.tally.evaluations < 2 * (2 + make_decision(config).revalidation_seeds)
    assert f"evaluations {run.tally.evaluations} of a budget of {evaluations}" in summary(run)


def test_a_decision_is_planned_within_what_is_left(tmp_path: Path) -> None:
    config = with_settings(evaluations=50, iterations=None)
    decision = make_decision(config)
    plan_all = decision.plan(slots=2, room=None)
    assert plan_all.cap == config.seeds and plan_all.looks[0] == 1
    assert decision.plan(slots=2, room=3).cap == 3
    assert decision.plan(slots=4, room=None).looks[:2] == (2, 4)  # two pairs a look
    spent = budget.Budget.of(config, decision)
    assert spent.reserve == 2 * config.seeds  # the final re-validation is set aside
    assert spent.room(50 - 2 * config.seeds - 7) == 3
    assert spent.exhausted(50 - 2 * config.seeds - 3)


def test_the_final_revalidation_is_paid_from_the_budget(tmp_path: Path) -> None:
    config = with_settings(evaluations=120, iterations=None)
    run, ws, journal = loop_run(tmp_path, [move(-0.5), move(0.5)], config=config)
    started(run, ws).loop()
    assert run.tally.kept >= 1
    assert journal.of_kind("revalidation")[-1]["tag"] == "final"
    assert run.tally.evaluations <= 120


def test_revalidations_measure_the_baseline_once(tmp_path: Path) -> None:
    """Every re-validation uses the same fresh seeds, so the baseline is evaluated there
    once a run: a later one pays only for its best, and the final one's reserve shrinks
    to that once the baseline is measured."""
    config = with_settings(evaluations=400, iterations=None, verify_revalidate_every=1,
                           verify_on_converged="explore")
    run, ws, journal = loop_run(tmp_path, [move(-0.5), move(-0.4), move(0.5)], config=config)
    full = run.budget.reserve
    assert full == 2 * config.seeds
    started(run, ws).loop()
    revalidations = journal.of_kind("revalidation")
    bests = {r["commit"] for r in revalidations}
    assert len(revalidations) >= 3 and len(bests) >= 2, revalidations
    keys = [e["key"] for e in journal.of_kind("evaluation") if e["key"].startswith("reval")]
    assert sum(k.startswith("reval/baseline/") for k in keys) == config.seeds
    # each best on the seeds once, whatever the number of re-validations naming it
    assert len(keys) == config.seeds * (1 + len(bests)) == len(set(keys))
    assert run.budget.reserve == config.seeds  # the final now pays only for its best
    assert run.tally.evaluations <= 400


@pytest.mark.parametrize(("reuse", "spent", "decided"), [(True, 40, 39), (False, 41, 20)])
def test_crude_spends_one_evaluation_a_decision_against_a_known_parent(
    tmp_path: Path, reuse: bool, spent: int, decided: int
) -> None:
    # clear losers: the parent stays, and its one seed serves every later candidate
    config = with_settings(decision="crude", evaluations=41, iterations=None,
                           reuse_parent=reuse)
    run, ws, _ = loop_run(tmp_path, [move(+1.0)], config=config,
                                decision=CrudeDecision(config))
    started(run, ws).loop()
    # the baseline on one seed -- the parent's first -- then one each (the last one left
    # over: a decision may need a pair); side by side, a pair for every decision
    assert (run.tally.evaluations, run.tally.evaluated) == (spent, decided)


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        pytest.param({"evaluations": 30}, "evaluations = 30 cannot keep anything", id="tiny-budget"),
        pytest.param({"seeds": 1}, "needs at least 2 paired seeds", id="one-seed"),
    ],
)
def test_a_budget_that_can_keep_nothing_is_refused(changes: dict[str, int], needle: str) -> None:
    config = replace(CONFIG, **changes)
    with pytest.raises(LadderError, match=needle) as refused:
        budget.check(config, make_decision(config))
    assert refused.value.todo


def test_crude_needs_little(tmp_path: Path) -> None:
    config = replace(CONFIG, decision="crude", evaluations=3, seeds=1)
    budget.check(config, make_decision(config))  # one baseline, one pair: fine


def test_the_configuration_key_and_the_flag(tmp_path: Path) -> None:
    body = agent_table(extra="evaluations = 300\n")
    body = "\n".join(line for line in body.splitlines() if not line.startswith("iterations"))
    write(tmp_path, ".ladder/agent.toml", body + "\n")
    config = load_agent_config(Project(tmp_path))
    assert config.evaluations == 300 and config.iterations is None  # the budget alone
    flagged = load_agent_config(Project(tmp_path), {"evaluations": 120})
    assert flagged.evaluations == 120 and flagged.iterations is None
    write(tmp_path, ".ladder/agent.toml", agent_table(iterations=7) + "evaluations = 0\n")
    with pytest.raises(LadderError, match="evaluations"):
        load_agent_config(Project(tmp_path))


def test_the_flag_alone_replaces_the_default_iteration_budget(tmp_path: Path) -> None:
    body = "\n".join(line for line in agent_table().splitlines() if not line.startswith("iterations"))
    write(tmp_path, ".ladder/agent.toml", body + "\n")
    assert load_agent_config(Project(tmp_path)).iterations == 100
    assert load_agent_config(Project(tmp_path), {"evaluations": 50}).iterations is None
    write(tmp_path, ".ladder/agent.toml", agent_table(iterations=7))
    assert load_agent_config(Project(tmp_path), {"evaluations": 50}).iterations == 7


@pytest.mark.slow
def test_the_cli_refuses_before_anything_is_written(tmp_path: Path) -> None:
    root = make_agent_repo(tmp_path / "r", config=agent_table(seeds=4, iterations=3))
    proc = ladder(root, "agent", "run", "--evaluations", "10")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "evaluations = 10 cannot keep anything" in lines[0]
    assert "Traceback" not in proc.stderr
    assert not (root / ".ladder" / "runs").exists()  # no run was started
