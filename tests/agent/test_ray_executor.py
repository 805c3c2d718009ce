"""The `ray` executor on a real Ray cluster: two nodes of one CPU each on this machine
(`ray.cluster_utils.Cluster`), shared by the module. Evaluations spread over both nodes
by the same contract as locally, secrets stay home, a timeout kills the evaluation's
whole process group, a worker that stops answering is cancelled and its evaluation run
again, a node killed mid-evaluation costs a retry elsewhere (journaled as infrastructure,
never as the candidate's crash), and `ladder agent run` uses the cluster through its
configuration alone -- killed with `kill -9` mid-evaluation and resumed, nothing run twice.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ladder.agent.config import RaySettings
from ladder.agent.executors.ray_cluster import RayExecutor
from ladder.agent.records import EvalJob, EvalResult
from ladder.errors import LadderError
from ladder.sandbox import SANDBOXES
from testing.agent_repo import agent_table, journal, make_agent_repo, of_kind, run_dirs
from testing.cli import ladder
from testing.fixtures import commit, make_repo, write

ray = pytest.importorskip("ray")
pytestmark = [pytest.mark.ray, pytest.mark.slow]

PY = sys.executable
# A node is declared dead within about a second of its raylet dying (Ray's default is 15 s).
FAST_FAILURE = {"health_check_period_ms": 300, "health_check_failure_threshold": 3,
                "health_check_initial_delay_ms": 0}
NODE_SECRET = "WANDB_API_KEY"  # in every node's environment, so in its workers'
USERNS = not SANDBOXES["userns"].problem()


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    from ray.cluster_utils import Cluster

    with pytest.MonkeyPatch.context() as env:
        env.setenv(NODE_SECRET, "the-nodes-own-secret")  # inherited by the nodes only
        made = Cluster(initialize_head=True, head_node_args={
            "num_cpus": 1, "include_dashboard": False, "_system_config": FAST_FAILURE})
        try:
            made.add_node(num_cpus=1)
            made.wait_for_nodes()
        except BaseException:
            made.shutdown()
            raise
    try:
        yield made
    finally:
        ray.shutdown()
        made.shutdown()


def alive_nodes(cluster: Any) -> set[str]:
    """The cluster's live nodes, asked from this process (connected if no test was)."""
    if not ray.is_initialized():
        ray.init(address=cluster.address)
    return {n["NodeID"] for n in ray.nodes() if n["Alive"]}


def executor(cluster: Any, events: list[dict[str, Any]] | None = None, **settings: Any) -> RayExecutor:
    return RayExecutor(2, RaySettings(address=cluster.address, **settings), target="loss",
                       on_event=(events.append if events is not None else None))


