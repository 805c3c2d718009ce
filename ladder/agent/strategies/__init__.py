"""Strategies: which program(s) the next proposal starts from.

`hill` (the verified best), `population` (elites, rank-based parents, crossover of kept
lineages), `evolve` (islands, Pareto parents over all metrics, migration, inspirations),
`auto` (hill, escalating when stuck). Each is a `records.Strategy`; adding one is a
module here and a line in `STRATEGIES`.
"""

from __future__ import annotations

from collections.abc import Callable

from ladder.agent.config import AgentConfig
from ladder.agent.records import Strategy
from ladder.agent.strategies.auto import Auto
from ladder.agent.strategies.evolve import Evolve
from ladder.agent.strategies.hill import Hill
from ladder.agent.strategies.pool import SECOND_PARENT
from ladder.agent.strategies.population import Population
from ladder.errors import LadderError

STRATEGIES: dict[str, Callable[[AgentConfig], Strategy]] = {
    "hill": Hill,
    "population": Population,
    "evolve": Evolve,
    "auto": Auto,
}

__all__ = ["SECOND_PARENT", "STRATEGIES", "Auto", "Evolve", "Hill", "Population", "make_strategy"]


def make_strategy(name: str, config: AgentConfig) -> Strategy:
    factory = STRATEGIES.get(name)
    if factory is None:
        raise LadderError(
            f"unknown strategy {name!r}",
            where="[tool.ladder.agent] strategy",
            todo=f"use one of: {', '.join(STRATEGIES)}",
        )
    return factory(config)
