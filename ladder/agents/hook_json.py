"""Merge ladder's `PreToolUse` and `PostToolUse` command hooks into a Claude-Code-style
JSON hooks file.

Claude Code (`.claude/settings.json`) and Codex (`.codex/hooks.json`) share one shape:

    {"hooks": {"PreToolUse": [{"matcher": "Edit|Write", "hooks": [
        {"type": "command", "command": "ladder guard claude || exit 2"}]}],
               "PostToolUse": [{"matcher": "Edit|Write", "hooks": [
        {"type": "command", "command": "ladder guard claude --after || exit 2"}]}]}}

The pre-tool hook judges what a call says it will do; the post-tool hook checks what it
did (ladder.agents.intact).

`ensure` appends ladder's matcher group and leaves every other key, event, group and
hook as it was (JSON has no comments to lose; key order is kept). A file that already
runs ladder's guard command anywhere is left exactly as it is, so installing twice
changes nothing and a user who tuned the matcher keeps their version.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ladder.errors import LadderError

if TYPE_CHECKING:
    from ladder.agents.base import AgentStatus

EVENT = "PreToolUse"
AFTER = "PostToolUse"


def command_for(agent: str, event: str = EVENT) -> str:
    # `|| exit 2`: any failure of the guard itself (ladder not on PATH, a crash) becomes
    # a block with its message shown, never a silent allow (both agents treat exit codes
    # other than 0 and 2 as a non-blocking error).
    return f"{marker(agent, event)} || exit 2"


def marker(agent: str, event: str = EVENT) -> str:
    return f"ladder guard {agent}" + (" --after" if event == AFTER else "")


def load(path: Path, where: str) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise LadderError(f"cannot read: {exc}", where=where, todo="fix or remove the file") from None
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LadderError(
            f"not valid JSON: {exc.msg} (line {exc.lineno})",
            where=where,
            todo="fix the file, then rerun `ladder hooks install --agent ...`",
        ) from None
    if not isinstance(data, dict):
        raise LadderError("expected a JSON object at the top", where=where, todo="fix the file")
    return data


def _groups(data: dict[str, Any], where: str, event: str = EVENT) -> list[Any]:
    hooks = data.get("hooks", {})
    if not isinstance(hooks, dict):
        raise LadderError("`hooks` must be an object", where=where, todo="fix the file")
    groups = hooks.get(event, [])
    if not isinstance(groups, list):
        raise LadderError(f"`hooks.{event}` must be a list", where=where, todo="fix the file")
    return groups


def find(data: dict[str, Any], agent: str, where: str, event: str = EVENT) -> dict[str, Any] | None:
    """The matcher group of `event` that runs ladder's guard for `agent`, wherever it is."""
    wanted = marker(agent, event)
    for group in _groups(data, where, event):
        hooks = group.get("hooks") if isinstance(group, dict) else None
        for hook in hooks if isinstance(hooks, list) else []:
            command = str(hook.get("command", "")) if isinstance(hook, dict) else ""
            # the pre-tool marker is a prefix of the post-tool one: tell them apart
            if wanted in command and (event == AFTER or marker(agent, AFTER) not in command):
                return dict(group)
    return None


def ensure(path: Path, where: str, agent: str, matcher: str) -> bool:
    """Make the file run ladder's guard before and after `matcher`'s tools; True when it
    changed."""
    from ladder.store import atomic_write

    data = load(path, where)
    hooks = dict(data.get("hooks", {}))
    changed = False
    for event in (EVENT, AFTER):
        if find(data, agent, where, event) is not None:
            continue
        group = {"matcher": matcher, "hooks": [{"type": "command", "command": command_for(agent, event)}]}
        hooks[event] = [*_groups(data, where, event), group]
        changed = True
    if not changed:
        return False
    new = {**data, "hooks": hooks}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(new, indent=2, ensure_ascii=False) + "\n")
    return True


def guard_status(root: Path, path: str, agent: str) -> AgentStatus:
    """Whether the agent's hooks file (at `path` under `root`) runs `ladder guard AGENT`."""
    from ladder.agents.base import AgentStatus

    data = load(root / path, path)
    group = find(data, agent, path)
    detail = (
        f"PreToolUse hook (matcher {group.get('matcher', '*')!r}) runs `ladder guard {agent}`"
        if group is not None
        else "no ladder guard hook"
    )
    if group is not None and find(data, agent, path, AFTER) is None:
        detail += f"; no PostToolUse check (`ladder hooks install --agent {agent}` adds it)"
    return AgentStatus(agent, path, group is not None, detail)
