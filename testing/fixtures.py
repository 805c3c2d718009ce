"""Real git repositories in temporary directories, for tests and benchmarks."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ladder Test",
    "GIT_AUTHOR_EMAIL": "test@ladder.invalid",
    "GIT_COMMITTER_NAME": "Ladder Test",
    "GIT_COMMITTER_EMAIL": "test@ladder.invalid",
    # semgrep stalls ~97 s offline without these (see README, "Traps").
    "SEMGREP_ENABLE_VERSION_CHECK": "0",
    "SEMGREP_SEND_METRICS": "off",
}


def set_git_env() -> None:
    os.environ.update(GIT_ENV)


def git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=check)


def make_repo(path: Path, files: dict[str, str] | None = None, *, commit: bool = True) -> Path:
    """`git init` at `path`, write `files`, and commit them when asked."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "commit.gpgsign", "false")
    for name, text in (files or {}).items():
        write(path, name, text)
    if commit and files:
        git(path, "add", "-A")
        git(path, "commit", "-q", "-m", "initial")
    return path


def write(root: Path, name: str, text: str) -> Path:
    target = root / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


def commit(root: Path, message: str = "change", *paths: str) -> subprocess.CompletedProcess[str]:
    """Stage `paths` (everything when none) and `git commit` through the installed hooks."""
    git(root, "add", *(paths or ("-A",)))
    return git(root, "commit", "-m", message, check=False)
