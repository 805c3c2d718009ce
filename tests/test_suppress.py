"""Inline suppression: `# ladder: ignore[<id>]` silences named lessons or rules on one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ladder.findings import Finding
from ladder.git import Change
from ladder.lesson import Lesson, Rule
from ladder.rules.base import CheckRequest
from ladder.rules.runner import check
from ladder.rules.suppress import count_suppressions, is_suppressed
from testing.fixtures import write

FINDING = Finding("forbid-call", "no-eval", "a.py", 1, 1, "m")


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("eval(x)  # ladder: ignore[no-eval]", id="lesson-id"),
        pytest.param("eval(x)  # ladder: ignore[forbid-call]", id="rule-id"),
        pytest.param("eval(x)  #ladder:ignore[other, no-eval]", id="comma-list-no-spaces"),
        pytest.param("eval(x)  # noqa  # ladder: ignore[x] # ladder: ignore[no-eval]", id="second-comment"),
    ],
)
def test_suppressed(line: str) -> None:
    assert is_suppressed(line, FINDING)


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("eval(x)", id="no-comment"),
        pytest.param("eval(x)  # ladder: ignore[no-pickle]", id="other-id"),
        pytest.param("eval(x)  # ladder: ignore", id="blanket-is-not-supported"),
        pytest.param("eval(x)  # ladder: ignore[]", id="empty"),
        pytest.param("eval(x)  # ladder: ignore[no-eval-2]", id="prefix-of-other-id"),
    ],
)
def test_not_suppressed(line: str) -> None:
    assert not is_suppressed(line, FINDING)


def lesson(lesson_id: str, template: str, args: dict[str, object]) -> Lesson:
    return Lesson(lesson_id, "t", "w", rule=Rule(template, args))


def test_runner_drops_only_the_named_lesson() -> None:
    code = "eval(x)  # ladder: ignore[no-eval]\nimport pickle  # ladder: ignore[no-eval]\neval(y)\n"
    request = CheckRequest(Path("."), ["a.py"], contents={"a.py": code})
    lessons = [lesson("no-eval", "forbid-call", {"name": "eval"}), lesson("no-pickle", "forbid-import", {"module": "pickle"})]
    found = check(request, lessons)
    assert [(f.line, f.lesson) for f in found] == [(2, "no-pickle"), (3, "no-eval")]


def test_protect_cannot_be_suppressed_from_inside_the_file(tmp_path: Path) -> None:
    write(tmp_path, "evaluate.py", "# ladder: ignore[keep-evaluator, protect]\nSCORE = 1\n")
    request = CheckRequest(tmp_path, ["evaluate.py"], changes=[Change("M", "evaluate.py")])
    found = check(request, [lesson("keep-evaluator", "protect", {"paths": ["evaluate.py"]})])
    assert [f.lesson for f in found] == ["keep-evaluator"]


def test_count_suppressions(tmp_path: Path) -> None:
    write(tmp_path, "a.py", "eval(x)  # ladder: ignore[no-eval]\nimport pickle  # ladder: ignore[no-pickle, no-eval]\n")
    write(tmp_path, "b.py", "x = 1  # ladder: ignore[no-eval]\n")
    write(tmp_path, "c.py", "nothing here\n")
    counts = count_suppressions(tmp_path, ["a.py", "b.py", "c.py", "deleted.py"])
    assert counts == {"no-eval": 3, "no-pickle": 1}
