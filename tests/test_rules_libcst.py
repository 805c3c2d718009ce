"""The libcst templates and engine: paired noop/fixes cases, custom checks, crashes, one parse."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import libcst as cst
import pytest

from ladder.errors import LadderError, RuleCrash
from ladder.findings import Finding
from ladder.lesson import Lesson, Rule
from ladder.rules import libcst_engine
from ladder.rules.base import CheckRequest
from ladder.rules.runner import check
from testing.fixtures import write


def lesson(template: str, args: Mapping[str, Any], lesson_id: str = "l", **kw: Any) -> Lesson:
    return Lesson(lesson_id, "title", "why", rule=Rule(template, dict(args)), **kw)


def run(template: str, args: Mapping[str, Any], code: str, path: str = "m.py") -> list[Finding]:
    request = CheckRequest(Path("."), [path], contents={path: code})
    return check(request, [lesson(template, args)])


def lines(findings: list[Finding]) -> list[int]:
    return [f.line for f in findings]


FORBID_EVAL = ("forbid-call", {"name": "eval"})
FORBID_SYSTEM = ("forbid-call", {"name": "os.system"})
FORBID_PICKLE = ("forbid-import", {"module": "pickle"})
FORBID_OS_PATH = ("forbid-import", {"module": "os.path"})
REQUIRE = ("require-call", {"function": "generate", "calls": "validate_input"})
BOUND = ("bound", {"expr": "LR <= 0.05"})


@pytest.mark.parametrize(
    ("rule", "code", "expected"),
    [
        pytest.param(FORBID_EVAL, "x = eval(s)\n", [1], id="forbid-call-bare"),
        pytest.param(FORBID_SYSTEM, "import os\nos.system('ls')\n", [2], id="forbid-call-dotted"),
        pytest.param(FORBID_SYSTEM, "import os as o\no.system('ls')\n", [2], id="forbid-call-module-alias"),
        pytest.param(FORBID_SYSTEM, "from os import system\nsystem('ls')\n", [2], id="forbid-call-from-import"),
        pytest.param(FORBID_SYSTEM, "from os import system as run\nrun('ls')\n", [2], id="forbid-call-from-alias"),
        pytest.param(FORBID_SYSTEM, "def f():\n    os.system(\n        'ls')\n", [2], id="forbid-call-unimported"),
        pytest.param(FORBID_PICKLE, "import pickle\n", [1], id="forbid-import-plain"),
        pytest.param(FORBID_PICKLE, "import os, pickle.x\n", [1], id="forbid-import-submodule"),
        pytest.param(FORBID_PICKLE, "import pickle as p\n", [1], id="forbid-import-alias"),
        pytest.param(FORBID_PICKLE, "from pickle import loads\n", [1], id="forbid-import-from"),
        pytest.param(FORBID_PICKLE, "def f():\n    from pickle.x import y\n", [2], id="forbid-import-from-sub"),
        pytest.param(FORBID_OS_PATH, "from os import path\n", [1], id="forbid-import-submodule-from-parent"),
        pytest.param(REQUIRE, "def generate(x):\n    return x\n", [1], id="require-call-missing"),
        pytest.param(REQUIRE, "@cache\ndef generate(x):\n    return x\n", [2], id="require-call-def-line"),
        pytest.param(REQUIRE, "class M:\n    async def generate(self, x):\n        return x\n", [2], id="require-call-method"),
        pytest.param(
            REQUIRE, "def generate(x):\n    validate(x)\n    return x\n", [1], id="require-call-other-name"
        ),
        pytest.param(
            REQUIRE,
            "def generate(x):\n    return x\ndef other(y):\n    validate_input(y)\n",
            [1],
            id="require-call-call-elsewhere",
        ),
        pytest.param(
            REQUIRE,
            "from typing import overload\n@overload\ndef generate(x: int) -> int: ...\n"
            "def generate(x):\n    return x\n",
            [4],
            id="require-call-overload-implementation",
        ),
        pytest.param(REQUIRE, "def generate(x):\n    pass\n", [1], id="require-call-pass-body"),
        pytest.param(REQUIRE, 'def generate(x):\n    """Doc only."""\n', [1], id="require-call-docstring-only"),
        pytest.param(
            REQUIRE, "def generate(x):\n    ...\n    return x\n", [1], id="require-call-ellipsis-then-code"
        ),
        pytest.param(
            REQUIRE,
            "from mylib import overload\n@overload\ndef generate(x):\n    return x\n",
            [3],
            id="require-call-other-overload",
        ),
        pytest.param(
            REQUIRE, "class Base(MyProtocol):\n    def generate(self, x):\n        return x\n", [2],
            id="require-call-not-a-protocol",
        ),
        pytest.param(
            REQUIRE,
            "from typing import Protocol\nclass P(Protocol):\n    def build(self):\n"
            "        def generate(x):\n            return x\n        return generate\n",
            [4],
            id="require-call-nested-in-protocol-method",
        ),
        pytest.param(BOUND, "LR = 0.1\n", [1], id="bound-plain"),
        pytest.param(BOUND, "LR: float = 1e-1\n", [1], id="bound-annotated"),
        pytest.param(BOUND, "A = LR = 3\n", [1], id="bound-chained-assign"),
        pytest.param(BOUND, "LR = 0.01\nLR = 0.5\n", [2], id="bound-reassigned"),
        pytest.param(("bound", {"name": "WD", "op": ">", "value": 0}), "WD = -1e-3\n", [1], id="bound-negative"),
    ],
)
def test_rule_fixes(rule: tuple[str, dict[str, Any]], code: str, expected: list[int]) -> None:
    assert lines(run(*rule, code)) == expected


@pytest.mark.parametrize(
    ("rule", "code"),
    [
        pytest.param(FORBID_EVAL, "model.eval()\n", id="forbid-call-method-same-name"),
        pytest.param(FORBID_EVAL, "# eval(x)\ns = 'eval(x)'\n", id="forbid-call-comment-string"),
        pytest.param(FORBID_EVAL, "f = eval\n", id="forbid-call-reference"),
        pytest.param(FORBID_EVAL, "from mylib import eval\neval(x)\n", id="forbid-call-shadowed"),
        pytest.param(FORBID_SYSTEM, "shell.system('ls')\n", id="forbid-call-other-object"),
        pytest.param(FORBID_SYSTEM, "import myos as os\nos.system('ls')\n", id="forbid-call-other-module"),
        pytest.param(FORBID_PICKLE, "import pickled\nimport os\n", id="forbid-import-prefix"),
        pytest.param(FORBID_PICKLE, "from . import pickle\nfrom .pickle import x\n", id="forbid-import-relative"),
        pytest.param(FORBID_OS_PATH, "import os\nfrom os import getcwd\n", id="forbid-import-parent"),
        pytest.param(REQUIRE, "def generate(x):\n    validate_input(x)\n", id="require-call-direct"),
        pytest.param(REQUIRE, "class M:\n    def generate(self, x):\n        self.validate_input(x)\n", id="require-call-self"),
        pytest.param(REQUIRE, "def generate(x):\n    if x:\n        return checks.validate_input(x)\n", id="require-call-nested"),
        pytest.param(REQUIRE, "def other(x):\n    return x\n", id="require-call-other-function"),
        pytest.param(
            REQUIRE,
            "from typing import overload\n\n@overload\ndef generate(x: int) -> int: ...\n"
            "@overload\ndef generate(x: str) -> str:\n    ...\n"
            "def generate(x):\n    validate_input(x)\n    return x\n",
            id="require-call-overload-stubs",
        ),
        pytest.param(
            REQUIRE, "import typing\n@typing.overload\ndef generate(x: int) -> int:\n    return x\n",
            id="require-call-typing-dot-overload",
        ),
        pytest.param(
            REQUIRE, "import typing_extensions as te\n@te.overload\ndef generate(x: int) -> int: pass\n",
            id="require-call-typing-extensions-alias",
        ),
        pytest.param(
            REQUIRE, "from typing import overload as ov\n@ov\ndef generate(x: int) -> int: pass\n",
            id="require-call-overload-renamed",
        ),
        pytest.param(REQUIRE, "def generate(x): ...\n", id="require-call-ellipsis-one-line"),
        pytest.param(
            REQUIRE, 'async def generate(x):\n    """Subclasses validate."""\n    ...\n',
            id="require-call-docstring-and-ellipsis",
        ),
        pytest.param(
            REQUIRE,
            "from typing import Protocol\nclass Gen(Protocol):\n    def generate(self, x):\n"
            "        return x\n",
            id="require-call-protocol-member",
        ),
        pytest.param(
            REQUIRE,
            "import typing\nclass Gen(Base, typing.Protocol[T]):\n    def generate(self, x):\n"
            '        """Return x."""\n',
            id="require-call-generic-typing-protocol",
        ),
        pytest.param(BOUND, "LR = 0.05\n", id="bound-at-limit"),
        pytest.param(BOUND, "LR = BASE * 2\nLR = '0.5'\nLR = True\n", id="bound-not-literal"),
        pytest.param(BOUND, "def f():\n    LR = 0.5\nif X:\n    LR = 0.5\n", id="bound-not-module-level"),
        pytest.param(BOUND, "LR, WD = 0.5, 0\nLR += 1\n", id="bound-unpacking-augmented"),
        pytest.param(BOUND, "OTHER = 0.5\n", id="bound-other-constant"),
    ],
)
def test_rule_noop(rule: tuple[str, dict[str, Any]], code: str) -> None:
    assert run(*rule, code) == []


def test_finding_fields() -> None:
    [finding] = run("forbid-call", {"name": "eval", "message": "use literal_eval"}, "x = 1\ny = eval(s)\n")
    assert finding == Finding("forbid-call", "l", "m.py", 2, 5, "use literal_eval", level=1)
    [finding] = run(*REQUIRE, "def generate(x):\n    return x\n")
    assert finding.message == "generate() must call validate_input()"
    [finding] = run(*BOUND, "LR = 0.1\n")
    assert finding.message == "LR = 0.1 violates LR <= 0.05"


def test_non_python_files_are_not_parsed() -> None:
    assert run(*FORBID_EVAL, "eval(x)\n", path="notes.txt") == []
    assert lines(run(*FORBID_EVAL, "eval(x)\n", path="stubs.pyi")) == [1]


def test_unparseable_file_fails_closed() -> None:
    request = CheckRequest(Path("."), ["bad.py"], contents={"bad.py": "x = eval\ndef generate(:\n"})
    found = check(request, [lesson(*FORBID_EVAL, lesson_id="a"), lesson(*REQUIRE, lesson_id="b")])
    assert [(f.rule, f.lesson, f.line) for f in found] == [("parse-error", "a", 2), ("parse-error", "b", 2)]
    assert "does not parse" in found[0].message


def test_a_file_that_cannot_hold_the_forbidden_name_is_not_parsed() -> None:
    # Sound either way: without the identifier `eval` there is no call of it to let
    # through, whatever the syntax; only the rule that can fire reports the parse error.
    request = CheckRequest(Path("."), ["bad.py"], contents={"bad.py": "x = eval\ndef f(:\n"})
    found = check(request, [lesson(*FORBID_EVAL, lesson_id="a"), lesson(*REQUIRE, lesson_id="b")])
    assert [(f.rule, f.lesson) for f in found] == [("parse-error", "a")]


@pytest.mark.parametrize("text", [
    "# -*- coding: utf-7 -*-\n+AGU-val(x)\n",  # Python reads `eval(x)`
    "#!/usr/bin/env python\n# vim: set fileencoding=utf_7 :\n+AGU-val(x)\n",
])
def test_a_file_is_checked_as_python_reads_it(text: str) -> None:
    request = CheckRequest(Path("."), ["enc.py"], contents={"enc.py": text})
    found = check(request, [lesson(*FORBID_EVAL)])
    assert [(f.rule, f.line) for f in found] == [("forbid-call", text.count("\n"))]


def test_a_file_its_declared_encoding_cannot_read_fails_closed() -> None:
    text = "# coding: no-such-codec\neval(x)\n"
    request = CheckRequest(Path("."), ["enc.py"], contents={"enc.py": text})
    found = check(request, [lesson(*FORBID_EVAL)])
    assert [f.rule for f in found] == ["parse-error"]
    assert "declared encoding" in found[0].message


def test_identifiers_are_compared_as_python_reads_them() -> None:
    fullwidth = "\uff45val(x)\n"  # NFKC: `eval`
    assert lines(run(*FORBID_EVAL, fullwidth)) == [1]


# --- custom checks ------------------------------------------------------------------

CHECK_MODULE = '''
import libcst as cst
from libcst.metadata import ParentNodeProvider
from ladder.rules.custom import LadderCheck


class NoPrint(LadderCheck):
    MESSAGE = "use logging, not print()"
    VALID = ["log.info('x')\\n"]
    INVALID = ["print('x')\\n"]

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "print":
            self.report(node)


class TopLevelOnly(LadderCheck):
    METADATA_DEPENDENCIES = (ParentNodeProvider,)

    def visit_Call(self, node: cst.Call) -> None:
        parent = self.get_metadata(ParentNodeProvider, node)
        if isinstance(parent, cst.Expr):
            self.report(node, "bare call statement")


class Explodes(LadderCheck):
    def visit_Name(self, node: cst.Name) -> None:
        raise ValueError("boom")


class NotACheck:
    pass


class AttributeHook(LadderCheck):
    def visit_Call_func(self, node: cst.Call) -> None:
        pass
'''
_modules = itertools.count()


@pytest.fixture
def checks_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A uniquely named module of custom checks under a repository root."""
    name = f"user_checks_{next(_modules)}"
    write(tmp_path, f"{name}.py", CHECK_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def run_custom(spec: str, code: str, root: Path) -> list[Finding]:
    request = CheckRequest(root, ["m.py"], contents={"m.py": code})
    return check(request, [lesson("custom", {"check": spec})])


def test_custom_check_fixes(checks_module: str, tmp_path: Path) -> None:
    [finding] = run_custom(f"{checks_module}:NoPrint", "x = 1\nprint(x)\n", tmp_path)
    assert (finding.rule, finding.line, finding.message) == ("NoPrint", 2, "use logging, not print()")


def test_custom_check_noop(checks_module: str, tmp_path: Path) -> None:
    assert run_custom(f"{checks_module}:NoPrint", "log.info(x)\n", tmp_path) == []


def test_custom_check_with_metadata(checks_module: str, tmp_path: Path) -> None:
    found = run_custom(f"{checks_module}:TopLevelOnly", "f(x)\ny = g(x)\n", tmp_path)
    assert [(f.line, f.message) for f in found] == [(1, "bare call statement")]


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        pytest.param("Missing", "has no class 'Missing'", id="no-such-class"),
        pytest.param("NotACheck", "not a subclass of ladder.rules.custom.LadderCheck", id="not-a-check"),
        pytest.param("AttributeHook", "attribute hooks", id="attribute-hook"),
    ],
)
def test_custom_check_bad_class(checks_module: str, tmp_path: Path, cls: str, expected: str) -> None:
    with pytest.raises(LadderError) as info:
        run_custom(f"{checks_module}:{cls}", "x = 1\n", tmp_path)
    assert expected in info.value.what
    assert f"{checks_module}:{cls}" in info.value.what
    assert info.value.exit_code == 2


