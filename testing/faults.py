"""The crash-test harness: a real `ladder agent run` killed at a chosen journal record
(ladder.agent.faults), resumed to completion, and every invariant of an exact resume
checked. Shared by tests/agent/test_faults.py (a sample of kill points) and
bench/faults.py (every one).

The run is the real CLI in a real repository (hooks, a level-5 lesson, a plain-Python
evaluator), `workers = 2`; each kill point gets its own copy of one template repository.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ladder.agent.results import expected_text
from ladder.commands.agent import protect_non_editable
from ladder.project import Project
from testing.agent_repo import agent_table, journal, make_agent_repo, run_dirs
from testing.fixtures import git

ITERATIONS = 6
PLAIN = ("refs/heads/", "HEAD")


def fault_config(iterations: int = ITERATIONS) -> str:
    # Two workers (the journal's writers race: issue 12), re-validation after every keep
    # (kills inside one), learning off (what a run learns goes to the user's tree on
    # purpose; the invariants below say the tree is untouched).
    return agent_table(
        iterations=iterations, seeds=3, strategy="hill",
        extra="workers = 2\nlearn = false\nsandbox = { mode = \"none\" }\n"
              "verify = { revalidate_every = 1 }\n",
    )


def template(path: Path, iterations: int = ITERATIONS) -> Path:
    """The repository each kill point copies, with the lesson protecting what is not
    editable already committed (a new run commits it to the user's branch, by design:
    that is not what the invariants below are about)."""
    return protected(make_agent_repo(path, config=fault_config(iterations)))


def protected(root: Path, editable: Sequence[str] = ("prog.py",)) -> Path:
    """`root` with the generated lesson protecting all but `editable` committed, as the
    first run would commit it."""
    with contextlib.redirect_stdout(io.StringIO()):
        protect_non_editable(Project(root), tuple(editable))
    return root


def agent(root: Path, *args: str, fault: str = "", timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "LADDER_FAULT"}
    if fault:
        env["LADDER_FAULT"] = fault
    return subprocess.run([sys.executable, "-m", "ladder", "agent", "run", *args], cwd=root,
                          env=env, capture_output=True, text=True, timeout=timeout, check=False)


@dataclass
class Outcome:
    fault: str
    killed: bool  # the fault fired (a K beyond the run's records does not)
    resumed: bool  # `--resume` ran to completion (exit 0)
    anomalies: list[str] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        return self.resumed and not self.anomalies


def user_state(root: Path) -> tuple[str, str, str]:
    """HEAD, the branches that are not the runs', and the working tree's status."""
    head = git(root, "rev-parse", "HEAD").stdout.strip()
    branches = "\n".join(line for line in git(root, "for-each-ref", "--format=%(refname) %(objectname)",
                                              "refs/heads/").stdout.splitlines()
                         if not line.startswith("refs/heads/ladder/"))
    return head, branches, git(root, "status", "--porcelain", "--untracked-files=all").stdout


def kill_and_resume(template_repo: Path, work: Path, fault: str) -> Outcome:
    """Copy the template, run it with `fault`, resume it to completion, check it."""
    root = work / fault.replace(":", "-")
    root.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(template_repo, root, symlinks=True)
    before = user_state(root)
    first = agent(root, fault=fault)
    if first.returncode == 0:
        return Outcome(fault, killed=False, resumed=True, anomalies=check(root, before))
    if first.returncode != -9:
        return Outcome(fault, True, False, [f"the faulted run exited {first.returncode}: "
                                            f"{(first.stdout + first.stderr)[-600:]}"])
    runs = run_dirs(root)
    if not runs or not journal(root, runs[0].name):
        # Killed before the run's first record: nothing to resume, and nothing done.
        gone = [] if user_state(root)[0] == before[0] else ["HEAD moved before the run started"]
        return Outcome(fault, True, True, gone)
    resumed = agent(root, "--resume", runs[0].name)
    if resumed.returncode != 0:
        return Outcome(fault, True, False, [f"the resume exited {resumed.returncode}: "
                                            f"{(resumed.stdout + resumed.stderr)[-600:]}"])
    return Outcome(fault, True, True, check(root, before))


def check(root: Path, before: tuple[str, str, str]) -> list[str]:
    """Every invariant of an exact resume; [] when all hold."""
    run = run_dirs(root)[0].name
    records = journal(root, run)
    problems: list[str] = []
    verify = subprocess.run([sys.executable, "-m", "ladder", "agent", "verify", run], cwd=root,
                            capture_output=True, text=True, check=False)
    if verify.returncode != 0:
        problems.append(f"verify: {verify.stderr.strip()[-400:]}")
    decided = Counter(r["data"]["iteration"] for r in records if r["kind"] == "decision")
    iterations = _iterations(records)
    if sorted(decided) != list(range(1, iterations + 1)) or any(n != 1 for n in decided.values()):
        problems.append(f"iterations decided: {dict(sorted(decided.items()))}, want 1..{iterations} once each")
    # A failed evaluation is tried again by a resume (a baseline that failed for now);
    # one that succeeded never runs twice.
    keys = Counter(r["data"]["key"] for r in records if r["kind"] == "evaluation" and r["data"]["ok"])
    twice = sorted(k for k, n in keys.items() if n > 1)
    if twice:
        problems.append(f"evaluated twice: {twice[:5]}")
    target = "loss"
    tsv = root / ".ladder" / "runs" / run / "results.tsv"
    if tsv.read_text(encoding="utf-8") != expected_text(records, target):
        problems.append("results.tsv does not match the journal's decisions")
    problems += _refs(root, run, records)
    problems += _revalidations(records)
    if sum(r["kind"] == "stop" for r in records) < 1:
        problems.append("no stop record")
    after = user_state(root)
    for name, was, now in zip(("HEAD", "branches", "working tree"), before, after, strict=True):
        if was != now:
            problems.append(f"the user's {name} changed: {was[:200]!r} -> {now[:200]!r}")
    worktrees = [line for line in git(root, "worktree", "list", "--porcelain").stdout.splitlines()
                 if line.startswith("worktree ")]
    if len(worktrees) != 1:
        problems.append(f"worktrees left: {worktrees[1:]}")
    return problems


def _iterations(records: Sequence[dict[str, Any]]) -> int:
    configured = [r["data"]["config"]["iterations"] for r in records if r["kind"] == "start"]
    return int(configured[0]) if configured else ITERATIONS


def _refs(root: Path, run: str, records: Sequence[dict[str, Any]]) -> list[str]:
    listing = git(root, "for-each-ref", "--format=%(refname) %(objectname)", f"refs/ladder/{run}/",
                  f"refs/heads/ladder/{run}").stdout
    refs = dict(line.split(" ", 1) for line in listing.splitlines())
    noted = {line.split()[1] for line in git(root, "notes", "--ref=refs/notes/ladder", "list").stdout.splitlines()}
    problems = []
    tip = next(r["data"]["baseline"] for r in records if r["kind"] == "start")
    for rec in records:
        if rec["kind"] != "decision":
            continue
        cand, it = rec["data"]["candidate"], rec["data"]["iteration"]
        if cand["commit"]:
            if refs.get(f"refs/ladder/{run}/{it}") != cand["commit"]:
                problems.append(f"refs/ladder/{run}/{it} is not the decided commit")
            if cand["commit"] not in noted:
                problems.append(f"iteration {it}'s commit has no verdict note")
        if cand["status"] == "keep":
            tip = cand["commit"]
    if refs.get(f"refs/heads/ladder/{run}") != tip:
        problems.append(f"branch ladder/{run} is not at the journal's last keep")
    return problems


def _revalidations(records: Sequence[dict[str, Any]]) -> list[str]:
    """Each re-validation's results are of the commit it names, measured before it
    (issue 12: one reused another best's measurements). Results are keyed
    `reval/COMMIT/sK` (the baseline's `reval/baseline/sK`, shared by all of them)."""
    problems = []
    measured: set[str] = set()
    for rec in records:
        if rec["kind"] == "evaluation" and rec["data"]["key"].startswith("reval/"):
            measured.add(rec["data"]["key"].split("/")[1])
        if rec["kind"] != "revalidation":
            continue
        data = rec["data"]
        if str(data["commit"])[:12] not in measured:
            problems.append(f"re-validation {data['index']} names {data['commit'][:12]}, "
                            f"no evaluation of it came before (measured: {sorted(measured)})")
    return problems
