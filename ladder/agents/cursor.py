"""Cursor: `.cursor/rules/ladder.mdc`, a project rule with `alwaysApply: true`.

Cursor has no hook that can refuse an edit before it lands, so ladder reaches it with
prose only: the level 2-5 rules, generated from the lessons (the same text as the
AGENTS.md block). `ladder audit` counts this surface as prose, not as a guard; the
git hook still refuses the commit.

The file is regenerated whenever the lessons change (with the level-2 artifacts) once
`ladder hooks install --agent cursor` has created it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ladder.agents.base import RULES, AgentStatus

if TYPE_CHECKING:
    from ladder.lesson import Lesson
    from ladder.project import Project

RULE_FILE = ".cursor/rules/ladder.mdc"
_FRONT_MATTER = (
    "---\n"
    "description: Rules from past lessons, enforced by ladder (generated from .ladder/lessons)\n"
    "globs:\n"
    "alwaysApply: true\n"
    "---\n"
)


def render(lessons: Sequence[Lesson]) -> str:
    from ladder.levels.base import GENERATED_HEADER
    from ladder.levels.prompt import prompt_text

    return f"{_FRONT_MATTER}<!-- {GENERATED_HEADER} -->\n\n{prompt_text(lessons)}"


def _lessons(project: Project) -> list[Lesson]:
    from ladder.store import load_lessons

    return load_lessons(project) if project.initialized else []


def refresh(project: Project, lessons: Sequence[Lesson]) -> list[Path]:
    """Rewrite the rule file from `lessons` when it exists; the paths written."""
    from ladder.levels._files import write_if_changed

    path = project.root / RULE_FILE
    if path.is_file() and write_if_changed(path, render(lessons)):
        return [path]
    return []


def drift(project: Project, lessons: Sequence[Lesson]) -> list[str]:
    from ladder.levels._files import read_exact

    current = read_exact(project.root / RULE_FILE)
    if current is not None and current != render(lessons):
        return [f"{RULE_FILE}: differs from .ladder/lessons"]
    return []


class Cursor:
    name: str = "cursor"
    path: str = RULE_FILE
    surface: str = RULES

    def install(self, project: Project) -> bool:
        from ladder.levels._files import write_if_changed

        return write_if_changed(project.root / RULE_FILE, render(_lessons(project)))

    def status(self, project: Project) -> AgentStatus:
        path = project.root / RULE_FILE
        if not path.is_file():
            return AgentStatus(self.name, RULE_FILE, False, "no ladder rule file")
        stale = drift(project, _lessons(project))
        detail = "rules (prose: Cursor has no blocking hook)" + ("; STALE: rerun install" if stale else "")
        return AgentStatus(self.name, RULE_FILE, not stale, detail)


AGENT = Cursor()
