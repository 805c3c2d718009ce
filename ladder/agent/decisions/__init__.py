"""The decision seam: how a candidate is judged against its parent.

`DECISIONS` is the registry `[tool.ladder.agent] decision` names: `verified` (the
default: sequential paired test, online FDR control, guards, anomalies -- see
`verified.py` and docs/verification.md) and `crude` (one seed, keep if better,
UNVERIFIED). Each is built from the configuration and its journaled state; the
Protocol they satisfy is `ladder.agent.records.Decision`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ladder.agent.config import AgentConfig
from ladder.agent.decisions.crude import CrudeDecision
from ladder.agent.decisions.verified import VerifiedDecision
from ladder.agent.records import Decision

__all__ = ["DECISIONS", "CrudeDecision", "VerifiedDecision", "make_decision"]

DecisionFactory = Callable[[AgentConfig, Mapping[str, Any] | None], Decision]

DECISIONS: dict[str, DecisionFactory] = {
    "verified": VerifiedDecision,
    "crude": CrudeDecision,
}


def make_decision(config: AgentConfig, state: Mapping[str, Any] | None = None) -> Decision:
    """The decision `config.decision` names, continuing from `state` when given."""
    return DECISIONS[config.decision](config, state)
