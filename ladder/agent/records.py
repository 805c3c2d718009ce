"""Plain records exchanged by the loop's parts, and the Protocols of its plug-ins.

Everything here is a frozen dataclass or a Protocol: the loop, proposers, strategies,
executors and the decision seam talk only through these, so each can be tested with a
plain callable standing in for the others (a fake evaluator, a fake proposer).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

Status = Literal["keep", "discard", "crash", "blocked", "quarantine", "baseline"]


# --- proposals ---------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    """A candidate change: the full new text of each file it changes.

    `features` is the structured description skills and lessons reason about, e.g.
    {"operator": "scale", "file": "train.py", "symbol": "LR", "old": "0.01", "new": "0.02"}.
    """

    description: str
    files: Mapping[str, str]  # repo-relative path -> new content ("" with deleted=True)
    features: Mapping[str, Any] = field(default_factory=dict)
    proposer: str = ""
    deleted: tuple[str, ...] = ()  # paths the proposal deletes


@dataclass(frozen=True)
class Attempt:
    """What a proposer may know of an earlier iteration (for its prompt)."""

    iteration: int
    description: str
    status: Status
    effect: float | None = None  # target metric, candidate minus parent (None when not evaluated)
    reason: str = ""
    features: Mapping[str, Any] = field(default_factory=dict)  # the proposal's structured features


@dataclass(frozen=True)
class ProposalContext:
    """What a proposer sees: the parent's checkout and the run's memory."""

    root: Path  # a worktree checked out at the parent commit (read it, do not write it)
    editable: tuple[str, ...]  # globs of files a proposal may change
    iteration: int
    rng: random.Random  # seeded per iteration: proposals are reproducible
    rules: str = ""  # the level-2+ rules section (`ladder prompt`)
    attempts: tuple[Attempt, ...] = ()  # most recent last
    inspirations: tuple[tuple[str, str], ...] = ()  # (description, diff) of other good programs
    skills: str = ""  # the injected skills section (skill accumulation)
    second_parent: Path | None = None  # for crossover-aware proposers


@dataclass(frozen=True)
class Focus:
    """A skill the `mutate` proposer should apply: its weight keys
    (`scale:LR:up`, ...) and the typical ratio new/old of its verified keeps (None for
    flags, choices and deletions): the edit nearest that magnitude is tried first."""

    keys: tuple[str, ...]
    ratio: float | None = None


class Proposer(Protocol):
    @property
    def name(self) -> str: ...

    def propose(self, ctx: ProposalContext) -> Proposal | None:
        """A proposal, or None when there is nothing to propose."""
        ...


# --- evaluation --------------------------------------------------------------------


@dataclass(frozen=True)
class EvalJob:
    key: str  # unique id of this evaluation in the run, e.g. "it7/cand/s3"
    root: Path  # the worktree to run in
    command: str
    seed: int
    timeout: float
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EvalResult:
    key: str
    seed: int
    metrics: Mapping[str, float]
    ok: bool  # False: crash (non-zero exit, NaN, timeout, missing target metric)
    reason: str = ""  # why it crashed
    tail: str = ""  # the last lines of its output
    seconds: float = 0.0


class Executor(Protocol):
    """Where evaluations run. Local processes now; a cluster engine (Ray) can plug in."""

    @property
    def slots(self) -> int: ...

    def run(
        self, jobs: Sequence[EvalJob], on_result: Callable[[EvalResult], None] | None = None
    ) -> list[EvalResult]:
        """Run every job (up to `slots` at once); results in the order of `jobs`.

        `on_result` is called with each result as soon as it completes (from any
        thread), so the loop can journal it before the batch ends: a run killed
        mid-batch keeps every evaluation that finished.
        """
        ...


# --- decisions ---------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    status: Status
    reasons: tuple[str, ...] = ()
    stats: Mapping[str, Any] = field(default_factory=dict)  # n, effect, ci, p, guards...


@dataclass(frozen=True)
class Candidate:
    """One evaluated (or refused) program in the search."""

    iteration: int
    commit: str  # "" when the proposal never became a commit
    parent: str  # the parent commit
    description: str
    status: Status
    metrics: Mapping[str, float] = field(default_factory=dict)  # mean over its seeds
    effect: float | None = None  # target, candidate minus parent, in the metric's units
    features: Mapping[str, Any] = field(default_factory=dict)
    island: int = 0


class Decide(Protocol):
    """The decision seam: a Verdict, or an int k asking for k more paired seeds first."""

    def __call__(
        self,
        parent: Sequence[EvalResult],
        candidate: Sequence[EvalResult],
        config: Any,  # ladder.agent.config.AgentConfig
        history: Sequence[Candidate],
    ) -> Verdict | int: ...


# --- strategies --------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    parent: Candidate
    second: Candidate | None = None  # crossover partner (population, evolve)
    inspirations: tuple[Candidate, ...] = ()
    island: int = 0


class Strategy(Protocol):
    @property
    def name(self) -> str: ...

    def select(self, history: Sequence[Candidate], rng: random.Random) -> Selection:
        """Which program(s) the next proposal starts from. `history` holds every
        candidate so far, the baseline first (status "baseline")."""
        ...
