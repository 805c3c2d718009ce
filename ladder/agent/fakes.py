"""Fakes for the loop's slow parts, shipped so tests and benchmarks drive the real `Run`.

httpx ships `MockTransport`; we ship these. Each satisfies the Protocol the loop uses
(`ladder.agent.records`), so a test or a benchmark runs the shipped loop -- the real
proposer, strategy, decision rule, learner and budget -- with:

- `MemoryWorkspace`: commits are file maps in memory; checkouts are plain directories
  (each initialised as an empty git repository once, so proposers that list files with
  `git ls-files` work); an optional `refuse` callable plays the commit hooks;
- `CallableExecutor`: a plain function evaluates each job (the job's `root` holds the
  candidate's files); it advances a clock by the evaluations' time when given one;
- `FakeClock`: time that moves only when told;
- `MemoryJournal`: the journal's records in a list, stored as the real one stores them.

Nothing here is used by `ladder agent run`: the real workspace runs git and the hooks,
the real executor runs processes, the real journal fsyncs a hash-chained file.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ladder.agent.journal import plain
from ladder.agent.records import CommitOutcome, Damage, EvalJob, EvalResult, Proposal, Verdict
from ladder.agent.workspace import apply_proposal

__all__ = ["CallableExecutor", "FakeClock", "MemoryJournal", "MemoryWorkspace"]

# (files of the candidate, files of its parent) -> the ids of the lessons that refuse it
Refuse = Callable[[Mapping[str, str], Mapping[str, str]], Sequence[str]]


class FakeClock:
    """A clock for the loop's time budget: starts at `start`, moves with `advance`."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


class CallableExecutor:
    """Runs each job through `evaluate(job)`, `slots` at a time in name only (in order,
    in this thread); with a `clock`, each batch advances it by its evaluations' seconds
    shared among the slots."""

    def __init__(
        self,
        evaluate: Callable[[EvalJob], EvalResult],
        slots: int = 1,
        clock: FakeClock | None = None,
    ) -> None:
        self.evaluate = evaluate
        self._slots = slots
        self.clock = clock
        self.ran: list[str] = []  # keys, in order

    @property
    def slots(self) -> int:
        return self._slots

    def run(
        self, jobs: Sequence[EvalJob], on_result: Callable[[EvalResult], None] | None = None
    ) -> list[EvalResult]:
        out: list[EvalResult] = []
        for job in jobs:
            result = self.evaluate(job)
            self.ran.append(job.key)
            if on_result is not None:
                on_result(result)
            out.append(result)
        if self.clock is not None:
            self.clock.advance(sum(r.seconds for r in out) / max(1, self._slots))
        return out


class MemoryJournal:
    """The journal's records in memory, each stored as `ladder.agent.journal.Journal`
    stores it (plain JSON data), without a file, a lock or a hash chain."""

    def __init__(self) -> None:
        self._records: list[dict[str, Any]] = []

    def append(self, kind: str, data: Mapping[str, Any]) -> dict[str, Any]:
        record = {"seq": len(self._records), "kind": kind, "data": plain(data)}
        self._records.append(record)
        return record

    def records(self) -> list[dict[str, Any]]:
        return list(self._records)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [r["data"] for r in self._records if r["kind"] == kind]


