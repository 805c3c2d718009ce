"""What every proposer needs: the editable files of a checkout, and what an edit touched."""

from __future__ import annotations

import ast
import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path

from ladder.errors import LadderError
from ladder.git import list_files
from ladder.globs import matches
from ladder.sandbox import read_regular


def editable_files(root: Path, editable: Sequence[str]) -> list[str]:
    """The repo-relative paths under `root` a proposal may change, sorted (reproducible)."""
    return sorted(p for p in list_files(root) if matches(p, editable))


def printable(text: str, limit: int = 200) -> str:
    """A proposer's words as one line of printable text: no escape sequence (an ANSI or
    OSC code would rewrite the terminal, the summary or results.tsv), no line break."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())[:limit]


TEXT_LIMIT = 16 << 20  # an editable source file larger than this is not proposed


def read_text(root: Path, path: str) -> str | None:
    """A file's text, or None when it is missing, not UTF-8 text, or not a regular file
    within `root` (a proposer -- a process ladder does not trust -- may have left a
    symlink to what it may not read: ladder would read and commit it)."""
    data = read_regular(root / path, TEXT_LIMIT, inside=root)
    try:
        return None if data is None else data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def read_files(root: Path, paths: Sequence[str]) -> dict[str, str]:
    """The text of each readable file of `paths`, in their order."""
    out: dict[str, str] = {}
    for path in paths:
        text = read_text(root, path)
        if text is not None:
            out[path] = text
    return out


def safe_path(root: Path, path: str) -> str:
    """`path` as a clean repo-relative posix path, or an error when it leaves `root`."""
    clean = path.strip().replace("\\", "/")
    while clean.startswith("./"):
        clean = clean[2:]
    parts = clean.split("/")
    if not clean or clean.startswith("/") or ".." in parts or parts[0] == ".git":
        raise LadderError(f"path {path!r} is outside the repository", where=str(root))
    return clean


def check_options(kind: str, options: Mapping[str, object], known: Sequence[str]) -> None:
    """Unknown proposer options are errors naming the key (a typo must not be ignored)."""
    for key in options:
        if key not in known:
            raise LadderError(
                f"unknown option {key!r} for proposer {kind!r}",
                where="[tool.ladder.agent] proposer",
                todo=f"use one of: {', '.join(sorted(known))}",
            )


def changed_symbols(old: str, new: str) -> list[str]:
    """Best effort: names of the defs and assignments whose lines an edit touched.

    Lines are matched with difflib; the names come from `ast` of the new text (or the
    old text for deleted lines). A file that does not parse contributes no names.
    """
    old_lines, new_lines = old.splitlines(), new.splitlines()
    touched_old: set[int] = set()
    touched_new: set[int] = set()
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            touched_old.update(range(i1 + 1, max(i2, i1 + 1) + 1))
            touched_new.update(range(j1 + 1, max(j2, j1 + 1) + 1))
    names: dict[str, None] = {}
    for text, lines in ((new, touched_new), (old, touched_old)):
        for name in _names_at(text, lines):
            names[name] = None
    return list(names)


def _names_at(text: str, lines: set[int]) -> list[str]:
    if not lines:
        return []
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return []
    found: list[str] = []
    for node in ast.walk(tree):
        name = _node_name(node)
        if not name:
            continue
        start: int = getattr(node, "lineno", 0)
        end: int = getattr(node, "end_lineno", None) or start
        if any(start <= line <= end for line in lines):
            found.append(name)
    return found  # ast.walk is breadth first: enclosing defs come before what they hold


def _node_name(node: ast.AST) -> str:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node.name
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return ", ".join(ast.unparse(t) for t in targets)
    return ""
