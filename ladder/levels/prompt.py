"""Level 2, prompt: the rules an agent reads before it changes anything.

They live in a managed block of AGENTS.md (created when missing) and of every other
configured agent file that exists (CLAUDE.md, ...), between two marker lines; the
user's text outside the markers is never touched. `prompt_text` gives the same rules
as a section of an agent's proposal prompt (`ladder prompt`, the agent loop).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ladder.errors import LadderError
from ladder.lesson import Lesson
from ladder.levels._files import BEGIN, END, one_line, read_exact, splice, write_if_changed
from ladder.project import Project

NEW_FILE_TITLE = "# Instructions for coding agents"

# How each level is enforced, as the agent should hear it (levels 2-5).
ENFORCEMENT = {
    5: " (enforced by a blocking git hook)",
    4: " (CI check)",
    3: " (lint warning)",
    2: "",
}


def rules(lessons: Sequence[Lesson]) -> list[Lesson]:
    """Active lessons at level 2 or above, most binding first."""
    chosen = [x for x in lessons if x.status == "active" and x.level >= 2]
    return sorted(chosen, key=lambda x: (-x.level, x.id))


def rule_line(lesson: Lesson) -> str:
    title = one_line(lesson.title).rstrip(".")
    return f"- {title}. {one_line(lesson.why)}{ENFORCEMENT[lesson.level]}"


def prompt_text(lessons: Sequence[Lesson]) -> str:
    """The rules section of an agent's prompt: a heading and one line per rule."""
    chosen = rules(lessons)
    lines = [
        "## Rules from past lessons",
        "",
        "Each was learned the hard way; follow all of them, the first ones most strictly.",
        "",
    ]
    lines += [rule_line(x) for x in chosen] if chosen else ["- (no rules yet)"]
    return "\n".join(lines) + "\n"


def block(lessons: Sequence[Lesson]) -> str:
    return f"{BEGIN}\n{prompt_text(lessons)}{END}"


def targets(project: Project) -> list[tuple[str, Path]]:
    """(name, real path) of each agent file to manage: the first always, others when present.

    Paths are resolved so a CLAUDE.md that is a symlink to AGENTS.md is written once,
    through the link, and stays a link.
    """
    out: list[tuple[str, Path]] = []
    seen: set[Path] = set()
    for i, name in enumerate(project.config.agent_files):
        path = project.root / name
        if i > 0 and not path.exists():
            continue
        real = path.resolve()
        if real not in seen:
            seen.add(real)
            out.append((name, real))
    return out


def expected(current: str | None, lessons: Sequence[Lesson], name: str) -> str:
    if current is None:
        return f"{NEW_FILE_TITLE}\n\n{block(lessons)}\n"
    return splice(current, block(lessons), name)


class PromptCompiler:
    level = 2
    name = "prompt"

    def gate(self, lesson: Lesson, project: Project) -> list[str]:
        return []  # any lesson can be told to the agent

    def compile(self, lessons: Sequence[Lesson], project: Project) -> list[Path]:
        written = []
        for name, path in targets(project):
            if write_if_changed(path, expected(read_exact(path), lessons, name)):
                written.append(project.root / name)
        from ladder.agents import cursor  # the same rules, once `--agent cursor` created its file

        return written + cursor.refresh(project, lessons)

    def drift(self, lessons: Sequence[Lesson], project: Project) -> list[str]:
        out = []
        for name, path in targets(project):
            current = read_exact(path)
            try:
                want = expected(current, lessons, name)
            except LadderError as exc:
                out.append(f"{name}: {exc.what}")
                continue
            if current is None:
                out.append(f"{name} is missing: `ladder init` writes it")
            elif current != want:
                out.append(f"{name}: the ladder block is missing or differs from .ladder/lessons")
        from ladder.agents import cursor

        return out + cursor.drift(project, lessons)
