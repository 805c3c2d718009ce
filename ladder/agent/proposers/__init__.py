"""Proposers: where candidate changes come from. A `Proposer` Protocol and a registry.

- `mutate`  (default) offline libcst mutations, reproducible from the iteration's seed;
- `command` any coding-agent CLI run in the parent's checkout;
- `llm`     an OpenAI-compatible chat endpoint answering with SEARCH/REPLACE blocks.

Each proposer records why it produced nothing in its `last_error` attribute.
"""

from __future__ import annotations

from collections.abc import Callable

from ladder.agent.config import ProposerSpec
from ladder.agent.proposers.command import CommandProposer
from ladder.agent.proposers.llm import LLMProposer
from ladder.agent.proposers.mutate import MutateProposer
from ladder.agent.records import Proposer
from ladder.errors import LadderError

PROPOSERS: dict[str, Callable[[ProposerSpec], Proposer]] = {
    "command": CommandProposer.from_spec,
    "llm": LLMProposer.from_spec,
    "mutate": MutateProposer.from_spec,
}

__all__ = ["PROPOSERS", "CommandProposer", "LLMProposer", "MutateProposer", "make_proposer"]


def make_proposer(spec: ProposerSpec) -> Proposer:
    """The proposer `spec` names, its options checked (unknown keys are errors)."""
    factory = PROPOSERS.get(spec.kind)
    if factory is None:
        raise LadderError(
            f"unknown proposer kind {spec.kind!r}",
            where="[tool.ladder.agent] proposer",
            todo=f"use one of: {', '.join(sorted(PROPOSERS))}",
        )
    return factory(spec)
