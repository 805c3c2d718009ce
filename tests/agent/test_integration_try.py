"""`ladder try -m ...` through the real CLI in a repository with the agent configuration,
the hooks of `ladder init` and a level-5 protect lesson on the evaluator: its exit code
says keep (0) / discard (1) / blocked (4) / crash (5) / bad input (2), and the repository
is left where each outcome says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from testing.agent_repo import PROTECT_ID, agent_table, journal, make_agent_repo, of_kind
from testing.cli import ladder
from testing.fixtures import git, write

pytestmark = pytest.mark.slow


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return make_agent_repo(tmp_path / "repo", config=agent_table(editable=("prog.py",)))


def head(root: Path) -> str:
    return git(root, "rev-parse", "HEAD").stdout.strip()


def decision(root: Path, iteration: int) -> dict[str, Any]:
    [found] = [r["data"] for r in of_kind(journal(root, "try"), "decision")
               if r["data"]["iteration"] == iteration]
    assert isinstance(found, dict)
    return found


def evaluated(root: Path, iteration: int) -> list[str]:
    return [r["data"]["key"] for r in of_kind(journal(root, "try"), "evaluation")
            if r["data"]["iteration"] == iteration]


def test_a_better_change_is_kept_and_a_worse_one_reset(root: Path) -> None:
    start = head(root)
    write(root, "prog.py", "X = 1.5\nY = 2.0\n")  # loss 6.25 -> 2.5
    kept = ladder(root, "try", "-m", "move X towards 1")
    assert kept.returncode == 0, kept.stdout + kept.stderr
    new = head(root)
    assert new != start
    assert git(root, "rev-parse", f"{new}^").stdout.strip() == start
    assert git(root, "show", f"{new}:prog.py").stdout == "X = 1.5\nY = 2.0\n"
    assert git(root, "log", "-1", "--format=%s", new).stdout.strip() == "move X towards 1"
    assert not git(root, "status", "--porcelain").stdout.strip()
    assert git(root, "rev-parse", "refs/ladder/try/1").stdout.strip() == new
    assert len(evaluated(root, 1)) == 4  # parent and candidate on the same 2 seeds

    write(root, "prog.py", "X = 6.0\nY = 2.0\n")  # loss 2.5 -> 27.25
    worse = ladder(root, "try", "-m", "move X away from 1")
    assert worse.returncode == 1, worse.stdout + worse.stderr
    assert head(root) == new  # back at the parent
    assert not git(root, "status", "--porcelain").stdout.strip()
    assert (root / "prog.py").read_text() == "X = 1.5\nY = 2.0\n"
    candidate = git(root, "rev-parse", "refs/ladder/try/2").stdout.strip()
    assert git(root, "rev-parse", f"{candidate}^").stdout.strip() == new
    assert git(root, "show", f"{candidate}:prog.py").stdout == "X = 6.0\nY = 2.0\n"
    note = json.loads(git(root, "notes", "--ref", "ladder", "show", candidate).stdout)
    assert note["status"] == "discard" and note["iteration"] == 2
    assert "refs/ladder/try/2" in worse.stdout

    lines = (root / ".ladder/runs/try/results.tsv").read_text().splitlines()
    assert [line.split("\t")[3] for line in lines[1:]] == ["keep", "discard"]
    assert ladder(root, "agent", "verify", "try").returncode == 0


def test_a_change_that_breaks_a_level_5_lesson_is_blocked_unevaluated_and_kept(root: Path) -> None:
    start = head(root)
    cheat = (root / "evaluate.py").read_text().replace(
        'print(f"loss: {loss()}")', 'print("loss: 0.0")'
    )
    write(root, "evaluate.py", cheat)
    proc = ladder(root, "try", "-m", "a perfect score")
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert PROTECT_ID in proc.stderr and "nothing was evaluated" in proc.stderr
    assert head(root) == start
    assert (root / "evaluate.py").read_text() == cheat  # the user's edit is not lost
    assert git(root, "status", "--porcelain").stdout.strip() == "M evaluate.py"
    verdict = decision(root, 1)["verdict"]
    assert verdict["status"] == "blocked"
    assert verdict["stats"]["lessons"] == [PROTECT_ID]
    assert evaluated(root, 1) == []
    assert git(root, "for-each-ref", "refs/ladder/try/").stdout == ""  # no commit was made


def test_an_evaluation_that_crashes_exits_5(root: Path) -> None:
    start = head(root)
    write(root, "prog.py", 'X = "three"\nY = 2.0\n')  # evaluate.py: TypeError
    proc = ladder(root, "try", "-m", "X as a word")
    assert proc.returncode == 5, proc.stdout + proc.stderr
    assert head(root) == start
    assert not git(root, "status", "--porcelain").stdout.strip()
    verdict = decision(root, 1)["verdict"]
    assert verdict["status"] == "crash"
    crashed = [r["data"] for r in of_kind(journal(root, "try"), "evaluation")
               if r["data"]["key"].startswith("it1/candidate/")]
    assert crashed and not any(r["ok"] for r in crashed)
    assert "TypeError" in crashed[0]["tail"]


def test_nothing_to_try_exits_2_with_one_line(root: Path) -> None:
    proc = ladder(root, "try", "-m", "no change")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "nothing to try" in lines[0]
    assert proc.stdout == ""
    assert not (root / ".ladder/runs/try").exists()


def test_a_head_the_try_run_did_not_keep_is_refused_until_a_person_rebases(root: Path) -> None:
    start = head(root)
    write(root, "prog.py", "X = 1.5\nY = 2.0\n")
    assert ladder(root, "try", "-m", "move X towards 1").returncode == 0
    kept = head(root)
    # the agent commits a program of its own (past the hooks) and tries on top of it
    write(root, "prog.py", "X = 1.0\nY = 2.0\n")
    git(root, "commit", "-q", "--no-verify", "-am", "my own evaluation of X")
    forged = head(root)
    write(root, "prog.py", "X = 1.1\nY = 2.0\n")
    refused = ladder(root, "try", "-m", "on top of my own commit")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert f"HEAD {forged[:8]} is not a commit this try run started from or kept" in refused.stderr
    assert f"{start[:8]} (baseline), {kept[:8]} (keep)" in refused.stderr
    assert f"git reset --hard {kept[:12]}" in refused.stderr
    assert head(root) == forged and "X = 1.1" in (root / "prog.py").read_text()  # nothing lost
    assert not [r for r in journal(root, "try") if r["kind"] == "decision" and r["data"]["iteration"] == 2]
    rebased = ladder(root, "try", "--new-baseline", "-m", "a person re-bases here")
    assert rebased.returncode in (0, 1), rebased.stdout + rebased.stderr
    assert "a new try run starts at" in rebased.stdout
    assert [p.name for p in (root / ".ladder" / "runs").iterdir() if p.name.startswith("try-")]
