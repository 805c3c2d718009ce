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

Status = Literal["keep", "discard", "crash", "blocked", "quarantine", "baseline", "tamper"]


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
    parent: str = ""  # the commit it was proposed on


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
    parent: str = ""  # the commit `root` is checked out at
    # How a proposer that runs a process confines it (ladder.sandbox): the sandbox's
    # name, more writable paths, hidden paths (a proposer always has the network).
    sandbox: str = "none"
    writable: tuple[Path, ...] = ()
    hidden: tuple[Path, ...] = ()


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
class Damage:
    """What a window's processes touched that they must not (ladder.agent.tamper)."""

    changed: tuple[str, ...] = ()  # empty: nothing
    notes: tuple[str, ...] = ()  # how it was repaired (where set-aside copies are)
    stuck: tuple[str, ...] = ()  # what could not be put back: the run stops


@dataclass(frozen=True)
class EvalJob:
    key: str  # unique id of this evaluation in the run, e.g. "it7/cand/s3"
    root: Path  # the worktree to run in
    command: str
    seed: int
    timeout: float
    env: Mapping[str, str] = field(default_factory=dict)
    score: str = ""  # the protected scorer's command ("" : none)
    scorer: Path | None = None  # where it runs: a checkout of the run's baseline
    trusted: tuple[str, ...] = ()  # metrics only the scorer may give
    # Confinement (ladder.sandbox): the sandbox's name, more writable paths, paths hidden
    # from the candidate (not from the scorer), and whether the network is reachable.
    sandbox: str = "none"
    writable: tuple[Path, ...] = ()
    hidden: tuple[Path, ...] = ()
    network: bool = False


@dataclass(frozen=True)
class EvalResult:
    key: str
    seed: int
    metrics: Mapping[str, float]
    ok: bool  # False: crash (non-zero exit, NaN, timeout, missing target metric)
    reason: str = ""  # why it crashed
    tail: str = ""  # the last lines of its output
    seconds: float = 0.0
    scored: tuple[str, ...] = ()  # metrics the protected scorer gave (the rest: reported)
    # Where it ran, as the executor says: host, device, and on a cluster the node id, the
    # sandbox the node had and the attempt ({} from executors that do not say).
    placement: Mapping[str, str] = field(default_factory=dict)


class Executor(Protocol):
    """Where evaluations run: local processes, or a Ray cluster (ladder.agent.executors)."""

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


@dataclass(frozen=True)
class Plan:
    """How one decision may spend seeds: the paired seeds seen at each look, the last
    one its cap (the seed cap, or fewer when the evaluation budget is short)."""

    looks: tuple[int, ...]

    @property
    def first(self) -> int:
        return self.looks[0]

    @property
    def cap(self) -> int:
        return self.looks[-1]

    def more(self, seen: int) -> int:
        """Seeds to add for the next look after `seen` (0: that was the last look)."""
        later = [n for n in self.looks if n > seen]
        return later[0] - seen if later else 0


@dataclass(frozen=True)
class Outlook:
    """What a run can see, said after its calibration: the smallest effect of the target
    it can keep (`power` of the time), each guard's (name, margin, noise sd, the margin it
    would need), and why no keep is possible ("" when one is)."""

    sd: float  # of one paired difference of the target
    source: str  # where that spread came from
    cap: int
    alpha: float
    smallest: float
    power: float
    guards: tuple[tuple[str, float, float, float], ...] = ()
    impossible: str = ""

    def words(self, target: str) -> str:
        return (f"with noise sd {self.sd:.4g} per paired seed and at most {self.cap} seeds, "
                f"{target} effects above {self.smallest:.4g} can be kept "
                f"({self.power:.0%} of the time at the first decision's alpha {self.alpha:.2g})")


