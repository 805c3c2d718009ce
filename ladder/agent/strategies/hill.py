"""`hill`: Karpathy's loop, made safe — every proposal starts from the verified best."""

from __future__ import annotations

import random
from collections.abc import Sequence

from ladder.agent.config import AgentConfig
from ladder.agent.records import Candidate, Selection
from ladder.agent.strategies.pool import best_verified


class Hill:
    """One parent: the baseline or keep with the largest verified gain over the baseline
    (paired effects summed along its lineage; ties: most recent)."""

    def __init__(self, config: AgentConfig) -> None:
        self.config = config

    @property
    def name(self) -> str:
        return "hill"

    def select(self, history: Sequence[Candidate], rng: random.Random) -> Selection:
        # No randomness: the same history always gives the same parent.
        return Selection(parent=best_verified(history, self.config.target))
