"""`evolve`: islands with migration, Pareto parent choice over every declared metric, and
inspiration programs from the other islands.

Islands take turns (round robin). Each island's population is its own keeps plus what
seeded it (the baseline — or, when `auto` escalates mid-run, every program kept before
`start`) plus the migrants it received. The parent is drawn at random from the island's
Pareto front over all metrics, so a program that is best on a guard (faster, smaller) but
worse on the target can be chosen — a hill climber never would. Every `migrate_every`
selections, the island whose turn it is receives the best program (by target) of the
island before it: the migrant joins its population and is the parent of that turn.

The islands are rebuilt from the history on every call (no hidden state), so a resumed
run continues with the same islands.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from ladder.agent.config import AgentConfig, MetricSpec
from ladder.agent.records import Candidate, Selection
from ladder.agent.strategies.pool import PARENT_STATUSES, best, parents, ranked, score

ISLANDS = 3
MIGRATE_EVERY = 10
INSPIRATIONS = 3


@dataclass
class Islands:
    """The islands as rebuilt from a history: members per island, turn count, migrations."""

    members: list[list[Candidate]]
    shared: list[Candidate]  # the seeds every island starts with
    turns: int = 0  # selections made since the islands were founded
    migrations: list[tuple[int, int, Candidate]] = field(default_factory=list)  # (turn, to, who)

    def population(self, island: int) -> list[Candidate]:
        return self.shared + self.members[island]


def pareto_front(candidates: Sequence[Candidate], specs: Sequence[MetricSpec]) -> list[Candidate]:
    """The candidates no other candidate dominates (at least as good on every metric and
    better on one), direction-aware. Only candidates with every metric compete; if none
    has them all, the target alone decides (the first spec)."""
    complete = [c for c in candidates if all(score(c, s) is not None for s in specs)]
    if not complete:
        complete = [c for c in candidates if score(c, specs[0]) is not None] or list(candidates)
        specs = specs[:1]
    vectors = [tuple(score(c, s) or 0.0 for s in specs) for c in complete]
    return [
        c
        for c, v in zip(complete, vectors, strict=True)
        if not any(_dominates(other, v) for other in vectors)
    ]


def _dominates(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return all(x >= y for x, y in zip(a, b, strict=True)) and any(
        x > y for x, y in zip(a, b, strict=True)
    )


class Evolve:
    def __init__(
        self,
        config: AgentConfig,
        *,
        islands: int = ISLANDS,
        migrate_every: int = MIGRATE_EVERY,
        inspirations: int = INSPIRATIONS,
        start: int | None = None,
    ) -> None:
        self.config = config
        self.islands = max(1, islands)
        self.migrate_every = max(1, migrate_every)
        self.inspirations = max(0, inspirations)
        # Candidates of iterations before `start` seed every island (auto's escalation);
        # None: only the baseline does.
        self.start = start

    @property
    def name(self) -> str:
        return "evolve"

    def specs(self) -> list[MetricSpec]:
        """Every declared metric, the target first."""
        target = self.config.target
        return [target, *(m for m in self.config.metrics.values() if m is not target)]

    def seeded(self, candidate: Candidate) -> bool:
        """Whether the candidate predates the islands (it seeds all of them)."""
        if candidate.status == "baseline":
            return True
        return self.start is not None and candidate.iteration < self.start

    def rebuild(self, history: Sequence[Candidate]) -> Islands:
        state = Islands(
            members=[[] for _ in range(self.islands)],
            shared=[c for c in parents(history) if self.seeded(c)],
        )
        for candidate in history:
            if self.seeded(candidate):
                continue
            self._migrate(state)
            state.turns += 1
            if candidate.status in PARENT_STATUSES and candidate.commit:
                state.members[candidate.island % self.islands].append(candidate)
        self._migrate(state)  # the migration due at the coming turn, if any
        return state

    def _migrate(self, state: Islands) -> None:
        turn = state.turns
        if turn == 0 or turn % self.migrate_every or self.islands < 2:
            return
        to = turn % self.islands
        source = (to - 1) % self.islands
        migrant = best(state.population(source), self.config.target)
        state.migrations.append((turn, to, migrant))
        if migrant.commit not in {c.commit for c in state.population(to)}:
            state.members[to].append(migrant)

    def select(self, history: Sequence[Candidate], rng: random.Random) -> Selection:
        state = self.rebuild(history)
        island = state.turns % self.islands
        due = [m for m in state.migrations if m[0] == state.turns]
        if due:
            parent = due[0][2]
        else:
            parent = rng.choice(pareto_front(state.population(island), self.specs()))
        return Selection(
            parent=parent, inspirations=self.inspire(state, island, parent), island=island
        )

    def inspire(self, state: Islands, island: int, parent: Candidate) -> tuple[Candidate, ...]:
        """Up to `inspirations` good programs of the other islands: each island's best in
        turn, then their next best, never the parent or a program this island holds."""
        own = {c.commit for c in state.population(island)} | {parent.commit}
        queues = []
        for offset in range(1, self.islands):
            other = state.members[(island + offset) % self.islands]
            queues.append([c for c in ranked(other, self.config.target) if c.commit not in own])
        chosen: list[Candidate] = []
        while len(chosen) < self.inspirations and any(queues):
            for queue in queues:
                while queue and queue[0].commit in {c.commit for c in chosen}:
                    queue.pop(0)
                if queue and len(chosen) < self.inspirations:
                    chosen.append(queue.pop(0))
        return tuple(chosen)
