from __future__ import annotations

import os
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
