"""`ladder audit`: the inventory outside .ladder/, the shares, promotion, broken artifacts."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from ladder.audit.commands import checks, parse_makefile
from ladder.audit.inventory import inventory, rule_lines
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
    "text",
    [
        pytest.param("# Never a heading rule\n", id="heading"),
        pytest.param("```\n- must not count code\n```\n", id="code-fence"),
        pytest.param("Welcome to the project.\n", id="paragraph-without-a-directive"),
        pytest.param("- Testing:\n", id="lead-in-of-nested-list"),
        pytest.param("- [Docs](https://x)\n", id="lone-link"),
        pytest.param("1. [Setup](#setup)\n2. [Usage](#usage)\n", id="table-of-contents"),
        pytest.param("- `ruff` via `make lint` and `make format`\n", id="tool-description"),
        pytest.param("<!-- you must not\ncount comments -->\n", id="html-comment"),
        pytest.param(
            "<!-- ladder:begin (generated) -->\n- Never call eval. why\n<!-- ladder:end -->\n",
            id="ladder-managed-block",
        ),
        pytest.param("---\ndescription: you must\n---\n", id="front-matter"),
        pytest.param("| rule | you must |\n", id="table-row"),
    ],
)
def test_rule_lines_noop(text: str) -> None:
    assert rule_lines(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("- Use pytest for tests\n", [(1, "Use pytest for tests", "imperative")], id="imperative-item"),
        pytest.param("1. Always pin **versions**\n", [(1, "Always pin versions", "normative")], id="numbered-keyword"),
        pytest.param(
            "Hello there.\nYou must run the tests. Then\nnever push to main. Avoid\nglobals.\n",
            [(2, "You must run the tests.", "normative"), (2, "Then never push to main.", "normative"),
             (3, "Avoid globals.", "normative")],
            id="sentences-of-a-wrapped-paragraph",
        ),
        pytest.param(
            "- Do not use\n  global state\n", [(1, "Do not use global state", "normative")], id="wrapped-item"
        ),
        pytest.param("- Testing:\n  - Prefer fixtures\n", [(2, "Prefer fixtures", "normative")], id="nested-item"),
        pytest.param("Don\u2019t commit secrets.\n", [(1, "Don\u2019t commit secrets.", "normative")],
                     id="curly-apostrophe"),
        pytest.param("> [!IMPORTANT]\n> Never log tokens.\n", [(2, "Never log tokens.", "normative")],
                     id="github-alert"),
        pytest.param("---\nname: x\n---\n- Keep it short\n", [(4, "Keep it short", "imperative")],
                     id="skill-front-matter"),
    ],
)
def test_rule_lines_fixes(text: str, expected: list[tuple[int, str, str]]) -> None:
    assert rule_lines(text) == expected


def test_rule_lines_of_a_crlf_document() -> None:
    assert rule_lines("# T\r\n\r\n- Never edit `x.py`.\r\n- Keep\r\n  it short\r\n") == [
        (3, "Never edit `x.py`.", "normative"),
        (4, "Keep it short", "imperative"),
    ]


@pytest.mark.parametrize(
    ("script", "runs"),
    [
        pytest.param("python -m pytest -q", ("pytest",), id="python-m"),
        pytest.param("uv run mypy src && ruff check .", ("mypy", "ruff"), id="runner-and-chain"),
        pytest.param("pip install -e .\necho hi\nuv sync", (), id="setup-only"),
        pytest.param("make lint", ("make lint",), id="task-without-a-makefile"),
        pytest.param("FOO=1 ./scripts/check.sh", ("check.sh",), id="env-and-path"),
        pytest.param("uv run ${{ matrix.cmd }} coverage run -m pytest", ("coverage", "pytest"), id="coverage-run"),
        pytest.param("if ! uv run ruff check; then exit 1; fi", ("ruff",), id="shell-keywords"),
        pytest.param("pre-commit install --install-hooks", (), id="installing-is-not-checking"),
        pytest.param("bash \"${RUNNER_TEMP}/actions/create_tmp_dir.sh\"", (), id="generated-set-up-script"),
    ],
)
def test_checks_of_a_script(script: str, runs: tuple[str, ...]) -> None:
    assert checks(script, {})[0] == runs


MAKEFILE = """\
.PHONY: lint
lint: ## Lint the code
\tuv run ruff format --check
\tuv run ruff check

