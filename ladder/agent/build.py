"""Build a run's parts from its configuration (the real proposer, strategy, executor)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ladder.agent.config import AgentConfig, ProposerSpec
from ladder.agent.loop import LoopParts

if TYPE_CHECKING:
    from ladder.agent.executors import OnEvent


def build_parts(config: AgentConfig, *, on_event: OnEvent | None = None) -> LoopParts:
    """`on_event` hears the executor's infrastructure events (a node lost, a task
    cancelled); `ladder agent run` journals them."""
    from ladder.agent.decisions import make_decision
    from ladder.agent.executors import EXECUTORS, make_executor
    from ladder.agent.proposers import make_proposer
    from ladder.agent.strategies import make_strategy
    from ladder.errors import LadderError

    if config.executor not in EXECUTORS:
        raise LadderError(
            f"unknown executor {config.executor!r}", todo=f"known: {', '.join(sorted(EXECUTORS))}"
        )
    target = config.target
    better = "lower" if target.direction == "min" else "higher"
    spec = config.proposer
    if spec.kind in ("command", "llm") and "target" not in spec.options:
        # Text proposers tell the agent what to improve.
        spec = ProposerSpec(
            spec.kind, {**spec.options, "target": f"{target.name} ({better} is better)"}
        )
    return LoopParts(
        proposer=make_proposer(spec),
        strategy=make_strategy(config.strategy, config),
        executor=make_executor(config, on_event),
        decision=make_decision(config),
    )
