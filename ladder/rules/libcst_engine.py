"""The libcst engine: every libcst rule of every lesson in one traversal per file.

Each Python file is parsed once; the checks of all applicable lessons are driven by one
dispatcher whose `on_visit` / `on_leave` look up the node's class name in a dict of
interested handlers. Positions (a full metadata pass) are computed only for files that
have findings, which in a hook is almost never.

The traversal is our own small loop over the nodes' dataclass fields rather than
`module.visit(...)`: libcst's visit rebuilds every node (`_visit_and_replace_children`)
even for a read-only visitor, and walks whitespace and punctuation nodes that no template
looks at. On a 500-line file that is 0.25 s against 0.07 s here (parsing is ~0.38 s), and
the hook's budget is "at most 1.5x a bare parse" (bench/check_latency.py). Trivia is
walked too as soon as some check asks for a trivia node type (`visit_Comment`). The loop
is iterative, so deeply nested expressions cannot hit the recursion limit.

A file over `max_parse_bytes` is refused before any file is parsed: libcst's tree costs
~650 bytes per byte of source, so a generated 6 MB module took 3.9 GB (issue 12).

libcst is imported inside `run`, never at module import: the registry imports this
module and a commit touching no Python file must not pay ~100 ms for libcst.
"""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import re
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ladder.errors import LadderError, RuleCrash
from ladder.findings import Finding
from ladder.globs import matches
from ladder.lesson import Lesson
from ladder.rules.base import CheckRequest
from ladder.rules.nesting import too_deep
from ladder.rules.templates._check import foreign_encoding, may_contain, searchable

if TYPE_CHECKING:
    from ladder.rules.cache import FindingsCache

PYTHON_SUFFIXES = (".py", ".pyi")
PARSE_ERROR = "parse-error"
# Peak memory of libcst's tree per byte of source, measured on generated code (a 6 MB
# file: ~4 GB, bench/check_memory.py); only to say what a refused file would have cost.
PARSE_COST = 660

# Fields that only ever hold whitespace, comments and punctuation.
TRIVIA_FIELDS = frozenset(
    {"lpar", "rpar", "leading_lines", "lines_after_decorator", "header", "footer",
     "trailing_whitespace", "comma", "semicolon"}
)
TRIVIA_TYPES = frozenset(
    {"SimpleWhitespace", "ParenthesizedWhitespace", "TrailingWhitespace", "EmptyLine",
     "Newline", "Comment", "Comma", "Semicolon", "LeftParen", "RightParen"}
)
_HANDLER_RE = re.compile(r"^(visit|leave)_([A-Z][A-Za-z]*)$")

Handler = Callable[[Any], object]


# A module switch for the parity tests, which run every case through both paths.
USE_AST = True


@dataclass(frozen=True)
class Compiled:
    """One lesson's libcst rule, ready to instantiate per file: the libcst check, the
    same check over Python's `ast` when the template has one, and the identifiers one
    of which a file must contain for the rule to fire there (None: any file)."""

    lesson: Lesson
    make: Callable[[], Any]
    make_ast: Callable[[], Any] | None = None
    needles: tuple[str, ...] | None = None
    key: Mapping[str, Any] | None = None  # what decides its findings (None: not cacheable)

    def may_fire(self, text: str) -> bool:
        """Could it fire on a file whose `searchable` text is `text`?"""
        return self.needles is None or may_contain(text, self.needles)


class _Crash(Exception):
    def __init__(self, check: Any, exc: BaseException) -> None:
        super().__init__(str(exc))
        self.check = check
        self.exc = exc


