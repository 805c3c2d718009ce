"""`hill`: Karpathy's loop, made safe — every proposal starts from the verified best."""

from __future__ import annotations

import random
from collections.abc import Sequence

from ladder.agent.config import AgentConfig
from ladder.agent.records import Candidate, Selection
from ladder.agent.strategies.pool import best, parents


class Hill:
    """One parent: the best target among the baseline and the keeps (ties: most recent)."""

    def __init__(self, config: AgentConfig) -> None:
        self.config = config

    @property
    def name(self) -> str:
        return "hill"

    def select(self, history: Sequence[Candidate], rng: random.Random) -> Selection:
        # No randomness: the same history always gives the same parent.
        return Selection(parent=best(parents(history), self.config.target))
