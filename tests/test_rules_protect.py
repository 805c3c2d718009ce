"""The `protect` template and the diff engine, on the staged changes of real git repositories."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ladder.errors import LadderError
from ladder.findings import Finding
from ladder.git import Change, staged_changes
from ladder.lesson import Lesson, Rule
from ladder.rules.base import CheckRequest
from ladder.rules.diff_engine import ENGINE
from ladder.rules.runner import check
from ladder.rules.templates.protect import TEMPLATE, example_path
from testing.fixtures import git, make_repo, write

BASE = {
    "evaluate.py": "def score(): ...\n",
    "data/train.csv": "x,y\n",
    "train.py": "LR = 0.01\n",
    "notes/readme.md": "hello\n",
}


def protect(paths: Any = ("evaluate.py", "data/**"), **args: Any) -> Lesson:
    return Lesson(
        id="protect-evaluator",
        title="The evaluator is ground truth",
        why="w",
        rule=Rule("protect", {"paths": list(paths) if isinstance(paths, tuple) else paths, **args}),
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", BASE)


def staged(root: Path) -> CheckRequest:
    files = [c.path for c in staged_changes(root) if c.status != "D"]
    return CheckRequest(root, files, changes=staged_changes(root))


def _modify(root: Path) -> None:
    write(root, "evaluate.py", "def score(): return 1.0\n")
    git(root, "add", "evaluate.py")


def _delete(root: Path) -> None:
    git(root, "rm", "-q", "evaluate.py")


def _rename_out(root: Path) -> None:
    git(root, "mv", "evaluate.py", "old_evaluate.py")


def _rename_in(root: Path) -> None:
    git(root, "mv", "notes/readme.md", "data/readme.md")


def _add_data(root: Path) -> None:
    write(root, "data/new/extra.csv", "1,2\n")
    git(root, "add", "data")


def _touch_train(root: Path) -> None:
    write(root, "train.py", "LR = 0.02\n")
    git(root, "add", "train.py")


def _rename_unrelated(root: Path) -> None:
    git(root, "mv", "notes/readme.md", "notes/README.md")


def _unstaged_edit(root: Path) -> None:
    write(root, "evaluate.py", "def score(): return 1.0\n")  # not staged: not in the commit


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(_modify, [("evaluate.py", "modified")], id="modification"),
        pytest.param(_delete, [("evaluate.py", "deleted")], id="deletion"),
        pytest.param(_rename_out, [("evaluate.py", "renamed to old_evaluate.py")], id="rename-out"),
        pytest.param(_rename_in, [("data/readme.md", "renamed from notes/readme.md")], id="rename-in"),
        pytest.param(_add_data, [("data/new/extra.csv", "added")], id="new-file-under-glob"),
    ],
)
def test_protect_fixes(project: Path, change: Any, expected: list[tuple[str, str]]) -> None:
    change(project)
    found = ENGINE.run([protect()], staged(project))
    assert [(f.path, f.line, f.column) for f in found] == [(p, 1, 1) for p, _ in expected]
    for finding, (path, verb) in zip(found, expected, strict=True):
        assert finding.message == f"{path} is protected ({verb}): The evaluator is ground truth"
        assert finding.rule == "protect" and finding.lesson == "protect-evaluator"


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(_touch_train, id="unrelated-modification"),
        pytest.param(_rename_unrelated, id="unrelated-rename"),
        pytest.param(_unstaged_edit, id="unstaged-edit"),
    ],
)
def test_protect_noop(project: Path, change: Any) -> None:
    change(project)
    assert ENGINE.run([protect()], staged(project)) == []


def test_not_a_diff_run_reports_nothing(project: Path) -> None:
    request = CheckRequest(project, list(BASE), changes=None)
    assert ENGINE.run([protect()], request) == []


def test_comma_separated_paths_and_message(project: Path) -> None:
    _delete(project)
    found = ENGINE.run([protect("evaluate.py, data/**", message="ask a human")], staged(project))
    assert [f.message for f in found] == ["evaluate.py is protected (deleted): ask a human"]


def test_first_commit_adds_protected_file(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "fresh", BASE, commit=False)
    git(root, "add", "-A")
    found = ENGINE.run([protect()], staged(root))
    assert sorted(f.path for f in found) == ["data/train.csv", "evaluate.py"]


def test_lesson_paths_do_not_scope_protect(project: Path) -> None:
    # A deletion-only commit has no file for a lesson's `paths` to match; the runner must
    # still hand the lesson to the engine.
    _delete(project)
    lesson = protect()
    lesson = Lesson(lesson.id, lesson.title, lesson.why, level=5, paths=("src/**",), rule=lesson.rule)
    request = staged(project)
    assert request.files == []
    found = check(request, [lesson])
    assert [(f.path, f.level) for f in found] == [("evaluate.py", 5)]


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        pytest.param({}, "'paths' of template 'protect' is missing", id="missing"),
        pytest.param({"paths": " , "}, "is empty", id="empty"),
        pytest.param({"paths": 3}, "is 3", id="not-a-list"),
        pytest.param({"paths": ["a"], "glob": "b"}, "unknown rule argument 'glob'", id="unknown-arg"),
    ],
)
def test_validate_refuses(args: dict[str, Any], problem: str) -> None:
    with pytest.raises(LadderError) as info:
        TEMPLATE.validate(args, ".ladder/lessons/p.toml")
    assert problem in info.value.what
    assert info.value.exit_code == 2


def test_validate_normalises_cli_text() -> None:
    assert TEMPLATE.validate({"paths": "evaluate.py,data/**"}, "x") == {"paths": ["evaluate.py", "data/**"]}


@pytest.mark.parametrize(
    ("glob", "path"),
    [
        pytest.param("evaluate.py", "evaluate.py", id="literal"),
        pytest.param("data/**", "data/x", id="double-star"),
        pytest.param("**/*.csv", "x/x.csv", id="suffix"),
        pytest.param("conf/[ab].toml", "conf/x.toml", id="class"),
    ],
)
def test_example_path(glob: str, path: str) -> None:
    assert example_path(glob) == path


@pytest.mark.parametrize(
    "paths",
    [
        pytest.param(["evaluate.py", "data/**"], id="literal-first"),
        pytest.param(["data/**", "!data/README.md"], id="glob-with-exclusion"),
        pytest.param(["*.py"], id="all-python"),
    ],
)
def test_generated_cases_hold(paths: list[str]) -> None:
    block, allow = TEMPLATE.generated_cases({"paths": paths})
    assert len(block) == 1 and len(allow) == 1
    lesson = protect(tuple(paths))
    for case, flagged in ((block[0], True), (allow[0], False)):
        request = CheckRequest(Path("."), [case.path], changes=[Change("M", case.path)])
        assert bool(ENGINE.run([lesson], request)) is flagged, case


def test_generated_block_case_is_the_first_literal_path() -> None:
    block, _ = TEMPLATE.generated_cases({"paths": ["evaluate.py", "data/**"]})
    assert block[0].path == "evaluate.py" and block[0].code == ""


def test_findings_sorted_and_deduplicated(project: Path) -> None:
    changes = [Change("M", "evaluate.py"), Change("M", "evaluate.py"), Change("D", "data/train.csv")]
    found = ENGINE.run([protect()], CheckRequest(project, [], changes=changes))
    assert [f.path for f in found] == ["data/train.csv", "evaluate.py"]
    assert isinstance(found[0], Finding)
