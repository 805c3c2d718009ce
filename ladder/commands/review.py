"""`ladder agent review RUN [--keep IT | --reject IT] [--why TEXT]`: a person decides on
the run's quarantined candidates (a result too good to be true is never kept silently).

Without an action it lists them. A review is journaled ("review" record); keeping one
moves branch ladder/<run> to the candidate's commit.
"""

from __future__ import annotations

from typing import Any

from ladder.errors import LadderError
from ladder.project import Project


def run(
    project: Project,
    *,
    run_id: str,
    keep: int | None = None,
    reject: int | None = None,
    why: str = "",
) -> int:
    from ladder.agent.explain import quarantined, review_record
    from ladder.agent.journal import Journal, read_records
    from ladder.agent.runs import existing_run

    if keep is not None and reject is not None:
        raise LadderError("--keep and --reject are exclusive", todo="review one candidate at a time")
    paths = existing_run(project, run_id)
    records = read_records(paths.journal)
    if keep is None and reject is None:
        return _list(quarantined(records), paths.run_id)
    iteration, action = (keep, "keep") if keep is not None else (reject, "reject")
    assert iteration is not None
    data = review_record(records, iteration, action, why)
    with Journal(paths.journal) as journal:  # refused while the run itself holds the journal
        if action == "keep":
            note = _advance(project, paths.run_id, records, data["commit"])
            if note:
                data["note"] = note
        journal.append("review", data)
    print(f"ladder agent review: iteration {iteration} {action}"
          + (f" -> branch ladder/{paths.run_id} now at {data['commit'][:8]}" if action == "keep" else "")
          + (f"\n{data['note']}" if data.get("note") else ""))
    return 0


def _list(entries: list[dict[str, Any]], run_id: str) -> int:
    if not entries:
        print(f"run {run_id}: no quarantined candidate")
        return 0
    for q in entries:
        state = f"reviewed: {q['reviewed']}" if q["reviewed"] else "AWAITING REVIEW"
        print(f"#{q['iteration']:<4} {state:<16} {str(q['commit'])[:8] or '-':<8}  {q['description']}")
        for anomaly in q["anomalies"]:
            print(f"      anomaly: {anomaly}")
        recheck = q.get("recheck") or {}
        verdict = recheck.get("verdict") or {}
        if verdict:
            persisted = (verdict.get("stats") or {}).get("persisted")
            print(f"      re-check on fresh seeds: anomaly {'persisted' if persisted else 'did not persist'}")
    waiting = sum(1 for q in entries if not q["reviewed"])
    print(f"{waiting} awaiting review: `ladder agent explain {run_id} IT`, then "
          f"`ladder agent review {run_id} --keep IT` or `--reject IT` (with --why TEXT)")
    return 0


def _advance(project: Project, run_id: str, records: list[dict[str, Any]], sha: str) -> str:
    """Move ladder/<run> to `sha`; say so when its tip was not the candidate's parent."""
    from ladder.agent.workspace import Workspace

    baseline = next((r["data"]["baseline"] for r in records if r["kind"] == "start"), "")
    if not baseline:
        raise LadderError("the run's journal has no start record", where=run_id)
    ws = Workspace(project.root, run_id, baseline)
    tip = ws.tip()
    parent = ""
    for rec in records:
        cand = (rec.get("data") or {}).get("candidate") or {}
        if rec["kind"] == "decision" and cand.get("commit") == sha:
            parent = str(cand.get("parent", ""))
    ws.advance(sha)
    if parent and tip != parent:
        return (f"note: the branch was at {tip[:8]}, not at the candidate's parent {parent[:8]}: "
                f"keeps after {parent[:8]} are no longer on ladder/{run_id}")
    return ""
