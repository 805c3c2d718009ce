"""Real repositories for the agent loop's integration tests: a tiny program, a plain-Python
evaluator, `ladder init` hooks, an optional level-5 protect lesson, and the agent's TOML.

Nothing here fakes a part of ladder: the repositories are real git repositories with the
real hooks installed by the real CLI (`python -m ladder`), and the evaluation is a real
process that imports the program and prints `loss: <value>`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from testing.cli import ladder
from testing.fixtures import commit, git, make_repo, write

PROG = "X = 3.0\nY = 2.0\n"

# loss = (X - 1)^2 + (Y - 0.5)^2 plus a tiny noise drawn from LADDER_SEED, so paired
# seeds cancel it. Its UPPER_CASE constants and its `noise = ...` statement are mutation
# sites: a `mutate` proposer allowed to edit this file will try to, and a level-5
# protect lesson must refuse every such commit before it is evaluated.
EVALUATE = """\
import os
import random
import time

from prog import X, Y

NOISE = 0.001
TARGET_X = 1.0
TARGET_Y = 0.5


def loss() -> float:
    noise = random.Random(int(os.environ["LADDER_SEED"])).uniform(-NOISE, NOISE)
    return (X - TARGET_X) ** 2 + (Y - TARGET_Y) ** 2 + noise


if os.path.exists({marker!r}):  # slow only while the test wants it so
    time.sleep({sleep})
print(f"loss: {{loss()}}")
"""

PROTECT_ID = "protect-evaluator"

# A second local pre-commit hook that makes every commit take `seconds` while the file
# `marker` exists (for killing the loop while `git commit` runs).
# `language: system`: every pre-commit from 3.2 on accepts it (4.4 renamed it `unsupported`, which 3.x rejects).
SLOW_HOOK = """\
  - repo: local
    hooks:
      - id: slow-commit
        name: slow commit
        entry: {python} -c "import os, time; os.path.exists({marker!r}) and time.sleep({seconds})"
        language: system
        pass_filenames: false
        always_run: true
"""


def agent_table(
    *,
    editable: Sequence[str] = ("prog.py",),
    iterations: int = 4,
    seeds: int = 2,
    strategy: str = "hill",
    timeout: float = 20,
    proposer: str = '"mutate"',
    extra: str = "",
    prefix: str = "",
) -> str:
    """The agent configuration as TOML; `prefix` is the table path (`tool.ladder.agent.`
    in pyproject.toml, empty at the top of `.ladder/agent.toml`)."""
    head = f"[{prefix.rstrip('.')}]\n" if prefix else ""
    return (
        f"{head}editable = {json.dumps(list(editable))}\n"
        f"eval = {json.dumps(sys.executable + ' evaluate.py')}\n"
        f"timeout = {timeout}\n"
        f"seeds = {seeds}\n"
        f"iterations = {iterations}\n"
        f'strategy = "{strategy}"\n'
        f"proposer = {proposer}\n"
        f"{extra}"
        f"\n[{prefix}metrics.loss]\n"
        'direction = "min"\n'
        'role = "target"\n'
    )


def make_agent_repo(
    path: Path,
    *,
    config: str,
    in_pyproject: bool = False,
    protect: bool = True,
    sleep: float = 0.0,
    slow_commit: float = 0.0,
    marker: Path | None = None,
) -> Path:
    """A committed repository with prog.py, evaluate.py, ladder's hooks, optionally the
    level-5 protect lesson on evaluate.py, and the agent configuration `config`
    (in pyproject.toml's `[tool.ladder.agent]` when `in_pyproject`, else .ladder/agent.toml).

    While the file `marker` exists, each evaluation sleeps `sleep` seconds and, when
    `slow_commit` is set, each commit's hooks take that long: a test deletes it once it
    has killed the run, so the resumed run goes at full speed."""
    flag = str(marker) if marker else ""
    root = make_repo(path, {"prog.py": PROG, "evaluate.py": EVALUATE.format(sleep=sleep, marker=flag)})
    _ok(ladder(root, "init"))
    if protect:
        _ok(ladder(root, "add", "The evaluator is ground truth", "--id", PROTECT_ID,
                   "--why", "An agent that edits its evaluator can score anything it likes."))
        _ok(ladder(root, "promote", PROTECT_ID, "--to", "5", "--rule", "protect",
                   "paths=evaluate.py"))
    if slow_commit:
        hooks = root / ".pre-commit-config.yaml"
        text = hooks.read_text(encoding="utf-8").rstrip("\n") + "\n"
        hooks.write_text(text + SLOW_HOOK.format(python=sys.executable, seconds=slow_commit, marker=flag),
                         encoding="utf-8")
    if in_pyproject:
        write(root, "pyproject.toml", '[project]\nname = "prog"\nversion = "0"\n\n' + config)
    else:
        write(root, ".ladder/agent.toml", config)
    done = commit(root, "lessons, hooks and the agent's configuration")
    assert done.returncode == 0, done.stdout + done.stderr
    assert not git(root, "status", "--porcelain").stdout.strip()
    return root


def _ok(proc: Any) -> None:
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"


def run_dirs(root: Path) -> list[Path]:
    runs = root / ".ladder" / "runs"
    return sorted(p for p in runs.iterdir() if (p / "journal.jsonl").is_file()) if runs.is_dir() else []


def journal(root: Path, run: str) -> list[dict[str, Any]]:
    """The run's complete records, read straight from the file (a torn last line is
    left out, as the journal itself does)."""
    path = root / ".ladder" / "runs" / run / "journal.jsonl"
    out = []
    for line in path.read_bytes().split(b"\n"):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            out.append(record)
    return out


def of_kind(records: Sequence[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r for r in records if r["kind"] == kind]


def results_rows(root: Path, run: str) -> tuple[list[str], list[dict[str, str]]]:
    """results.tsv as (header, rows)."""
    lines = (root / ".ladder" / "runs" / run / "results.tsv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    return header, [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:]]
