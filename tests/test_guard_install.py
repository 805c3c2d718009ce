"""`ladder hooks install|status --agent ...` and `ladder init --agent ...` on real repositories."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ladder.agents import aider, cursor
from ladder.agents.registry import AGENTS
from ladder.project import Project
from testing.guard import MODEL, VALIDATE, event, guarded_repo, run_hook_command

USER_SETTINGS: dict[str, Any] = {
    "permissions": {"allow": ["Bash(npm run lint)"]},
    "hooks": {
        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "./audit-bash.sh"}]}],
        "PostToolUse": [{"matcher": "Edit", "hooks": [{"type": "command", "command": "ruff format"}]}],
    },
}


def ladder(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ladder", *args], cwd=root, capture_output=True, text=True,
                          check=False)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return guarded_repo(tmp_path / "repo")


def _snapshot(root: Path) -> dict[str, bytes]:
    return {a.path: (root / a.path).read_bytes() for a in AGENTS.values()}


def test_install_merges_into_existing_claude_settings_and_keeps_user_hooks(root: Path) -> None:
    settings = root / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(json.dumps(USER_SETTINGS, indent=4), encoding="utf-8")
    proc = ladder(root, "hooks", "install", "--agent", "claude")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(settings.read_text(encoding="utf-8"))
    assert data["permissions"] == USER_SETTINGS["permissions"]
    user_after, ours_after = data["hooks"]["PostToolUse"]
    assert user_after == USER_SETTINGS["hooks"]["PostToolUse"][0]
    assert ours_after["hooks"] == [{"type": "command", "command": "ladder guard claude --after || exit 2"}]
    user, ours = data["hooks"]["PreToolUse"]
    assert user == USER_SETTINGS["hooks"]["PreToolUse"][0]
    assert ours["matcher"] == "Edit|Write|MultiEdit|NotebookEdit|Bash"
    assert ours["hooks"] == [{"type": "command", "command": "ladder guard claude || exit 2"}]


def test_install_twice_changes_nothing(root: Path) -> None:
    (root / ".aider.conf.yml").write_text("# my aider settings\nmodel: sonnet\n", encoding="utf-8")
    args = [arg for name in AGENTS for arg in ("--agent", name)]
    assert ladder(root, "hooks", "install", *args).returncode == 0
    first = _snapshot(root)
    proc = ladder(root, "hooks", "install", *args)
    assert proc.returncode == 0
    assert _snapshot(root) == first
    assert proc.stdout.count("kept") == len(AGENTS) + 1  # the pre-commit config and each agent


def test_a_user_tuned_matcher_is_kept(root: Path) -> None:
    settings = root / ".claude" / "settings.json"
    settings.parent.mkdir()
    mine = {"hooks": {"PreToolUse": [{"matcher": "Edit|Write",
                                       "hooks": [{"type": "command", "command": "/opt/venv/bin/ladder guard claude"}]}]}}
    settings.write_text(json.dumps(mine), encoding="utf-8")
    assert ladder(root, "hooks", "install", "--agent", "claude").returncode == 0
    data = json.loads(settings.read_text(encoding="utf-8"))
    assert data["hooks"]["PreToolUse"] == mine["hooks"]["PreToolUse"]
    (after,) = data["hooks"]["PostToolUse"]  # an install from before the post-tool check gains it
    assert after["hooks"][0]["command"] == "ladder guard claude --after || exit 2"
    assert ladder(root, "hooks", "install", "--agent", "claude").returncode == 0
    assert json.loads(settings.read_text(encoding="utf-8")) == data


def test_the_installed_claude_hook_blocks_a_violating_edit_and_allows_a_compliant_one(root: Path) -> None:
    assert ladder(root, "hooks", "install", "--agent", "claude").returncode == 0
    data = json.loads((root / ".claude" / "settings.json").read_text(encoding="utf-8"))
    (group,) = data["hooks"]["PreToolUse"]
    command = group["hooks"][0]["command"]
    bad = event(root, "Edit", {"file_path": str(root / "model.py"), "old_string": "    validate_input(x)\n",
                               "new_string": ""})
    good = event(root, "Edit", {"file_path": str(root / "model.py"), "old_string": "model(x)",
                                "new_string": "model(x, seed=1)"})
    blocked = run_hook_command(command, bad, root)
    assert blocked.returncode == 2 and VALIDATE.title in blocked.stderr
    allowed = run_hook_command(command, good, root)
    assert (allowed.returncode, allowed.stderr) == (0, "")


def test_the_hook_command_fails_closed_when_ladder_is_missing(root: Path) -> None:
    proc = subprocess.run(["sh", "-c", "ladder-not-installed guard claude || exit 2"], input="{}",
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and "not" in proc.stderr  # the shell's "not found" reaches the model


def test_invalid_settings_json_is_a_clear_error(root: Path) -> None:
    settings = root / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text("{ // comments are not JSON\n}", encoding="utf-8")
    proc = ladder(root, "hooks", "install", "--agent", "claude")
    assert proc.returncode == 2
    assert ".claude/settings.json: not valid JSON" in proc.stderr and "Traceback" not in proc.stderr


def test_codex_hooks_file(root: Path) -> None:
    assert ladder(root, "hooks", "install", "--agent", "codex").returncode == 0
    data = json.loads((root / ".codex" / "hooks.json").read_text(encoding="utf-8"))
    assert data["hooks"]["PreToolUse"] == [{"matcher": "apply_patch|Bash", "hooks": [
        {"type": "command", "command": "ladder guard codex || exit 2"}]}]
    assert data["hooks"]["PostToolUse"] == [{"matcher": "apply_patch|Bash", "hooks": [
        {"type": "command", "command": "ladder guard codex --after || exit 2"}]}]


def test_aider_config_keeps_comments_and_user_keys(root: Path) -> None:
    conf = root / ".aider.conf.yml"
    conf.write_text("# my aider settings\nmodel: sonnet\nauto-commits: false\n", encoding="utf-8")
    assert AGENTS["aider"].install(Project(root))
    text = conf.read_text(encoding="utf-8")
    assert text.startswith("# my aider settings\nmodel: sonnet\n")
    assert aider._parse(text) == {"model": "sonnet", "auto-commits": False, "lint-cmd": ["ladder check"],
                                  "read": ["AGENTS.md"]}


def test_aider_appends_to_existing_lists(root: Path) -> None:
    conf = root / ".aider.conf.yml"
    conf.write_text("read: [CONVENTIONS.md]\nlint-cmd:\n  - 'python: flake8'\n", encoding="utf-8")
    assert AGENTS["aider"].install(Project(root))
    data = aider._parse(conf.read_text(encoding="utf-8"))
    assert data == {"read": ["CONVENTIONS.md", "AGENTS.md"], "lint-cmd": ["python: flake8", "ladder check"]}
    assert not AGENTS["aider"].install(Project(root))


def test_aider_lint_cmd_blocks_on_a_level_5_finding(root: Path) -> None:
    (root / "model.py").write_text("def generate(x):\n    return model(x)\n", encoding="utf-8")
    proc = subprocess.run([*aider.LINT_CMD.split(), "model.py"], cwd=root, capture_output=True, text=True,
                          check=False)  # as aider runs it: the command split on spaces, the file appended
    assert proc.returncode == 1 and "validate-before-generate" in proc.stdout


def test_cursor_rule_file_is_always_applied_and_follows_the_lessons(root: Path) -> None:
    project = Project(root)
    assert AGENTS["cursor"].install(project)
    text = (root / cursor.RULE_FILE).read_text(encoding="utf-8")
    assert text.startswith("---\n") and "\nalwaysApply: true\n---\n" in text
    assert VALIDATE.title.rstrip(".") in text
    proc = ladder(root, "add", "Never log secrets", "--why", "A token leaked into CI logs.")
    assert proc.returncode == 0, proc.stderr
    lesson_id = proc.stdout.strip().split()[-1]
    ladder(root, "promote", lesson_id, "--to", "2")
    assert "Never log secrets" in (root / cursor.RULE_FILE).read_text(encoding="utf-8")
    assert AGENTS["cursor"].status(project).installed


def test_status_reports_agents_and_fails_for_a_required_missing_one(root: Path) -> None:
    assert ladder(root, "hooks", "install", "--agent", "claude").returncode == 0
    proc = ladder(root, "hooks", "status")
    assert proc.returncode == 0, proc.stdout
    assert "agent claude: .claude/settings.json: installed" in proc.stdout
    assert "agent codex" not in proc.stdout  # not used here: not reported
    missing = ladder(root, "hooks", "status", "--agent", "codex")
    assert missing.returncode == 1
    assert "agent codex: .codex/hooks.json: NOT installed" in missing.stdout
    assert "ladder hooks install --agent codex" in missing.stdout


def test_init_with_agents(tmp_path: Path) -> None:
    from testing.fixtures import make_repo

    root = make_repo(tmp_path / "fresh", {"model.py": MODEL})
    proc = ladder(root, "init", "--agent", "claude", "--agent", "cursor")
    assert proc.returncode == 0, proc.stderr
    assert (root / ".claude" / "settings.json").is_file() and (root / cursor.RULE_FILE).is_file()
    assert not (root / ".codex").exists()


def test_audit_counts_surfaces_and_names_agents_without_a_guard(root: Path) -> None:
    assert ladder(root, "init", "--agent", "claude", "--agent", "cursor").returncode == 0  # AGENTS.md too
    proc = ladder(root, "audit", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["surfaces"][VALIDATE.id] == ["git-hook", "guard:claude", "rules:AGENTS.md", "rules:cursor"]
    (gap,) = data["agent_gaps"]
    assert gap.startswith("cursor: 2 level-5 lesson(s) enforced in git but not inside the agent")
    (root / ".codex").mkdir()
    data = json.loads(ladder(root, "audit", "--format", "json").stdout)
    assert any(g.startswith("codex:") and "--agent codex" in g for g in data["agent_gaps"])
