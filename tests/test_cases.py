"""Block/allow cases: generated ones pass, failures say what went wrong, engines run in batches."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from ladder.findings import Finding
from ladder.lesson import Case, Lesson, Rule
from ladder.rules import cases as cases_module
from ladder.rules.base import CheckRequest
from ladder.rules.cases import CaseResult, run_cases
from ladder.rules.registry import ENGINES
from testing.fixtures import write


def lesson(lesson_id: str, template: str, args: dict[str, Any], **kw: Any) -> Lesson:
    block = tuple(Case(c) if isinstance(c, str) else c for c in kw.pop("block", ()))
    allow = tuple(Case(c) if isinstance(c, str) else c for c in kw.pop("allow", ()))
    return Lesson(lesson_id, "title", "why", rule=Rule(template, args, block, allow), **kw)


GENERATED = [
    pytest.param("forbid-call", {"name": "eval"}, id="forbid-call-bare"),
    pytest.param("forbid-call", {"name": "torch.load"}, id="forbid-call-dotted"),
    pytest.param("forbid-import", {"module": "pickle"}, id="forbid-import"),
    pytest.param("forbid-import", {"module": "os.path"}, id="forbid-import-dotted"),
    pytest.param("require-call", {"function": "generate", "calls": "validate_input"}, id="require-call"),
    pytest.param("require-call", {"function": "run", "calls": "checks.validate"}, id="require-call-dotted"),
    pytest.param("bound", {"expr": "LR <= 0.05"}, id="bound-le"),
    pytest.param("bound", {"expr": "STEPS > 100"}, id="bound-gt-int"),
    pytest.param("bound", {"name": "X", "op": "!=", "value": 0}, id="bound-ne"),
    pytest.param("bound", {"name": "X", "op": "==", "value": -2.5}, id="bound-eq"),
    pytest.param("protect", {"paths": ["evaluate.py", "data/**"]}, id="protect"),
    pytest.param("regex", {"regex": "TODO"}, id="regex"),
    pytest.param("pattern", {"pattern": "eval(...)"}, id="pattern"),
]


@pytest.mark.parametrize(("template", "args"), GENERATED)
def test_generated_cases_pass(template: str, args: dict[str, Any]) -> None:
    results = run_cases([lesson("l", template, args)])
    kinds = {r.kind for r in results}
    assert kinds == {"block", "allow"}
    assert all(r.ok for r in results), [r.detail for r in results if not r.ok]


def test_require_call_cases_prove_it_skips_stubs() -> None:
    """The template's own allow cases carry each kind of stub (issue 13), so `ladder test`
    on every require-call lesson proves the stubs pass."""
    from ladder.rules.registry import TEMPLATES

    _, allow = TEMPLATES["require-call"].generated_cases({"function": "generate", "calls": "check"})
    codes = [case.code for case in allow]
    assert any("@overload" in code for code in codes)
    assert any("(Protocol)" in code for code in codes)
    assert any(code.rstrip().endswith("...") and "overload" not in code for code in codes)
    assert all(r.ok for r in run_cases([lesson("l", "require-call", {"function": "generate", "calls": "check"})]))


def test_failing_cases_say_what_went_wrong() -> None:
    rule = lesson(
        "no-eval", "forbid-call", {"name": "eval"},
        block=["eval(x)\n", Case("x = 1\n", note="harmless")],
        allow=["y = 2\n", "y = 2\nz = eval(y)\n"],
    )
    results = run_cases([rule])
    assert [(r.kind, r.index, r.ok) for r in results] == [
        ("block", 0, True), ("block", 1, False), ("allow", 0, True), ("allow", 1, False),
    ]
    assert results[1].detail == "block case 1 (harmless) was not flagged"
    assert results[3].detail == "allow case 1 was flagged at line 2: call to eval() is forbidden"


def test_cases_ignore_lesson_paths_and_keep_file_names() -> None:
    rule = lesson(
        "stubs", "forbid-call", {"name": "eval"}, paths=("nowhere/**",),
        block=[Case("eval(x)\n", path="pkg/types.pyi")], allow=[Case("eval(x)\n", path="notes.txt")],
    )
    assert all(r.ok for r in run_cases([rule]))


def test_case_that_does_not_parse() -> None:
    results = run_cases([lesson("l", "forbid-call", {"name": "eval"}, block=["eval(x\n"])])
    assert not results[0].ok
    assert results[0].detail.startswith("block case 0 does not parse")


def test_invalid_rule_and_missing_kinds() -> None:
    results = run_cases([
        lesson("bad", "forbid-call", {}),
        lesson("unknown", "nope", {}),
        Lesson("prose", "t", "w"),
    ])
    assert [(r.lesson, r.kind, r.ok) for r in results] == [("bad", "rule", False), ("unknown", "rule", False)]
    assert "argument 'name'" in results[0].detail
    assert "unknown rule template 'nope'" in results[1].detail


def test_missing_kind_is_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    from ladder.rules.templates import forbid_call

    monkeypatch.setattr(type(forbid_call.TEMPLATE), "generated_cases", lambda self, args: ((), ()))
    results = run_cases([lesson("l", "forbid-call", {"name": "eval"}, block=["eval(x)\n"])])
    assert [(r.kind, r.ok) for r in results] == [("block", True), ("allow", False)]
    assert "no allow case" in results[1].detail


def test_each_engine_runs_once_for_all_lessons(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, list[str], int]] = []

    class Spy:
        def __init__(self, name: str) -> None:
            self.name, self.real = name, ENGINES[name]

        def run(self, lessons: Sequence[Lesson], req: CheckRequest) -> list[Finding]:
            calls.append((self.name, [x.id for x in lessons], len(req.files)))
            return self.real.run(lessons, req)

    monkeypatch.setattr(cases_module, "ENGINES", {name: Spy(name) for name in ENGINES})
    lessons = [
        lesson("a", "forbid-call", {"name": "eval"}),
        lesson("b", "bound", {"expr": "LR < 1"}),
        lesson("c", "regex", {"regex": "TODO"}),
        lesson("d", "protect", {"paths": ["evaluate.py"]}),
    ]
    results = run_cases(lessons)
    assert all(r.ok for r in results), [r.detail for r in results if not r.ok]
    libcst_calls = [c for c in calls if c[0] == "libcst"]
    assert libcst_calls == [("libcst", ["a", "b"], 7)]  # eval: 1 block + 2 allow; bound: 2 + 2
    assert [c[0] for c in calls].count("regex") == 1
    assert [c[0] for c in calls].count("diff") == 2  # one tiny request per protect case


_modules = itertools.count()


def test_custom_check_cases_and_a_crash_in_the_batch(tmp_path: Path) -> None:
    name = f"case_checks_{next(_modules)}"
    write(tmp_path, f"{name}.py", '''
import libcst as cst
from ladder.rules.custom import LadderCheck

class NoPrint(LadderCheck):
    VALID = ["log.info('x')\\n"]
    INVALID = ["print('x')\\n"]

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "print":
            self.report(node, "no print")

class Explodes(LadderCheck):
    VALID = ["x = 1\\n"]
    INVALID = ["y = 2\\n"]

    def visit_Name(self, node: cst.Name) -> None:
        raise ValueError("boom")
''')
    try:
        results = run_cases(
            [
                lesson("prints", "custom", {"check": f"{name}:NoPrint"}),
                lesson("explodes", "custom", {"check": f"{name}:Explodes"}),
                lesson("evals", "forbid-call", {"name": "eval"}),
            ],
            root=tmp_path,
        )
    finally:
        sys.modules.pop(name, None)
    by_lesson: dict[str, list[CaseResult]] = {}
    for r in results:
        by_lesson.setdefault(r.lesson, []).append(r)
    assert [(r.kind, r.ok) for r in by_lesson["prints"]] == [("block", True), ("allow", True)]
    assert all(r.ok for r in by_lesson["evals"])
    assert [r.ok for r in by_lesson["explodes"]] == [False, False]
    assert "the rule failed" in by_lesson["explodes"][0].detail
    assert "ValueError: boom" in by_lesson["explodes"][0].detail


def test_custom_check_that_cannot_be_imported(tmp_path: Path) -> None:
    [result] = run_cases([lesson("l", "custom", {"check": "no_such_module_here:Check"})], root=tmp_path)
    assert (result.kind, result.ok) == ("rule", False)
    assert "cannot import 'no_such_module_here'" in result.detail


def test_case_path_must_be_relative() -> None:
    [result] = run_cases([lesson("l", "forbid-call", {"name": "eval"}, block=[Case("eval(x)\n", path="../x.py")])])
    assert (result.kind, result.ok) == ("rule", False)
    assert "block case 0: path '../x.py' must be relative" in result.detail
