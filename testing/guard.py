"""Hook events as Claude Code and Codex document them, and a runner for `ladder guard`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ladder.lesson import Lesson, Rule
from ladder.project import Project
from ladder.store import save_lesson
from testing.fixtures import make_repo

MODEL = "def generate(x):\n    validate_input(x)\n    return model(x)\n"
VALIDATE = Lesson(
    "validate-before-generate",
    "generate() must call validate_input()",
    "Dropping validation made generation 15% faster and let a prompt injection through.",
    level=5,
    paths=("**/*.py",),
    rule=Rule("require-call", {"function": "generate", "calls": "validate_input"}),
)
EVALUATOR = Lesson(
    "evaluator-is-ground-truth",
    "The evaluator must never be edited",
    "An agent that edits its evaluator can score anything it likes.",
    level=5,
    rule=Rule("protect", {"paths": ["evaluate.py"]}),
)


def guarded_repo(path: Path) -> Path:
    """A committed repository with a level-5 require-call lesson and a level-5 protect lesson."""
    root = make_repo(path, {"model.py": MODEL, "evaluate.py": "def score():\n    return 1.0\n"})
    project = Project(root)
    project.lessons_dir.mkdir(parents=True)
    for lesson in (VALIDATE, EVALUATOR):
        save_lesson(project, lesson)
    return root


def event(root: Path, tool: str, tool_input: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A PreToolUse event with the fields both agents send (Claude Code's hooks reference)."""
    return {
        "session_id": "abc123",
        "transcript_path": str(root / ".transcript.jsonl"),
        "cwd": str(root),
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": tool,
        "tool_input": tool_input,
        **extra,
    }


def run_guard(agent: str, payload: dict[str, Any] | str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m ladder guard AGENT` with the payload on stdin, as the agent runs the hook."""
    data = payload if isinstance(payload, str) else json.dumps(payload)
    env = {k: v for k, v in os.environ.items() if k != "CLAUDE_PROJECT_DIR"}
    return subprocess.run(
        [sys.executable, "-m", "ladder", "guard", agent],
        input=data, cwd=cwd, capture_output=True, text=True, env=env, check=False,
    )


def run_hook_command(command: str, payload: dict[str, Any], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command an agent's settings file holds, run through the shell as the agent does."""
    env = {k: v for k, v in os.environ.items() if k != "CLAUDE_PROJECT_DIR"}
    return subprocess.run(
        ["sh", "-c", command], input=json.dumps(payload), cwd=cwd, capture_output=True,
        text=True, env=env, check=False,
    )
