"""The `mutate` proposer: small libcst edits of the editable Python files, offline.

Sites (where a mutation can happen) and their operators:
- numeric literals in the value of an UPPER_CASE assignment (any scope) or of a class-level
  field (dataclass configs), in function defaults and in call keyword arguments:
  `scale` (multiply by 0.5, 0.8, 1.25 or 2) and `shift` (±10%, at least ±1 for ints);
  ints stay ints and every number keeps its sign (an int >= 1 stays >= 1);
- `True`/`False` in the same places: `flip`;
- strings declared with a trailing `# ladder: choices relu gelu silu` comment on their
  line: `choice` picks another of the declared values;
- one simple statement (a call, an assignment) inside a function body: `delete`, unless
  the deletion leaves a name read but bound nowhere (`unbound_deletions`): a NameError
  whatever the seed.

Every site lists only edits that change the code, so a proposal is never a no-op.

Before any evidence, a draw favours knobs over the rest (PRIORS, below): a statement
deletion weighs half a knob, a structural literal (a shape, an axis, an index, a size, a
seed) a tenth, and structural literals are owed no turn by coverage-first: a run spends
its budget on what tuning means, not on numbers the program or the data fix.

Weights (`operator_weights`, set by the skill library or the `weights` option) are keyed
by operator (`scale`); an operator absent weighs 1 and 0 turns it off. Keys may also
name a site and a direction, `scale:LR` or `scale:LR:up` (`direction()` below): with
such keys each (site, edit) pair is drawn by its most specific weight, so a skill that
raised `LR` before makes raising `LR` likelier without ruling anything else out, and a
site a key weighs above 1 may be tried again before coverage is complete (the evidence
of a skill, not the order of exploration, decides when to exploit it).
`focus` (set by the skill library's Thompson sampling) lists skills -- groups of such
keys and a typical ratio -- for one proposal, best first: of the untried edits that the
first skill having one matches, the nearest its typical ratio is tried (any, when it
has none), coverage or not; when no skill has one (the flags already set, the
constants moved as far as their edits go), the proposer explores as usual.
The choice is reproducible from `ctx.rng`: files are read in sorted order, sites in
source order, and nothing else is random. Formatting survives: libcst round-trips the
untouched code byte for byte.
"""

from __future__ import annotations

import ast
import builtins
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from random import Random
from typing import Any, cast

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from ladder.agent.config import ProposerSpec
from ladder.agent.proposers.common import check_options, editable_files, read_text
from ladder.agent.records import Focus, Proposal, ProposalContext
from ladder.errors import LadderError
from ladder.numbers import literal_number, literal_ratio
from ladder.rules.nesting import too_deep

OPERATORS = ("scale", "shift", "flip", "choice", "delete")
SCALE_FACTORS = (0.5, 0.8, 1.25, 2.0)
SHIFT_FRACTION = 0.1  # a number moves by 10% of its magnitude (an int by 1 at least)
ZERO_FLOAT_STEP = 0.1  # ... and a zero float by this much (10% of zero is no move)
OPTIONS = ("weights", "target")

# What a draw favours before any evidence (issue 14: with every site equally likely, 12
# of 20 proposals on a small numpy project were shape literals and deletions, and crashed).
# - a knob (a named constant, a default, a keyword, a flag, a declared choice) is what
#   tuning means: 1;
# - a statement deletion is a real kind of change (dropping a validation or a
#   normalisation), but most statements are load-bearing: tried after the knobs on
#   average, still once per run (coverage);
# - a structural literal -- an int that is a shape, an axis, an index, a size or a count
#   (`size=(200, 4)`, `axis=0`, `np.zeros(100)` in a constant, `X[:, 0]`), or a constant
#   named as one (`N_SAMPLES`, `INPUT_SHAPE`, `SEED`) -- must agree with the rest of the
#   program or the data, so a change crashes or changes the task, not the method: it is
#   owed no coverage and is drawn ten times less often than a knob.
# A deletion that leaves a name read but no longer assigned (`w = np.zeros(n)` before
# `w -= ...`) is a NameError whatever the seed: it is no site at all.
PRIORS = {"knob": 1.0, "delete": 0.5, "structural": 0.1}
# A name that *is* a shape (the whole name) or *says* one (a word of it). `HIDDEN_DIM`,
# `BATCH_SIZE` are knobs: the program derives its shapes from them.
STRUCTURAL_NAMES = frozenset({"axis", "axes", "dim", "dims", "ndim", "shape", "newshape", "size",
                              "index", "idx", "seed", "random_state", "keepdims", "n"})
