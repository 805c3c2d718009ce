"""`forbid-call`: calls of one function are forbidden (`eval`, `os.system`, `torch.load`).

Caught: `os.system(x)`; through import aliases in the same file, `import os as o;
o.system(x)` and `from os import system; system(x)` (or `as run`). Not caught: calls
through assignments (`f = os.system; f()`), `getattr(os, "system")`, star imports, and
references that are not calls (passing `os.system` as a callback). A name that is
re-imported from elsewhere (`from mylib import eval`) is not the forbidden one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ladder.lesson import Case
from ladder.rules.templates._args import Arg, check_args
from ladder.rules.templates._check import (
    AstImportAliases,
    CheckFactory,
    ImportAliases,
    NodeCheck,
    dotted_ast,
    dotted_name,
)

ARGS = (
    Arg("name", "dotted", "the dotted name of the function whose calls are forbidden", '"os.system"'),
    Arg("message", "str", "the message shown when the rule fires", '"use subprocess.run"', required=False),
)


class ForbidCallCheck(NodeCheck, ImportAliases):
    rule_id = "forbid-call"

    def __init__(self, name: str, message: str) -> None:
        NodeCheck.__init__(self)
        ImportAliases.__init__(self)
        self.name = name
        self.message = message

    def visit_Call(self, node: Any) -> None:
        called = dotted_name(node.func)
        if called is not None and self.resolve(called) == self.name:
            self.report(node, self.message)


class ForbidCallAst(NodeCheck, AstImportAliases):
    """`ForbidCallCheck` over Python's `ast`."""

    rule_id = "forbid-call"

    def __init__(self, name: str, message: str) -> None:
        NodeCheck.__init__(self)
        AstImportAliases.__init__(self)
        self.name = name
        self.message = message

    def visit_Call(self, node: Any) -> None:
        called = dotted_ast(node.func)
        if called is not None and self.resolve(called) == self.name:
            self.report(node, self.message)


def _default_message(name: str) -> str:
    return f"call to {name}() is forbidden"


@dataclass(frozen=True)
class ForbidCall:
    name: str = "forbid-call"
    engine: str = "libcst"
    structural: bool = True
    summary: str = "Forbid calls of one function, e.g. `eval` or `os.system` (import aliases resolved)."

    def validate(self, args: Mapping[str, Any], where: str) -> dict[str, Any]:
        return check_args(self.name, ARGS, args, where)

    def generated_cases(self, args: Mapping[str, Any]) -> tuple[tuple[Case, ...], tuple[Case, ...]]:
        name: str = args["name"]
        module, _, last = name.rpartition(".")
        block: tuple[Case, ...]
        if module:
            block = (
                Case(f"import {module}\n\n{name}(x)\n", note="a direct call"),
                Case(f"from {module} import {last}\n\n{last}(x)\n", note="through a from-import"),
            )
        else:
            block = (Case(f"{name}(x)\n", note="a direct call"),)
        allow = (
            Case(f"helper.{last}(x)\n", note="a method of the same name on another object"),
            Case(f'# {name}(x) is mentioned, not called\ntext = "{name}(x)"\n', note="in a comment or string"),
        )
        return block, allow

    def describe(self, args: Mapping[str, Any]) -> str:
        text = f"Do not call `{args['name']}()`."
        if args.get("message"):
            text += f" {args['message']}"
        return text

    def make_check(self, args: Mapping[str, Any], root: Path, where: str) -> CheckFactory:
        name: str = args["name"]
        message: str = args.get("message") or _default_message(name)
        return lambda: ForbidCallCheck(name, message)

    def make_ast_check(self, args: Mapping[str, Any], root: Path, where: str) -> CheckFactory:
        name: str = args["name"]
        message: str = args.get("message") or _default_message(name)
        return lambda: ForbidCallAst(name, message)

    def needles(self, args: Mapping[str, Any]) -> tuple[str, ...]:
        # Every way of calling `os.system` the check resolves names `system` somewhere:
        # `os.system(x)`, `from os import system as run`.
        return (str(args["name"]).rpartition(".")[2],)


TEMPLATE = ForbidCall()