class Dispatcher:
    """on_visit / on_leave by node class name, to every check interested in that class."""

    def __init__(self) -> None:
        self.visit: dict[str, list[tuple[Handler, Any]]] = {}
        self.leave: dict[str, list[tuple[Handler, Any]]] = {}

    def add(self, check: Any, base: type[Any] | None) -> None:
        for kind, node_type, method in handler_names(type(check), base):
            table = self.visit if kind == "visit" else self.leave
            table.setdefault(node_type, []).append((getattr(check, method), check))

    def on_visit(self, node: Any) -> bool:
        for handler, check in self.visit.get(type(node).__name__, ()):
            try:
                handler(node)
            except Exception as exc:
                raise _Crash(check, exc) from exc
        return True  # return values of checks are ignored: other checks need the children

    def on_leave(self, node: Any) -> None:
        for handler, check in self.leave.get(type(node).__name__, ()):
            try:
                handler(node)
            except Exception as exc:
                raise _Crash(check, exc) from exc

    def wants_trivia(self) -> bool:
        return not TRIVIA_TYPES.isdisjoint(self.visit) or not TRIVIA_TYPES.isdisjoint(self.leave)


_HANDLERS: dict[type[Any], tuple[tuple[str, str, str], ...]] = {}


def handler_names(cls: type[Any], base: type[Any] | None) -> tuple[tuple[str, str, str], ...]:
    """(visit|leave, node type, method) for the handlers `cls` defines (not those of `base`)."""
    cached = _HANDLERS.get(cls)
    if cached is None:
        found = []
        for name in dir(cls):
            match = _HANDLER_RE.match(name)
            if match is None:
                continue
            # libcst.CSTVisitor declares a no-op visit_/leave_ for every node type.
            if base is not None and getattr(cls, name) is getattr(base, name, None):
                continue
            found.append((match.group(1), match.group(2), name))
        cached = _HANDLERS[cls] = tuple(found)
    return cached


_FIELDS: dict[tuple[type[Any], bool], tuple[str, ...]] = {}


def _fields(cls: type[Any], trivia: bool) -> tuple[str, ...]:
    key = (cls, trivia)
    names = _FIELDS.get(key)
    if names is None:
        names = tuple(
            f.name
            for f in dataclasses.fields(cls)
            if trivia or not (f.name in TRIVIA_FIELDS or f.name.startswith("whitespace"))
        )
        _FIELDS[key] = names
    return names


# Is a value of this type a node (per node base)? `isinstance(value, CSTNode)` goes
# through ABCMeta's Python-level __instancecheck__; a dict lookup by type halved the walk,
# which is most of what ladder adds to the parse (bench/check_memory.py, 5,000 files).
_IS_NODE: dict[type[Any], dict[type[Any], bool]] = {}


def _learn(known: dict[type[Any], bool], value: Any, node_base: type[Any]) -> bool:
    found = known[type(value)] = isinstance(value, node_base)
    return found


def walk(module: Any, dispatcher: Dispatcher, node_base: type[Any]) -> None:
    """Visit `module` and its descendants in source order, leaving each after its children."""
    trivia = dispatcher.wants_trivia()
    leave = dispatcher.leave
    known = _IS_NODE.setdefault(node_base, {})
    stack: list[Any] = [module]
    while stack:
        node = stack.pop()
        if type(node) is tuple:  # the marker pushed to leave a node after its children
            dispatcher.on_leave(node[0])
            continue
        dispatcher.on_visit(node)
        if type(node).__name__ in leave:
            stack.append((node,))
        children: list[Any] = []
        for name in _fields(type(node), trivia):
            value = getattr(node, name)
            kind = type(value)
            if kind is tuple or kind is list:
                for item in value:
                    hit = known.get(type(item))
                    if hit or (hit is None and _learn(known, item, node_base)):
                        children.append(item)
                continue
            hit = known.get(kind)
            if hit or (hit is None and _learn(known, value, node_base)):
                children.append(value)
        children.reverse()
        stack.extend(children)


def _compile(lessons: Sequence[Lesson], root: Path) -> list[Compiled]:
    from ladder.rules import registry  # the registry imports this module

    out = []
    for lesson in lessons:
        assert lesson.rule is not None
        where = registry.lesson_where(lesson)
        template = registry.get_template(lesson.rule.template, where)
        make_check = getattr(template, "make_check", None)
        if make_check is None:
            raise LadderError(f"template {template.name!r} has no libcst check", where=where)
        args = template.validate(lesson.rule.args, where)
        make_ast = getattr(template, "make_ast_check", None)
        needles = getattr(template, "needles", None)
        # The built-in templates (those with an `ast` check) are pure: their findings
        # depend on the file's text and these arguments alone. A custom check is not.
        key = {"lesson": lesson.id, "template": template.name, "args": args} if make_ast else None
        out.append(Compiled(lesson, make_check(args, root, where),
                            make_ast(args, root, where) if make_ast else None,
                            tuple(needles(args)) if needles else None, key))
    return out


