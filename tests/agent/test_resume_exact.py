"""Resume is exact (issue 12 part 4): a resumed run keeps the configuration and flags it
was started with, a failed or interrupted baseline resumes, SIGTERM and Ctrl-C stop a run
gracefully, and no evaluation outlives its loop (a `kill -9` included)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ladder.sandbox import SANDBOXES
from testing.agent_repo import agent_table, journal, make_agent_repo, of_kind, run_dirs
from testing.faults import agent, check, protected, user_state
from testing.fixtures import commit, git, write

pytestmark = pytest.mark.slow


def _decided(root: Path, run: str) -> list[int]:
    return [r["data"]["iteration"] for r in of_kind(journal(root, run), "decision")]


def test_resume_runs_under_the_journaled_flags_and_configuration(tmp_path: Path) -> None:
    root = make_agent_repo(tmp_path / "repo", config=agent_table(iterations=6, extra="learn = false\n"))
    first = agent(root, "--iterations", "2")
    assert first.returncode == 0, first.stdout + first.stderr
    run = run_dirs(root)[0].name
    # Resumed without flags: the run's own budget (2), not the file's (6).
    again = agent(root, "--resume", run)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "iteration budget (2) spent" in again.stdout
    assert _decided(root, run) == [1, 2]

    # An edited file is refused, naming what changed and the way out.
    config = root / ".ladder" / "agent.toml"
    original = config.read_text(encoding="utf-8")
    write(root, ".ladder/agent.toml", original.replace("seeds = 2", "seeds = 3"))
    assert commit(root, "more seeds").returncode == 0
    edited = agent(root, "--resume", run)
    assert edited.returncode == 2
    assert "seeds 2 -> 3" in edited.stderr and "--reconfigure" in edited.stderr
    # ... and a change to what the evaluations were judged under stays refused with it.
    taken = agent(root, "--resume", run, "--reconfigure")
    assert taken.returncode == 2 and "cannot change seeds 2 -> 3" in taken.stderr
    assert _decided(root, run) == [1, 2]

    # A budget flag is an explicit change: taken, journaled, and kept by the next resume.
    write(root, ".ladder/agent.toml", original)
    assert commit(root, "back").returncode == 0
    more = agent(root, "--resume", run, "--iterations", "3")
    assert more.returncode == 0, more.stdout + more.stderr
    assert "iterations 2 -> 3" in more.stdout
    assert _decided(root, run) == [1, 2, 3]
    changes = [r["data"]["changes"] for r in of_kind(journal(root, run), "reconfigure")]
    assert changes == [{"iterations": [2, 3]}]
    assert "iteration budget (3) spent" in agent(root, "--resume", run).stdout


FAILING = """\
import os
import sys

from prog import X, Y

if os.path.exists({marker!r}):
    sys.exit("the data is not there yet")
print(f"loss: {{(X - 1) ** 2 + (Y - 0.5) ** 2}}")
"""


def test_a_failed_baseline_resumes_and_leaves_no_worktree(tmp_path: Path) -> None:
    marker = tmp_path / "broken"
    marker.touch()
    root = make_agent_repo(tmp_path / "repo", config=agent_table(iterations=2, extra="learn = false\n"),
                           protect=False)
    write(root, "evaluate.py", FAILING.format(marker=str(marker)))
    assert commit(root, "an evaluation that fails for now").returncode == 0
    before = user_state(protected(root))
    failed = agent(root)
    assert failed.returncode == 2
    run = run_dirs(root)[0].name
    assert "the baseline's evaluation failed" in failed.stderr
    assert f"--resume {run}" in failed.stderr
    assert len(git(root, "worktree", "list").stdout.splitlines()) == 1
    marker.unlink()
    resumed = agent(root, "--resume", run)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert _decided(root, run) == [1, 2]
    assert check(root, before) == []


# An evaluation that, while the marker exists, starts a child and a process that leaves
# its session (a daemon: only a subreaper or a PID namespace still knows it), then waits.
LINGERING = """\
import os
import subprocess
import time

