"""A statement deleted from a function, found from the files alone: what a deletion lesson keeps.

Issue 14: a statement deletion that crashed in two runs stayed a prose lesson, and the
third run evaluated it again. To be the *same* failure whoever proposed it (the `mutate`
proposer, a coding agent, an LLM), a deletion is recognised from the text before and
after, not from a proposer's features: both versions are normalised by `ast.unparse`
(formatting, comments and quotes do not count), and the change must be exactly one
simple statement gone from one function (or replaced by `pass`, as `mutate` leaves an
emptied block). Its identity is the file, the function's qualified name and the
normalised statement, so `x = standardize( x )  # scale` deleted by hand and by `mutate`
are one failure, and `x = standardize(x)` deleted from another function is another.

The functions before and after (normalised, docstring dropped) become the lesson's allow
and block cases: every line of them is the parent's code, which ran; nothing the
candidate wrote (it only removed a line) reaches a lesson.
"""

from __future__ import annotations

import ast
import builtins
import difflib
from collections.abc import Mapping
from dataclasses import dataclass

MAX_STATEMENT = 160  # a longer statement is no lesson material: the title quotes it
_BUILTINS = frozenset(dir(builtins))


@dataclass(frozen=True)
class Deletion:
    file: str
    function: str  # the def's own name (what `require-call` and a semgrep `def` match)
    qualname: str  # `Model.fit` for a method, `fit` for a function
    statement: str  # the deleted statement, normalised
    # A call of the statement the function no longer makes anywhere (`standardize`,
    # `np.zeros`): `require-call` then tells the deletion apart. "" when there is none.
    call: str
    target: str  # the name it assigns ("" for a bare call)
    before: str  # the function as it was, normalised: it ran (an allow case)
    after: str  # the function without the statement: it failed (a block case)

    @property
    def key(self) -> str:
        """What makes two deletions the same: file, function, statement."""
        return f"{self.file}|{self.qualname}|{self.statement}"

    @property
    def symbol(self) -> str:
        """The name a lesson's title and id use: the call, else the target."""
        return self.call or self.target


def find_deletion(before: Mapping[str, str], after: Mapping[str, str]) -> Deletion | None:
    """The one statement deleted between `before` and `after` (None for any other change)."""
    changed = [p for p in sorted(set(before) | set(after)) if before.get(p) != after.get(p)]
    if len(changed) != 1 or not changed[0].endswith(".py"):
        return None
    path = changed[0]
    old, new = before.get(path), after.get(path)
    if old is None or new is None:
        return None
    a, b = _normalised(old), _normalised(new)
    if a is None or b is None:
        return None
    line = _deleted_line(a[0], b[0])
    return None if line is None else _deletion(path, a[1], b[1], line)


def _normalised(text: str) -> tuple[list[str], ast.Module] | None:
    """The module's normalised lines, and its tree parsed from them (line numbers match)."""
    try:
        code = ast.unparse(ast.parse(text))
        return code.splitlines(), ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _deleted_line(a: list[str], b: list[str]) -> int | None:
    """The 1-based line of `a` that `b` lacks, when that is the only difference."""
    ops = [op for op in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
           if op[0] != "equal"]
    if len(ops) != 1:
        return None
    tag, i1, i2, j1, j2 = ops[0]
    if tag == "delete" and i2 - i1 == 1:
        return i1 + 1
    if tag == "replace" and i2 - i1 == 1 and j2 - j1 == 1 and b[j1].strip() == "pass":
        return i1 + 1  # the block it emptied got a `pass`
    return None


def _deletion(path: str, old: ast.Module, new: ast.Module, line: int) -> Deletion | None:
    found = _statement_at(old, line)
    if found is None:
        return None
    stmt, scope = found
    statement = ast.unparse(stmt)
    if len(statement) > MAX_STATEMENT or _is_docstring(stmt):
        return None
    after_fn = _function(new, scope.qualname)
    if after_fn is None:
        return None
    call = next((c for c in _statement_calls(stmt) if not _calls(after_fn, c)), "")
    return Deletion(
        file=path, function=scope.node.name, qualname=scope.qualname, statement=statement,
        call=call, target=_target(stmt), before=_case_code(scope.node), after=_case_code(after_fn),
    )


