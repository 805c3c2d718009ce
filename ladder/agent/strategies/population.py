"""`population`: an elite set, rank-based parent choice, and crossover of kept lineages.

Unlike `hill`, a non-best elite is the parent a good share of the time (rank r is chosen
with probability proportional to 1/r), so the search keeps several kept changes alive;
and two elites of different lineages (neither an ancestor of the other) are sometimes
merged by the loop (git three-way merge) instead of mutated.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

from ladder.agent.config import AgentConfig
from ladder.agent.records import Candidate, Selection
from ladder.agent.strategies.pool import ancestry, parents, ranked_by_gain, related, tried_pairs

ELITES = 4
CROSSOVER = 0.2


def rank_weights(count: int) -> list[float]:
    """Probability ∝ 1/rank: the best is twice as likely as the second, and so on."""
    return [1.0 / rank for rank in range(1, count + 1)]


class Population:
    def __init__(
        self, config: AgentConfig, *, elites: int = ELITES, crossover: float = CROSSOVER
    ) -> None:
        self.config = config
        self.elites = max(1, elites)
        self.crossover = crossover

    @property
    def name(self) -> str:
        return "population"

    def elite(self, history: Sequence[Candidate]) -> list[Candidate]:
        """The top programs by verified gain over the baseline, best first (unique commits)."""
        unique = {c.commit: c for c in parents(history)}  # a commit re-recorded: latest wins
        return ranked_by_gain(unique.values(), history, self.config.target)[: self.elites]

    def select(self, history: Sequence[Candidate], rng: random.Random) -> Selection:
        elite = self.elite(history)
        pairs = self.crossable(history, elite)
        if pairs and rng.random() < self.crossover:
            weights = [1.0 / ((elite.index(a) + 1) * (elite.index(b) + 1)) for a, b in pairs]
            first, second = rng.choices(pairs, weights=weights)[0]
            return Selection(parent=first, second=second)  # the better elite is the base
        return Selection(parent=rng.choices(elite, weights=rank_weights(len(elite)))[0])

    def crossable(
        self, history: Sequence[Candidate], elite: Sequence[Candidate]
    ) -> list[tuple[Candidate, Candidate]]:
        """Elite pairs (better first) from different lineages, not merged before."""
        ancestors = ancestry(history)
        tried = tried_pairs(history)
        return [
            (a, b)
            for a, b in itertools.combinations(elite, 2)
            if not related(a, b, ancestors) and frozenset((a.commit, b.commit)) not in tried
        ]
