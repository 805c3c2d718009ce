"""The founding story, end to end: real git, real pre-commit, real libcst, real hooks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from testing.cli import ladder
from testing.fixtures import commit, git, make_repo, write

GOOD = "def generate(x):\n    validate_input(x)\n    return model(x)\n"
BAD = "def generate(x):\n    return model(x)\n"

pytestmark = pytest.mark.slow


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "svc", {"gen.py": GOOD, "evaluate.py": "print('score: 1')\n"})
    out = ladder(root, "init")
    assert out.returncode == 0, out.stderr
    assert commit(root, "ladder init").returncode == 0
    return root


def test_lesson_climbs_to_a_blocking_hook(project: Path) -> None:
    added = ladder(
        project,
        "add",
        "generate() must call validate_input()",
        "--why",
        "Dropping validation let a prompt injection through.",
        "--tag",
        "security",
    )
    assert added.returncode == 0, added.stderr
    lesson_id = added.stdout.strip()
    assert (project / ".ladder" / "lessons" / f"{lesson_id}.toml").is_file()
    assert "generate() must call validate_input()" in (project / "LESSONS.md").read_text()

    # Level 2: the agent's rules block; level 3 refused without a rule.
    assert ladder(project, "promote", lesson_id).returncode == 0
    assert "validate_input" in (project / "AGENTS.md").read_text()
    refused = ladder(project, "promote", lesson_id)
    assert refused.returncode == 1
    assert "rule" in refused.stderr

    # Level 3 with a rule, then 4 (cases pass), then 5 (hooks installed, tree clean).
    rule = [
        "--rule",
        "require-call",
        "function=generate",
        "calls=validate_input",
        "--block",
        BAD,
        "--allow",
        GOOD,
    ]
    assert ladder(project, "promote", lesson_id, "--to", "3", *rule).returncode == 0
    assert ladder(project, "promote", lesson_id).returncode == 0
    five = ladder(project, "promote", lesson_id)
    assert five.returncode == 0, five.stderr
    shown = json.loads(ladder(project, "show", lesson_id, "--format", "json").stdout)
    assert shown["level"] == 5
    assert [h["to"] for h in shown["history"]] == [1, 2, 3, 4, 5]
    assert commit(project, "lesson at level 5").returncode == 0

    # git itself refuses the violating commit, naming the lesson; the compliant one lands.
    write(project, "gen.py", BAD)
    refused_commit = commit(project, "faster generation")
    assert refused_commit.returncode != 0
    assert "generate() must call validate_input()" in refused_commit.stdout + refused_commit.stderr
    assert git(project, "log", "-1", "--format=%s").stdout.strip() == "lesson at level 5"
    write(project, "gen.py", GOOD.replace("model(x)", "model(x.strip())"))
    assert commit(project, "compliant change").returncode == 0

    audit = json.loads(ladder(project, "audit", "--format", "json").stdout)
    levels = {x["id"]: x["level"] for x in audit["lessons"]}
    assert levels[lesson_id] == 5
    assert audit["prose_share"] == 0


def test_protect_lesson_refuses_any_commit_touching_the_evaluator(project: Path) -> None:
    lesson_id = ladder(project, "add", "The evaluator is ground truth", "--why", "x").stdout.strip()
    promoted = ladder(
        project, "promote", lesson_id, "--to", "5", "--rule", "protect", "paths=evaluate.py"
    )
    assert promoted.returncode == 0, promoted.stderr
    assert commit(project, "protect evaluator").returncode == 0

    write(project, "evaluate.py", "print('score: 1000')\n")
    assert commit(project, "edit evaluator").returncode != 0
    git(project, "reset", "-q", "--hard")

    git(project, "rm", "-q", "evaluate.py")
    assert git(project, "commit", "-m", "delete evaluator", check=False).returncode != 0
    git(project, "reset", "-q", "--hard")

    git(project, "mv", "evaluate.py", "scorer.py")
    assert git(project, "commit", "-m", "rename evaluator", check=False).returncode != 0
    git(project, "reset", "-q", "--hard")

    write(project, "other.py", "x = 1\n")
    assert commit(project, "unrelated").returncode == 0


def test_promotion_to_5_refused_when_rule_fires_on_the_tree(project: Path) -> None:
    write(project, "legacy.py", BAD)
    commit(project, "legacy code")
    lesson_id = ladder(
        project, "add", "generate() must call validate_input()", "--why", "x"
    ).stdout.strip()
    refused = ladder(
        project,
        "promote",
        lesson_id,
        "--to",
        "5",
        "--rule",
        "require-call",
        "function=generate",
        "calls=validate_input",
    )
    assert refused.returncode == 1
    assert "legacy.py" in refused.stderr
    shown = json.loads(ladder(project, "show", lesson_id, "--format", "json").stdout)
    assert shown["level"] == 1  # nothing written half-way
    maxed = ladder(
        project,
        "promote",
        lesson_id,
        "--max",
        "--rule",
        "require-call",
        "function=generate",
        "calls=validate_input",
    )
    assert maxed.returncode == 0
    assert json.loads(ladder(project, "show", lesson_id, "--format", "json").stdout)["level"] == 4


def test_a_new_rule_must_pass_the_gates_of_the_level_the_lesson_holds(project: Path) -> None:
    lesson_id = ladder(project, "add", "generate() must call validate_input()", "--why", "x").stdout.strip()
    rule = ["--rule", "require-call", "function=generate", "calls=validate_input"]
    assert ladder(project, "promote", lesson_id, "--to", "5", *rule).returncode == 0
    before = (project / ".ladder" / "lessons" / f"{lesson_id}.toml").read_text()
    swapped = ladder(project, "promote", lesson_id, "--max", "--rule", "regex", "regex=TODO")
    assert swapped.returncode == 1
    assert "not structural" in swapped.stderr
    assert (project / ".ladder" / "lessons" / f"{lesson_id}.toml").read_text() == before


def test_a_clone_of_a_repository_without_lessons_can_commit(tmp_path: Path) -> None:
    origin = make_repo(tmp_path / "origin", {"a.py": "x = 1\n"})
    assert ladder(origin, "init").returncode == 0
    assert commit(origin, "ladder init").returncode == 0
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    assert ladder(clone, "hooks", "install").returncode == 0
    write(clone, "a.py", "x = 2\n")
    assert commit(clone, "change").returncode == 0