STRUCTURAL_WORDS = frozenset({"axis", "axes", "shape", "seed", "samples", "features", "classes",
                              "rows", "cols", "columns"})

_UPPER = re.compile(r"^_*[A-Z][A-Z0-9_]*$")
_CHOICES = re.compile(r"#\s*ladder:\s*choices\s+(?P<values>[^#]+)")
_CACHE_SIZE = 64


@dataclass(frozen=True)
class Edit:
    new: str  # the node's new source ("" for a deletion)
    note: str  # how: "scale x2", "shift +1", "flip", "choice", "delete"


@dataclass(frozen=True)
class Site:
    operator: str
    node: cst.CSTNode  # the node replaced, or the statement line deleted
    symbol: str
    function: str  # the enclosing function ("" at module or class level)
    old: str
    edits: tuple[Edit, ...]  # never empty, never the old code
    structural: bool = False  # a shape, an axis, an index, a size, a seed: not a knob

    @property
    def prior(self) -> float:
        """How much a draw favours this site before any evidence (see PRIORS)."""
        if self.structural:
            return PRIORS["structural"]
        return PRIORS["delete"] if self.operator == "delete" else PRIORS["knob"]


@dataclass
class _Parsed:
    """A parsed file, its sites, and its node positions once a proposal needs them (one
    position pass per file version, not one per proposal: it is libcst's slow part)."""

    module: cst.Module
    sites: tuple[Site, ...]
    code: str  # the text parsed (the module's code; libcst regenerates it on every access)
    _positions: Mapping[cst.CSTNode, CodeRange] | None = None
    _offsets: list[int] | None = None  # where each line starts in the code

    def positions(self) -> Mapping[cst.CSTNode, CodeRange]:
        if self._positions is None:
            wrapper = MetadataWrapper(self.module, unsafe_skip_copy=True)
            self._positions = wrapper.resolve(PositionProvider)
        return self._positions

    def span(self, node: cst.CSTNode) -> tuple[int, int]:
        """The character offsets of `node`'s code in the module's code."""
        if self._offsets is None:
            offsets, total = [0], 0
            for line in self.code.splitlines(keepends=True):
                total += len(line)
                offsets.append(total)
            self._offsets = offsets
        where = self.positions()[node]
        return (self._offsets[where.start.line - 1] + where.start.column,
                self._offsets[where.end.line - 1] + where.end.column)