class LibcstEngine:
    name = "libcst"

    def run(self, lessons: Sequence[Lesson], request: CheckRequest) -> list[Finding]:
        compiled = _compile(lessons, request.code_root or request.root)
        todo: list[tuple[str, list[Compiled]]] = []
        for path in request.files:
            if not path.endswith(PYTHON_SUFFIXES):
                continue
            applicable = [c for c in compiled if matches(path, c.lesson.paths)]
            if applicable:
                todo.append((path, applicable))
        # Every size before any parse: a whole-tree check refuses at once, not after
        # parsing the files that come before the generated one. A large file no rule
        # can fire on is never parsed, so it is not refused either.
        refuse_too_large(request, [path for path, applicable in todo
                                   if request.size(path) > request.max_parse_bytes
                                   and _would_parse(request, path, applicable)])
        cache = _cache(request)
        findings: list[Finding] = []
        misses: list[tuple[str, list[Compiled], tuple[str, str] | None]] = []
        for path, applicable in todo:
            key, hit = _lookup(request, path, applicable, cache)
            if hit is None:
                misses.append((path, applicable, key))
            else:
                findings.extend(hit)
        done = len(todo) - len(misses)
        for (path, _, key), found in zip(misses, _check_all(request, misses, done, len(todo)),
                                         strict=True):
            findings.extend(found)
            if cache is not None and key is not None:
                cache.put(f"libcst:{path}", key[0], key[1], found)
        if cache is not None:
            cache.save()
        return findings


# The work of the forked processes of a parallel scan: set before the fork, so the
# children inherit the compiled checks (closures do not pickle) instead of receiving them.
_WORK: tuple[CheckRequest, list[tuple[str, list[Compiled]]]] | None = None
PARALLEL_MIN = 64  # files to parse before a second process pays for its start
CHUNK = 16  # files per task: progress and balance without a message per file


def _work(chunk: range) -> tuple[range, list[list[Finding]] | None]:
    assert _WORK is not None
    request, todo = _WORK
    try:
        return chunk, [check_file(request, *todo[i]) for i in chunk]
    except Exception:  # the parent re-runs the chunk and raises the real error itself
        return chunk, None


