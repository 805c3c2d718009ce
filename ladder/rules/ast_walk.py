"""The fast path of the libcst engine: the built-in templates' checks over Python's `ast`.

CPython's parser builds an `ast` tree about 7x faster than libcst builds its concrete
tree, and a whole-tree scan is mostly parsing (issue 13). `check_source` parses once,
drives every check with the engine's `Dispatcher` (handlers by node class name, the
same visit/leave protocol), and turns reports into findings. It returns None when the
file does not parse here: the libcst path then decides (its grammar may know syntax the
running Python does not, and it reports the parse error the users already know).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from typing import Any

from ladder.findings import Finding
from ladder.lesson import Lesson
from ladder.rules.templates._check import NameOf

_LINES = re.compile(r"\r\n|\r|\n")


def walk(tree: ast.AST, dispatcher: Any) -> None:
    """Visit `tree` and its descendants in source order, leaving each after its children
    (iterative: a deeply nested expression cannot hit the recursion limit here)."""
    leave = dispatcher.leave
    stack: list[Any] = [tree]
    while stack:
        node = stack.pop()
        if type(node) is tuple:
            dispatcher.on_leave(node[0])
            continue
        dispatcher.on_visit(node)
        if type(node).__name__ in leave:
            stack.append((node,))
        children = list(ast.iter_child_nodes(node))
        children.reverse()
        stack.extend(children)


def parse(source: str) -> ast.Module | None:
    """The module, or None when CPython cannot parse it (syntax, null bytes, depth)."""
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _column(lines: Sequence[str], line: int, byte_offset: int) -> int:
    """The 1-based character column of a UTF-8 byte offset (what `ast` gives)."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    if text.isascii():
        return byte_offset + 1
    return len(text.encode("utf-8")[:byte_offset].decode("utf-8", "replace")) + 1


def _name_column(lines: Sequence[str], at: NameOf) -> tuple[int, int]:
    """Where the name of a def or class is: on its `def`/`class` line, after the keyword."""
    line = int(at.node.lineno)
    start = _column(lines, line, int(at.node.col_offset)) - 1
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    found = re.compile(r"\b" + re.escape(at.name) + r"\b").search(text, start)
    return line, (found.start() + 1) if found else start + 1


def position(lines: Sequence[str], node: Any) -> tuple[int, int]:
    if isinstance(node, NameOf):
        return _name_column(lines, node)
    line = int(getattr(node, "lineno", 1))
    return line, _column(lines, line, int(getattr(node, "col_offset", 0)))


def findings(source: str, checks: Sequence[tuple[Any, Lesson]], path: str) -> list[Finding]:
    """The reports of `checks` (already walked) as findings, positions resolved."""
    lines = _LINES.split(source)
    out: list[Finding] = []
    for check, lesson in checks:
        for node, message in check.reports:
            line, column = position(lines, node)
            out.append(Finding(check.rule_id, lesson.id, path, line, column, message))
    return out