class MutateProposer:
    """Offline mutations; `operator_weights` is the hook a skill library sets."""

    def __init__(self, weights: Mapping[str, float] | None = None) -> None:
        self.operator_weights: Mapping[str, float] | None = _check_weights(weights)
        self.focus: Sequence[Focus] = ()  # skills to apply, best first; () to explore
        self.last_error = ""
        self._cache: dict[tuple[str, str], _Parsed] = {}

    @classmethod
    def from_spec(cls, spec: ProposerSpec) -> MutateProposer:
        check_options("mutate", spec.options, OPTIONS)
        weights = spec.options.get("weights")
        if weights is not None and not isinstance(weights, Mapping):
            raise LadderError(
                "proposer option 'weights' must be a table of operator = weight",
                where="[tool.ladder.agent] proposer",
                todo=f"operators: {', '.join(OPERATORS)}",
            )
        return cls(weights)

    @property
    def name(self) -> str:
        return "mutate"

    def propose(self, ctx: ProposalContext) -> Proposal | None:
        self.last_error = ""
        per_file = [(path, self._parse(ctx.root, path)) for path in _python_files(ctx)]
        sites = [(path, p, site) for path, p in per_file if p for site in p.sites]
        if not sites:
            self.last_error = "no mutation site in the editable Python files"
            return None
        # Never re-propose a mutation this run already tried (crude loops re-try what
        # failed); draws are cheap, so redraw a bounded number of times.
        tried = {a.description for a in ctx.attempts}
        for skill in self.focus:
            focused = _focused(sites, skill, tried, ctx.rng)
            if focused is not None:
                return _proposal(*focused)
        # Coverage first: sites this run has not tried yet go before those it has, so a
        # run explores every kind of change once before it exploits any.
        # Structural literals are owed no turn: they compete at their prior meanwhile.
        seen = {_site_key(a.features) for a in ctx.attempts if a.features}
        fresh = [c for c in sites if not c[2].structural and _site_key(_features(c[0], c[2])) not in seen]
        unowed = [c for c in sites if c[2].structural]
        pool = (fresh + unowed + _favoured(sites, fresh, self.operator_weights)) if fresh else sites
        # When every draw was tried somewhere, one tried only on *other* parents is new
        # here (a move that failed before a keep may work after it): a long run then
        # goes on instead of stopping idle, and runs that never get here are unchanged.
        tried_here = {a.description for a in ctx.attempts if a.parent == ctx.parent}
        for avoid in (tried, tried_here):
            for _ in range(_REDRAWS):
                chosen = _pick(pool, self.operator_weights, ctx.rng)
                if chosen is None:
                    self.last_error = "every operator with a site has weight 0"
                    return None
                path, _, site, edit = chosen
                if _description(path, site, edit) not in avoid:  # before building its code
                    return _proposal(*chosen)
        self.last_error = f"no untried mutation found in {2 * _REDRAWS} draws"
        return None

    def _parse(self, root: Path, path: str) -> _Parsed | None:
        text = read_text(root, path)
        if text is None:
            return None
        key = (path, text)
        if key not in self._cache:
            if too_deep(text):  # libcst would crash the run's process
                return None
            try:
                module = cst.parse_module(text)
            except cst.ParserSyntaxError:
                return None  # a file that does not parse has no site; the evaluation will say why
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))
            parsed = _Parsed(module, (), text)
            # Every proposal needs positions (its line, its span): resolved once, here.
            parsed.sites = tuple(find_sites(module, parsed.positions(), text))
            self._cache[key] = parsed
        return self._cache[key]


_REDRAWS = 64


def _site_key(features: Mapping[str, Any]) -> tuple[Any, ...]:
    """What identifies a mutation site across iterations (its line may move). A
    deletion is its statement too: `x = standardize(x)` and `x = np.hstack(...)` in one
    function are two sites, though both assign `x`."""
    key = tuple(features.get(k) for k in ("file", "operator", "symbol", "function"))
    return (*key, features.get("old")) if features.get("operator") == "delete" else key


def _features(path: str, site: Site) -> dict[str, Any]:
    return {"file": path, "operator": site.operator, "symbol": site.symbol, "function": site.function,
            "old": site.old}


def deletion_key(symbol: str, function: str, old: str) -> str:
    """The weight key of one deletion site (`delete:x:delete:features:x = standardize(x)`):
    the site, not every statement assigning `x` -- what a crash teaches the proposer."""
    return f"delete:{symbol}:delete:{function}:{' '.join(old.split())}"


def _python_files(ctx: ProposalContext) -> list[str]:
    return [p for p in editable_files(ctx.root, ctx.editable) if p.endswith(".py")]


def _check_weights(weights: Mapping[str, Any] | None) -> Mapping[str, float] | None:
    if weights is None:
        return None
    out: dict[str, float] = {}
    for op, w in weights.items():
        if op.split(":", 1)[0] not in OPERATORS:
            raise LadderError(
                f"unknown mutation operator {op!r} in proposer weights",
                where="[tool.ladder.agent] proposer",
                todo=f"use one of: {', '.join(OPERATORS)}",
            )
        if isinstance(w, bool) or not isinstance(w, (int, float)) or w < 0:
            raise LadderError(
                f"weight of operator {op!r} must be a number >= 0, not {w!r}",
                where="[tool.ladder.agent] proposer",
            )
        out[op] = float(w)
    return out


_Site = tuple[str, _Parsed, Site]
_Choice = tuple[str, _Parsed, Site, Edit]


