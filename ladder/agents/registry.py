"""The agent registry: every integration by its `--agent` name."""

from __future__ import annotations

from ladder.agents import aider, claude, codex, cursor
from ladder.agents.base import Agent, GuardedAgent
from ladder.errors import LadderError

AGENTS: dict[str, Agent] = {
    "claude": claude.AGENT,
    "codex": codex.AGENT,
    "aider": aider.AGENT,
    "cursor": cursor.AGENT,
}
# Agents with a pre-tool hook that can refuse an edit: `ladder guard NAME`.
GUARDED: dict[str, GuardedAgent] = {"claude": claude.AGENT, "codex": codex.AGENT}


def get_agent(name: str) -> Agent:
    if name not in AGENTS:
        raise LadderError(f"unknown agent {name!r}", todo=f"use one of: {', '.join(AGENTS)}")
    return AGENTS[name]
