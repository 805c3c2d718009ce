"""Each strategy in a small simulated search: a toy objective over three integer
parameters, a fake proposer that moves one parameter of the parent by one step, and a
fake merge (three-way, on the parameters) for crossovers. The strategies must behave
measurably differently on it — not be renamed hill climbers."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

import pytest

from ladder.agent.config import AgentConfig, MetricSpec
from ladder.agent.records import Candidate, Selection, Strategy
from ladder.agent.strategies import SECOND_PARENT, Auto, Evolve, Population, make_strategy
from ladder.agent.strategies.pool import ancestry, parents, ranked, related

GOAL = (3, -2, 4)
Params = tuple[int, ...]


def config() -> AgentConfig:
    return AgentConfig(
        editable=("train.py",),
        eval="python evaluate.py",
        metrics={
            "loss": MetricSpec("loss", "min", "target"),
            "seconds": MetricSpec("seconds", "min", "guard", margin=0.05),
        },
    )


def measure(params: Params) -> dict[str, float]:
    """Loss falls toward GOAL; seconds grow with the parameters' size (a real trade-off)."""
    return {
        "loss": float(sum((p - g) ** 2 for p, g in zip(params, GOAL, strict=True))),
        "seconds": 1.0 + 0.1 * sum(abs(p) for p in params),
    }


def params_of(c: Candidate) -> Params:
    return tuple(c.features["params"])


def mutate(parent: Candidate, rng: random.Random) -> Params:
    """The fake proposer: one parameter, one step up or down."""
    params = list(params_of(parent))
    params[rng.randrange(len(params))] += rng.choice((-1, 1))
    return tuple(params)


def merge(history: Sequence[Candidate], a: Candidate, b: Candidate) -> Params:
    """A three-way merge of b into a over their nearest common ancestor's parameters."""
    by_commit = {c.commit: c for c in history if c.commit}
    ancestors = ancestry(history)
    common = (ancestors[a.commit] | {a.commit}) & (ancestors[b.commit] | {b.commit})
    base = max((by_commit[c] for c in common), key=lambda c: c.iteration)
    return tuple(
        pb if pa == p0 else pa
        for pa, pb, p0 in zip(params_of(a), params_of(b), params_of(base), strict=True)
    )


def simulate(
    strategy: Strategy, iterations: int, seed: int = 0, start: Params = (0, 0, 0)
) -> tuple[list[Candidate], list[Selection]]:
    """The loop in miniature: select, propose (or merge), evaluate, keep if better."""
    rng = random.Random(seed)
    history = [Candidate(0, "c0", "", "baseline", "baseline", measure(start), None, _f(start))]
    selections = []
    for it in range(1, iterations + 1):
        sel = strategy.select(history, rng)
        selections.append(sel)
        params = merge(history, sel.parent, sel.second) if sel.second else mutate(sel.parent, rng)
        metrics = measure(params)
        keep = metrics["loss"] < sel.parent.metrics["loss"]
        features = _f(params, sel.second.commit if sel.second else "")
        history.append(
            Candidate(
                it,
                f"c{it}",
                sel.parent.commit,
                f"it{it}",
                "keep" if keep else "discard",
                metrics,
                metrics["loss"] - sel.parent.metrics["loss"],
                features,
                sel.island,
            )
        )
    return history, selections


def _f(params: Params, second: str = "") -> Mapping[str, object]:
    return {"params": list(params), **({SECOND_PARENT: second} if second else {})}


def best_before(history: Sequence[Candidate], iteration: int) -> Candidate:
    return ranked(parents(history[:iteration]), config().target)[0]


def lineages(history: Sequence[Candidate]) -> int:
    """How many kept programs are leaves (no kept descendant): 1 for a single chain."""
    kept = [c for c in history if c.status == "keep"]
    ancestors = ancestry(history)
    return sum(1 for c in kept if not any(c.commit in ancestors[d.commit] for d in kept))


def test_hill_climbs_one_chain_from_the_best() -> None:
    history, selections = simulate(make_strategy("hill", config()), 60)
    for it, sel in enumerate(selections, start=1):
        assert sel.parent == best_before(history, it)
        assert sel.second is None and sel.island == 0 and not sel.inspirations
    assert lineages(history) == 1
    assert history[-1].status == "discard" and best_before(history, 61).metrics["loss"] == 0


