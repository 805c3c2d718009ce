"""Semgrep-style annotated test files (`# ruleid:` / `# ok:`) as a `pattern` lesson's cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from ladder.errors import LadderError
from ladder.lesson import Lesson, Rule
from ladder.rules.cases import CaseResult
from ladder.rules.semgrep_tests import Annotation, annotated_case_results, parse_annotations
from testing.fixtures import write

RULE = """\
rules:
  - id: no-eval
    message: eval is unsafe
    languages: [python]
    severity: ERROR
    pattern: eval(...)
    paths:
      include: ["src/**"]
"""

TESTS = """\
# ruleid: no-eval
eval(x)

# ok: no-eval
literal_eval(x)

# ruleid: no-eval-lesson
literal_eval(y)

eval(z)  # ok: no-eval

# ok: other-rule
eval(w)
"""


def lesson(config: str = "rules/no-eval.yaml", paths: tuple[str, ...] = ("src/**",)) -> Lesson:
    return Lesson(id="no-eval-lesson", title="t", why="w", paths=paths, rule=Rule("pattern", {"config": config}))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write(tmp_path, "rules/no-eval.yaml", RULE)
    write(tmp_path, "rules/no-eval.py", TESTS)
    write(tmp_path, "rules/no-eval.md", "# ruleid: no-eval\nnot code\n")  # not Python: no annotation counts
    write(tmp_path, "rules/other.py", "# ruleid: no-eval\nx = 1\n")  # another stem
    return tmp_path


def test_one_result_per_annotation(root: Path) -> None:
    results = annotated_case_results(root, lesson())
    source = "annotated:rules/no-eval.py"
    assert [(r.kind, r.index, r.ok) for r in results] == [
        ("block", 0, True),
        ("allow", 0, True),
        ("block", 1, False),  # literal_eval is not flagged: the annotation is wrong
        ("allow", 1, False),  # eval(z) is flagged
    ]
    assert all(isinstance(r, CaseResult) and r.lesson == "no-eval-lesson" and r.source == source for r in results)
    assert results[2].detail == "rules/no-eval.py:8: expected flagged (ruleid at line 7); it was not"
    assert results[3].detail == "rules/no-eval.py:10: expected not flagged (ok at line 10); it was"


@pytest.mark.parametrize(
    "rule",
    [
        pytest.param(Rule("pattern", {"pattern": "eval(...)"}), id="pattern-argument"),
        pytest.param(Rule("regex", {"regex": "eval"}), id="other-template"),
    ],
)
def test_no_config_no_results(root: Path, rule: Rule) -> None:
    assert annotated_case_results(root, Lesson(id="l", title="t", why="w", rule=rule)) == []


def test_no_test_file_no_results(root: Path) -> None:
    write(root, "rules/lonely.yaml", RULE)
    assert annotated_case_results(root, lesson("rules/lonely.yaml")) == []


def test_missing_rule_file_is_an_error(root: Path) -> None:
    write(root, "rules/gone.py", "# ruleid: no-eval\neval(x)\n")
    with pytest.raises(LadderError, match="cannot be read"):
        annotated_case_results(root, lesson("rules/gone.yaml"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("# ruleid: r\nf()\n", [Annotation("block", 2, 1)], id="next-line"),
        pytest.param("f()  # ok: r\n", [Annotation("allow", 1, 1)], id="trailing"),
        pytest.param("# ruleid: r\n# ok: other\nf()\n", [Annotation("block", 3, 1)], id="stacked"),
        pytest.param("#ruleid:x, r\nf()\n", [Annotation("block", 2, 1)], id="several-ids"),
        pytest.param("// ruleid: r\nf();\n", [Annotation("block", 2, 1)], id="slash-comment"),
    ],
)
def test_parse_annotations_fixes(text: str, expected: list[Annotation]) -> None:
    assert parse_annotations(text, {"r"}) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("# ruleid: other\nf()\n", id="other-id"),
        pytest.param("# todoruleid: r\nf()\n", id="todo"),
        pytest.param("# rule: r\nf()\n", id="not-an-annotation"),
    ],
)
def test_parse_annotations_noop(text: str) -> None:
    assert parse_annotations(text, {"r"}) == []
