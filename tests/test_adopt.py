"""`ladder adopt`: prose rules found outside .ladder/ become level-1 lessons, once."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from ladder.commands import adopt, audit
from ladder.errors import LadderError
from ladder.project import Project
from ladder.store import load_lessons
from testing.fixtures import make_repo

AGENTS = """\
# Agents

- Never edit `evaluate.py`.
- Keep functions small
"""

FILES = {
    "AGENTS.md": AGENTS,
    # The same rule copied into CLAUDE.md must not become a second lesson.
    "CLAUDE.md": "- Never edit `evaluate.py`.\n",
    "CONTRIBUTING.md": "# Contributing\n\nYou must sign your commits.\n",
    ".pre-commit-config.yaml": "repos:\n  - repo: https://github.com/astral-sh/ruff-pre-commit\n"
    "    rev: v0.5.0\n    hooks:\n      - id: ruff\n",
}


@pytest.fixture
def project(tmp_path: Path) -> Project:
    from ladder.commands import init

    root = make_repo(tmp_path / "r", FILES)
    init.run(Project(root), install_hooks=False)
    return Project(root)


def _adopt(project: Project, dry_run: bool = False) -> list[str]:
    out = io.StringIO()
    assert adopt.run(project, dry_run=dry_run, out=out) == 0
    return out.getvalue().split()


def test_adopt_makes_level_one_lessons(project: Project) -> None:
    ids = _adopt(project)
    lessons = {x.id: x for x in load_lessons(project)}
    assert sorted(ids) == sorted(lessons)
    got = sorted((x.source, x.title, x.level, x.tags) for x in lessons.values())
    assert got == [
        ("AGENTS.md:3", "Never edit `evaluate.py`.", 1, ("adopted",)),
        ("AGENTS.md:4", "Keep functions small", 1, ("adopted",)),
        ("CONTRIBUTING.md:3", "You must sign your commits.", 1, ("adopted",)),
    ]
    for lesson in lessons.values():
        assert lesson.why == f"adopted from {lesson.source}"
        assert [(h.from_level, h.to_level) for h in lesson.history] == [(0, 1)]
    # The artifacts are regenerated: the lessons document lists them.
    assert "Keep functions small" in (project.root / "LESSONS.md").read_text(encoding="utf-8")


def test_adopt_twice_does_not_duplicate(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    first = _adopt(project)
    assert len(first) == 3
    assert _adopt(project) == []
    assert len(load_lessons(project)) == 3
    assert "0 prose rule(s)" in capsys.readouterr().err


def test_adopt_recognises_a_moved_rule(project: Project) -> None:
    _adopt(project)
    agents = project.root / "AGENTS.md"
    agents.write_text("# Agents\n\nIntro line.\n\n" + agents.read_text(encoding="utf-8")[len("# Agents\n\n"):],
                      encoding="utf-8")
    assert _adopt(project) == []


def test_adopt_dry_run_writes_nothing(project: Project) -> None:
    before = (project.root / "LESSONS.md").read_text(encoding="utf-8")
    ids = _adopt(project, dry_run=True)
    assert len(ids) == 3 and len(set(ids)) == 3
    assert load_lessons(project) == []
    assert (project.root / "LESSONS.md").read_text(encoding="utf-8") == before


def test_adopt_requires_init(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", FILES)
    with pytest.raises(LadderError, match="not set up"):
        adopt.run(Project(root), out=io.StringIO())


def test_audit_after_adopt_counts_each_rule_once(project: Project) -> None:
    ids = _adopt(project)
    out = io.StringIO()
    assert audit.run(project, fmt="json", out=out) == 0
    data = json.loads(out.getvalue())
    assert data["levels"]["1"] == 3
    assert data["prose_share"] == 1.0
    # Inventory: 4 prose items (one is the CLAUDE.md copy) all adopted, 1 ruff hook.
    assert data["totals"]["adopted"] == 4
    assert data["totals"]["inventory"] == 1
    assert data["combined_prose_share"] == 0.75  # 3 lessons, all prose, + 1 hook
    assert {i["adopted_as"] for i in data["inventory"] if i["kind"] == "prose"} == set(ids)
    suggestions = {g["suggestion"] for g in data["gaps"]}
    assert suggestions == {f"`ladder promote {i} --max`" for i in ids}
