from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.fixtures import make_repo, set_git_env

set_git_env()
# The journal anchor's key lives in $XDG_CONFIG_HOME/ladder: tests keep theirs out of ~.
os.environ.setdefault("XDG_CONFIG_HOME", tempfile.mkdtemp(prefix="ladder-test-config-"))
# Real hooks call `ladder` and `pre-commit` by name: put this interpreter's scripts first.
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty git repository as the working directory."""
    root = make_repo(tmp_path / "repo")
    monkeypatch.chdir(root)
    yield root


@pytest.fixture(scope="session")
def default_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    """One `ladder demo` exactly as a new user runs it (no option: its own budget, seeds
    and decision settings) and its directory, shared by the tests that read what it
    printed and left (a demo is a couple of minutes of CI)."""
    root = tmp_path_factory.mktemp("default-demo") / "demo"
    proc = subprocess.run([sys.executable, "-m", "ladder", "demo", "--dir", str(root)],
                          capture_output=True, text=True, timeout=1200, check=False)
    return proc, root
