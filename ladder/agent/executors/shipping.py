"""A commit's files, shipped to a machine that shares no filesystem with the driver.

What travels is the commit's *tree* -- every tracked file, byte for byte -- as a git
bundle of one commit made for the journey: the candidate's tree with no parent and a
fixed author and date, so the same tree always makes the same bundle and its history
(every earlier candidate) stays home. The commit is written to a scratch repository
that borrows the user's objects as an alternate: nothing is written to the user's
repository, and no ref of theirs moves.

On the worker, `checkout` fetches the bundle into a fresh repository and checks the
result out; the tree git checked out must be the one the driver named -- a content
address, so a bundle that is not what the driver sent cannot pass. `intact` then says
whether a checkout still holds exactly that tree (nothing changed, added or removed),
which is how the worker's copy of the protected scorer is verified before it runs.

Every git command here runs with the user's and the system's git configuration ignored,
no hooks and no fsmonitor: a node's `~/.gitconfig` (an LFS smudge filter that would
reach the network) or a candidate's `.git/config` never runs anything.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ladder.errors import LadderError

_FIXED = "1970-01-01T00:00:00Z"  # the shipped commit's dates: one tree, one bundle
_REF = "refs/heads/ladder-shipped"
_SAFE = ("-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false",
         "-c", "init.defaultBranch=shipped", "-c", "advice.detachedHead=false")


@dataclass(frozen=True)
class Shipment:
    """One tree on its way: its id (what the checkout must hold) and a bundle of a
    commit of it (what the worker fetches)."""

    tree: str
    bundle: bytes


def hermetic_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment for git in which no configuration file but the repository's own
    is read, and no variable points git at another repository."""
    env = {k: v for k, v in (os.environ if base is None else base).items()
           if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_TERMINAL_PROMPT="0",
               GIT_AUTHOR_NAME="ladder", GIT_AUTHOR_EMAIL="ladder@ladder.invalid",
               GIT_COMMITTER_NAME="ladder", GIT_COMMITTER_EMAIL="ladder@ladder.invalid",
               GIT_AUTHOR_DATE=_FIXED, GIT_COMMITTER_DATE=_FIXED)
    return env


def _git(cwd: Path, *args: str, env: Mapping[str, str] | None = None,
         check: bool = True) -> str:
    proc = subprocess.run(["git", *_SAFE, *args], cwd=cwd, capture_output=True, text=True,
                          env=dict(env) if env is not None else hermetic_env(), check=False)
    if check and proc.returncode != 0:
        said = (proc.stderr or proc.stdout).strip().splitlines()
        raise LadderError(f"`git {args[0]}` failed: {said[-1] if said else proc.returncode}",
                          where=str(cwd))
    return proc.stdout


# --- the driver's side -----------------------------------------------------------------


def tree_of(checkout: Path) -> str:
    """The tree `checkout` holds: its HEAD's, refused when a tracked file differs from it
    (what is not committed would not travel, and the evaluation would run other code)."""
    dirty = _git(checkout, "status", "--porcelain", "--untracked-files=no", "-z")
    if dirty:
        raise LadderError(
            f"the checkout to evaluate has uncommitted changes ({dirty.split(chr(0))[0][3:]})",
            where=str(checkout),
            todo="only the commit travels to the cluster: a gate or a process changed a "
                 "tracked file after ladder committed it; make it write elsewhere ($TMPDIR)",
        )
    return _git(checkout, "rev-parse", "HEAD^{tree}").strip()


def pack(checkout: Path, tree: str) -> Shipment:
    """A bundle of one parentless commit of `tree`, which the repository of `checkout`
    holds; made in a scratch repository borrowing its objects."""
    objects = _git(checkout, "rev-parse", "--path-format=absolute", "--git-path",
                   "objects").strip()
    with tempfile.TemporaryDirectory(prefix="ladder-ship-") as tmp:
        scratch = Path(tmp, "repo.git")
        _git(Path(tmp), "init", "-q", "--bare", str(scratch))
        (scratch / "objects" / "info" / "alternates").write_text(objects + "\n",
                                                                  encoding="utf-8")
        commit = _git(scratch, "commit-tree", tree, "-m", f"ladder: tree {tree}").strip()
        _git(scratch, "update-ref", _REF, commit)
        bundle = Path(tmp, "tree.bundle")
        _git(scratch, "bundle", "create", "-q", str(bundle), _REF)
        return Shipment(tree, bundle.read_bytes())


# --- the worker's side -----------------------------------------------------------------


def checkout(shipment: Shipment, where: Path) -> Path:
    """A fresh repository at `where` with the shipped tree checked out (detached); a
    LadderError when what arrived is not the tree the driver named."""
    where.mkdir(parents=True)
    bundle = where.parent / f"{where.name}.bundle"
    bundle.write_bytes(shipment.bundle)
    try:
        _git(where, "init", "-q")
        _git(where, "fetch", "-q", "--no-tags", str(bundle), _REF)
        got = _git(where, "rev-parse", "FETCH_HEAD^{tree}").strip()
        if got != shipment.tree:
            raise LadderError(f"the shipped bundle holds tree {got[:12]}, not the "
                              f"{shipment.tree[:12]} the driver sent", where=str(where))
        _git(where, "checkout", "-q", "--detach", "FETCH_HEAD")
    finally:
        bundle.unlink(missing_ok=True)
    return where


def intact(where: Path, tree: str) -> str:
    """What differs between the checkout at `where` and `tree` ("" when nothing does):
    every file is compared by content against a fresh index of `tree` (a stale or
    forged index cannot vouch for it), untracked and ignored files included."""
    with tempfile.TemporaryDirectory(prefix="ladder-index-") as tmp:
        # GIT_DIR and GIT_WORK_TREE outrank a `core.worktree` written into the checkout's
        # own config, which would point the comparison at another directory.
        env = {**hermetic_env(), "GIT_INDEX_FILE": str(Path(tmp, "index")),
               "GIT_DIR": str(where / ".git"), "GIT_WORK_TREE": str(where)}
        try:
            _git(where, "read-tree", tree, env=env)
            changed = _git(where, "status", "--porcelain", "--untracked-files=all",
                           "--ignored", "-z", env=env)
        except LadderError as exc:
            return f"the checkout of {tree[:12]} cannot be read: {exc.what}"
    names = [entry[3:] for entry in changed.split("\0") if entry]
    if not names:
        return ""
    more = f" (+{len(names) - 1} more)" if len(names) > 1 else ""
    return f"{names[0]}{more} changed in the checkout of {tree[:12]}"
