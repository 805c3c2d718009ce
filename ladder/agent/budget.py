"""The evaluation budget: `evaluations = N` (`--evaluations N`), what a GPU user pays for.

Every evaluation counts -- the baseline, the calibration, each decision's seeds, the
re-checks and the re-validations -- and every decision rule honours it: a decision is
planned with at most the paired seeds the budget has left once the final re-validation
(the run's headline) is set aside, and no decision starts that could not keep anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from ladder.agent.config import AgentConfig
from ladder.agent.records import Decision
from ladder.errors import LadderError


@dataclass(frozen=True)
class Budget:
    """The run's evaluation budget (None: no limit) and what it sets aside."""

    evaluations: int | None
    reserve: int  # the final re-validation's evaluations
    least: int  # paired seeds a decision needs to keep anything

    @classmethod
    def of(cls, config: AgentConfig, decision: Decision) -> Budget:
        return cls(config.evaluations, 2 * decision.revalidation_seeds, decision.min_seeds)

    def left(self, spent: int) -> int | None:
        """Evaluations left for decisions after `spent` (None: no limit)."""
        if self.evaluations is None:
            return None
        return max(0, self.evaluations - spent - self.reserve)

    def room(self, spent: int) -> int | None:
        """The most paired seeds a decision starting now may use (None: no limit)."""
        left = self.left(spent)
        return None if left is None else left // 2

    def exhausted(self, spent: int) -> bool:
        room = self.room(spent)
        return room is not None and room < self.least

    def affords(self, spent: int, evaluations: int) -> bool:
        left = self.left(spent)
        return left is None or left >= evaluations


def smallest(config: AgentConfig, decision: Decision) -> int:
    """The fewest evaluations with which a run can keep anything: the baseline and its
    calibration, one decision on `min_seeds` paired seeds, the final re-validation."""
    baseline = max(1, decision.calibration_seeds)
    calibration = decision.calibration_seeds
    return baseline + calibration + 2 * decision.min_seeds + 2 * decision.revalidation_seeds


def check(config: AgentConfig, decision: Decision) -> None:
    """Refuse, before anything is spent, a configuration under which no keep is possible."""
    found = problems(config, decision)
    if found:
        raise found[0]


def problems(config: AgentConfig, decision: Decision) -> list[LadderError]:
    """Why no keep is possible under `config` (the seeds, the evaluation budget); [] when
    one is (the pre-flight lists them all, `check` raises the first)."""
    out: list[LadderError] = []
    if config.seeds < decision.min_seeds:
        out.append(LadderError(
            f"seeds = {config.seeds}: a {decision.name} keep needs at least "
            f"{decision.min_seeds} paired seeds, so nothing could ever be kept",
            where="[tool.ladder.agent] seeds",
            todo="set seeds = 10 (most decisions use one or two; close calls use the cap), "
            "or use --crude for one seed, unverified",
        ))
    need = smallest(config, decision)
    if config.evaluations is not None and config.evaluations < need:
        out.append(LadderError(
            f"evaluations = {config.evaluations} cannot keep anything: the baseline, its "
            f"calibration, one decision and the final re-validation need {need} "
            f"with seeds = {config.seeds}",
            where="[tool.ladder.agent] evaluations",
            todo=f"raise evaluations to at least {need} (a useful run needs many times more), "
            "or lower seeds",
        ))
    return out