def _pick(
    sites: Sequence[_Site], weights: Mapping[str, float] | None, rng: Random
) -> _Choice | None:
    """A site by its prior (PRIORS); with weights, an operator by weight, then a site of
    it by prior; with site keys (`scale:LR`, `scale:LR:up`), a (site, edit) pair by its
    weight times its site's prior. Then an edit of the site, uniformly.

    Operators absent from `weights` weigh 1; weight 0 turns an operator off.
    """
    if weights and any(":" in key for key in weights):
        return _pick_by_site(sites, weights, rng)
    pool = list(sites)
    if weights:
        ops = [op for op in OPERATORS if any(s.operator == op for _, _, s in sites)]
        ws = [weights.get(op, 1.0) for op in ops]
        if sum(ws) <= 0:
            return None
        op = rng.choices(ops, weights=ws)[0]
        pool = [c for c in sites if c[2].operator == op]
    path, parsed, site = pool[rng.choices(range(len(pool)), weights=[c[2].prior for c in pool])[0]]
    return path, parsed, site, site.edits[rng.randrange(len(site.edits))]


def _favoured(
    sites: Sequence[_Site], fresh: Sequence[_Site], weights: Mapping[str, float] | None
) -> list[_Site]:
    """Tried sites that a site key weighs above 1 (a skill's evidence): they compete
    with the fresh ones instead of waiting for coverage to finish."""
    if not weights or not any(":" in key for key in weights):
        return []
    new = {id(site) for _, _, site in fresh}
    out = []
    for path, parsed, site in sites:
        if id(site) in new:
            continue
        keys = [_site_name(site)] + [_edit_key(site, e) for e in site.edits]
        if any(weights.get(k, 0.0) > 1.0 for k in keys):
            out.append((path, parsed, site))
    return out


def _focused(sites: Sequence[_Site], focus: Focus, tried: set[str], rng: Random) -> _Choice | None:
    """An untried (site, edit) pair a key of `focus` matches: the one nearest its
    typical ratio when it has one (the magnitude that worked), else any."""
    wanted = set(focus.keys)
    named = {key.rsplit(":", 1)[0] for key in wanted}
    pairs = [(path, parsed, site, edit) for path, parsed, site in sites
             if _site_name(site) in named for edit in site.edits
             if _edit_key(site, edit) in wanted and _description(path, site, edit) not in tried]
    if not pairs:
        return None
    if focus.ratio is not None:
        target = math.log(focus.ratio)
        distance = [_log_ratio(c[2].old, c[3].new) for c in pairs]
        scored = [(abs(d - target) if d is not None else math.inf, n) for n, d in enumerate(distance)]
        best = min(score for score, _ in scored)
        pairs = [pairs[n] for score, n in scored if score == best]
    return pairs[rng.randrange(len(pairs))]


def _log_ratio(old: str, new: str) -> float | None:
    ratio = literal_ratio(old, new)  # numbers keep their sign: |new / old| is new / old
    return math.log(ratio) if ratio else None


def _site_name(site: Site) -> str:
    """The weight key of a site (`scale:LR`)."""
    return f"{site.operator}:{site.symbol}"


def _edit_key(site: Site, edit: Edit) -> str:
    """The weight key of one edit of a site (`scale:LR:up`), as skills name it."""
    return f"{_site_name(site)}:{direction(site.operator, site.old, edit.new)}"


def _pick_by_site(
    sites: Sequence[_Site], weights: Mapping[str, float], rng: Random
) -> _Choice | None:
    """Each (site, edit) weighs its most specific key times the site's prior over the
    site's number of edits, so a site's total weight does not grow with how many edits
    it offers."""
    pairs: list[_Choice] = []
    ws: list[float] = []
    for path, parsed, site in sites:
        exact = (deletion_key(site.symbol, site.function, site.old),) if site.operator == "delete" else ()
        for edit in site.edits:
            keys = (*exact, _edit_key(site, edit), _site_name(site), site.operator)
            w = next((weights[k] for k in keys if k in weights), 1.0)
            pairs.append((path, parsed, site, edit))
            ws.append(w * site.prior / len(site.edits))
    if sum(ws) <= 0:
        return None
    return pairs[rng.choices(range(len(pairs)), weights=ws)[0]]


def direction(operator: str, old: str, new: str) -> str:
    """Which way an edit goes: `up`/`down` for numbers, the new value for `flip` and
    `choice` (`True`, `gelu`), `delete` for deletions. Skills and weights use it."""
    if operator in ("scale", "shift"):
        before, after = literal_number(old), literal_number(new)
        if before is None or after is None:
            return "changed"
        return "up" if after > before else "down"
    if operator == "choice":
        try:
            value = ast.literal_eval(new)
        except (ValueError, SyntaxError):
            return new
        return value if isinstance(value, str) else new
    if operator == "flip":
        return new
    return operator




