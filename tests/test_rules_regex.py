"""The `regex` template and engine: line by line, level 3 only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ladder.errors import LadderError
from ladder.findings import Finding
from ladder.lesson import Lesson, Rule
from ladder.rules.base import CheckRequest
from ladder.rules.regex_engine import ENGINE
from ladder.rules.templates.regex import TEMPLATE


def lesson(paths: tuple[str, ...] = ("**",), lesson_id: str = "no-print", **args: Any) -> Lesson:
    return Lesson(id=lesson_id, title="No print", why="w", paths=paths, rule=Rule("regex", args))


def run(text: str, path: str = "a.py", **args: Any) -> list[Finding]:
    request = CheckRequest(Path("/nonexistent"), [path], contents={path: text})
    return ENGINE.run([lesson(**args)], request)


@pytest.mark.parametrize(
    ("text", "args", "where"),
    [
        pytest.param("print(x)\n", {"regex": r"print\("}, [(1, 1)], id="start-of-line"),
        pytest.param("x = 1\n    print(x)\n", {"regex": r"print\("}, [(2, 5)], id="column"),
        pytest.param("print(1); print(2)\nprint(3)\n", {"regex": r"print\("}, [(1, 1), (2, 1)], id="one-per-line"),
        pytest.param("# TODO later\n", {"regex": "todo", "flags": "i"}, [(1, 3)], id="ignore-case"),
        pytest.param("x = 1\r\nprint(x)\r\n", {"regex": r"print\(x\)$"}, [(2, 1)], id="crlf"),
    ],
)
def test_regex_fixes(text: str, args: dict[str, Any], where: list[tuple[int, int]]) -> None:
    found = run(text, **args)
    assert [(f.line, f.column) for f in found] == where
    assert all(f.rule == "regex" and f.lesson == "no-print" and f.message == "No print" for f in found)


@pytest.mark.parametrize(
    ("text", "args"),
    [
        pytest.param("log(x)\n", {"regex": r"print\("}, id="no-match"),
        pytest.param("# TODO later\n", {"regex": "todo"}, id="case-sensitive"),
        pytest.param("pri\nnt(x)\n", {"regex": r"pri\s*nt"}, id="never-across-lines"),
        pytest.param("", {"regex": "^$"}, id="empty-file"),
    ],
)
def test_regex_noop(text: str, args: dict[str, Any]) -> None:
    assert run(text, **args) == []


def test_files_on_disk_paths_binary_and_encoding(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src/a.py").write_text("print(1)\n", encoding="utf-8")
    (tmp_path / "docs.md").write_text("print(1)\n", encoding="utf-8")
    (tmp_path / "src/blob.py").write_bytes(b"print(1)\n\0\x01")
    (tmp_path / "src/latin.py").write_bytes(b"print('\xe9')\n")
    files = ["src/a.py", "docs.md", "src/blob.py", "src/latin.py", "src/deleted.py"]
    found = ENGINE.run(
        [lesson(paths=("src/**",), regex=r"print\(", message="use logging")],
        CheckRequest(tmp_path, files),
    )
    assert found == [Finding("regex", "no-print", "src/a.py", 1, 1, "use logging")]


def test_each_lesson_its_own_files() -> None:
    contents = {"a.py": "print(1)\nbreakpoint()\n", "b.txt": "breakpoint()\n"}
    lessons = [
        lesson(paths=("*.py",), lesson_id="no-print", regex=r"print\("),
        lesson(lesson_id="no-breakpoint", regex=r"breakpoint\(\)"),
    ]
    found = ENGINE.run(lessons, CheckRequest(Path("."), list(contents), contents=contents))
    assert [(f.lesson, f.path, f.line) for f in found] == [
        ("no-print", "a.py", 1),
        ("no-breakpoint", "a.py", 2),
        ("no-breakpoint", "b.txt", 1),
    ]


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        pytest.param({"regex": "print("}, "'regex' of template 'regex' is not a regular expression RE2 can run: missing )",
                     id="bad-regex"),
        # no linear-time guarantee, so not accepted: lookaround and backreferences
        pytest.param({"regex": "(?<=a)b"}, "RE2 can run", id="lookbehind"),
        pytest.param({"regex": "(a)\\1"}, "RE2 can run", id="backreference"),
        pytest.param({"regex": "x", "flags": "x"}, "unknown flag 'x'", id="verbose-flag"),
        pytest.param({}, "'regex' of template 'regex' is missing", id="missing"),
        pytest.param({"regex": "x", "flags": "iq"}, "unknown flag 'q'", id="bad-flag"),
        pytest.param({"regex": "x", "pattern": "y"}, "unknown rule argument 'pattern'", id="unknown-arg"),
    ],
)
def test_validate_refuses(args: dict[str, Any], problem: str) -> None:
    with pytest.raises(LadderError) as info:
        TEMPLATE.validate(args, ".ladder/lessons/x.toml")
    assert problem in info.value.what
    assert info.value.exit_code == 2
    assert info.value.where == ".ladder/lessons/x.toml"


def test_validate_keeps_spaces_in_the_regex() -> None:
    assert TEMPLATE.validate({"regex": " print ", "flags": "i"}, "x") == {"regex": " print ", "flags": "i"}


def test_not_structural() -> None:
    assert TEMPLATE.structural is False
    assert TEMPLATE.engine == ENGINE.name == "regex"


@pytest.mark.parametrize(
    ("regex", "block"),
    [
        pytest.param(r"print\(", "print(\n", id="escaped-literal"),
        pytest.param("import pdb", "import pdb\n", id="plain-literal"),
        pytest.param(r"print\s*\(", None, id="real-regex"),
    ],
)
def test_generated_cases(regex: str, block: str | None) -> None:
    blocks, allows = TEMPLATE.generated_cases({"regex": regex})
    assert [c.code for c in blocks] == ([block] if block else [])
    for case in allows:
        assert run(case.code, regex=regex) == []
    for case in blocks:
        assert run(case.code, regex=regex) != []


def test_a_catastrophic_regex_runs_in_linear_time(tmp_path: Path) -> None:
    """`^(a+)+$` backtracks exponentially in Python's `re` (minutes on one 34-character
    line); the engine answers at once, on a line 100 times longer."""
    import time

    from ladder.rules.regex_engine import search_lines
    from ladder.rules.templates.regex import compile_regex

    regex = compile_regex({"regex": "^(a+)+$"})
    start = time.perf_counter()
    hits = search_lines(regex, "a" * 3400 + "b\n" + "a" * 40 + "\n")
    assert hits == [(2, 1)]
    assert time.perf_counter() - start < 5  # generous: the backtracking engine needs hours
