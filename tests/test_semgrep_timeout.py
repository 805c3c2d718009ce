"""Issue 13, part 3: a semgrep rule that runs out of `semgrep_timeout` on a file is a
warning naming the lesson and the file, as semgrep itself treats it; every other finding
still prints and decides the exit code. Real semgrep, on a file one rule cannot finish.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from ladder.errors import RuleCrash
from ladder.findings import Unfinished
from ladder.lesson import Lesson, Rule
from ladder.project import Project
from ladder.rules.base import CheckRequest
from ladder.rules.semgrep_engine import compile_lessons, scan
from ladder.store import save_lesson
from testing.cli import ladder
from testing.fixtures import make_repo, write

# Every `x = g(a)` matches every step, so semgrep tries ~n^4 combinations: unbounded,
# 100 lines took 67 s; 200 lines under a 1 s limit time out every time (in ~1.3 s).
SLOW_PATTERN = "$X = g($A)\n...\n$Y = g($A)\n...\n$Z = g($A)\n...\n$W = g($A)"
SLOW_FILE = "def f():\n" + "    x = g(a)\n" * 200


def lesson(lesson_id: str, pattern: str) -> Lesson:
    return Lesson(lesson_id, f"title of {lesson_id}", "why", level=5, paths=("**/*.py",),
                  rule=Rule("pattern", {"pattern": pattern}))


LESSONS = (lesson("slow-rule", SLOW_PATTERN), lesson("no-eval", "eval(...)"))


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = make_repo(tmp_path_factory.mktemp("timeout") / "repo",
                     {"gen/slow.py": SLOW_FILE, "src/bad.py": "eval(data)\n"})
    assert ladder(repo, "init", "--no-hooks").returncode == 0
    for each in LESSONS:
        save_lesson(Project(repo), each)
    write(repo, ".ladder/config.toml", "semgrep_timeout = 1\n")
    return repo


def test_timeout_is_a_warning_and_the_other_findings_print(root: Path) -> None:
    proc = ladder(root, "check", "--ci")
    assert proc.returncode == 1, proc.stderr  # the finding decides, not the timeout
    assert "src/bad.py:1:1: error [no-eval]" in proc.stdout
    warnings = [ln for ln in proc.stderr.splitlines() if ln.startswith("ladder: warning:")]
    assert warnings == [
        "ladder: warning: gen/slow.py: the rule of lesson 'slow-rule' did not finish (semgrep timeout "
        "of 1 s), so it is unchecked in this file (raise `semgrep_timeout` in [tool.ladder], 0 for "
        "no limit, or `exclude` the file)"
    ]
    assert "error" not in proc.stderr.replace("[tool.ladder]", "")


def test_timeout_alone_passes_with_a_warning(root: Path) -> None:
    """The hook on the slow file alone: no finding, so the commit goes through, warned."""
    proc = ladder(root, "check", "--hook", "--", "gen/slow.py")
    assert proc.returncode == 0, proc.stderr
    assert "ladder: warning: gen/slow.py: the rule of lesson 'slow-rule' did not finish" in proc.stderr


def test_timeout_is_a_sarif_notification(root: Path) -> None:
    proc = ladder(root, "check", "--ci", "--format", "sarif")
    assert proc.returncode == 1, proc.stderr
    (run,) = json.loads(proc.stdout)["runs"]
    assert [r["ruleId"] for r in run["results"]] == ["no-eval"]
    (note,) = run["invocations"][0]["toolExecutionNotifications"]
    assert note["associatedRule"] == {"id": "slow-rule"} and note["level"] == "warning"
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "gen/slow.py"


@pytest.mark.parametrize("experimental", [pytest.param(True, id="semgrep-core"),
                                          pytest.param(False, id="semgrep-scan")])
def test_both_launch_paths_pass_the_timeout(root: Path, experimental: bool) -> None:
    request = CheckRequest(root, ["gen/slow.py", "src/bad.py"], semgrep_timeout=1)
    found = scan(compile_lessons(LESSONS, root), request, experimental=experimental)
    assert [(f.lesson, f.path) for f in found] == [("no-eval", "src/bad.py")]
    assert request.unfinished == [Unfinished("slow-rule", "gen/slow.py", "semgrep timeout of 1 s")]


def test_an_agents_change_still_fails_closed(root: Path) -> None:
    """A candidate could write a file that times a rule out: for it a timeout blocks."""
    request = CheckRequest(root, ["gen/slow.py"], semgrep_timeout=1, agent=True)
    with pytest.raises(RuleCrash, match=r"slow-rule.*Timeout"):
        scan(compile_lessons(LESSONS, root), request)


def test_a_rule_that_cannot_finish_on_the_tree_is_not_promoted_to_level_5(root: Path) -> None:
    """At level 5 it would only warn at every commit touching the file: the gate says so."""
    from ladder.levels.hook import HookCompiler

    slow, fast = (dataclasses.replace(each, level=4) for each in LESSONS)
    reasons = HookCompiler().gate(slow, Project(root))
    assert any(r.startswith("the rule did not finish on gen/slow.py (semgrep timeout of 1 s)")
               for r in reasons), reasons
    assert not any("did not finish" in r for r in HookCompiler().gate(fast, Project(root)))


def test_a_case_the_rule_cannot_finish_on_fails() -> None:
    """An allow case that timed out was never checked: it must not pass (`ladder test`,
    the level-4 gate)."""
    from ladder.lesson import Case
    from ladder.rules.cases import run_cases

    slow = Lesson("slow-rule", "title", "why", rule=Rule(
        "pattern", {"pattern": SLOW_PATTERN}, (Case("x = g(a)\ny = g(a)\nz = g(a)\nw = g(a)\n"),),
        (Case(SLOW_FILE),)))
    results = run_cases([slow])
    assert [(r.kind, r.ok) for r in results] == [("block", True), ("allow", False)]
    assert results[1].detail.startswith("allow case 0: the rule did not finish on it (semgrep timeout")
