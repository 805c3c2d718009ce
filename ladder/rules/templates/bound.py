"""`bound`: a module-level constant must satisfy a comparison (`LR <= 0.05`).

Checked: assignments directly in the module body, `LR = 0.1`, `LR: float = 0.1` and
`A = LR = 0.1`, whose value is a number literal as `ast.literal_eval` reads it (`-1e-3`,
`1_000`, `(0.1)`). Not checked: values that are not number literals (`LR = BASE * 2`,
`LR = float(os.environ[...])`, strings, bools), assignments inside functions, classes or
`if` blocks, tuple unpacking (`LR, WD = 0.1, 0`) and augmented assignments. A file
without the constant passes.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ladder.lesson import Case
from ladder.numbers import literal_number
from ladder.rules.templates._args import Arg, bad_arg, check_args
from ladder.rules.templates._check import CheckFactory, NodeCheck, ident

OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
ARGS = (
    Arg("name", "ident", "the module-level constant to bound", '"LR"'),
    Arg("op", "str", f"a comparison, one of {' '.join(OPS)}", '"<="', choices=tuple(OPS)),
    Arg("value", "number", "the number the constant is compared with", "0.05"),
    Arg("message", "str", "the message shown when the rule fires", '"LR above 0.05 diverges"', required=False),
)
EXPR = Arg("expr", "str", "a comparison `NAME OP NUMBER`", '"LR <= 0.05"')
EXPR_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|==|!=|<|>)\s*(\S+)\s*$")


class BoundCheck(NodeCheck):
    rule_id = "bound"

    def __init__(self, name: str, op: str, value: float | int, message: str) -> None:
        super().__init__()
        self.name = name
        self.op = op
        self.compare = OPS[op]
        self.value = value
        self.message = message

    def visit_Module(self, module: Any) -> None:
        # Only the module body matters, so the check reads it here instead of visiting
        # every assignment in the file and tracking nesting.
        for statement in module.body:
            if type(statement).__name__ != "SimpleStatementLine":
                continue
            for small in statement.body:
                value = self._assigned(small)
                if value is not None:
                    self._check(module, small, value)

    def _assigned(self, small: Any) -> Any:
        kind = type(small).__name__
        if kind == "Assign":
            for target in small.targets:
                if type(target.target).__name__ == "Name" and ident(target.target.value) == self.name:
                    return small.value
        elif kind == "AnnAssign" and small.value is not None:
            target = small.target
            if type(target).__name__ == "Name" and ident(target.value) == self.name:
                return small.value
        return None

    def _check(self, module: Any, small: Any, value_node: Any) -> None:
        code = module.code_for_node(value_node)
        number = literal_number(code)
        if number is not None and not self.compare(number, self.value):
            self.report(small, self.message.format(actual=code.strip()))


class BoundAst(NodeCheck):
    """`BoundCheck` over Python's `ast`; the engine sets `source` (for the value's code)."""

    rule_id = "bound"
    source = ""

    def __init__(self, name: str, op: str, value: float | int, message: str) -> None:
        super().__init__()
        self.name = name
        self.compare = OPS[op]
        self.value = value
        self.message = message

    def visit_Module(self, module: Any) -> None:
        for statement in module.body:
            value = self._assigned(statement)
            if value is None:
                continue
            code = ast_segment(self.source, value)
            number = literal_number(code)
            if number is not None and not self.compare(number, self.value):
                self.report(statement, self.message.format(actual=code.strip()))

    def _assigned(self, statement: Any) -> Any:
        kind = type(statement).__name__
        if kind == "Assign":
            for target in statement.targets:
                if type(target).__name__ == "Name" and target.id == self.name:
                    return statement.value
        elif kind == "AnnAssign" and statement.value is not None:
            target = statement.target
            if type(target).__name__ == "Name" and target.id == self.name:
                return statement.value
        return None


def ast_segment(source: str, node: Any) -> str:
    """The source text of an `ast` node ("" when it cannot be found). Unlike libcst's,
    it leaves out parentheses around the value: `(0.5)` reads `0.5`, the same number."""
    import ast

    return ast.get_source_segment(source, node) or ""


def _parse_expr(args: Mapping[str, Any], where: str) -> dict[str, Any]:
    expr = args["expr"]
    clash = sorted({"name", "op", "value"} & set(args))
    if clash:
        raise bad_arg("bound", clash[0], "cannot be given together with 'expr'", where)
    match = EXPR_RE.match(expr) if isinstance(expr, str) else None
    if match is None:
        raise bad_arg("bound", EXPR, f"is {expr!r}", where)
    rest = {k: v for k, v in args.items() if k != "expr"}
    return {**rest, "name": match.group(1), "op": match.group(2), "value": match.group(3)}


@dataclass(frozen=True)
class Bound:
    name: str = "bound"
    engine: str = "libcst"
    structural: bool = True
    summary: str = "A module-level constant must satisfy a comparison, e.g. `LR <= 0.05`."

    def validate(self, args: Mapping[str, Any], where: str) -> dict[str, Any]:
        if "expr" in args:
            args = _parse_expr(args, where)
        elif not {"name", "op", "value"} & set(args):
            raise bad_arg(self.name, EXPR, "is missing (or give name, op and value)", where)
        return check_args(self.name, ARGS, args, where)

    def generated_cases(self, args: Mapping[str, Any]) -> tuple[tuple[Case, ...], tuple[Case, ...]]:
        name, op, value = args["name"], args["op"], args["value"]
        bad, good = _violating(op, value), _satisfying(op, value)
        block = (
            Case(f"{name} = {bad!r}\n", note="a violating constant"),
            Case(f"{name}: float = {bad!r}\n", note="an annotated violating constant"),
        )
        allow = (
            Case(f"{name} = {good!r}\n", note="a constant within the bound"),
            Case(f"def f():\n    {name} = {bad!r}\n    return {name}\n", note="a local variable, not the constant"),
        )
        return block, allow

    def describe(self, args: Mapping[str, Any]) -> str:
        return f"The module constant `{args['name']}` must satisfy `{args['name']} {args['op']} {args['value']!r}`."

    def make_check(self, args: Mapping[str, Any], root: Path, where: str) -> CheckFactory:
        name: str = args["name"]
        op: str = args["op"]
        value: float | int = args["value"]
        # `{actual}` is filled with the offending value's code when the rule fires.
        default = f"{name} = {{actual}} violates {name} {op} {value!r}"
        message: str = args.get("message") or default
        if args.get("message"):
            message = message.replace("{", "{{").replace("}", "}}")
        return lambda: BoundCheck(name, op, value, message)

    def make_ast_check(self, args: Mapping[str, Any], root: Path, where: str) -> CheckFactory:
        ast_message = self.make_check(args, root, where)().message  # the one message rule
        name: str = args["name"]
        return lambda: BoundAst(name, args["op"], args["value"], ast_message)

    def needles(self, args: Mapping[str, Any]) -> tuple[str, ...]:
        return (str(args["name"]),)


def _step(value: float | int) -> float | int:
    return 1 if isinstance(value, int) else max(abs(value), 1.0)


def _violating(op: str, value: float | int) -> float | int:
    """A number the comparison rejects."""
    if op in ("<", "<=", "=="):
        return value + _step(value)
    if op in (">", ">="):
        return value - _step(value)
    return value  # "!="


def _satisfying(op: str, value: float | int) -> float | int:
    """A number the comparison accepts."""
    if op in ("<", "!="):
        return value - _step(value)
    if op == ">":
        return value + _step(value)
    return value  # "<=", ">=", "=="


TEMPLATE = Bound()
