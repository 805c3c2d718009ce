"""After an agent's tool call: is the enforcement still intact? (`ladder guard AGENT --after`)

The pre-tool guard judges what a call *says* it will do; a program can still write
anything (`python fix.py`, `make`). So the agent's post-tool hook (Claude Code's
`PostToolUse`, Codex's equivalent) checks what the call *did*:

1. every path a level-5 `protect` lesson guards is as committed (no change, deletion or
   new file there in `git status`);
2. the state that holds the enforcement is as it was after the agent's previous call:
   the files under `.ladder/` that git sees (lessons, config; not the ignored cache and
   runs), the pre-commit config, the agents' hook settings, the hooks in git's hooks
   directory (content and mode), and git config that moves or wraps hooks
   (`core.hooksPath`, `include.*`, `includeIf.*`, `alias.*`).

A violation is told to the model (exit 2, stderr) and told again after every call until
it is undone: the snapshot of (2) is only moved on while everything is intact. The
snapshot lives in git's common directory (`ladder/intact.json`), where the pre-tool
guard refuses shell writes; a program could still rewrite it, which is why the commit
hook, not this report, is the enforcement.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from ladder.agents.base import ENFORCEMENT_FILES
from ladder.git import git_dir, status_paths

_CONFIG_KEYS = ("core.hookspath", "include.", "includeif.", "alias.")
SNAPSHOT = os.path.join("ladder", "intact.json")
_OWN_STATE = (".ladder/cache/", ".ladder/runs/")  # ladder's own per-clone state, even unignored


def _git(root: Path, *args: str) -> str:
    proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                          check=False, timeout=30)
    if proc.returncode != 0:
        raise RuntimeError(f"`git {' '.join(args)}` failed: {proc.stderr.strip()[:200]}")
    return proc.stdout


def _digest(path: Path) -> str:
    try:
        st = path.lstat()
        if path.is_symlink():
            return f"link:{os.readlink(path)}"
        data = path.read_bytes()
    except FileNotFoundError:
        return "missing"
    except IsADirectoryError:
        return "directory"
    return f"{oct(st.st_mode & 0o777)}:{hashlib.sha256(data).hexdigest()}"


def snapshot(root: Path) -> dict[str, str]:
    """What holds the enforcement, hashed: enforcement files, git hooks, hook config."""
    out: dict[str, str] = {}
    listed = _git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--",
                  *ENFORCEMENT_FILES)
    for rel in sorted(set(filter(None, listed.split("\0")))):
        if not rel.startswith(_OWN_STATE):
            out[f"file {rel}"] = _digest(root / rel)
    hooks = git_dir(root) / "hooks"
    if hooks.is_dir():
        for entry in sorted(hooks.iterdir()):
            if not entry.name.endswith(".sample"):
                out[f"hook {entry.name}"] = _digest(entry)
    config = subprocess.run(["git", "-C", str(root), "config", "--list", "--show-scope"],
                            capture_output=True, text=True, check=False, timeout=30).stdout
    for line in sorted(config.splitlines()):
        key = line.split("\t", 1)[-1].split("=", 1)[0].lower()
        if key.startswith(_CONFIG_KEYS):
            out[f"config {line.split(chr(9), 1)[-1]}"] = line.split("\t", 1)[0]
    return out


def changed_protected(root: Path, globs: Sequence[str]) -> list[str]:
    """Paths under `protect` globs that differ from the last commit (or are new)."""
    from ladder.globs import matches

    if not globs:
        return []
    status = _git(root, "status", "--porcelain=v1", "-z", "--untracked-files=all")
    out = [p for p in status_paths(status) if matches(p, list(globs))]
    return sorted(set(out))


def differences(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    lines: list[str] = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        kind, _, name = key.partition(" ")
        what = {"file": "", "hook": "git hook ", "config": "git config "}.get(kind, "")
        if old is None:
            lines.append(f"{what}{name}: added")
        elif new is None or new == "missing":
            lines.append(f"{what}{name}: removed")
        else:
            lines.append(f"{what}{name}: changed")
    return lines


def check(root: Path, globs: Sequence[str]) -> list[str]:
    """Every violation since the agent's previous call (see the module docstring)."""
    violations = [f"{p}: protected, and no longer as committed" for p in changed_protected(root, globs)]
    now = snapshot(root)
    store = git_dir(root) / SNAPSHOT
    try:
        before = json.loads(store.read_text(encoding="utf-8"))
        if not isinstance(before, dict):
            raise ValueError("not an object")
    except (OSError, ValueError):
        before = None  # the first call of a session: nothing to compare with yet
    if before is not None:
        violations.extend(differences(before, now))
    if not violations:
        store.parent.mkdir(parents=True, exist_ok=True)
        tmp = store.with_name(f"{store.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(now, sort_keys=True), encoding="utf-8")
        os.replace(tmp, store)
    return violations


def message(violations: Sequence[str]) -> str:
    lines = ["ladder guard: your last tool call changed what enforces the lessons:", ""]
    lines += [f"  {v}" for v in violations]
    lines += ["", "To do: undo these changes now (restore protected files with `git checkout -- "
              "PATH`, put hooks and config back). The commit hook refuses them anyway; if "
              "the change is truly needed, stop and ask the user to make it."]
    return "\n".join(lines)
