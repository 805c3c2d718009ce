"""`require-call`: every function named F must call G (`generate` must call `validate_input`).

Every `def F` (module function, method, nested function; async too) must contain, anywhere
in its body, a call whose callee is `G` or ends with `.G` (`self.G(x)`, `checks.G(x)`).
"Anywhere" is textual: a call inside a nested function or lambda counts, and so does a
call on a branch that may not run; the rule proves the call was not dropped, not that
it always happens. The finding points at the `def` line.

Stubs declare a signature and have no body to call anything from, so they are skipped:
a def decorated with `typing.overload` (or `typing_extensions.overload`, under any
import alias), a def whose body is only `...` after an optional docstring, and a method
defined directly in a class that inherits from `Protocol` (`typing.Protocol`,
`typing_extensions.Protocol`, `Protocol[T]`). pydantic-ai's `@overload` stubs were 8 of
this rule's 12 findings there (issue 13). Outside a Protocol, a `pass` or docstring-only
body is not a stub: it is code that dropped the call.
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
    NameOf,
    NodeCheck,
    dotted_ast,
    dotted_name,
    ident,
)

ARGS = (
    Arg("function", "ident", "the name of the function that must make the call", '"generate"'),
    Arg("calls", "dotted", "the function it must call", '"validate_input"'),
    Arg("message", "str", "the message shown when the rule fires", '"validate first"', required=False),
)


OVERLOADS = frozenset({"overload", "typing.overload", "typing_extensions.overload"})
PROTOCOLS = frozenset({"Protocol", "typing.Protocol", "typing_extensions.Protocol"})


def _small_statements(body: Any) -> list[Any] | None:
    """The simple statements of a def's body; None when it holds a compound one (`if`)."""
    if type(body).__name__ == "SimpleStatementSuite":  # `def f(): ...` on one line
        return list(body.body)
    out: list[Any] = []
    for line in body.body:
        if type(line).__name__ != "SimpleStatementLine":
            return None
        out.extend(line.body)
    return out


def _expr_kind(statement: Any) -> str:
    """`Ellipsis`, `SimpleString`, ... for a bare expression statement; "" for others."""
    return type(statement.value).__name__ if type(statement).__name__ == "Expr" else ""


def ellipsis_body(node: Any) -> bool:
    """The def's body is `...`, optionally after a docstring: a signature, not code."""
    statements = _small_statements(node.body)
    if not statements:
        return False
    kinds = [_expr_kind(s) for s in statements]
    if kinds[0] in ("SimpleString", "ConcatenatedString"):
        kinds = kinds[1:]
    return bool(kinds) and all(kind == "Ellipsis" for kind in kinds)


def _base(arg: Any) -> Any:
    """The class named by a base: `typing.Protocol` for `typing.Protocol[T]`; None for a
    keyword (`metaclass=ABCMeta`)."""
    if arg.keyword is not None:
        return None
    value = arg.value
    return value.value if type(value).__name__ == "Subscript" else value


class RequireCallCheck(NodeCheck, ImportAliases):
    rule_id = "require-call"

    def __init__(self, function: str, calls: str, message: str) -> None:
        NodeCheck.__init__(self)
        ImportAliases.__init__(self)
        self.function = function
        self.calls = calls
        self.suffix = "." + calls
        self.message = message
        self.open: list[list[Any]] = []  # [def node, seen the call?] for each enclosing def F
        # For each enclosing class or def, innermost last: is it a Protocol's body?
        self.scopes: list[bool] = []

    def _resolved(self, node: Any) -> str | None:
        """The full dotted name `node` refers to (through the file's imports), if a name."""
        name = None if node is None else dotted_name(node)
        return None if name is None else self.resolve(name)

    def visit_ClassDef(self, node: Any) -> None:
        self.scopes.append(any(self._resolved(_base(arg)) in PROTOCOLS for arg in node.bases))

    def leave_ClassDef(self, node: Any) -> None:
        self.scopes.pop()

    def is_stub(self, node: Any) -> bool:
        if self.scopes and self.scopes[-1]:
            return True  # a Protocol member describes what implementations provide
        if any(self._resolved(d.decorator) in OVERLOADS for d in node.decorators):
            return True
        return ellipsis_body(node)

    def visit_FunctionDef(self, node: Any) -> None:
        if ident(node.name.value) == self.function and not self.is_stub(node):
            self.open.append([node, False])
        self.scopes.append(False)

    def leave_FunctionDef(self, node: Any) -> None:
        self.scopes.pop()
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


