"""`kill -9` of a real `ladder agent run` process, mid-evaluation and mid-commit, then
`ladder agent run --resume RUN`: the journal still verifies, no completed evaluation is
lost or run twice, and every iteration is decided exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from testing.agent_repo import agent_table, journal, make_agent_repo, of_kind, run_dirs
from testing.cli import ladder
from testing.fixtures import git

pytestmark = pytest.mark.slow

ITERATIONS = 4
Records = Sequence[dict[str, Any]]


def _start(root: Path) -> subprocess.Popen[str]:
    # Its own process group, so that "mid-commit" can kill git and its hooks with it.
    return subprocess.Popen(
        [sys.executable, "-m", "ladder", "agent", "run"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _wait_for(
    root: Path, proc: subprocess.Popen[str], moment: Callable[[Records], bool], limit: float = 30
) -> str:
    """Poll the run's journal until `moment(records)` holds; returns the run id."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            pytest.fail(f"the run ended (exit {proc.returncode}) before the moment to kill it:\n{out}")
        dirs = run_dirs(root)
        if dirs and moment(journal(root, dirs[0].name)):
            return dirs[0].name
        time.sleep(0.01)
    proc.kill()
    pytest.fail("the moment to kill the run never came")


def _iterations_with(records: Records, kind: str) -> set[int]:
    return {r["data"]["iteration"] for r in of_kind(records, kind)}


def mid_evaluation(records: Records) -> bool:
    """An evaluation of iteration >= 2 is journaled and its iteration is not decided."""
    decided = _iterations_with(records, "decision")
    return any(it >= 2 and it not in decided for it in _iterations_with(records, "evaluation"))


def mid_commit(records: Records) -> bool:
    """A proposal of iteration >= 2 is journaled and its commit is not (the hooks run)."""
    committed = _iterations_with(records, "commit") | _iterations_with(records, "decision")
    return any(it >= 2 and it not in committed for it in _iterations_with(records, "proposal"))


def _candidate_tree(root: Path, run: str) -> Path:
    return root / ".ladder" / "runs" / run / "worktrees" / "candidate"


def _wait_group_gone(pgid: int, limit: float = 10) -> None:
    """Wait until every process of the killed loop's group (git, hooks) has exited."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.02)
    os.killpg(pgid, signal.SIGKILL)


def nothing(root: Path, run: str) -> None:
    """The loop died mid-evaluation: its orphaned evaluation (own session) just ends."""


def stale_index_lock(root: Path, run: str) -> None:
    """What a kill -9 inside `git add -A` or `git checkout` leaves: the worktree's index.lock."""
    tree = _candidate_tree(root, run)
    git_dir = Path(git(tree, "rev-parse", "--absolute-git-dir").stdout.strip())
    (git_dir / "index.lock").write_text("")
    # a proposal half-written into the tree, too
    (tree / "prog.py").write_text("X = 0.0\nY = 0.0\n")


def half_made_commit(root: Path, run: str) -> None:
    """What an orphaned `git commit` that outlived the loop leaves: the staged proposal
    committed in the candidate worktree, a commit the journal never heard of. (The real
    orphan usually dies of its closed output pipe first, so the test finishes its work.)"""
    tree = _candidate_tree(root, run)
    records = journal(root, run)
    [it] = _iterations_with(records, "proposal") - _iterations_with(records, "decision")
    parent = next(r["data"]["parent"] for r in of_kind(records, "select") if r["data"]["iteration"] == it)
    if git(tree, "rev-parse", "HEAD").stdout.strip() == parent:
        # The kill may land before the proposal reached the tree: put the journaled
        # proposal there, as the orphaned `git add -A && git commit` would have.
        proposal = next(r["data"] for r in of_kind(records, "proposal") if r["data"]["iteration"] == it)
        for name, text in proposal["files"].items():
            (tree / name).write_text(text)
        git(tree, "add", "-A")
        made = git(tree, "commit", "-q", "--no-verify", "-m", "orphaned commit", check=False)
        assert made.returncode == 0, made.stdout + made.stderr
    assert git(tree, "rev-parse", "HEAD^").stdout.strip() == parent


@pytest.mark.parametrize(
    ("moment", "sleep", "slow_commit", "whole_group", "leave"),
    [
        # the loop alone dies; the evaluation (its own session) is orphaned
        pytest.param(mid_evaluation, 0.2, 0.0, False, nothing, id="mid-evaluation"),
        # git and its hooks die with the loop, leaving a stale index.lock
        pytest.param(mid_commit, 0.0, 1.0, True, stale_index_lock, id="mid-commit-stale-lock"),
        # the loop alone dies and its `git commit` finishes without it
        pytest.param(mid_commit, 0.0, 1.0, False, half_made_commit, id="mid-commit-half-made"),
    ],
)
def test_resume_after_kill_9(
    tmp_path: Path,
    moment: Callable[[Records], bool],
    sleep: float,
    slow_commit: float,
    whole_group: bool,
    leave: Callable[[Path, str], None],
) -> None:
    config = agent_table(editable=("prog.py",), iterations=ITERATIONS, strategy="hill")
    marker = tmp_path / "slow"  # evaluations / commits are slow from now until the kill
    root = make_agent_repo(tmp_path / "repo", config=config, sleep=sleep, slow_commit=slow_commit,
                           marker=marker)
    marker.touch()
    proc = _start(root)
    try:
        run = _wait_for(root, proc, moment)
        if whole_group:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        _wait_group_gone(proc.pid)  # orphaned git and hooks, if any, are done
        marker.unlink()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        if proc.stdout:
            proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    before = journal(root, run)
    assert moment(before)  # still the moment we killed it at: nothing ran on
    assert not _iterations_with(before, "decision") >= set(range(1, ITERATIONS + 1))
    leave(root, run)

    resumed = ladder(root, "agent", "run", "--resume", run)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"resuming run {run}" in resumed.stdout

    verified = ladder(root, "agent", "verify", run)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    after = journal(root, run)
    # what was journaled before the kill is still there, record for record
    assert after[: len(before)] == before
    keys = Counter(r["data"]["key"] for r in of_kind(after, "evaluation"))
    assert [k for k, n in keys.items() if n > 1] == []  # nothing evaluated twice
    for record in of_kind(before, "evaluation"):  # and nothing completed was lost
        assert record in after
    decided = Counter(r["data"]["iteration"] for r in of_kind(after, "decision"))
    assert decided == Counter(range(1, ITERATIONS + 1))
    # the interrupted iteration was continued, not redone from a fresh proposal
    [interrupted] = {
        it for it in _iterations_with(before, "proposal") if it not in _iterations_with(before, "decision")
    }
    proposals = [r for r in of_kind(after, "proposal") if r["data"]["iteration"] == interrupted]
    assert len(proposals) == 1
    assert of_kind(after, "stop"), "the resumed run did not finish"
    # the resumed run's tally is the whole run's, not just what ran after the kill
    assert f"iterations {ITERATIONS}:" in resumed.stdout
    status = ladder(root, "agent", "status", run, "--format", "json")
    tally = json.loads(status.stdout)["tally"]
    assert tally["iterations"] == ITERATIONS
    assert tally["evaluations"] == len(of_kind(after, "evaluation"))
