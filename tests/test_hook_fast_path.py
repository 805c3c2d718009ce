"""The hook's fast path: the index it trusts, when it answers, and the semgrep prefetch."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from ladder.commands import check
from ladder.hooks import fast
from ladder.lesson import Lesson, Rule
from ladder.project import Project
from ladder.rules import semgrep_launch
from ladder.store import save_lesson
from testing.fixtures import git, make_repo, write

EVAL = "x = eval('1')\n"


def lessons() -> list[Lesson]:
    return [
        Lesson(id="no-eval", title="no eval", why="w", level=5, paths=("src/**",),
               rule=Rule("pattern", {"pattern": "eval(...)"})),
        Lesson(id="no-system", title="no os.system", why="w", level=5, paths=("**/*.py",),
               rule=Rule("forbid-call", {"name": "os.system"})),
    ]


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    repo = make_repo(tmp_path / "r", {"README.md": "hi\n", "src/a.py": "x = 1\n"})
    project = Project(repo)
    for lesson in lessons():
        save_lesson(project, lesson)
    monkeypatch.chdir(repo)
    return repo


def full_hook_check(root: Path, *files: str) -> int:
    return check.run(Project(root), files=files, hook=True)


def test_no_index_means_full_path(root: Path) -> None:
    assert fast.load_index(".") is None
    assert not fast.run(["README.md"])


def test_index_answers_for_files_no_rule_reads(root: Path) -> None:
    assert full_hook_check(root, "README.md") == 0  # writes the index
    index = fast.load_index(".")
    assert index is not None
    assert {e["id"] for e in index["lessons"]} == {"no-eval", "no-system"}
    assert fast.nothing_to_check(["README.md", "docs/x.txt"])
    assert not fast.nothing_to_check(["src/a.py"])
    assert not fast.nothing_to_check(["tools/b.py"])  # no-system reads every .py


def test_editing_a_lesson_makes_the_index_stale(root: Path) -> None:
    full_hook_check(root, "README.md")
    assert fast.load_index(".") is not None
    lesson_file = root / ".ladder" / "lessons" / "no-eval.toml"
    time.sleep(0.01)
    lesson_file.write_text(lesson_file.read_text() + "\n")
    assert fast.load_index(".") is None
    assert not fast.run(["README.md"])


def test_a_same_size_edit_that_keeps_its_mtime_is_still_an_edit(root: Path) -> None:
    """Both caches (the hook's index, the parsed lessons) are keyed on the bytes: a
    lesson narrowed to other paths in place, its size and mtime kept, is seen."""
    from ladder.store import load_lessons

    full_hook_check(root, "README.md")
    assert fast.load_index(".") is not None and not fast.nothing_to_check(["src/a.py"])
    lesson_file = root / ".ladder" / "lessons" / "no-eval.toml"
    before = lesson_file.stat()
    text = lesson_file.read_text()
    assert '"src/**"' in text
    lesson_file.write_text(text.replace('"src/**"', '"doc/**"'))  # same size
    os.utime(lesson_file, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert lesson_file.stat().st_size == before.st_size
    assert fast.load_index(".") is None  # stale: the full check runs
    [narrowed] = [x for x in load_lessons(Project(root)) if x.id == "no-eval"]
    assert narrowed.paths == ("doc/**",)


def test_a_protect_lesson_always_takes_the_full_path(root: Path) -> None:
    save_lesson(Project(root), Lesson(id="protect-eval", title="t", why="w", level=5,
                                      rule=Rule("protect", {"paths": ["evaluate.py"]})))
    full_hook_check(root, "README.md")
    assert fast.load_index(".") is not None
    assert not fast.nothing_to_check(["README.md"])


def test_prefetched_semgrep_is_taken_by_the_engine(root: Path) -> None:
    write(root, "src/a.py", EVAL)
    git(root, "add", "-A")
    assert full_hook_check(root, "src/a.py") == 1  # builds the index, finds eval
    assert not fast.run(["src/a.py"])
    assert semgrep_launch._pending is not None  # semgrep is already running
    taken: list[object] = []
    real_take = semgrep_launch.take

    def spy(*args: object) -> object:
        proc = real_take(*args)  # type: ignore[arg-type]
        taken.append(proc)
        return proc

    semgrep_launch.take = spy  # type: ignore[assignment]
    try:
        assert full_hook_check(root, "src/a.py") == 1
    finally:
        semgrep_launch.take = real_take
    assert taken and taken[0] is not None  # the engine used the running process
    assert semgrep_launch._pending is None


def test_a_wrong_guess_is_discarded_not_trusted(root: Path) -> None:
    write(root, "src/a.py", EVAL)
    semgrep_launch.prefetch(
        str(semgrep_core()), semgrep_launch.config_text(['{"id": "other", "pattern": "print(...)", '
                                                         '"message": "m", "languages": ["python"], '
                                                         '"severity": "ERROR"}']),
        ["src/a.py"], str(root / ".ladder"), semgrep_launch.SEMGREP_TIMEOUT_S,
    )
    assert semgrep_launch._pending is not None
    assert full_hook_check(root, "src/a.py") == 1  # still the real findings
    assert semgrep_launch._pending is None


def semgrep_core() -> str:
    from ladder.rules.semgrep_engine import osemgrep_core

    core = osemgrep_core()
    if core is None:  # pragma: no cover - the packaged binary is part of semgrep's wheel
        pytest.fail("semgrep-core not found next to the semgrep package")
    assert os.access(core, os.X_OK)
    return core
