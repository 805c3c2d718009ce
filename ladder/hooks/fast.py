"""The commit hook's fast path: "nothing here can fire" decided before importing click.

Most commits touch no file any level-5 rule looks at (docs, configs, data). For those,
`ladder check --hook FILES` should cost little more than starting Python, so the full
check writes a small index (`.ladder/cache/hook-index.marshal`): for each enforced lesson,
its globs and the file suffixes its engine can read. The fast path answers from that
index with nothing but `os`, `marshal` and `ladder.globs` (marshal, not json: it is
built in, and importing json alone costs ~1 ms of a ~20 ms budget), and falls back to the full check
whenever the index is missing, stale (any lesson or config file changed), or a lesson
needs the diff (`protect`) or reads any file (`regex`).
"""

from __future__ import annotations

import marshal
import os
import sys

INDEX = os.path.join(".ladder", "cache", "hook-index.marshal")
_CONFIG_FILES = ("pyproject.toml", os.path.join(".ladder", "config.toml"))
# marshal's format may change between Python versions: key the index on both.
_VERSION = (1, sys.version_info[:2])

# Which files each engine can read: None means any file, "diff" means it needs the diff.
ENGINE_SUFFIXES: dict[str, tuple[str, ...] | str | None] = {
    "libcst": (".py", ".pyi"),
    "semgrep": None,  # narrowed to (.py, .pyi) for python-only rules when the index is built
    "regex": None,
    "diff": "diff",
}


def fingerprint(root: str) -> list[list[object]]:
    out: list[list[object]] = []
    lessons = os.path.join(root, ".ladder", "lessons")
    with os.scandir(lessons) as it:
        for entry in it:
            if entry.name.endswith(".toml"):
                st = entry.stat()
                out.append([entry.name, st.st_size, st.st_mtime_ns])
    for name in _CONFIG_FILES:
        try:
            st = os.stat(os.path.join(root, name))
        except OSError:
            continue
        out.append([name, st.st_size, st.st_mtime_ns])
    out.sort()
    return out


def nothing_to_check(args: list[str] | tuple[str, ...], root: str = ".") -> bool:
    """True only when the index proves no enforced rule can see any of `args`."""
    if any(a.startswith("-") for a in args):
        return False  # other options: let the full command parse them
    try:
        with open(os.path.join(root, INDEX), "rb") as fh:
            index = marshal.load(fh)
        if index.get("version") != _VERSION or index.get("files") != fingerprint(root):
            return False
        entries = index["lessons"]
        exclude = index["exclude"]
    except (OSError, ValueError, KeyError, TypeError, EOFError):
        return False
    if not entries:
        return True
    from ladder.globs import matches

    for entry in entries:
        suffixes = entry["suffixes"]
        if suffixes == "diff" or (suffixes is None and args):
            return False
        for name in args:
            path = name.replace(os.sep, "/")
            if path.endswith(tuple(suffixes)) and matches(path, entry["paths"]) and not matches(path, exclude):
                return False
    return True


def write_index(
    root: str, files: list[list[object]], lessons: list[dict[str, object]], exclude: list[str]
) -> None:
    """Record enforced lessons for the fast path; `lessons` carry id, paths, suffixes.

    `files` is the fingerprint taken *before* the lessons were read, so a lesson edited
    meanwhile makes the index stale rather than wrong.
    """
    payload = {"version": _VERSION, "files": files, "lessons": lessons, "exclude": exclude}
    path = os.path.join(root, INDEX)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "wb") as fh:
            marshal.dump(payload, fh)
        os.replace(tmp, path)
    except OSError:
        pass  # advisory: without it the hook takes the full path
