"""Best-effort shell analysis: which paths a command writes (noop/fixes pairs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ladder.agents import edits, shell

ROOT = Path("/repo")


def written(command: str) -> list[tuple[str, str, str]]:
    return [(e.status, e.path, e.old_path) for e in shell.pending_edits(command, ROOT, str(ROOT))]


@pytest.mark.parametrize(
    "command",
    [
        pytest.param("cat evaluate.py", id="read"),
        pytest.param("python -m pytest -q 2>/dev/null", id="redirect-to-dev-null"),
        pytest.param("grep -n score evaluate.py | head > /tmp/x", id="redirect-outside"),
        pytest.param("sed 's/a/b/' evaluate.py", id="sed-without-i"),
        pytest.param("cp evaluate.py /tmp/backup.py", id="cp-from"),
        pytest.param("echo 'rm evaluate.py'", id="quoted-text"),
    ],
)
def test_noop(command: str) -> None:
    assert written(command) == []


@pytest.mark.parametrize(
    "command,expected",
    [
        pytest.param("echo x > evaluate.py", [("M", "evaluate.py", "")], id="redirect"),
        pytest.param("echo x>>evaluate.py", [("M", "evaluate.py", "")], id="append-no-space"),
        pytest.param("run 2> log.txt", [("M", "log.txt", "")], id="stderr-redirect"),
        pytest.param("rm -rf data/raw", [("D", "data/raw", "")], id="rm"),
        pytest.param("mv a.py b.py", [("R", "b.py", "a.py")], id="mv"),
        pytest.param("cd x && sudo cp /tmp/y.py evaluate.py", [("M", "evaluate.py", "")], id="sudo-cp-chain"),
        pytest.param("sed -i 's/1/2/' evaluate.py", [("M", "evaluate.py", "")], id="sed-i"),
        pytest.param("ls | tee out.txt", [("M", "out.txt", "")], id="tee"),
        pytest.param("git checkout -- evaluate.py", [("M", "evaluate.py", "")], id="git-checkout"),
        pytest.param("dd if=/dev/zero of=data/x.bin", [("M", "data/x.bin", "")], id="dd"),
        pytest.param("echo 'unbalanced > evaluate.py", [("M", "evaluate.py", "")], id="untokenisable"),
    ],
)
def test_fixes(command: str, expected: list[tuple[str, str, str]]) -> None:
    assert sorted(written(command)) == sorted(expected)


@pytest.mark.parametrize(
    "text,old,new,replace_all,expected",
    [
        pytest.param("a b a", "a", "c", False, "c b a", id="first-only"),
        pytest.param("a b a", "a", "c", True, "c b c", id="replace-all"),
        pytest.param("a b", "z", "c", False, None, id="not-found-nothing-lands"),
        pytest.param(None, "", "new file", False, "new file", id="create"),
        pytest.param(None, "x", "y", False, None, id="missing-file"),
        pytest.param("a\r\nb\r\n", "a\r\n", "c\r\n", False, "c\r\nb\r\n", id="crlf-kept"),
    ],
)
def test_apply_edit(text: str | None, old: str, new: str, replace_all: bool, expected: str | None) -> None:
    assert edits.apply_edit(text, old, new, replace_all) == expected


def test_multiedit_is_all_or_nothing() -> None:
    assert edits.apply_edits("a b", [{"old_string": "a", "new_string": "c"},
                                     {"old_string": "zz", "new_string": "d"}]) is None
