"""`ladder demote ID --to N --why TEXT`: move a lesson down, with the reason kept."""

from __future__ import annotations

from ladder.errors import LadderError
from ladder.project import Project
from ladder.store import get_lesson, load_lessons, save_lesson


def run(project: Project, lesson_id: str, *, to: int, why: str) -> int:
    from ladder.levels import compile_all

    lesson = get_lesson(project, lesson_id)
    if to >= lesson.level:
        raise LadderError(
            f"lesson {lesson_id!r} is at level {lesson.level}; --to {to} is not lower",
            todo="use `ladder promote` to move up",
        )
    if not why.strip():
        raise LadderError("--why is empty", todo="say why the lesson is demoted")
    save_lesson(project, lesson.with_level(to, f"demoted: {why.strip()}"))
    compile_all(project, load_lessons(project))
    print(f"{lesson_id}: level {lesson.level} -> {to}")
    return 0
