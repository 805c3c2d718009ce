"""What the sandbox costs one evaluation, through the shipped `evaluate()`.

In one run, interleaved, the median wall time of an evaluation (`evaluate()` on an
`EvalJob`, the path every loop evaluation takes) of:

  (a) a trivial command (`echo loss: 1`), sandbox "none" (the trampoline that measures
      peak memory, no confinement)
  (b) the same in the "userns" sandbox (namespaces, every mount remounted read-only,
      loopback up, the nested namespace that drops the capabilities)
  (c) a short Python training stand-in (start-up, a 50 MB allocation), "none"
  (d) the same, "userns"

and the ratios (b)/(a), (d)/(c) and the absolute overhead (b)-(a). An evaluation that
trains for minutes pays the absolute overhead once; the ratio on a trivial command is
the worst case.

Usage: python bench/sandbox_overhead.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ladder.agent.evaluate import evaluate  # noqa: E402
from ladder.agent.records import EvalJob  # noqa: E402
from ladder.sandbox import SANDBOXES  # noqa: E402

TRAIN = f"{sys.executable} -c \"x = bytearray(50 * 2**20); print('loss: 1')\""


def timed(root: Path, command: str, sandbox: str) -> float:
    job = EvalJob("bench", root, command, 1, 60, sandbox=sandbox)
    start = time.perf_counter()
    result = evaluate(job, "loss")
    elapsed = time.perf_counter() - start
    assert result.ok, result.reason
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    why = SANDBOXES["userns"].problem()
    if why:
        print(f"no user namespaces on this machine: {why}")
        return 1
    cases = {"a": ("echo loss: 1", "none"), "b": ("echo loss: 1", "userns"),
             "c": (TRAIN, "none"), "d": (TRAIN, "userns")}
    times: dict[str, list[float]] = {k: [] for k in cases}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for _ in range(args.runs):
            for key, (command, sandbox) in cases.items():
                times[key].append(timed(root, command, sandbox))
    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    for key, (command, sandbox) in cases.items():
        print(f"({key}) {sandbox:6s} {command[:50]:50s} median {med[key]:7.1f} ms")
    print(f"trivial command: userns/none {med['b'] / med['a']:.2f}x, overhead {med['b'] - med['a']:.1f} ms")
    print(f"python stand-in: userns/none {med['d'] / med['c']:.2f}x, overhead {med['d'] - med['c']:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
