"""A run's state rebuilt from its journal (for --resume, `status` and `ladder try`), and
the records' conversion to and from the journal's JSON.

The journal alone is enough to resume: every evaluation, decision, calibration and
re-validation is a record, and the decision rule's state is journaled after each
decision, so `replay` rebuilds exactly what the interrupted run held.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ladder.agent.records import Candidate, EvalResult, Proposal, Verdict


@dataclass
class Tally:
    """What the run did, for the summary line and `ladder agent status`."""

    iterations: int = 0
    blocked: dict[str, int] = field(default_factory=dict)  # by lesson id or reason kind
    evaluated: int = 0
    kept: int = 0
    discarded: int = 0
    crashed: int = 0
    invalid: int = 0
    quarantined: int = 0
    tampered: int = 0  # candidates whose evaluation touched what it must not (tamper.py)
    evaluations: int = 0  # single evaluations run (each seed of parent and candidate)
    refused_by_guard: dict[str, int] = field(default_factory=dict)  # significant, refused

    def count(self, verdict: Verdict) -> None:
        self.iterations += 1
        status = verdict.status
        if status == "blocked":
            kind = str(verdict.stats.get("kind", "hook"))
            if kind == "invalid":
                self.invalid += 1
            for key in verdict.stats.get("lessons") or [kind]:
                self.blocked[key] = self.blocked.get(key, 0) + 1
            return
        self.evaluated += 1
        if status == "keep":
            self.kept += 1
        elif status == "crash":
            self.crashed += 1
        elif status == "quarantine":
            self.quarantined += 1
        elif status == "tamper":
            self.tampered += 1
        else:
            self.discarded += 1
        for name in verdict.stats.get("refused_by") or ():
            self.refused_by_guard[name] = self.refused_by_guard.get(name, 0) + 1


@dataclass
class Pending:
    """What the journal holds of an iteration that has no decision yet."""

    selection: dict[str, Any] | None = None
    proposal: dict[str, Any] | None = None
    sha: str = ""


@dataclass
class Replayed:
    """A run's state as its journal tells it."""

    started_at: float | None = None
    history: list[Candidate] = field(default_factory=list)
    evals: dict[str, EvalResult] = field(default_factory=dict)
    spent_in: dict[int, int] = field(default_factory=dict)  # iteration -> evaluations it ran
    tally: Tally = field(default_factory=Tally)
    pending: dict[int, Pending] = field(default_factory=dict)
    next_iteration: int = 1
    stop_reason: str = ""
    escalated: set[int] = field(default_factory=set)
    calibrated: bool = False
    revalidations: list[dict[str, Any]] = field(default_factory=list)
    converged_reason: str = ""
    decision_state: Mapping[str, Any] | None = None
    verdicts: dict[int, Verdict] = field(default_factory=dict)  # iteration -> its verdict


def replay(records: Iterable[Mapping[str, Any]]) -> Replayed:
    """Fold the journal's records into the run's state."""
    out = Replayed()
    for rec in records:
        if not isinstance(rec, Mapping) or not isinstance(rec.get("data"), Mapping):
            continue  # not a record (a `{}` line): `ladder agent verify` names it; reading goes on
        kind, data = rec.get("kind"), rec["data"]
        if kind == "start":
            out.started_at = float(data["ts"]) if "ts" in data else None
        elif kind == "tamper":  # results of a window the candidate tampered with
            for key in data.get("discarded", []):
                out.evals.pop(str(key), None)
        elif kind == "evaluation":
            out.evals[data["key"]] = result_from(data)
            out.tally.evaluations += 1
            if data.get("iteration") is not None:
                it = int(data["iteration"])
                out.spent_in[it] = out.spent_in.get(it, 0) + 1
        elif kind == "baseline":
            out.history.insert(0, candidate_from(data["candidate"]))
        elif kind == "decision":
            it = int(data["iteration"])
            out.history.append(candidate_from(data["candidate"]))
            out.verdicts[it] = verdict_from(data["verdict"])
            out.tally.count(out.verdicts[it])
            out.pending.pop(it, None)
            out.next_iteration = max(out.next_iteration, it + 1)
            state = data.get("decision", data.get("verifier"))
            if state is not None:
                out.decision_state = state
        elif kind in ("select", "proposal", "commit"):
            p = out.pending.setdefault(int(data["iteration"]), Pending())
            if kind == "select":
                p.selection = data
            elif kind == "proposal":
                p.proposal = data
            else:
                p.sha = data["sha"]
        elif kind == "stop":
            out.stop_reason = data.get("reason", "")
        elif kind == "escalation":
            out.escalated.add(int(data["iteration"]))
        elif kind == "calibration":
            out.calibrated = True
            out.decision_state = data.get("decision", data.get("verifier"))
        elif kind == "revalidation":
            out.revalidations.append(dict(data))
        elif kind == "converged":
            out.converged_reason = str(data.get("reason", ""))
    return out


# --- conversions ---------------------------------------------------------------------


def candidate_dict(c: Candidate) -> dict[str, Any]:
    return dataclasses.asdict(c)


def candidate_from(d: Mapping[str, Any]) -> Candidate:
    names = {f.name for f in dataclasses.fields(Candidate)}
    return Candidate(**{k: v for k, v in d.items() if k in names})


def result_dict(r: EvalResult) -> dict[str, Any]:
    out = {"key": r.key, "seed": r.seed, "metrics": dict(r.metrics), "ok": r.ok,
           "reason": r.reason, "tail": r.tail, "seconds": r.seconds, "scored": list(r.scored)}
    if r.placement:  # where it ran (host, device; on a cluster the node): the report shows it
        out["placement"] = dict(r.placement)
    return out


def result_from(d: Mapping[str, Any]) -> EvalResult:
    return EvalResult(
        key=d["key"],
        seed=d["seed"],
        # the journal stores non-finite floats as "NaN"/"Infinity" strings
        metrics={k: float(v) for k, v in d["metrics"].items()},
        ok=d["ok"],
        reason=d.get("reason", ""),
        tail=d.get("tail", ""),
        seconds=d.get("seconds", 0.0),
        scored=tuple(d.get("scored", ())),
        placement={str(k): str(v) for k, v in (d.get("placement") or {}).items()},
    )


def proposal_dict(it: int, proposal: Proposal) -> dict[str, Any]:
    return {"iteration": it, "description": proposal.description, "files": dict(proposal.files),
            "deleted": list(proposal.deleted), "features": dict(proposal.features),
            "proposer": proposal.proposer}


def proposal_from(data: Mapping[str, Any]) -> Proposal:
    return Proposal(description=data["description"], files=data["files"],
                    features=data["features"], proposer=data["proposer"],
                    deleted=tuple(data.get("deleted", ())))


def verdict_dict(verdict: Verdict) -> dict[str, Any]:
    return {"status": verdict.status, "reasons": list(verdict.reasons),
            "stats": jsonable(verdict.stats)}


def verdict_from(d: Mapping[str, Any]) -> Verdict:
    return Verdict(d["status"], tuple(d["reasons"]), d["stats"])


def jsonable(value: Any) -> Any:
    """`value` with NaN as None and anything exotic as its string (journal-safe)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
