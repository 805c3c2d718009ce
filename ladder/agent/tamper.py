"""What a candidate's evaluation must not touch, fingerprinted before and checked after.

The candidate's code runs with the same user's rights as ladder. Beside its own worktree
it can reach the parent's checkout (whose evaluation runs next to it: a wrapper appended
to the parent's evaluator makes the parent score worse and the candidate look better),
the scorer's checkout, the user's working tree, and git's common directory (config,
hooks, refs). So around every decision's evaluations the loop fingerprints:

- the protected checkouts (parent, scorer): their HEAD and any change to a tracked file;
- the user's working tree: `git status` (clean when the run started);
- git's config and hooks (their bytes), and every ref outside ladder's own namespace.

Any difference afterwards is a `tamper` verdict for the candidate (journaled, counted,
never kept), its parent results of that window are discarded, and the damage is rolled
back: checkouts reset, config and hooks rewritten from the fingerprint, refs moved back.
The user's working tree is not rolled back (the user may be working in it while the
run goes; ladder itself writes there only what a run learns, between decisions): a
change there is reported, not undone. What cannot be rolled back stops
the run. Without a sandbox this detects; it does not prevent (docs/security.md).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ladder.git import git_dir

OWN_REFS = ("refs/ladder/", "refs/heads/ladder/", "refs/notes/ladder")


def _git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True,
                          check=False, timeout=60)
    return proc.stdout if proc.returncode == 0 else f"<git {args[0]} failed: {proc.stderr.strip()}>"


@dataclass(frozen=True)
class Fingerprint:
    refs: Mapping[str, str]  # refname -> sha, outside ladder's namespace
    files: Mapping[str, bytes | None]  # absolute path -> bytes (None: absent)
    trees: Mapping[str, str]  # protected checkout -> HEAD and tracked changes
    main: str  # the user's working tree's status


def _git_files(root: Path) -> list[Path]:
    common = git_dir(root)
    paths = [common / "config", common / "config.worktree"]
    hooks = common / "hooks"
    if hooks.is_dir():
        paths += sorted(p for p in hooks.iterdir() if not p.name.endswith(".sample"))
    return paths


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None


def _tree_state(tree: Path) -> str:
    return (_git(tree, "rev-parse", "HEAD").strip() + "\n"
            + _git(tree, "status", "--porcelain", "--untracked-files=no"))


def take(root: Path, protected: Sequence[Path]) -> Fingerprint:
    listing = _git(root, "for-each-ref", "--format=%(refname) %(objectname)")
    refs = {name: sha for line in listing.splitlines() if " " in line
            for name, sha in [line.split(" ", 1)] if not name.startswith(OWN_REFS)}
    files = {str(p): _read(p) for p in _git_files(root)}
    trees = {str(t): _tree_state(t) for t in protected}
    main = _git(root, "status", "--porcelain", "--untracked-files=all")
    return Fingerprint(refs, files, trees, main)


def compare(before: Fingerprint, after: Fingerprint) -> list[str]:
    out: list[str] = []
    for name in sorted(set(before.refs) | set(after.refs)):
        if before.refs.get(name) != after.refs.get(name):
            out.append(f"ref {name} moved ({before.refs.get(name, 'absent')[:12]} -> "
                       f"{after.refs.get(name, 'absent')[:12]})")
    for path in sorted(set(before.files) | set(after.files)):
        if before.files.get(path) != after.files.get(path):
            out.append(f"{path} changed")
    for tree, state in before.trees.items():
        if after.trees.get(tree) != state:
            out.append(f"the protected checkout {tree} changed: "
                       f"{(after.trees.get(tree) or '').splitlines()[1:3]}")
    if before.main != after.main:
        out.append("the user's working tree changed: "
                   + "; ".join(sorted(set(after.main.splitlines()) - set(before.main.splitlines())))[:300])
    return out


def rollback(root: Path, before: Fingerprint, after: Fingerprint) -> list[str]:
    """Put back what `after` changed; returns what could not be put back."""
    stuck: list[str] = []
    for name, sha in before.refs.items():
        if after.refs.get(name) != sha:
            _git(root, "update-ref", name, sha)
    for name in set(after.refs) - set(before.refs):
        _git(root, "update-ref", "-d", name)
    for path, data in before.files.items():
        if after.files.get(path) == data:
            continue
        if data is None:
            Path(path).unlink(missing_ok=True)
        else:
            tmp = Path(f"{path}.ladder-restore")
            tmp.write_bytes(data)
            os.chmod(tmp, 0o755 if "/hooks/" in path else 0o644)
            os.replace(tmp, path)
    for tree, state in before.trees.items():
        if after.trees.get(tree) != state:
            head = state.splitlines()[0] if state else "HEAD"
            _git(Path(tree), "checkout", "-q", "--detach", "-f", head)
    now = take(root, [Path(t) for t in before.trees])
    if compare(before, Fingerprint(now.refs, now.files, now.trees, before.main)):
        stuck.append("the rollback did not restore everything")
    return stuck


def left_in_user_tree(before: Fingerprint, after: Fingerprint) -> list[str]:
    """Changes to the user's working tree: reported, never undone by ladder."""
    return sorted(set(after.main.splitlines()) - set(before.main.splitlines()))