def _check_all(
    request: CheckRequest, misses: Sequence[tuple[str, list[Compiled], object]], done: int, total: int
) -> list[list[Finding]]:
    """The findings of each file of `misses`, in order: in `request.jobs` processes when
    there are enough files (a whole-tree scan), else here."""
    global _WORK
    todo = [(path, applicable) for path, applicable, _ in misses]
    results: list[list[Finding] | None] = [None] * len(todo)
    jobs = min(request.jobs, len(todo) // PARALLEL_MIN)
    if jobs > 1 and threading.active_count() == 1 and "fork" in mp.get_all_start_methods():
        _WORK = (request, todo)
        try:
            chunks = [range(i, min(i + CHUNK, len(todo))) for i in range(0, len(todo), CHUNK)]
            with mp.get_context("fork").Pool(jobs) as pool:
                for chunk, done_chunk in pool.imap_unordered(_work, chunks):
                    if done_chunk is not None:
                        for i, f in zip(chunk, done_chunk, strict=True):
                            results[i] = f
                    done += len(chunk)
                    if request.progress is not None:
                        request.progress(done, total)
        finally:
            _WORK = None
    out: list[list[Finding]] = []
    for i, (path, applicable) in enumerate(todo):
        known = results[i]
        if known is None:  # serial, or a chunk whose child failed: its error is raised here
            known = check_file(request, path, applicable)
            done += 1
            if request.progress is not None:
                request.progress(done, total)
        out.append(known)
    return out


def _cache(request: CheckRequest) -> FindingsCache | None:
    if request.cache is None or request.agent:
        return None
    from ladder.rules.cache import FindingsCache

    return FindingsCache.load(request.cache)


def _lookup(
    request: CheckRequest, path: str, applicable: Sequence[Compiled], cache: FindingsCache | None
) -> tuple[tuple[str, str] | None, list[Finding] | None]:
    """The cache key of a file (None: not cacheable) and its cached findings, if any:
    cacheable when every rule there is pure."""
    keys = [c.key for c in applicable]
    if cache is None or any(k is None for k in keys):
        return None, None
    from ladder.rules.cache import digest, rules_key

    content, rules = digest(request.read_bytes(path)), rules_key([k for k in keys if k])
    return (content, rules), cache.get(f"libcst:{path}", content, rules)


def _size(size: int) -> str:
    for unit, scale in (("MB", 10**6), ("KB", 10**3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def refuse_too_large(request: CheckRequest, paths: Sequence[str]) -> None:
    """LadderError naming the first of `paths` over `request.max_parse_bytes`.

    Fail closed, in one line rather than a finding per lesson: the file cannot be shown
    to respect any rule, and what fixes it is configuration (exclude generated code, or
    raise the limit), not the code a finding would point at.
    """
    limit = request.max_parse_bytes
    over = [(path, size) for path in paths if (size := request.size(path)) > limit]
    if not over:
        return
    path, size = over[0]
    shown, cap = _size(size), _size(limit)
    if shown == cap:  # "1.0 MB is over the 1.0 MB limit" says nothing
        shown, cap = f"{size} bytes", f"{limit} bytes"
    more = f" ({len(over) - 1} more file(s) over it)" if len(over) > 1 else ""
    raise LadderError(
        f"{shown} is over the {cap} limit of the libcst rules "
        f"(max_parse_bytes = {limit}; a parse takes ~{PARSE_COST}x a file's size in "
        f"memory), so it is not checked{more}",
        where=path,
        todo="if it is generated, add it to `exclude` in [tool.ladder]; "
        "to check it anyway, raise `max_parse_bytes`",
    )


def _crash(check: Any, lesson: Lesson, path: str, exc: BaseException) -> RuleCrash:
    rule = getattr(check, "rule_id", None)
    if not isinstance(rule, str):
        rule = lesson.rule.template if lesson.rule else "libcst"
    return RuleCrash(rule, lesson.id, path, f"{type(exc).__name__}: {exc}")


def _positions(wrapper: Any, provider: Any) -> Any:
    try:
        return wrapper.resolve(provider)
    except RecursionError:
        if sys.version_info < (3, 11):
            raise  # frames use the C stack there: a clear RuleCrash beats a segfault
        # libcst's code generation recurses once per nesting level; a generated file
        # with a 3000-term expression needs more than the default limit. Python frames
        # no longer use the C stack (3.11+), so a higher limit for this call is safe.
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 100_000))
        try:
            return wrapper.resolve(provider)
        finally:
            sys.setrecursionlimit(limit)


def check_file(request: CheckRequest, path: str, compiled: Sequence[Compiled]) -> list[Finding]:
    """All findings of `compiled` in one file: one parse, one traversal -- none when no
    rule can fire there (a file without `eval` has no call of it, whatever its syntax)."""
    source = request.read(path)
    if foreign_encoding(source):
        source, problem = _declared_text(request, path)
        if problem:
            return [Finding(PARSE_ERROR, c.lesson.id, path, 1, 1, f"cannot check this file: {problem}")
                    for c in compiled]
    text = searchable(source)
    compiled = [c for c in compiled if c.may_fire(text)]
    if not compiled:
        return []
    deep = too_deep(source) if request.agent else ""  # the loop's own process: no segfault
    if deep:
        return [Finding(PARSE_ERROR, c.lesson.id, path, 1, 1, f"cannot check this file: {deep}")
                for c in compiled]
    if USE_AST and all(c.make_ast is not None for c in compiled):
        found = _check_ast(source, path, compiled)
        if found is not None:
            return found
    return _check_libcst(source, path, compiled)


def _would_parse(request: CheckRequest, path: str, applicable: Sequence[Compiled]) -> bool:
    """Would `check_file` parse this file (some rule may fire on its text)?"""
    source = request.read(path)
    if foreign_encoding(source):
        source, problem = _declared_text(request, path)
        if problem:
            return False  # refused as unreadable, never parsed
    text = searchable(source)
    return any(c.may_fire(text) for c in applicable)


def _declared_text(request: CheckRequest, path: str) -> tuple[str, str]:
    """The file as Python reads it under its PEP 263 declaration (UTF-7 turns `+AGU-val`
    into `eval`), or the reason it cannot be read so."""
    import codecs
    import io
    import tokenize

    if request.contents is not None and path in request.contents:
        raw = request.contents[path].encode("utf-8", "surrogateescape")
    else:
        raw = (request.root / path).read_bytes()
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        return codecs.decode(raw, encoding), ""
    except (SyntaxError, LookupError, UnicodeDecodeError) as exc:
        return "", f"its declared encoding does not read it ({exc})"


def _check_ast(source: str, path: str, compiled: Sequence[Compiled]) -> list[Finding] | None:
    """The findings over Python's `ast`; None when CPython cannot parse the file."""
    from ladder.rules import ast_walk

    tree = ast_walk.parse(source)
    if tree is None:
        return None
    dispatcher = Dispatcher()
    checks: list[tuple[Any, Lesson]] = []
    for c in compiled:
        assert c.make_ast is not None
        try:
            check = c.make_ast()
        except Exception as exc:
            raise _crash(None, c.lesson, path, exc) from exc
        check.source = source
        dispatcher.add(check, None)
        checks.append((check, c.lesson))
    try:
        ast_walk.walk(tree, dispatcher)
    except _Crash as crash:
        lesson = next(lesson for check, lesson in checks if check is crash.check)
        raise _crash(crash.check, lesson, path, crash.exc) from crash.exc
    return ast_walk.findings(source, checks, path)


def _check_libcst(source: str, path: str, compiled: Sequence[Compiled]) -> list[Finding]:
    import libcst as cst
    from libcst.metadata import PositionProvider

    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        # Fail closed: a file that does not parse cannot be shown to respect the rule,
        # and a hook that skipped it would let anything through behind one syntax error.
        message = f"cannot check this file, it does not parse: {exc.message}"
        return [
            Finding(PARSE_ERROR, c.lesson.id, path, exc.raw_line, exc.raw_column + 1, message)
            for c in compiled
        ]
    from ladder.rules.custom import LadderCheck

    dispatcher = Dispatcher()
    checks: list[tuple[Any, Lesson]] = []
    wrapper = None
    for c in compiled:
        try:
            check = c.make()
            deps = check.get_inherited_dependencies() if isinstance(check, LadderCheck) else ()
            if deps:  # a custom check asked for metadata (scopes, qualified names, ...)
                wrapper = wrapper or cst.MetadataWrapper(module, unsafe_skip_copy=True)
                check.metadata = wrapper.resolve_many(deps)
        except Exception as exc:
            raise _crash(None, c.lesson, path, exc) from exc
        dispatcher.add(check, cst.CSTVisitor if isinstance(check, LadderCheck) else None)
        checks.append((check, c.lesson))
    try:
        walk(module, dispatcher, cst.CSTNode)
    except _Crash as crash:
        lesson = next(lesson for check, lesson in checks if check is crash.check)
        raise _crash(crash.check, lesson, path, crash.exc) from crash.exc
    if not any(check.reports for check, _ in checks):
        return []
    wrapper = wrapper or cst.MetadataWrapper(module, unsafe_skip_copy=True)
    positions = _positions(wrapper, PositionProvider)
    findings = []
    for check, lesson in checks:
        for node, message in check.reports:
            where = positions.get(node)
            line, column = (where.start.line, where.start.column + 1) if where else (1, 1)
            findings.append(Finding(check.rule_id, lesson.id, path, line, column, message))
    return findings


ENGINE = LibcstEngine()
