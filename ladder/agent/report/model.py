"""The records of a run's report: what `read_report` takes from the journal, and what the
HTML, Markdown, PNG and `list`/`compare` renderers draw. Plain frozen dataclasses: the
renderers never reach back into the journal's JSON."""

from __future__ import annotations

from dataclasses import dataclass

# The verdicts a candidate can end with, in the order the legend shows them.
VERDICTS = ("keep", "discard", "quarantine", "crash", "blocked", "tamper")


@dataclass(frozen=True)
class Settings:
    """What the run was started with (its journaled `start` record)."""

    target: str
    direction: str  # "min" | "max"
    guards: tuple[tuple[str, float], ...] = ()  # (name, relative margin)
    decision: str = "verified"
    strategy: str = ""
    proposer: str = ""
    scored: bool = False  # a protected scorer gives the metrics (else self-reported)
    iterations: int | None = None
    evaluations: int | None = None

    @property
    def sign(self) -> float:
        """Metric units per unit of gain: a gain lowers a metric that is minimised."""
        return -1.0 if self.direction == "min" else 1.0

    @property
    def unverified(self) -> bool:
        return self.decision == "crude"


@dataclass(frozen=True)
class Point:
    """One decided candidate on the progress chart.

    `value` is where the chart puts it: its parent's verified level plus its paired
    effect (candidate minus parent on the same seeds), in the target's units. Its own
    mean on its seeds (`mean`) is not comparable across candidates: seed-to-seed noise
    moves it as much as the change does (issue 14: a no-op showed 0.600 against a
    0.674 baseline).
    """

    iteration: int
    evaluations: int  # evaluations spent when it was decided (the chart's x)
    status: str
    description: str
    value: float | None  # None: never evaluated, or no paired effect (a crash)
    mean: float | None = None
    improvement: float | None = None  # paired, positive = better
    seeds: int = 0
    reason: str = ""


@dataclass(frozen=True)
class Step:
    """The verified best from `evaluations` on: `value` in the target's units."""

    evaluations: int
    value: float
    iteration: int
    commit: str


@dataclass(frozen=True)
class Revalidation:
    """The best against the baseline on fresh paired seeds: the run's headline numbers.
    `low`/`high` bound the best's level in the target's units (None: one seed)."""

    evaluations: int
    since: int  # evaluations at which its commit became the verified best
    tag: str
    iteration: int
    commit: str
    value: float
    low: float | None
    high: float | None
    relative: float | None
    relative_low: float | None
    relative_high: float | None
    seeds: int
    p: float | None
    replicated: bool
    headline: str


@dataclass(frozen=True)
class Headline:
    """What a reader sees first: the best verified gain with its interval.

    `state`: "verified" (re-validated and replicated), "not-replicated", "not-revalidated"
    (a keep the run had no budget or time to re-validate), "nothing-kept", "no-baseline".
    """

    state: str
    target: str
    baseline: float | None
    best: float | None = None
    relative: float | None = None
    relative_low: float | None = None
    relative_high: float | None = None
    seeds: int = 0
    commit: str = ""
    iteration: int = 0
    description: str = ""
    unverified: bool = False


@dataclass(frozen=True)
class GuardCheck:
    """One guard's non-inferiority test in one decision (relative regressions)."""

    name: str
    ok: bool
    regression: float | None
    upper: float | None
    margin: float
    missing: bool = False


@dataclass(frozen=True)
class GuardPoint:
    evaluations: int
    iteration: int
    status: str
    check: GuardCheck


@dataclass(frozen=True)
class Keep:
    iteration: int
    commit: str
    parent: str
    description: str
    improvement: float | None
    ci: tuple[float, float] | None
    p: float | None
    seeds: int
    label: str  # how it was kept ("replicated on fresh seeds", ...); "" when plain
    guards: tuple[GuardCheck, ...] = ()
    diff: str = ""


@dataclass(frozen=True)
class Blocked:
    """Mutations refused before evaluation, by the lesson (or kind: invalid, gate) that
    refused them, and what they would have cost at the run's mean per candidate."""

    by: str
    count: int
    evaluations_saved: float
    seconds_saved: float
    reason: str
    examples: tuple[str, ...] = ()
    taught: bool = False  # a lesson learned from this or an earlier run's failures


@dataclass(frozen=True)
class Event:
    """A strategy, convergence or bookkeeping event, at the evaluations spent by then."""

    evaluations: int
    iteration: int | None
    kind: str
    text: str


@dataclass(frozen=True)
class Placement:
    """Where evaluations ran: one row per node (or host) and device, from the placement
    each evaluation record carries."""

    node: str  # the cluster's node id ("" from the local executor)
    host: str
    device: str  # cpu, or cuda:<ids>
    evaluations: int
    seconds: float  # their wall time, summed
    retried: int = 0  # evaluations that ran here on a retry (a node was lost before)


@dataclass(frozen=True)
class Learned:
    """A skill or lesson change the run journaled."""

    kind: str  # "skill" | "lesson"
    action: str  # created, updated, deprecated, reinstated, taught, tightened, ...
    id: str
    iteration: int | None
    why: str


@dataclass(frozen=True)
class Counts:
    iterations: int = 0
    evaluated: int = 0
    kept: int = 0
    discarded: int = 0
    quarantined: int = 0
    crashed: int = 0
    blocked: int = 0
    tampered: int = 0
    evaluations: int = 0
    refused_by_guard: tuple[tuple[str, int], ...] = ()
    awaiting_review: int = 0


@dataclass(frozen=True)
class Journal:
    """The journal's integrity as `ladder agent verify` checks its hash chain."""

    records: int
    intact: bool
    head: str  # the last record's hash
    problem: str = ""


@dataclass(frozen=True)
class RunReport:
    run_id: str
    settings: Settings
    started: str  # ISO time of the start record ("" when none)
    seconds: float  # from the first record to the last
    stop_reason: str  # "" while running, or when killed
    state: str  # finished | interrupted (a signal: --resume continues) | unfinished
    baseline: float | None
    baseline_evaluations: int  # evaluations spent when the baseline was measured
    headline: Headline
    counts: Counts
    points: tuple[Point, ...] = ()
    best: tuple[Step, ...] = ()
    revalidations: tuple[Revalidation, ...] = ()
    keeps: tuple[Keep, ...] = ()
    guard_points: tuple[GuardPoint, ...] = ()
    blocked: tuple[Blocked, ...] = ()
    events: tuple[Event, ...] = ()
    learned: tuple[Learned, ...] = ()
    placements: tuple[Placement, ...] = ()  # where the evaluations ran
    skills_at_start: int | None = None  # skills in the library when the run started
    saved_by_taught: int | None = None  # candidates blocked by lessons runs taught
    journal: Journal | None = None

    @property
    def branch(self) -> str:
        return f"ladder/{self.run_id}"
