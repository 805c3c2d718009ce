"""Codex CLI: a `PreToolUse` hook in `.codex/hooks.json` running `ladder guard codex`.

Codex reads hooks from `hooks.json` next to each config layer, the project's being
`.codex/hooks.json` (loaded only in a project Codex trusts; Codex also asks you to
review new hooks before running them). The event on stdin has Claude Code's shape:
`tool_name` is `apply_patch` for file edits, with the raw patch in
`tool_input.command`, and `Bash` for shell commands (`tool_input.command`). Exit 2
with a reason on stderr blocks the call and shows the reason to the model.

Codex also reads AGENTS.md, where level 2 already puts the rules (`ladder init`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ladder.agents import hook_json, patch
from ladder.agents.base import GUARD, AgentStatus, PendingEdit
from ladder.agents.claude import event_cwd, tool_input

if TYPE_CHECKING:
    from ladder.project import Project

HOOKS = ".codex/hooks.json"
MATCHER = "apply_patch|Bash"


class Codex:
    name: str = "codex"
    path: str = HOOKS
    surface: str = GUARD

    def install(self, project: Project) -> bool:
        return hook_json.ensure(project.root / HOOKS, HOOKS, self.name, MATCHER)

    def status(self, project: Project) -> AgentStatus:
        return hook_json.guard_status(project.root, HOOKS, self.name)

    def pending_edits(self, event: Mapping[str, Any], root: Path) -> list[PendingEdit]:
        tool, data = tool_input(event)
        command = data.get("command")
        if tool not in ("apply_patch", "Bash") or not isinstance(command, str):
            return []
        cwd = event_cwd(event, root)
        if tool == "apply_patch":
            return patch.pending_edits(command, root, cwd)
        # Older Codex versions apply patches through the shell (`apply_patch <<'EOF'`).
        body = patch.extract(command)
        if body is not None:
            return patch.pending_edits(body, root, cwd)
        from ladder.agents import shell  # bashlex and the readers: shell commands only

        return shell.pending_edits(command, root, cwd)


AGENT = Codex()
