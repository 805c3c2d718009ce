"""`auto`: starts as `hill`, escalates to `population`, then to `evolve`, when stuck.

Never de-escalates within a run. The mode is a pure function of the history: every call
replays the plateau detector over the evaluated candidates, so a resumed run finds the
same mode and the same escalations (the loop journals the ones it has not seen yet).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from ladder.agent.config import AgentConfig
from ladder.agent.records import Candidate, Selection, Strategy
from ladder.agent.strategies.evolve import Evolve
from ladder.agent.strategies.hill import Hill
from ladder.agent.strategies.population import Population
from ladder.agent.strategies.stuck import ALPHA, PATIENCE, WINDOW, Plateau, evaluated

MODES = ("hill", "population", "evolve")


class Auto:
    def __init__(
        self,
        config: AgentConfig,
        *,
        patience: int = PATIENCE,
        window: int = WINDOW,
        alpha: float = ALPHA,
    ) -> None:
        self.config = config
        self.detector = Plateau(patience=patience, window=window, alpha=alpha)
        self.mode = MODES[0]
        # (iteration from which the new mode selects, from, to), and why, in order.
        self.escalations: list[tuple[int, str, str]] = []
        self.reasons: list[str] = []
        self._hill = Hill(config)
        self._population = Population(config)
        self._evolve: Evolve | None = None

    @property
    def name(self) -> str:
        return "auto"

    def select(self, history: Sequence[Candidate], rng: random.Random) -> Selection:
        self.replay(history)
        return self.current().select(history, rng)

    def replay(self, history: Sequence[Candidate]) -> None:
        """Recompute the mode and the escalations from the history."""
        points = evaluated(history, self.config.target)
        escalations: list[tuple[int, str, str]] = []
        reasons: list[str] = []
        level, begun = 0, 0  # the mode's index, and where in `points` it began
        for end in range(1, len(points) + 1):
            if level == len(MODES) - 1:
                break
            why = self.detector.why(points[begun:end])
            if why:
                escalations.append((points[end - 1].iteration + 1, MODES[level], MODES[level + 1]))
                reasons.append(why)
                level, begun = level + 1, end
        self.mode, self.escalations, self.reasons = MODES[level], escalations, reasons

    def current(self) -> Strategy:
        if self.mode == "hill":
            return self._hill
        if self.mode == "population":
            return self._population
        start = self.escalations[-1][0]
        if self._evolve is None or self._evolve.start != start:
            # Everything kept before the escalation seeds every island, so the islands
            # start from the progress made so far rather than from the baseline.
            self._evolve = Evolve(self.config, start=start)
        return self._evolve
