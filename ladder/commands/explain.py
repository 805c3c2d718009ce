"""`ladder agent explain RUN ITERATION`: why a candidate was kept, discarded, quarantined
or blocked, from the run's journal."""

from __future__ import annotations

from ladder.project import Project


def run(project: Project, *, run_id: str, iteration: int) -> int:
    from ladder.agent.explain import explain
    from ladder.agent.journal import read_records
    from ladder.agent.runs import existing_run

    paths = existing_run(project, run_id)
    print(explain(read_records(paths.journal), iteration))
    return 0