def test_population_explores_non_best_parents_and_merges_lineages() -> None:
    history, selections = simulate(make_strategy("population", config()), 80)
    not_best = [s for it, s in enumerate(selections, 1) if s.parent != best_before(history, it)]
    merges = [(it, s) for it, s in enumerate(selections, 1) if s.second is not None]
    assert len(not_best) >= 20  # a hill climber has none
    assert lineages(history) >= 2
    assert merges
    for it, sel in merges:
        assert sel.second is not None
        assert not related(sel.parent, sel.second, ancestry(history[:it]))
    # A merge of two kept lineages combined both changes and was itself kept.
    assert any(history[it].status == "keep" for it, _ in merges)


def test_evolve_keeps_islands_apart_and_uses_the_guard() -> None:
    strategy = Evolve(config(), migrate_every=10)
    history, selections = simulate(strategy, 45, seed=1)
    # After 25 turns each island has its own best (a hill climber has one).
    at_25 = strategy.rebuild(history[:26])
    bests = {ranked(at_25.population(i), config().target)[0].commit for i in range(3)}
    assert len(bests) == 3
    assert all(at_25.members[i] for i in range(3))
    islands = strategy.rebuild(history)
    assert [s.island for s in selections[:6]] == [0, 1, 2, 0, 1, 2]
    # The migrations: turn 10 into island 1 from island 0, 20 into 2 from 1, 30 into 0 from 2.
    assert [(turn, to) for turn, to, _ in islands.migrations] == [
        (10, 1),
        (20, 2),
        (30, 0),
        (40, 1),
    ]
    for turn, to, migrant in islands.migrations:
        assert selections[turn].parent == migrant and selections[turn].island == to
        source = strategy.rebuild(history[: turn + 1]).population((to - 1) % 3)
        assert migrant == ranked(source, config().target)[0]  # the best of the island before
    # Pareto parents: a third or more of the ordinary turns start from a program that is
    # not its island's target-best but beats it on the guard (seconds).
    guard_picks = 0
    for it, s in enumerate(selections, 1):
        top = ranked(strategy.rebuild(history[:it]).population(s.island), config().target)[0]
        if s.parent.commit != top.commit and it - 1 not in (10, 20, 30, 40):
            assert s.parent.metrics["seconds"] < top.metrics["seconds"]
            guard_picks += 1
    assert guard_picks >= 10
    assert any(s.inspirations for s in selections)


def test_auto_escalates_on_the_plateau_and_records_it() -> None:
    strategy = Auto(config(), patience=6)
    history, _ = simulate(strategy, 80, start=(2, -1, 3))
    # (2,-1,3) is three steps from the optimum: hill gets there fast, then every
    # proposal is discarded; patience 6 escalates to population, then to evolve.
    assert [(a, b) for _, a, b in strategy.escalations] == [
        ("hill", "population"),
        ("population", "evolve"),
    ]
    assert strategy.mode == "evolve"
    first = strategy.escalations[0][0]
    assert history[first - 7].status == "keep"  # the last new best, 6 evaluations before
    assert all(c.status == "discard" for c in history[first - 6 : first])
    assert "no new best in 6" in strategy.reasons[0]
    # From the second escalation on, evolve spreads the candidates over its islands.
    assert {c.island for c in history[strategy.escalations[1][0] :]} == {0, 1, 2}


@pytest.mark.parametrize("name", ["hill", "population", "evolve", "auto"])
def test_a_seeded_search_repeats_exactly(name: str) -> None:
    one, _ = simulate(make_strategy(name, config()), 40, seed=7)
    two, _ = simulate(make_strategy(name, config()), 40, seed=7)
    assert one == two


def test_the_strategies_differ_on_the_same_objective() -> None:
    runs = {
        name: simulate(make_strategy(name, config()), 40, seed=3)[0]
        for name in ("hill", "population", "evolve")
    }
    parents_chosen = {name: tuple(c.parent for c in history[1:]) for name, history in runs.items()}
    assert len(set(parents_chosen.values())) == 3
    assert {c.island for c in runs["evolve"]} == {0, 1, 2}
    assert any(SECOND_PARENT in c.features for c in runs["population"])
    assert not any(SECOND_PARENT in c.features for c in runs["hill"])


def test_population_elites_override() -> None:
    history, selections = simulate(Population(config(), elites=1, crossover=0.0), 30)
    assert all(s.parent == best_before(history, it) for it, s in enumerate(selections, 1))
