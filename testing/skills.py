"""Decisions for the skill tests: mutate proposals of one constant, and their verdicts.

The Learner is fed what the loop would give it -- a Candidate, a Verdict, the Proposal
and the editable files before and after -- built here from plain numbers, so the tests
read as "LR went up and crashed" rather than as record plumbing.
"""

from __future__ import annotations

from pathlib import Path

from ladder.agent.config import AgentConfig, MetricSpec
from ladder.agent.records import Candidate, Proposal, Verdict
from ladder.agent.skills import Event, Learner

FILE = "train.py"


def config(learn_promote: int = 5) -> AgentConfig:
    return AgentConfig(editable=(FILE,), eval="python train.py",
                       metrics={"loss": MetricSpec("loss")}, learn_promote=learn_promote)


def program(value: float, name: str = "LR") -> str:
    return f"{name} = {value!r}\nWD = 0.1\n"


def move(symbol: str, old: float, new: float, operator: str = "scale") -> Proposal:
    features = {"operator": operator, "file": FILE, "symbol": symbol, "function": "",
                "old": repr(old), "new": repr(new), "line": 1}
    return Proposal(f"{FILE}: {symbol} {old!r} -> {new!r} ({operator})",
                    {FILE: program(new, symbol)}, features, "mutate")


def verdict(status: str, improvement: float | None = None, reason: str = "") -> Verdict:
    stats: dict[str, object] = {}
    if improvement is not None:
        stats = {"effect": improvement, "delta": -improvement,
                 "diffs": [{"improvement": improvement}, {"improvement": improvement * 1.1}]}
    return Verdict(status, (reason or status,), stats)  # type: ignore[arg-type]


def decide(learner: Learner, it: int, proposal: Proposal, result: Verdict) -> list[Event]:
    """Feed one decided iteration of `proposal` (a change of one constant) to `learner`."""
    f = proposal.features
    symbol = str(f["symbol"])
    delta = result.stats.get("delta")
    cand = Candidate(it, f"sha{it:04d}", "parent", proposal.description, result.status,
                     effect=float(delta) if isinstance(delta, float) else None,
                     features=proposal.features)
    before = {FILE: program(float(f["old"]), symbol)}
    after = {FILE: program(float(f["new"]), symbol)}
    return learner.after_decision(cand, result, proposal, before, after)


def init_project(root: Path) -> None:
    """`.ladder/` alone: enough for skills (lessons need `ladder init`)."""
    (root / ".ladder").mkdir(parents=True, exist_ok=True)
