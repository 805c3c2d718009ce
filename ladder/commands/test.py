"""`ladder test [ID...]`: run every rule's block/allow cases."""

from __future__ import annotations

from collections.abc import Sequence

from ladder.errors import LadderError
from ladder.project import Project
from ladder.store import load_lessons


def run(project: Project, *, lesson_ids: Sequence[str] = ()) -> int:
    from ladder.rules.cases import run_cases

    lessons = [x for x in load_lessons(project) if x.rule is not None]
    if lesson_ids:
        known = {x.id for x in lessons}
        missing = [i for i in lesson_ids if i not in known]
        if missing:
            raise LadderError(
                f"no lesson with a rule named {missing[0]!r}", todo="`ladder list` shows them"
            )
        lessons = [x for x in lessons if x.id in lesson_ids]
    if not lessons:
        print("ladder test: no lessons with rules")
        return 0
    results = run_cases(lessons, root=project.root)
    failed = [r for r in results if not r.ok]
    for r in results:
        mark = "ok  " if r.ok else "FAIL"
        where = "" if r.source == "lesson" else f" ({r.source})"
        print(f"{mark} {r.lesson} {r.kind}[{r.index}]{where}{'' if r.ok else ': ' + r.detail}")
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0
