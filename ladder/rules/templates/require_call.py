"""`require-call`: every function named F must call G (`generate` must call `validate_input`).

Every `def F` (module function, method, nested function; async too) must contain, anywhere
in its body, a call whose callee is `G` or ends with `.G` (`self.G(x)`, `checks.G(x)`).
"Anywhere" is textual: a call inside a nested function or lambda counts, and so does a
call on a branch that may not run; the rule proves the call was not dropped, not that
it always happens. The finding points at the `def` line.
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
    Arg("function", "ident", "the name of the function that must make the call", '"generate"'),
    Arg("calls", "dotted", "the function it must call", '"validate_input"'),
    Arg("message", "str", "the message shown when the rule fires", '"validate first"', required=False),
)


class RequireCallCheck(NodeCheck):
    rule_id = "require-call"

    def __init__(self, function: str, calls: str, message: str) -> None:
        super().__init__()
        self.function = function
        self.calls = calls
        self.suffix = "." + calls
        self.message = message
        self.open: list[list[Any]] = []  # [def node, seen the call?] for each enclosing def F

    def visit_FunctionDef(self, node: Any) -> None:
        if node.name.value == self.function:
            self.open.append([node, False])

    def leave_FunctionDef(self, node: Any) -> None:
        if self.open and self.open[-1][0] is node:
            _, seen = self.open.pop()
            if not seen:
                self.report(node.name, self.message)

    def visit_Call(self, node: Any) -> None:
        if not self.open:
            return
        called = dotted_name(node.func)
        if called is not None and (called == self.calls or called.endswith(self.suffix)):
            for frame in self.open:
                frame[1] = True


@dataclass(frozen=True)
class RequireCall:
    name: str = "require-call"
    engine: str = "libcst"
    structural: bool = True
    summary: str = "Every function named F must call G, e.g. `generate` must call `validate_input`."

    def validate(self, args: Mapping[str, Any], where: str) -> dict[str, Any]:
        return check_args(self.name, ARGS, args, where)

    def generated_cases(self, args: Mapping[str, Any]) -> tuple[tuple[Case, ...], tuple[Case, ...]]:
        f: str = args["function"]
        g: str = args["calls"]
        block = (
            Case(f"def {f}(x):\n    return x\n", note=f"{f} without the call"),
            Case(
                f"class Service:\n    def {f}(self, x):\n        return x\n",
                note="a method without the call",
            ),
        )
        allow = (
            Case(f"def {f}(x):\n    {g}(x)\n    return x\n", note="a direct call"),
            Case(
                f"class Service:\n    def {f}(self, x):\n        self.{g}(x)\n        return x\n",
                note="a call through self",
            ),
            Case("def other(x):\n    return x\n", note="other functions are not concerned"),
        )
        return block, allow

    def describe(self, args: Mapping[str, Any]) -> str:
        return f"Every function `{args['function']}()` must call `{args['calls']}()`."

    def make_check(self, args: Mapping[str, Any], root: Path, where: str) -> CheckFactory:
        function: str = args["function"]
        calls: str = args["calls"]
        message: str = args.get("message") or f"{function}() must call {calls}()"
        return lambda: RequireCallCheck(function, calls, message)


TEMPLATE = RequireCall()