class Decision(Protocol):
    """The decision seam: how a candidate is judged against its parent on paired seeds.

    The registry is `ladder.agent.decisions.DECISIONS` (`verified`, `crude`); a decision
    is built from the configuration and its journaled `state()`, so a resumed run
    continues with the same error budget. `judge` answers after every look: a Verdict,
    or an int k asking for k more paired seeds first. A quarantine verdict with
    stats["pending"] asks the loop for fresh seeds (`recheck_plan`) and `recheck`.
    """

    @property
    def name(self) -> str: ...

    @property
    def unverified(self) -> bool:
        """True for rules whose keeps are not verified (crude): outputs say UNVERIFIED."""
        ...

    @property
    def min_seeds(self) -> int:
        """The fewest paired seeds on which this rule can keep a candidate."""
        ...

    @property
    def calibration_seeds(self) -> int:
        """Seeds of the calibration (the baseline twice); 0: no calibration."""
        ...

    @property
    def revalidation_seeds(self) -> int:
        """Seeds of a re-validation of the best against the baseline; 0: none."""
        ...

    def plan(self, slots: int, room: int | None = None) -> Plan:
        """The looks of the next decision (`room`: most paired seeds the budget allows)."""
        ...

    def calibrate(
        self, first: Sequence[EvalResult], second: Sequence[EvalResult]
    ) -> Mapping[str, Any]: ...

    def outlook(self, plan: Plan) -> Outlook | None: ...

    def judge(
        self,
        parent: Sequence[EvalResult],
        candidate: Sequence[EvalResult],
        history: Sequence[Candidate],
        plan: Plan,
    ) -> Verdict | int: ...

    def recheck_plan(self, flagged: Verdict, slots: int) -> Plan:
        """The looks of a flagged candidate's re-check on fresh seeds."""
        ...

    def recheck(
        self,
        flagged: Verdict,
        parent: Sequence[EvalResult],
        candidate: Sequence[EvalResult],
        plan: Plan | None = None,
    ) -> Verdict | int:
        """The flagged candidate's verdict from its fresh seeds, or k more fresh seeds."""
        ...

    def unfinished(self, why: str) -> Verdict:
        """The verdict of a candidate whose decision could not finish (budget, error)."""
        ...

    def revalidate(
        self, baseline: Sequence[EvalResult], best: Sequence[EvalResult]
    ) -> Mapping[str, Any]: ...

    def converged(self, history: Sequence[Candidate], left: int | None) -> str: ...

    def state(self) -> Mapping[str, Any]: ...


# --- the run's workspace and journal ------------------------------------------------


@dataclass(frozen=True)
class CommitOutcome:
    ok: bool
    sha: str = ""  # the new commit when ok
    blocked_by: tuple[str, ...] = ()  # ids of the lessons whose findings refused it
    output: str = ""  # what git and the hooks printed
    reason: str = ""  # the first blocking finding in words (`lesson: message`); "" for none


class Worktrees(Protocol):
    """Where candidates become commits: `ladder.agent.workspace.Workspace` (real git
    worktrees and hooks), or `ladder.agent.fakes.MemoryWorkspace` for tests and benches."""

    baseline: str  # the commit the run started from

    sandbox: str  # where the hooks of its commits run (ladder.sandbox)

    def start(self) -> str: ...

    def checkout(self, slot: str, commit: str) -> Path: ...

    def apply(self, tree: Path, proposal: Proposal, editable: Sequence[str]) -> str | None:
        """Write the proposal into `tree`; why it cannot be applied, or None."""
        ...

    def commit(self, tree: Path, message: str, *, reset: bool = True) -> CommitOutcome: ...

    def verify_commit(self, tree: Path, sha: str, parent: str) -> list[str]: ...

    def watch(self, protected: Sequence[Path], strict: Sequence[Path] = ()) -> Any:
        """A fingerprint of what an evaluation must not touch (None: nothing watched)."""
        ...

    def check_watch(self, before: Any) -> Damage:
        """What changed since `before`, rolled back."""
        ...

    def run_gates(
        self, tree: Path, gates: Sequence[str], timeout: float, *, sandbox: str = "none",
        hidden: tuple[Path, ...] = (),
    ) -> tuple[bool, str]:
        """Run the gate commands (the candidate's code: confined like its evaluation)."""
        ...

    def record(self, sha: str, iteration: int, verdict: Verdict) -> None: ...

    def advance(self, sha: str) -> None: ...

    # What a resume compares with the journal (Run._reconcile): iteration -> commit of
    # the candidate refs, the commits with a verdict note, where the run's branch is.
    def recorded(self) -> dict[int, str]: ...

    def noted(self) -> set[str]: ...

    def branch_tip(self) -> str: ...

    def show(self, commit: str, path: str) -> str | None: ...

    def refresh_lessons(self) -> None: ...

    def crossover(self, a: str, b: str, tree: Path) -> dict[str, str] | None:
        """Commit `b` merged into a checkout of `a`: the merged editable files that
        differ from `a`, or None on a conflict."""
        ...

    def cleanup(self) -> None: ...


class JournalLike(Protocol):
    """The run's append-only record (`ladder.agent.journal.Journal`)."""

    def append(self, kind: str, data: Mapping[str, Any]) -> dict[str, Any]: ...

    def records(self) -> list[dict[str, Any]]: ...


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