def test_custom_check_import_failure(tmp_path: Path) -> None:
    write(tmp_path, "broken_checks.py", "import does_not_exist_anywhere\n")
    with pytest.raises(LadderError) as info:
        run_custom("broken_checks:Check", "x = 1\n", tmp_path)
    sys.modules.pop("broken_checks", None)
    assert "cannot import 'broken_checks'" in info.value.what
    assert "does_not_exist_anywhere" in info.value.what
    assert info.value.where == ".ladder/lessons/l.toml"
    assert "importable from the repository root" in info.value.todo


def test_rule_that_raises_is_a_rule_crash(checks_module: str, tmp_path: Path) -> None:
    with pytest.raises(RuleCrash) as info:
        run_custom(f"{checks_module}:Explodes", "x = 1\n", tmp_path)
    crash = info.value
    assert (crash.rule, crash.lesson, crash.path) == ("Explodes", "l", "m.py")
    assert "ValueError: boom" in crash.what
    assert "--no-verify" in crash.todo


# --- the engine: one parse, one traversal, positions only when needed ---------------


@pytest.mark.parametrize("use_ast", [True, False])
def test_one_parse_per_file_for_twenty_rules(monkeypatch: pytest.MonkeyPatch, use_ast: bool) -> None:
    from ladder.rules import ast_walk

    parsed: list[str] = []
    real, real_ast = cst.parse_module, ast_walk.parse

    def counting(source: str, *args: Any, **kw: Any) -> cst.Module:
        parsed.append(source)
        return real(source, *args, **kw)

    def counting_ast(source: str) -> Any:
        parsed.append(source)
        return real_ast(source)

    monkeypatch.setattr(cst, "parse_module", counting)
    monkeypatch.setattr(ast_walk, "parse", counting_ast)
    monkeypatch.setattr(libcst_engine, "USE_AST", use_ast)
    lessons = [lesson("forbid-call", {"name": f"banned_{i}"}, f"call-{i}") for i in range(10)]
    lessons += [lesson("bound", {"expr": f"C{i} < 10"}, f"bound-{i}") for i in range(5)]
    lessons += [lesson("require-call", {"function": f"f{i}", "calls": "g"}, f"req-{i}") for i in range(5)]
    files = {f"m{i}.py": f"C{i} = {i * 10}\nbanned_{i}(x)\ndef f{i}():\n    pass\n" for i in range(5)}
    found = check(CheckRequest(Path("."), sorted(files), contents=files), lessons)
    assert len(parsed) == 5
    assert sorted({f.lesson for f in found}) == sorted(
        [f"call-{i}" for i in range(5)] + [f"bound-{i}" for i in range(1, 5)] + [f"req-{i}" for i in range(5)]
    )


