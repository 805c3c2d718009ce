"""`ladder guard claude`: real Claude Code PreToolUse payloads, real lessons, real git repos."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from testing.guard import EVALUATOR, MODEL, VALIDATE, event, guarded_repo, run_guard

BAD_MODEL = "def generate(x):\n    return model(x)\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return guarded_repo(tmp_path / "repo")


def _blocked(proc: subprocess.CompletedProcess[str], *titles: str) -> None:
    assert proc.returncode == 2, proc.stderr
    for title in titles:
        assert title in proc.stderr


def _allowed(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "" and proc.stdout == ""


@pytest.mark.parametrize(
    "tool,tool_input",
    [
        pytest.param("Write", {"file_path": "model.py", "content": MODEL + "\n# ok\n"}, id="write"),
        pytest.param("Write", {"file_path": "pkg/new.py", "content": MODEL}, id="write-new-file"),
        pytest.param("Edit", {"file_path": "model.py", "old_string": "model(x)", "new_string": "model(x) + 1"},
                     id="edit"),
        pytest.param("MultiEdit", {"file_path": "model.py", "edits": [
            {"old_string": "model(x)", "new_string": "model(y)"},
            {"old_string": "(x):", "new_string": "(y):"},
            {"old_string": "validate_input(x)", "new_string": "validate_input(y)"}]}, id="multiedit"),
        pytest.param("Edit", {"file_path": "model.py", "old_string": "    validate_input(x)\n",
                              "new_string": "    validate_input(x)\n    log(x)\n"}, id="edit-keeps-call"),
        pytest.param("Read", {"file_path": "evaluate.py"}, id="read-protected"),
        pytest.param("Bash", {"command": "cat evaluate.py && python -m pytest -q > /tmp/out.txt"},
                     id="bash-reads-protected"),
        pytest.param("Edit", {"file_path": "model.py", "old_string": "not in the file", "new_string": ""},
                     id="edit-the-tool-would-refuse"),
    ],
)
def test_compliant_calls_pass_silently(root: Path, tool: str, tool_input: dict[str, object]) -> None:
    if "file_path" in tool_input:
        tool_input = {**tool_input, "file_path": str(root / str(tool_input["file_path"]))}
    _allowed(run_guard("claude", event(root, tool, tool_input), root))


@pytest.mark.parametrize(
    "tool,tool_input",
    [
        pytest.param("Write", {"file_path": "model.py", "content": BAD_MODEL}, id="write"),
        pytest.param("Write", {"file_path": "pkg/new.py", "content": BAD_MODEL}, id="write-new-file"),
        pytest.param("Edit", {"file_path": "model.py", "old_string": "    validate_input(x)\n", "new_string": ""},
                     id="edit"),
        pytest.param("Edit", {"file_path": "model.py", "old_string": "validate_input", "new_string": "print",
                              "replace_all": True}, id="edit-replace-all"),
        pytest.param("MultiEdit", {"file_path": "model.py", "edits": [
            {"old_string": "model(x)", "new_string": "model(y)"},
            {"old_string": "    validate_input(x)\n", "new_string": ""}]}, id="multiedit"),
    ],
)
def test_edits_breaking_require_call_are_blocked(root: Path, tool: str, tool_input: dict[str, object]) -> None:
    tool_input = {**tool_input, "file_path": str(root / str(tool_input["file_path"]))}
    proc = run_guard("claude", event(root, tool, tool_input), root)
    _blocked(proc, VALIDATE.title, VALIDATE.why, "[validate-before-generate]", "To do:")
    assert (root / "model.py").read_text(encoding="utf-8") == MODEL  # the guard writes nothing


@pytest.mark.parametrize(
    "tool,tool_input",
    [
        pytest.param("Edit", {"file_path": "evaluate.py", "old_string": "1.0", "new_string": "99.0"}, id="edit"),
        pytest.param("Write", {"file_path": "evaluate.py", "content": "def score():\n    return 99.0\n"},
                     id="write"),
        pytest.param("NotebookEdit", {"notebook_path": "evaluate.py", "new_source": "x"}, id="notebook"),
        pytest.param("Bash", {"command": "echo 'SCORE = 99' >> evaluate.py"}, id="bash-append"),
        pytest.param("Bash", {"command": "git stash && rm -f ./evaluate.py"}, id="bash-rm"),
        pytest.param("Bash", {"command": "mv evaluate.py old_evaluate.py"}, id="bash-mv"),
        pytest.param("Bash", {"command": "sed -i 's/1.0/99.0/' evaluate.py"}, id="bash-sed-i"),
        pytest.param("Bash", {"command": "sudo cp /tmp/fake.py evaluate.py"}, id="bash-cp-onto"),
        pytest.param("Bash", {"command": "perl -pi -e 's/1.0/99.0/' evaluate.py"}, id="bash-perl-pi"),
        pytest.param("Bash", {"command": "bash -c 'rm evaluate.py'"}, id="bash-c"),
        pytest.param("Bash", {"command": "find . -name 'evaluate.*' -exec sed -i s/1/9/ {} +"}, id="find-exec"),
        pytest.param("Bash", {"command": "F=evaluate.py; truncate -s 0 $F"}, id="bash-variable"),
    ],
)
def test_changes_to_a_protected_file_are_blocked(root: Path, tool: str, tool_input: dict[str, object]) -> None:
    for key in ("file_path", "notebook_path"):
        if key in tool_input:
            tool_input = {**tool_input, key: str(root / str(tool_input[key]))}
    proc = run_guard("claude", event(root, tool, tool_input), root)
    _blocked(proc, EVALUATOR.title, "evaluate.py is protected", "leave protected files unchanged")


@pytest.mark.parametrize(
    "command",
    ["python train.py > run.log 2>&1", "git checkout -b x", "git checkout HEAD~1 -- model.py"],
)
def test_shell_commands_that_leave_protected_files_alone_pass(root: Path, command: str) -> None:
    _allowed(run_guard("claude", event(root, "Bash", {"command": command}), root))


@pytest.mark.parametrize(
    "command",
    [
        "git commit --no-verify -m 'skip the hook'",
        "git -c core.hooksPath=/dev/null commit -m x",
        "SKIP=ladder-check git commit -m x",
        "sed -i 's/level = 5/level = 1/' .ladder/lessons/evaluator-is-ground-truth.toml",
    ],
)
def test_switching_enforcement_off_is_blocked(root: Path, command: str) -> None:
    proc = run_guard("claude", event(root, "Bash", {"command": command}), root)
    assert proc.returncode == 2
    assert "this command is blocked" in proc.stderr
    assert "not the agent's to switch off" in proc.stderr


@pytest.mark.parametrize(
    "name", [".ladder/lessons/evaluator-is-ground-truth.toml", ".pre-commit-config.yaml",
             ".claude/settings.json", ".git/hooks/pre-commit"],
)
def test_an_edit_tool_cannot_rewrite_the_enforcement(root: Path, name: str) -> None:
    proc = run_guard("claude", event(root, "Write", {"file_path": str(root / name), "content": "x"}), root)
    assert proc.returncode == 2
    assert f"it writes {name}, where the enforcement lives" in proc.stderr


def test_a_relative_cwd_inside_the_repo_still_finds_it(root: Path) -> None:
    (root / "pkg").mkdir()
    payload = event(root, "Write", {"file_path": "../model.py", "content": BAD_MODEL}, cwd=str(root / "pkg"))
    _blocked(run_guard("claude", payload, root / "pkg"), VALIDATE.title)


def test_edits_outside_the_repository_are_not_judged(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.py"
    _allowed(run_guard("claude", event(root, "Write", {"file_path": str(outside), "content": BAD_MODEL}), root))


@pytest.mark.parametrize(
    "payload,reason",
    [
        pytest.param("{not json", "not JSON", id="not-json"),
        pytest.param("[1, 2]", "not a JSON object", id="not-an-object"),
        pytest.param(json.dumps({"tool_name": "Edit"}), "tool_input", id="no-tool-input"),
        pytest.param(json.dumps({"tool_name": "Write", "tool_input": {"file_path": 3}}), "file_path",
                     id="bad-path"),
        pytest.param(json.dumps({"tool_name": "Edit", "tool_input": {"file_path": "model.py"}}), "old_string",
                     id="edit-without-strings"),
    ],
)
def test_an_event_it_cannot_read_fails_closed(root: Path, payload: str, reason: str) -> None:
    proc = run_guard("claude", payload, root)
    _blocked(proc, "cannot check this edit, so it is blocked", reason)
    assert "Traceback" not in proc.stderr


def test_a_rule_that_cannot_run_fails_closed(root: Path) -> None:
    (root / ".ladder" / "lessons" / "broken.toml").write_text(
        'id = "broken"\ntitle = "Broken"\nwhy = "x"\nlevel = 5\n[rule]\ntemplate = "custom"\n'
        'check = "no_such_module:Nope"\n', encoding="utf-8")
    proc = run_guard("claude", event(root, "Write", {"file_path": str(root / "model.py"), "content": MODEL}), root)
    _blocked(proc, "cannot check this edit", "no_such_module")


def test_a_repository_without_lessons_is_allowed(tmp_path: Path) -> None:
    from testing.fixtures import make_repo

    bare = make_repo(tmp_path / "bare", {"model.py": MODEL})
    _allowed(run_guard("claude", event(bare, "Write", {"file_path": str(bare / "model.py"), "content": ""}), bare))


def test_the_index_fast_path_agrees_with_the_full_check(root: Path) -> None:
    readme = event(root, "Write", {"file_path": str(root / "README.md"), "content": "hello\n"})
    _allowed(run_guard("claude", readme, root))  # full path: writes the index
    assert (root / ".ladder" / "cache" / "guard-index.marshal").is_file()
    _allowed(run_guard("claude", readme, root))  # answered from the index
    bad = event(root, "Write", {"file_path": str(root / "model.py"), "content": BAD_MODEL})
    _blocked(run_guard("claude", bad, root), VALIDATE.title)  # the index never hides a rule
    protected = event(root, "Bash", {"command": "rm evaluate.py"})
    _blocked(run_guard("claude", protected, root), EVALUATOR.title)


def test_a_new_lesson_makes_the_index_stale(root: Path) -> None:
    from ladder.lesson import Lesson, Rule
    from ladder.project import Project
    from ladder.store import save_lesson

    readme = event(root, "Write", {"file_path": str(root / "README.md"), "content": "hello\n"})
    _allowed(run_guard("claude", readme, root))
    save_lesson(Project(root), Lesson("docs", "README is generated", "x", level=5,
                                      rule=Rule("protect", {"paths": ["README.md"]})))
    _blocked(run_guard("claude", readme, root), "README is generated")