typecheck-pyright:
\t@PYRIGHT_PYTHON_IGNORE_WARNINGS=1 uv run pyright $(if $(PY),--pythonversion $(PY))

typecheck: typecheck-pyright ## prerequisites run too

both:
\t$(MAKE) lint & $(MAKE) typecheck; wait

sync:
\tuv sync --frozen
"""


@pytest.mark.parametrize(
    ("task", "runs"),
    [
        pytest.param("make lint", ("ruff",), id="recipe"),
        pytest.param("make typecheck", ("pyright",), id="prerequisite"),
        pytest.param("make both", ("ruff", "pyright"), id="recursive-make"),
        pytest.param("make sync", (), id="not-a-check"),
        pytest.param("make missing-check", ("make missing-check",), id="unknown-target-named-as-a-check"),
    ],
)
def test_make_targets_resolve_to_the_checks_they_run(task: str, runs: tuple[str, ...]) -> None:
    assert checks(task, parse_makefile(MAKEFILE))[0] == runs


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
        (".pre-commit-config.yaml", 6, "structural", 5, "pre-commit hook ruff-format runs ruff"),
        (".semgrep.yml", 2, "structural", 3, "semgrep rule no-eval"),
        ("pyproject.toml", 4, "structural", 3, "ruff configuration"),
        ("pyproject.toml", 7, "structural", 3, "mypy configuration"),
        # `pip install -e .` checks nothing: only the step that runs pytest is a check.
        (".github/workflows/ci.yml", 10, "structural", 4, "CI step test: Tests"),
        (".gitlab-ci.yml", 4, "structural", 4, "CI job unit"),
    }


def test_inventory_reads_a_symlinked_agent_file_once(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"AGENTS.md": AGENTS})
    (root / "CLAUDE.md").symlink_to("AGENTS.md")
    assert [i.source for i in inventory(root) if i.kind == "prose"] == ["AGENTS.md"] * 3
    assert [i for i in inventory(root, skip=("AGENTS.md",)) if i.kind == "prose"] == []


def test_inventory_skips_ladders_own_hook_and_broken_yaml(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {
        ".pre-commit-config.yaml": "repos:\n  - repo: local\n    hooks:\n      - id: ladder-check\n"
        "        name: x\n        entry: ladder check --hook\n        language: system\n",
        ".github/workflows/bad.yml": "jobs: [unclosed\n",
        ".claude/settings.json": '{"hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": '
        '[{"type": "command", "command": "ladder guard claude || exit 2"}]}]}}',
        ".cursor/rules/ladder.mdc": "---\nalwaysApply: true\n---\n<!-- generated by `ladder` from "
        ".ladder/lessons; do not edit by hand -->\n\n- Never call eval.\n",
    })
    assert inventory(root) == []


NESTED = {
    "AGENTS.md": "# Root\n\n- Never edit `evaluate.py`.\n",
    "src/pkg/models/AGENTS.md": "- Use typed settings classes.\n",
    # Windows line endings in a nested file are read like any other.
    "docs/AGENTS.md": "# Docs\r\n\r\n- Write `Pydantic AI` in two words.\r\n",
    ".claude/skills/testing/SKILL.md": "---\nname: testing\ndescription: must not count\n---\n"
    "# Testing\n\n- Run the same tests without `--record-mode`.\n",
    ".github/instructions/py.instructions.md": "- Prefer pathlib.\n",
    # Not the project's own instructions: dependencies, environments, vendored code.
    "node_modules/lib/AGENTS.md": "- Always use tabs.\n",
    ".venv/lib/site/AGENTS.md": "- Always use tabs.\n",
    "vendor/thing/CLAUDE.md": "- Always use tabs.\n",
    # docs/agents.md is a documentation page about agents, not an agent file.
    "docs/agents.md": "- Always use tabs.\n",
}


def test_inventory_finds_nested_agent_files_and_skills(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", NESTED)
    (root / "src/pkg/models/CLAUDE.md").symlink_to("AGENTS.md")  # read once, as AGENTS.md
    (root / ".agents").mkdir()
    (root / ".agents/skills").symlink_to("../.claude/skills")  # a symlinked folder is not walked twice
    got = [(i.source, i.line, i.text, i.level, i.tool) for i in inventory(root) if i.kind == "prose"]
    assert got == [
        (".github/instructions/py.instructions.md", 1, "Prefer pathlib.", 2, "agents"),
        ("AGENTS.md", 3, "Never edit `evaluate.py`.", 2, "agents"),
        ("docs/AGENTS.md", 3, "Write `Pydantic AI` in two words.", 2, "agents"),
        (".claude/skills/testing/SKILL.md", 7, "Run the same tests without `--record-mode`.", 2, "skills"),
        ("src/pkg/models/AGENTS.md", 1, "Use typed settings classes.", 2, "agents"),
    ]


CHECK_CONFIGS = {
    "pyrightconfig.json": '{\n  // JSONC comments are allowed\n  "typeCheckingMode": "strict",\n  "reportPrivateUsage": "none"\n}\n',
    "mypy.ini": "[mypy]\nstrict = True\n",
    "setup.cfg": "[coverage:report]\nfail_under = 90\n",
    ".claude/settings.json": json.dumps({
        "permissions": {
            "allow": ["Bash(make:*)"],
            "deny": ["Bash(git push --force:*)", "Edit(src/evaluate.py)"],
            "ask": ["Bash(rm -rf:*)"],
        },
        "hooks": {
            "PostToolUse": [{"matcher": "Edit", "hooks": [{"type": "command", "command": "uv run ruff check"}]}],
            "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "ladder guard claude"}]}],
        },
    }, indent=2),
}


def test_inventory_finds_type_checkers_coverage_and_agent_permissions(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", CHECK_CONFIGS)
    got = {(i.source, i.text, i.level, i.runs) for i in inventory(root)}
    assert got == {
        ("mypy.ini", "mypy configuration", 3, ("mypy",)),
        ("pyrightconfig.json", "pyright configuration", 3, ("pyright",)),
        ("setup.cfg", "coverage configuration", 3, ("coverage",)),
        # Deny and ask rules block the agent; allow rules relax, so they are not constraints.
        (".claude/settings.json", "Claude Code denys Bash(git push --force:*)", 5,
         ("claude:deny bash(git push --force:*)",)),
        (".claude/settings.json", "Claude Code denys Edit(src/evaluate.py)", 5, ("claude:deny edit(src/evaluate.py)",)),
        (".claude/settings.json", "Claude Code asks Bash(rm -rf:*)", 5, ("claude:ask bash(rm -rf:*)",)),
        # A hook after the edit reports; ladder's own guard is the lessons, not counted here.
        (".claude/settings.json", "Claude Code PostToolUse hook: uv run ruff check", 4, ("ruff",)),
    }
    pyright = next(i for i in inventory(root) if i.tool == "pyright")
    assert (pyright.codes, pyright.off) == (("report",), ("reportPrivateUsage",))


# --- a repository that never used ladder ---------------------------------------------


def test_audit_without_ladder_reports_the_inventory(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", EXTERNAL)
    data = _json(root)
    assert data["initialized"] is False
    assert data["lessons"] == []
    # 4 prose rules (3 in AGENTS.md, 1 in CONTRIBUTING.md), one of them enforced by the
    # ruff hooks ("Run ruff before pushing", level 5), and one check no rule names
    # (pytest in CI; `pip install` is no check, the `ladder check` step is ladder itself).
    assert data["prose_share"] == 0.6
    assert data["structural_share"] == 0.4
    assert data["totals"]["by_level"] == {"1": 1, "2": 2, "3": 0, "4": 1, "5": 1}
    assert (data["totals"]["prose_rules"], data["totals"]["enforced_rules"], data["totals"]["checks"]) == (4, 1, 2)
    assert data["checks"] == [
        {"name": "ruff", "level": 5, "where": ".pre-commit-config.yaml:5"},
        {"name": "pytest", "level": 4, "where": ".github/workflows/ci.yml:10"},
    ]
    ruff = next(i for i in data["inventory"] if i["text"] == "Run ruff before pushing.")
    assert ruff["enforced_by"] == {
        "cited": "ruff", "tools": ["ruff"], "where": ".pre-commit-config.yaml:5", "how": "pre-commit hook ruff", "level": 5,
    }
    # The other three are gaps.
    assert sorted(g["text"] for g in data["gaps"]) == [
        "Keep functions small",
        "Never edit `evaluate.py`.",
        "You should open an issue first.",
    ]


def _generated_workflow(name: str, steps: int) -> str:
    """A workflow as gh-aw generates them: dozens of set-up steps, one check."""
    body = "".join(
        f"      - name: Step {n}\n        run: bash \"${{RUNNER_TEMP}}/gh-aw/actions/setup_{n}.sh\"\n"
        f"      - run: mkdir -p /tmp/gh-aw/{n} && echo ok\n"
        for n in range(steps)
    )
    return f"name: {name}\non: [pull_request]\njobs:\n  agent:\n    runs-on: ubuntu-latest\n    steps:\n{body}" \
        "      - run: uv run pytest -q\n"


@pytest.mark.parametrize("workflows", [1, 6])
def test_generated_workflows_count_each_check_once(tmp_path: Path, workflows: int) -> None:
    files = {"AGENTS.md": AGENTS, ".pre-commit-config.yaml": PRECOMMIT}
    files |= {f".github/workflows/agent-{n}.lock.yml": _generated_workflow(f"agent {n}", 50) for n in range(workflows)}
    data = _json(make_repo(tmp_path / "r", files))
    assert sum(1 for i in data["inventory"] if i["kind"] == "structural") == 2 + workflows  # 2 hooks, 1 step each
    assert [c["name"] for c in data["checks"]] == ["ruff", "pytest"]
    # 3 rules (1 enforced by ruff) and pytest: the same share however many workflows there are.
    assert data["prose_share"] == 0.5


def test_audit_markdown_has_the_gap_report(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", EXTERNAL)
    code, text = _audit(root, "markdown")
    assert code == 0
    gap = text[text.index("## Gap report"):]
    assert "| Never edit `evaluate.py`. | `AGENTS.md:3` | `ladder adopt`, then `ladder promote ID --max` |" in gap
    assert "Run ruff before pushing" not in gap
    assert "prose share 60.0%" in text
    enforced = text[text.index("## Prose rules a check enforces"):text.index("## Gap report")]
    assert ("| Run ruff before pushing. | `AGENTS.md:4` | `ruff` | pre-commit hook ruff "
            "(`.pre-commit-config.yaml:5`) | 5 |") in enforced


def test_audit_empty_repository(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r")
    data = _json(root)
    assert (data["prose_share"], data["structural_share"], data["totals"]["constraints"]) == (0.0, 0.0, 0)
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
    # ladder's AGENTS.md block, LESSONS.md and its pre-commit hook are not external:
    # 4 lessons (1 prose) + 4 prose rules outside .ladder/ (1 enforced by ruff) + pytest.
    assert data["prose_share"] == round(4 / 9, 4)
    assert data["structural_share"] == round(1 - 4 / 9, 4)
    assert data["totals"]["prose"] == 4
    assert data["totals"]["structural"] == 5
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
        pytest.param(0.4444, 0, id="equal-passes"),
        pytest.param(0.4, 1, id="over"),
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
    for text in ("prose share 44.4%", "check-broken", "failing-case", "Constraints outside .ladder/", "AGENTS.md:3"):
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
    assert data["prose_share"] == 0  # ladder's AGENTS.md block and LESSONS.md are not prose rules
    assert data["inventory"] == []
    assert data["broken"] == []
