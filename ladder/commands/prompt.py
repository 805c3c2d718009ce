"""`ladder prompt`: the rules section an agent's proposal prompt carries (level 2+)."""

from __future__ import annotations

from ladder.project import Project
from ladder.store import load_lessons


def run(project: Project) -> int:
    from ladder.levels.prompt import prompt_text

    print(prompt_text(load_lessons(project)), end="")
    return 0
