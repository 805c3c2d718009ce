"""Which prose rules a check is shown to enforce (`ladder.audit.matcher`), on a realistic
repository: pre-commit hooks that run `make` targets, a Makefile, a CI workflow, linter
and coverage configuration, Claude Code deny rules, a test file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ladder.audit.items import InventoryItem
from ladder.audit.matcher import enforcement
from ladder.audit.structural import structural_items
from testing.fixtures import write

PRECOMMIT = """\
repos:
  - repo: https://github.com/pre-commit/pre-commit-hooks
    rev: v4.3.0
    hooks:
      - id: no-commit-to-branch
  - repo: local
    hooks:
      - id: lint
        name: Lint
        entry: make
        args: [lint]
        language: system
        pass_filenames: false
      - id: typecheck
        name: Typecheck
        entry: make typecheck
        language: system
        pass_filenames: false
      - id: no-rst-syntax
        name: No RST syntax
        language: pygrep
        entry: '``'
"""

MAKEFILE = """\
.PHONY: lint
lint: ## Lint the code
\tuv run ruff format --check
\tuv run ruff check

typecheck-pyright:
\tuv run pyright

typecheck: typecheck-pyright

test:
\tuv run pytest -n auto
"""

WORKFLOW = """\
name: CI
on: [pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: uv sync --frozen
      - run: make test
      - name: Coverage
        run: uv run coverage report --fail-under=90
"""

FILES = {
    ".pre-commit-config.yaml": PRECOMMIT,
    "Makefile": MAKEFILE,
    ".github/workflows/ci.yml": WORKFLOW,
    "pyproject.toml": "[tool.ruff.lint]\nselect = ['E', 'F', 'I']\nignore = ['E501']\n\n"
    "[tool.pyright]\ntypeCheckingMode = 'strict'\nreportPrivateUsage = false\n",
    ".claude/settings.json": json.dumps({"permissions": {"deny": ["Bash(git push --force:*)", "Edit(src/evaluate.py)"]}}),
    "tests/test_parity.py": "def test_parity():\n    pass\n",
}


@pytest.fixture(scope="module")
def checks(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[InventoryItem]]:
    root = tmp_path_factory.mktemp("repo")
    for name, text in FILES.items():
        write(root, name, text)
    return root, structural_items(root)


@pytest.mark.parametrize(
    "rule",
    [
        pytest.param("Keep the API backward compatible.", id="names-no-check"),
        pytest.param("Keep the lint output clean and the format tidy.", id="a-hook-id-as-a-plain-word"),
        pytest.param("Avoid `make typecheck` between edits: the hooks run it.", id="negated-avoid"),
        pytest.param("Defer `make lint` until the review is done.", id="negated-defer"),
        pytest.param("Use a local check narrower than `make typecheck`.", id="compared-not-required"),
        pytest.param("Use `@pytest.mark.slow` on slow tests.", id="pytest-dot-mark-is-not-pytest"),
        pytest.param("Run `make test` to see the durations.", id="test-runner-without-pass-or-fail"),
        pytest.param("Lines may be long: `E501` is off.", id="rule-code-turned-off"),
        pytest.param("Put `# pyright: ignore[reportPrivateUsage]` on each call.", id="code-in-a-suppression-comment"),
        pytest.param("Keep coverage above 95%.", id="coverage-above-the-threshold"),
        pytest.param("Run `git push --force` after a rebase.", id="a-denied-command-required-not-forbidden"),
        pytest.param("Put parity tests in `tests/test_missing.py`, which checks both pages.", id="test-file-absent"),
        pytest.param("Add cases to `tests/test_parity.py`.", id="test-file-named-as-a-place"),
    ],
)
def test_not_enforced(checks: tuple[Path, list[InventoryItem]], rule: str) -> None:
    root, items = checks
    assert enforcement(rule, items, root) is None


@pytest.mark.parametrize(
    ("rule", "cited", "tools", "level"),
    [
        pytest.param("Run `make lint` before pushing.", "make lint", ("ruff",), 5, id="make-target-in-a-hook"),
        pytest.param("Type hints must pass pyright.", "pyright", ("pyright",), 5, id="tool-behind-a-make-hook"),
        pytest.param("Imports are managed by Ruff and stay sorted.", "ruff", ("ruff",), 5, id="tool-name"),
        pytest.param("Never use RST syntax (`no-rst-syntax`).", "no-rst-syntax", ("no-rst-syntax",), 5, id="hook-id"),
        pytest.param("Keep imports sorted (rule `I001`).", "I001", ("ruff",), 5, id="rule-code-turned-on"),
        pytest.param("Don't add `reportPrivateUsage` exceptions; fix `reportUnusedImport` instead.",
                     "reportUnusedImport", ("pyright",), 5, id="pyright-rule"),
        pytest.param("Have tests covering 90% of code paths.", "90%", ("coverage",), 4, id="coverage-threshold"),
        pytest.param("`make test` must pass before merging.", "make test", ("pytest",), 4, id="tests-must-pass"),
        pytest.param("Never run `git push --force`.", "git push --force", ("claude:deny bash(git push --force:*)",), 5,
                     id="denied-command"),
        pytest.param("Never edit `evaluate.py` by hand.", "evaluate.py", ("claude:deny edit(src/evaluate.py)",), 5,
                     id="denied-path"),
        pytest.param("Mirror both pages (enforced by `tests/test_parity.py`).", "tests/test_parity.py", ("pytest",), 4,
                     id="test-file-that-enforces"),
    ],
)
def test_enforced(checks: tuple[Path, list[InventoryItem]], rule: str, cited: str, tools: tuple[str, ...],
                  level: int) -> None:
    root, items = checks
    evidence = enforcement(rule, items, root)
    assert evidence is not None
    assert (evidence.cited.lower(), evidence.tools, evidence.level) == (cited.lower(), tools, level)


def test_evidence_names_the_hook_that_runs_it(checks: tuple[Path, list[InventoryItem]]) -> None:
    root, items = checks
    evidence = enforcement("Run `make lint` before pushing.", items, root)
    assert str(evidence) == "`make lint`: pre-commit hook lint runs ruff (.pre-commit-config.yaml:8)"
