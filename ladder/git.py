"""The few git queries ladder needs, through the git binary.

Plain subprocess, not GitPython, on purpose: these run inside a commit hook where
GitPython's import alone costs ~60 ms (bench/check_latency.py).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ladder.errors import LadderError

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # the id of git's empty tree


@dataclass(frozen=True)
class Change:
    """One changed path: status letter (A, M, D, R, C, T), new path, old path for R/C."""

    status: str
    path: str
    old_path: str = ""

    def paths(self) -> tuple[str, ...]:
        return (self.path, self.old_path) if self.old_path else (self.path,)


def run_git(root: Path | str, *args: str, check: bool = True) -> str:
    try:
        # core.fsmonitor names a program git runs: ladder's git never runs one (it only
        # speeds up `status`), whatever a config an agent may have written says.
        proc = subprocess.run(["git", "-c", "core.fsmonitor=false", *args], cwd=root,
                              capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise LadderError("git is not installed or not on PATH", todo="install git") from exc
    if check and proc.returncode != 0:
        msg = proc.stderr.strip().splitlines()
        raise LadderError(
            f"`git {' '.join(args)}` failed: {msg[-1] if msg else proc.returncode}",
            where=str(root),
        )
    return proc.stdout


def find_root(start: Path | str | None = None) -> Path:
    """The work tree root containing `start`, or a clear error outside git."""
    here = Path(start or os.getcwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / ".git").exists():
            return candidate
    raise LadderError(
        "not inside a git repository",
        where=str(here),
        todo="run `git init` first, or cd into your repository",
    )


def git_dir(root: Path) -> Path:
    """The repository's git directory (handles worktrees, where .git is a file)."""
    dot = root / ".git"
    if dot.is_dir():
        return dot
    out = run_git(root, "rev-parse", "--git-common-dir").strip()
    return (root / out).resolve()


def hooks_dir(root: Path) -> Path:
    configured = run_git(root, "config", "--get", "core.hooksPath", check=False).strip()
    if configured:
        return (root / configured).resolve()
    return git_dir(root) / "hooks"


def has_head(root: Path) -> bool:
    return bool(run_git(root, "rev-parse", "--verify", "-q", "HEAD", check=False).strip())


def _parse_name_status(out: str) -> list[Change]:
    parts = out.split("\0")
    changes: list[Change] = []
    i = 0
    while i < len(parts) and parts[i]:
        status = parts[i]
        letter = status[0]
        if letter in "RC":
            changes.append(Change(letter, parts[i + 2], parts[i + 1]))
            i += 3
        else:
            changes.append(Change(letter, parts[i + 1]))
            i += 2
    return changes


def staged_changes(root: Path) -> list[Change]:
    """What the next commit changes against HEAD (or everything, before the first commit)."""
    if not has_head(root):
        # No commit yet: diff the index against git's empty tree.
        out = run_git(root, "diff", "--cached", "--name-only", "-z", EMPTY_TREE)
        return [Change("A", p) for p in out.split("\0") if p]
    out = run_git(root, "diff", "--cached", "--name-status", "-z", "-M", "HEAD")
    return _parse_name_status(out)


def changes_between(root: Path, base: str, head: str | None = None) -> list[Change]:
    """Changes from `base` to `head` (or to the working tree when head is None)."""
    args = ["diff", "--name-status", "-z", "-M", base]
    if head:
        args.append(head)
    changes = _parse_name_status(run_git(root, *args))
    if head is None:
        # The working tree includes files git does not track yet (and does not ignore).
        untracked = run_git(root, "ls-files", "-z", "--others", "--exclude-standard")
        changes += [Change("A", p) for p in untracked.split("\0") if p]
    return changes


def working_changes(root: Path) -> list[Change]:
    """Uncommitted changes (staged and not) against HEAD."""
    if not has_head(root):
        return [Change("A", p) for p in list_files(root)]
    return changes_between(root, "HEAD")


def list_files(root: Path) -> list[str]:
    """Tracked files plus untracked ones git does not ignore."""
    out = run_git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    seen: dict[str, None] = {}
    for p in out.split("\0"):
        if p and (root / p).is_file():
            seen[p] = None
    return list(seen)


def status_paths(porcelain_z: str) -> list[str]:
    """Every path in `git status --porcelain=v1 -z` output, a rename's source included
    (it follows its entry as a field of its own)."""
    out: list[str] = []
    fields = porcelain_z.split("\0")
    i = 0
    while i < len(fields):
        entry = fields[i]
        i += 1
        if len(entry) < 4:
            continue
        out.append(entry[3:])
        if "R" in entry[:2] or "C" in entry[:2]:
            out.append(fields[i])
            i += 1
    return out


def unstaged_paths(root: Path) -> frozenset[str]:
    """Files whose working copy differs from the index, and untracked files git does not
    ignore: the user's work in progress, which ladder never stages."""
    changed = run_git(root, "diff", "--name-only", "-z")  # run at the root: root-relative
    untracked = run_git(root, "ls-files", "-z", "--others", "--exclude-standard")
    return frozenset(p for p in [*changed.split("\0"), *untracked.split("\0")] if p)


def ignored_paths(root: Path, paths: list[str]) -> frozenset[str]:
    """Those of `paths` that git ignores (tracked files never count as ignored)."""
    if not paths:
        return frozenset()
    out = run_git(root, "check-ignore", "-z", "--", *paths, check=False)  # exit 1: none
    return frozenset(p for p in out.split("\0") if p)


def add(root: Path, paths: list[str]) -> None:
    if paths:
        run_git(root, "add", "--", *paths)