class MemoryWorkspace:
    """A workspace whose commits are {path: text} maps, checked out into directories
    under `root`. `refuse` plays the commit hooks: the lesson ids that refuse a commit
    (empty: it is accepted); `on_refresh` is called when the loop says the lessons changed.
    Crossover merges whole files (git merges lines)."""

    sandbox = "none"  # no hook runs: nothing to confine

    def __init__(
        self,
        root: Path,
        files: Mapping[str, str],
        *,
        refuse: Refuse | None = None,
        on_refresh: Callable[[], None] | None = None,
    ) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.refuse = refuse
        self.on_refresh = on_refresh  # the loop made a lesson mid-run: `refuse` re-reads them
        self.commits: dict[str, dict[str, str]] = {}
        self.parents: dict[str, str] = {}
        self.baseline = self._store(dict(files), "")
        self.tip = self.baseline
        self.notes: dict[str, dict[str, Any]] = {}
        self.refs: dict[int, str] = {}
        self._slots: dict[Path, str] = {}  # checkout directory -> the commit it holds

    # --- the Worktrees Protocol -----------------------------------------------------

    def start(self) -> str:
        return self.tip

    def checkout(self, slot: str, commit: str) -> Path:
        tree = self.root / slot
        if not tree.is_dir():
            tree.mkdir(parents=True)
            subprocess.run(["git", "init", "-q", str(tree)], check=True, capture_output=True)
        if self._slots.get(tree) != commit or self._dirty(tree, commit):
            self._write(tree, self.commits[commit])
            self._slots[tree] = commit
        return tree

    def apply(self, tree: Path, proposal: Proposal, editable: Sequence[str]) -> str | None:
        return apply_proposal(tree, proposal, editable)

    def commit(self, tree: Path, message: str, *, reset: bool = True) -> CommitOutcome:
        parent = self._slots[tree]
        files = self._read(tree)
        refused = tuple(self.refuse(files, self.commits[parent])) if self.refuse else ()
        if refused:
            if reset:
                self._write(tree, self.commits[parent])
            return CommitOutcome(False, "", refused, f"refused by {', '.join(refused)}")
        sha = self._store(files, parent)
        self._slots[tree] = sha
        return CommitOutcome(True, sha, (), "")

    def verify_commit(self, tree: Path, sha: str, parent: str) -> list[str]:
        return []

    def watch(self, protected: Sequence[Path], strict: Sequence[Path] = ()) -> None:
        return None  # in memory: no candidate code runs, nothing outside it to touch

    def check_watch(self, before: Any) -> Damage:
        return Damage()

    def run_gates(self, tree: Path, gates: Sequence[str], timeout: float, *, sandbox: str = "none",
                  hidden: tuple[Path, ...] = ()) -> tuple[bool, str]:
        return True, ""

    def record(self, sha: str, iteration: int, verdict: Verdict) -> None:
        self.refs[iteration] = sha
        self.notes[sha] = {"iteration": iteration, "status": verdict.status}

    def advance(self, sha: str) -> None:
        self.tip = sha

    def recorded(self) -> dict[int, str]:
        return dict(self.refs)

    def noted(self) -> set[str]:
        return set(self.notes)

    def branch_tip(self) -> str:
        return self.tip

    def show(self, commit: str, path: str) -> str | None:
        return self.commits.get(commit, {}).get(path)

    def refresh_lessons(self) -> None:
        if self.on_refresh is not None:
            self.on_refresh()

    def crossover(self, a: str, b: str, tree: Path) -> dict[str, str] | None:
        base = self._common_ancestor(a, b)
        ours, theirs, old = self.commits[a], self.commits[b], self.commits[base]
        merged: dict[str, str] = {}
        for path in sorted(set(ours) | set(theirs)):
            mine, other, was = ours.get(path), theirs.get(path), old.get(path)
            if other in (was, mine):
                continue
            if mine != was:
                return None  # both sides changed the file differently: a conflict
            if other is not None:
                merged[path] = other
        return merged

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    # --- inside -----------------------------------------------------------------------

    def files(self, commit: str) -> dict[str, str]:
        return dict(self.commits[commit])

    def _store(self, files: dict[str, str], parent: str) -> str:
        digest = hashlib.sha1(parent.encode())
        for path in sorted(files):
            digest.update(f"\0{path}\0{files[path]}".encode())
        sha = digest.hexdigest()
        self.commits.setdefault(sha, files)
        self.parents.setdefault(sha, parent)
        return sha

    def _lineage(self, sha: str) -> list[str]:
        out = []
        while sha:
            out.append(sha)
            sha = self.parents.get(sha, "")
        return out

    def _common_ancestor(self, a: str, b: str) -> str:
        theirs = set(self._lineage(b))
        return next((c for c in self._lineage(a) if c in theirs), self.baseline)

    def _read(self, tree: Path) -> dict[str, str]:
        out: dict[str, str] = {}
        for folder, dirs, names in os.walk(tree):
            dirs[:] = sorted(d for d in dirs if d != ".git")
            for name in sorted(names):
                path = Path(folder, name)
                out[path.relative_to(tree).as_posix()] = path.read_text(encoding="utf-8")
        return out

    def _write(self, tree: Path, files: Mapping[str, str]) -> None:
        for path in set(self._read(tree)) - set(files):
            (tree / path).unlink()
        for path, text in files.items():
            target = tree / path
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.is_file() or target.read_text(encoding="utf-8") != text:
                target.write_text(text, encoding="utf-8")

    def _dirty(self, tree: Path, commit: str) -> bool:
        return self._read(tree) != self.commits[commit]
