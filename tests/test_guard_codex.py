"""`ladder guard codex`: Codex PreToolUse payloads (apply_patch, Bash) against real lessons."""

from __future__ import annotations

from pathlib import Path

import pytest

from ladder.agents import patch
from ladder.agents.base import GuardRefusal
from testing.guard import EVALUATOR, MODEL, VALIDATE, event, guarded_repo, run_guard


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return guarded_repo(tmp_path / "repo")


def apply_patch(root: Path, body: str) -> dict[str, object]:
    return event(root, "apply_patch", {"command": body}, model="gpt-5", tool_use_id="call-1", turn_id="t1")


DROP_VALIDATION = """*** Begin Patch
*** Update File: model.py
@@ def generate(x):
-    validate_input(x)
     return model(x)
*** End Patch"""
KEEP_VALIDATION = """*** Begin Patch
*** Update File: model.py
@@
     validate_input(x)
-    return model(x)
+    return model(x, temperature=0.7)
*** End Patch"""
ADD_BAD = """*** Begin Patch
*** Add File: pkg/fast.py
+def generate(x):
+    return model(x)
*** End Patch"""
ADD_GOOD = """*** Begin Patch
*** Add File: pkg/fast.py
+def generate(x):
+    validate_input(x)
+    return model(x)
*** End Patch"""


@pytest.mark.parametrize("body", [pytest.param(KEEP_VALIDATION, id="update"), pytest.param(ADD_GOOD, id="add")])
def test_compliant_patches_pass(root: Path, body: str) -> None:
    proc = run_guard("codex", apply_patch(root, body), root)
    assert (proc.returncode, proc.stderr) == (0, "")


@pytest.mark.parametrize("body", [pytest.param(DROP_VALIDATION, id="update"), pytest.param(ADD_BAD, id="add")])
def test_patches_breaking_require_call_are_blocked(root: Path, body: str) -> None:
    proc = run_guard("codex", apply_patch(root, body), root)
    assert proc.returncode == 2
    assert VALIDATE.title in proc.stderr


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("*** Begin Patch\n*** Delete File: evaluate.py\n*** End Patch", id="delete"),
        pytest.param("*** Begin Patch\n*** Update File: evaluate.py\n*** Move to: old.py\n@@\n def score():\n"
                     "*** End Patch", id="move-away"),
        pytest.param("*** Begin Patch\n*** Update File: evaluate.py\n@@\n-    return 1.0\n+    return 9.0\n"
                     "*** End Patch", id="update"),
    ],
)
def test_patches_touching_a_protected_file_are_blocked(root: Path, body: str) -> None:
    proc = run_guard("codex", apply_patch(root, body), root)
    assert proc.returncode == 2
    assert EVALUATOR.title in proc.stderr


def test_a_patch_sent_through_the_shell_is_judged_in_full(root: Path) -> None:
    command = f"apply_patch <<'EOF'\n{DROP_VALIDATION}\nEOF\n"
    proc = run_guard("codex", event(root, "Bash", {"command": command}), root)
    assert proc.returncode == 2 and VALIDATE.title in proc.stderr


def test_shell_writes_to_a_protected_file_are_blocked(root: Path) -> None:
    proc = run_guard("codex", event(root, "Bash", {"command": "printf 'x' > evaluate.py"}), root)
    assert proc.returncode == 2 and EVALUATOR.title in proc.stderr


@pytest.mark.parametrize(
    "body,reason",
    [
        pytest.param("*** Update File: model.py\n*** End Patch", "Begin Patch", id="no-begin"),
        pytest.param("*** Begin Patch\n*** Update File: model.py\n@@\n-not there\n+x\n*** End Patch",
                     "old lines are not in the file", id="hunk-not-found"),
        pytest.param("*** Begin Patch\n*** Update File: nope.py\n@@\n-x\n*** End Patch", "does not exist",
                     id="missing-file"),
    ],
)
def test_a_patch_it_cannot_apply_fails_closed(root: Path, body: str, reason: str) -> None:
    proc = run_guard("codex", apply_patch(root, body), root)
    assert proc.returncode == 2
    assert "cannot check this edit" in proc.stderr and reason in proc.stderr


# --- the patch applier itself: noop/fixes pairs ----------------------------------------


@pytest.mark.parametrize(
    "text,hunks,expected",
    [
        pytest.param("a\nb\nc\n", "@@\n a\n-b\n+B\n c", "a\nB\nc\n", id="replace"),
        pytest.param("a\nb\n", "@@\n b\n+c", "a\nb\nc\n", id="append-after-context"),
        pytest.param("x\ndef f():\n    return 1\ndef g():\n    return 1\n", "@@ def g():\n-    return 1\n+    return 2",
                     "x\ndef f():\n    return 1\ndef g():\n    return 2\n", id="header-seeks-second-match"),
        pytest.param("a  \nb\n", "@@\n-a\n+A", "A\nb\n", id="ignores-trailing-whitespace"),
        pytest.param("a\nb", "@@\n-b\n+c", "a\nc\n", id="adds-final-newline"),
        pytest.param("a\nb\na\nb\n", "@@\n-b\n+z\n*** End of File", "a\nb\na\nz\n",
                     id="end-of-file-seeks-from-the-end"),
    ],
)
def test_apply_fixes(text: str, hunks: str, expected: str) -> None:
    (op,) = patch.parse(f"*** Begin Patch\n*** Update File: f.py\n{hunks}\n*** End Patch")
    assert patch.apply(text, op.hunks, "f.py") == expected


def test_apply_noop_keeps_the_text() -> None:
    (op,) = patch.parse("*** Begin Patch\n*** Update File: f.py\n@@\n a\n b\n*** End Patch")
    assert patch.apply("a\nb\n", op.hunks, "f.py") == "a\nb\n"


def test_unparseable_lines_are_refused() -> None:
    with pytest.raises(GuardRefusal, match="must start with"):
        patch.parse("*** Begin Patch\n*** Update File: f.py\n@@\n?odd\n*** End Patch")


def test_extract_finds_a_patch_in_a_heredoc() -> None:
    assert patch.extract(f"apply_patch <<'EOF'\n{ADD_GOOD}\nEOF") == ADD_GOOD
    assert patch.extract("ls -la") is None


def test_model_text_is_unchanged_by_a_blocked_patch(root: Path) -> None:
    run_guard("codex", apply_patch(root, DROP_VALIDATION), root)
    assert (root / "model.py").read_text(encoding="utf-8") == MODEL
