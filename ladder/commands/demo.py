"""`ladder demo`: the founding story, end to end, in a throwaway repository.

A lesson learned the hard way ("generate() must call validate_input()") climbs the
ladder from a note to a blocking git hook; then git itself refuses the commit that
drops the validation, and accepts the one that keeps it. A second lesson protects the
evaluator. Everything is real: git, pre-commit, libcst, the installed hooks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ladder.errors import LadderError

GENERATE_OK = '''"""Text generation service (the demo's editable code)."""


def validate_input(prompt: str) -> None:
    if "ignore previous instructions" in prompt.lower():
        raise ValueError("prompt injection")


def model(prompt: str) -> str:
    return prompt[::-1]


def generate(prompt: str) -> str:
    validate_input(prompt)
    return model(prompt)
'''

GENERATE_FAST = GENERATE_OK.replace("    validate_input(prompt)\n", "")

EVALUATE = '''"""The evaluator: ground truth. No mutation may edit it."""

from generate import generate

print("score:", len(generate("hello")))
'''

_ENV = {
    "GIT_AUTHOR_NAME": "ladder demo",
    "GIT_AUTHOR_EMAIL": "demo@ladder.invalid",
    "GIT_COMMITTER_NAME": "ladder demo",
    "GIT_COMMITTER_EMAIL": "demo@ladder.invalid",
    "SEMGREP_ENABLE_VERSION_CHECK": "0",
    "SEMGREP_SEND_METRICS": "off",
}


class _Story:
    def __init__(self, root: Path) -> None:
        self.root = root
        bindir = str(Path(sys.executable).parent)
        self.env = {**os.environ, **_ENV, "PATH": bindir + os.pathsep + os.environ.get("PATH", "")}

    def sh(
        self, *cmd: str, expect: int | None = 0, show: bool = True
    ) -> subprocess.CompletedProcess[str]:
        if show:
            print(f"\n$ {' '.join(_quote(c) for c in cmd)}", flush=True)
        argv = [sys.executable, "-m", "ladder", *cmd[1:]] if cmd[0] == "ladder" else list(cmd)
        proc = subprocess.run(argv, cwd=self.root, env=self.env, capture_output=True, text=True)
        out = (proc.stdout + proc.stderr).rstrip()
        if show and out:
            print("\n".join("  " + line for line in out.splitlines()))
        if expect is not None and proc.returncode != expect:
            raise LadderError(
                f"demo step `{' '.join(cmd)}` exited {proc.returncode}, expected {expect}",
                where=str(self.root),
                todo="the output above says why",
            )
        return proc

    def write(self, name: str, text: str) -> None:
        (self.root / name).write_text(text, encoding="utf-8")


def _quote(text: str) -> str:
    return repr(text) if any(c in text for c in " \n()") else text


def run(*, directory: str | None = None, keep: bool = False) -> int:
    root = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="ladder-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    if any(root.iterdir()):
        raise LadderError(
            "the demo directory is not empty", where=str(root), todo="give an empty --dir"
        )
    story = _Story(root)
    try:
        _tell(story)
    finally:
        if keep or directory:
            print(f"\nthe demo repository is kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 0


def _tell(s: _Story) -> None:
    print("ladder demo: a lesson climbs from a note to a blocking git hook", flush=True)
    s.sh("git", "init", "-q", "-b", "main", show=False)
    s.write("generate.py", GENERATE_OK)
    s.write("evaluate.py", EVALUATE)
    s.sh("git", "add", "-A", show=False)
    s.sh("git", "commit", "-q", "-m", "service and evaluator", show=False)
    s.sh("ladder", "init")
    s.sh("git", "add", "-A", show=False)
    s.sh("git", "commit", "-q", "-m", "ladder init", show=False)
    s.sh(
        "ladder",
        "add",
        "generate() must call validate_input()",
        "--id",
        "validate-before-generate",
        "--why",
        "Dropping validation made generation 15% faster and let a prompt injection through.",
        "--tag",
        "security",
        "--source",
        "incident 42",
    )
    s.sh(
        "ladder",
        "promote",
        "validate-before-generate",
        "--to",
        "5",
        "--rule",
        "require-call",
        "function=generate",
        "calls=validate_input",
        "--block",
        "def generate(x):\n    return model(x)\n",
        "--allow",
        "def generate(x):\n    validate_input(x)\n    return model(x)\n",
    )
    s.sh(
        "ladder",
        "add",
        "The evaluator is ground truth",
        "--id",
        "protect-evaluator",
        "--why",
        "An agent that can edit its evaluator can score anything.",
    )
    s.sh(
        "ladder", "promote", "protect-evaluator", "--max", "--rule", "protect", "paths=evaluate.py"
    )
    s.sh("git", "add", "-A", show=False)
    s.sh("git", "commit", "-q", "-m", "lessons at level 5", show=False)
    print("\n--- a mutation that drops validate_input() to run 15% faster:")
    s.write("generate.py", GENERATE_FAST)
    s.sh("git", "commit", "-am", "faster generation", expect=1)
    s.sh("git", "checkout", "--", "generate.py", show=False)
    print("\n--- a mutation that edits the evaluator:")
    s.write("evaluate.py", EVALUATE + 'print("score: 1000")\n')
    s.sh("git", "commit", "-am", "better score", expect=1)
    s.sh("git", "checkout", "--", "evaluate.py", show=False)
    print("\n--- a compliant change:")
    s.write("generate.py", GENERATE_OK.replace("prompt[::-1]", "prompt.upper()"))
    s.sh("git", "commit", "-qam", "louder model")
    s.sh("ladder", "audit")
    print("\nladder demo: done. Both bad mutations were refused by git before any evaluation ran.")
