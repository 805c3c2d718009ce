"""Live progress while a run works (issue 14): budget spent and left with an ETA, the
evaluations running now and their seeds, the best verified so far with its interval,
and counts by verdict.

The loop hands a `Snapshot` to its display after each step; the display decides what
to show:
- `LiveDisplay` (stdout is a terminal): a rich status block under the run's lines,
  redrawn a few times a second, removed when the run stops;
- `PlainDisplay` (a pipe, a file, CI): plain lines only, never a control character --
  a `progress:` line when a long phase starts (the baseline, its calibration, a
  re-validation: ~75 s of silence in the demo) and at most every `every` seconds;
- `QuietDisplay` (`--quiet`): nothing but what the command prints itself.

A display is a context manager: the run's command enters it inside the interrupt
handlers (interrupt.py), so a SIGTERM or Ctrl-C that stops the loop leaves through its
`__exit__`, which stops the rich Live and gives the terminal back before the summary.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol, TextIO

PLAIN_EVERY_S = 30.0  # the most seconds between two plain progress lines while evaluating


@dataclass(frozen=True)
class Snapshot:
    """Where a run stands, for its display."""

    phase: str  # what the loop does now: "baseline", "calibration", "iteration 7", ...
    running: tuple[str, ...] = ()  # the evaluations of the current batch not yet done
    batch: tuple[int, int] = (0, 0)  # evaluations of the current batch done, in all
    spent: int = 0  # evaluations so far
    budget: int | None = None  # the evaluation budget
    decided: int = 0  # iterations decided
    iterations: int | None = None  # the iteration budget
    elapsed: float = 0.0  # seconds since the run started
    hours: float | None = None  # the time budget
    best: str = ""  # the best verified so far, with its interval
    counts: Mapping[str, int] = field(default_factory=dict)  # verdict -> candidates


def eta(s: Snapshot) -> float | None:
    """Seconds left, by the budget that ends first at the pace so far (None: unknown)."""
    guesses: list[float] = []
    if s.budget is not None and s.spent:
        guesses.append(s.elapsed / s.spent * max(0, s.budget - s.spent))
    if s.iterations is not None and s.decided:
        guesses.append(s.elapsed / s.decided * max(0, s.iterations - s.decided))
    if s.hours is not None:
        guesses.append(max(0.0, s.hours * 3600 - s.elapsed))
    return min(guesses) if guesses else None


def duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def budget_words(s: Snapshot) -> str:
    spent = f"evaluations {s.spent}" + (f" of {s.budget}" if s.budget is not None else "")
    if s.iterations is not None:
        spent += f", iterations {s.decided} of {s.iterations}"
    left = eta(s)
    return f"{spent}, {duration(s.elapsed)} elapsed" + (
        f", about {duration(left)} left" if left is not None else "")


def now_words(s: Snapshot) -> str:
    done, total = s.batch
    if not s.running:
        return s.phase
    shown = ", ".join(s.running[:4]) + (f" +{len(s.running) - 4}" if len(s.running) > 4 else "")
    return f"{s.phase}: evaluating {shown} ({done} of {total} done)"


def counts_words(s: Snapshot) -> str:
    return ", ".join(f"{k} {v}" for k, v in s.counts.items() if v) or "no decision yet"


def status_lines(s: Snapshot) -> list[str]:
    """The status block: what runs now, the budget, the best and the counts."""
    return [
        f"now:    {now_words(s)}",
        f"budget: {budget_words(s)}",
        f"best:   {s.best or 'the baseline (nothing kept yet)'}",
        f"counts: {counts_words(s)}",
    ]


class Display(Protocol):
    """Where a run's lines and snapshots go."""

    def line(self, text: str) -> None: ...

    def update(self, snapshot: Snapshot) -> None: ...

    def __enter__(self) -> Display: ...

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...


class _Base:
    def __enter__(self) -> Any:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        return None


class QuietDisplay(_Base):
    """`--quiet`: the run's lines and progress are not shown."""

    def line(self, text: str) -> None:
        return None

    def update(self, snapshot: Snapshot) -> None:
        return None


class PlainDisplay(_Base):
    """Plain lines for a pipe or a log: each line flushed as it comes (a block-buffered
    pipe showed nothing for minutes), progress as `progress:` lines, no control codes."""

    def __init__(self, out: TextIO | None = None, every: float = PLAIN_EVERY_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.out = out
        self.every = every
        self.clock = clock
        self._lock = threading.Lock()  # evaluations report from the executor's threads
        self._phase = ""
        self._last = -float("inf")

    def line(self, text: str) -> None:
        with self._lock:
            print(text, file=self.out or sys.stdout, flush=True)

    def update(self, snapshot: Snapshot) -> None:
        with self._lock:
            now = self.clock()
            started = snapshot.phase != self._phase and not snapshot.phase.startswith("iteration")
            self._phase = snapshot.phase
            if not started and (not snapshot.running or now - self._last < self.every):
                return
            self._last = now
            print(f"progress: {now_words(snapshot)}; {budget_words(snapshot)}; best "
                  f"{snapshot.best or 'the baseline'}; {counts_words(snapshot)}",
                  file=self.out or sys.stdout, flush=True)


class LiveDisplay(_Base):
    """A rich Live status block under the run's lines (stdout is a terminal)."""

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console()
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._at = time.monotonic()
        self._live: Any = None

    def __enter__(self) -> LiveDisplay:
        from rich.live import Live

        self._live = Live(get_renderable=self._render, console=self.console,
                          refresh_per_second=4, transient=True)
        self._live.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop redrawing and give the terminal (its cursor) back; idempotent."""
        live, self._live = self._live, None
        if live is not None:
            live.stop()

    def line(self, text: str) -> None:
        # Through the Live's console: printed above the status block, never into it.
        self.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def update(self, snapshot: Snapshot) -> None:
        with self._lock:
            self._snapshot, self._at = snapshot, time.monotonic()

    def _render(self) -> Any:
        from rich.text import Text

        with self._lock:
            snapshot, at = self._snapshot, self._at
        if snapshot is None:
            return Text("starting...", style="dim")
        ticking = dataclasses.replace(snapshot, elapsed=snapshot.elapsed + time.monotonic() - at)
        return Text("\n".join(status_lines(ticking)), style="dim")


def display(*, quiet: bool = False, out: TextIO | None = None) -> Display:
    """The display for this process: quiet, live on a terminal, plain otherwise."""
    if quiet:
        return QuietDisplay()
    stream = out or sys.stdout
    if stream.isatty() and out is None:
        return LiveDisplay()
    return PlainDisplay(out)
