"""`forbid-import`: a module (and its submodules) must not be imported (`pickle`).

Caught: `import pickle`, `import pickle.x`, `import pickle as p`, `from pickle import
loads`, `from pickle.x import y`; for a dotted module also `from os import path` when
`os.path` is forbidden. Not caught: relative imports (they name local modules),
`__import__("pickle")` and `importlib.import_module("pickle")`. `import pickled` is a
different module and is not flagged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ladder.lesson import Case
from ladder.rules.templates._args import Arg, check_args
from ladder.rules.templates._check import CheckFactory, NodeCheck, dotted_name

ARGS = (
    Arg("module", "dotted", "the module whose import is forbidden", '"pickle"'),
    Arg("message", "str", "the message shown when the rule fires", '"use json"', required=False),
)


class ForbidImportCheck(NodeCheck):
    rule_id = "forbid-import"

    def __init__(self, module: str, message: str) -> None:
        super().__init__()
        self.module = module
        self.message = message

    def _forbidden(self, name: str | None) -> bool:
        return name is not None and (name == self.module or name.startswith(self.module + "."))

    def visit_Import(self, node: Any) -> None:
        if any(self._forbidden(dotted_name(alias.name)) for alias in node.names):
            self.report(node, self.message)

    def visit_ImportFrom(self, node: Any) -> None:
        if node.relative or node.module is None:
            return
        module = dotted_name(node.module)
        if self._forbidden(module):
            self.report(node, self.message)
            return
        if module is None or type(node.names).__name__ == "ImportStar":
            return
        # `from os import path` imports the module os.path.
        if any(self._forbidden(f"{module}.{dotted_name(alias.name)}") for alias in node.names):
            self.report(node, self.message)


class ForbidImportAst(NodeCheck):
    """`ForbidImportCheck` over Python's `ast`."""

    rule_id = "forbid-import"

    def __init__(self, module: str, message: str) -> None:
        super().__init__()
        self.module = module
        self.message = message

    def _forbidden(self, name: str) -> bool:
        return name == self.module or name.startswith(self.module + ".")

    def visit_Import(self, node: Any) -> None:
        if any(self._forbidden(alias.name) for alias in node.names):
            self.report(node, self.message)

    def visit_ImportFrom(self, node: Any) -> None:
        if node.level or node.module is None:
            return
        if self._forbidden(node.module):
            self.report(node, self.message)
            return
        names = [alias.name for alias in node.names]
        if names == ["*"]:
            return
        if any(self._forbidden(f"{node.module}.{name}") for name in names):
            self.report(node, self.message)


@dataclass(frozen=True)
class ForbidImport:
    name: str = "forbid-import"
    engine: str = "libcst"
    structural: bool = True
    summary: str = "Forbid importing a module and its submodules, e.g. `pickle`."

    def validate(self, args: Mapping[str, Any], where: str) -> dict[str, Any]:
        return check_args(self.name, ARGS, args, where)

    def generated_cases(self, args: Mapping[str, Any]) -> tuple[tuple[Case, ...], tuple[Case, ...]]:
        module: str = args["module"]
        parent, _, last = module.rpartition(".")
        block = [
            Case(f"import {module}\n", note="a plain import"),
            Case(f"import {module} as alias\n", note="an aliased import"),
            Case(f"from {module} import something\n", note="a from-import"),
        ]
        if parent:
            block.append(Case(f"from {parent} import {last}\n", note="the submodule from its parent"))
        allow = (
            Case(f"import {module}_compat\n", note="a module whose name only starts the same"),
            Case(f"from . import {last}\n", note="a relative import names a local module"),
        )
        return tuple(block), allow

    def describe(self, args: Mapping[str, Any]) -> str:
        text = f"Do not import `{args['module']}` (or its submodules)."
        if args.get("message"):
            text += f" {args['message']}"
        return text

    def make_check(self, args: Mapping[str, Any], root: Path, where: str) -> CheckFactory:
        module: str = args["module"]
        message: str = args.get("message") or f"import of {module} is forbidden"
        return lambda: ForbidImportCheck(module, message)

    def make_ast_check(self, args: Mapping[str, Any], root: Path, where: str) -> CheckFactory:
        module: str = args["module"]
        message: str = args.get("message") or f"import of {module} is forbidden"
        return lambda: ForbidImportAst(module, message)

    def needles(self, args: Mapping[str, Any]) -> tuple[str, ...]:
        # Any import of `a.b` (`import a.b`, `from a import b`, `from a.b import c`)
        # names its top-level package.
        return (str(args["module"]).split(".")[0],)


TEMPLATE = ForbidImport()
