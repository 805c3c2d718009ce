"""What `ladder agent run` prints when its output is not a terminal (a pipe, CI, a log),
through the real CLI (issue 14): why each candidate was refused or crashed, progress as
plain lines, a summary that counts by verdict and says how to take the result and
what to review and commit -- and not one control character; `--quiet` keeps only the
summary."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from testing.agent_repo import PROTECT_ID, agent_table, make_agent_repo, run_dirs
from testing.cli import ladder
from testing.fixtures import git

pytestmark = pytest.mark.slow

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # anything but tab and newline


def _blocking_repo(tmp_path: Path) -> Path:
    """A command proposer that first moves X to its optimum (a keep), then edits the
    evaluator, which a level-5 lesson protects (refused by the hooks)."""
    script = tmp_path / "propose.py"
    script.write_text(
        "from pathlib import Path\n"
        "prog = Path('prog.py')\n"
        "if 'X = 3.0' in prog.read_text():\n"
        "    prog.write_text('X = 1.0\\nY = 2.0\\n')\n"
        "else:\n"
        "    Path('evaluate.py').write_text(Path('evaluate.py').read_text() + '# better\\n')\n",
        encoding="utf-8")
    cmd = f"{sys.executable} {script} {{prompt_file}}"
    proposer = "{" + f'kind = "command", cmd = {json.dumps(cmd)}' + "}"
    config = agent_table(editable=("prog.py", "evaluate.py"), iterations=3, proposer=proposer,
                         extra="learn = false\n")
    return make_agent_repo(tmp_path / "repo", config=config)


def _crashing_repo(tmp_path: Path, iterations: int) -> Path:
    """A command proposer whose every change makes the program raise on import."""
    script = tmp_path / "crash.py"
    script.write_text("from pathlib import Path\n"
                      "Path('prog.py').write_text('X = 1 / 0\\nY = 2.0\\n')\n", encoding="utf-8")
    cmd = f"{sys.executable} {script} {{prompt_file}}"
    proposer = "{" + f'kind = "command", cmd = {json.dumps(cmd)}' + "}"
    return make_agent_repo(tmp_path / "repo", config=agent_table(iterations=iterations,
                                                                  proposer=proposer))


def test_a_refusal_says_the_lesson_and_the_summary_says_how_to_take_the_result(
        tmp_path: Path) -> None:
    root = _blocking_repo(tmp_path)
    proc = ladder(root, "agent", "run")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert not CONTROL.search(out + proc.stderr)
    blocked = [line for line in out.splitlines() if re.match(r"#\d+ +blocked", line)]
    assert len(blocked) == 2 and all(f"refused by the hooks: {PROTECT_ID}: evaluate.py is protected" in line
                           for line in blocked)
    assert "see output" not in out
    # progress as plain lines: the baseline and its calibration are not silent
    assert re.search(r"^progress: baseline [0-9a-f]{8}: evaluating", out, re.MULTILINE)
    assert re.search(r"^progress: calibration", out, re.MULTILINE)
    # the per-line value is the paired difference from the parent, labelled
    assert re.search(r"^#\d+ +keep .* loss -[\d.]+ vs parent on \d paired seeds?$", out, re.MULTILINE)
    # the summary counts by verdict, refusals by lesson
    assert re.search(rf"^iterations 3: kept 1, discarded 0, blocked before evaluation 2 "
                     rf"\(lesson {PROTECT_ID} 2\), crashed 0; evaluated 1$", out, re.MULTILINE)
    [run] = [p.name for p in run_dirs(root)]
    explained = ladder(root, "agent", "explain", run, "2")
    assert "the hooks said:" in explained.stdout and "protect-evaluator" in explained.stdout
    take = f"take the result: `git merge ladder/{run}`"
    assert take in out
    merged = git(root, "merge", "-q", f"ladder/{run}")  # it does what it says
    assert merged.returncode == 0, merged.stderr
    assert (root / "prog.py").read_text(encoding="utf-8") == "X = 1.0\nY = 2.0\n"


def test_a_crash_shows_its_traceback_and_what_was_learned_is_named(tmp_path: Path) -> None:
    root = _crashing_repo(tmp_path, iterations=2)
    proc = ladder(root, "agent", "run")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert not CONTROL.search(out + proc.stderr)
    lines = out.splitlines()
    crash = next(i for i, line in enumerate(lines) if re.match(r"#1 +crash", line))
    assert "exit code 1" in lines[crash]
    assert lines[crash + 3].endswith("| ZeroDivisionError: division by zero")
    assert re.search(r"crashed 2 \(`ladder agent explain \S+ IT` shows each one's output\)", out)
    [run] = [p.name for p in run_dirs(root)]
    assert f"nothing kept: ladder/{run} is the baseline" in out
    # the lesson the repeated crash taught: named, with the command that keeps it
    learned = next(line for line in lines if line.startswith("learned, not committed: "))
    assert "not committed: review and commit them" in learned
    assert ".ladder/lessons/learned-" in learned and "git add -- " in learned
    explained = ladder(root, "agent", "explain", run, "1")
    assert explained.returncode == 0, explained.stderr
    assert "the evaluation's output ends with:" in explained.stdout
    assert "| ZeroDivisionError: division by zero" in explained.stdout
    assert "Traceback (most recent call last):" in explained.stdout
    # the next run names what is left to commit, before it spends anything
    again = ladder(root, "agent", "run")
    assert again.returncode == 2
    assert "not committed: " in again.stderr and ".ladder/lessons/learned-" in again.stderr


def test_quiet_prints_the_summary_only(tmp_path: Path) -> None:
    root = _crashing_repo(tmp_path, iterations=1)
    proc = ladder(root, "agent", "run", "--quiet")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert not re.search(r"^(#\d|progress:|baseline|calibration)", out, re.MULTILINE)
    assert out.splitlines()[0].startswith("ladder agent: committing onto branch main")
    assert re.search(r"^iterations 1: kept 0, discarded 0, blocked before evaluation 0, crashed 1",
                     out, re.MULTILINE)
    assert out.rstrip().splitlines()[-1].startswith("ladder agent: stopped: iteration budget (1)")
