"""Where each lesson is enforced: git hook, CI, agent guards, agent rule files.

`ladder audit` shows these per lesson, and names the lessons enforced in git but not
inside the coding agents in use: an agent without a guard writes the bad edit, and
only the commit is refused, after the agent built on top of it.

Surfaces, by name:
- `git-hook`: level 5 and the `ladder-check` pre-commit entry is configured;
- `ci`: level 4-5 and a CI workflow runs `ladder check`;
- `guard:claude`, `guard:codex`: level 5 and the agent's pre-tool hook runs `ladder guard`;
- `lint:aider`: level 5 and aider's `lint-cmd` runs `ladder check`;
- `rules:AGENTS.md` (each configured agent file), `rules:cursor`: level 2 and above,
  prose the agent reads; Cursor has no blocking hook, so it only ever gets prose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ladder.agents.base import GUARD

if TYPE_CHECKING:
    from ladder.lesson import Lesson
    from ladder.project import Project

_CI_FILES = (".gitlab-ci.yml", ".circleci/config.yml", "azure-pipelines.yml", "Jenkinsfile")
# An agent "in use" here: ladder's file for it, or the agent's own directory or file.
_TRACES = {
    "claude": (".claude", "CLAUDE.md"),
    "codex": (".codex",),
    "aider": (".aider.conf.yml",),
    "cursor": (".cursor", ".cursorrules"),
}


def ci_runs_ladder(root: Path) -> bool:
    workflows = root / ".github" / "workflows"
    files = [*workflows.glob("*.yml"), *workflows.glob("*.yaml")] if workflows.is_dir() else []
    files += [root / name for name in _CI_FILES]
    for path in files:
        try:
            if "ladder check" in path.read_text(encoding="utf-8", errors="replace"):
                return True
        except OSError:
            continue
    return False


def installed_agents(project: Project) -> dict[str, str]:
    """Agent name -> its surface kind (GUARD or RULES), for integrations ladder installed."""
    from ladder.agents.registry import AGENTS
    from ladder.errors import LadderError

    out = {}
    for name, agent in AGENTS.items():
        try:
            if agent.status(project).installed:
                out[name] = agent.surface
        except LadderError:
            continue  # an unreadable config: not installed (hooks status says why)
    return out


def agents_in_use(project: Project) -> list[str]:
    return [name for name, traces in _TRACES.items() if any((project.root / t).exists() for t in traces)]


def surfaces(
    lesson: Lesson, *, git_hook: bool, ci: bool, agents: Mapping[str, str], agent_files: Sequence[str]
) -> tuple[str, ...]:
    if lesson.status != "active":
        return ()
    out: list[str] = []
    if lesson.level == 5 and git_hook:
        out.append("git-hook")
    if lesson.level >= 4 and ci:
        out.append("ci")
    for name, kind in agents.items():
        if kind == GUARD and lesson.level == 5:
            out.append(f"{'lint' if name == 'aider' else 'guard'}:{name}")
    if lesson.level >= 2:
        out += [f"rules:{name}" for name in agent_files]
        out += [f"rules:{name}" for name, kind in agents.items() if kind != GUARD]
    return tuple(out)


def report(project: Project, lessons: Sequence[Lesson]) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    """(lesson id -> its surfaces, gap lines: level-5 lessons not enforced in an agent in use)."""
    from ladder.hooks.precommit import config_hook
    from ladder.levels.prompt import targets

    agents = installed_agents(project)
    files = [name for name, _ in targets(project) if (project.root / name).exists()]
    by_lesson = {
        x.id: surfaces(x, git_hook=config_hook(project) is not None, ci=ci_runs_ladder(project.root),
                       agents=agents, agent_files=files)
        for x in lessons
    }
    gaps = []
    enforced = [x.id for x in lessons if x.status == "active" and x.level == 5]
    for name in agents_in_use(project):
        if not enforced:
            break
        if agents.get(name) == GUARD:
            continue
        why = ("Cursor has no blocking hook: it only reads them as prose (.cursor/rules/ladder.mdc)"
               if name == "cursor" else f"no ladder guard: `ladder hooks install --agent {name}`")
        gaps.append(f"{name}: {len(enforced)} level-5 lesson(s) enforced in git but not inside "
                    f"the agent ({', '.join(enforced)}); {why}")
    return by_lesson, gaps
