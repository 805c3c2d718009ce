"""Which checks a shell command runs: the vocabulary of the audit's enforcement side.

A CI step or a hook is a constraint only when it runs a check. `uv sync`, `echo` and
the fifty set-up steps of a generated workflow enforce nothing, so they must count for
nothing (issue 13: 650 `run:` steps of pydantic-ai's generated workflows each counted as
a constraint). A command is a check when it runs a known checking tool (`CHECKERS`), or a
script or task whose name says it checks (`check_cassettes.py`, `make lint`).

`make X` is followed into the Makefile, so `entry: make lint` in a pre-commit hook is
known to run ruff, and a prose rule naming either is shown to be enforced.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

# Tools whose whole job is to check (lint, type-check, format, test, scan). A prose rule
# naming one of these, where a hook or CI step runs it, is enforced by it.
CHECKERS = frozenset({
    "ruff", "flake8", "pylint", "mypy", "pyright", "basedpyright", "pytype", "pyre", "ty",
    "pyrefly", "black", "isort", "yapf", "autopep8", "pydocstyle", "pyupgrade", "docformatter",
    "bandit", "safety", "pip-audit", "codespell", "typos", "vulture", "deptry", "interrogate",
    "pytest", "tox", "nox", "coverage", "strict-no-cover", "semgrep", "twine",
    "check-manifest", "eslint", "prettier", "tsc", "biome", "oxlint", "stylelint", "jest",
    "vitest", "mocha", "shellcheck", "shfmt", "hadolint", "actionlint", "zizmor", "yamllint",
    "markdownlint", "markdownlint-cli2", "mdformat", "lychee", "taplo", "clippy", "rustfmt",
    "gofmt", "golangci-lint", "staticcheck", "gitleaks", "detect-secrets", "cspell", "vale",
    "sqlfluff", "commitlint",
})
# Checkers that are also English words: prose cites them only as code (`black`), never
# as a word ("a black box", "test coverage", "prettier output").
AMBIGUOUS = frozenset({"black", "safety", "typos", "coverage", "prettier", "ty", "vale", "tox", "nox", "biome"})
# Test runners enforce "the tests pass", not every sentence that names them: a rule
# citing one must say run or pass (checked by the matcher).
TEST_RUNNERS = frozenset({"pytest", "tox", "nox", "jest", "vitest", "mocha", "coverage"})

# Script or task names that say they check: check_cassettes.py, make lint, npm run test.
_CHECK_STEM = re.compile(r"check|lint|test|verify|validat|guard|typecheck|format|fmt|audit|spell|cover", re.I)
_RUNNERS = {"uv", "uvx", "poetry", "pipenv", "pdm", "hatch", "rye", "pipx"}  # `uv run X` runs X
_PREFIXES = {"npx", "bunx", "pnpx", "exec", "time", "command", "nohup", "sudo", "env"}
_TASKS = {"make", "just", "npm", "yarn", "pnpm", "bun", "tox", "nox", "cargo", "go", "task"}
_INTERPRETERS = {"python", "python3", "bash", "sh", "zsh", "node", "ruby", "perl", "deno"}
_CARGO = {"clippy": "clippy", "fmt": "rustfmt", "test": "cargo test"}
# Shell keywords and builtins: `if ! ruff check; then` runs ruff, `test -n "$X"` checks nothing.
_KEYWORDS = {"if", "then", "else", "elif", "do", "while", "until", "!", "{", "}"}
_BUILTINS = {"test", "[", "[[", "trap", "set", "wait", "kill", "echo", "exit", "true", "false", "cd",
             "export", "source", ".", "printf", "unset", "local", "return", "shift", "fi", "done", "esac"}
# Checkers that only check with a given subcommand: `twine upload` enforces nothing.
# (`pre-commit run` in CI is not a check of its own: it re-runs the hooks, counted once each.)
_SUBCOMMAND = {"twine": {"check"}}
_SCRIPT = re.compile(r"^[\w.-]+\.(?:py|sh|bash|js|cjs|mjs|ts|rb|pl)$")
_FILE_ARG = re.compile(r"^[\w./-]+\.(?:py|js|jsx|ts|tsx)(?:::\w+)?$")
_TEMPLATE = re.compile(r"\$\{\{.*?\}\}")  # GitHub expressions: ${{ matrix.x }}
_FAIL_UNDER = re.compile(r"--(?:cov-)?fail-under[= ](\d{1,3})")


def strip_make_functions(text: str) -> str:
    """`$(MAKE)` becomes `make`; every other `$(...)` / `${...}` expansion is dropped
    (balanced), so `uv run $(if $(X),--python $(X)) pytest` reads `uv run pytest`."""
    text = text.replace("$(MAKE)", "make").replace("${MAKE}", "make").replace("$$", "$")
    out: list[str] = []
    depth = 0
    for i, char in enumerate(text):
        if char == "$" and text[i + 1 : i + 2] in ("(", "{"):
            continue
        if char in "({" and (depth or text[i - 1 : i] == "$"):
            depth += 1
        elif char in ")}" and depth:
            depth -= 1
        elif not depth:
            out.append(char)
    return "".join(out)


def command_lines(script: str) -> list[list[str]]:
    """The words of each simple command of a script (`&&`, `&`, `;`, `|`, newlines split)."""
    script = strip_make_functions(_TEMPLATE.sub(" ", script)).replace("\\\n", " ")
    lines: list[list[str]] = []
    for raw in re.split(r"&&|\|\||[;|&\n]", script):
        words = [w.strip("'\"()") for w in raw.split()]
        words = [w.lstrip("@-") if i == 0 else w for i, w in enumerate(words) if w]
        if words:
            lines.append(words)
    return lines


def invoked(words: list[str]) -> list[str]:
    """The names one simple command runs: `uv run python -m pytest` -> [pytest];
    `coverage run -m pytest` -> [coverage, pytest]; `make lint` -> [make lint]."""
    words = [w for w in words if "=" not in w or w.startswith("-")]  # FOO=1 cmd
    while words and words[0] in _KEYWORDS:
        words = words[1:]
    while words and (words[0] in _PREFIXES or words[0] in _RUNNERS):
        words = words[2:] if words[0] in _RUNNERS and words[1:2] == ["run"] else words[1:]
        while words and words[0].startswith("-"):
            words = words[1:]  # `uv run --no-sync pytest`
    if not words:
        return []
    tool = words[0].rsplit("/", 1)[-1]
    if tool in _BUILTINS or (tool in _SUBCOMMAND and words[1:2] and words[1] not in _SUBCOMMAND[tool]):
        return []
    if tool in _INTERPRETERS:
        return _interpreted(words[1:])
    if tool == "coverage" and words[1:2] == ["run"]:
        return ["coverage", *_interpreted(words[2:])]
    if tool == "cargo" and len(words) > 1 and words[1] in _CARGO:
        return [_CARGO[words[1]]]
    if tool in _TASKS and len(words) > 1 and not words[1].startswith("-"):
        task = words[2] if words[1] == "run" and len(words) > 2 else words[1]
        return [f"{tool} {task}"]
    files = [w for w in words[1:] if _FILE_ARG.match(w)]
    if tool in TEST_RUNNERS and files:
        # `pytest clai/update_readme.py` checks that file, not the test suite: a rule
        # naming another test file is not enforced by it.
        return [f"{tool}:{f}" for f in files]
    return [tool]


def _interpreted(args: list[str]) -> list[str]:
    """`python -m pytest` -> pytest; `bash scripts/check.sh` -> check.sh."""
    for i, arg in enumerate(args):
        if arg == "-m" and i + 1 < len(args):
            return [args[i + 1]]
        if arg in ("-c", "-e"):
            return []  # inline code: nothing nameable
        if not arg.startswith("-"):
            return [arg.rsplit("/", 1)[-1]]
    return []


def is_check(name: str) -> bool:
    """A known checker (`pytest:f.py` is pytest on one file), a script whose name says it
    checks (`check_cassettes.py`), or such a task (`make lint`). A bare word from the
    middle of a script (a heredoc, a `case` pattern) is none of these."""
    tool = name.split(":", 1)[0]
    if tool in CHECKERS:
        return True
    if " " in name:  # a task: make lint, npm run test
        return bool(_CHECK_STEM.search(name.split()[-1]))
    return bool(_SCRIPT.match(name) and _CHECK_STEM.search(name))


def fail_under(script: str) -> tuple[str, ...]:
    """`coverage report --fail-under=85` -> ("coverage:85",): a threshold it enforces."""
    return tuple(f"coverage:{n}" for n in _FAIL_UNDER.findall(script))


# --- Makefiles ------------------------------------------------------------------------

_TARGET = re.compile(r"^([A-Za-z0-9_.%/-]+(?:\s+[A-Za-z0-9_.%/-]+)*)\s*::?(?![=])\s*(.*)$")


def makefile(root: Path) -> dict[str, tuple[list[str], list[str]]]:
    """target -> (prerequisites, recipe lines) of the repository's Makefile, or {}."""
    for name in ("GNUmakefile", "makefile", "Makefile"):
        path = root / name
        if path.is_file():
            return parse_makefile(path.read_text(encoding="utf-8", errors="replace"))
    return {}


