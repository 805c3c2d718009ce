"""`ladder adopt`: the prose rules a repository already has become level-1 lessons.

Each rule of AGENTS.md and CLAUDE.md (at any depth), skills, .cursor/rules,
CONTRIBUTING... becomes a lesson whose source is FILE:LINE, so it can be promoted like
any other. Only what `ladder.audit.classify` calls a rule is adopted: headings,
table-of-contents links, tool descriptions ("`ruff` via `make lint`"), lead-ins and list
fragments are not (issue 13). Running it again adopts only what is new. Adopting does
not change the audit's prose share: a level-1 note is still prose.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TextIO

from ladder.audit.inventory import ADOPTED_TAG, PROSE, InventoryItem, adopted_by, inventory
from ladder.lesson import Lesson
from ladder.project import Project


def run(project: Project, *, dry_run: bool = False, out: TextIO | None = None) -> int:
    from ladder.levels import compile_all
    from ladder.store import load_lessons, save_lesson

    project.require_initialized()
    stream = out or sys.stdout
    lessons = load_lessons(project)
    config = project.config
    found = inventory(project.root, config.agent_files, (config.lessons_doc,))
    items = [i for i in found if i.kind == PROSE]
    done = adopted_by(items, lessons)
    fresh = _distinct(i for i in items if i.location not in done)
    taken: set[str] = set()
    for item in fresh:
        lesson = _lesson(_free_id(project, item.text, taken), item)
        taken.add(lesson.id)
        if not dry_run:
            save_lesson(project, lesson)
        print(lesson.id, file=stream)
    verb = "would adopt" if dry_run else "adopted"
    print(
        f"ladder: {verb} {len(fresh)} prose rule(s) as level-1 lessons ({len(done)} already adopted)"
        + ("; next: `ladder promote ID --max --rule TEMPLATE KEY=VALUE...`" if fresh and not dry_run else ""),
        file=sys.stderr,
    )
    if fresh and not dry_run:
        compile_all(project, load_lessons(project))
    return 0


def _lesson(lesson_id: str, item: InventoryItem) -> Lesson:
    """A level-1 lesson whose history starts at 0: it existed only as prose before."""
    draft = Lesson(
        id=lesson_id,
        title=item.text,
        why=f"adopted from {item.location}",
        level=0,
        tags=(ADOPTED_TAG,),
        source=item.location,
    )
    return draft.with_level(1, f"adopted from {item.location}")


def _distinct(items: Iterable[InventoryItem]) -> list[InventoryItem]:
    """One lesson per rule text: AGENTS.md and CLAUDE.md often carry the same lines."""
    seen: set[str] = set()
    out = []
    for item in items:
        key = " ".join(item.text.lower().split())
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _free_id(project: Project, title: str, taken: set[str]) -> str:
    """new_id() looks at the files on disk; a dry run writes none, so also avoid the
    ids this run already handed out."""
    from ladder.store import lesson_path, new_id

    base = candidate = new_id(project, title)
    n = 2
    while candidate in taken or lesson_path(project, candidate).exists():
        candidate, n = f"{base}-{n}", n + 1
    return candidate
