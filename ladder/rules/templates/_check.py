"""What the libcst templates compile to: small checks the libcst engine drives.

A check has `visit_<Node>` / `leave_<Node>` methods named after libcst node classes
(`visit_Call`, `leave_FunctionDef`) and records `(node, message)` pairs with
`report`. The engine (`ladder.rules.libcst_engine`) runs every check of every lesson
in one traversal of each file and turns reports into findings, computing positions
only for files that have some.

Checks look at nodes by their class *name* and attributes, not with isinstance, so this
module and the template modules never import libcst (a hook that touches no Python
file must not pay for it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

CheckFactory = Callable[[], Any]  # a fresh check object per file


class NodeCheck:
    """Base of the template checks: a rule id and the reports of one file."""

    rule_id = "libcst"

    def __init__(self) -> None:
        self.reports: list[tuple[Any, str]] = []

    def report(self, node: Any, message: str) -> None:
        self.reports.append((node, message))


def dotted_name(node: Any) -> str | None:
    """`os.path.join` for Attribute(Attribute(Name)) chains, `eval` for a Name, else None."""
    parts: list[str] = []
    while True:
        kind = type(node).__name__
        if kind == "Name":
            parts.append(node.value)
            return ".".join(reversed(parts))
        if kind != "Attribute":
            return None
        parts.append(node.attr.value)
        node = node.value


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
                self.names[alias.asname.name.value] = full
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
                local = alias.asname.name.value
            self.names[local] = f"{module}.{name}"

    def resolve(self, dotted: str) -> str:
        head, dot, rest = dotted.partition(".")
        target = self.names.get(head)
        if target is None:
            return dotted
        return f"{target}{dot}{rest}"
