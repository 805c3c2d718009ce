"""The five level compilers, one module each, in a plain registry.

Each compiler has a gate (can this lesson be promoted to my level?) and a compile
step (regenerate my level's artifacts from all lessons). `ladder promote` walks the
gates; every command that changes lessons calls `compile_all`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ladder.lesson import Lesson
from ladder.levels.base import LevelCompiler
from ladder.levels.check import CheckCompiler
from ladder.levels.hook import HookCompiler
from ladder.levels.lint import LintCompiler
from ladder.levels.note import NoteCompiler
from ladder.levels.prompt import PromptCompiler
from ladder.project import Project

LEVELS: dict[int, LevelCompiler] = {
    1: NoteCompiler(),
    2: PromptCompiler(),
    3: LintCompiler(),
    4: CheckCompiler(),
    5: HookCompiler(),
}

__all__ = ["LEVELS", "LevelCompiler", "compile_all", "drift", "gate_reasons"]


def compile_all(project: Project, lessons: Sequence[Lesson]) -> list[Path]:
    """Regenerate every level's artifacts; the paths whose content changed."""
    written: list[Path] = []
    for level in sorted(LEVELS):
        written += LEVELS[level].compile(lessons, project)
    return written


def gate_reasons(lesson: Lesson, target: int, project: Project) -> list[str]:
    """Why `lesson` (carrying the rule it is promoted with) cannot reach `target`.

    The gates of every level above its current one, up to `target`, in order;
    a reason two gates share (say, a missing rule) is given once.
    """
    reasons: dict[str, None] = {}
    for level in range(lesson.level + 1, target + 1):
        for reason in LEVELS[level].gate(lesson, project):
            reasons[reason] = None
    return list(reasons)


def drift(project: Project, lessons: Sequence[Lesson]) -> list[str]:
    """Generated artifacts that differ from what their lessons would produce."""
    out: list[str] = []
    for level in sorted(LEVELS):
        out += LEVELS[level].drift(lessons, project)
    return out
