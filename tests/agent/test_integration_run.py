"""`ladder agent run` end to end, through the real CLI, on repositories these tests build:
real git, the hooks `ladder init` installs, a level-5 protect lesson on the evaluator, the
`mutate` proposer (allowed by `editable` to touch the evaluator, as in `ladder demo`),
and a real evaluation process. The repository is configured only by TOML."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from testing.agent_repo import (
    PROTECT_ID,
    agent_table,
    journal,
    make_agent_repo,
    of_kind,
    results_rows,
    run_dirs,
)
from testing.cli import ladder
from testing.fixtures import git

pytestmark = pytest.mark.slow

# > the 4 sites of prog.py: coverage-first mutation must reach evaluate.py. (With learning
# on, the skill that lowering Y is would take every turn: the runs here are memoryless.)
ITERATIONS = 8
GENERATED = {"LESSONS.md", "AGENTS.md"}  # what `ladder` regenerates from the lessons


@pytest.mark.parametrize(
    ("strategy", "in_pyproject"),
    [
        pytest.param("hill", False, id="hill"),
        pytest.param("population", False, id="population"),
        pytest.param("evolve", False, id="evolve"),
        pytest.param("auto", False, id="auto"),
        pytest.param("hill", True, id="hill-pyproject"),
    ],
)
def test_agent_run_on_a_repository_configured_only_by_toml(
    tmp_path: Path, strategy: str, in_pyproject: bool
) -> None:
    config = agent_table(
        editable=("prog.py", "evaluate.py"),
        iterations=ITERATIONS,
        strategy=strategy,
        extra="learn = false\n",
        prefix="tool.ladder.agent." if in_pyproject else "",
    )
    root = make_agent_repo(tmp_path / "repo", config=config, in_pyproject=in_pyproject)
    head = git(root, "rev-parse", "HEAD").stdout.strip()

    proc = ladder(root, "agent", "run")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"({strategy}, mutate)" in proc.stdout  # the TOML, not a default, chose it
    assert "learning off (learn = false)" in proc.stdout
    assert not list((root / ".ladder" / "skills").glob("*.toml"))  # nothing learned
    [run_dir] = run_dirs(root)
    run = run_dir.name
    records = journal(root, run)
    [start] = of_kind(records, "start")
    baseline = start["data"]["baseline"]
    if baseline != head:  # the run first committed its generated editable-only lesson
        assert git(root, "rev-parse", f"{baseline}^").stdout.strip() == head
        changed = git(root, "diff", "--name-only", head, baseline).stdout.split()
        assert changed and all(p.startswith(".ladder/lessons/") or p in GENERATED for p in changed)
    decisions = {r["data"]["iteration"]: r["data"] for r in of_kind(records, "decision")}
    assert sorted(decisions) == list(range(1, ITERATIONS + 1))

    # results.tsv: autoresearch's header, then one row per iteration, matching the journal
    header, rows = results_rows(root, run)
    assert header[:5] == ["commit", "loss", "memory_gb", "status", "description"]
    assert [int(r["iteration"]) for r in rows] == list(range(1, ITERATIONS + 1))
    for row in rows:
        assert row["ladder_status"] == decisions[int(row["iteration"])]["verdict"]["status"]

    # status --format json tallies what the journal decided
    status = ladder(root, "agent", "status", "--format", "json")
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    statuses = Counter(d["verdict"]["status"] for d in decisions.values())
    tally = report["tally"]
    assert report["run"] == run and report["stopped"]
    assert tally["iterations"] == ITERATIONS
    assert tally["kept"] == statuses["keep"]
    assert tally["crashed"] == statuses["crash"]
    assert tally["discarded"] == statuses["discard"]
    assert tally["quarantined"] == statuses["quarantine"]  # counted apart (a person decides)
    assert tally["evaluated"] == ITERATIONS - statuses["blocked"]
    assert tally["evaluations"] == len(of_kind(records, "evaluation"))

    # the protect lesson refused the mutations of the evaluator; none was evaluated
    blocked = {it: d for it, d in decisions.items() if d["verdict"]["status"] == "blocked"}
    by_lesson = [it for it, d in blocked.items() if PROTECT_ID in d["verdict"]["stats"].get("lessons", [])]
    assert by_lesson, f"no mutation was refused by {PROTECT_ID}: {decisions}"
    assert tally["blocked"][PROTECT_ID] == len(by_lesson)
    for it in by_lesson:
        assert blocked[it]["candidate"]["features"]["file"] == "evaluate.py"
        assert blocked[it]["candidate"]["commit"] == ""  # git refused it: no commit exists
    # re-validations (the best against the baseline) belong to no iteration
    evaluated_iterations = {r["data"]["iteration"] for r in of_kind(records, "evaluation")
                            if not r["data"]["key"].startswith("reval")}
    assert not evaluated_iterations & set(blocked)
    assert evaluated_iterations == {0} | (set(decisions) - set(blocked))

    _check_git_trail(root, run, baseline, decisions)

    verified = ladder(root, "agent", "verify", run)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "intact" in verified.stdout
    # the main work tree was never touched, and the run's worktrees are gone
    assert git(root, "rev-parse", "HEAD").stdout.strip() == baseline
    # ...except for what the run learned: skills and taught lessons, left for review
    changed = [line[3:] for line in git(root, "status", "--porcelain").stdout.splitlines()]
    learned = (".ladder/skills/", ".ladder/lessons/", "LESSONS.md", "AGENTS.md")
    assert all(path.startswith(learned) for path in changed), changed
    assert not (run_dir / "worktrees").exists()


def _check_git_trail(root: Path, run: str, baseline: str, decisions: dict[int, Any]) -> None:
    """Every candidate commit is under refs/ladder/<run>/<it> with its verdict as a note;
    the branch ladder/<run> is the last kept commit (the baseline when none was kept)."""
    refs = dict(
        line.split(" ")[::-1]
        for line in git(root, "for-each-ref", "--format=%(objectname) %(refname)",
                        f"refs/ladder/{run}/").stdout.splitlines()
    )
    committed = {it: d["candidate"]["commit"] for it, d in decisions.items() if d["candidate"]["commit"]}
    assert committed, "no candidate became a commit"
    assert refs == {f"refs/ladder/{run}/{it}": sha for it, sha in committed.items()}
    for it, sha in committed.items():
        shown = git(root, "notes", "--ref", "ladder", "show", sha)
        note = json.loads(shown.stdout)
        assert note["run"] == run and note["iteration"] == it
        assert note["status"] == decisions[it]["verdict"]["status"]
        parent = git(root, "rev-parse", f"{sha}^").stdout.strip()
        assert parent == decisions[it]["candidate"]["parent"]
    kept = [committed[it] for it in sorted(committed) if decisions[it]["verdict"]["status"] == "keep"]
    tip = git(root, "rev-parse", f"refs/heads/ladder/{run}").stdout.strip()
    assert tip == (kept[-1] if kept else baseline)


def test_what_a_run_learned_is_left_for_review_and_it_says_so(tmp_path: Path) -> None:
    """The same crash twice teaches a lesson, written to the working tree (not committed):
    the summary says where and what to do with it."""
    import sys

    script = tmp_path / "crash.py"
    script.write_text("from pathlib import Path\nPath('prog.py').write_text('raise SystemExit(1)\\n')\n",
                      encoding="utf-8")
    cmd = f"{sys.executable} {script} {{prompt_file}}"
    proposer = "{" + f'kind = "command", cmd = {json.dumps(cmd)}' + "}"
    root = make_agent_repo(tmp_path / "repo", config=agent_table(iterations=2, proposer=proposer))
    proc = ladder(root, "agent", "run")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "lessons taught 1" in proc.stdout
    assert "not committed: review and commit them" in proc.stdout
    assert list((root / ".ladder" / "lessons").glob("learned-*.toml"))
