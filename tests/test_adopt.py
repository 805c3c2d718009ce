"""`ladder adopt`: prose rules found outside .ladder/ become level-1 lessons, once."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path
from typing import Any

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
- Run `ruff` before pushing.
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
        ("AGENTS.md:5", "Run `ruff` before pushing.", 1, ("adopted",)),
        ("CONTRIBUTING.md:3", "You must sign your commits.", 1, ("adopted",)),
    ]
    for lesson in lessons.values():
        assert lesson.why == f"adopted from {lesson.source}"
        assert [(h.from_level, h.to_level) for h in lesson.history] == [(0, 1)]
    # The artifacts are regenerated: the lessons document lists them.
    assert "Keep functions small" in (project.root / "LESSONS.md").read_text(encoding="utf-8")


def test_adopt_twice_does_not_duplicate(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    first = _adopt(project)
    assert len(first) == 4
    assert _adopt(project) == []
    assert len(load_lessons(project)) == 4
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
    assert len(ids) == 4 and len(set(ids)) == 4
    assert load_lessons(project) == []
    assert (project.root / "LESSONS.md").read_text(encoding="utf-8") == before


def test_adopt_requires_init(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", FILES)
    with pytest.raises(LadderError, match="not set up"):
        adopt.run(Project(root), out=io.StringIO())


def _audit(project: Project) -> dict[str, Any]:
    out = io.StringIO()
    assert audit.run(project, fmt="json", out=out) == 0
    data: dict[str, Any] = json.loads(out.getvalue())
    return data


def test_audit_after_adopt_counts_each_rule_once(project: Project) -> None:
    ids = _adopt(project)
    data = _audit(project)
    assert data["levels"]["1"] == 4
    # Inventory: 5 prose items (one is the CLAUDE.md copy) all adopted, 1 ruff hook.
    assert data["totals"]["adopted"] == 5
    assert {i["adopted_as"] for i in data["inventory"] if i["kind"] == "prose"} == set(ids)
    suggestions = {g["suggestion"] for g in data["gaps"]}
    # "Run `ruff` before pushing" is enforced by the ruff hook: not a gap, lesson or not.
    assert len(suggestions) == 3 and all(s.startswith("`ladder promote ") for s in suggestions)


def test_adopting_prose_leaves_the_prose_share_alone(project: Project) -> None:
    """Issue 13: adopting moved pydantic-ai from 9.1% to 100% prose with nothing enforced
    differently. A rule adopted as a level-1 note is prose before and after; the rule
    the ruff hook enforces is structural before and after."""
    before = _audit(project)
    _adopt(project)
    after = _audit(project)
    # 4 rules (3 prose, 1 enforced by ruff, which it names, so ruff is not counted again).
    assert before["prose_share"] == after["prose_share"] == 0.75
    assert before["totals"]["by_level"] == {"1": 1, "2": 2, "3": 0, "4": 0, "5": 1}
    assert after["totals"]["by_level"] == {"1": 3, "2": 0, "3": 0, "4": 0, "5": 1}


def test_enforcing_an_adopted_rule_moves_the_prose_share(project: Project) -> None:
    from ladder.lesson import Case, Rule
    from ladder.store import save_lesson

    _adopt(project)
    lesson = next(x for x in load_lessons(project) if x.title == "Never edit `evaluate.py`.")
    rule = Rule("protect", {"paths": ["evaluate.py"]}, block=(Case("evaluate.py"),), allow=(Case("train.py"),))
    save_lesson(project, dataclasses.replace(lesson, level=3, rule=rule))
    assert _audit(project)["prose_share"] == 0.5


AGENT_FILE = """\
# Contributor Guide

## Table of Contents

1. [Setup](#setup)
2. [Rules](#rules)

## Setup

The project uses:

- `ruff` via `make lint`
- `pyright` via `make typecheck`
- Python 3.10+.

## Rules

All changes need to:

- be scoped to the problem you are solving
- keep behaviour unchanged for other users

Run the full test suite:

```bash
make test
```

- typecheck a single file: `uv run pyright path/to/file.py`
- Never add yourself as a co-author on commits.
"""


def test_adopt_imports_rules_not_links_descriptions_or_fragments(tmp_path: Path) -> None:
    from ladder.commands import init

    root = make_repo(tmp_path / "r", {"AGENTS.md": AGENT_FILE})
    init.run(Project(root), install_hooks=False)
    _adopt(Project(root))
    assert sorted(x.title for x in load_lessons(Project(root))) == [
        "Never add yourself as a co-author on commits.",
        "be scoped to the problem you are solving",
        "keep behaviour unchanged for other users",
    ]
