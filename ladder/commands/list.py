"""`ladder list`: the lessons, one line each."""

from __future__ import annotations

import json

from ladder.lesson import LEVEL_NAMES
from ladder.project import Project
from ladder.store import load_lessons


def run(
    project: Project, *, level: int | None = None, tag: str | None = None, fmt: str = "table"
) -> int:
    lessons = [
        lesson
        for lesson in load_lessons(project)
        if (level is None or lesson.level == level) and (tag is None or tag in lesson.tags)
    ]
    if fmt == "json":
        print(
            json.dumps(
                [
                    {
                        "id": x.id,
                        "level": x.level,
                        "level_name": x.level_name,
                        "title": x.title,
                        "status": x.status,
                        "tags": list(x.tags),
                        "template": x.rule.template if x.rule else None,
                    }
                    for x in lessons
                ],
                indent=2,
            )
        )
        return 0
    if not lessons:
        print('no lessons yet: ladder add "TITLE" --why TEXT')
        return 0
    width = max(len(x.id) for x in lessons)
    for x in lessons:
        rule = x.rule.template if x.rule else "-"
        status = "" if x.status == "active" else f" [{x.status}]"
        print(
            f"{x.id:<{width}}  {x.level} {LEVEL_NAMES[x.level]:<6}  {rule:<13}  {x.title}{status}"
        )
    return 0
