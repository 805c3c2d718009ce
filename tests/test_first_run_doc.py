"""docs/first-run.md, followed command by command (issue 14, part 7).

A newcomer's project -- the small numpy regression of testing/numpy_repo.py, committed
in a fresh repository -- and then every `bash` block of the page run in order, and its
`toml` block appended to pyproject.toml, exactly as a reader would. Only the install
line is left out (ladder is installed here) and `<run>` is the run the page's `ladder
agent run` started. Each command must succeed, and each step must leave what the page
says it leaves.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from testing.fixtures import make_repo
from testing.numpy_repo import EVALUATE, TRAIN

pytestmark = pytest.mark.slow

PAGE = Path(__file__).resolve().parents[1] / "docs" / "first-run.md"
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks() -> list[tuple[str, str]]:
    """(language, text) of every fenced block of the page, in order."""
    return [(m.group(1), m.group(2)) for m in BLOCK.finditer(PAGE.read_text(encoding="utf-8"))]


def commands(text: str) -> list[str]:
    """The commands of a bash block, without comments and the install line."""
    out = []
    for line in text.splitlines():
        line = line.split("  #", 1)[0].strip()
        if line and not line.startswith(("#", "pip install")):
            out.append(line)
    return out


def test_the_page_has_what_the_reader_runs() -> None:
    langs = [lang for lang, _ in blocks()]
    assert langs.count("toml") == 1 and langs.count("bash") >= 6
    runs = [c for lang, text in blocks() if lang == "bash" for c in commands(text)]
    for step in ("ladder init", "ladder agent check", "ladder agent run", "ladder agent report",
                 "git merge ladder/<run>"):
        assert step in runs, step


def test_following_the_page_gives_a_useful_first_run(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "project", {"train.py": TRAIN, "evaluate.py": EVALUATE})
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    outputs: dict[str, list[str]] = {}
    run_id = ""
    for lang, text in blocks():
        if lang == "toml":
            with (root / "pyproject.toml").open("a", encoding="utf-8") as fh:
                fh.write(text)
            continue
        if lang != "bash":
            continue
        for command in commands(text):
            if "<run>" in command:
                assert run_id, f"{command!r} comes before the page's `ladder agent run`"
                command = command.replace("<run>", run_id)
            proc = subprocess.run(["bash", "-c", command], cwd=root, env=env,
                                  capture_output=True, text=True, timeout=600)
            assert proc.returncode == 0, f"{command}: exit {proc.returncode}\n{proc.stdout}{proc.stderr}"
            outputs.setdefault(command, []).append(proc.stdout + proc.stderr)
            if command == "ladder agent run" and not run_id:
                run_id = sorted(p.name for p in (root / ".ladder" / "runs").iterdir())[0]
    check = outputs["ladder agent check"][0]
    assert "ready: `ladder agent run`" in check and re.search(r"loss \d", check)
    first, second = outputs["ladder agent run"]
    assert f"take the result: `git merge ladder/{run_id}`" in first
    assert re.search(r"^iterations \d+: kept [1-9]", first, re.MULTILINE), first[-3000:]
    assert "learned, not committed: review and commit them" in first
    report = root / ".ladder" / "runs" / run_id / "report.html"
    assert report.is_file() and str(report) in outputs["ladder agent report"][0]
    # what the page says to do with the result, done: the run's keeps are merged, what it
    # learned is committed, and the second run started from both
    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)

    assert git("merge-base", "--is-ancestor", f"ladder/{run_id}", "HEAD").returncode == 0
    assert "what the first agent run learned" in git("log", "--format=%s").stdout
    assert re.search(r"evaluations saved by taught lessons \d+", second)
    # A third run, after committing what the second learned as its summary asks: every
    # crashing site has now failed twice, and its repeat is refused by git, unevaluated.
    assert git("add", ".ladder", "AGENTS.md", "LESSONS.md").returncode == 0
    git("commit", "-qm", "what the second run learned")
    third = subprocess.run(["ladder", "agent", "run"], cwd=root, env=env, capture_output=True,
                           text=True, timeout=600)
    assert third.returncode == 0, third.stdout + third.stderr
    assert re.search(r"^#\d+ +blocked .*refused by the hooks: learned-", third.stdout, re.MULTILINE)
    saved = re.search(r"evaluations saved by taught lessons (\d+)", third.stdout)
    assert saved and int(saved.group(1)) >= 1, third.stdout[-2000:]
