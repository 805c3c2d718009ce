"""The plateau detector and `auto`'s escalations."""

from __future__ import annotations

import math
import random

import pytest

from ladder.agent.config import AgentConfig, MetricSpec
from ladder.agent.records import Candidate, Status
from ladder.agent.strategies import Auto, Hill, Population
from ladder.agent.strategies.stuck import Plateau, Point, evaluated, mann_kendall, since_best


def config(direction: str = "min") -> AgentConfig:
    spec = MetricSpec("loss", "min" if direction == "min" else "max", "target")
    return AgentConfig(editable=("train.py",), eval="true", metrics={"loss": spec})


def cand(it: int, status: Status, loss: float, parent: str = "") -> Candidate:
    metrics = {"loss": loss} if status != "crash" else {}
    return Candidate(it, f"c{it}", parent or f"c{it - 1}", f"it{it}", status, metrics)


def points(values: list[float], bests: frozenset[int] = frozenset()) -> list[Point]:
    return [Point(i + 1, v, i in bests) for i, v in enumerate(values)]


def test_mann_kendall_matches_the_hand_computed_statistic() -> None:
    # 1,2,3,4: S = 6, Var = 4*3*13/18, z = (6-1)/sqrt(Var)
    z, p = mann_kendall([1.0, 2.0, 3.0, 4.0])
    assert z == pytest.approx(5 / math.sqrt(156 / 18))
    assert p == pytest.approx(0.5 * math.erfc(z / math.sqrt(2)))
    assert p < 0.05
    assert mann_kendall([4.0, 3.0, 2.0, 1.0])[1] > 0.95
    assert mann_kendall([2.0, 2.0, 2.0]) == (0.0, 0.5)


def test_mann_kendall_corrects_for_ties() -> None:
    # 1,1,2,2: S = 4, Var = (4*3*13 - 2*(2*1*9))/18 = 120/18
    z, _ = mann_kendall([1.0, 1.0, 2.0, 2.0])
    assert z == pytest.approx(3 / math.sqrt(120 / 18))


def test_evaluated_marks_only_verified_new_bests() -> None:
    history = [
        cand(0, "baseline", 10.0),
        cand(1, "discard", 5.0),  # better but discarded: not a best
        cand(2, "keep", 9.0),
        cand(3, "crash", 0.0),  # no metric: not evaluated
        cand(4, "keep", 9.5, parent="c0"),  # kept against its parent, not the best
        cand(5, "blocked", 1.0),
        cand(6, "keep", 8.0),
    ]
    found = evaluated(history, config().target)
    assert [(p.iteration, p.value, p.new_best) for p in found] == [
        (1, -5.0, False),
        (2, -9.0, True),
        (4, -9.5, False),
        (6, -8.0, True),
    ]
    maxed = evaluated([cand(0, "baseline", 1.0), cand(1, "keep", 2.0)], config("max").target)
    assert maxed == [Point(1, 2.0, True)]


@pytest.mark.parametrize(
    ("values", "bests", "stuck"),
    [
        pytest.param([0.0] * 7, set(), False, id="patience-not-yet"),
        pytest.param([0.0] * 8, set(), True, id="patience-spent"),
        pytest.param([0.0] * 8, {0}, False, id="best-seven-ago"),
        pytest.param([0.0] * 9, {0}, True, id="best-eight-ago"),
        pytest.param([float(i % 3) for i in range(16)], {11}, True, id="flat-window-half-patience"),
        pytest.param([float(i % 3) for i in range(16)], {12}, False, id="flat-window-recent-best"),
        pytest.param([float(i) for i in range(16)], {11}, False, id="improving-window"),
        pytest.param([float(i % 3) for i in range(15)], {10}, False, id="window-not-full"),
    ],
)
def test_plateau(values: list[float], bests: set[int], stuck: bool) -> None:
    assert bool(Plateau(patience=8, window=16).why(points(values, frozenset(bests)))) is stuck


def test_since_best_counts_evaluations_after_the_last_best() -> None:
    assert since_best(points([0.0] * 5, frozenset({1}))) == 3
    assert since_best(points([0.0] * 5)) == 5


def plateau_history(flat: int, before: int = 3) -> list[Candidate]:
    """A baseline, `before` improving keeps in a chain, then `flat` discards of the best."""
    history = [cand(0, "baseline", 10.0)]
    for i in range(1, before + 1):
        history.append(cand(i, "keep", 10.0 - i))
    best = f"c{before}"
    for i in range(before + 1, before + flat + 1):
        history.append(cand(i, "discard", 20.0 + i % 3, parent=best))
    return history


def test_auto_is_a_hill_climber_until_stuck() -> None:
    strategy = Auto(config(), patience=4)
    history = plateau_history(flat=3)
    rng, hill_rng = random.Random(0), random.Random(0)
    assert strategy.select(history, rng) == Hill(config()).select(history, hill_rng)
    assert strategy.mode == "hill" and strategy.escalations == []


def test_auto_escalates_after_the_plateau_and_records_when_and_why() -> None:
    strategy = Auto(config(), patience=4)
    history = plateau_history(flat=4)
    selection = strategy.select(history, random.Random(1))
    assert strategy.mode == "population"
    assert strategy.escalations == [(8, "hill", "population")]  # from the next iteration on
    assert strategy.reasons == ["no new best in 4 evaluations (patience 4)"]
    assert selection == Population(config()).select(history, random.Random(1))


def test_auto_gives_each_mode_its_own_patience_then_evolves() -> None:
    strategy = Auto(config(), patience=4)
    strategy.select(plateau_history(flat=7), random.Random(0))
    assert strategy.mode == "population"
    selection = strategy.select(plateau_history(flat=8), random.Random(0))
    assert strategy.escalations == [(8, "hill", "population"), (12, "population", "evolve")]
    assert strategy.mode == "evolve"
    # Everything kept before the escalation seeds the islands: the parent is the best so far.
    assert selection.parent.commit == "c3"


def test_auto_never_de_escalates() -> None:
    strategy = Auto(config(), patience=4)
    history = plateau_history(flat=8)
    history += [cand(12 + i, "keep", 5.0 - i, parent="c3") for i in range(1, 6)]
    strategy.select(history, random.Random(0))
    assert strategy.mode == "evolve"
    assert len(strategy.escalations) == 2


def test_a_resumed_auto_finds_the_same_mode() -> None:
    history = plateau_history(flat=6)
    live = Auto(config(), patience=4)
    for n in range(1, len(history) + 1):
        live.select(history[:n], random.Random(n))
    resumed = Auto(config(), patience=4)
    resumed.select(history, random.Random(0))
    assert (resumed.mode, resumed.escalations) == (live.mode, live.escalations)
