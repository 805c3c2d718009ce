"""Semgrep-style annotated test files as a `pattern` lesson's cases, judged as `semgrep --test` does.

Real semgrep throughout. Its default engine takes ~1.3 s to start, so one module
fixture holds every rule file and ladder judges them all in one semgrep process;
`semgrep --test` itself runs once on the same files, and the parity tests compare
the two verdicts rule by rule (issue 13).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from ladder.lesson import Lesson, Rule
from ladder.rules.cases import CaseResult
from ladder.rules.semgrep_annotations import Annotation, judge_lines, parse_annotations
from ladder.rules.semgrep_autofix import Edit, apply_edits
from ladder.rules.semgrep_tests import annotated_case_results, annotated_files, annotated_results
from testing.fixtures import write

# --- annotation forms: no semgrep process ------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("# ruleid: r\nf()\n", [Annotation("ruleid", "r", 1)], id="hash"),
        pytest.param("#ruleid:r\nf()\n", [Annotation("ruleid", "r", 1)], id="hash-no-space"),
        pytest.param("// ruleid: r\nf();\n", [Annotation("ruleid", "r", 1)], id="slash"),
        pytest.param("<!-- ruleid: r -->\n<a>\n", [Annotation("ruleid", "r", 1)], id="html-comment"),
        pytest.param("<!--ruleid:r-->\n<a>\n", [Annotation("ruleid", "r", 1)], id="html-comment-tight"),
        pytest.param("(* ruleid: r *)\nf ()\n", [Annotation("ruleid", "r", 1)], id="ocaml-comment"),
        pytest.param("{# ruleid: r #}\n{{ x }}\n", [Annotation("ruleid", "r", 1)], id="jinja-comment"),
        pytest.param("  # ok: r\nf()\n", [Annotation("ok", "r", 1)], id="ok-indented"),
        pytest.param("f()  # ruleid: r\n", [Annotation("ruleid", "r", 1)], id="trailing"),
        pytest.param("# ruleid: a, r\n", [Annotation("ruleid", "a", 1), Annotation("ruleid", "r", 1)], id="several-ids"),
        pytest.param("<!-- ok: a,r -->\n", [Annotation("ok", "a", 1), Annotation("ok", "r", 1)], id="several-ids-html"),
        pytest.param("# todoruleid: r\n", [Annotation("todoruleid", "r", 1)], id="todoruleid"),
        pytest.param("// todook: r\n", [Annotation("todook", "r", 1)], id="todook"),
        pytest.param("# ruleid: deepok: r\n", [Annotation("ruleid", "r", 1)], id="ruleid-deepok"),
        pytest.param("# ruleid: prook: r\n", [Annotation("ruleid", "r", 1)], id="ruleid-prook"),
        pytest.param("# ruleid : r\n", [Annotation("ruleid", "r", 1)], id="space-before-colon"),
    ],
)
def test_parse_annotations_fixes(text: str, expected: list[Annotation]) -> None:
    assert parse_annotations(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("/* ruleid: r */\n", id="c-block-comment"),
        pytest.param("-- ruleid: r\n", id="double-dash"),
        pytest.param(";; ruleid: r\n", id="semicolon"),
        pytest.param("# RULEID: r\n", id="upper-case"),
        pytest.param("#  ruleid: r\n", id="two-spaces"),
        pytest.param("# deepruleid: r\n", id="deepruleid-alone"),
        pytest.param("# proruleid: r\n", id="proruleid-alone"),
        pytest.param("# deepok: r\n", id="deepok-alone"),
        pytest.param("<!-- ok -->\n", id="no-colon"),
        pytest.param("# rule: r\n", id="not-a-kind"),
        pytest.param("# ruleid: deepok: r: s\n", id="unparseable-engine-word"),
    ],
)
def test_parse_annotations_noop(text: str) -> None:
    assert parse_annotations(text) == []


def test_an_annotation_is_about_the_next_line() -> None:
    [note] = parse_annotations("x = 1\nf()  # ruleid: r\n")
    assert (note.at, note.line) == (2, 3)


@pytest.mark.parametrize(
    ("text", "flagged", "expected"),
    [
        pytest.param("# ruleid: r\nf()\n", {2}, [("block", 2, True)], id="ruleid-hit"),
        pytest.param("# ruleid: r\nf()\n", set(), [("block", 2, False)], id="ruleid-missed"),
        pytest.param("# ok: r\nf()\n", set(), [("allow", 2, True)], id="ok-clean"),
        pytest.param("# ok: r\nf()\n", {2}, [("allow", 2, False)], id="ok-flagged"),
        pytest.param("f()\n", {1}, [("allow", 1, False)], id="unannotated-finding"),
        pytest.param("# todoruleid: r\nf()\n", set(), [], id="todoruleid-missed"),
        pytest.param("# todoruleid: r\nf()\n", {2}, [], id="todoruleid-flagged"),
        pytest.param("# todook: r\nf()\n", {2}, [], id="todook-flagged"),
        pytest.param("# ruleid: other\nf()\n", {2}, [("allow", 2, False)], id="other-rule-annotated"),
    ],
)
def test_judge_lines(text: str, flagged: set[int], expected: list[tuple[str, int, bool]]) -> None:
    verdicts = judge_lines("t.py", text, parse_annotations(text), "r", flagged)
    assert [(v.kind, v.line, v.ok) for v in verdicts] == expected
    assert all(bool(v.detail) != v.ok for v in verdicts)


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        pytest.param("f()  # ruleid: r\n", "the annotation on line 1 is about line 2", id="trailing"),
        pytest.param("/* ruleid: r */\nf()\n", "line 1 looks like an annotation", id="unread-form"),
        pytest.param("# deepruleid: r\nf()\n", "semgrep's pro engines", id="pro-only"),
    ],
)
def test_an_unexpected_finding_says_why(text: str, hint: str) -> None:
    line = 1 if text.startswith("f()") else 2
    verdicts = judge_lines("t.py", text, parse_annotations(text), "r", {line})
    [verdict] = [v for v in verdicts if v.line == line]
    assert not verdict.ok and "semgrep --test: an incorrect line" in verdict.detail and hint in verdict.detail


def test_apply_edits_drops_an_overlapping_edit() -> None:
    text = "é = eval(eval(d))\n"
    start = len("é = ".encode())
    edits = [Edit(start, start + 13, "literal_eval(eval(d))"), Edit(start + 5, start + 12, "literal_eval(d)")]
    assert apply_edits(text, edits) == "é = literal_eval(eval(d))\n"


# --- real semgrep: one fixture, one ladder run, one `semgrep --test` run ------------

PARITY_YAML = "rules:\n" + "".join(
    f"  - id: {rule_id}\n    message: m\n    languages: [generic]\n    severity: ERROR\n    pattern: {call}(...)\n"
    for rule_id, call in [
        ("html-form", "h_html"), ("ocaml-form", "h_ml"), ("slash-form", "h_js"), ("hash-form", "h_py"),
        ("stray", "stray"), ("okhit", "okhit"), ("todo", "todo_x"), ("deep-ok", "deep_x"),
        ("deep-only", "pro_x"), ("trailing", "trail_x"), ("block-comment", "cblock_x"), ("missed", "missed_x"),
    ]
)
# What `semgrep --test` says of each rule of PARITY_YAML (checked below against semgrep itself).
PARITY_VERDICTS = {
    "html-form": True, "ocaml-form": True, "slash-form": True, "hash-form": True,
    "stray": False,  # a finding on a line no `ruleid` names
    "okhit": False,  # a finding on an `ok` line
    "todo": True,  # todoruleid / todook lines are not checked
    "deep-ok": True,  # `ruleid: deepok:` is `ruleid:` for semgrep OSS
    "deep-only": False,  # `deepruleid:` alone is no annotation for semgrep OSS
    "trailing": False,  # a trailing annotation is about the next line
    "block-comment": False,  # semgrep --test does not read `/* */`
    "missed": False,  # a `ruleid` line with no finding
}
PARITY_PY = """\
# ruleid: hash-form
h_py(1)
#ruleid:hash-form
h_py(2)
# ruleid: stray
stray(1)
stray(2)
# ruleid: okhit
okhit(1)
# ok: okhit
okhit(2)
# ruleid: todo
todo_x(1)
# todoruleid: todo
safe(2)
# todoruleid: todo
todo_x(3)
# todook: todo
todo_x(4)
# ruleid: deepok: deep-ok
deep_x(1)
# ruleid: deep-only
pro_x(1)
# deepruleid: deep-only
pro_x(2)
# ruleid: trailing
trail_x(1)
trail_x(2)  # ruleid: trailing
safe(3)
# ruleid: missed
missed_x(1)
# ruleid: missed
safe(2)
"""
FIXES_YAML = """\
rules:
  - id: use-literal-eval
    message: m
    languages: [python]
    severity: ERROR
    pattern: eval($X)
    fix: ast.literal_eval($X)
    paths:
      include: ["src/**"]  # ignored for test files, as semgrep --test does
  - id: no-exec
    message: m
    languages: [python]
    severity: ERROR
    pattern: exec(...)
    fix-regex:
      regex: exec
      replacement: run
