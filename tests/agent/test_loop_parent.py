"""A parent's evaluations on its own seeds serve every candidate compared with it, so a
look costs the candidate's evaluations only; ladder's wall time (`seconds`) as a metric,
or `reuse_parent = false`, keeps parent and candidate side by side for every decision.
Driven through the shipped loop with the shipped fakes (testing/worlds.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ladder.agent.config import MetricSpec
from ladder.agent.replay import replay
from testing.worlds import CONFIG, World, decisions, loop_run, move, started, with_settings

LOSER = move(+1.0)  # loss 4 -> 9: a clear loser, discarded after one seed


def _keys(run_evals: dict[str, object], head: str) -> list[str]:
    return sorted(k for k in run_evals if k.startswith(head))


def test_a_parents_seeds_are_evaluated_once_for_all_its_candidates(tmp_path: Path) -> None:
    world = World()
    run, ws, journal = loop_run(tmp_path, [LOSER], world=world)
    started(run, ws)
    costs = []
    for it in (1, 2, 3):
        before = world.count
        assert run.iterate(it).status == "discard"
        costs.append(world.count - before)
    # the baseline's first evaluations (before its calibration re-run) are its seeds as
    # a parent: no decision pays for the parent again
    assert costs == [1, 1, 1]
    base = run.history[0].commit
    first = [f"parent/{base}/s{k}" for k in range(run.decision.calibration_seeds)]
    assert _keys(run.evals, "parent/") == first
    again = _keys(run.evals, "it0/calibration/")
    assert [run.evals[k].seed for k in again] == [run.evals[k].seed for k in first]
    seeds = {d["verdict"]["stats"].get("n") for d in decisions(journal)}
    assert seeds == {1}


def test_every_candidate_is_paired_with_its_parent_on_the_same_seeds(tmp_path: Path) -> None:
    run, ws, _ = loop_run(tmp_path, [move(0.0)])  # neutral: some decisions look further
    started(run, ws)
    for it in range(1, 9):
        run.iterate(it)
    base = run.history[0].commit
    for it in range(1, 9):
        for key in _keys(run.evals, f"it{it}/candidate/"):
            parent = run.evals[f"parent/{base}/{key.rsplit('/', 1)[1]}"]
            assert parent.seed == run.evals[key].seed


def test_a_kept_candidate_serves_as_a_parent_with_its_own_results(tmp_path: Path) -> None:
    # every parent has the same seed sequence, so a kept candidate already has results on
    # the seeds its decision used: the next decision pays for the new candidate only
    world = World()
    run, ws, _ = loop_run(tmp_path, [move(-0.5), LOSER], world=world)
    started(run, ws)
    assert run.iterate(1).status == "keep"
    used = _keys(run.evals, "it1/candidate/") + _keys(run.evals, "it1/recheck-candidate/")
    before = world.count
    assert run.iterate(2).status == "discard"
    assert world.count - before == 1  # the loser's one seed; the parent's is its keep's
    kept = run.history[1].commit
    assert not _keys(run.evals, f"parent/{kept}/")
    own = {key.rsplit("/", 1)[1]: run.evals[key].seed for key in used}
    (looked,) = _keys(run.evals, "it2/candidate/")
    assert run.evals[looked].seed == own[looked.rsplit("/", 1)[1]]


def test_a_parents_candidates_start_at_different_seeds_at_no_extra_cost(tmp_path: Path) -> None:
    # a parent's result on a seed is shared by its candidates: were every first look on
    # the same seed, one lucky parent result would hide every real gain after it
    world = World()
    run, ws, _ = loop_run(tmp_path, [LOSER], world=world)
    started(run, ws)
    own = run.decision.calibration_seeds
    before = world.count
    for it in range(1, own + 1):
        assert run.iterate(it).status == "discard"
    assert world.count - before == own  # the candidates' seeds only
    firsts = {key.rsplit("/", 1)[1] for it in range(1, own + 1)
              for key in _keys(run.evals, f"it{it}/candidate/")}
    assert firsts == {f"s{k}" for k in range(own)}


def test_crude_meets_the_parents_first_result_every_time(tmp_path: Path) -> None:
    # autoresearch's rule: the parent's one measured value is what every candidate beats
    run, ws, _ = loop_run(tmp_path, [LOSER], config=with_settings(decision="crude"))
    started(run, ws)
    for it in (1, 2, 3):
        run.iterate(it)
    firsts = {key for it in (1, 2, 3) for key in _keys(run.evals, f"it{it}/candidate/")}
    assert firsts == {"it1/candidate/s0", "it2/candidate/s0", "it3/candidate/s0"}


def test_a_kept_parent_is_evaluated_on_the_seeds_its_decision_did_not_use(
    tmp_path: Path,
) -> None:
    # small improvements after the keep look further than the keep's seeds: the kept
    # parent is evaluated there, on the same sequence's next seeds, and nowhere twice
    run, ws, _ = loop_run(tmp_path, [move(-0.5)] + [move(-0.02)] * 6)
    started(run, ws)
    assert run.iterate(1).status == "keep"
    kept = run.history[1].commit
    own = {int(k.rsplit("/s", 1)[1]): r for k, r in run.evals.items() if k.startswith("it1/")}
    for it in range(2, 8):
        run.iterate(it)
    fresh = {int(k.rsplit("/s", 1)[1]): run.evals[k] for k in _keys(run.evals, f"parent/{kept}/")}
    assert fresh and not fresh.keys() & own.keys()
    for it in range(2, 8):
        for key in _keys(run.evals, f"it{it}/candidate/"):
            k = int(key.rsplit("/s", 1)[1])
            assert {**own, **fresh}[k].seed == run.evals[key].seed


@pytest.mark.parametrize(
    "config",
    [
        pytest.param(with_settings(reuse_parent=False), id="reuse_parent-false"),
        pytest.param(
            with_settings(metrics={**CONFIG.metrics,
                                   "seconds": MetricSpec("seconds", "min", "guard", margin=0.2)}),
            id="wall-time-metric",
        ),
    ],
)
def test_side_by_side_pairs_when_wall_time_counts(tmp_path: Path, config: object) -> None:
    world = World()
    run, ws, _ = loop_run(tmp_path, [LOSER], world=world, config=config)  # type: ignore[arg-type]
    started(run, ws)
    for it in (1, 2):
        before = world.count
        assert run.iterate(it).status == "discard"
        assert world.count - before == 2  # the parent again, beside the candidate
    assert not _keys(run.evals, "parent/")
    assert _keys(run.evals, "it2/parent/") == ["it2/parent/s0"]


def test_the_journal_tells_what_each_iteration_spent(tmp_path: Path) -> None:
    config = with_settings(iterations=None, evaluations=60)
    run, ws, journal = loop_run(tmp_path, [LOSER, move(0.0), move(-0.2)], config=config)
    started(run, ws).loop()
    state = replay(journal.records())
    assert state.spent_in == run.spent_in  # evaluations per iteration, parents' included
    revalidations = sum(1 for r in journal.of_kind("evaluation") if r["iteration"] is None)
    assert sum(state.spent_in.values()) + revalidations == run.tally.evaluations
    assert run.tally.evaluations <= 60


def test_a_run_whose_proposer_has_nothing_new_stops(tmp_path: Path) -> None:
    # only an evaluation budget, and a proposer that soon has nothing left to propose:
    # the run stops and says why instead of iterating forever
    from ladder.agent.loop import IDLE_LIMIT

    config = with_settings(iterations=None, evaluations=400)
    run, ws, _ = loop_run(tmp_path, [lambda text, it: move(+1.0)(text, it) if it <= 3 else None],
                          config=config)
    started(run, ws)
    reason = run.loop()
    assert reason.startswith(f"nothing evaluated in the last {IDLE_LIMIT} iterations")
    assert run.tally.evaluated == 3 and run.tally.evaluations < 400
    assert len(run.history) == 1 + 3 + IDLE_LIMIT


def test_a_recheck_uses_the_parents_next_seeds(tmp_path: Path) -> None:
    # a large effect is re-checked on seeds new to the candidate: the parent's next ones,
    # so the parent's side costs nothing that later candidates would not use too
    config = with_settings(iterations=11, evaluations=None)
    run, ws, journal = loop_run(tmp_path, [move(0.0)] * 10 + [move(-1.5)], config=config)
    started(run, ws).loop()
    last = decisions(journal)[-1]["verdict"]
    assert last["stats"]["label"] == "large effect, replicated"
    used = int(last["stats"]["n"])
    base = run.history[0].commit
    rechecked = _keys(run.evals, "it11/recheck-candidate/")
    assert rechecked and not _keys(run.evals, "it11/recheck-parent/")
    decided = {run.evals[k].seed for k in _keys(run.evals, "it11/candidate/")}
    assert len(_keys(run.evals, "it11/candidate/")) == used
    for key in rechecked:
        k = int(key.rsplit("/s", 1)[1])
        fresh = run.evals[key]
        assert fresh.seed == run.evals[f"parent/{base}/s{k}"].seed
        assert fresh.seed not in decided
