"""Claude Code: a `PreToolUse` hook in `.claude/settings.json` running `ladder guard claude`.

Claude Code pipes each hook a JSON event on stdin (`tool_name`, `tool_input`, `cwd`,
...). Exit code 2 blocks the tool call and shows stderr to the model, which reads the
lesson and rewrites the edit; exit 0 allows it silently; any other exit code is a
non-blocking error, which is why the installed command ends in `|| exit 2`.

Tools judged: `Write` (file_path, content), `Edit` (file_path, old_string, new_string,
replace_all), `MultiEdit` (file_path, edits[]), `NotebookEdit` (notebook_path: the
notebook as a changed path, for `protect`), and `Bash` (command: best effort, see
`ladder.agents.shell`). Any other tool is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ladder.agents import edits, hook_json
from ladder.agents.base import GUARD, AgentStatus, GuardRefusal, PendingEdit

if TYPE_CHECKING:
    from ladder.project import Project

SETTINGS = ".claude/settings.json"
MATCHER = "Edit|Write|MultiEdit|NotebookEdit|Bash"


def tool_input(event: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    name = event.get("tool_name")
    data = event.get("tool_input")
    if not isinstance(name, str) or not isinstance(data, Mapping):
        raise GuardRefusal("the event has no `tool_name` string and `tool_input` object")
    return name, data


def _path(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise GuardRefusal(f"`tool_input.{key}` is missing or not a string")
    return value


def event_cwd(event: Mapping[str, Any], root: Path) -> str:
    cwd = event.get("cwd")
    return cwd if isinstance(cwd, str) and cwd else str(root)


class Claude:
    name: str = "claude"
    path: str = SETTINGS
    surface: str = GUARD

    def install(self, project: Project) -> bool:
        return hook_json.ensure(project.root / SETTINGS, SETTINGS, self.name, MATCHER)

    def status(self, project: Project) -> AgentStatus:
        return hook_json.guard_status(project.root, SETTINGS, self.name)

    def pending_edits(self, event: Mapping[str, Any], root: Path) -> list[PendingEdit]:
        tool, data = tool_input(event)
        cwd = event_cwd(event, root)
        if tool == "Bash":
            from ladder.agents import shell  # bashlex and the readers: shell commands only

            command = data.get("command")
            return shell.pending_edits(command, root, cwd) if isinstance(command, str) else []
        key = "notebook_path" if tool == "NotebookEdit" else "file_path"
        if tool not in ("Write", "Edit", "MultiEdit", "NotebookEdit"):
            return []  # Read, Grep, WebFetch...: nothing lands in the tree
        rel = edits.repo_path(_path(data, key), root, cwd)
        if rel is None:
            return []  # outside this repository
        if tool == "Write":
            content = data.get("content")
            if not isinstance(content, str):
                raise GuardRefusal("`tool_input.content` is missing or not a string")
            return [edits.write(root, rel, content)]
        if tool == "NotebookEdit":
            return [PendingEdit(rel, "M" if (root / rel).exists() else "A")]
        current = edits.read_current(root, rel)
        if tool == "Edit":
            new = edits.apply_edits(current, [data])
        else:
            items = data.get("edits")
            if not isinstance(items, list) or not all(isinstance(e, Mapping) for e in items):
                raise GuardRefusal("`tool_input.edits` is missing or not a list of objects")
            new = edits.apply_edits(current, items)
        return edits.edited(root, rel, new)


AGENT = Claude()
