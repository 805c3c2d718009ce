"""The five level compilers: generated documents, the agent block, and the gates."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ladder.errors import LadderError
from ladder.hooks import precommit
from ladder.lesson import Case, Lesson, LevelChange, Rule
from ladder.levels import LEVELS, compile_all, drift, gate_reasons
from ladder.levels.base import GENERATED_HEADER
from ladder.levels.lint import NO_RULE
from ladder.levels.prompt import BEGIN, END, prompt_text
from ladder.project import Project
from testing.fixtures import write

REQUIRE = Rule("require-call", {"function": "generate", "calls": "validate_input"})
GOOD = "def generate(x):\n    validate_input(x)\n    return x\n"
BAD = "def generate(x):\n    return x\n"


def lesson(lesson_id: str, level: int = 1, **kw: object) -> Lesson:
    base = Lesson(id=lesson_id, title=f"Title of {lesson_id}", why=f"Because of {lesson_id}.", level=level)
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


@pytest.fixture
def project(repo: Path) -> Project:
    (repo / ".ladder" / "lessons").mkdir(parents=True)
    return Project(repo)


def test_registry_is_one_compiler_per_level() -> None:
    assert sorted(LEVELS) == [1, 2, 3, 4, 5]
    assert [LEVELS[n].name for n in sorted(LEVELS)] == ["note", "prompt", "lint", "check", "hook"]
    assert all(LEVELS[n].level == n for n in LEVELS)


# --- level 1: the lessons document ---------------------------------------------------


def _doc(project: Project) -> str:
    return (project.root / "LESSONS.md").read_text(encoding="utf-8")


def test_lessons_doc_groups_active_lessons_by_level_most_binding_first(project: Project) -> None:
    history = (LevelChange(0, 1, "2024-05-01T10:00:00Z", "added"), LevelChange(1, 2, "2024-05-02T10:00:00Z", "agents kept forgetting"))
    lessons = [
        lesson("low", 1, tags=("perf",), source="incident 7"),
        lesson("mid", 2, history=history),
        lesson("gone", 2, status="deprecated"),
    ]
    compile_all(project, lessons)
    text = _doc(project)
    assert text.splitlines()[0] == f"<!-- {GENERATED_HEADER} -->"
    assert "do not edit by hand" in text and "ladder promote" in text
    heads = [text.index(f"## Level {n}: ") for n in (5, 4, 3, 2, 1)]
    assert heads == sorted(heads), "levels 5 down to 1"
    assert heads[3] < text.index("### Title of mid") < heads[4] < text.index("### Title of low")
    assert text.index("## Deprecated") < text.index("### Title of gone")
    assert "- tags: perf" in text and "- source: incident 7" in text and "- id: `low`" in text
    assert "2024-05-01T10:00:00Z: added at level 1: added" in text
    assert "2024-05-02T10:00:00Z: level 1 -> 2: agents kept forgetting" in text
    assert "level when deprecated: 2 (prompt)" in text


def test_lessons_doc_states_the_rule_in_words(project: Project) -> None:
    compile_all(project, [lesson("gen", 3, rule=REQUIRE)])
    assert "must call `validate_input()`" in _doc(project)


def test_lessons_doc_shows_an_invalid_rule_instead_of_failing(project: Project) -> None:
    compile_all(project, [lesson("odd", 1, rule=Rule("no-such-template", {}))])
    assert "`no-such-template` rule that does not validate" in _doc(project)


def test_compile_is_idempotent_and_drift_sees_hand_edits(project: Project) -> None:
    lessons = [lesson("a", 1), lesson("b", 2)]
    first = compile_all(project, lessons)
    assert {p.name for p in first} == {"LESSONS.md", "AGENTS.md"}
    assert compile_all(project, lessons) == [], "only changed files are written"
    assert drift(project, lessons) == []
    write(project.root, "LESSONS.md", _doc(project) + "\nmy own note\n")
    assert any("LESSONS.md" in d and "differs" in d for d in drift(project, lessons))
    (project.root / "LESSONS.md").unlink()
    assert any("LESSONS.md is missing" in d for d in drift(project, lessons))


USER_DOC = "# Lessons we learned\r\n\r\nNever skip the warm-up run.\r\n"


def test_a_users_lessons_doc_is_kept_and_gets_a_managed_block(project: Project) -> None:
    """An existing LESSONS.md is the user's: kept byte for byte (CRLF too), ladder's text in
    a block at its end (it was overwritten, issue 13)."""
    path = project.root / "LESSONS.md"
    path.write_bytes(USER_DOC.encode())
    compile_all(project, [lesson("a", 1)])
    text = path.read_bytes().decode()
    assert text.startswith(USER_DOC)
    block = text[len(USER_DOC):]
    assert BEGIN in block and END in block and "### Title of a" in block
    assert text.count("\n") == text.count("\r\n"), "the file's line endings"
    assert GENERATED_HEADER not in block, "the markers say it is generated"
    assert drift(project, [lesson("a", 1)]) == []
    compile_all(project, [lesson("a", 1), lesson("b", 2)])
    text = path.read_bytes().decode()
    assert text.startswith(USER_DOC) and "### Title of b" in text and text.count(BEGIN) == 1
    path.write_bytes(USER_DOC.encode())  # the user removed the block
    assert any("LESSONS.md has no ladder block" in d for d in drift(project, [lesson("a", 1)]))


def test_a_users_lessons_doc_with_broken_markers_is_one_clear_error(project: Project) -> None:
    text = f"# Mine\n{BEGIN}\n{BEGIN}\n{END}\n"
    write(project.root, "LESSONS.md", text)
    with pytest.raises(LadderError) as err:
        compile_all(project, [lesson("a", 1)])
    assert err.value.where == "LESSONS.md" and "malformed ladder markers" in err.value.what
    assert (project.root / "LESSONS.md").read_text(encoding="utf-8") == text, "nothing written"


def test_lessons_doc_path_comes_from_the_config(project: Project) -> None:
    write(project.root, ".ladder/config.toml", 'lessons_doc = "docs/RULES.md"\n')
    written = compile_all(Project(project.root), [lesson("a")])
    assert project.root / "docs/RULES.md" in written
    assert not (project.root / "LESSONS.md").exists()


# --- level 2: the agent block ---------------------------------------------------------


def _agents(project: Project, name: str = "AGENTS.md") -> str:
    return (project.root / name).read_bytes().decode()


def test_agents_md_is_created_with_the_block(project: Project) -> None:
    compile_all(project, [lesson("x", 2)])
    text = _agents(project)
    assert BEGIN in text and END in text and "Title of x. Because of x." in text
    assert not (project.root / "CLAUDE.md").exists(), "CLAUDE.md only when present"


def test_user_text_outside_the_markers_is_never_touched(project: Project) -> None:
    before = "# Our agents\n\nBe kind to the CI.\n"  # no final blank line, no block yet
    write(project.root, "AGENTS.md", before)
    compile_all(project, [lesson("x", 2)])
    text = _agents(project)
    assert text.startswith(before) and text.rstrip().endswith(END)
    after = "\n## More from us\nNever push on Fridays.\n"
    write(project.root, "AGENTS.md", text + after)
    compile_all(project, [lesson("x", 2), lesson("y", 5, rule=REQUIRE)])
    updated = _agents(project)
    assert updated.startswith(before) and updated.endswith(after)
    assert "Title of y. Because of y. (enforced by a blocking git hook)" in updated
    assert updated.count(BEGIN) == 1
    assert compile_all(project, [lesson("x", 2), lesson("y", 5, rule=REQUIRE)]) == []


def test_claude_md_gets_the_block_when_present(project: Project) -> None:
    write(project.root, "CLAUDE.md", "Claude-specific notes.\n")
    compile_all(project, [lesson("x", 2)])
    text = _agents(project, "CLAUDE.md")
    assert text.startswith("Claude-specific notes.\n") and "Title of x" in text


def test_claude_md_symlink_stays_a_symlink(project: Project) -> None:
    write(project.root, "AGENTS.md", "shared\n")
    (project.root / "CLAUDE.md").symlink_to("AGENTS.md")
    written = compile_all(project, [lesson("x", 2)])
    assert (project.root / "CLAUDE.md").is_symlink()
    assert [p.name for p in written].count("AGENTS.md") == 1
    assert _agents(project).count(BEGIN) == 1


def test_crlf_agent_file_keeps_its_line_endings(project: Project) -> None:
    (project.root / "AGENTS.md").write_bytes(b"# Ours\r\n\r\nText.\r\n")
    compile_all(project, [lesson("x", 2)])
    text = _agents(project)
    assert text.startswith("# Ours\r\n\r\nText.\r\n") and text.count("\n") == text.count("\r\n")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(f"intro\n{BEGIN}\nold rules\n", id="begin-without-end"),
        pytest.param(f"{END}\nintro\n{BEGIN}\n", id="end-before-begin"),
        pytest.param(f"{BEGIN}\n{END}\n{BEGIN}\n{END}\n", id="two-blocks"),
    ],
)
def test_malformed_markers_name_the_file(project: Project, text: str) -> None:
    write(project.root, "AGENTS.md", text)
    with pytest.raises(LadderError) as err:
        compile_all(project, [lesson("x", 2)])
    assert err.value.where == "AGENTS.md" and "malformed ladder markers" in err.value.what
    assert _agents(project) == text, "nothing written"
    assert any("malformed" in d for d in drift(project, [lesson("x", 2)]))


def test_prompt_text_orders_rules_most_binding_first() -> None:
    lessons = [
        lesson("a-two", 2),
        lesson("b-three", 3, rule=REQUIRE),
        lesson("c-five", 5, rule=REQUIRE),
        lesson("d-four", 4, rule=REQUIRE),
        lesson("e-one", 1),
        lesson("f-gone", 5, status="deprecated"),
    ]
    lines = [x for x in prompt_text(lessons).splitlines() if x.startswith("- ")]
    assert lines == [
        "- Title of c-five. Because of c-five. (enforced by a blocking git hook)",
        "- Title of d-four. Because of d-four. (CI check)",
        "- Title of b-three. Because of b-three. (lint warning)",
        "- Title of a-two. Because of a-two.",
    ]


def test_prompt_text_without_rules() -> None:
    assert "(no rules yet)" in prompt_text([lesson("a", 1)])


def test_block_drift_is_reported(project: Project) -> None:
    lessons = [lesson("x", 2)]
    compile_all(project, lessons)
    write(project.root, "AGENTS.md", _agents(project).replace("Because of x.", "Whatever."))
    assert drift(project, lessons) == [
        "AGENTS.md: the ladder block is missing or differs from .ladder/lessons"
    ]


# --- gates ---------------------------------------------------------------------------


def test_levels_1_and_2_have_no_gate(project: Project) -> None:
    assert gate_reasons(lesson("x", 1), 2, project) == []


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        pytest.param(None, NO_RULE, id="no-rule"),
        pytest.param(Rule("no-such-template", {}), "no-such-template", id="unknown-template"),
        pytest.param(Rule("require-call", {"function": "generate"}), "calls", id="missing-arg"),
    ],
)
def test_lint_gate_refuses(project: Project, rule: Rule | None, expected: str) -> None:
    reasons = gate_reasons(lesson("x", 2, rule=rule), 3, project)
    assert len(reasons) == 1 and expected in reasons[0]


def test_lint_gate_passes_with_a_valid_rule(project: Project) -> None:
    assert gate_reasons(lesson("x", 2, rule=REQUIRE), 3, project) == []


def test_check_gate_refuses_a_regex_rule(project: Project) -> None:
    rule = Rule("regex", {"regex": "TODO"}, block=(Case("# TODO\n"),), allow=(Case("x = 1\n"),))
    [reason] = gate_reasons(lesson("x", 3, rule=rule), 4, project)
    assert reason.startswith("regex rules are not structural: use ")
    assert "forbid-call" in reason and "semgrep pattern" in reason


def test_check_gate_reports_each_failing_case(project: Project) -> None:
    rule = dataclasses.replace(REQUIRE, block=(Case(GOOD),), allow=(Case(BAD),))  # swapped
    reasons = gate_reasons(lesson("x", 3, rule=rule), 4, project)
    assert len(reasons) == 2
    assert any(r.startswith("block case") for r in reasons)
    assert any(r.startswith("allow case") for r in reasons)


def test_check_gate_passes_with_generated_cases(project: Project) -> None:
    assert gate_reasons(lesson("x", 3, rule=REQUIRE), 4, project) == []


def _install(project: Project) -> None:
    precommit.ensure_config(project)
    precommit.install(project)


@pytest.fixture
def hooked(project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setenv("PRE_COMMIT_HOME", str(tmp_path / "pre-commit-home"))
    write(project.root, "gen.py", GOOD)
    _install(project)
    return project


def test_hook_gate_refuses_without_installed_hooks(project: Project) -> None:
    write(project.root, "gen.py", GOOD)
    [reason] = gate_reasons(lesson("x", 4, rule=REQUIRE), 5, project)
    assert reason.startswith("hooks are not installed: run `ladder hooks install`")


def test_hook_gate_passes_on_a_clean_tree(hooked: Project) -> None:
    assert gate_reasons(lesson("x", 4, rule=REQUIRE), 5, hooked) == []


def test_hook_gate_refuses_a_rule_that_fires_on_the_tree(hooked: Project) -> None:
    for i in range(7):
        write(hooked.root, f"bad{i}.py", BAD)
    [reason] = gate_reasons(lesson("x", 4, rule=REQUIRE), 5, hooked)
    assert reason.startswith("the rule fires on the current tree: bad")
    assert "... and 2 more" in reason and "would block every commit" in reason


def test_hook_gate_refuses_a_rule_over_the_latency_budget(hooked: Project) -> None:
    write(hooked.root, ".ladder/config.toml", "hook_budget_ms = 1\n")
    for i in range(6):  # a commit of typical files takes well over a millisecond
        write(hooked.root, f"src/m{i}.py", GOOD * 800)
    [reason] = gate_reasons(lesson("x", 4, rule=REQUIRE), 5, Project(hooked.root))
    assert "check of a commit of 5 typical file(s) took" in reason
    assert "over the hook budget of 1 ms" in reason


def test_hook_gate_measures_a_commit_and_the_tree_apart(
    hooked: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    # The tree is checked whole, without a time limit; the budget is a commit's.
    for i in range(40):
        write(hooked.root, f"src/pkg/m{i}.py", GOOD * (1 + i % 4))
    write(hooked.root, "src/big.py", GOOD * 3000)  # not typical: the commit leaves it out
    assert gate_reasons(lesson("x", 4, rule=REQUIRE), 5, hooked) == []
    [line] = [x for x in capsys.readouterr().err.splitlines() if x.startswith("level 5 gate")]
    assert "a commit of 5 typical file(s)" in line and "budget 3000 ms" in line
    assert "the whole tree, 4" in line and "0 finding(s)" in line
    from ladder import git
    from ladder.levels.hook import typical_commit

    chosen = typical_commit(lesson("x", 4, rule=REQUIRE), hooked, git.list_files(hooked.root))
    assert len(chosen) == 5 and "src/big.py" not in chosen


def test_hook_gate_says_how_far_a_long_tree_scan_is(
    hooked: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ladder.levels import hook

    monkeypatch.setattr(hook, "PROGRESS_EVERY_S", 0.0)
    for i in range(3):
        write(hooked.root, f"m{i}.py", GOOD)
    assert gate_reasons(lesson("x", 4, rule=REQUIRE), 5, hooked) == []
    ticks = [x for x in capsys.readouterr().err.splitlines() if "checking the tree" in x]
    assert ticks and ticks[-1].startswith(f"  checking the tree: {len(ticks)}/")


def test_gate_reasons_walks_every_gate_and_says_each_reason_once(project: Project) -> None:
    reasons = gate_reasons(lesson("x", 1), 5, project)
    assert reasons.count(NO_RULE) == 1
    assert any(r.startswith("hooks are not installed") for r in reasons)


# --- level 5 artifacts -----------------------------------------------------------------


def test_hook_compile_adds_the_config_entry_only_with_a_level_5_lesson(project: Project) -> None:
    compile_all(project, [lesson("x", 4, rule=REQUIRE)])
    assert not (project.root / precommit.CONFIG).exists()
    written = compile_all(project, [lesson("x", 5, rule=REQUIRE)])
    assert project.root / precommit.CONFIG in written
    assert precommit.status(project).config_has_hook


def test_hook_drift_names_what_is_missing(project: Project) -> None:
    at_five = [lesson("x", 5, rule=REQUIRE)]
    compile_all(project, at_five)
    assert drift(project, at_five) == [
        "1 lesson(s) at level 5 but the git pre-commit hook is missing: run `ladder hooks install`",
        "1 lesson(s) at level 5 but the git pre-push hook is missing: run `ladder hooks install`",
    ]
    assert LEVELS[5].drift([lesson("x", 4, rule=REQUIRE)], project) == []
