"""`ladder guard AGENT --after`: the post-tool check sees what a tool call did to the
enforcement -- protected files, lessons, git hooks, hook config -- in real repositories."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from testing.fixtures import git, make_repo
from testing.guard import event, guarded_repo, run_hook_command


@pytest.fixture
def root(tmp_path: Path) -> Path:
    repo = guarded_repo(tmp_path / "repo")
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nexec ladder check --hook\n", encoding="utf-8")
    hook.chmod(0o755)
    return repo


def after(root: Path) -> subprocess.CompletedProcess[str]:
    payload = event(root, "Bash", {"command": "python fix.py"}, hook_event_name="PostToolUse")
    return run_hook_command(f"{sys.executable} -m ladder guard claude --after || exit 2", payload, root)


def _intact(root: Path) -> None:
    proc = after(root)
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stderr


def _violated(root: Path, *needles: str) -> None:
    proc = after(root)
    assert proc.returncode == 2, proc.stderr
    assert "your last tool call changed what enforces the lessons" in proc.stderr
    for needle in needles:
        assert needle in proc.stderr


def test_a_changed_protected_file_is_reported_until_it_is_restored(root: Path) -> None:
    _intact(root)
    (root / "evaluate.py").write_text("def score():\n    return 99.0\n", encoding="utf-8")
    _violated(root, "evaluate.py: protected, and no longer as committed")
    _violated(root, "evaluate.py")  # told again after the next call
    git(root, "checkout", "--", "evaluate.py")
    _intact(root)


def test_a_deleted_or_renamed_protected_file_is_reported(root: Path) -> None:
    _intact(root)
    git(root, "mv", "evaluate.py", "old.py")
    _violated(root, "evaluate.py")


@pytest.mark.parametrize(
    "change,needle",
    [
        pytest.param(["config", "core.hooksPath", "/dev/null"], "git config core.hookspath=/dev/null: added",
                     id="hooks-path"),
        pytest.param(["config", "alias.ci", "commit --no-verify"], "git config alias.ci=commit --no-verify",
                     id="alias"),
    ],
)
def test_git_config_that_moves_the_hooks_is_reported(root: Path, change: list[str], needle: str) -> None:
    _intact(root)
    git(root, *change)
    _violated(root, needle)
    git(root, "config", "--unset", change[1])
    _intact(root)


def test_a_removed_or_replaced_hook_is_reported(root: Path) -> None:
    _intact(root)
    hook = root / ".git" / "hooks" / "pre-commit"
    hook.chmod(0o644)
    _violated(root, "git hook pre-commit: changed")
    hook.unlink()
    _violated(root, "git hook pre-commit: removed")


def test_a_lowered_lesson_or_a_new_config_file_is_reported(root: Path) -> None:
    _intact(root)
    lesson = root / ".ladder" / "lessons" / "evaluator-is-ground-truth.toml"
    lesson.write_text(lesson.read_text(encoding="utf-8").replace("level = 5", "level = 1"), encoding="utf-8")
    (root / ".ladder" / "config.toml").write_text('exclude = ["*"]\n', encoding="utf-8")
    _violated(root, ".ladder/lessons/evaluator-is-ground-truth.toml: changed", ".ladder/config.toml: added")


def test_ordinary_work_and_ladders_own_state_pass(root: Path) -> None:
    _intact(root)
    (root / "model.py").write_text("def generate(x):\n    validate_input(x)\n    return 2\n", encoding="utf-8")
    (root / "notes.txt").write_text("x\n", encoding="utf-8")
    (root / ".ladder" / "cache").mkdir(exist_ok=True)
    (root / ".ladder" / "cache" / "x.marshal").write_bytes(b"\0")
    (root / ".ladder" / "runs" / "r1").mkdir(parents=True)
    (root / ".ladder" / "runs" / "r1" / "journal.jsonl").write_text("{}\n", encoding="utf-8")
    _intact(root)


def test_a_repository_without_lessons_is_not_judged(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "plain", {"a.py": "x = 1\n"})
    (repo / "a.py").unlink()
    _intact(repo)
    assert not os.path.exists(repo / ".git" / "ladder" / "intact.json")