# --- applying ------------------------------------------------------------------------


def _description(path: str, site: Site, edit: Edit) -> str:
    if site.operator == "delete":
        return f"{path}: delete `{_short(site.old)}` in {site.function}() (delete)"
    return f"{path}: {site.symbol} {site.old} -> {edit.new} ({edit.note})"


def _proposal(path: str, parsed: _Parsed, site: Site, edit: Edit) -> Proposal:
    module = parsed.module
    if site.operator == "delete":
        code = module.visit(_Delete(site.node)).code
    else:
        # A literal's new code spliced into the old: what deep_replace and a full code
        # generation give, at a fraction of the cost (tests/agent/test_proposers_mutate.py).
        # The span of a node excludes its own parentheses, which the old code keeps.
        start, end = parsed.span(site.node)
        new_node = _replacement(site.node, edit.new)
        if isinstance(new_node, (cst.Integer, cst.Float, cst.Name, cst.SimpleString, cst.UnaryOperation)):
            new_node = new_node.with_changes(lpar=(), rpar=())
        code = parsed.code[:start] + module.code_for_node(new_node) + parsed.code[end:]
    description = _description(path, site, edit)
    features = {
        "operator": site.operator,
        "file": path,
        "symbol": site.symbol,
        "function": site.function,
        "old": site.old,
        "new": edit.new,
        "line": parsed.positions()[site.node].start.line,
    }
    return Proposal(description, {path: code}, features, proposer="mutate")


def _replacement(node: cst.CSTNode, new: str) -> cst.CSTNode:
    if isinstance(node, cst.UnaryOperation):  # a negative number keeps its sign and spacing
        return node.with_changes(expression=_number(node.expression, new.lstrip("-")))
    if isinstance(node, (cst.Integer, cst.Float)):
        return _number(node, new)
    if isinstance(node, (cst.Name, cst.SimpleString)):
        return node.with_changes(value=new)
    raise AssertionError(f"no replacement for {type(node).__name__}")


def _number(node: cst.BaseExpression, text: str) -> cst.BaseExpression:
    literal: cst.BaseExpression = (
        cst.Float(text) if "." in text or "e" in text else cst.Integer(text)
    )
    return literal.with_changes(lpar=node.lpar, rpar=node.rpar)


class _Delete(cst.CSTTransformer):
    """Removes one statement line; a block left empty gets `pass`, comments move down."""

    def __init__(self, target: cst.CSTNode) -> None:
        super().__init__()
        self.target = target

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        body = list(updated_node.body)
        index = next((i for i, s in enumerate(original_node.body) if s is self.target), None)
        if index is None:
            return updated_node
        gone = cast(cst.SimpleStatementLine, body.pop(index))
        if index < len(body):  # keep the comments above the deleted line
            after = cast(cst.SimpleStatementLine | cst.BaseCompoundStatement, body[index])
            body[index] = after.with_changes(
                leading_lines=(*gone.leading_lines, *after.leading_lines)
            )
        elif not body:
            body.append(cst.SimpleStatementLine([cst.Pass()], leading_lines=gone.leading_lines))
        return updated_node.with_changes(body=body)


def _short(code: str) -> str:
    flat = " ".join(code.split())
    return flat if len(flat) <= 80 else flat[:77] + "..."


# --- finding sites -------------------------------------------------------------------


def find_sites(
    module: cst.Module,
    positions: Mapping[cst.CSTNode, CodeRange] | None = None,
    code: str | None = None,
) -> list[Site]:
    """Every mutation site of a module, in source order (`positions` and `code`: the
    module's, when the caller has them already)."""
    text = module.code if code is None else code
    choices = choice_lines(text)
    doomed = unbound_deletions(text)
    if (choices or doomed) and positions is None:  # only these need positions
        positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    finder = _SiteFinder(module, choices, positions, doomed)
    module.visit(finder)
    return finder.sites


def choice_lines(code: str) -> dict[int, tuple[str, ...]]:
    """Line number -> the values declared by a `# ladder: choices a b c` comment there."""
    out: dict[int, tuple[str, ...]] = {}
    for number, line in enumerate(code.splitlines(), start=1):
        m = _CHOICES.search(line)
        if m:
            values = tuple(v for v in re.split(r"[\s,]+", m["values"]) if v)
            if len(values) >= 2:
                out[number] = values
    return out