"""
FIXES_PY = """\
# ruleid: use-literal-eval
x = eval(a)
# ruleid: no-exec
exec(b)
# ruleid: use-literal-eval
y = eval(eval(c))
# ok: use-literal-eval
z = ast.literal_eval(d)
"""
# Overlapping fixes: the outer one wins, as semgrep applies them.
FIXES_FIXED = FIXES_PY.replace("eval(a)", "ast.literal_eval(a)").replace("exec(b)", "run(b)").replace(
    "eval(eval(c))", "ast.literal_eval(eval(c))"
)
ONE_FIX_YAML = "rules:\n" + FIXES_YAML.split("rules:\n")[1].split("  - id: no-exec")[0].replace("use-literal-eval", "bad-fix")
TYPO_YAML = "rules:\n  - id: typo\n    message: m\n    languages: [python]\n    severity: ERROR\n    pattern: eval(...)\n"

FILES = {
    "rules/parity.yaml": PARITY_YAML,
    "rules/parity.py": PARITY_PY,
    "rules/parity.html": "<!-- ruleid: html-form -->\nh_html(1)\n<!--ruleid:html-form-->\nh_html(2)\n"
    "<!-- ok: html-form -->\nsafe(3)\n",
    "rules/parity.ml": "(* ruleid: ocaml-form *)\nh_ml(1)\n",
    "rules/parity.js": "// ruleid: slash-form\nh_js(1);\n",
    "rules/parity.c": "/* ruleid: block-comment */\ncblock_x(1);\n",
    "rules/fixes.yaml": FIXES_YAML,
    "rules/fixes.py": FIXES_PY,
    "rules/fixes.fixed.py": FIXES_FIXED,
    "rules/bad-fix.yaml": ONE_FIX_YAML,
    "rules/bad-fix.py": "# ruleid: bad-fix\nx = eval(a)\n",
    "rules/bad-fix.fixed.py": "# ruleid: bad-fix\nx = literal_eval(a)\n",  # not what the fix gives
    "rules/other.py": "# ruleid: typo\neval(x)\n",  # another stem: no rule file's test file
    # A test file semgrep cannot fully parse: semgrep --test fails the rule, lines aside.
    "rules/syntax.yaml": TYPO_YAML.replace("typo", "syntax"),
    "rules/syntax.py": "# ruleid: syntax\neval(1)\ndef (:\n",
    # semgrep --test stops the whole run on this one (exit 2), so it sits apart.
    "mismatch/typo.yaml": TYPO_YAML,
    "mismatch/typo.py": "# ruleid: typo\neval(1)\n# ok: typpo\nsafe(2)\n",
    "lonely/alone.yaml": TYPO_YAML,  # no test file
    # ladder reads jinja comments, where semgrep keeps `#}` in the id: not a parity case.
    "jinja/page.yaml": PARITY_YAML.replace("html-form", "jinja-form").split("  - id: ocaml-form")[0],
    "jinja/page.html": "{# ruleid: jinja-form #}\nh_html(1)\n{# ok: jinja-form #}\nsafe(2)\n",
}


def _lesson(config: str, rule_id: str | None = None) -> Lesson:
    args = {"config": config, **({"rule_id": rule_id} if rule_id else {})}
    return Lesson(id=f"l-{rule_id or Path(config).stem}", title="t", why="w", paths=("src/**",),
                  rule=Rule("pattern", args))


LESSONS = (
    *(_lesson("rules/parity.yaml", rule_id) for rule_id in PARITY_VERDICTS),
    _lesson("rules/fixes.yaml", "use-literal-eval"),
    _lesson("rules/fixes.yaml", "no-exec"),
    _lesson("rules/bad-fix.yaml"),
    _lesson("rules/syntax.yaml"),
    _lesson("mismatch/typo.yaml"),
    _lesson("jinja/page.yaml", "jinja-form"),
)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("annotated")
    for name, text in FILES.items():
        write(base, name, text)
    return base


@pytest.fixture(scope="module")
def results(root: Path) -> dict[str, list[CaseResult]]:
    return annotated_results(root, LESSONS)


def _semgrep_test(root: Path, target: str) -> tuple[int, dict[str, Any]]:
    semgrep = Path(sys.executable).parent / "semgrep"
    proc = subprocess.run(
        [str(semgrep), "--test", "--json", "--metrics=off", "--disable-version-check", target],
        cwd=root, capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"},
    )
    return proc.returncode, (json.loads(proc.stdout) if proc.stdout.strip() else {})


@pytest.fixture(scope="module")
def semgrep_says(root: Path) -> Iterator[dict[str, Any]]:
    code, data = _semgrep_test(root, "rules")
    assert code == 1, data  # some of the fixture's rules fail on purpose
    yield data


def _passed(found: Mapping[str, list[CaseResult]], lesson_id: str, kinds: tuple[str, ...] = ("block", "allow", "file")) -> bool:
    return all(r.ok for r in found[lesson_id] if r.kind in kinds)


def test_ladder_verdicts_are_semgrep_test_verdicts(results: dict[str, list[CaseResult]], semgrep_says: dict[str, Any]) -> None:
    checks = semgrep_says["results"]["rules/parity.yaml"]["checks"]
    assert {rule_id: check["passed"] for rule_id, check in checks.items()} == PARITY_VERDICTS
    assert {rule_id: _passed(results, f"l-{rule_id}") for rule_id in PARITY_VERDICTS} == PARITY_VERDICTS


@pytest.mark.parametrize(
    ("config", "rule_id", "passed"),
    [
        pytest.param("rules/fixes.yaml", "use-literal-eval", True, id="multi-rule-first"),
        pytest.param("rules/fixes.yaml", "no-exec", True, id="multi-rule-second"),
        pytest.param("rules/bad-fix.yaml", "bad-fix", True, id="lines-right-fix-wrong"),
        pytest.param("rules/syntax.yaml", "syntax", False, id="test-file-does-not-parse"),
    ],
)
def test_more_verdicts_are_semgrep_test_verdicts(
    results: dict[str, list[CaseResult]], semgrep_says: dict[str, Any], config: str, rule_id: str, passed: bool
) -> None:
    assert semgrep_says["results"][config]["checks"][rule_id]["passed"] is passed
    lesson_id = f"l-{rule_id}"
    assert _passed(results, lesson_id) is passed


def test_an_error_on_a_test_file_fails_the_rule(results: dict[str, list[CaseResult]]) -> None:
    [failed] = [r for r in results["l-syntax"] if not r.ok]
    assert (failed.kind, failed.source) == ("file", "annotated:rules/syntax.yaml")
    assert failed.detail.startswith("rules/syntax.py: semgrep reported Syntax error at line rules/syntax.py:3")


def test_fix_verdicts_are_semgrep_test_verdicts(results: dict[str, list[CaseResult]], semgrep_says: dict[str, Any]) -> None:
    fixtests = semgrep_says["fixtest_results"]
    assert {name: r["passed"] for name, r in fixtests.items()} == {"rules/fixes.py": True, "rules/bad-fix.py": False}
    for lesson_id, fixed in (("l-use-literal-eval", True), ("l-no-exec", True), ("l-bad-fix", False)):
        [fix] = [r for r in results[lesson_id] if r.kind == "fix"]
        assert fix.ok is fixed and fix.source == f"annotated:rules/{'bad-fix' if not fixed else 'fixes'}.py"
    assert _passed(results, "l-bad-fix")  # its lines are right; only the fixed file is wrong


def test_a_failing_fix_shows_the_difference(results: dict[str, list[CaseResult]]) -> None:
    [fix] = [r for r in results["l-bad-fix"] if r.kind == "fix"]
    assert fix.detail.startswith("rules/bad-fix.py with its fixes applied differs from rules/bad-fix.fixed.py")
    assert "-x = literal_eval(a)" in fix.detail and "+x = ast.literal_eval(a)" in fix.detail


def test_a_rule_id_mismatch_fails_as_in_semgrep(root: Path, results: dict[str, list[CaseResult]]) -> None:
    code, _ = _semgrep_test(root, "mismatch")
    assert code == 2  # semgrep: "Failing due to rule id mismatch"
    failed = [r for r in results["l-typo"] if not r.ok]
    assert [(r.kind, r.detail) for r in failed] == [
        ("file", "mismatch/typo.py:3: an annotation names rule id 'typpo', which the rule file does not define"
                 " (semgrep --test fails on it)"),
    ]


def test_each_rule_of_a_multi_rule_file_is_its_own_lesson(results: dict[str, list[CaseResult]]) -> None:
    lines = {
        lesson_id: [(r.kind, r.source) for r in results[lesson_id] if r.kind in ("block", "allow")]
        for lesson_id in ("l-use-literal-eval", "l-no-exec")
    }
    src = "annotated:rules/fixes.py"
    assert lines == {
        "l-use-literal-eval": [("block", src), ("block", src), ("allow", src)],
        "l-no-exec": [("block", src)],
    }


def test_failing_lines_say_where_and_why(results: dict[str, list[CaseResult]]) -> None:
    details = {r.detail for lesson in ("l-stray", "l-okhit", "l-missed") for r in results[lesson] if not r.ok}
    assert details == {
        "rules/parity.py:7: flagged, but no `ruleid: stray` is on line 6 (semgrep --test: an incorrect line)",
        "rules/parity.py:11: flagged, but annotated `ok` on line 10",
        "rules/parity.py:33: expected a finding (`ruleid` on line 32); there was none",
    }


def test_jinja_comments_are_read_without_their_closing_token(results: dict[str, list[CaseResult]]) -> None:
    assert [(r.kind, r.ok) for r in results["l-jinja-form"]] == [("block", True), ("allow", True)]


def test_test_files_are_the_rule_files_namesakes(root: Path) -> None:
    names = [p.name for p in annotated_files(root, "rules/fixes.yaml")]
    assert names == ["fixes.py"]  # not fixes.fixed.py, fixes.yaml, nor other.py


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
    assert annotated_case_results(root, _lesson("lonely/alone.yaml")) == []


def test_a_rule_semgrep_rejects_fails_its_lessons_only(tmp_path: Path) -> None:
    write(tmp_path, "good/good.yaml", TYPO_YAML.replace("typo", "good"))
    write(tmp_path, "good/good.py", "# ruleid: good\neval(1)\n")
    write(tmp_path, "bad/bad.yaml", TYPO_YAML.replace("typo", "bad").replace("eval(...)", "eval("))
    write(tmp_path, "bad/bad.py", "# ruleid: bad\neval(1)\n")
    found = annotated_results(tmp_path, [_lesson("good/good.yaml"), _lesson("bad/bad.yaml")])
    assert [(r.kind, r.ok) for r in found["l-good"]] == [("block", True)]
    [bad] = found["l-bad"]
    assert (bad.kind, bad.ok) == ("rule", False)
    assert bad.detail.startswith("annotated tests: semgrep cannot run bad/bad.yaml on the test files: ")


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        pytest.param({"config": "rules/gone.yaml"}, "cannot be read", id="missing-rule-file"),
        pytest.param({"config": "rules/fixes.yaml"}, "holds 2 rules (use-literal-eval, no-exec)", id="no-rule-id"),
        pytest.param({"config": "rules/fixes.yaml", "rule_id": "nope"}, "has no rule with id 'nope'", id="unknown-rule-id"),
    ],
)
def test_a_broken_rule_is_one_failing_result(root: Path, args: dict[str, str], problem: str) -> None:
    lesson = Lesson(id="broken", title="t", why="w", rule=Rule("pattern", args))
    [result] = annotated_case_results(root, lesson)
    assert (result.kind, result.ok) == ("rule", False) and problem in result.detail
