"""`ladder audit`: the inventory outside .ladder/, the shares, promotion, broken artifacts."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from ladder.audit.inventory import _commands, inventory, rule_lines
from ladder.commands import audit
from ladder.findings import Finding
from ladder.lesson import Case, Lesson, Rule
from ladder.project import Project
from testing.fixtures import make_repo, write

AGENTS = """\
# Agents

- Never edit `evaluate.py`.
- Run ruff before pushing.
- Keep functions small
"""

CONTRIBUTING = """\
# Contributing

Thanks for helping. You should open an issue
first.

- [Code of conduct](CODE_OF_CONDUCT.md)
"""

PRECOMMIT = """\
repos:
  - repo: https://github.com/astral-sh/ruff-pre-commit
    rev: v0.5.0
    hooks:
      - id: ruff
      - id: ruff-format
"""

WORKFLOW = """\
name: ci
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: Install
        run: pip install -e .
      - name: Tests
        run: |
          python -m pytest -q
      - run: ladder check --ci
"""

EXTERNAL = {
    "AGENTS.md": AGENTS,
    "CONTRIBUTING.md": CONTRIBUTING,
    ".pre-commit-config.yaml": PRECOMMIT,
    ".github/workflows/ci.yml": WORKFLOW,
    "src/app.py": "def main():\n    return 1\n",
}


def _audit(root: Path, fmt: str = "json", max_prose: float | None = None) -> tuple[int, str]:
    out = io.StringIO()
    code = audit.run(Project(root), fmt=fmt, max_prose=max_prose, out=out)
    return code, out.getvalue()


def _json(root: Path) -> dict[str, Any]:
    code, text = _audit(root)
    assert code == 0
    data: dict[str, Any] = json.loads(text)
    return data


# --- rule-like lines (pure) --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "agent_file"),
    [
        pytest.param("# Never a heading rule\n", True, id="heading"),
        pytest.param("```\n- must not count code\n```\n", True, id="code-fence"),
        pytest.param("Welcome to the project.\n", True, id="paragraph-without-keyword"),
        pytest.param("- Use pytest for tests\n", False, id="plain-item-outside-agent-file"),
        pytest.param("- Testing:\n", True, id="lead-in-of-nested-list"),
        pytest.param("- [Docs](https://x)\n", True, id="lone-link"),
        pytest.param("<!-- you must not\ncount comments -->\n", True, id="html-comment"),
        pytest.param(
            "<!-- ladder:begin (generated) -->\n- Never call eval. why\n<!-- ladder:end -->\n",
            True,
            id="ladder-managed-block",
        ),
        pytest.param("---\ndescription: you must\n---\n", True, id="mdc-front-matter"),
        pytest.param("| rule | you must |\n", True, id="table-row"),
    ],
)
def test_rule_lines_noop(text: str, agent_file: bool) -> None:
    assert rule_lines(text, agent_file=agent_file) == []


@pytest.mark.parametrize(
    ("text", "agent_file", "expected"),
    [
        pytest.param("- Use pytest for tests\n", True, [(1, "Use pytest for tests")], id="item-in-agent-file"),
        pytest.param("1. Always pin **versions**\n", False, [(1, "Always pin versions")], id="numbered-keyword"),
        pytest.param(
            "Hello there.\nYou must run the tests. Then\nnever push to main. Avoid\nglobals.\n",
            False,
            [(2, "You must run the tests."), (2, "Then never push to main."), (3, "Avoid globals.")],
            id="sentences-of-a-wrapped-paragraph",
        ),
        pytest.param(
            "- Do not use\n  global state\n", False, [(1, "Do not use global state")], id="wrapped-item"
        ),
        pytest.param("- Testing:\n  - Prefer fixtures\n", True, [(2, "Prefer fixtures")], id="nested-item"),
        pytest.param("Don\u2019t commit secrets.\n", False, [(1, "Don\u2019t commit secrets.")], id="curly-apostrophe"),
    ],
)
def test_rule_lines_fixes(text: str, agent_file: bool, expected: list[tuple[int, str]]) -> None:
    assert rule_lines(text, agent_file=agent_file) == expected


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        pytest.param("python -m pytest -q", ("pytest",), id="python-m"),
        pytest.param("uv run mypy src && ruff check .", ("mypy", "ruff"), id="runner-and-chain"),
        pytest.param("pip install -e .\necho hi", (), id="setup-only"),
        pytest.param("make lint", ("make lint",), id="task-runner"),
        pytest.param("FOO=1 ./scripts/check.sh", ("check.sh",), id="env-and-path"),
    ],
)
def test_commands_of_a_script(script: str, expected: tuple[str, ...]) -> None:
    assert _commands(script) == expected


# --- the inventory ------------------------------------------------------------------


def test_inventory_finds_prose_and_structure(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {
        **EXTERNAL,
        ".cursor/rules/style.mdc": "---\nglobs: '*.py'\n---\n- Prefer dataclasses\n",
        "CLAUDE.md": "<!-- ladder:begin x -->\n- Generated rule. must\n<!-- ladder:end -->\n",
        "pyproject.toml": "[project]\nname = 'x'\n\n[tool.ruff.lint]\nselect = ['E']\n\n[tool.mypy]\nstrict = true\n",
        ".semgrep.yml": "rules:\n  - id: no-eval\n    pattern: eval(...)\n    message: no\n    languages: [python]\n    severity: ERROR\n",
        ".gitlab-ci.yml": "stages: [test]\n.base:\n  script: [echo]\nunit:\n  script:\n    - pytest\nself:\n  script: ladder check --ci\n",
    })
    got = {(i.source, i.line, i.kind, i.level, i.text) for i in inventory(root)}
    assert got == {
        ("AGENTS.md", 3, "prose", 2, "Never edit `evaluate.py`."),
        ("AGENTS.md", 4, "prose", 2, "Run ruff before pushing."),
        ("AGENTS.md", 5, "prose", 2, "Keep functions small"),
        (".cursor/rules/style.mdc", 4, "prose", 2, "Prefer dataclasses"),
        ("CONTRIBUTING.md", 3, "prose", 1, "You should open an issue first."),
        (".pre-commit-config.yaml", 5, "structural", 5, "pre-commit hook ruff"),
        (".pre-commit-config.yaml", 6, "structural", 5, "pre-commit hook ruff-format"),
        (".semgrep.yml", 2, "structural", 3, "semgrep rule no-eval"),
        ("pyproject.toml", 4, "structural", 3, "ruff configuration"),
        ("pyproject.toml", 7, "structural", 3, "mypy configuration"),
        (".github/workflows/ci.yml", 8, "structural", 4, "CI step test: Install"),
        (".github/workflows/ci.yml", 10, "structural", 4, "CI step test: Tests"),
        (".gitlab-ci.yml", 4, "structural", 4, "CI job unit"),
    }


def test_inventory_reads_a_symlinked_agent_file_once(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"AGENTS.md": AGENTS})
    (root / "CLAUDE.md").symlink_to("AGENTS.md")
    assert [i.source for i in inventory(root)] == ["AGENTS.md"] * 3
    assert inventory(root, skip=("AGENTS.md",)) == []


def test_inventory_skips_ladders_own_hook_and_broken_yaml(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {
        ".pre-commit-config.yaml": "repos:\n  - repo: local\n    hooks:\n      - id: ladder-check\n"
        "        name: x\n        entry: ladder check --hook\n        language: system\n",
        ".github/workflows/bad.yml": "jobs: [unclosed\n",
    })
    assert inventory(root) == []


# --- a repository that never used ladder ---------------------------------------------


def test_audit_without_ladder_reports_the_inventory(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", EXTERNAL)
    data = _json(root)
    assert data["initialized"] is False
    assert data["lessons"] == []
    # 4 prose rules (3 in AGENTS.md, 1 in CONTRIBUTING.md) against 4 structural
    # (2 hooks, 2 CI steps; the `ladder check` step is ladder itself).
    assert data["prose_share_basis"] == "inventory"
    assert data["prose_share"] == 0.5
    assert data["structural_share"] == 0.5
    assert data["combined_prose_share"] == 0.5
    assert data["totals"]["by_level"] == {"1": 1, "2": 3, "3": 0, "4": 2, "5": 2}
    # "Run ruff before pushing" is covered by the ruff hook; the other three are gaps.
    assert sorted(g["text"] for g in data["gaps"]) == [
        "Keep functions small",
        "Never edit `evaluate.py`.",
        "You should open an issue first.",
    ]


def test_audit_markdown_has_the_gap_report(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", EXTERNAL)
    code, text = _audit(root, "markdown")
    assert code == 0
    gap = text[text.index("## Gap report"):]
    assert "| Never edit `evaluate.py`. | `AGENTS.md:3` | `ladder adopt`, then `ladder promote ID --max` |" in gap
    assert "Run ruff before pushing" not in gap
    assert "prose share 50.0%" in text


def test_audit_empty_repository(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r")
    data = _json(root)
    assert (data["prose_share"], data["structural_share"], data["prose_share_basis"]) == (0.0, 0.0, "none")
    code, text = _audit(root, "markdown")
    assert code == 0
    assert "None: no prose rules found." in text


# --- a repository with lessons -------------------------------------------------------


def _rule(name: str, block: str, allow: str = "print(1)\n") -> Rule:
    return Rule("forbid-call", {"name": name}, block=(Case(block),), allow=(Case(allow),))


LESSONS = [
    Lesson("note-only", "Write down why", "a reader needs it", level=1),
    Lesson("lint-eval", "Never call eval", "it ran user input", level=3, rule=_rule("eval", "eval(x)\n")),
    # Its block case does not call os.system: the rule cannot prove it blocks anything.
    Lesson("check-broken", "Never call os.system", "shell injection", level=4, rule=_rule("os.system", "print(2)\n")),
    Lesson("hooked", "Never call pickle.load", "untrusted data", level=5,
           rule=_rule("pickle.load", "import pickle\npickle.load(f)\n")),
    Lesson("old", "Gone", "superseded", level=2, status="deprecated"),
]


@pytest.fixture
def laddered(tmp_path: Path) -> Path:
    """A repository with the external constraints, `ladder init` (no git hooks) and lessons."""
    from ladder.commands import init
    from ladder.levels import compile_all
    from ladder.store import save_lesson

    root = make_repo(tmp_path / "r", EXTERNAL)
    project = Project(root)
    init.run(project, install_hooks=False)
    for lesson in LESSONS:
        save_lesson(project, lesson)
    compile_all(project, LESSONS)
    write(root, "src/tool.py", "x = eval(y)  # ladder: ignore[lint-eval]\n")
    return root


def test_audit_counts_levels_and_shares(laddered: Path) -> None:
    data = _json(laddered)
    assert data["levels"] == {"1": 1, "2": 0, "3": 1, "4": 1, "5": 1}
    assert data["prose_share_basis"] == "lessons"
    assert data["prose_share"] == 0.25
    assert data["structural_share"] == 0.75
    # ladder's AGENTS.md block, LESSONS.md and its pre-commit hook are not external:
    # 4 lessons (1 prose) + 4 prose and 4 structural items outside .ladder/.
    assert data["combined_prose_share"] == round(5 / 12, 4)
    assert data["totals"]["prose"] == 5
    assert data["totals"]["structural"] == 7
    rows = {row["id"]: row for row in data["lessons"]}
    assert rows["old"]["status"] == "deprecated"
    assert rows["lint-eval"] == {
        "id": "lint-eval", "level": 3, "level_name": "lint", "title": "Never call eval",
        "status": "active", "fired": 0, "suppressed": 1,
    }
    assert data["suppressions"] == {"lint-eval": 1}


def test_audit_promotion_says_what_blocks(laddered: Path) -> None:
    promo = {p["id"]: p for p in _json(laddered)["promotable"]}
    assert set(promo) == {"note-only", "lint-eval", "check-broken"}  # not 5, not deprecated
    assert (promo["note-only"]["next_level"], promo["note-only"]["blocked_level"]) == (2, 3)
    assert "rule" in " ".join(promo["note-only"]["blocked_by"]).lower()
    assert (promo["lint-eval"]["next_level"], promo["lint-eval"]["blocked_level"]) == (4, 5)
    assert "hook" in " ".join(promo["lint-eval"]["blocked_by"]).lower()
    assert promo["check-broken"]["can_promote"] is False
    assert promo["check-broken"]["blocked_level"] == 5


def test_audit_reports_broken_artifacts(laddered: Path) -> None:
    (laddered / "LESSONS.md").write_text("# hand-edited\n", encoding="utf-8")
    broken = _json(laddered)["broken"]
    kinds = {(b["kind"], b.get("lesson", "")) for b in broken}
    assert ("failing-case", "check-broken") in kinds
    assert ("hook-missing", "") in kinds  # `hooked` is at 5, but git would not run it
    assert any(b["kind"] == "drift" and "LESSONS.md" in b["detail"] for b in broken)
    assert not any(b.get("lesson") in ("lint-eval", "hooked") for b in broken if b["kind"] == "failing-case")


def test_audit_reports_an_invalid_rule(laddered: Path) -> None:
    from ladder.store import save_lesson

    save_lesson(Project(laddered), Lesson("bad", "Bad rule", "typo", level=3, rule=Rule("no-such-template")))
    data = _json(laddered)
    assert [b["kind"] for b in data["broken"] if b.get("lesson") == "bad"] == ["invalid-rule"]
    promo = {p["id"]: p for p in data["promotable"]}["bad"]
    assert (promo["next_level"], promo["blocked_level"]) == (3, 4)
    assert "no-such-template" in " ".join(promo["blocked_by"])


def test_audit_without_drift_or_failures_reports_none(laddered: Path) -> None:
    from ladder.store import lesson_path

    lesson_path(Project(laddered), "check-broken").unlink()
    lesson_path(Project(laddered), "hooked").unlink()
    from ladder.levels import compile_all
    from ladder.store import load_lessons

    compile_all(Project(laddered), load_lessons(Project(laddered)))
    assert _json(laddered)["broken"] == []


def test_audit_counts_fires(laddered: Path) -> None:
    from ladder import firelog

    finding = Finding("forbid-call", "lint-eval", "src/tool.py", 1, 5, "no eval", 3)
    firelog.record(Project(laddered), [finding, finding], "ci")
    firelog.record(Project(laddered), [finding], "hook")
    data = _json(laddered)
    assert {r["id"]: r["fired"] for r in data["lessons"]}["lint-eval"] == 3
    assert data["fires"] == {"lint-eval": 3}


@pytest.mark.parametrize(
    ("max_prose", "expected"),
    [
        pytest.param(0.5, 0, id="under"),
        pytest.param(0.25, 0, id="equal-passes"),
        pytest.param(0.2, 1, id="over"),
    ],
)
def test_audit_max_prose(laddered: Path, capsys: pytest.CaptureFixture[str], max_prose: float, expected: int) -> None:
    code, _ = _audit(laddered, "table", max_prose)
    assert code == expected
    err = capsys.readouterr().err
    assert ("exceeds --max-prose" in err) == bool(expected)


def test_audit_table_and_markdown(laddered: Path) -> None:
    code, table = _audit(laddered, "table")
    assert code == 0
    for text in ("prose share 25.0%", "check-broken", "failing-case", "Constraints outside .ladder/", "AGENTS.md:3"):
        assert text in table
    code, md = _audit(laddered, "markdown")
    assert code == 0
    assert "| `lint-eval` | 3 lint | Never call eval | active | 0 | 1 |" in md
    gap = md[md.index("## Gap report"):]
    assert "| Write down why | `.ladder/lessons/note-only.toml` | `ladder promote note-only --max` |" in gap


def test_audit_bad_format_is_bad_input(laddered: Path) -> None:
    from ladder.errors import LadderError

    with pytest.raises(LadderError, match="unknown format"):
        _audit(laddered, "yaml")


# --- the done-when, through the command line ---------------------------------


@pytest.mark.slow
def test_lesson_promoted_to_five_leaves_no_prose(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ladder.main import main

    write(repo, "app.py", "def generate(x):\n    validate_input(x)\n    return x\n")
    assert main(["init"]) == 0
    assert main(["add", "generate() must call validate_input()", "--why", "injection",
                 "--id", "validate-before-generate"]) == 0
    assert main(["promote", "validate-before-generate", "--to", "5",
                 "--rule", "require-call", "function=generate", "calls=validate_input"]) == 0
    capsys.readouterr()
    assert main(["audit", "--format", "json", "--max-prose", "0"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["level"]) for r in data["lessons"]] == [("validate-before-generate", 5)]
    assert data["prose_share"] == 0
    assert data["combined_prose_share"] == 0  # ladder's AGENTS.md block and LESSONS.md are not prose rules
    assert data["inventory"] == []
    assert data["broken"] == []
