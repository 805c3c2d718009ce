"""What the libcst templates compile to: small checks the libcst engine drives.

A check has `visit_<Node>` / `leave_<Node>` methods named after libcst node classes
(`visit_Call`, `leave_FunctionDef`) and records `(node, message)` pairs with
`report`. The engine (`ladder.rules.libcst_engine`) runs every check of every lesson
in one traversal of each file and turns reports into findings, computing positions
only for files that have some.

Checks look at nodes by their class *name* and attributes, not with isinstance, so this
module and the template modules never import libcst (a hook that touches no Python
file must not pay for it).

The built-in templates also have a check over Python's own `ast` (`make_ast_check`):
CPython's parser is ~7x faster than libcst's, and on a whole-tree scan the parse is
nearly all the cost (issue 13: 921 files took 35 s). The engine uses it for a file when
every rule applicable there has one and the file parses; the libcst check stays the
reference (custom checks, the grammar libcst knows and the running Python does not).
The two agree on every case of the templates (tests/test_rules_ast.py).

Identifiers are compared as Python reads them, NFKC-normalized (PEP 3131): `eval`
spelled with a fullwidth `e` calls `eval`. CPython's `ast` normalizes by itself; libcst keeps the source text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

CheckFactory = Callable[[], Any]  # a fresh check object per file


class NodeCheck:
    """Base of the template checks: a rule id and the reports of one file."""

    rule_id = "libcst"

    def __init__(self) -> None:
        self.reports: list[tuple[Any, str]] = []

    def report(self, node: Any, message: str) -> None:
        self.reports.append((node, message))


def ident(value: str) -> str:
    """An identifier as Python reads it (NFKC, PEP 3131): a fullwidth `e` + `val` is `eval`."""
    return value if value.isascii() else unicodedata.normalize("NFKC", value)


def dotted_name(node: Any) -> str | None:
    """`os.path.join` for Attribute(Attribute(Name)) chains, `eval` for a Name, else None."""
    parts: list[str] = []
    while True:
        kind = type(node).__name__
        if kind == "Name":
            parts.append(ident(node.value))
            return ".".join(reversed(parts))
        if kind != "Attribute":
            return None
        parts.append(ident(node.attr.value))
        node = node.value


def dotted_ast(node: Any) -> str | None:
    """`dotted_name` for Python's `ast` nodes (whose identifiers are normalized already)."""
    parts: list[str] = []
    while True:
        kind = type(node).__name__
        if kind == "Name":
            parts.append(node.id)
            return ".".join(reversed(parts))
        if kind != "Attribute":
            return None
        parts.append(node.attr)
        node = node.value


class NameOf:
    """Report position: the name of an `ast` def or class (`ast` gives only the `def`)."""

    def __init__(self, node: Any, name: str) -> None:
        self.node = node
        self.name = name


# PEP 263's encoding declaration, on one of the first two lines.
_CODING = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.MULTILINE)
_UTF8 = frozenset({"utf-8", "utf8", "utf_8", "ascii", "us-ascii"})


def foreign_encoding(source: str) -> bool:
    """Does the file declare an encoding other than UTF-8? Python then reads other
    text than we do: in UTF-7, `+AGU-val(x)` is `eval(x)`."""
    head = "\n".join(source.split("\n", 2)[:2])
    found = _CODING.search(head)
    return found is not None and found.group(1).lower().replace("_", "-") not in _UTF8


def searchable(source: str) -> str:
    """`source` as the needle search must see it: non-ASCII text NFKC-normalized, as
    Python's tokenizer normalizes identifiers (computed once per file, not per rule)."""
    return ident(source)


def may_contain(text: str, needles: Sequence[str]) -> bool:
    """Could a rule that needs one of `needles` (identifiers) fire in a file whose
    `searchable` text is `text`?

    A sound prefilter: a rule about `eval` cannot fire on a file where the identifier
    never occurs, whatever the file's syntax. The text is the file as Python reads it
    (the engine decodes a declared foreign encoding first)."""
    return any(needle in text for needle in needles)


class ImportAliases:
    """Local names bound by the imports seen so far: `sp` -> `subprocess`, `system` -> `os.system`.

    Cheap resolution only: imports anywhere in the file, in traversal order; no scopes,
    no assignments (`f = os.system`), no star imports, no relative imports.
    """

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def visit_Import(self, node: Any) -> None:
        for alias in node.names:
            full = dotted_name(alias.name)
            if full is None:
                continue
            if alias.asname is not None and type(alias.asname.name).__name__ == "Name":
                self.names[ident(alias.asname.name.value)] = full
            else:
                top = full.split(".")[0]
                self.names[top] = top

    def visit_ImportFrom(self, node: Any) -> None:
        if node.relative or node.module is None or type(node.names).__name__ == "ImportStar":
            return
        module = dotted_name(node.module)
        if module is None:
            return
        for alias in node.names:
            name = dotted_name(alias.name)
            if name is None:
                continue
            local = name
            if alias.asname is not None and type(alias.asname.name).__name__ == "Name":
                local = ident(alias.asname.name.value)
            self.names[local] = f"{module}.{name}"

    def resolve(self, dotted: str) -> str:
        head, dot, rest = dotted.partition(".")
        target = self.names.get(head)
        if target is None:
            return dotted
        return f"{target}{dot}{rest}"


class AstImportAliases(ImportAliases):
    """`ImportAliases` over Python's `ast` nodes."""

    def visit_Import(self, node: Any) -> None:
        for alias in node.names:
            if alias.asname is not None:
                self.names[alias.asname] = alias.name
            else:
                top = alias.name.split(".")[0]
                self.names[top] = top

    def visit_ImportFrom(self, node: Any) -> None:
        if node.level or node.module is None:
            return
        for alias in node.names:
            if alias.name == "*":
                return
            self.names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
