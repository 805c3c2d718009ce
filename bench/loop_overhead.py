"""Overhead of the agent loop around its evaluations, in one run.

With an evaluation that sleeps 2 s (default seeds: 5 paired, so 10 evaluations per
iteration), this prints:

  (a) the share of the loop's wall time spent outside evaluation (select, propose,
      commit through the hooks, defence in depth, bookkeeping)  -> target <= 3%
  (b) the total cost of a blocked mutation (propose, commit refused by the hooks,
      record), against autoresearch's 5-minute evaluation budget -> target <= 1%,
      and its ratio to the 2 s evaluation
  (c) throughput (evaluations per second) with 2 workers against 1 -> target >= 1.8x

Times come from the run's own journal (every record is time-stamped), so process
start-up and repository set-up are not counted. Usage: python bench/loop_overhead.py
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from testing.fixtures import commit, make_repo, set_git_env, write

PROG = "ALPHA = 1.0\nBETA = 2.0\nGAMMA = 3.0\nDELTA = 4\n"
EVALUATE = '''import os
import time

import prog


def main() -> None:
    time.sleep({sleep})
    seed = int(os.environ["LADDER_SEED"])
    noise = (seed % 1000) / 1e6
    loss = (prog.ALPHA - 2) ** 2 + (prog.BETA - 1) ** 2 + (prog.GAMMA - 3) ** 2 + prog.DELTA / 100
    print(f"loss: {{loss + noise:.6f}}")


if __name__ == "__main__":
    main()
'''
AGENT = '''editable = {editable}
eval = "{python} evaluate.py"
timeout = 60
iterations = {iterations}
workers = {workers}
strategy = "hill"
proposer = {proposer}

[metrics.loss]
direction = "min"
role = "target"
'''


def ladder(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "ladder", *args], cwd=root, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"bench: ladder {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")
    return proc


def build(root: Path, sleep: float) -> Path:
    make_repo(root, {"prog.py": PROG, "evaluate.py": EVALUATE.format(sleep=sleep),
                     ".gitignore": "__pycache__/\n"})
    ladder(root, "init")
    ladder(root, "add", "The evaluator is ground truth", "--id", "protect-evaluator", "--why", "bench")
    ladder(root, "promote", "protect-evaluator", "--to", "5", "--rule", "protect", "paths=evaluate.py")
    commit(root, "lessons")
    return root


def configure(root: Path, *, iterations: int, workers: int, editable: list[str], proposer: str) -> None:
    write(root, ".ladder/agent.toml", AGENT.format(
        editable=json.dumps(editable), python=sys.executable, iterations=iterations, workers=workers,
        proposer=proposer))
    commit(root, "agent config")


def records(root: Path) -> list[dict]:
    (journal,) = (root / ".ladder" / "runs").glob("*/journal.jsonl")
    return [json.loads(line) for line in journal.read_text().splitlines()]


def when(rec: dict) -> float:
    return datetime.fromisoformat(rec["ts"].replace("Z", "+00:00")).timestamp()


def busy(recs: list[dict], start: float, end: float) -> float:
    """Seconds within [start, end] during which at least one evaluation ran."""
    spans = sorted((when(r) - r["data"]["seconds"], when(r)) for r in recs if r["kind"] == "evaluation")
    total, cur_a, cur_b = 0.0, None, None
    for a, b in spans:
        a, b = max(a, start), min(b, end)
        if b <= a:
            continue
        if cur_b is None or a > cur_b:
            if cur_b is not None:
                total += cur_b - cur_a
            cur_a, cur_b = a, b
        else:
            cur_b = max(cur_b, b)
    if cur_b is not None:
        total += cur_b - cur_a
    return total


def loop_span(recs: list[dict]) -> tuple[float, float]:
    """From the end of the set-up (the baseline and its noise calibration) to the run's
    stop: the iterations only."""
    start = max(when(r) for r in recs if r["kind"] in ("baseline", "calibration"))
    end = next(when(r) for r in recs if r["kind"] == "stop")
    return start, end


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sleep", type=float, default=2.0, help="seconds each evaluation sleeps")
    parser.add_argument("--iterations", type=int, default=3, help="evaluated iterations per run")
    parser.add_argument("--blocked", type=int, default=8, help="blocked iterations to time")
    opts = parser.parse_args()
    set_git_env()
    # The hooks call `ladder` by name: this interpreter's scripts first, as in an activated venv.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="ladder-loop-bench-") as tmp:
        spans = {}
        for workers in (1, 2):
            root = build(Path(tmp) / f"w{workers}", opts.sleep)
            configure(root, iterations=opts.iterations, workers=workers, editable=["prog.py"],
                      proposer='"mutate"')
            ladder(root, "agent", "run")
            recs = records(root)
            start, end = loop_span(recs)
            # Throughput is evaluations per second: the verified decision spends a
            # different number of seeds on different candidates, so runs differ in work.
            done = sum(1 for r in recs if r["kind"] == "evaluation" and start <= when(r) <= end)
            spans[workers] = (end - start) / max(1, done)
            if workers == 1:
                inside = busy(recs, start, end)
                results["outside_share"] = 1 - inside / (end - start)
                evaluated = sum(1 for r in recs if r["kind"] == "evaluation")
                print(f"loop_overhead: {opts.iterations} iterations, {evaluated} evaluations of "
                      f"{opts.sleep:g} s, 1 worker: loop {end - start:.2f} s, evaluating {inside:.2f} s")
        root = build(Path(tmp) / "blocked", opts.sleep)
        # Every mutation deletes a statement of the protected evaluator: all are refused.
        write(root, "evaluate.py", EVALUATE.format(sleep=opts.sleep))
        configure(root, iterations=opts.blocked, workers=1, editable=["prog.py", "evaluate.py"],
                  proposer='{kind = "mutate", weights = {delete = 1, scale = 0, shift = 0, flip = 0, choice = 0}}')
        ladder(root, "agent", "run")
        recs = records(root)
        decisions = [r for r in recs if r["kind"] == "decision"]
        assert all(d["data"]["verdict"]["status"] == "blocked" for d in decisions), "a mutation got through"
        start, end = loop_span(recs)
        results["blocked_cost"] = (end - start) / len(decisions)
    results["throughput"] = spans[1] / spans[2]
    share, cost, speed = results["outside_share"], results["blocked_cost"], results["throughput"]
    print(f"  (a) outside evaluation: {share * 100:.2f}% of the loop's wall time (target <= 3%)"
          f"{'' if share <= 0.03 else '  OVER'}")
    print(f"  (b) blocked mutation: {cost:.3f} s = {cost / 300 * 100:.3f}% of a 5-minute budget "
          f"(target <= 1%){'' if cost <= 3 else '  OVER'}; {cost / opts.sleep:.3f}x the {opts.sleep:g} s evaluation")
    print(f"  (c) throughput, 2 workers / 1: {speed:.2f}x (target >= 1.8x){'' if speed >= 1.8 else '  UNDER'}")
    return 0 if share <= 0.03 and cost <= 3 and speed >= 1.8 else 1


if __name__ == "__main__":
    raise SystemExit(main())