def processes_with(token: str) -> list[int]:
    """The pids whose command line holds `token` (seen from here, outside any sandbox)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    if token.encode() in fh.read():
                        found.append(int(entry))
            except OSError:
                continue
    return found


def programs(script: str, token: str) -> list[int]:
    """The Python processes running `script` with `token` among their arguments (not
    the shell or the sandbox's trampoline around them)."""
    return [pid for pid in processes_with(token)
            if cmdline(pid).split(b"\0")[1:2] == [script.encode()]]


def ancestors(pid: int) -> list[int]:
    chain = []
    while pid > 1:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                pid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            break
        chain.append(pid)
    return chain


def cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read()
    except OSError:
        return b""


def wait_until(condition: Callable[[], Any], limit: float = 20, what: str = "it") -> Any:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    pytest.fail(f"waited {limit} s for {what}")


# --- dispatch ---------------------------------------------------------------------------

SPREAD = """\
import os, time
t0 = time.time()
open('out.txt', 'w').write('written where it ran')
time.sleep(1.0)
print('loss:', int(os.environ['LADDER_SEED']))
print('cpu:', int(os.environ['LADDER_DEVICE'] == 'cpu'))
print('t0:', t0)
print('t1:', time.time())
"""


def test_evaluations_spread_over_both_nodes_by_the_same_contract(cluster: Any, tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", {"evaluate.py": SPREAD})
    jobs = [EvalJob(f"j{i}", root, f"{PY} evaluate.py", i, 60) for i in range(4)]
    seen: list[str] = []
    results = executor(cluster).run(jobs, lambda r: seen.append(r.key))

    assert [r.key for r in results] == ["j0", "j1", "j2", "j3"]  # in job order
    assert all(r.ok for r in results), [r.reason + r.tail for r in results]
    assert [r.metrics["loss"] for r in results] == [0, 1, 2, 3]  # each its own seed
    assert sorted(seen) == ["j0", "j1", "j2", "j3"]  # each reported as it came
    assert {r.placement["node"] for r in results} == alive_nodes(cluster) and len(alive_nodes(cluster)) == 2
    assert all(r.metrics["cpu"] == 1 and r.placement["device"] == "cpu" for r in results)
    assert all(r.placement["sandbox"].startswith("userns" if USERNS else "none") for r in results)
    # Two nodes, two at a time: evaluations on different nodes overlapped in time.
    assert any(a.placement["node"] != b.placement["node"]
               and a.metrics["t0"] < b.metrics["t1"] and b.metrics["t0"] < a.metrics["t1"]
               for a in results for b in results)
    assert not (root / "out.txt").exists()  # each ran in its worker's checkout, not here


SECRETS = """\
import os
for name in ('OPENAI_API_KEY', 'WANDB_API_KEY', 'LADDER_DRIVER_ONLY', 'MY_TOKEN'):
    print(name.lower() + ':', int(name in os.environ))
print('loss: 0')
"""


def test_secrets_are_not_forwarded_to_the_workers(cluster: Any, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_repo(tmp_path / "repo", {"evaluate.py": SECRETS})
    monkeypatch.setenv("OPENAI_API_KEY", "sk-the-drivers")  # the driver's secret
    monkeypatch.setenv("LADDER_DRIVER_ONLY", "1")  # and any other variable of the driver's
    # What `pass_env` lets through is in the job, and travels with it on purpose.
    jobs = [EvalJob(f"s{i}", root, f"{PY} evaluate.py", i, 60, env={"MY_TOKEN": "passed"})
            for i in range(2)]
    for result in executor(cluster).run(jobs):
        assert result.ok, result.reason + result.tail
        assert result.metrics["openai_api_key"] == 0
        assert result.metrics["ladder_driver_only"] == 0  # the driver's environment stays home
        assert result.metrics["wandb_api_key"] == 0  # the node's own secrets are scrubbed
        assert result.metrics["my_token"] == 1


# The evaluation looks at the environment of the Ray worker that runs it (no sandbox:
# from inside one, the worker is out of sight).
WORKERS_ENV = """\
import os
pid = os.getpid()
while pid > 1:
    with open(f'/proc/{pid}/stat') as fh:
        pid = int(fh.read().rsplit(')', 1)[1].split()[1])
    with open(f'/proc/{pid}/cmdline', 'rb') as fh:
        if fh.read().startswith(b'ray::'):
            break
with open(f'/proc/{pid}/environ', 'rb') as fh:
    names = {entry.split(b'=', 1)[0] for entry in fh.read().split(b'\\0')}
print('worker_has_key:', int(b'OPENAI_API_KEY' in names))
print('worker_has_home:', int(b'HOME' in names))
print('loss: 0')
"""
LOCAL_INSTANCE = """\
import sys
from pathlib import Path
from ladder.agent.executors.ray_cluster import RayExecutor
from ladder.agent.records import EvalJob
[result] = RayExecutor(1, target="loss", sandbox="none").run(
    [EvalJob("w", Path(sys.argv[1]), sys.executable + " evaluate.py", 1, 60)])
print(result.ok, result.reason, dict(result.metrics))
"""


def test_a_local_instance_is_started_without_the_drivers_secrets(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", {"evaluate.py": WORKERS_ENV})
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env["OPENAI_API_KEY"] = "sk-the-drivers"  # e.g. for an `llm` proposer
    done = subprocess.run([PY, "-c", LOCAL_INSTANCE, str(root)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    # address unset: a new local instance, whose workers never held the driver's secret
    assert "True  {'worker_has_key': 0.0, 'worker_has_home': 1.0" in done.stdout, done.stdout


# --- timeouts ---------------------------------------------------------------------------

HANG = """\
import subprocess, sys, time
subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', sys.argv[1]])
print('started', flush=True)
time.sleep(300)
"""


def test_a_timeout_kills_the_evaluations_whole_process_group_on_the_node(
        cluster: Any, tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", {"hang.py": HANG})
    token = f"ladder-test-{uuid.uuid4().hex}"
    job = EvalJob("t", root, f"{PY} hang.py {token}", 1, 2)
    [result] = executor(cluster).run([job])
    assert not result.ok
    assert result.reason == "timeout after 2 s: the process group was killed"
    assert "started" in result.tail  # it did run, and its output came back
    assert result.placement["attempt"] == "1"  # the candidate's crash: not retried
    wait_until(lambda: not processes_with(token), 10, "the evaluation's child to die")


STUCK = """\
import os, sys, time
mark = sys.argv[2]
if os.path.exists(mark):  # the second try
    print('loss: 1')
else:
    open(mark, 'w').close()
    time.sleep(300)
"""


def test_a_worker_that_stops_answering_is_cancelled_and_the_evaluation_runs_again(
        cluster: Any, tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", {"stuck.py": STUCK})
    marks = tmp_path / "marks"
    marks.mkdir()
    token = f"ladder-test-{uuid.uuid4().hex}"
    stopped: list[int] = []

    def stop_its_worker() -> None:  # the node's worker freezes mid-evaluation (SIGSTOP)
        [pid] = wait_until(lambda: programs("stuck.py", token), 30, "the evaluation to start")
        worker = next(p for p in ancestors(pid) if cmdline(p).startswith(b"ray::"))
        os.kill(worker, signal.SIGSTOP)
        stopped.extend([pid, worker])

    helper = threading.Thread(target=stop_its_worker, daemon=True)
    helper.start()
    events: list[dict[str, Any]] = []
    job = EvalJob("it3/candidate/s0", root, f"{PY} stuck.py {token} {marks / 'first'}", 1, 3,
                  writable=(marks,))
    try:
        [result] = executor(cluster, events, grace=1.0).run([job])
        helper.join(5)
        assert len(stopped) == 2, "the worker was never stopped"
        assert result.ok, result.reason + result.tail  # the second try finished
        assert result.placement["attempt"] == "2"
        [event] = events
        assert event["key"] == "it3/candidate/s0" and event["retry"] is True
        assert event["what"].startswith("no result in time: the task was cancelled")
        # The frozen worker was killed, and the evaluation with it (its parent-death signal).
        wait_until(lambda: not any(os.path.exists(f"/proc/{p}") for p in stopped), 30,
                   "the frozen worker and its evaluation to be gone")
    finally:
        for pid in stopped:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def test_retries_spent_stop_the_batch_with_one_line_after_reporting_what_finished(
        cluster: Any, tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", {"hang.py": HANG})
    token = f"ladder-test-{uuid.uuid4().hex}"
    events: list[dict[str, Any]] = []
    seen: list[str] = []
    quick = EvalJob("quick", root, f"{PY} -c \"print('loss: 1')\"", 1, 60)
    # A driver whose patience (timeout + grace) runs out long before the worker's own
    # timeout: the hanging evaluation is cancelled, and no retry is left.
    hanging = EvalJob("hanging", root, f"{PY} hang.py {token}", 2, 30)
    started: list[int] = []
    watcher = threading.Thread(target=lambda: started.extend(
        wait_until(lambda: programs("hang.py", token), 20, "the evaluation to start")), daemon=True)
    watcher.start()
    with pytest.raises(LadderError) as info:
        executor(cluster, events, grace=-25.0, max_retries=0).run(
            [quick, hanging], lambda r: seen.append(r.key))
    watcher.join(20)
    assert started, "the hanging evaluation never started"
    assert seen == ["quick"]  # what finished was reported (journaled) first
    assert "evaluation hanging failed on the cluster 1 time(s): no result in time" in info.value.line()
    assert "--resume" in info.value.line() and "\n" not in info.value.line()
    [event] = events
    assert event["key"] == "hanging" and event["retry"] is False
    wait_until(lambda: not processes_with(token), 20, "the cancelled evaluation to end")


# --- a node lost ------------------------------------------------------------------------

WAIT_FOR_GO = """\
import os, sys, time
started, go = sys.argv[2], sys.argv[3]
if not os.path.exists(started):
    open(started, 'w').close()
    while not os.path.exists(go):
        time.sleep(0.05)
print('loss:', int(os.environ['LADDER_SEED']))
"""


def test_a_node_killed_mid_evaluation_costs_a_retry_elsewhere_not_a_crash(
        cluster: Any, tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", {"wait.py": WAIT_FOR_GO})
    marks = tmp_path / "marks"
    marks.mkdir()
    token = f"ladder-test-{uuid.uuid4().hex}"
    jobs = [EvalJob(f"n{i}", root, f"{PY} wait.py {token} {marks / f'n{i}'} {marks / 'go'}", i, 60,
                    writable=(marks,)) for i in range(2)]
    [worker_node] = cluster.worker_nodes
    raylet = worker_node.all_processes["raylet"][0].process.pid
    events: list[dict[str, Any]] = []
    outcome: dict[str, Any] = {}

    def dispatch() -> None:
        try:
            outcome["results"] = executor(cluster, events).run(jobs)
        except BaseException as exc:  # the test's thread says what went wrong
            outcome["error"] = exc

    thread = threading.Thread(target=dispatch, daemon=True)
    thread.start()
    try:
        pids = wait_until(lambda: len(found := programs("wait.py", token)) == 2 and found, 30,
                          "both evaluations to start")
        doomed = [p for p in pids if raylet in ancestors(p)]
        assert doomed, "no evaluation ran on the second node"
        cluster.remove_node(worker_node, allow_graceful=False)
        # Its evaluation dies with its worker; only then may the first attempt's go come.
        wait_until(lambda: not any(os.path.exists(f"/proc/{p}") for p in doomed), 20,
                   "the lost node's evaluation to die")
        (marks / "go").touch()
        thread.join(60)
    finally:
        (marks / "go").touch()
        thread.join(60)
        cluster.add_node(num_cpus=1)  # the module's cluster has two nodes again
        cluster.wait_for_nodes()
    assert "error" not in outcome, outcome.get("error")
    results: list[EvalResult] = outcome["results"]
    assert all(r.ok for r in results), [r.reason for r in results]
    assert [r.metrics["loss"] for r in results] == [0, 1]
    retried = [r for r in results if r.placement["attempt"] == "2"]
    assert len(retried) == 1 and retried[0].placement["node"] != worker_node.node_id
    [event] = events
    assert event["key"] == retried[0].key and event["retry"] is True
    assert "lost mid-evaluation" in event["what"] and event["node"] == worker_node.node_id


# --- a run, by configuration alone --------------------------------------------------------

# Each evaluation takes a number; from the fourth on (iteration 2's pair, with crude
# decisions on unshared parents: baseline 1, then 2 per iteration) they wait for `go`.
NUMBERED = """\
import os, sys, time
from prog import X, Y
marks = sys.argv[1]
n = 0
while True:
    try:
        os.close(os.open(os.path.join(marks, str(n)), os.O_CREAT | os.O_EXCL))
        break
    except FileExistsError:
        n += 1
while n >= 3 and not os.path.exists(os.path.join(marks, 'go')):
    time.sleep(0.05)
print('loss:', (X - 1) ** 2 + (Y - 0.5) ** 2)
"""


def test_agent_run_on_the_cluster_by_configuration_killed_and_resumed(
        cluster: Any, tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    # Parent and candidate side by side on every decision: two evaluations at a time.
    extra = ('decision = "crude"\nreuse_parent = false\nexecutor = "ray"\nworkers = 2\n'
             f'learn = false\n[ray]\naddress = "{cluster.address}"\n'
             f'[sandbox]\nwritable = ["{marks}"]\n')
    config = agent_table(iterations=4, extra=extra).replace(
        f"{PY} evaluate.py", f"{PY} evaluate.py {marks}")
    root = make_agent_repo(tmp_path / "repo", config=config, protect=False)
    write(root, "evaluate.py", NUMBERED)
    assert commit(root, "an evaluator that can wait").returncode == 0
    proc = subprocess.Popen([PY, "-m", "ladder", "agent", "run", "--quiet"], cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        def waiting() -> list[int]:
            if proc.poll() is not None:
                pytest.fail(f"the run ended (exit {proc.returncode}): {proc.stdout.read()}")  # type: ignore[union-attr]
            found = programs("evaluate.py", str(marks))
            return found if len(found) == 2 else []

        in_flight = wait_until(waiting, 60, "iteration 2's evaluations in flight")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.stdout.close()  # type: ignore[union-attr]
    # The dead driver's tasks are ended by the cluster: its evaluations (which would
    # wait for `go` forever) do not outlive it.
    wait_until(lambda: not any(os.path.exists(f"/proc/{p}") for p in in_flight), 20,
               "the killed driver's evaluations to end")
    (marks / "go").touch()
    [run] = [d.name for d in run_dirs(root)]
    before = journal(root, run)
    assert len(of_kind(before, "evaluation")) == 3  # the baseline and iteration 1's pair

    resumed = ladder(root, "agent", "run", "--resume", run, "--quiet")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    verified = ladder(root, "agent", "verify", run)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    after = journal(root, run)
    assert after[: len(before)] == before  # nothing journaled was lost or rewritten
    evaluations = of_kind(after, "evaluation")
    keys = Counter(r["data"]["key"] for r in evaluations)
    assert [k for k, n in keys.items() if n > 1] == []  # nothing evaluated twice
    assert len(keys) == 1 + 2 * 4
    assert Counter(r["data"]["iteration"] for r in of_kind(after, "decision")) == Counter(range(1, 5))
    # Each evaluation says where it ran: a node of the cluster, its host and device.
    nodes = {r["data"]["placement"]["node"] for r in evaluations}
    assert nodes <= alive_nodes(cluster) and len(nodes) == 2
    assert {r["data"]["placement"]["device"] for r in evaluations} == {"cpu"}
    report = ladder(root, "agent", "report", run, "--format", "markdown")
    assert report.returncode == 0, report.stderr
    assert "Where the evaluations ran" in report.stdout
    assert all(node[:12] in report.stdout for node in nodes)
    # Reading the run needs neither Ray nor its cluster: `status` where Ray is not found.
    hidden = ("import importlib.util as u, sys; real = u.find_spec; "
              "u.find_spec = lambda n, *a: None if n == 'ray' else real(n, *a); "
              "from ladder.main import main; sys.exit(main(['agent', 'status', sys.argv[1]]))")
    status = subprocess.run([PY, "-c", hidden, run], cwd=root, capture_output=True, text=True)
    assert status.returncode == 0, status.stdout + status.stderr
    assert status.stdout.startswith(f"run {run}: stopped")
