"""`ladder add`: record a new lesson at level 1."""

from __future__ import annotations

from collections.abc import Sequence

from ladder.errors import LadderError
from ladder.lesson import ID_RE, Lesson
from ladder.project import Project
from ladder.store import lesson_path, load_lessons, new_id, save_lesson


def run(
    project: Project,
    *,
    title: str,
    why: str,
    tags: Sequence[str] = (),
    paths: Sequence[str] = (),
    source: str = "",
    lesson_id: str | None = None,
) -> int:
    from ladder.levels import compile_all

    project.require_initialized()
    if not title.strip():
        raise LadderError("the title is empty", todo='give one: ladder add "TITLE" --why TEXT')
    if lesson_id is None:
        lesson_id = new_id(project, title)
    elif not ID_RE.match(lesson_id):
        raise LadderError(
            f"bad id {lesson_id!r}", todo="use lowercase letters, digits, '.', '_' or '-'"
        )
    elif lesson_path(project, lesson_id).exists():
        raise LadderError(f"a lesson with id {lesson_id!r} exists", todo="choose another --id")
    lesson = Lesson(
        id=lesson_id,
        title=title.strip(),
        why=why.strip(),
        level=0,  # replaced just below, so the history starts with its creation
        tags=tuple(tags),
        paths=tuple(paths) or ("**",),
        source=source,
    ).with_level(1, "added")
    save_lesson(project, lesson)
    compile_all(project, load_lessons(project))
    print(lesson.id)
    return 0
