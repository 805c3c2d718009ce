"""`ladder agent compare A B`: two runs side by side (hit rate, evaluations per keep,
blocked share, gain with its interval): how a user sees learning compound run over run."""

from __future__ import annotations

import dataclasses
import json

from ladder.project import Project


def run(project: Project, *, first: str, second: str, fmt: str = "text") -> int:
    from ladder.agent.report.load import load_report
    from ladder.agent.report.summary import compare_text, summarize
    from ladder.agent.runs import existing_run

    a, b = (summarize(load_report(project.root, existing_run(project, r), diffs=False))
            for r in (first, second))
    if fmt == "json":
        print(json.dumps({"a": dataclasses.asdict(a), "b": dataclasses.asdict(b),
                          "comparable": a.target == b.target and a.direction == b.direction},
                         indent=2))
    else:
        print(compare_text(a, b))
    return 0
