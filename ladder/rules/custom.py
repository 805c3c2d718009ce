"""Base class for users' own libcst checks (the `custom` template), Fixit-style.

    # checks/no_print.py
    import libcst as cst
    from ladder.rules.custom import LadderCheck

    class NoPrint(LadderCheck):
        MESSAGE = "use logging, not print()"
        VALID = ["log.info('x')\\n"]
        INVALID = ["print('x')\\n"]

        def visit_Call(self, node: cst.Call) -> None:
            if isinstance(node.func, cst.Name) and node.func.value == "print":
                self.report(node)

and the lesson's rule: `template = "custom"`, `check = "checks.no_print:NoPrint"` (imported
with the repository root on sys.path). VALID and INVALID are the rule's own allow and
block cases (strings, or objects with a `code` attribute such as Fixit's Valid/Invalid).

The engine runs every check of every lesson in one traversal per file, so:
`visit_<Node>` and `leave_<Node>` are called, but their return values are ignored
(children are always visited, as in libcst's batched visitors), and attribute hooks
(`visit_<Node>_<attribute>`) are not supported. A fresh instance checks each file.
METADATA_DEPENDENCIES work as in libcst (resolved once per file, only for the checks
that declare them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import libcst as cst


class LadderCheck(cst.CSTVisitor):
    MESSAGE: ClassVar[str] = ""
    VALID: ClassVar[Sequence[Any]] = ()  # code the check must accept
    INVALID: ClassVar[Sequence[Any]] = ()  # code the check must flag

    def __init__(self) -> None:
        super().__init__()
        self.reports: list[tuple[cst.CSTNode, str]] = []

    @property
    def rule_id(self) -> str:
        return type(self).__name__

    def report(self, node: cst.CSTNode, message: str | None = None) -> None:
        """Flag `node`; the message defaults to the class's MESSAGE."""
        self.reports.append((node, message or self.MESSAGE or f"{type(self).__name__} violated"))
