"""`ladder agent list`: the runs of this repository, oldest first, with their headline
results (started, status, evaluations, keeps, best gain with its interval)."""

from __future__ import annotations

import dataclasses
import json

from ladder.errors import LadderError
from ladder.project import Project


def run(project: Project, *, fmt: str = "text") -> int:
    from ladder.agent.report.load import load_report
    from ladder.agent.report.summary import list_text, summarize
    from ladder.agent.runs import RunPaths

    found = sorted(p.parent for p in project.runs_dir.glob("*/journal.jsonl")) \
        if project.runs_dir.is_dir() else []
    summaries, broken = [], []
    for directory in found:
        try:  # one unreadable journal must not hide the other runs
            report = load_report(project.root, RunPaths(directory.name, directory), diffs=False)
        except LadderError as exc:
            broken.append((directory.name, exc.what))
            continue
        summaries.append(summarize(report))
    if fmt == "json":
        print(json.dumps({"runs": [dataclasses.asdict(s) for s in summaries],
                          "unreadable": [{"run": r, "why": why} for r, why in broken]}, indent=2))
    elif not summaries and not broken:
        print("ladder agent list: no runs yet: start one with `ladder agent run`")
    else:
        print(list_text(summaries, broken))
    return 0