def parse_makefile(text: str) -> dict[str, tuple[list[str], list[str]]]:
    targets: dict[str, tuple[list[str], list[str]]] = {}
    current: list[str] = []
    for line in text.replace("\\\n", " ").splitlines():
        if line.startswith("\t"):
            for name in current:
                targets[name][1].append(line.strip())
            continue
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _TARGET.match(line)
        if not match:
            current = []  # a variable assignment or directive ends the recipe
            continue
        prereqs = [p for p in match.group(2).split("#", 1)[0].split() if p != "|"]
        current = [t for t in match.group(1).split() if not t.startswith(".")]
        for name in current:
            targets.setdefault(name, ([], []))[0].extend(prereqs)
    return targets


def resolve(names: Iterable[str], targets: Mapping[str, tuple[list[str], list[str]]]) -> tuple[str, ...]:
    """The checks behind each name: `make lint` -> the checks its recipe (and its
    prerequisites') run, recursively; a task the Makefile lacks stays as named."""
    out: dict[str, None] = {}
    for name in names:
        for check in _resolve(name, targets, set()):
            out.setdefault(check, None)
    return tuple(out)


def _resolve(name: str, targets: Mapping[str, tuple[list[str], list[str]]], seen: set[str]) -> list[str]:
    if not name.startswith("make ") or name[5:] not in targets:
        return [name] if is_check(name) else []
    target = name[5:]
    if target in seen:
        return []
    seen.add(target)
    prereqs, recipe = targets[target]
    found: list[str] = []
    for child in [f"make {p}" for p in prereqs] + [n for line in recipe for w in command_lines(line) for n in invoked(w)]:
        found += _resolve(child, targets, seen)
    return found


def checks(script: str, targets: Mapping[str, tuple[list[str], list[str]]]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(checks run, names a prose rule may cite) of a script: `make lint` runs ruff, and
    both "make lint" and "ruff" name it. `pytest a/test_x.py` runs pytest on one file:
    it counts as pytest, is cited by that file's path, and says "pytest:a/test_x.py" so
    the matcher knows it does not collect the whole suite."""
    named = [n for words in command_lines(script) for n in invoked(words)]
    resolved = resolve(named, targets)
    runs = [n.split(":", 1)[0] if file_run(n) else n for n in resolved]
    files = [n.split(":", 1)[1].split("::", 1)[0] for n in resolved if file_run(n)]
    cited = [n for n in named if resolve([n], targets) and not file_run(n)]
    return _distinct(runs), _distinct([*cited, *runs, *files, *(n for n in resolved if file_run(n))])


def file_run(name: str) -> bool:
    """`pytest:tests/test_x.py`: a test runner given one file, not the suite."""
    return name.split(":", 1)[0] in TEST_RUNNERS and ":" in name


def _distinct(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n.lower() for n in names if n))
