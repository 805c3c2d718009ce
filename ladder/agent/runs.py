"""Run directories: `.ladder/runs/<run>/` holds journal.jsonl, results.tsv and worktrees."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from ladder.errors import LadderError
from ladder.project import Project


@dataclass(frozen=True)
class RunPaths:
    run_id: str
    dir: Path

    @property
    def journal(self) -> Path:
        return self.dir / "journal.jsonl"

    @property
    def results(self) -> Path:
        return self.dir / "results.tsv"


def new_run(project: Project, prefix: str = "") -> RunPaths:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = f"{prefix}{stamp}"
    run_id, n = base, 2
    while (project.runs_dir / run_id).exists():
        run_id, n = f"{base}-{n}", n + 1
    path = project.runs_dir / run_id
    path.mkdir(parents=True)
    return RunPaths(run_id, path)


def existing_run(project: Project, run_id: str | None) -> RunPaths:
    """The named run, or the newest one when `run_id` is None."""
    runs = (
        sorted(p for p in project.runs_dir.glob("*/journal.jsonl"))
        if project.runs_dir.is_dir()
        else []
    )
    if run_id is None:
        if not runs:
            raise LadderError(
                "no agent runs yet",
                where=str(project.runs_dir),
                todo="start one: `ladder agent run`",
            )
        newest = max(runs, key=lambda p: p.stat().st_mtime)
        return RunPaths(newest.parent.name, newest.parent)
    path = project.runs_dir / run_id
    if not (path / "journal.jsonl").is_file():
        known = ", ".join(p.parent.name for p in runs[-5:]) or "none"
        raise LadderError(
            f"no run named {run_id!r}", where=str(project.runs_dir), todo=f"runs here: {known}"
        )
    return RunPaths(run_id, path)
