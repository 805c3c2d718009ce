"""What every coding-agent integration provides, and the records the guard passes around.

An agent integration does two things: `install` merges ladder's entries into the agent's
own configuration (never disturbing the user's), and `status` says whether they are
there. Agents with a blocking pre-tool hook (Claude Code, Codex) also turn their hook
event into `PendingEdit`s, which `ladder guard` checks like a commit.

This module imports nothing heavy: `ladder guard` loads it on every edit an agent makes
(records are NamedTuples, not dataclasses: importing `dataclasses` costs ~5 ms of a
guard call whose whole budget, on the fast path, is ~10 ms above Python's start-up).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from ladder.project import Project

# Where a lesson is enforced: `ladder audit` counts these per lesson.
GUARD, RULES = "guard", "rules"  # a blocking pre-edit hook / a rule file the agent reads


class PendingEdit(NamedTuple):
    """One file change an agent is about to make, as a git status letter would name it.

    `content` is the file's full text after the edit (None for a deletion, or when the
    content cannot be known, e.g. a shell command writing to the file).
    """

    path: str  # repo-relative, posix separators
    status: str  # A, M, D, R (git's letters)
    content: str | None = None
    old_path: str = ""  # the source of a rename


class AgentStatus(NamedTuple):
    agent: str
    path: str  # the repo-relative file ladder manages for this agent
    installed: bool
    detail: str  # one line for `ladder hooks status`


class GuardRefusal(Exception):
    """The guard cannot decide (an unparseable event, a patch it cannot apply): fail closed."""


class SwitchesOff(GuardRefusal):
    """The call would switch enforcement off: hooks skipped or removed, lessons lowered."""


_HOOKS = {"pre-commit", "pre-push", "commit-msg", "prepare-commit-msg", "pre-merge-commit",
          "pre-rebase", "post-checkout", "post-merge", "pre-applypatch", "applypatch-msg"}
# The repository files that hold enforcement (the post-tool check watches them too).
ENFORCEMENT_FILES = (".ladder", ".pre-commit-config.yaml", ".pre-commit-config.yml",
                     ".claude/settings.json", ".claude/settings.local.json", ".codex/hooks.json",
                     ".codex/config.toml")
_AGENT_HOOKS = {tuple(p.split("/")) for p in ENFORCEMENT_FILES if p.count("/") == 1}


def holds_enforcement(path: str) -> bool:
    """Is `path` (repo-relative or absolute; "\\x00" for a piece the guard cannot know)
    where enforcement lives: lessons and config (.ladder/), the pre-commit config, git's
    hooks and config, an agent's hook settings? Plain string checks: the guard's fast
    path asks this of every edit."""
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    for i, part in enumerate(parts):
        if part in (".ladder", ".pre-commit-config.yaml", ".pre-commit-config.yml", ".gitconfig",
                    "config.worktree"):
            return True
        if part == ".git":
            return True  # git's own state: hooks, config, HEAD, index, a `gitdir:` file
        if part == "git" and i > 0 and parts[i - 1] == ".config" and parts[i + 1:] == ["config"]:
            return True  # ~/.config/git/config: the global config
    if len(parts) >= 2 and ((parts[-2] == "hooks" and parts[-1] in _HOOKS) or tuple(parts[-2:]) in _AGENT_HOOKS):
        return True
    # a git directory the command computes (`$(git rev-parse --git-dir)/config`)
    return "\x00" in path and (parts[-1:] == ["config"] or "hooks" in parts)


class Agent(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def path(self) -> str:
        """The repo-relative file ladder writes for this agent."""
        ...

    @property
    def surface(self) -> str:
        """GUARD when the agent runs `ladder guard` before an edit lands, else RULES."""
        ...

    def install(self, project: Project) -> bool:
        """Merge ladder's entries into the agent's configuration; True when a file changed."""
        ...

    def status(self, project: Project) -> AgentStatus: ...


class GuardedAgent(Agent, Protocol):
    def pending_edits(self, event: Mapping[str, Any], root: Path) -> list[PendingEdit]:
        """The changes the hook event would make under `root`; GuardRefusal when unknowable."""
        ...
