"""The shipped fakes behave as the parts they stand in for: the in-memory workspace
commits, refuses, checks out and merges like the git workspace does for the loop; the
callable executor reports results as they come and moves its clock; the memory journal
stores records as the real journal does."""

from __future__ import annotations

import math
from pathlib import Path

from ladder.agent.fakes import CallableExecutor, FakeClock, MemoryJournal, MemoryWorkspace
from ladder.agent.records import EvalJob, EvalResult, Proposal, Verdict


def test_commits_are_file_maps_and_checkouts_are_directories(tmp_path: Path) -> None:
    ws = MemoryWorkspace(tmp_path / "w", {"a.py": "A = 1\n", "lib/b.py": "B = 2\n"})
    tree = ws.checkout("candidate", ws.baseline)
    assert (tree / "lib" / "b.py").read_text() == "B = 2\n"
    assert ws.apply(tree, Proposal("x", {"a.py": "A = 2\n"}), ("a.py",)) is None
    outcome = ws.commit(tree, "a -> 2")
    assert outcome.ok and outcome.sha != ws.baseline
    assert ws.show(outcome.sha, "a.py") == "A = 2\n"
    assert ws.show(ws.baseline, "a.py") == "A = 1\n"  # the parent is untouched
    ws.advance(outcome.sha)
    assert ws.tip == outcome.sha
    back = ws.checkout("candidate", ws.baseline)
    assert (back / "a.py").read_text() == "A = 1\n"  # checked out again, clean


def test_proposals_are_checked_like_the_real_workspace(tmp_path: Path) -> None:
    ws = MemoryWorkspace(tmp_path / "w", {"a.py": "A = 1\n", "eval.py": "E\n"})
    tree = ws.checkout("candidate", ws.baseline)
    assert "not editable" in (ws.apply(tree, Proposal("x", {"eval.py": "hacked"}), ("a.py",)) or "")
    assert "outside the worktree" in (ws.apply(tree, Proposal("x", {"../x.py": "1"}), ("*",)) or "")
    assert "no file changes" in (ws.apply(tree, Proposal("x", {"a.py": "A = 1\n"}), ("a.py",)) or "")


def test_refuse_plays_the_hooks(tmp_path: Path) -> None:
    def refuse(files: dict[str, str], parent: dict[str, str]) -> list[str]:
        return ["no-eval"] if "eval(" in files["a.py"] else []

    ws = MemoryWorkspace(tmp_path / "w", {"a.py": "A = 1\n"}, refuse=refuse)  # type: ignore[arg-type]
    tree = ws.checkout("candidate", ws.baseline)
    ws.apply(tree, Proposal("x", {"a.py": "A = eval('1')\n"}), ("a.py",))
    outcome = ws.commit(tree, "use eval")
    assert not outcome.ok and outcome.blocked_by == ("no-eval",)
    assert (tree / "a.py").read_text() == "A = 1\n"  # reset, as the real workspace does


def test_crossover_merges_whole_files(tmp_path: Path) -> None:
    ws = MemoryWorkspace(tmp_path / "w", {"a.py": "A = 1\n", "b.py": "B = 1\n"})
    tree = ws.checkout("candidate", ws.baseline)
    ws.apply(tree, Proposal("x", {"a.py": "A = 2\n"}), ("*.py",))
    left = ws.commit(tree, "a").sha
    tree = ws.checkout("candidate", ws.baseline)
    ws.apply(tree, Proposal("y", {"b.py": "B = 2\n"}), ("*.py",))
    right = ws.commit(tree, "b").sha
    assert ws.crossover(left, right, tree) == {"b.py": "B = 2\n"}
    tree = ws.checkout("candidate", ws.baseline)
    ws.apply(tree, Proposal("z", {"a.py": "A = 3\n"}), ("*.py",))
    clash = ws.commit(tree, "a again").sha
    assert ws.crossover(left, clash, tree) is None  # both changed a.py: a conflict


def test_the_executor_reports_each_result_and_moves_the_clock(tmp_path: Path) -> None:
    clock = FakeClock(100.0)
    seen: list[str] = []

    def evaluate(job: EvalJob) -> EvalResult:
        return EvalResult(job.key, job.seed, {"loss": float(job.seed)}, ok=True, seconds=30.0)

    executor = CallableExecutor(evaluate, slots=2, clock=clock)
    jobs = [EvalJob(f"k{i}", tmp_path, "x", i, 10.0) for i in range(4)]
    results = executor.run(jobs, on_result=lambda r: seen.append(r.key))
    assert [r.key for r in results] == seen == ["k0", "k1", "k2", "k3"]
    assert clock() == 160.0  # four 30-second evaluations on two slots
    assert executor.ran == seen and executor.slots == 2


def test_the_memory_journal_stores_what_the_real_one_stores() -> None:
    journal = MemoryJournal()
    record = journal.append("decision", {"effect": math.nan, "path": Path("a/b"), "n": (1, 2)})
    assert record["data"] == {"effect": "NaN", "path": "a/b", "n": [1, 2]}
    journal.append("stop", {"reason": "done"})
    assert [r["seq"] for r in journal.records()] == [0, 1]
    assert journal.of_kind("stop") == [{"reason": "done"}]


def test_notes_and_refs_record_every_candidate(tmp_path: Path) -> None:
    ws = MemoryWorkspace(tmp_path / "w", {"a.py": "A = 1\n"})
    tree = ws.checkout("candidate", ws.baseline)
    ws.apply(tree, Proposal("x", {"a.py": "A = 2\n"}), ("a.py",))
    sha = ws.commit(tree, "x").sha
    ws.record(sha, 3, Verdict("discard"))
    assert ws.refs == {3: sha} and ws.notes[sha]["status"] == "discard"
