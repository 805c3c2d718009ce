"""`atomic_write`: what a rewrite keeps of the file it replaces (issue 13)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ladder.store import atomic_write


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o7777


@pytest.mark.usefixtures("umask")
@pytest.mark.parametrize("mode", [0o644, 0o664, 0o755, 0o600], ids=oct)
def test_a_rewritten_file_keeps_its_mode(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "AGENTS.md"
    path.write_text("old\n", encoding="utf-8")
    path.chmod(mode)
    atomic_write(path, "new\n")
    assert path.read_text(encoding="utf-8") == "new\n"
    assert _mode(path) == mode


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)], ids=oct)
def test_a_new_file_gets_the_umasks_mode(tmp_path: Path, mask: int, mode: int) -> None:
    old = os.umask(mask)
    try:
        atomic_write(tmp_path / "sub" / "new.md", "text\n")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "sub" / "new.md") == mode


def test_no_temporary_file_is_left_behind(tmp_path: Path) -> None:
    atomic_write(tmp_path / "a.md", "x\n")
    atomic_write(tmp_path / "a.md", "y\n")
    assert [p.name for p in tmp_path.iterdir()] == ["a.md"]