@dataclass(frozen=True)
class _Context:
    """A value whose literals may be sites."""

    symbol: str  # what it is assigned to, or the keyword or parameter it is passed as
    numbers: bool  # its numbers and bools are sites
    structural: bool  # its name says it is a shape (STRUCTURAL_NAMES / _WORDS)
    depth: int  # the finder's `nested` when it began


class _SiteFinder(cst.CSTVisitor):
    def __init__(
        self,
        module: cst.Module,
        choices: Mapping[int, tuple[str, ...]],
        positions: Mapping[cst.CSTNode, CodeRange] | None,
        doomed: frozenset[int] = frozenset(),
    ) -> None:
        super().__init__()
        self.module = module
        self.choices = choices
        self.positions = positions
        self.doomed = doomed  # lines whose deletion unbinds a name (`unbound_deletions`)
        self.sites: list[Site] = []
        self.contexts: list[_Context] = []
        self.nested = 0  # tuples, lists, subscripts and positional arguments we are in
        self.functions: list[str] = []
        self.scopes: list[str] = ["module"]

    # scopes

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.append(node.name.value)
        self.scopes.append("function")

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.functions.pop()
        self.scopes.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.scopes.append("class")

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.scopes.pop()

    # contexts: the values whose literals are sites

    def visit_Assign_value(self, node: cst.Assign) -> None:
        target = node.targets[0].target
        self._enter(self._code(target), self._assignable(target))

    def leave_Assign_value(self, node: cst.Assign) -> None:
        self.contexts.pop()

    def visit_AnnAssign_value(self, node: cst.AnnAssign) -> None:
        self._enter(self._code(node.target), self._assignable(node.target))

    def leave_AnnAssign_value(self, node: cst.AnnAssign) -> None:
        self.contexts.pop()

    def visit_Param_default(self, node: cst.Param) -> None:
        self._enter(node.name.value, True)

    def leave_Param_default(self, node: cst.Param) -> None:
        self.contexts.pop()

    def visit_Arg_value(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._enter(node.keyword.value, True)
        else:
            # A positional int (`np.zeros(100)`, `nn.Linear(64, 32)`) is a size: the
            # argument keeps its context, one level deeper.
            ctx = self.contexts[-1] if self.contexts else _Context("", False, False, self.nested)
            self.nested += 1
            self.contexts.append(ctx)

    def leave_Arg_value(self, node: cst.Arg) -> None:
        self.contexts.pop()
        if node.keyword is None:
            self.nested -= 1

    def _enter(self, symbol: str, numbers: bool) -> None:
        self.contexts.append(_Context(symbol, numbers, structural_name(symbol), self.nested))

    # shapes: the elements of a tuple, list or set, and what a subscript selects

    def visit_Tuple(self, node: cst.Tuple) -> None:
        self.nested += 1

    def leave_Tuple(self, original_node: cst.Tuple) -> None:
        self.nested -= 1

    def visit_List(self, node: cst.List) -> None:
        self.nested += 1

    def leave_List(self, original_node: cst.List) -> None:
        self.nested -= 1

    def visit_Set(self, node: cst.Set) -> None:
        self.nested += 1

    def leave_Set(self, original_node: cst.Set) -> None:
        self.nested -= 1

    def visit_Subscript(self, node: cst.Subscript) -> None:
        self.nested += 1

    def leave_Subscript(self, original_node: cst.Subscript) -> None:
        self.nested -= 1

    def _structural(self, value: object) -> bool:
        """An int in a shape of its context, or any literal of a context named as one."""
        if not self.contexts:
            return False
        ctx = self.contexts[-1]
        shaped = isinstance(value, int) and not isinstance(value, bool) and self.nested > ctx.depth
        return ctx.structural or shaped

    def _assignable(self, target: cst.BaseExpression) -> bool:
        if not isinstance(target, cst.Name):
            return False
        return bool(_UPPER.match(target.value)) or self.scopes[-1] == "class"

    def _numbers_here(self) -> bool:
        return bool(self.contexts) and self.contexts[-1].numbers

    # sites

    def visit_UnaryOperation(self, node: cst.UnaryOperation) -> bool:
        inner = node.expression
        if isinstance(node.operator, cst.Minus) and isinstance(inner, (cst.Integer, cst.Float)):
            if self._numbers_here() and not inner.lpar:
                self._numeric(node, -inner.evaluated_value)
            return False  # the literal inside is this site, not another
        return True

    def visit_Integer(self, node: cst.Integer) -> None:
        if self._numbers_here():
            self._numeric(node, node.evaluated_value)

    def visit_Float(self, node: cst.Float) -> None:
        if self._numbers_here():
            self._numeric(node, node.evaluated_value)

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in ("True", "False") and self._numbers_here():
            new = "False" if node.value == "True" else "True"
            self._add("flip", node, node.value, (Edit(new, "flip"),),
                      structural=self._structural(node.value == "True"))

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if self.positions is None:
            return
        values = self.choices.get(self.positions[node].start.line, ())
        old = node.evaluated_value
        if not isinstance(old, str) or old not in values:
            return
        quote = node.prefix + node.quote
        edits = tuple(Edit(f"{quote}{v}{node.quote}", "choice") for v in values if v != old)
        self._add("choice", node, node.value, edits)

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        if not self.functions or len(node.body) != 1 or not _deletable(node.body[0]):
            return
        if self.positions is not None and self.positions[node].start.line in self.doomed:
            return  # a NameError whatever the seed: no budget for it
        stmt = node.body[0]
        symbol = _statement_symbol(stmt, self._code)
        self._add("delete", node, self._code(stmt), (Edit("", "delete"),), symbol=symbol)

    def _numeric(self, node: cst.CSTNode, value: int | float) -> None:
        old = self._code(node)
        structural = self._structural(value)
        for operator in ("scale", "shift"):
            edits = tuple(Edit(text, note) for text, note in numeric_edits(operator, value))
            self._add(operator, node, old, edits, structural=structural)

    def _add(
        self, operator: str, node: cst.CSTNode, old: str, edits: tuple[Edit, ...], symbol: str = "",
        structural: bool = False,
    ) -> None:
        if not edits:
            return
        symbol = symbol or (self.contexts[-1].symbol if self.contexts else "")
        function = self.functions[-1] if self.functions else ""
        self.sites.append(Site(operator, node, symbol, function, old, edits, structural))

    def _code(self, node: cst.CSTNode) -> str:
        # Names and literals without parentheses are their own code: no code generation
        # (it is most of the cost of finding the sites of a long configuration file).
        if isinstance(node, (cst.Name, cst.Integer, cst.Float)) and not node.lpar:
            return node.value
        return self.module.code_for_node(node).strip()


def _deletable(stmt: cst.BaseSmallStatement) -> bool:
    if isinstance(stmt, cst.Expr):  # not a docstring or `...`: deleting those changes nothing
        return not isinstance(stmt.value, (cst.SimpleString, cst.ConcatenatedString, cst.Ellipsis))
    if isinstance(stmt, cst.AnnAssign):
        return stmt.value is not None
    return isinstance(stmt, (cst.Assign, cst.AugAssign))


def _statement_symbol(stmt: cst.BaseSmallStatement, code: Callable[[cst.CSTNode], str]) -> str:
    """The called name of a call statement, or the assigned target."""
    if isinstance(stmt, cst.Expr):
        value = stmt.value.func if isinstance(stmt.value, cst.Call) else stmt.value
        return code(value)
    if isinstance(stmt, cst.Assign):
        return ", ".join(code(t.target) for t in stmt.targets)
    if isinstance(stmt, (cst.AnnAssign, cst.AugAssign)):
        return code(stmt.target)
    return ""


def structural_name(symbol: str) -> bool:
    """`axis`, `size`, `N_SAMPLES`, `inputShape`, `SEED`: a name that is or says a shape."""
    name = symbol.rsplit(".", 1)[-1]
    if name.lower() in STRUCTURAL_NAMES:
        return True
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower().split("_")
    return any(w in STRUCTURAL_WORDS for w in words)


def unbound_deletions(code: str) -> frozenset[int]:
    """Lines of assignments in functions whose deletion leaves a name the function reads
    with no other binding anywhere (its own, its module's, a builtin): a NameError
    wherever the name is read. Counting is generous -- any other store of the name in the
    function, a parameter, an import, a `global` -- so a line is listed only when no
    other binding exists at all."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return frozenset()
    if any(isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names) for n in tree.body):
        return frozenset()  # `from m import *` may bind any name: nothing is certain
    known = _module_names(tree) | set(dir(builtins))
    out: set[int] = set()
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out |= _doomed_in(fn, known)
    return frozenset(out)


def _module_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        for sub in ast.walk(node) if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                             ast.ClassDef)) else ():
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                names.add(sub.id)
            elif isinstance(sub, ast.alias):
                names.add((sub.asname or sub.name).split(".")[0])
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
    return names


def _doomed_in(fn: ast.FunctionDef | ast.AsyncFunctionDef, known: set[str]) -> set[int]:
    stores: dict[str, int] = {}
    loads: set[str] = set()
    # `w -= g` stores w only if w is already bound: it is no binding of its own
    augmented = {id(n.target) for n in ast.walk(fn) if isinstance(n, ast.AugAssign)}
    for node in ast.walk(fn):
        if id(node) in augmented:
            continue
        for name in _bound_names(node):
            stores[name] = stores.get(name, 0) + 1
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            loads.add(node.id)
    out: set[int] = set()
    for node in ast.walk(fn):
        if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.lineno != node.end_lineno:
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        # the names it binds (`x[0] = 1` binds none: it reads x)
        names = [n.id for t in targets for n in ast.walk(t)
                 if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]
        if any(stores.get(n) == 1 and n in loads and n not in known for n in names):
            out.add(node.lineno)
    return out


def _bound_names(node: ast.AST) -> list[str]:
    """Names `node` binds."""
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
        return [node.id]
    if isinstance(node, ast.arg):
        return [node.arg]
    if isinstance(node, ast.alias):
        return [(node.asname or node.name).split(".")[0]]
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        return list(node.names) * 2  # declared elsewhere: never "the only binding"
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.ExceptHandler) and node.name:
        return [node.name]
    return []


# --- numbers -------------------------------------------------------------------------


def numeric_edits(operator: str, value: int | float) -> list[tuple[str, str]]:
    """(new literal, note) pairs of `scale` or `shift` on `value`; none equals it."""
    if isinstance(value, complex):
        return []
    raw = _scaled(value) if operator == "scale" else _shifted(value)
    out: dict[str, str] = {}
    for new, note in raw:
        if new != value and _same_sign(value, new) and math.isfinite(new):
            out.setdefault(_literal(new, isinstance(value, int)), note)
    old_text = _literal(value, isinstance(value, int))
    return [(text, note) for text, note in out.items() if text != old_text]


def _scaled(value: int | float) -> list[tuple[int | float, str]]:
    out: list[tuple[int | float, str]] = []
    for factor in SCALE_FACTORS:
        new = _round_half_away(value * factor) if isinstance(value, int) else value * factor
        out.append((new, f"scale x{factor:g}"))
    return out


def _shifted(value: int | float) -> list[tuple[int | float, str]]:
    if isinstance(value, int):
        # By 10% too, at least 1: a step of 1 on 2000 warm-up steps changes nothing.
        by = max(1, _round_half_away(abs(value) * SHIFT_FRACTION))
        return [(value + by, f"shift +{by}"), (value - by, f"shift -{by}")]
    if value == 0:
        return [(ZERO_FLOAT_STEP, f"shift +{ZERO_FLOAT_STEP:g}")]
    step = abs(value) * SHIFT_FRACTION
    pct = f"{SHIFT_FRACTION:.0%}"
    return [(value + step, f"shift +{pct}"), (value - step, f"shift -{pct}")]


def _same_sign(old: int | float, new: int | float) -> bool:
    """Numbers keep their sign; an int >= 1 stays >= 1 (zero may only grow)."""
    if old > 0:
        return new >= 1 if isinstance(old, int) else new > 0
    if old < 0:
        return new <= -1 if isinstance(old, int) else new < 0
    return new > 0


def _round_half_away(x: float) -> int:
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def _literal(value: int | float, as_int: bool) -> str:
    if as_int:
        return str(int(value))
    # 12 significant digits drop the float noise of x*0.8 (0.08000000000000002 -> 0.08).
    return repr(float(f"{value:.12g}"))
