"""Level 3, lint: the lesson's rule, reported as a warning by `ladder check`.

There is no artifact: `ladder check` reads the rule from the lesson file each time.
The gate is that there is a rule and that it validates.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ladder.errors import LadderError
from ladder.lesson import Lesson, Rule
from ladder.project import Project

NO_RULE = "no rule: give one with --rule TEMPLATE KEY=VALUE ..."


def lesson_where(lesson: Lesson) -> str:
    return f".ladder/lessons/{lesson.id}.toml [rule]"


def validated(lesson: Lesson) -> tuple[Rule | None, list[str]]:
    """The lesson's rule, validated, or the reasons it has none that works.

    Shared by the gates of levels 3-5, each of which must stand alone (a hand-edited
    level-4 lesson may have lost its rule); `gate_reasons` removes the duplicates.
    """
    if lesson.rule is None:
        return None, [NO_RULE]
    from ladder.rules.registry import validate_rule

    try:
        return validate_rule(lesson.rule, lesson_where(lesson)), []
    except LadderError as exc:
        return None, [exc.line().removeprefix("ladder: error: ")]


class LintCompiler:
    level = 3
    name = "lint"

    def gate(self, lesson: Lesson, project: Project) -> list[str]:
        return validated(lesson)[1]

    def compile(self, lessons: Sequence[Lesson], project: Project) -> list[Path]:
        return []  # read live by `ladder check`

    def drift(self, lessons: Sequence[Lesson], project: Project) -> list[str]:
        return []
