"""The `pattern` template and the semgrep engine, with real semgrep.

Each semgrep process costs 0.15-1.5 s, so one scan of a small repository (module
fixture) answers most questions, and the tests read its findings.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from ladder.errors import LadderError, RuleCrash
from ladder.findings import Finding
from ladder.lesson import Lesson, Rule
from ladder.rules import semgrep_engine
from ladder.rules.base import CheckRequest
from ladder.rules.semgrep_engine import ENGINE, compile_lessons, scan
from ladder.rules.templates.pattern import TEMPLATE, example_from_pattern, verify_with_semgrep
from testing.fixtures import git, make_repo, write

EVAL = "x = eval(data)\n"
CLEAN = "x = literal_eval(data)\n"

NO_EXEC_YAML = """\
rules:
  - id: no-exec-call
    message: exec of $X
    languages: [python]
    severity: ERROR
    pattern: exec($X)
    paths:
      exclude: ["vendor/**"]
"""


def lesson(lesson_id: str, paths: tuple[str, ...] = ("**",), **args: Any) -> Lesson:
    return Lesson(id=lesson_id, title=f"title of {lesson_id}", why="w", paths=paths, rule=Rule("pattern", args))


LESSONS = (
    lesson("no-eval", pattern="eval(...)"),
    lesson("no.exec", paths=("lib/**", "vendor/**", "bin/**", "Makefile"), yaml=NO_EXEC_YAML),
    lesson("no-pickle", config="rules/no-pickle.yaml", message="pickle.load of $F is unsafe"),
    # One rule file, two rules, two lessons: no hand split (issue 13).
    lesson("no-system", config="rules/os-calls.yaml", rule_id="os-system"),
    lesson("no-popen", config="rules/os-calls.yaml", rule_id="os-popen"),
)

FILES = {
    "src/a.py": EVAL,
    "src/ok.py": CLEAN,
    "src/big.py": f'S = "{"a" * 1_000_100}"\n{EVAL}',  # > 1 MB: semgrep skips it unless told not to
    "tests/test_a.py": EVAL,  # semgrep's default ignores skip tests/: explicit files are scanned
    "ignored_by_git.py": EVAL,
    "ignored_by_semgrep.py": EVAL,
    "lib/run.py": "exec(code)\n",
    "vendor/run.py": "exec(code)\n",  # the rule's own `paths: exclude`
    "src/run.py": "exec(code)\n",  # outside the lesson's paths
    "src/load.py": "import pickle\nobj = pickle.load(fh)\n",
    "README.md": "eval(x)\n",  # not Python: semgrep does not look
    "bin/tool": "#!/usr/bin/env python3\nexec(code)\n",
    "Makefile": "exec(code)\n",
    "rules/no-pickle.yaml": (
        "rules:\n  - id: pickle-load\n    message: m\n    languages: [python]\n"
        "    severity: WARNING\n    pattern: pickle.load($F)\n"
    ),
    "rules/os-calls.yaml": "rules:\n" + "".join(
        f"  - id: os-{name}\n    message: m\n    languages: [python]\n    severity: ERROR\n    pattern: os.{name}(...)\n"
        for name in ("system", "popen")
    ),
    "src/os_calls.py": "import os\nos.system(cmd)\nos.popen(cmd)\n",
    ".gitignore": "ignored_by_git.py\nuntracked_ignored.py\n",
    ".semgrepignore": "ignored_by_semgrep.py\nsrc/\n",
}


@pytest.fixture(scope="module")
def repo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_repo(tmp_path_factory.mktemp("semgrep") / "repo", FILES)
    write(root, "staged_new.py", EVAL)
    git(root, "add", "staged_new.py")
    write(root, "untracked_ignored.py", EVAL)
    write(root, "src/edited.py", EVAL)  # on disk; the request's contents say otherwise
    return root


def request(root: Path) -> CheckRequest:
    files = [*FILES, "staged_new.py", "untracked_ignored.py", "src/edited.py", "mem/new.py", "deleted.py"]
    return CheckRequest(root, files, contents={"src/edited.py": CLEAN, "mem/new.py": EVAL})


@pytest.fixture(scope="module")
def findings(repo_root: Path) -> list[Finding]:
    return ENGINE.run(LESSONS, request(repo_root))


def located(findings: list[Finding]) -> set[tuple[str, str, int]]:
    return {(f.lesson, f.path, f.line) for f in findings}


@pytest.mark.parametrize(
    ("lesson_id", "path", "line"),
    [
        pytest.param("no-eval", "src/a.py", 1, id="pattern"),
        pytest.param("no-eval", "src/big.py", 2, id="file-over-1mb"),
        pytest.param("no-eval", "tests/test_a.py", 1, id="tests-dir"),
        pytest.param("no-eval", "ignored_by_git.py", 1, id="gitignored"),
        pytest.param("no-eval", "ignored_by_semgrep.py", 1, id="semgrepignored"),
        pytest.param("no-eval", "staged_new.py", 1, id="staged-new-file"),
        pytest.param("no-eval", "untracked_ignored.py", 1, id="untracked-ignored"),
        pytest.param("no-eval", "mem/new.py", 1, id="in-memory-only"),
        pytest.param("no.exec", "lib/run.py", 1, id="yaml-rule"),
        pytest.param("no-pickle", "src/load.py", 2, id="config-rule"),
        pytest.param("no-system", "src/os_calls.py", 2, id="multi-rule-file-first"),
        pytest.param("no-popen", "src/os_calls.py", 3, id="multi-rule-file-second"),
    ],
)
def test_semgrep_fixes(findings: list[Finding], lesson_id: str, path: str, line: int) -> None:
    assert (lesson_id, path, line) in located(findings)


@pytest.mark.parametrize(
    ("lesson_id", "path"),
    [
        pytest.param("no-eval", "src/ok.py", id="clean-code"),
        pytest.param("no-eval", "src/edited.py", id="contents-override-disk"),
        pytest.param("no-eval", "README.md", id="not-python"),
        pytest.param("no.exec", "Makefile", id="no-suffix"),
        pytest.param("no.exec", "bin/tool", id="shebang-without-suffix"),  # semgrep goes by extension
        pytest.param("no.exec", "src/run.py", id="outside-lesson-paths"),
        pytest.param("no.exec", "vendor/run.py", id="rule-paths-exclude"),
        pytest.param("no-eval", "deleted.py", id="missing-file"),
    ],
)
def test_semgrep_noop(findings: list[Finding], lesson_id: str, path: str) -> None:
    assert not [f for f in findings if f.lesson == lesson_id and f.path == path]


def test_a_lesson_of_a_multi_rule_file_runs_its_rule_only(findings: list[Finding]) -> None:
    found = {(f.lesson, f.rule, f.line) for f in findings if f.path == "src/os_calls.py"}
    assert found == {("no-system", "os-system", 2), ("no-popen", "os-popen", 3)}


def test_finding_fields(findings: list[Finding]) -> None:
    by_place = {(f.lesson, f.path): f for f in findings}
    assert by_place["no-eval", "src/a.py"] == Finding("pattern", "no-eval", "src/a.py", 1, 5, "title of no-eval")
    # yaml/config rules keep the user's semgrep id and message (metavariables filled in).
    assert by_place["no.exec", "lib/run.py"].rule == "no-exec-call"
    assert by_place["no.exec", "lib/run.py"].message == "exec of code"
    assert by_place["no-pickle", "src/load.py"].message == "pickle.load of fh is unsafe"
    assert by_place["no-pickle", "src/load.py"].column == 7


def test_default_engine_gives_the_same_findings(repo_root: Path, findings: list[Finding]) -> None:
    # `--experimental` starts ~8x faster; it must not change what is found.
    slow = scan(compile_lessons(LESSONS, repo_root), request(repo_root), experimental=False)
    assert slow == findings


def test_no_semgrep_process_without_matching_files(
    repo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "")
    monkeypatch.setattr(sys, "executable", str(repo_root / "no-python"))
    # semgrep cannot be found, so any attempt to start it would raise.
    files = ["README.md", ".gitignore", "rules/no-pickle.yaml", "Makefile", "bin/tool"]
    assert ENGINE.run(LESSONS, CheckRequest(repo_root, files)) == []


def test_semgrep_missing_is_an_error(repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    monkeypatch.setattr(sys, "executable", str(repo_root / "no-python"))
    monkeypatch.setattr(semgrep_engine, "osemgrep_core", lambda: None)  # no packaged binary either
    with pytest.raises(LadderError, match="semgrep is not installed") as info:
        ENGINE.run(LESSONS[:1], CheckRequest(repo_root, ["src/a.py"]))
    assert info.value.exit_code == 2


def test_runs_the_packaged_core_directly(repo_root: Path) -> None:
    # The shim `semgrep` only re-execs this binary; skipping it saves a Python start-up.
    core = semgrep_engine.osemgrep_core()
    assert core is not None and core.endswith("semgrep-core")
    assert ENGINE.run(LESSONS[:1], CheckRequest(repo_root, ["src/a.py"]))


def test_timeout_fails_closed(repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(semgrep_engine, "TIMEOUT_S", 0.001)
    with pytest.raises(RuleCrash, match="semgrep ran over"):
        ENGINE.run(LESSONS[:1], CheckRequest(repo_root, ["src/a.py"]))


def test_rule_semgrep_rejects_names_the_lesson(repo_root: Path) -> None:
    bad = lesson("broken-pattern", pattern="eval(...")
    with pytest.raises(LadderError) as info:
        ENGINE.run([LESSONS[0], bad], CheckRequest(repo_root, ["src/a.py"]))
    assert info.value.exit_code == 2
    assert not isinstance(info.value, RuleCrash)
    assert ".ladder/lessons/broken-pattern.toml" in info.value.line()
    with pytest.raises(LadderError, match="semgrep rejects the rule"):
        verify_with_semgrep(bad, repo_root)


def test_verify_with_semgrep_accepts_a_good_rule(repo_root: Path) -> None:
    verify_with_semgrep(LESSONS[2], repo_root)


# --- offline validation: no semgrep process -----------------------------------------

GOOD_RULE = "rules:\n  - id: r\n    message: m\n    languages: [python]\n    severity: ERROR\n    pattern: f()\n"
TWO_RULES = GOOD_RULE + GOOD_RULE[6:].replace("id: r", "id: s")


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        pytest.param({}, "exactly one of the arguments pattern, yaml, config", id="no-source"),
        pytest.param({"pattern": "f()", "yaml": GOOD_RULE}, "(got pattern, yaml)", id="two-sources"),
        pytest.param({"yaml": "rules: [\n"}, "not valid YAML at line", id="bad-yaml"),
        pytest.param({"yaml": "id: r\n"}, "no top-level `rules:` list", id="no-rules-key"),
        pytest.param({"yaml": GOOD_RULE + GOOD_RULE[6:]}, "holds 2 rules", id="two-rules"),
        pytest.param({"yaml": TWO_RULES}, "holds 2 rules (r, s); a lesson holds exactly one", id="no-rule-id"),
        pytest.param({"yaml": TWO_RULES, "rule_id": "t"}, "has no rule with id 't' (its rules: r, s)", id="unknown-rule-id"),
        pytest.param({"yaml": GOOD_RULE + GOOD_RULE[6:], "rule_id": "r"}, "holds 2 rules with id 'r'", id="ambiguous-rule-id"),
        pytest.param({"yaml": GOOD_RULE, "rule_id": "s"}, "has no rule with id 's' (its rules: r)", id="one-rule-wrong-id"),
        pytest.param({"pattern": "f()", "rule_id": "r"}, "rule argument 'rule_id'", id="rule-id-with-pattern"),
        pytest.param({"yaml": "rules: []\n"}, "holds no rule", id="no-rule"),
        pytest.param({"yaml": GOOD_RULE.replace("    message: m\n", "")}, "needs a string `message:`", id="no-message"),
        pytest.param({"yaml": GOOD_RULE.replace("pattern: f()", "pattern-nope: f()")}, "needs exactly one of", id="no-pattern-key"),
        pytest.param({"yaml": GOOD_RULE.replace("ERROR", "LOUD")}, "severity 'LOUD'", id="bad-severity"),
        pytest.param({"pattern": "f()", "languages": []}, "'languages'", id="empty-languages"),
        pytest.param({"pattern": "f()", "colour": "red"}, "unknown rule argument 'colour'", id="unknown-arg"),
        pytest.param({"config": "/etc/rules.yaml"}, "not a path inside the repository", id="absolute-config"),
        pytest.param({"config": "rules/x.txt"}, "not a .yaml/.yml file", id="config-not-yaml"),
    ],
)
def test_validate_refuses_broken_rules(args: dict[str, Any], problem: str) -> None:
    with pytest.raises(LadderError) as info:
        TEMPLATE.validate(args, ".ladder/lessons/x.toml")
    assert info.value.exit_code == 2
    assert problem in info.value.what
    assert info.value.line().startswith("ladder: error: .ladder/lessons/x.toml: ")


def test_validate_reads_config_from_the_repository(repo: Path) -> None:
    with pytest.raises(LadderError, match="cannot be read"):
        TEMPLATE.validate({"config": "rules/missing.yaml"}, "l.toml")
    write(repo, "rules/two.yaml", TWO_RULES)
    with pytest.raises(LadderError, match="holds 2 rules") as info:
        TEMPLATE.validate({"config": "rules/two.yaml"}, "l.toml")
    assert info.value.todo == "add rule_id=ID to the lesson's rule: one lesson per rule of the file"
    assert TEMPLATE.validate({"config": "rules/two.yaml", "rule_id": "s"}, "l.toml")["rule_id"] == "s"
    write(repo, "rules/ok.yaml", GOOD_RULE)
    assert TEMPLATE.validate({"config": " rules/ok.yaml "}, "l.toml") == {"config": "rules/ok.yaml"}


@pytest.mark.parametrize(
    ("args", "normalised"),
    [
        pytest.param({"pattern": "eval(...)"}, {"pattern": "eval(...)"}, id="pattern"),
        pytest.param({"pattern": "f()", "languages": "python, py"}, {"pattern": "f()", "languages": ["python", "py"]}, id="languages-from-cli"),
        pytest.param({"yaml": GOOD_RULE, "severity": "INFO"}, {"yaml": GOOD_RULE.strip(), "severity": "INFO"}, id="yaml"),
        pytest.param({"yaml": TWO_RULES, "rule_id": " s "}, {"yaml": TWO_RULES.strip(), "rule_id": "s"}, id="rule-id"),
        pytest.param({"yaml": GOOD_RULE.replace("    severity: ERROR\n", "")}, {"yaml": GOOD_RULE.replace("    severity: ERROR\n", "").strip()}, id="severity-defaults"),
    ],
)
def test_validate_accepts(args: dict[str, Any], normalised: dict[str, Any]) -> None:
    assert TEMPLATE.validate(args, "l.toml") == normalised


@pytest.mark.parametrize(
    ("pattern", "example"),
    [
        pytest.param("eval(...)", "eval()\n", id="ellipsis-args"),
        pytest.param("$F($X, ...)", "f(x)\n", id="metavariables"),
        pytest.param("foo(..., $X, ...)", "foo(x)\n", id="ellipsis-around"),
        pytest.param("os.system($...ARGS)", "os.system()\n", id="ellipsis-metavariable"),
        pytest.param("print(<... $X ...>)", "print(x)\n", id="deep-expression"),
        pytest.param("def $F(...):\n    ...", "def f():\n    pass\n", id="ellipsis-body"),
    ],
)
def test_example_from_pattern_fixes(pattern: str, example: str) -> None:
    assert example_from_pattern(pattern) == example


@pytest.mark.parametrize(
    "pattern",
    [
        pytest.param("$X == (", id="not-python"),
        pytest.param("...", id="only-wildcard"),
    ],
)
def test_example_from_pattern_noop(pattern: str) -> None:
    assert example_from_pattern(pattern) is None


def test_generated_cases_are_flagged_and_allowed(tmp_path: Path) -> None:
    """The derived cases of several patterns, checked by semgrep in one process."""
    patterns = ["eval(...)", "$F($X, ...)", "foo(..., $X, ...)", "subprocess.call(..., shell=True, ...)"]
    lessons, contents, expect = [], {}, {}
    for i, pattern in enumerate(patterns):
        block, allow = TEMPLATE.generated_cases({"pattern": pattern})
        assert len(block) == 1 and allow[0].code == "pass\n"
        lessons.append(lesson(f"l{i}", paths=(f"l{i}/**",), pattern=pattern))
        contents[f"l{i}/block.py"], contents[f"l{i}/allow.py"] = block[0].code, allow[0].code
        expect[f"l{i}"] = f"l{i}/block.py"
    found = ENGINE.run(lessons, CheckRequest(tmp_path, list(contents), contents=contents))
    assert {f.lesson: f.path for f in found} == expect


def test_generated_cases_without_a_pattern() -> None:
    block, allow = TEMPLATE.generated_cases({"yaml": GOOD_RULE})
    assert block == () and [c.code for c in allow] == ["pass\n"]
    assert TEMPLATE.generated_cases({"pattern": "f()", "languages": ["go"]}) == ((), ())
