"""Confinement for the code ladder does not trust: the candidate's evaluation, the
protected scorer and the `command` proposer.

Without a sandbox those processes run with the user's rights, and ladder can only
*detect* what they touch (`ladder.agent.tamper`). With one, what they must not touch is
read-only or hidden, so the write never happens:

- `userns`: Linux user and mount namespaces (`enter.py`), no root and no setuid helper
  needed. The whole filesystem is read-only except the paths a process needs to write
  (its own checkout, a private temporary directory, what `writable` adds); ladder's
  anchor key and the configured `hidden` paths are covered; evaluations get no network
  (loopback only) unless `network = true`.
- `none`: no confinement; the tamper watch still detects and rolls back.

`auto` (the default) is `userns` where this machine allows it, else `none`, and the run
says which at its start. `docs/security.md` says what each mode defends.
"""

from __future__ import annotations

import functools
import json
import os
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ladder.errors import LadderError

ENTER = Path(__file__).with_name("enter.py")
MODES = ("auto", "userns", "none")
FAILED = 125  # enter.py's exit code when it could not build the sandbox


@dataclass(frozen=True)
class Confinement:
    """What one confined process may do."""

    writable: tuple[Path, ...]  # everything else is read-only
    hidden: tuple[Path, ...] = ()  # covered: an empty directory, or /dev/null for a file
    network: bool = False  # False: loopback only
    cwd: Path | None = None
    readonly: tuple[Path, ...] = ()  # inside writable ones, kept read-only (a `.git` file)
    nosymfollow: tuple[Path, ...] = ()  # read-only, and their symlinks are not followed


class Sandbox(Protocol):
    @property
    def name(self) -> str: ...

    def problem(self) -> str:
        """Why this sandbox cannot run on this machine ("" when it can)."""
        ...

    def wrap(self, argv: Sequence[str], confinement: Confinement,
             report_fd: int | None = None) -> list[str]:
        """The command line that runs `argv` confined; with `report_fd`, one that also
        writes the command's peak memory (KiB) to that descriptor (enter.py)."""
        ...


def trampoline(argv: Sequence[str], spec: dict[str, object]) -> list[str]:
    # -I -S: no site-packages, no PYTHON* variables of the user's: a fast start, and
    # nothing from the candidate's environment runs before the sandbox exists.
    # `parent`: what it runs dies with this process (enter.py: PR_SET_PDEATHSIG). Only
    # for an evaluation (it has a report descriptor): ladder starts it itself, while a
    # hook's trampoline is started by git, whose pid this is not.
    if "report_fd" in spec:
        spec = {**spec, "parent": os.getpid()}
    return [sys.executable, "-I", "-S", str(ENTER), json.dumps(spec), "--", *argv]


class NoSandbox:
    name = "none"

    def problem(self) -> str:
        return ""

    def wrap(self, argv: Sequence[str], confinement: Confinement,
             report_fd: int | None = None) -> list[str]:
        if report_fd is None:
            return list(argv)
        return trampoline(argv, {"confine": False, "report_fd": report_fd})


class UserNamespaces:
    name = "userns"

    def problem(self) -> str:
        return _userns_problem()

    def wrap(self, argv: Sequence[str], confinement: Confinement,
             report_fd: int | None = None) -> list[str]:
        spec: dict[str, object] = {
            "writable": [str(p) for p in confinement.writable],
            "hidden": [str(p) for p in confinement.hidden],
            "network": confinement.network,
            "cwd": str(confinement.cwd) if confinement.cwd else "",
            "readonly": [str(p) for p in confinement.readonly],
            "nosymfollow": [str(p) for p in confinement.nosymfollow],
        }
        if report_fd is not None:
            spec["report_fd"] = report_fd
        return trampoline(argv, spec)


SANDBOXES: dict[str, Sandbox] = {"userns": UserNamespaces(), "none": NoSandbox()}


@functools.lru_cache(maxsize=1)
def _userns_problem() -> str:
    """Build a real sandbox once and check that it holds: a write outside is refused."""
    if sys.platform != "linux":
        return f"user namespaces are Linux only (this is {sys.platform})"
    with tempfile.TemporaryDirectory(prefix="ladder-sandbox-probe-") as tmp:
        inside, outside = Path(tmp, "inside"), Path(tmp, "outside")
        inside.mkdir()
        probe = (f"touch {inside}/ok && ! touch {outside} 2>/dev/null")
        argv = UserNamespaces().wrap(["/bin/sh", "-c", probe], Confinement((inside,)))
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            return f"the sandbox probe did not run: {exc}"
        if proc.returncode == FAILED:
            return proc.stderr.strip().removeprefix("ladder sandbox: ")
        if proc.returncode != 0 or not (inside / "ok").exists() or outside.exists():
            return f"the sandbox probe did not hold (exit {proc.returncode}): {proc.stderr.strip()[:200]}"
    return ""


def resolve(mode: str) -> tuple[Sandbox, str]:
    """The sandbox for `mode`, and a note for the run's start when `auto` fell back.

    A sandbox asked for by name that cannot run here is an error, not a silent fallback."""
    if mode == "auto":
        why = SANDBOXES["userns"].problem()
        if why:
            return SANDBOXES["none"], (f"no sandbox on this machine ({why}): tampering is "
                                       "detected, not prevented")
        return SANDBOXES["userns"], ""
    box = SANDBOXES[mode]
    why = box.problem()
    if why:
        raise LadderError(f"the {mode} sandbox cannot run here: {why}",
                          where="[tool.ladder.agent.sandbox] mode",
                          todo='use mode = "auto" (falls back to detection) or "none"')
    return box, ""


def private_tmp(parent: Path) -> Path:
    """A temporary directory for a confined process (its TMPDIR: /tmp is read-only)."""
    path = parent / "tmp"
    path.mkdir(exist_ok=True)
    return path


def expand(paths: Sequence[str], root: Path) -> tuple[Path, ...]:
    """Configured paths: `~` expanded, relative ones against the repository's root."""
    out = []
    for text in paths:
        path = Path(os.path.expanduser(text))
        out.append(path if path.is_absolute() else root / path)
    return tuple(out)


def git_pointer(tree: Path) -> tuple[Path, ...]:
    """A checkout's `.git` (a file in a linked worktree): kept read-only in the sandbox,
    since ladder's own git commands -- outside it -- follow it to a repository and its
    config (a config names programs git runs: `core.fsmonitor`)."""
    return (tree / ".git",)


def read_regular(path: Path, limit: int, inside: Path | None = None) -> bytes | None:
    """The bytes of a file an untrusted process left, read by ladder (outside any
    sandbox): None unless it is a regular file -- a symlink would lead ladder to what
    the process may not read (a hidden path), a FIFO would hang it -- no larger than
    `limit`, and (with `inside`) within that directory through every component."""
    if inside is not None:
        real, root = os.path.realpath(path), os.path.realpath(inside)
        if not real.startswith(root.rstrip("/") + "/"):
            return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def special_files(root: Path) -> Iterator[Path]:
    """Every FIFO, socket or device under `root` (not following symlinks, not in `.git`):
    what git neither shows nor cleans, and what would hang a reader (a FIFO)."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in (*dirs, *files):
            path = Path(folder, name)
            mode = path.lstat().st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
                yield path
