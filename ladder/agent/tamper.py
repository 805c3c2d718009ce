"""What a proposer or a candidate's evaluation must not touch, fingerprinted before and
checked after.

Without a sandbox (ladder.sandbox) the proposer's command and the candidate's code run
with the same user's rights as ladder. Beside its own worktree a process can reach the
parent's checkout (whose evaluation runs next to it: a wrapper appended to the parent's
evaluator makes the parent score worse and the candidate look better), the scorer's
checkout, the user's working tree, and git's common directory (config, hooks, refs). So
around every proposal and every decision's evaluations the loop fingerprints:

- the protected checkouts (parent, scorer): their HEAD and any change to a tracked file;
- the user's working tree: every path `git status` lists, with its bytes;
- git's config and hooks (their bytes), every ref outside ladder's namespace and this
  run's own refs (the kept branch a user merges; ladder moves them only between windows).

Any difference afterwards is a `tamper` verdict (journaled, counted, never kept), the
window's parent results are discarded, and the damage is rolled back: checkouts reset,
config and hooks rewritten, refs moved back, and each changed path of the user's tree
restored -- what was there is first set aside under `<git dir>/ladder/set-aside/`, since
the user may have been editing it (nothing is lost). What cannot be put back stops the
run. Without a sandbox this detects and repairs; with one the write never happens
(docs/security.md).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ladder.git import git_dir, status_paths

OWN_REFS = ("refs/ladder/", "refs/heads/ladder/", "refs/notes/ladder")
# Git must not run anything of the repository's while ladder looks: no hooks, no
# fsmonitor (a program named in a config the candidate may have written).
_SAFE = ("-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false")
SET_ASIDE = "set-aside"  # under <git dir>/ladder/


def _git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *_SAFE, "-C", str(cwd), *args], capture_output=True,
                          text=True, check=False, timeout=60)
    return proc.stdout if proc.returncode == 0 else f"<git {args[0]} failed: {proc.stderr.strip()}>"


@dataclass(frozen=True)
class Fingerprint:
    refs: Mapping[str, str]  # refname -> sha: outside ladder's namespace, and this run's
    files: Mapping[str, bytes | None]  # absolute path -> bytes (None: absent)
    trees: Mapping[str, str]  # protected checkout -> HEAD and tracked changes
    main: Mapping[str, bytes | None]  # the user's tree: each path git lists -> its bytes
    run: str = ""
    strict: tuple[str, ...] = ()  # checkouts whose untracked files are watched too


def _git_files(root: Path) -> list[Path]:
    common = git_dir(root)
    # info/exclude and info/attributes too: a rule written there hides a file from
    # `git status` (and so from this watch) or names a filter git would run.
    paths = [common / "config", common / "config.worktree", common / "info" / "exclude",
             common / "info" / "attributes"]
    hooks = common / "hooks"
    if hooks.is_dir():
        paths += sorted(p for p in hooks.iterdir() if not p.name.endswith(".sample"))
    return paths


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None


def _tree_state(tree: Path, strict: bool) -> str:
    """HEAD and the changed tracked files; `strict`: also every untracked or ignored file
    with its bytes' hash (the scorer's checkout, which nothing may write: a module
    planted beside the scorer would be imported by it). A parent's checkout is not
    strict: its own evaluation writes outputs there."""
    state = (_git(tree, "rev-parse", "HEAD").strip() + "\n"
             + _git(tree, "status", "--porcelain", "--untracked-files=no"))
    if strict:
        others = sorted(p for p in _git(tree, "ls-files", "-z", "--others").split("\0") if p)
        state += "".join(f"+ {p} {_hash(tree / p)}\n" for p in others)
    return state


def _hash(path: Path) -> str:
    data = _read(path) if not path.is_symlink() else f"-> {os.readlink(path)}".encode()
    return "absent" if data is None else hashlib.sha256(data).hexdigest()[:16]


def _watched_ref(name: str, run: str) -> bool:
    if not name.startswith(OWN_REFS):
        return True
    return bool(run) and (name.startswith(f"refs/ladder/{run}/") or name == f"refs/heads/ladder/{run}")


def _user_tree(root: Path) -> dict[str, bytes | None]:
    """Every path of the user's tree that differs from HEAD (untracked ones included),
    with its bytes: what a restore puts back."""
    listing = _git(root, "status", "--porcelain=v1", "-z", "--untracked-files=all")
    paths = status_paths(listing)
    return {p: _read(root / p) for p in paths}


def take(root: Path, protected: Sequence[Path], run: str = "",
         strict: Sequence[Path] = ()) -> Fingerprint:
    listing = _git(root, "for-each-ref", "--format=%(refname) %(objectname)")
    refs = {name: sha for line in listing.splitlines() if " " in line
            for name, sha in [line.split(" ", 1)] if _watched_ref(name, run)}
    files = {str(p): _read(p) for p in _git_files(root)}
    strict_ones = {str(t) for t in strict}
    trees = {str(t): _tree_state(t, str(t) in strict_ones) for t in (*protected, *strict)}
    return Fingerprint(refs, files, trees, _user_tree(root), run, tuple(sorted(strict_ones)))


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
    touched = _touched(before, after)
    if touched:
        out.append("the user's working tree changed: " + "; ".join(touched)[:300])
    return out


def _touched(before: Fingerprint, after: Fingerprint) -> list[str]:
    return sorted(p for p in set(before.main) | set(after.main)
                  if before.main.get(p, _CLEAN) != after.main.get(p, _CLEAN))


_CLEAN = b"\0clean"  # a path git did not list: as in HEAD


def again(root: Path, before: Fingerprint) -> Fingerprint:
    """The same fingerprint taken now."""
    loose = [Path(t) for t in before.trees if t not in before.strict]
    return take(root, loose, before.run, [Path(t) for t in before.strict])


def rollback(root: Path, before: Fingerprint, after: Fingerprint) -> tuple[list[str], list[str]]:
    """Put back what `after` changed: (notes on the repair, what could not be put back)."""
    stuck: list[str] = []
    notes: list[str] = []
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
            if Path(path).exists():  # the mode it has now (git keeps config at 0644)
                os.chmod(tmp, Path(path).stat().st_mode & 0o777)
            os.replace(tmp, path)
    for tree, state in before.trees.items():
        if after.trees.get(tree) != state:
            head = state.splitlines()[0] if state else "HEAD"
            _git(Path(tree), "checkout", "-q", "--detach", "-f", head)
            if tree in before.strict:
                _git(Path(tree), "clean", "-q", "-fdx")
    # Looked at again now that info/exclude is back: a file it hid shows up.
    now_main = Fingerprint({}, {}, {}, _user_tree(root))
    touched = sorted({*_touched(before, after), *_touched(before, now_main)})
    if touched:
        notes.append(_restore_user_tree(root, before, touched))
    now = again(root, before)
    left = compare(before, now)
    if left:
        stuck.append(f"the rollback did not restore everything: {left[0]}")
    return notes, stuck


def _restore_user_tree(root: Path, before: Fingerprint, paths: Sequence[str]) -> str:
    """Put each path back as it was, its current bytes set aside first; what it says
    goes in the verdict (where the set-aside copies are)."""
    aside = git_dir(root) / "ladder" / SET_ASIDE / time.strftime("%Y%m%d-%H%M%S")
    for rel in paths:
        path = root / rel
        current = _read(path)
        if current is not None:
            copy = aside / rel
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_bytes(current)
        was = before.main.get(rel, _CLEAN)
        if was == _CLEAN:
            was = _head_bytes(root, rel)
        if was is None:
            path.unlink(missing_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
            path.write_bytes(was)
            os.chmod(path, mode)
    return f"your working tree was put back as it was; what the change left is set aside in {aside}"


def _head_bytes(root: Path, rel: str) -> bytes | None:
    proc = subprocess.run(["git", *_SAFE, "-C", str(root), "show", f"HEAD:{rel}"],
                          capture_output=True, check=False, timeout=60)
    return proc.stdout if proc.returncode == 0 else None
