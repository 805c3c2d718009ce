"""Extraction: the generalised pattern of a change, from a proposal and the files it changed.

- A `mutate` proposal carries its features (operator, file, symbol, function, old, new):
  the pattern is the kind of change (`number`, `flip`, `choice`, `delete`), the symbol,
  its scope, the direction (`up`, `down`, the new value) and, for numbers, the relative
  magnitude (new/old).
- Any other proposal (an agent's edit, a crossover) is diffed with libcst, top-level
  definition by definition: a constant that went up or down or changed, a call added to
  or removed from a function, a function changed or replaced, a definition or an import
  added or removed. The pattern is that set of (symbol, change), plus the proposer's own
  description.

`moves` gives the numeric constant changes both kinds share: the failure lessons bound
them (`LR` above 0.3 crashed twice).
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import libcst as cst

from ladder.agent.proposers.mutate import OPERATORS, direction
from ladder.agent.records import Proposal
from ladder.numbers import literal_number, literal_ratio
from ladder.rules.nesting import too_deep

NUMERIC = ("scale", "shift")
MAX_CHANGES = 12  # an edit pattern names at most this many (symbol, change) pairs
REPLACED = 0.5  # a function whose code is less similar than this was replaced, not changed

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class CodeChange:
    file: str
    symbol: str  # `LR`, `train`, `Model.forward`; "" for module-level code
    change: str  # constant-up, call-added:clip_grad, function-replaced, ...
    old: str = ""
    new: str = ""


@dataclass(frozen=True)
class Move:
    """A numeric constant that moved: what failure lessons bound."""

    file: str
    symbol: str
    function: str  # "" at module level
    direction: str  # up | down
    old: float
    new: float
    integer: bool  # both literals are ints

    @property
    def boundable(self) -> bool:
        """A module-level constant: what the `bound` template can check."""
        return not self.function and bool(_IDENT.match(self.symbol))

    @property
    def scoped(self) -> bool:
        """A keyword, a default or a constant inside a function (`axis=0` in
        `standardize`): a bound scoped to that function (`synth.scoped_bound_rule`)."""
        return bool(self.function) and bool(_IDENT.match(self.symbol))


def extract(
    proposal: Proposal, before: Mapping[str, str], after: Mapping[str, str]
) -> dict[str, Any] | None:
    """The pattern of `proposal` (None when nothing recognisable changed)."""
    pattern = mutate_pattern(proposal.features)
    if pattern is not None:
        return pattern
    changes = diff_changes(before, after)
    if not changes:
        return None
    pairs = sorted({(c.symbol, c.change) for c in changes})[:MAX_CHANGES]
    return {
        "kind": "edit",
        "changes": [{"symbol": s, "change": c} for s, c in pairs],
        "files": sorted({c.file for c in changes}),
        "description": " ".join(proposal.description.split())[:200],
    }


def mutate_pattern(features: Mapping[str, Any]) -> dict[str, Any] | None:
    op = features.get("operator")
    if op not in OPERATORS:
        return None
    old, new = str(features.get("old", "")), str(features.get("new", ""))
    pattern: dict[str, Any] = {
        "kind": "mutate",
        "change": "number" if op in NUMERIC else op,
        "symbol": str(features.get("symbol", "")),
        "function": str(features.get("function", "")),
        "direction": direction(str(op), old, new),
        "operators": [op],
        "files": [str(features.get("file", ""))],
    }
    ratio = literal_ratio(old, new) if op in NUMERIC else None
    if ratio is not None:
        pattern["ratio"] = round(ratio, 6)
    return pattern


def moves(
    proposal: Proposal | None, before: Mapping[str, str], after: Mapping[str, str]
) -> list[Move]:
    """The numeric constants the change moved (from mutate features, else the diff)."""
    if proposal is not None and proposal.features.get("operator") in NUMERIC:
        f = proposal.features
        old, new = literal_number(str(f.get("old", ""))), literal_number(str(f.get("new", "")))
        if old is None or new is None:
            return []
        return [Move(str(f.get("file", "")), str(f.get("symbol", "")), str(f.get("function", "")),
                     "up" if new > old else "down", old, new, _is_int(f.get("old")) and _is_int(f.get("new")))]
    out = []
    changes = diff_changes(before, after)
    if any(c.change not in ("constant-up", "constant-down") for c in changes):
        # Not a pure numeric move (a constant changed *and* an `assert` was added): what
        # failed cannot be blamed on the constant, and a bound learned from it would
        # block a value that works.
        return []
    for c in changes:
        old, new = literal_number(c.old), literal_number(c.new)
        if old is not None and new is not None:
            out.append(Move(c.file, c.symbol, "", c.change.removeprefix("constant-"), old, new,
                            _is_int(c.old) and _is_int(c.new)))
    return out


def file_tags(paths: list[str]) -> list[str]:
    """Domain tags of file paths: the stem and the folders (`models/gpt.py` -> models, gpt)."""
    tags: list[str] = []
    for path in paths:
        p = PurePosixPath(path)
        for part in (*p.parent.parts, p.stem):
            if part and part not in (".", "..") and "*" not in part:
                tags.append(part.lower())
    return tags


# --- numbers ---------------------------------------------------------------------------




def _is_int(code: object) -> bool:
    try:
        value = ast.literal_eval(str(code).strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return isinstance(value, int) and not isinstance(value, bool)


# --- the libcst diff ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Def:
    kind: str  # constant | function | class | import
    code: str
    node: cst.CSTNode | None = None


def diff_changes(before: Mapping[str, str], after: Mapping[str, str]) -> list[CodeChange]:
    """What changed between two versions of the files, definition by definition."""
    out: list[CodeChange] = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old == new:
            continue
        if old is None or new is None:
            out.append(CodeChange(path, "", "file-added" if old is None else "file-removed"))
            continue
        out += _file_changes(path, old, new)
    return out


def _file_changes(path: str, old: str, new: str) -> list[CodeChange]:
    if not path.endswith(".py"):
        return [CodeChange(path, "", "file-changed")]
    if too_deep(old) or too_deep(new):  # libcst would crash the run's process
        return [CodeChange(path, "", "file-changed")]
    try:
        a, b = cst.parse_module(old), cst.parse_module(new)
    except cst.ParserSyntaxError:
        return [CodeChange(path, "", "file-changed")]
    defs_a, rest_a = _definitions(a, a.body, "")
    defs_b, rest_b = _definitions(b, b.body, "")
    out: list[CodeChange] = []
    for name in sorted(set(defs_a) | set(defs_b)):
        da, db = defs_a.get(name), defs_b.get(name)
        if da is None and db is not None:
            out.append(CodeChange(path, name, f"{db.kind}-added", "", db.code))
        elif db is None and da is not None:
            out.append(CodeChange(path, name, f"{da.kind}-removed", da.code, ""))
        elif da is not None and db is not None and da.code != db.code:
            out += _changed(path, name, da, db)
    if rest_a != rest_b:
        out.append(CodeChange(path, "", "module-code-changed"))
    return out


def _definitions(
    module: cst.Module, body: Any, prefix: str
) -> tuple[dict[str, _Def], list[str]]:
    """Named top-level definitions (classes one level deep) and the other statements."""
    defs: dict[str, _Def] = {}
    rest: list[str] = []
    for stmt in body:
        if isinstance(stmt, cst.FunctionDef):
            defs[prefix + stmt.name.value] = _Def("function", module.code_for_node(stmt), stmt)
        elif isinstance(stmt, cst.ClassDef):
            inner = stmt.body.body if isinstance(stmt.body, cst.IndentedBlock) else ()
            members, _ = _definitions(module, inner, f"{prefix}{stmt.name.value}.")
            defs.update(members)
            defs[prefix + stmt.name.value] = _Def("class", _class_head(module, stmt))
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                named = list(_named(module, small, prefix))
                if named:
                    defs.update(named)
                else:
                    rest.append(module.code_for_node(small).strip())
    return defs, rest


def _class_head(module: cst.Module, node: cst.ClassDef) -> str:
    return module.code_for_node(node.with_changes(body=cst.IndentedBlock([]))).strip()


def _named(module: cst.Module, small: cst.BaseSmallStatement, prefix: str) -> Iterator[tuple[str, _Def]]:
    if isinstance(small, cst.Assign) and len(small.targets) == 1:
        target = small.targets[0].target
        if isinstance(target, cst.Name):
            yield prefix + target.value, _Def("constant", module.code_for_node(small.value).strip())
    elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.value:
        yield prefix + small.target.value, _Def("constant", module.code_for_node(small.value).strip())
    elif isinstance(small, (cst.Import, cst.ImportFrom)) and not isinstance(small.names, cst.ImportStar):
        code = module.code_for_node(small).strip()
        for alias in small.names:
            name = alias.asname.name if alias.asname else alias.name
            yield f"import {module.code_for_node(name).strip()}", _Def("import", code)


def _changed(path: str, name: str, a: _Def, b: _Def) -> list[CodeChange]:
    if a.kind == "constant" and b.kind == "constant":
        old, new = literal_number(a.code), literal_number(b.code)
        if old is not None and new is not None and old != new:
            return [CodeChange(path, name, "constant-up" if new > old else "constant-down", a.code, b.code)]
        return [CodeChange(path, name, "constant-changed", a.code, b.code)]
    if a.kind == "function" and b.kind == "function" and a.node is not None and b.node is not None:
        calls_a, calls_b = _calls(a.node), _calls(b.node)
        out = [CodeChange(path, name, f"call-added:{c}") for c in sorted(calls_b - calls_a)]
        out += [CodeChange(path, name, f"call-removed:{c}") for c in sorted(calls_a - calls_b)]
        similar = difflib.SequenceMatcher(None, a.code, b.code).ratio()
        if similar < REPLACED:
            out.append(CodeChange(path, name, "function-replaced"))
        elif not out:
            out.append(CodeChange(path, name, "function-changed"))
        return out
    return [CodeChange(path, name, f"{b.kind}-changed")]


class _Calls(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def visit_Call(self, node: cst.Call) -> None:
        name = _dotted(node.func)
        if name:
            self.names.add(name)


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr.value}" if head else node.attr.value
    return ""


def _calls(node: cst.CSTNode) -> set[str]:
    visitor = _Calls()
    node.visit(visitor)
    return visitor.names