def test_positions_only_for_files_with_findings(monkeypatch: pytest.MonkeyPatch) -> None:
    wrapped: list[cst.Module] = []
    real = cst.MetadataWrapper

    def counting(module: cst.Module, *args: Any, **kw: Any) -> cst.MetadataWrapper:
        wrapped.append(module)
        return real(module, *args, **kw)

    monkeypatch.setattr(cst, "MetadataWrapper", counting)
    monkeypatch.setattr(libcst_engine, "USE_AST", False)  # positions are libcst's here
    files = {"clean.py": "x = 1\n", "dirty.py": "eval(x)\n", "clean2.py": "y = 2\n"}
    found = check(CheckRequest(Path("."), sorted(files), contents=files), [lesson(*FORBID_EVAL)])
    assert [f.path for f in found] == ["dirty.py"]
    assert len(wrapped) == 1


WALK_SAMPLE = '''\
"""doc"""
import os, sys as system
from a.b import (c, d as e)

@decorator(1, key=[2, 3])
async def f(x: int = 1, *args, y=None, **kw) -> dict[str, int]:
    async with lock as l, other():
        z = {k: v for k, v in kw.items() if k}  # comment
        return await g(*args, **{"a": (1, 2)}, t=lambda q: q[1:2, ::3])

class C(Base, metaclass=M):
    attr: int = 0
    def m(self): global X; X += 1; return f"{self!r:>10}"

try:
    pass
except (ValueError, TypeError) as exc:
    raise RuntimeError from exc
finally:
    del a[0], b.c
match command:
    case [x, *rest] if x > 0:
        print(x if x else -x, not x, x @ y)
'''


