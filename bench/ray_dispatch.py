"""What sending evaluations to a Ray cluster costs and gains, in one run, on this machine.

  (a) dispatch overhead per evaluation: a 2 s evaluation run one at a time, each its own
      batch as the loop sends them, through the local executor and through the `ray`
      executor on a one-node local cluster (after one warm-up evaluation that starts the
      worker and ships the tree) -> target: at most 5% more wall time per evaluation;
  (b) throughput: 8 such evaluations, 2 at a time, on two local nodes of 1 CPU each
      against one node of 1 CPU -> target: at least 1.8x;
  (c) what bounds one driver (docs/scale.md): its CPU time per dispatched evaluation
      with 0-second evaluations, journal appends per second (each fsynced), and the size
      and packing time of a shipped tree (this repository's HEAD);
  (d) with --loop: decisions per second of a real `ladder agent run` (hooks, commits,
      journal) with 0-second evaluations on the two-node cluster.

Every evaluation goes through the shipped executors and `evaluate()`, in the sandbox
this machine has (userns where it can). Usage: python bench/ray_dispatch.py [--loop]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ladder.agent.config import RaySettings  # noqa: E402
from ladder.agent.executors import shipping  # noqa: E402
from ladder.agent.executors.local import LocalExecutor  # noqa: E402
from ladder.agent.executors.ray_cluster import RayExecutor  # noqa: E402
from ladder.agent.journal import Journal  # noqa: E402
from ladder.agent.records import EvalJob, EvalResult  # noqa: E402
from ladder.sandbox import SANDBOXES  # noqa: E402
from testing.fixtures import make_repo, set_git_env  # noqa: E402

EVAL_S = 2.0
SEQUENTIAL = 5  # evaluations in (a), each way
BATCH = 8  # evaluations in (b), each way
ZERO = 40  # 0-second evaluations in (c)
SLEEP = f"import os, time\ntime.sleep({EVAL_S})\nprint('loss:', int(os.environ['LADDER_SEED']))\n"
INSTANT = "import os\nprint('loss:', int(os.environ['LADDER_SEED']))\n"


def jobs(root: Path, n: int, sandbox: str, first: int = 0) -> list[EvalJob]:
    return [EvalJob(f"b{first + i}", root, f"{sys.executable} evaluate.py", first + i, 120,
                    sandbox=sandbox) for i in range(n)]


def one_at_a_time(run: Callable[[list[EvalJob]], list[EvalResult]], batch: list[EvalJob]) -> float:
    """Mean wall seconds per evaluation, each sent as its own batch."""
    start = time.perf_counter()
    for job in batch:
        [result] = run([job])
        assert result.ok, result.reason + result.tail
    return (time.perf_counter() - start) / len(batch)


def all_at_once(run: Callable[[list[EvalJob]], list[EvalResult]], batch: list[EvalJob]) -> float:
    start = time.perf_counter()
    results = run(batch)
    assert all(r.ok for r in results), [r.reason for r in results]
    return time.perf_counter() - start


@contextmanager
def cluster(nodes: int) -> Iterator[str]:
    """A local Ray cluster of `nodes` nodes of 1 CPU each; yields its address."""
    import ray
    from ray.cluster_utils import Cluster

    made = Cluster(initialize_head=True,
                   head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        for _ in range(nodes - 1):
            made.add_node(num_cpus=1)
        made.wait_for_nodes()
        yield str(made.address)
    finally:
        ray.shutdown()
        made.shutdown()


def driver_capacity(address: str, root: Path, sandbox: str) -> tuple[float, float]:
    """(driver CPU ms per evaluation, evaluations/s) for 0-second evaluations, 8 slots."""
    executor = RayExecutor(8, RaySettings(address=address, num_cpus=0.25), target="loss",
                           sandbox=sandbox)
    executor.run(jobs(root, 2, sandbox, first=1000))  # warm: workers started, tree shipped
    batch = jobs(root, ZERO, sandbox, first=2000)
    cpu, wall = time.process_time(), time.perf_counter()
    results = executor.run(batch)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    assert all(r.ok for r in results), [r.reason for r in results]
    return cpu / ZERO * 1000, ZERO / wall


def journal_rate(directory: Path, n: int = 300) -> float:
    """Evaluation-sized records appended per second, as a run appends them: each fsynced,
    then its head anchored (a key in a scratch $XDG_CONFIG_HOME, not the user's)."""
    from ladder.agent.anchor import Anchor

    saved = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = str(directory / "config")
    try:
        anchor = Anchor("bench", directory / "anchors")
    finally:
        if saved is None:
            del os.environ["XDG_CONFIG_HOME"]
        else:
            os.environ["XDG_CONFIG_HOME"] = saved
    record = {"key": "it12/candidate/s3", "seed": 123456, "metrics": {"loss": 1.23, "seconds": 2.0},
              "ok": True, "reason": "", "tail": "loss: 1.23\n" * 5, "seconds": 2.0, "scored": [],
              "placement": {"node": "f" * 56, "host": "node-17", "device": "cuda:0",
                            "sandbox": "userns", "attempt": "1"}}
    with Journal(directory / "journal.jsonl", on_append=anchor) as journal:
        start = time.perf_counter()
        for _ in range(n):
            journal.append("evaluation", record)
        return n / (time.perf_counter() - start)


def shipped_tree() -> tuple[float, float, int]:
    """(bundle KiB, pack ms, files) for this repository's HEAD tree (what a candidate of
    a project this size sends once per new commit)."""
    tree = subprocess.run(["git", "rev-parse", "HEAD^{tree}"], cwd=REPO, capture_output=True,
                          text=True, check=True).stdout.strip()
    files = len(subprocess.run(["git", "ls-tree", "-r", "--name-only", tree], cwd=REPO,
                               capture_output=True, text=True, check=True).stdout.splitlines())
    start = time.perf_counter()
    bundle = shipping.pack(REPO, tree).bundle
    return len(bundle) / 1024, (time.perf_counter() - start) * 1000, files


def loop_rate(address: str, where: Path) -> tuple[float, float, int]:
    """(decisions/s, evaluations/s, decisions) of a real `ladder agent run` with
    0-second evaluations on the cluster at `address`."""
    from testing.agent_repo import agent_table, journal, make_agent_repo, of_kind, run_dirs

    extra = ('decision = "crude"\nreuse_parent = false\nexecutor = "ray"\nworkers = 2\n'
             f'learn = false\n[ray]\naddress = "{address}"\n')
    root = make_agent_repo(where / "loop", config=agent_table(iterations=20, extra=extra),
                           protect=False)
    done = subprocess.run([sys.executable, "-m", "ladder", "agent", "run", "--quiet"], cwd=root,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    records = journal(root, run_dirs(root)[0].name)
    first = next(r for r in records if r["kind"] == "baseline")
    decisions = of_kind(records, "decision")
    seconds = _ts(decisions[-1]) - _ts(first)
    evaluations = sum(1 for r in records if r["kind"] == "evaluation"
                      and _ts(r) > _ts(first))
    return len(decisions) / seconds, evaluations / seconds, len(decisions)


def _ts(record: dict[str, Any]) -> float:
    from datetime import datetime

    return datetime.fromisoformat(str(record["ts"]).replace("Z", "+00:00")).timestamp()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loop", action="store_true", help="also (d): a real agent run")
    parser.add_argument("--json", help="write the figures here too")
    args = parser.parse_args()
    set_git_env()
    sandbox = "userns" if not SANDBOXES["userns"].problem() else "none"
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="ladder-bench-ray-") as tmp:
        slow = make_repo(Path(tmp, "slow"), {"evaluate.py": SLEEP})
        fast = make_repo(Path(tmp, "fast"), {"evaluate.py": INSTANT})
        local = LocalExecutor(1, devices=[], target="loss")
        figures["local_s"] = one_at_a_time(local.run, jobs(slow, SEQUENTIAL, sandbox))

        with cluster(1) as address:
            one = RayExecutor(2, RaySettings(address=address), target="loss", sandbox=sandbox)
            warm = time.perf_counter()
            one.run(jobs(slow, 1, sandbox, first=100))
            figures["ray_first_s"] = time.perf_counter() - warm
            figures["ray_s"] = one_at_a_time(one.run, jobs(slow, SEQUENTIAL, sandbox, first=200))
            figures["one_node_s"] = all_at_once(one.run, jobs(slow, BATCH, sandbox, first=300))

        with cluster(2) as address:
            two = RayExecutor(2, RaySettings(address=address), target="loss", sandbox=sandbox)
            two.run(jobs(slow, 2, sandbox, first=400))  # both nodes' workers started
            figures["two_nodes_s"] = all_at_once(two.run, jobs(slow, BATCH, sandbox, first=500))
            figures["driver_cpu_ms"], figures["zero_eval_per_s"] = driver_capacity(
                address, fast, sandbox)
            if args.loop:
                (figures["loop_decisions_per_s"], figures["loop_evaluations_per_s"],
                 decisions) = loop_rate(address, Path(tmp))
                figures["loop_decisions"] = decisions
        figures["journal_appends_per_s"] = journal_rate(Path(tmp))
    figures["bundle_kib"], figures["pack_ms"], files = shipped_tree()

    overhead = figures["ray_s"] / figures["local_s"] - 1
    speedup = figures["one_node_s"] / figures["two_nodes_s"]
    print(f"sandbox: {sandbox}; evaluation: sleep {EVAL_S:g} s")
    print(f"(a) per evaluation, one at a time: local {figures['local_s']:.3f} s, "
          f"ray {figures['ray_s']:.3f} s -> overhead {overhead:+.1%} "
          f"({(figures['ray_s'] - figures['local_s']) * 1000:.0f} ms; target <= +5%) "
          f"[first ray evaluation, worker start-up and shipping included: "
          f"{figures['ray_first_s']:.2f} s]")
    print(f"(b) {BATCH} evaluations, 2 at a time: 1 node {figures['one_node_s']:.2f} s, "
          f"2 nodes {figures['two_nodes_s']:.2f} s -> throughput {speedup:.2f}x (target >= 1.8x)")
    print(f"(c) driver CPU per dispatched evaluation {figures['driver_cpu_ms']:.1f} ms "
          f"(0-second evaluations, 8 slots: {figures['zero_eval_per_s']:.1f} evaluations/s on "
          f"this 2-core machine); journal {figures['journal_appends_per_s']:.0f} appends/s "
          f"(fsynced and anchored); shipped tree of this repository ({files} files): "
          f"{figures['bundle_kib']:.0f} KiB bundle, packed in {figures['pack_ms']:.0f} ms")
    if args.loop:
        print(f"(d) ladder agent run, 0-second evaluations, 2 nodes: "
              f"{figures['loop_decisions_per_s']:.2f} decisions/s, "
              f"{figures['loop_evaluations_per_s']:.2f} evaluations/s "
              f"({figures['loop_decisions']:.0f} decisions)")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0 if overhead <= 0.05 and speedup >= 1.8 else 1


if __name__ == "__main__":
    os.environ.setdefault("SEMGREP_ENABLE_VERSION_CHECK", "0")
    sys.exit(main())
