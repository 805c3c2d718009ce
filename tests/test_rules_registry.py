"""The registry (templates, engines, argument validation) and the runner that drives engines."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from ladder.errors import LadderError, RuleCrash
from ladder.findings import Finding
from ladder.git import Change
from ladder.lesson import Case, Lesson, Rule
from ladder.rules import registry, runner
from ladder.rules.base import CheckRequest
from ladder.rules.registry import (
    ENGINES,
    TEMPLATES,
    describe,
    get_template,
    validate_rule,
    with_generated_cases,
)
from ladder.rules.runner import applicable, check

WHERE = ".ladder/lessons/x.toml"


def test_every_template_and_engine_is_registered() -> None:
    assert set(TEMPLATES) == {
        "forbid-call", "forbid-import", "require-call", "bound", "protect", "pattern", "regex", "custom",
    }
    assert set(ENGINES) == {"libcst", "semgrep", "regex", "diff"}
    for name, template in TEMPLATES.items():
        assert template.name == name
        assert template.engine in ENGINES
        assert template.summary.endswith(".")
    for name, engine in ENGINES.items():
        assert engine.name == name


def test_registry_import_does_not_import_libcst() -> None:
    code = "import sys, ladder.rules.registry, ladder.rules.runner; print('libcst' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unknown_template() -> None:
    with pytest.raises(LadderError) as info:
        get_template("forbid-everything", WHERE)
    err = info.value
    assert err.exit_code == 2
    assert "unknown rule template 'forbid-everything'" in err.what
    assert err.where == WHERE
    assert "forbid-call" in err.todo and "custom" in err.todo


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        pytest.param(Rule("forbid-call", {}), "argument 'name' of template 'forbid-call' is missing", id="missing"),
        pytest.param(Rule("forbid-call", {"name": "eval", "nmae": 1}), "unknown rule argument 'nmae'", id="unknown"),
        pytest.param(Rule("forbid-call", {"name": 3}), "argument 'name' of template 'forbid-call' is 3", id="mistyped"),
        pytest.param(Rule("forbid-call", {"name": "os system"}), "not a dotted Python name", id="not-dotted"),
        pytest.param(Rule("forbid-import", {}), "argument 'module'", id="import-missing"),
        pytest.param(Rule("require-call", {"function": "generate"}), "argument 'calls'", id="require-missing-calls"),
        pytest.param(Rule("require-call", {"function": "a.b", "calls": "c"}), "not a Python identifier", id="require-dotted-function"),
        pytest.param(Rule("bound", {}), "argument 'expr' of template 'bound' is missing (or give name, op and value)", id="bound-nothing"),
        pytest.param(Rule("bound", {"expr": "LR is small"}), "argument 'expr'", id="bound-bad-expr"),
        pytest.param(Rule("bound", {"expr": "LR <= 1", "op": "<"}), "argument 'op' of template 'bound' cannot be given together with 'expr'", id="bound-both-forms"),
        pytest.param(Rule("bound", {"name": "LR", "op": "=<", "value": 1}), "argument 'op' of template 'bound' is '=<', not one of", id="bound-bad-op"),
        pytest.param(Rule("bound", {"name": "LR", "op": "<", "value": "small"}), "argument 'value' of template 'bound' is 'small'", id="bound-bad-value"),
        pytest.param(Rule("bound", {"name": "LR", "op": "<", "value": True}), "argument 'value'", id="bound-bool-value"),
        pytest.param(Rule("custom", {"check": "no_colon"}), "argument 'check' of template 'custom' is 'no_colon'", id="custom-bad-spec"),
    ],
)
def test_bad_arguments(rule: Rule, expected: str) -> None:
    with pytest.raises(LadderError) as info:
        validate_rule(rule, WHERE)
    assert expected in info.value.what
    assert info.value.where == WHERE
    assert info.value.exit_code == 2


@pytest.mark.parametrize(
    ("rule", "args"),
    [
        pytest.param(Rule("bound", {"expr": " LR<=0.05 "}), {"name": "LR", "op": "<=", "value": 0.05}, id="bound-expr"),
        pytest.param(Rule("bound", {"name": "N", "op": ">", "value": "3"}), {"name": "N", "op": ">", "value": 3}, id="bound-cli-strings"),
        pytest.param(Rule("bound", {"expr": "LR < -1e-3", "message": "m"}), {"name": "LR", "op": "<", "value": -0.001, "message": "m"}, id="bound-expr-message"),
        pytest.param(Rule("forbid-call", {"name": " os.system "}), {"name": "os.system"}, id="forbid-call-stripped"),
    ],
)
def test_arguments_are_normalised(rule: Rule, args: dict[str, Any]) -> None:
    assert validate_rule(rule, WHERE).args == args


def test_generated_cases_fill_only_missing_kinds() -> None:
    mine = (Case("eval(x)\n"),)
    filled = with_generated_cases(Rule("forbid-call", {"name": "eval"}, block=mine))
    assert filled.block == mine
    assert filled.allow == TEMPLATES["forbid-call"].generated_cases({"name": "eval"})[1]
    generated = with_generated_cases(Rule("forbid-call", {"name": "eval"}))
    assert generated.block and generated.allow
    both = Rule("forbid-call", {"name": "eval"}, block=mine, allow=(Case("x = 1\n"),))
    assert with_generated_cases(both) == both


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        pytest.param(Rule("forbid-call", {"name": "eval", "message": "Use ast.literal_eval."}), "Do not call `eval()`. Use ast.literal_eval.", id="forbid-call"),
        pytest.param(Rule("forbid-import", {"module": "pickle"}), "Do not import `pickle` (or its submodules).", id="forbid-import"),
        pytest.param(Rule("require-call", {"function": "generate", "calls": "validate_input"}), "Every function `generate()` must call `validate_input()`.", id="require-call"),
        pytest.param(Rule("bound", {"expr": "LR <= 0.05"}), "The module constant `LR` must satisfy `LR <= 0.05`.", id="bound"),
        pytest.param(Rule("custom", {"check": "checks:NoPrint"}), "The custom check `checks:NoPrint` must not fire.", id="custom"),
    ],
)
def test_describe(rule: Rule, expected: str) -> None:
    assert describe(rule) == expected


# --- the runner ---------------------------------------------------------------------


def lesson(lesson_id: str, template: str, args: dict[str, Any], **kw: Any) -> Lesson:
    return Lesson(lesson_id, "title", "why", rule=Rule(template, args), **kw)


FILES = {
    "src/a.py": "eval(x)\nimport pickle\n",
    "src/b.py": "import pickle\n",
    "vendor/c.py": "eval(x)\n",
    "README.md": "eval(x)\n",
}


def request(files: dict[str, str] = FILES, changes: Sequence[Change] | None = None) -> CheckRequest:
    return CheckRequest(Path("."), sorted(files), changes=changes, contents=files)


def test_runner_respects_paths_exclude_and_levels() -> None:
    lessons = [
        lesson("no-eval", "forbid-call", {"name": "eval"}, level=5),
        lesson("no-pickle", "forbid-import", {"module": "pickle"}, level=3, paths=("src/b.py",)),
        Lesson("prose", "t", "w", level=2),
    ]
    found = check(request(), lessons, exclude=["vendor/**"])
    assert [(f.path, f.line, f.lesson, f.level) for f in found] == [
        ("src/a.py", 1, "no-eval", 5),
        ("src/b.py", 1, "no-pickle", 3),
    ]


def test_runner_sorts_by_path_line_column_lesson() -> None:
    files = {"b.py": "eval(eval(x))\n", "a.py": "x = 1\neval(x)\n"}
    lessons = [lesson("z", "forbid-call", {"name": "eval"}), lesson("a", "forbid-call", {"name": "eval"})]
    found = check(request(files), lessons)
    assert [(f.path, f.line, f.column, f.lesson) for f in found] == [
        ("a.py", 2, 1, "a"), ("a.py", 2, 1, "z"),
        ("b.py", 1, 1, "a"), ("b.py", 1, 1, "z"),
        ("b.py", 1, 6, "a"), ("b.py", 1, 6, "z"),
    ]


def test_applicable() -> None:
    lessons = [
        lesson("src", "forbid-call", {"name": "eval"}, paths=("src/**",)),
        lesson("docs", "forbid-call", {"name": "eval"}, paths=("docs/**",)),
        Lesson("prose", "t", "w"),
    ]
    assert [x.id for x in applicable(lessons, ["src/a.py", "docs/x.md"], ["docs/**"])] == ["src"]


def test_runner_calls_each_engine_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, list[str], list[str]]] = []

    class Spy:
        def __init__(self, name: str) -> None:
            self.name = name

        def run(self, lessons: Sequence[Lesson], req: CheckRequest) -> list[Finding]:
            calls.append((self.name, [x.id for x in lessons], list(req.files)))
            return []

    monkeypatch.setattr(runner, "ENGINES", {name: Spy(name) for name in ENGINES})
    lessons = [
        lesson("a", "forbid-call", {"name": "eval"}, paths=("src/**",)),
        lesson("b", "bound", {"expr": "X < 1"}, paths=("src/b.py",)),
        lesson("c", "protect", {"paths": ["evaluate.py"]}, paths=("nowhere/**",)),
        lesson("d", "forbid-call", {"name": "eval"}, paths=("nowhere/**",)),
    ]
    check(request(changes=[Change("D", "evaluate.py")]), lessons)
    assert sorted(calls) == [
        ("diff", ["c"], sorted(FILES)),  # diff-aware: not limited by paths or files
        ("libcst", ["a", "b"], ["src/a.py", "src/b.py"]),
    ]


def test_engine_bug_becomes_rule_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        name = "libcst"

        def run(self, lessons: Sequence[Lesson], req: CheckRequest) -> list[Finding]:
            raise KeyError("oops")

    monkeypatch.setattr(runner, "ENGINES", {**ENGINES, "libcst": Broken()})
    with pytest.raises(RuleCrash) as info:
        check(request(), [lesson("no-eval", "forbid-call", {"name": "eval"})])
    assert "KeyError" in info.value.what and "no-eval" in info.value.what


def test_runner_drops_findings_outside_lesson_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    class Sloppy:
        name = "libcst"

        def run(self, lessons: Sequence[Lesson], req: CheckRequest) -> list[Finding]:
            return [Finding("forbid-call", "a", p, 1, 1, "m") for p in ("src/a.py", "vendor/c.py")]

    monkeypatch.setattr(runner, "ENGINES", {**ENGINES, "libcst": Sloppy()})
    found = check(request(), [lesson("a", "forbid-call", {"name": "eval"}, paths=("src/**",))])
    assert [f.path for f in found] == ["src/a.py"]


def test_lesson_where_is_its_file() -> None:
    assert registry.lesson_where(Lesson("abc", "t", "w")) == ".ladder/lessons/abc.toml"
