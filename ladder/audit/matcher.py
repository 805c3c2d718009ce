"""Is a prose rule enforced? Only when it names something specific that a check runs.

Issue 13: matching any word of a rule against a CI script counted 49 of pydantic-ai's 67
rules as enforced, about 44 of them through words such as "the", "not" or "api". A rule
is enforced here only by one of these classes of evidence, each naming what it found:

- `tool`: the rule names a check (ruff, pyright, `make lint`, a hook id, a script such
  as `check_cassettes.py`) that a hook, CI step or configuration runs. Plain words
  (a hook called `lint`, the tool `black`) count only as code, in backticks. A test
  runner (pytest, `make tests`, `make coverage`) enforces that the tests pass, not that
  someone runs them to read the output, so a rule naming one must say pass or fail;
- `code`: the rule names a rule code the configuration turns on (`E501`,
  `reportUnusedImport`), where a rule code, ruff, noqa or lint is written beside it,
  and not inside a suppression comment (`# noqa: E501` is about silencing it);
- `coverage`: the rule states a coverage percentage ("covering 100% of code paths",
  "90% coverage") at or below a threshold that is enforced (`fail_under`, `--fail-under`);
- `test`: the rule names a test file (`tests/test_docs_parity.py`) that exists and that a
  test runner run by a hook or CI collects;
- `deny`: the rule forbids a command or path that a Claude Code deny or ask rule blocks.

Only the clauses that direct count for tools, codes and coverage: in "Run `pytest`
before committing; the hooks run ruff", ruff is named by a description of the hooks, not
by the rule. A test file is different: it counts only in a sentence with a verb saying it
checks or runs something, which is a claim about enforcement wherever it stands.

Polarity matters: "Avoid `make typecheck` between edits" (or "defer it until...", or
"narrower than `make typecheck`") names a check the hooks run, but running it does not
enforce avoiding it, so a name inside a negated clause is no evidence for a check that
runs it; for a deny rule it must be negated ("never X").

Known limit: a linter named in passing ("activate the venv so the hooks find `ruff`")
counts; `tests/data/audit_labels/` measures how often such readings go wrong.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from ladder.audit.classify import classify
from ladder.audit.commands import AMBIGUOUS, CHECKERS, TEST_RUNNERS
from ladder.audit.items import Evidence, InventoryItem

_CODE_SPAN = re.compile(r"`([^`]+)`")
_SENTENCES = re.compile(r"(?<=[.;!?])\s+(?=\S)")
_CLAUSE_BREAK = re.compile(r"[.;:!?(\n]|\s[\u2014\u2013]\s|\s--?\s")
_NEGATION = re.compile(
    r"\b(avoid|avoiding|never|don['\u2019]t|do not|does not|doesn['\u2019]t|no need to|not|without|"
    r"instead of|rather than|than|skip|skipping|stop|forbid|forbidden|disallow|defer|postpone|delay)\b",
    re.IGNORECASE,
)
_NOT_NEGATION = re.compile(r"\b(?:don['\u2019]t|do not|never)\s+forget\b", re.IGNORECASE)
_PASS_OR_FAIL = re.compile(r"\b(pass|passes|passing|green|fail|fails|failing|succeed|succeeds)\b", re.I)
_SUPPRESSION = re.compile(r"#\s*(?:noqa|type:\s*ignore|pyright:\s*ignore|ruff:\s*noqa|mypy:)[^`]*", re.I)
_RULE_CODE = re.compile(r"\b(report[A-Z]\w+|[A-Z]{1,4}\d{2,4})\b")
_CODE_CONTEXT = re.compile(r"\b(rule|rules|ruff|flake8|pylint|pyright|noqa|lint|linter|code)\b", re.I)
# The percentage is the coverage's: "covering 100% of", "coverage of 90%", "90% test coverage".
_PERCENT = re.compile(
    r"cover(?:s|ing|age)?\s+(?:of\s+|at\s+least\s+|above\s+|at\s+)?(\d{1,3})(?:\.\d+)?\s?%"
    r"|(\d{1,3})(?:\.\d+)?\s?%\s+(?:(?:test|code|line|branch|statement)\s+)?coverage",
    re.IGNORECASE,
)
_TEST_FILE = re.compile(
    r"(?<![\w/.-])((?:[\w.-]+/)*(?:test_[\w-]+\.py|[\w-]+_test\.py|[\w.-]+\.(?:test|spec)\.[cm]?[jt]sx?))\b"
)
_JS_RUNNERS = ("jest", "vitest", "mocha")
# A test file enforces a rule when the rule says it checks or runs something: "enforced
# by", "asserts", "fails when", "examples run in". A base form after "and", "to" or at the
# start of a clause is an instruction ("...and assert on it; see tests/test_x.py"), not a claim.
_CHECKS_VERB = re.compile(
    r"(?:(?P<before>[\w`)]+)\s+)?\b(?P<verb>enforc(?:ed|es)|asserts|fails|catches|checks|verifies|guards|probes|pins|"
    r"executes|runs|assert|fail|catch|check|verify|guard|probe|pin|execute|run)\b",
    re.I,
)
_NOT_A_SUBJECT = frozenset({"and", "or", "then", "to", "please", "also"})


def enforcement(text: str, enforcers: Sequence[InventoryItem], root: Path | None = None) -> Evidence | None:
    """The deepest evidence that a check enforces the rule `text`, or None."""
    found = [
        evidence
        for clause in _directives(text)
        for evidence in (*_tools(clause, enforcers), *_codes(clause, enforcers), *_coverage(clause, enforcers))
    ]
    # A test file said to check ("Docs examples execute in `tests/test_examples.py`: ...")
    # is a claim about a check wherever it stands in the rule: its sentence counts.
    found += _test_files(text, enforcers, root)
    # Deepest first; at one depth, the item that runs the check over its configuration.
    best = max(found, key=lambda pair: (pair[0].level, pair[1]), default=None)
    return best[0] if best else None


def _cuts(text: str, pattern: re.Pattern[str]) -> list[int]:
    """Where `pattern` splits `text`, outside inline code (`. .venv/bin/activate`)."""
    code = [m.span() for m in _CODE_SPAN.finditer(text)]
    return [m.start() for m in pattern.finditer(text) if not any(a <= m.start() < b for a, b in code)]


def _says_it_checks(clause: str) -> bool:
    for match in _CHECKS_VERB.finditer(_CODE_SPAN.sub("CODE", clause)):
        verb, before = match.group("verb").lower(), (match.group("before") or "").lower()
        if verb.endswith(("s", "ed")) or (before and before not in _NOT_A_SUBJECT):
            return True
    return False


def _sentence(text: str, position: int) -> str:
    """The sentence or `;` clause around `position`."""
    cuts = [0, *_cuts(text, _SENTENCES), len(text)]
    start = max(c for c in cuts if c <= position)
    return text[start : min(c for c in cuts if c > position)]


def _directives(text: str) -> list[str]:
    """The sentences and `;` clauses of a rule that are directives themselves."""
    cuts = _cuts(text, _SENTENCES)
    clauses = [text[a:b].strip() for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    return [c for c in clauses if c and (len(clauses) == 1 or classify(c).is_rule)]


def _evidence(cited: str, tools: Sequence[str], item: InventoryItem,
              enforcers: Sequence[InventoryItem]) -> tuple[Evidence, int]:
    """The evidence, and the cited item's own level (a hook outranks a config at equal depth)."""
    level = max([item.level, *(_tool_level(t, enforcers) for t in tools)])
    return Evidence(cited, tuple(tools), item.location, item.text, level), item.level