def _ast_ellipsis_body(node: Any) -> bool:
    """`ellipsis_body` for an `ast` def: only `...`, optionally after a docstring."""
    body = list(node.body)
    if any(type(s).__name__ != "Expr" or type(s.value).__name__ != "Constant" for s in body):
        return False
    values = [s.value.value for s in body]
    if values and isinstance(values[0], (str, bytes)):
        values = values[1:]
    return bool(values) and all(v is Ellipsis for v in values)


class RequireCallAst(NodeCheck, AstImportAliases):
    """`RequireCallCheck` over Python's `ast` (async defs are their own node type there)."""

    rule_id = "require-call"

    def __init__(self, function: str, calls: str, message: str) -> None:
        NodeCheck.__init__(self)
        AstImportAliases.__init__(self)
        self.function = function
        self.calls = calls
        self.suffix = "." + calls
        self.message = message
        self.open: list[list[Any]] = []
        self.scopes: list[bool] = []

    def _resolved(self, node: Any) -> str | None:
        name = dotted_ast(node)
        return None if name is None else self.resolve(name)

    def visit_ClassDef(self, node: Any) -> None:
        bases = [b.value if type(b).__name__ == "Subscript" else b for b in node.bases]
        self.scopes.append(any(self._resolved(b) in PROTOCOLS for b in bases))

    def leave_ClassDef(self, node: Any) -> None:
        self.scopes.pop()

    def is_stub(self, node: Any) -> bool:
        if self.scopes and self.scopes[-1]:
            return True
        if any(self._resolved(d) in OVERLOADS for d in node.decorator_list):
            return True
        return _ast_ellipsis_body(node)

    def visit_FunctionDef(self, node: Any) -> None:
        if node.name == self.function and not self.is_stub(node):
            self.open.append([node, False])
        self.scopes.append(False)

    def leave_FunctionDef(self, node: Any) -> None:
        self.scopes.pop()
        if self.open and self.open[-1][0] is node:
            _, seen = self.open.pop()
            if not seen:
                self.report(NameOf(node, node.name), self.message)

    visit_AsyncFunctionDef = visit_FunctionDef
    leave_AsyncFunctionDef = leave_FunctionDef

    def visit_Call(self, node: Any) -> None:
        if not self.open:
            return
        called = dotted_ast(node.func)
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
            # Stubs have no body to call from (issue 13): they declare a signature.
            Case(
                f"from typing import overload\n\n\n@overload\ndef {f}(x: int) -> int: ...\n"
                f"@overload\ndef {f}(x: str) -> str: ...\n"
                f"def {f}(x):\n    {g}(x)\n    return x\n",
                note="@overload stubs (the implementation makes the call)",
            ),
            Case(
                f"from typing import Protocol\n\n\nclass Service(Protocol):\n"
                f'    def {f}(self, x):\n        """What implementations return."""\n',
                note="a Protocol member (whatever its body)",
            ),
            Case(f'def {f}(x):\n    """Subclasses implement it."""\n    ...\n', note="a body of only `...`"),
        )
        return block, allow

    def describe(self, args: Mapping[str, Any]) -> str:
        return f"Every function `{args['function']}()` must call `{args['calls']}()`."

    def make_check(self, args: Mapping[str, Any], root: Path, where: str) -> CheckFactory:
        function: str = args["function"]
        calls: str = args["calls"]
        message: str = args.get("message") or f"{function}() must call {calls}()"
        return lambda: RequireCallCheck(function, calls, message)

    def make_ast_check(self, args: Mapping[str, Any], root: Path, where: str) -> CheckFactory:
        function: str = args["function"]
        calls: str = args["calls"]
        message: str = args.get("message") or f"{function}() must call {calls}()"
        return lambda: RequireCallAst(function, calls, message)

    def needles(self, args: Mapping[str, Any]) -> tuple[str, ...]:
        return (str(args["function"]),)  # the rule is about `def F`


TEMPLATE = RequireCall()
