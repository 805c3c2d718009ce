"""`ladder agent explain` and `ladder agent review` on a real journal and git repository."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ladder.agent.explain import explain, quarantined, review_record
from ladder.agent.journal import Journal, read_records
from ladder.commands import explain as explain_cmd
from ladder.commands import review as review_cmd
from ladder.errors import LadderError
from ladder.project import Project
from testing.fixtures import git, make_repo, write

KEEP_STATS: dict[str, Any] = {
    "rule": "verified", "n": 3, "looks": [1, 2, 3, 4], "stop": "efficacy", "effect": 0.52,
    "delta": -0.52, "ci": [0.21, 0.83], "z": 4.1, "bound": 3.39, "p": 0.0004, "alpha": 0.0025,
    "fdr_test": 3, "min_effect": 0.1, "sd": 0.18, "own_sd": 0.2, "prior_sd": 0.17,
    "prior_df": 40.0, "noise": "pooled over 12 decisions (40 df)",
    "label": "large effect, replicated",
    "guards": {"latency": {"ok": True, "regression": 0.003, "upper": 0.011, "margin": 0.05}},
    "tracked": {"tokens_per_s": {"delta": -1.2, "p": 0.003, "n": 9}}, "anomalies": [],
}
QUARANTINE_STATS: dict[str, Any] = {
    "rule": "verified", "n": 3, "effect": 20.0, "delta": -20.0, "guards": {}, "tracked": {},
    "anomalies": ["evaluation time collapsed to 3% of the parent's (2s vs 60s): was work skipped?"],
}


def decision(it: int, status: str, stats: dict[str, Any], commit: str, parent: str,
             reasons: list[str]) -> dict[str, Any]:
    return {"iteration": it,
            "candidate": {"iteration": it, "commit": commit, "parent": parent,
                          "description": f"change {it}", "status": status},
            "verdict": {"status": status, "reasons": reasons, "stats": stats}}


@pytest.fixture
def run(tmp_path: Path) -> tuple[Project, str, str, str]:
    """A repository with a baseline, a kept commit and a quarantined one, and the journal."""
    repo = make_repo(tmp_path / "r", {"prog.py": "X = 1\n", ".gitignore": ".ladder/runs/\n"})
    base = git(repo, "rev-parse", "HEAD").stdout.strip()
    write(repo, "prog.py", "X = 2\n")
    git(repo, "commit", "-qam", "kept")
    kept = git(repo, "rev-parse", "HEAD").stdout.strip()
    write(repo, "prog.py", "X = 3\n")
    git(repo, "commit", "-qam", "too good")
    flagged = git(repo, "rev-parse", "HEAD").stdout.strip()
    git(repo, "reset", "-q", "--hard", base)
    git(repo, "update-ref", "refs/heads/ladder/r1", kept)
    with Journal(repo / ".ladder" / "runs" / "r1" / "journal.jsonl") as journal:
        journal.append("start", {"run": "r1", "baseline": base})
        journal.append("decision", decision(1, "keep", KEEP_STATS, kept, base,
                                            ["loss improved by 0.52"]))
        journal.append("decision", decision(2, "quarantine", QUARANTINE_STATS, flagged, kept,
                                            ["anomaly: evaluation time collapsed"]))
        journal.append("decision", decision(3, "discard", {"rule": "crude", "n": 1, "effect": -0.1,
                                                           "unverified": True}, "", kept,
                                            ["loss: worse"]))
        journal.append("recheck", {"iteration": 2, "verdict": {"status": "quarantine", "stats": {
            "persisted": True, "recheck": {"n": 3, "effect": 19.0, "p": 0.001}}}})
    return Project(repo), base, kept, flagged


def test_explain_a_keep_shows_every_statistic(run: tuple[Project, str, str, str]) -> None:
    project, *_ = run
    text = explain(read_records(project.runs_dir / "r1" / "journal.jsonl"), 1)
    for part in ("iteration 1: KEEP", "paired seeds: 3 (looks at 1, 2, 3, 4)",
                 "stopped: the improvement was shown", "95% CI 0.21 to 0.83",
                 "z=4.1 against the boundary 3.39", "p=0.0004", "alpha=0.0025", "ADDIS test 3",
                 "prior sd 0.17 with 40 df from pooled over 12 decisions",
                 "kept as: large effect, replicated", "guard latency: ok", "margin 5.0%",
                 "tracked tokens_per_s", "anomalies: none", "loss improved"):
        assert part in text, part
    # no evaluation of it was scored by a protected scorer: the keep says so
    assert "self-reported metric: the candidate can forge it" in text


def test_a_keep_whose_metrics_were_scored_is_not_labelled_self_reported(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    with Journal(path) as journal:
        for k in range(2):
            journal.append("evaluation", {"iteration": 1, "key": f"it1/candidate/s{k}", "ok": True,
                                          "metrics": {"loss": 1.0}, "scored": ["loss"]})
        journal.append("decision", decision(1, "keep", KEEP_STATS, "abc", "def", ["better"]))
    assert "self-reported" not in explain(read_records(path), 1)


def test_explain_a_quarantine_and_a_crude_decision(run: tuple[Project, str, str, str],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    project, *_ = run
    assert explain_cmd.run(project, run_id="r1", iteration=2) == 0
    out = capsys.readouterr().out
    assert "QUARANTINE" in out and "time collapsed" in out and "anomaly persisted" in out
    records = read_records(project.runs_dir / "r1" / "journal.jsonl")
    assert "UNVERIFIED" in explain(records, 3)
    with pytest.raises(LadderError, match="no decision for iteration 9"):
        explain(records, 9)


def test_review_lists_then_keeps_and_moves_the_branch(run: tuple[Project, str, str, str],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    project, _, _kept, flagged = run
    assert review_cmd.run(project, run_id="r1") == 0
    listing = capsys.readouterr().out
    assert "#2" in listing and "AWAITING REVIEW" in listing and "persisted" in listing
    assert review_cmd.run(project, run_id="r1", keep=2, why="checked the logs by hand") == 0
    assert git(project.root, "rev-parse", "ladder/r1").stdout.strip() == flagged
    records = read_records(project.runs_dir / "r1" / "journal.jsonl")
    review = [r["data"] for r in records if r["kind"] == "review"]
    assert review == [{"iteration": 2, "action": "keep", "commit": flagged,
                       "why": "checked the logs by hand", "anomalies": QUARANTINE_STATS["anomalies"]}]
    assert quarantined(records)[0]["reviewed"] == "keep"
    assert "reviewed by a person: keep" in explain(records, 2)
    with pytest.raises(LadderError, match="already reviewed"):
        review_cmd.run(project, run_id="r1", reject=2)


def test_review_refuses_what_is_not_quarantined(run: tuple[Project, str, str, str]) -> None:
    project, *_ = run
    records = read_records(project.runs_dir / "r1" / "journal.jsonl")
    with pytest.raises(LadderError, match="not a quarantined candidate"):
        review_record(records, 1, "keep")
    with pytest.raises(LadderError, match="exclusive"):
        review_cmd.run(project, run_id="r1", keep=2, reject=2)
    assert review_cmd.run(project, run_id="r1", reject=2) == 0
    after = read_records(project.runs_dir / "r1" / "journal.jsonl")
    assert quarantined(after)[0]["reviewed"] == "reject"