from prog import X, Y

if os.path.exists({marker!r}):
    subprocess.Popen(["sleep", {token!r}])
    subprocess.Popen(["sleep", {token!r}], start_new_session=True)
    time.sleep(float({token!r}))
print(f"loss: {{(X - 1) ** 2 + (Y - 0.5) ** 2}}")
"""


def _alive(token: str) -> list[int]:
    """Processes whose command line holds `token` (host pids: seen from outside any
    PID namespace)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
                state = (entry / "stat").read_text().split(") ", 1)[1][:1]
            except (OSError, IndexError):
                continue
            if token.encode() in cmdline and state != "Z":
                found.append(int(entry.name))
    return found


def _lingering_repo(tmp_path: Path, sandbox: str) -> tuple[Path, Path, str]:
    if SANDBOXES[sandbox].problem():
        pytest.skip(SANDBOXES[sandbox].problem())
    marker = tmp_path / "slow"
    marker.touch()
    token = f"9{random.randrange(10**5, 10**6)}.5"
    root = make_agent_repo(tmp_path / "repo", protect=False, config=agent_table(
        iterations=2, extra=f'learn = false\nsandbox = {{ mode = "{sandbox}" }}\n'))
    write(root, "evaluate.py", LINGERING.format(marker=str(marker), token=token))
    assert commit(root, "a slow evaluation").returncode == 0
    return protected(root), marker, token


def _start(root: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "LADDER_FAULT"}
    return subprocess.Popen([sys.executable, "-m", "ladder", "agent", "run"], cwd=root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def _wait(what: str, holds: object, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if holds():  # type: ignore[operator]
            return
        time.sleep(0.05)
    pytest.fail(f"{what} never happened")


@pytest.mark.parametrize("sandbox", ["none", "userns"])
def test_sigterm_stops_the_run_gracefully_and_it_resumes(tmp_path: Path, sandbox: str) -> None:
    root, marker, token = _lingering_repo(tmp_path, sandbox)
    before = user_state(root)
    proc = _start(root)
    try:
        _wait("an evaluation and the process it left", lambda: len(_alive(token)) >= 2)
        proc.send_signal(signal.SIGTERM)  # the loop alone, as a service manager does
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 128 + signal.SIGTERM, out
    assert "stopped by SIGTERM" in out and "--resume" in out
    assert _alive(token) == []  # the evaluation and the daemon it left: gone
    run = run_dirs(root)[0].name
    records = journal(root, run)
    assert records[-1]["kind"] == "stop" and records[-1]["data"]["signal"] == signal.SIGTERM
    # What the stop killed was not journaled as a result: every journaled one succeeded.
    assert all(r["data"]["ok"] for r in of_kind(records, "evaluation"))
    assert len(git(root, "worktree", "list").stdout.splitlines()) == 1
    marker.unlink()
    resumed = agent(root, "--resume", run)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert check(root, before) == []


@pytest.mark.parametrize("sandbox", ["none", "userns"])
def test_no_evaluation_outlives_a_killed_loop(tmp_path: Path, sandbox: str) -> None:
    root, marker, token = _lingering_repo(tmp_path, sandbox)
    proc = _start(root)
    try:
        _wait("an evaluation and the process it left", lambda: len(_alive(token)) >= 2)
        os.kill(proc.pid, signal.SIGKILL)  # the loop alone: its children are not signalled
        proc.wait(timeout=10)
        _wait("the evaluations' end", lambda: _alive(token) == [], limit=10)
    finally:
        for pid in _alive(token):
            os.kill(pid, signal.SIGKILL)
        marker.unlink()
    run = run_dirs(root)[0].name
    resumed = agent(root, "--resume", run)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert json.loads(json.dumps(_decided(root, run))) == [1, 2]
