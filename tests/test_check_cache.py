"""The findings cache of whole-tree checks (ladder.rules.cache): a warm re-run that
changed nothing parses nothing, and anything that decides a finding invalidates it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ladder.lesson import Lesson, Rule
from ladder.project import Project
from ladder.rules import ast_walk, libcst_engine
from ladder.rules.base import CheckRequest
from ladder.rules.cache import FindingsCache, location
from ladder.rules.runner import check
from ladder.store import save_lesson
from testing.cli import ladder
from testing.fixtures import write

EVAL = Rule("forbid-call", {"name": "eval"})


def lesson(rule: Rule = EVAL, lesson_id: str = "no-eval", level: int = 4) -> Lesson:
    return Lesson(lesson_id, "no eval", "why", level=level, paths=("**/*.py",), rule=rule)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = ast_walk.parse

    def counting(source: str) -> Any:
        seen.append(source)
        return real(source)

    monkeypatch.setattr(ast_walk, "parse", counting)
    return seen


def tree(root: Path, n: int = 6) -> list[str]:
    names = []
    for i in range(n):
        names.append(write(root, f"pkg/m{i}.py", f"x = eval(y{i})\n" if i == 0 else
                           f"def evaluate{i}():\n    return {i}\n").relative_to(root).as_posix())
    return names


def run(root: Path, files: list[str], lessons: list[Lesson], cache: Path | None) -> list[Any]:
    found = check(CheckRequest(root, files, cache=cache), lessons)
    return [(f.path, f.line, f.lesson, f.message) for f in found]


def test_a_warm_run_parses_nothing_and_finds_the_same(tmp_path: Path, parses: list[str]) -> None:
    files, cache = tree(tmp_path), tmp_path / "cache.json"
    cold = run(tmp_path, files, [lesson()], cache)
    assert len(parses) == 6 and cold == [("pkg/m0.py", 1, "no-eval", "call to eval() is forbidden")]
    parses.clear()
    assert run(tmp_path, files, [lesson()], cache) == cold
    assert parses == []


@pytest.mark.parametrize("change", ["content", "args", "lesson id", "a second rule"])
def test_what_decides_a_finding_invalidates_it(tmp_path: Path, parses: list[str], change: str) -> None:
    files, cache = tree(tmp_path), tmp_path / "cache.json"
    run(tmp_path, files, [lesson()], cache)
    parses.clear()
    lessons = [lesson()]
    if change == "content":
        write(tmp_path, "pkg/m3.py", "eval(z)\n")
    elif change == "args":
        lessons = [lesson(Rule("forbid-call", {"name": "eval", "message": "no"}))]
    elif change == "lesson id":
        lessons = [lesson(lesson_id="other")]
    else:
        lessons = [lesson(), lesson(Rule("bound", {"expr": "x <= 1"}), "bound-x")]
    found = run(tmp_path, files, lessons, cache)
    expected = {"content": 1, "args": 6, "lesson id": 6, "a second rule": 6}[change]
    assert len(parses) == expected
    if change == "content":
        assert [f[0] for f in found] == ["pkg/m0.py", "pkg/m3.py"]


def test_no_cache_without_a_place_for_it_or_for_the_agent(tmp_path: Path, parses: list[str]) -> None:
    files, cache = tree(tmp_path), tmp_path / "cache.json"
    run(tmp_path, files, [lesson()], None)
    check(CheckRequest(tmp_path, files, cache=cache, agent=True), [lesson()])
    assert not cache.exists() and len(parses) == 12


def test_a_damaged_cache_is_ignored_and_replaced(tmp_path: Path, parses: list[str]) -> None:
    files, cache = tree(tmp_path), tmp_path / "cache.json"
    cache.write_text("{not json", encoding="utf-8")
    cold = run(tmp_path, files, [lesson()], cache)
    assert len(cold) == 1 and json.loads(cache.read_text())["version"] == 1
    entries = FindingsCache.load(cache).entries
    entries["libcst:pkg/m0.py"][2] = [{"bogus": 1}]  # a finding that does not load: a miss
    cache.write_text(json.dumps({"version": 1, "entries": entries}), encoding="utf-8")
    parses.clear()
    assert run(tmp_path, files, [lesson()], cache) == cold and len(parses) == 1


def test_a_custom_check_is_never_cached(tmp_path: Path) -> None:
    write(tmp_path, "checks/no_print.py", (
        "from ladder.rules.custom import LadderCheck\n\n"
        "class NoPrint(LadderCheck):\n"
        "    def visit_Call(self, node):\n"
        "        if getattr(node.func, 'value', None) == 'print':\n"
        "            self.report(node, 'no print')\n"))
    files, cache = tree(tmp_path), tmp_path / "cache.json"
    custom = lesson(Rule("custom", {"check": "checks.no_print:NoPrint"}), "no-print")
    run(tmp_path, files, [custom], cache)
    assert not cache.exists()
    assert libcst_engine.USE_AST  # the cacheable rules are those with an `ast` check


def test_ladder_check_keeps_its_cache_in_the_git_directory(repo: Path) -> None:
    project = Project(repo)
    project.lessons_dir.mkdir(parents=True)
    save_lesson(project, lesson())
    write(repo, "a.py", "eval(x)\n")
    first = ladder(repo, "check", "--ci")
    assert first.returncode == 1 and "a.py:1:1" in first.stdout
    cache = location(repo / ".git")
    assert cache.exists()
    again = ladder(repo, "check", "--ci")
    assert (again.returncode, again.stdout) == (first.returncode, first.stdout)
    write(repo, "a.py", "x = 1\n")  # fixed: the cache must not say otherwise
    assert ladder(repo, "check", "--ci").returncode == 0
    before = cache.read_bytes()
    assert ladder(repo, "check", "--hook", "a.py").returncode == 0
    assert cache.read_bytes() == before  # the hook neither reads nor writes it


def many(root: Path, n: int = 200) -> list[str]:
    return [write(root, f"pkg/sub{i % 7}/m{i}.py", f"def evaluate():\n    return eval('{i}')\n"
                  if i % 3 == 0 else f"evaluate = {i}\n").relative_to(root).as_posix()
            for i in range(n)]


def test_a_parallel_scan_finds_what_one_process_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = many(tmp_path)
    forks: list[str] = []
    real = libcst_engine.mp.get_context
    monkeypatch.setattr(libcst_engine.mp, "get_context", lambda m: forks.append(m) or real(m))
    ticks: list[tuple[int, int]] = []
    lessons = [lesson(), lesson(Rule("bound", {"expr": "evaluate <= 100"}), "bound")]
    serial = check(CheckRequest(tmp_path, files), lessons)
    parallel = check(CheckRequest(tmp_path, files, jobs=2, progress=lambda d, t: ticks.append((d, t))),
                     lessons)
    assert forks == ["fork"]  # the serial run did not fork, the parallel one did
    assert parallel == serial and len(serial) == 67 + 66
    assert ticks[-1] == (200, 200) and [d for d, _ in ticks] == sorted(d for d, _ in ticks)


def test_a_rule_crash_in_a_parallel_scan_is_the_same_clear_error(tmp_path: Path) -> None:
    from ladder.errors import RuleCrash

    files = many(tmp_path)
    write(tmp_path, "checks/boom.py", (
        "from ladder.rules.custom import LadderCheck\n\n"
        "class Boom(LadderCheck):\n"
        "    def visit_Call(self, node):\n"
        "        raise ValueError('boom')\n"))
    boom = lesson(Rule("custom", {"check": "checks.boom:Boom"}), "boom")
    with pytest.raises(RuleCrash) as serial:
        check(CheckRequest(tmp_path, files), [boom])
    with pytest.raises(RuleCrash) as parallel:
        check(CheckRequest(tmp_path, files, jobs=2), [boom])
    assert parallel.value.line() == serial.value.line() and "boom" in parallel.value.line()


# --- semgrep ------------------------------------------------------------------------

SLOW_PATTERN = "$X = g($A)\n...\n$Y = g($A)\n...\n$Z = g($A)\n...\n$W = g($A)"  # see test_semgrep_timeout


def test_semgrep_runs_only_on_what_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ladder.findings import Unfinished
    from ladder.rules import semgrep_engine

    calls: list[list[str]] = []
    real = semgrep_engine.run_semgrep

    def counting(rules: Any, targets: list[str], *args: Any, **kw: Any) -> Any:
        calls.append(sorted(targets))
        return real(rules, targets, *args, **kw)

    monkeypatch.setattr(semgrep_engine, "run_semgrep", counting)
    files = [write(tmp_path, f"m{i}.py", "eval(x)\n" if i == 0 else f"y = {i}\n").name for i in range(4)]
    files.append(write(tmp_path, "slow.py", "def f():\n" + "    x = g(a)\n" * 200).name)
    lessons = [Lesson("no-eval", "t", "w", level=4, rule=Rule("pattern", {"pattern": "eval(...)"})),
               Lesson("slow", "t", "w", level=4, rule=Rule("pattern", {"pattern": SLOW_PATTERN}))]
    cache = tmp_path / "cache.json"

    def run_once() -> tuple[list[tuple[str, int]], list[Unfinished]]:
        request = CheckRequest(tmp_path, files, cache=cache, semgrep_timeout=1)
        found = check(request, lessons)
        return [(f.path, f.line) for f in found], list(request.unfinished)

    cold, unfinished = run_once()
    assert cold == [("m0.py", 1)] and [u.path for u in unfinished] == ["slow.py"]
    warm, unfinished = run_once()
    assert warm == cold and [u.path for u in unfinished] == ["slow.py"]  # unknown is not cached
    assert calls[1] == ["slow.py"]
    write(tmp_path, "m2.py", "eval(z)\n")
    changed, _ = run_once()
    assert changed == [("m0.py", 1), ("m2.py", 1)] and calls[2] == ["m2.py", "slow.py"]
