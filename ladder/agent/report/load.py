"""A run's report from its directory: the journal's records, its hash chain checked, and
each keep's diff from git (the commits stay reachable under refs/ladder/<run>/)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from ladder.agent.journal import read_records, verify
from ladder.agent.report.model import Journal, RunReport
from ladder.agent.report.read import read_report
from ladder.agent.runs import RunPaths
from ladder.git import run_git


def load_report(root: Path, paths: RunPaths, *, diffs: bool = True) -> RunReport:
    """The report of the run at `paths` in the repository at `root`; `diffs`: read each
    keep's diff from git (list and compare do not show them)."""
    records = read_records(paths.journal)
    problems = [p for p in verify(paths.journal) if not p.torn]  # a torn tail is a kill, not tampering
    journal = Journal(records=len(records), intact=not problems,
                      head=str(records[-1].get("hash", "")) if records else "",
                      problem=str(problems[0]) if problems else "")
    return read_report(paths.run_id, records, diff=partial(keep_diff, root) if diffs else None,
                       journal=journal)


def keep_diff(root: Path, parent: str, commit: str) -> str:
    """What a keep changed. No external diff driver and no textconv: a candidate's
    commit could name one in .gitattributes, and reading a report must run nothing."""
    return run_git(root, "diff", "--no-color", "--no-ext-diff", "--no-textconv", parent, commit,
                   check=False)
