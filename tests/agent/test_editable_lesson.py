"""The generated `agent-editable-only` lesson: protect everything but the editable files,
from the agent's commits only."""

from __future__ import annotations

from pathlib import Path

import pytest

from ladder.agent import editable as guard
from ladder.git import Change
from ladder.project import Project
from ladder.rules.base import CheckRequest
from ladder.rules.cases import run_cases
from ladder.rules.diff_engine import ENGINE
from ladder.store import load_lessons
from testing.fixtures import make_repo

LESSON = guard.editable_lesson(["train.py", "models/**"])
CHANGES = [Change("M", "evaluate.py"), Change("M", "train.py"), Change("A", "models/big.py"),
           Change("R", "data/val.csv", "data/train.csv")]


def flagged(request: CheckRequest) -> list[str]:
    return sorted(f.path for f in ENGINE.run([LESSON], request))


def test_guards_the_agent_and_only_its_non_editable_files(tmp_path: Path) -> None:
    request = CheckRequest(tmp_path, [], changes=CHANGES, agent=True)
    assert flagged(request) == ["data/train.csv", "data/val.csv", "evaluate.py"]


def test_people_commit_freely(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LADDER_AGENT", raising=False)
    assert flagged(CheckRequest(tmp_path, [], changes=CHANGES)) == []
    monkeypatch.setenv("LADDER_AGENT", "1")  # what the loop sets on its commits' hooks
    assert flagged(CheckRequest(tmp_path, [], changes=CHANGES)) == ["data/train.csv", "data/val.csv",
                                                                     "evaluate.py"]


def test_its_generated_cases_pass(tmp_path: Path) -> None:
    assert all(r.ok for r in run_cases([LESSON], root=tmp_path))


def test_ensure_writes_once_and_follows_the_editable_list(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"train.py": "x = 1\n"})
    project = Project(root)
    project.lessons_dir.mkdir(parents=True)
    written = guard.ensure(project, ["train.py"])
    assert project.rel(written[0]) == f".ladder/lessons/{guard.LESSON_ID}.toml"
    assert "LESSONS.md" in [project.rel(p) for p in written]
    assert guard.ensure(project, ["train.py"]) == []  # idempotent
    assert guard.ensure(project, ["train.py", "model.py"])  # the list changed: updated
    (lesson,) = [x for x in load_lessons(project) if x.id == guard.LESSON_ID]
    assert lesson.level == 5
    assert lesson.rule is not None and lesson.rule.args["paths"] == ["**", "!train.py", "!model.py"]
    assert [h.to_level for h in lesson.history] == [5]