def _tool_level(tool: str, enforcers: Sequence[InventoryItem]) -> int:
    """The deepest level at which `tool` runs: ruff configured (3) and run by a hook (5) is 5."""
    return max((e.level for e in enforcers if tool in e.runs), default=0)


# --- tool: the rule names a check that runs ---------------------------------------------


def _tools(text: str, enforcers: Sequence[InventoryItem]) -> Iterator[tuple[Evidence, int]]:
    for item in enforcers:
        for name in sorted(item.cites, key=len, reverse=True):  # `make lint` before `lint`
            for start in occurrences(text, name):
                if _negated(text, start) != item.forbids:
                    continue
                tools = (name,) if name in item.runs else item.runs
                if _tests_only(tools) and not _says_pass(text):
                    continue
                yield _evidence(name, tools, item, enforcers)
                break


def specific(name: str) -> bool:
    """A name that cannot be an ordinary word: `make lint`, ruff, check_x.py, no-eval."""
    return bool(re.search(r"[\s\-_./:\d]", name)) or (name in CHECKERS and name not in AMBIGUOUS)


def occurrences(text: str, name: str) -> list[int]:
    """Where `text` names `name` as a whole word (`pytest.mark` and `ruff-format` do not
    name pytest or ruff); a plain word counts only inside backticks."""
    words = r"\s+".join(re.escape(w) for w in name.split())
    # Not `pytest.mark`, `ruff-format`, nor a comment directive (`# pyright: ignore`).
    pattern = re.compile(rf"(?<![\w./-])(?<!# ){words}(?![\w-]|\.\w)", re.IGNORECASE)
    if specific(name):
        return [m.start() for m in pattern.finditer(text)]
    return [span.start(1) + m.start() for span in _CODE_SPAN.finditer(text) for m in pattern.finditer(span.group(1))]


