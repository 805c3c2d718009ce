"""The file content an agent's edit would produce, computed exactly as its tool would.

Claude Code's `Edit` replaces `old_string` with `new_string` (once, or everywhere with
`replace_all`); `MultiEdit` applies its edits in order, all or nothing; `Write` replaces
the whole file. When the tool itself would refuse the edit (the old text is not there),
nothing lands and there is nothing to judge: those return None.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ladder.agents.base import GuardRefusal, PendingEdit


def repo_path(name: str, root: Path, cwd: str) -> str | None:
    """`name` (absolute, or relative to `cwd`) as a repo-relative posix path; None outside."""
    full = os.path.realpath(os.path.join(cwd, os.path.expanduser(name)))
    base = os.path.realpath(root)
    if full != base and not full.startswith(base + os.sep):
        return None  # another repository, a temp file: not ours to judge
    rel = os.path.relpath(full, base).replace(os.sep, "/")
    return None if rel == "." else rel


def read_current(root: Path, rel: str) -> str | None:
    """The file's text as the tool sees it (line endings kept); None when absent."""
    try:
        with open(root / rel, encoding="utf-8", errors="replace", newline="") as fh:
            return fh.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def apply_edit(text: str | None, old: str, new: str, replace_all: bool = False) -> str | None:
    """The text after one Edit, or None when the tool would refuse it (nothing lands)."""
    if text is None or old == "":
        # An empty old_string creates a file (or fills an empty one); anything else fails.
        return new if old == "" and not text else None
    if old not in text:
        return None
    # Not unique without replace_all: the tool refuses. Judging the first replacement
    # anyway is the conservative choice: a block of an edit that would not land is free.
    return text.replace(old, new) if replace_all else text.replace(old, new, 1)


def apply_edits(text: str | None, edits: Sequence[Mapping[str, Any]]) -> str | None:
    for edit in edits:
        text = apply_edit(
            text,
            _string(edit, "old_string"),
            _string(edit, "new_string"),
            bool(edit.get("replace_all", False)),
        )
        if text is None:
            return None  # MultiEdit is atomic: one failing edit and none lands
    return text


def _string(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise GuardRefusal(f"`tool_input.{key}` is missing or not a string")
    return value


def write(root: Path, rel: str, content: str) -> PendingEdit:
    status = "M" if (root / rel).exists() else "A"
    return PendingEdit(rel, status, content)


def edited(root: Path, rel: str, new_text: str | None) -> list[PendingEdit]:
    if new_text is None:
        return []
    return [write(root, rel, new_text)]


__all__ = ["apply_edit", "apply_edits", "edited", "read_current", "repo_path", "write"]
