"""Recorded runs for the report's tests: the real loop (`ladder agent run`, real git, the
hooks `ladder init` installs, a level-5 protect lesson, real evaluation processes) on
small programs built so every section of a report has something in it.

- `rich_run`: keeps, discards, a crash that repeats (a flag whose flip breaks a check),
  mutations of the protected evaluator blocked by the hooks, a guard metric (`size`) a
  tempting change regresses, and learning on: skills created, a lesson taught.
- `hostile_run`: a `command` proposer whose descriptions and diffs carry markup
  (`<script>`, an `onerror` image, control characters): what an untrusted proposer may
  write, which every renderer must show as text.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from testing.agent_repo import PROTECT_ID
from testing.cli import ladder
from testing.fixtures import commit, make_repo, write

PROG = """\
X = 3.0
Y = 2.0
WIDTH = 8
STRICT = True


def check() -> None:
    assert STRICT, "the strict check was switched off"
    assert abs(X) < 10 and abs(Y) < 10, "out of range"


check()
"""

# loss falls as X -> 1 and Y -> 0.5, and a little as WIDTH grows; `size` (a guard) is
# WIDTH itself, so widening is a real gain on the target that the guard must refuse.
EVALUATE = """\
import os
import random

from prog import WIDTH, X, Y

NOISE = 0.001


def loss() -> float:
    noise = random.Random(int(os.environ["LADDER_SEED"])).uniform(-NOISE, NOISE)
    return (X - 1.0) ** 2 + (Y - 0.5) ** 2 + 1.0 / WIDTH + noise


print(f"loss: {loss()}")
print(f"size: {float(WIDTH)}")
"""

# Writes a lower X into prog.py with a comment of markup, and prints a description
# full of it (the command proposer's description is the last line it prints).
PROPOSE = r"""
import re
from pathlib import Path

prog = Path("prog.py")
text = prog.read_text()
x = float(re.search(r"^X = (.*)$", text, re.M).group(1))
text = re.sub(r"^X = .*$", f"X = {x - 0.5!r}", text, count=1, flags=re.M)
prog.write_text(text + "# <script>alert('diff')</script>\n")
print("<script>alert('pwned')</script> lower X <img src=x onerror=alert(1)> \x1b[31mred\x1b[0m | `tick`")
"""

HOSTILE = "<script>alert('pwned')</script>"


def _repo(path: Path, config: str, files: dict[str, str]) -> Path:
    root = make_repo(path, {"prog.py": PROG, "evaluate.py": EVALUATE, **files})
    for args in (("init",),
                 ("add", "The evaluator is ground truth", "--id", PROTECT_ID, "--why",
                  "An agent that edits its evaluator can score anything it likes."),
                 ("promote", PROTECT_ID, "--to", "5", "--rule", "protect", "paths=evaluate.py")):
        proc = ladder(root, *args)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    write(root, ".ladder/agent.toml", config)
    done = commit(root, "lessons, hooks and the agent's configuration")
    assert done.returncode == 0, done.stdout + done.stderr
    return root


def _config(editable: str, proposer: str, iterations: int) -> str:
    return (f"editable = {editable}\n"
            f'eval = "{sys.executable} evaluate.py"\n'
            f"timeout = 20\nseeds = 2\niterations = {iterations}\n"
            f'strategy = "hill"\nproposer = {proposer}\n'
            '\n[metrics.loss]\ndirection = "min"\nrole = "target"\n'
            '\n[metrics.size]\ndirection = "min"\nrole = "guard"\nmargin = 0.1\n')


def agent_run(root: Path, *flags: str) -> str:
    """Run the loop in `root` (real CLI); the new run's id."""
    before = set(_runs(root))
    proc = ladder(root, "agent", "run", *flags)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [run] = sorted(set(_runs(root)) - before)
    return run


def _runs(root: Path) -> list[str]:
    runs = root / ".ladder" / "runs"
    return [p.name for p in runs.iterdir()] if runs.is_dir() else []


RICH = {"keep", "discard", "crash", "blocked"}  # what a rich run's decisions must include


def rich_run(path: Path, iterations: int = 16, tries: int = 6) -> tuple[Path, str]:
    """(repository, run id) of a run with something in every section of its report.

    A run's proposals are drawn from its seed and its id (a timestamp), so which
    mutations 16 iterations reach changes from run to run: a run that missed a kind of
    verdict is replaced by a fresh one (a new repository: nothing learned carries over)."""
    proposer = ('{kind = "mutate", weights = {flip = 6, "scale:WIDTH:up" = 6, '
                '"scale:NOISE" = 4, delete = 2}}')
    seen: list[set[str]] = []
    for attempt in range(tries):
        root = _repo(path.with_name(f"{path.name}-{attempt}") if attempt else path,
                     _config('["prog.py", "evaluate.py"]', proposer, iterations), {})
        run = agent_run(root)
        statuses = _statuses(root, run)
        if statuses >= RICH:
            return root, run
        seen.append(statuses)
    raise AssertionError(f"no run of {tries} reached every verdict {sorted(RICH)}: {seen}")


def _statuses(root: Path, run: str) -> set[str]:
    journal = root / ".ladder" / "runs" / run / "journal.jsonl"
    records = [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines()]
    return {r["data"]["verdict"]["status"] for r in records if r.get("kind") == "decision"}


def hostile_repo(path: Path, iterations: int = 2) -> Path:
    """A repository whose proposer writes markup everywhere it can (run it: `agent_run`)."""
    proposer = f'{{kind = "command", cmd = "{sys.executable} propose.py {{prompt_file}}"}}'
    return _repo(path, _config('["prog.py"]', proposer, iterations), {"propose.py": PROPOSE})
