"""Kill a real `ladder agent run` at every journal record boundary, resume each, and
count how many came back exact (issue 12: the way SQLite and FoundationDB test crash
safety).

One reference run (no fault) counts the records R of a `--iterations`-iteration run
with `workers = 2`; then, for every K in 1..R (and every point asked for:
after-record, mid-write, before-append), a fresh copy of the same repository is run
with LADDER_FAULT=<point>:<K>, killed there with SIGKILL, resumed with `--resume` to
completion, and checked (testing/faults.py `check`): the journal verifies against its
anchor, every iteration is decided exactly once, no evaluation is repeated,
results.tsv, the candidate refs, the verdict notes and the run's branch match the
journal, each re-validation measured the commit it names, no worktree is left, and the
user's HEAD, branches and working tree are untouched.

Prints: kill points, killed, resumed, consistent (target 100%), and each anomaly.

Usage: python bench/faults.py [--iterations 30] [--points after-record,mid-write]
                              [--jobs 2] [--stride 1]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from testing.agent_repo import journal, run_dirs
from testing.faults import Outcome, agent, kill_and_resume, template
from testing.fixtures import set_git_env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--points", default="after-record,mid-write")
    parser.add_argument("--jobs", type=int, default=2, help="kill points run side by side")
    parser.add_argument("--stride", type=int, default=1, help="every Nth record only")
    args = parser.parse_args(argv)
    set_git_env()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ladder-faults-") as tmp:
        work = Path(tmp)
        repo = template(work / "template", args.iterations)
        reference = work / "reference"
        import shutil

        shutil.copytree(repo, reference, symlinks=True)
        done = agent(reference)
        if done.returncode != 0:
            print(done.stdout[-2000:], done.stderr[-2000:])
            return 1
        records = len(journal(reference, run_dirs(reference)[0].name))
        faults = [f"{point}:{k}" for point in args.points.split(",")
                  for k in range(1, records + 1, args.stride)]
        print(f"reference run: {args.iterations} iterations, workers 2, {records} records; "
              f"{len(faults)} kill points")
        outcomes: list[Outcome] = []
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            for outcome in pool.map(lambda f: kill_and_resume(repo, work / "points", f), faults):
                outcomes.append(outcome)
                if not outcome.consistent:
                    print(f"  {outcome.fault}: {'; '.join(outcome.anomalies)[:600]}", flush=True)
    killed = [o for o in outcomes if o.killed]
    resumed = [o for o in killed if o.resumed]
    consistent = [o for o in killed if o.consistent]
    share = len(consistent) / len(killed) if killed else 0.0
    print(f"kill points {len(outcomes)}, killed {len(killed)}, resumed {len(resumed)}, "
          f"consistent {len(consistent)} ({share:.1%}; target 100%), anomalies "
          f"{sum(len(o.anomalies) for o in outcomes)}; {time.monotonic() - started:.0f} s")
    return 0 if share == 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
