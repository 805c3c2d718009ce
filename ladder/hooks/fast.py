"""The commit hook's fast path, taken before click or any rule engine is imported.

Most commits touch no file any enforced rule looks at (docs, configs, data). For those,
`ladder check --hook FILES` should cost little more than starting Python, so the full
check writes a small index (`.ladder/cache/hook-index.marshal`): for each enforced
lesson, its globs and the file suffixes its engine can read, and for semgrep rules the
compiled rule. From it this module, with nothing but `os`, `marshal` and `ladder.globs`
(marshal, not json: it is built in, and importing json costs ~1 ms of a ~20 ms budget):

- answers "nothing to check" when no enforced rule can see any staged file;
- otherwise starts semgrep at once on the files its rules will scan (see
  `ladder.rules.semgrep_launch`), so it runs while the rest of ladder loads.

It falls back to the full check whenever the index is missing or stale (any lesson or
config file changed since it was written), or a lesson needs the diff (`protect`) or
reads any file (`regex`).
"""

from __future__ import annotations

import marshal
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

INDEX = os.path.join(".ladder", "cache", "hook-index.marshal")
_CONFIG_FILES = ("pyproject.toml", os.path.join(".ladder", "config.toml"))
# marshal's format may change between Python versions: key the index on both.
_VERSION = (3, sys.version_info[:2])

# Which files each engine can read: None means any file, "diff" means it needs the diff.
ENGINE_SUFFIXES: dict[str, tuple[str, ...] | str | None] = {
    "libcst": (".py", ".pyi"),
    "semgrep": None,  # narrowed per rule from its languages when the index is built
    "regex": None,
    "diff": "diff",
}


def _content(path: str) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return None


def fingerprint(root: str) -> list[list[object]]:
    """Each lesson and config file with its bytes: the index is current only when every
    byte is (a size-and-mtime key missed a same-size edit that kept its mtime, and a
    stale index is a lesson not enforced). A few small files: microseconds to read."""
    out: list[list[object]] = []
    lessons = os.path.join(root, ".ladder", "lessons")
    try:
        with os.scandir(lessons) as it:
            for entry in it:
                if entry.name.endswith(".toml"):
                    out.append([entry.name, _content(entry.path)])
    except FileNotFoundError:
        pass  # no lesson yet: a clone of a repository whose lessons directory was empty
    for name in _CONFIG_FILES:
        data = _content(os.path.join(root, name))
        if data is not None:
            out.append([name, data])
    out.sort(key=lambda item: str(item[0]))
    return out


def load_index(root: str = ".") -> dict[str, Any] | None:
    """The index when it is present and current, else None."""
    try:
        with open(os.path.join(root, INDEX), "rb") as fh:
            index = marshal.load(fh)
        if index.get("version") != _VERSION or index.get("files") != fingerprint(root):
            return None
        if not isinstance(index.get("lessons"), list) or not isinstance(index.get("exclude"), list):
            return None
    except (OSError, ValueError, KeyError, TypeError, EOFError, AttributeError):
        return None
    return dict(index)


def _sees(entry: dict[str, Any], path: str, exclude: Sequence[str]) -> bool:
    suffixes = entry["suffixes"]
    if suffixes is not None and not path.endswith(tuple(suffixes)):
        return False  # decided without importing the glob machinery
    from ladder.globs import matches

    return matches(path, entry["paths"]) and not matches(path, exclude)


def nothing_to_check(args: Sequence[str], root: str = ".", index: dict[str, Any] | None = None) -> bool:
    """True only when a current index proves no enforced rule can see any of `args`."""
    if any(a.startswith("-") for a in args):
        return False  # other options: let the full command parse them
    index = index if index is not None else load_index(root)
    if index is None:
        return False
    paths = [a.replace(os.sep, "/") for a in args]
    for entry in index["lessons"]:
        if entry["suffixes"] == "diff":
            return False
        if any(_sees(entry, p, index["exclude"]) for p in paths):
            return False
    return True


def _semgrep_targets(index: dict[str, Any], paths: Sequence[str], root: str) -> tuple[list[str], list[str]]:
    """The rules and targets the semgrep engine will use, mirroring runner + engine."""
    from ladder.globs import matches

    exclude = index["exclude"]
    kept = [p for p in paths if not matches(p, exclude)] if exclude else list(paths)
    chosen: list[dict[str, Any]] = []
    union: set[str] = set()
    for entry in index["lessons"]:
        if not entry.get("semgrep"):
            continue
        mine = [p for p in kept if matches(p, entry["paths"])]
        if mine:
            chosen.append(entry)
            union.update(mine)
    targets = [
        p for p in sorted(union)
        if any(_applies(e["semgrep"], e["paths"], p) for e in chosen) and os.path.isfile(os.path.join(root, p))
    ]
    return [e["semgrep"]["rule_json"] for e in chosen], targets


def _applies(sg: dict[str, Any], paths: Sequence[str], path: str) -> bool:
    from ladder.globs import matches

    if not matches(path, paths):
        return False
    if sg["include"] and not matches(path, sg["include"]):
        return False
    if sg["exclude"] and matches(path, sg["exclude"]):
        return False
    exts = sg["extensions"]
    return exts is None or os.path.splitext(path)[1] in exts


def run(args: Sequence[str], root: str = ".") -> bool:
    """The hook's fast path: True when the check is already answered (nothing to check).

    Never for an agent's commit (LADDER_AGENT=1, set by ladder's own commits): the
    checkout it runs in was written by a process ladder does not trust, and the index
    names a program to start (`semgrep_core`)."""
    if os.environ.get("LADDER_AGENT") == "1":
        return False
    index = load_index(root)
    if index is None:
        return False
    if nothing_to_check(args, root, index):
        return True
    core = index.get("semgrep_core")
    if core and root == ".":  # posix_spawn has no cwd: prefetch only from the repository root
        rules, targets = _semgrep_targets(index, [a.replace(os.sep, "/") for a in args], root)
        if rules and targets:
            from ladder.rules import semgrep_launch

            workdir = os.path.join(".ladder", "cache")
            timeout = index.get("semgrep_timeout", semgrep_launch.SEMGREP_TIMEOUT_S)
            semgrep_launch.prefetch(core, semgrep_launch.config_text(rules), targets, workdir, timeout)
    return False


def write_index(
    root: str, files: list[list[object]], lessons: list[dict[str, object]], exclude: list[str],
    semgrep_core: str | None = None, semgrep_timeout: int | None = None,
) -> None:
    """Record enforced lessons for the fast path; `lessons` carry id, paths, suffixes.

    `files` is the fingerprint taken *before* the lessons were read, so a lesson edited
    meanwhile makes the index stale rather than wrong.
    """
    payload = {"version": _VERSION, "files": files, "lessons": lessons, "exclude": exclude,
               "semgrep_core": semgrep_core, "semgrep_timeout": semgrep_timeout}
    path = os.path.join(root, INDEX)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "wb") as fh:
            marshal.dump(payload, fh)
        os.replace(tmp, path)
    except (OSError, ValueError):
        pass  # advisory: without it the hook takes the full path