@dataclass(frozen=True)
class _Scope:
    node: ast.FunctionDef | ast.AsyncFunctionDef
    qualname: str


def _statement_at(module: ast.Module, line: int) -> tuple[ast.stmt, _Scope] | None:
    """The one-line simple statement at `line` and its innermost enclosing function."""
    for scope in _functions(module):
        for node in ast.walk(scope.node):
            if (isinstance(node, ast.stmt) and node.lineno == line and node.end_lineno == line
                    and not _compound(node) and _innermost(scope, node)):
                return node, scope
    return None


def _functions(module: ast.Module) -> list[_Scope]:
    """Every def of the module with its qualified name (`Class.method`, `outer.inner`)."""
    out: list[_Scope] = []

    def walk(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                out.append(_Scope(node, prefix + node.name))
                walk(node.body, f"{prefix}{node.name}.")
            elif isinstance(node, ast.ClassDef):
                walk(node.body, f"{prefix}{node.name}.")
            elif hasattr(node, "body") and isinstance(node.body, list):
                walk(node.body, prefix)  # a def under `if`, `try`, ...

    walk(module.body, "")
    return out


def _innermost(scope: _Scope, stmt: ast.stmt) -> bool:
    """`stmt` belongs to this def itself, not to a def nested in it."""
    for node in ast.walk(scope.node):
        if node is not scope.node and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                and any(n is stmt for n in ast.walk(node)):
            return False
    return True


def _compound(node: ast.stmt) -> bool:
    return any(isinstance(getattr(node, f, None), list) and getattr(node, f)
               for f in ("body", "orelse", "finalbody", "handlers", "cases"))


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) \
        and isinstance(stmt.value.value, str)


def _function(module: ast.Module, qualname: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    return next((s.node for s in _functions(module) if s.qualname == qualname), None)


def dotted(node: ast.expr) -> str:
    """`np.zeros` for `np.zeros`, `self.fit` for `self.fit`; "" for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = dotted(node.value)
        return f"{head}.{node.attr}" if head else ""
    return ""


def _statement_calls(stmt: ast.stmt) -> list[str]:
    """The calls a statement makes, outermost first (`x = f(g(x))`: f, g), builtins left
    out: "fit() must call len()" would say nothing about what was deleted."""
    out = [dotted(n.func) for n in ast.walk(stmt) if isinstance(n, ast.Call)]
    return [c for c in dict.fromkeys(out) if c and c not in _BUILTINS]


def _target(stmt: ast.stmt) -> str:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        return dotted(stmt.targets[0])
    if isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
        return dotted(stmt.target)
    return ""


def _calls(fn: ast.AST, name: str) -> bool:
    """`fn` calls `name` as `require-call` sees it: the callee is it or ends with `.name`."""
    suffix = "." + name
    return any(isinstance(n, ast.Call) and (c := dotted(n.func)) and (c == name or c.endswith(suffix))
               for n in ast.walk(fn))


def _case_code(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """The def as a case: normalised, its docstring dropped (prose is no evidence)."""
    body = fn.body[1:] if len(fn.body) > 1 and _is_docstring(fn.body[0]) else fn.body
    copy = type(fn)(**{**{f: getattr(fn, f) for f in fn._fields}, "body": body})
    return ast.unparse(ast.fix_missing_locations(copy)) + "\n"


def function_case(text: str, name: str, line: int) -> str:
    """The innermost def called `name` around `line` of `text`, as a case ("" when there
    is none): what a scoped bound's cases hold, so the changed literal is in its def."""
    try:
        module = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ""
    around = [s.node for s in _functions(module) if s.node.name == name
              and s.node.lineno <= line <= (s.node.end_lineno or s.node.lineno)]
    return _case_code(max(around, key=lambda n: n.lineno)) if around else ""
