"""`ladder show ID`: one lesson in full."""

from __future__ import annotations

import json

from ladder import _toml
from ladder.lesson import LEVEL_NAMES, lesson_to_dict
from ladder.project import Project
from ladder.store import get_lesson


def run(project: Project, lesson_id: str, *, fmt: str = "text") -> int:
    lesson = get_lesson(project, lesson_id)
    if fmt == "json":
        print(json.dumps(lesson_to_dict(lesson), indent=2))
        return 0
    if fmt == "toml":
        print(_toml.dumps(lesson_to_dict(lesson)), end="")
        return 0
    print(f"{lesson.id}: {lesson.title}")
    print(
        f"  level:  {lesson.level} ({lesson.level_name}){'' if lesson.status == 'active' else ' [' + lesson.status + ']'}"
    )
    print(f"  why:    {lesson.why}")
    if lesson.tags:
        print(f"  tags:   {', '.join(lesson.tags)}")
    print(f"  paths:  {', '.join(lesson.paths)}")
    if lesson.source:
        print(f"  source: {lesson.source}")
    if lesson.rule is not None:
        from ladder.rules.registry import describe

        print(f"  rule:   {lesson.rule.template}: {describe(lesson.rule)}")
        for kind, cases in (("block", lesson.rule.block), ("allow", lesson.rule.allow)):
            for case in cases:
                body = case.code.rstrip("\n").replace("\n", "\n            ")
                print(f"  {kind}:  [{case.path}] {body}")
    for h in lesson.history:
        frm = LEVEL_NAMES.get(h.from_level, "new")
        print(f"  {h.when}  {frm} -> {LEVEL_NAMES[h.to_level]}: {h.why}")
    return 0