def test_pruned_walk_visits_every_code_node_in_order() -> None:
    module = cst.parse_module(WALK_SAMPLE)
    expected: list[str] = []

    class Recorder(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            expected.append(f"+{type(node).__name__}")
            return True

        def on_leave(self, original_node: cst.CSTNode) -> None:
            expected.append(f"-{type(original_node).__name__}")

    module.visit(Recorder())
    seen: list[str] = []
    dispatcher = libcst_engine.Dispatcher()
    names = {e[1:] for e in expected} - libcst_engine.TRIVIA_TYPES
    for name in names:
        dispatcher.visit.setdefault(name, []).append((lambda n: seen.append(f"+{type(n).__name__}"), None))
        dispatcher.leave.setdefault(name, []).append((lambda n: seen.append(f"-{type(n).__name__}"), None))
    libcst_engine.walk(module, dispatcher, cst.CSTNode)
    code_nodes = [e for e in expected if e[1:] not in libcst_engine.TRIVIA_TYPES]
    assert sorted(seen) == sorted(code_nodes)
    # Nesting is preserved: every node is left after its children, in source order for bodies.
    assert seen[0] == "+Module" and seen[-1] == "-Module"
    assert seen.index("+FunctionDef") < seen.index("+Await") < seen.index("-FunctionDef") < seen.index("+ClassDef")


@pytest.mark.skipif(sys.version_info < (3, 11), reason="positions need a deeper stack before 3.11")
def test_walk_survives_deep_nesting() -> None:
    code = "x = " + " + ".join(["1"] * 1200) + "\n"
    found = run(*FORBID_EVAL, code + "eval(x)\n")
    assert lines(found) == [2]


# --- bounded cost per file (issue 12, part 2) -----------------------------------------
# libcst's tree costs ~650 bytes per byte of source: a generated 6 MB module took 4 GB.


def _counting_parses(monkeypatch: pytest.MonkeyPatch) -> list[cst.Module]:
    parsed: list[cst.Module] = []
    real = cst.parse_module

    def counting(source: str, *args: Any, **kw: Any) -> cst.Module:
        parsed.append(real(source, *args, **kw))
        return parsed[-1]

    monkeypatch.setattr(cst, "parse_module", counting)
    return parsed


def test_file_over_the_parse_limit_is_refused_before_any_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed = _counting_parses(monkeypatch)
    files = {"a_small.py": "x = eval\n", "gen/big_pb.py": "é = eval\n" * 14,
             "gen/more_pb.py": "y = eval\n" * 30}
    # 14 lines of 10 UTF-8 bytes (9 characters): the limit is on bytes, as on disk.
    request = CheckRequest(Path("."), sorted(files), contents=files, max_parse_bytes=139)
    with pytest.raises(LadderError) as info:
        check(request, [lesson(*FORBID_EVAL)])
    line = info.value.line()
    assert line.startswith("ladder: error: gen/big_pb.py: 140 bytes is over the 139 bytes limit")
    assert "max_parse_bytes = 139" in line and "(1 more file(s) over it)" in line
    assert "`exclude`" in line and "raise `max_parse_bytes`" in line
    assert parsed == []  # not even the small file that comes first


def test_file_at_the_parse_limit_is_checked() -> None:
    code = "eval(x)\n"
    request = CheckRequest(Path("."), ["m.py"], contents={"m.py": code}, max_parse_bytes=len(code))
    assert lines(check(request, [lesson(*FORBID_EVAL)])) == [1]


def test_a_large_file_no_rule_can_fire_on_is_not_refused() -> None:
    files = {"gen/big_pb.py": "x = 1\n" * 100, "m.py": "eval(x)\n"}  # no `eval` in the big one
    request = CheckRequest(Path("."), sorted(files), contents=files, max_parse_bytes=100)
    assert [f.path for f in check(request, [lesson(*FORBID_EVAL)])] == ["m.py"]


def test_parse_limit_applies_only_to_files_a_libcst_rule_reads(tmp_path: Path) -> None:
    big = "x = eval\n" * 100
    write(tmp_path, "notes.txt", big)
    write(tmp_path, "vendor/big.py", big)
    write(tmp_path, "src/ok.py", "eval(x)\n")
    request = CheckRequest(tmp_path, ["notes.txt", "src/ok.py", "vendor/big.py"], max_parse_bytes=100)
    found = check(request, [lesson(*FORBID_EVAL, paths=("src/**",))])
    assert [(f.path, f.line) for f in found] == [("src/ok.py", 1)]
    assert check(request, [lesson(*FORBID_EVAL)], exclude=("vendor/**",)) == found
    with pytest.raises(LadderError) as info:
        check(request, [lesson(*FORBID_EVAL)])
    assert info.value.where == "vendor/big.py" and info.value.what.startswith("900 bytes")  # on disk


def test_one_tree_alive_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The memory bound is the largest file's tree, not the sum: each tree is freed
    (by reference counting, not a later garbage collection) before the next parse."""
    import gc

    def trees() -> int:  # libcst nodes have __slots__ and no weak references
        return sum(type(o) is cst.Module for o in gc.get_objects())

    gc.collect()
    before = trees()
    alive: list[int] = []
    real = cst.parse_module

    def counting(source: str, *args: Any, **kw: Any) -> cst.Module:
        alive.append(trees() - before)
        return real(source, *args, **kw)

    monkeypatch.setattr(cst, "parse_module", counting)
    monkeypatch.setattr(libcst_engine, "USE_AST", False)  # the libcst path holds the big trees
    files = {f"m{i}.py": f"def f{i}():\n    return eval(x)\n" for i in range(5)}
    gc.disable()  # so a tree kept alive by a cycle cannot be freed by luck
    try:
        found = check(CheckRequest(Path("."), sorted(files), contents=files),
                      [lesson(*FORBID_EVAL), lesson(*REQUIRE, lesson_id="r")])
    finally:
        gc.enable()
    assert len(found) == 5  # findings keep positions, never trees
    assert alive == [0] * 5
    assert trees() == before