def _tests_only(tools: Sequence[str]) -> bool:
    """Test runners (and scripts), no linter: `make tests`, `make coverage`, pytest."""
    return any(t in TEST_RUNNERS for t in tools) and not any(t in CHECKERS and t not in TEST_RUNNERS for t in tools)


def _says_pass(text: str) -> bool:
    """The rule says the tests pass or fail, in its words (not inside a quoted command)."""
    return bool(_PASS_OR_FAIL.search(_CODE_SPAN.sub(" ", text)))


def _negated(text: str, start: int) -> bool:
    """Whether the clause before `start` negates what follows ("Avoid `make test`")."""
    before = [m.end() for m in _CLAUSE_BREAK.finditer(text, 0, start)]
    prefix = _NOT_NEGATION.sub(" ", text[before[-1] if before else 0 : start])
    return bool(_NEGATION.search(_CODE_SPAN.sub(" ", prefix)))


# --- code: a rule code the configuration turns on -------------------------------------------


def _codes(text: str, enforcers: Sequence[InventoryItem]) -> Iterator[tuple[Evidence, int]]:
    if not _CODE_CONTEXT.search(text) and "`" not in text:
        return
    text = _SUPPRESSION.sub(lambda m: " " * len(m.group(0)), text)
    for match in _RULE_CODE.finditer(text):
        code = match.group(1)
        if _negated(text, match.start()):
            continue
        for item in enforcers:
            if item.codes and enabled(code, item.codes, item.off):
                yield _evidence(code, item.runs, item, enforcers)


def enabled(code: str, on: Sequence[str], off: Sequence[str]) -> bool:
    """Ruff's rule: the most specific selector wins (`E` on, `E501` off: E501 is off)."""
    best_on = max((len(p) for p in on if code.startswith(p) and not p.startswith("coverage:")), default=-1)
    best_off = max((len(p) for p in off if code.startswith(p)), default=-1)
    return best_on >= 0 and best_on > best_off


# --- coverage: a stated percentage an enforced threshold covers ----------------------------


def _coverage(text: str, enforcers: Sequence[InventoryItem]) -> Iterator[tuple[Evidence, int]]:
    for match in _PERCENT.finditer(text):
        wanted = int(match.group(1) or match.group(2))
        for item in enforcers:
            for code in item.codes:
                if code.startswith("coverage:") and int(code[9:]) >= wanted and _tool_level("coverage", enforcers) > 3:
                    yield _evidence(f"{wanted}%", ("coverage",), item, enforcers)


# --- test: a named test file that a test runner collects ---------------------------------


def _test_files(text: str, enforcers: Sequence[InventoryItem], root: Path | None) -> Iterator[tuple[Evidence, int]]:
    for match in _TEST_FILE.finditer(text):
        path = match.group(1)
        if not _says_it_checks(_sentence(text, match.start())):
            continue  # named as a place ("add cases to tests/test_x.py"), not as a check
        if _negated(text, match.start()) or (root is not None and not (root / path).is_file()):
            continue
        wanted = _JS_RUNNERS if path.endswith(("js", "jsx", "ts", "tsx")) else ("pytest",)
        for item in enforcers:
            suite = not any(c.split(":", 1)[0] in wanted for c in item.cites if ":" in c)
            runner = [r for r in item.runs if r in wanted]
            if suite and runner and item.level > 3:
                yield _evidence(path, runner, item, enforcers)
                break
