"""Failure lessons: the same failure twice becomes a level-5 rule that blocks the third
attempt before evaluation, in a real repository with ladder's real hooks and gates."""

from __future__ import annotations

from pathlib import Path

import pytest

from ladder.agent.records import Verdict
from ladder.agent.skills import Learner
from ladder.agent.skills.failures import bound_for, classify, taught_by
from ladder.agent.workspace import Workspace
from ladder.project import Project
from ladder.store import load_lessons
from testing.cli import ladder
from testing.fixtures import commit, make_repo
from testing.skills import FILE, config, decide, move, program, verdict

NAN = "seed 1: loss is nan"


@pytest.fixture
def project(tmp_path: Path) -> Project:
    root = make_repo(tmp_path / "repo", {FILE: program(0.1)})
    assert ladder(root, "init").returncode == 0
    assert commit(root, "ladder init").returncode == 0
    return Project(root)


def crash_twice(learner: Learner) -> list[object]:
    events: list[object] = []
    decide(learner, 1, move("LR", 0.1, 0.125), verdict("keep", 0.1))  # LR 0.125 ran fine
    events += decide(learner, 2, move("LR", 0.125, 0.5), verdict("crash", reason=NAN))
    events += decide(learner, 3, move("LR", 0.125, 0.25), verdict("crash", reason=NAN))
    return events


def test_failure_seen_twice_becomes_a_level5_rule_that_blocks_the_third(project: Project) -> None:
    learner = Learner(project, "run1", config())
    events = crash_twice(learner)
    (event,) = [e for e in events if getattr(e, "kind", "") == "lesson"]
    assert learner.lessons_changed() and not learner.lessons_changed()
    (lesson,) = [x for x in load_lessons(project) if "learned" in x.tags]
    assert lesson.level == 5 and lesson.rule is not None
    # Just past the last value that ran: the unknown gap up to 0.25 counts as failing.
    assert dict(lesson.rule.args) == {"name": "LR", "op": "<", "value": 0.13,
                                      "message": lesson.rule.args["message"]}
    assert lesson.source == "learned by run run1 from iterations 2, 3"
    assert taught_by(lesson) == "run1"
    assert [c.code for c in lesson.rule.block] == ["LR = 0.5\n", "LR = 0.25\n"]
    assert [c.code for c in lesson.rule.allow] == ["LR = 0.125\n"]
    assert [(h.from_level, h.to_level) for h in lesson.history] == [(0, 1), (1, 5)]
    assert event.data["level"] == 5 and event.data["stopped"] == []  # type: ignore[attr-defined]

    # The third attempt: committed in a worktree (whose hooks read the lessons of the
    # commit they judge, which has none yet), then refused by the loop's own check.
    ws = Workspace(project.root, "run1", "HEAD", editable=(FILE,))
    ws.start()
    tree = ws.checkout("candidate", ws.baseline)
    (tree / FILE).write_text(program(0.3), encoding="utf-8")
    outcome = ws.commit(tree, "LR 0.3")
    assert outcome.ok
    problems = ws.verify_commit(tree, outcome.sha, ws.baseline)
    assert any(f"[{lesson.id}]" in p for p in problems)
    blocked = Verdict("blocked", ("; ".join(problems),), {"kind": "verify"})
    from ladder.agent.records import Candidate

    learner.after_decision(Candidate(4, outcome.sha, ws.baseline, "LR 0.3", "blocked"), blocked,
                           move("LR", 0.1, 0.3), {}, {})
    summary = learner.summary()
    assert summary["blocked_by_taught_lessons"] == {lesson.id: 1}
    assert summary["evaluations_saved"] == 1
    assert summary["lessons_taught"] == [lesson.id]

    # `ladder check` blocks it too, and lets a value under the bound through.
    (project.root / FILE).write_text(program(0.3), encoding="utf-8")
    assert ladder(project.root, "check", FILE).returncode == 1
    (project.root / FILE).write_text(program(0.12), encoding="utf-8")
    assert ladder(project.root, "check", FILE).returncode == 0


def test_a_failure_the_bound_let_through_tightens_it(project: Project) -> None:
    learner = Learner(project, "run1", config())
    crash_twice(learner)  # LR < 0.13
    learner.lessons_changed()
    (lesson,) = [x for x in load_lessons(project) if "learned" in x.tags]
    events = decide(learner, 4, move("LR", 0.125, 0.128), verdict("crash", reason=NAN))
    assert [e.data["action"] for e in events if e.kind == "lesson"] == ["tightened"]
    assert learner.lessons_changed()
    (after,) = [x for x in load_lessons(project) if "learned" in x.tags]
    assert after.id == lesson.id and after.level == 5 and after.rule is not None
    assert after.rule.args["value"] == 0.1251 and after.rule.args["op"] == "<"
    assert "LR = 0.128\n" in [c.code for c in after.rule.block]
    assert after.title.startswith("LR at or above 0.1251")
    last = after.history[-1]
    assert (last.from_level, last.to_level) == (5, 5)
    assert "tightened from 0.13 to 0.1251" in last.why
    assert learner.summary()["lessons_tightened"] == [lesson.id]
    # The next run enforces the tighter bound.
    (project.root / FILE).write_text(program(0.128), encoding="utf-8")
    assert ladder(project.root, "check", FILE).returncode == 1
    # A failure no bound can separate from a value that ran leaves the lesson alone.
    decide(learner, 5, move("LR", 0.1, 0.12), verdict("crash", reason=NAN))
    decide(learner, 6, move("LR", 0.12, 0.125), verdict("keep", 0.1))
    assert not [e for e in decide(learner, 7, move("LR", 0.1, 0.11), verdict("crash", reason=NAN))
                if e.kind == "lesson"]
    (same,) = [x for x in load_lessons(project) if "learned" in x.tags]
    assert same.rule is not None and same.rule.args["value"] == 0.1251


def test_one_failure_per_run_across_two_runs_is_twice(project: Project) -> None:
    decide(Learner(project, "run1", config()), 1, move("LR", 0.1, 0.5), verdict("crash", reason=NAN))
    assert not [x for x in load_lessons(project) if "learned" in x.tags]
    second = Learner(project, "run2", config())
    decide(second, 1, move("LR", 0.1, 0.4), verdict("crash", reason=NAN))
    (lesson,) = [x for x in load_lessons(project) if "learned" in x.tags]
    assert lesson.source == "learned by run run2 from iterations run1#1, 1"


@pytest.mark.parametrize(("limit", "level"), [pytest.param(0, 1, id="off"), pytest.param(2, 2, id="to-2")])
def test_promotion_limit(project: Project, limit: int, level: int) -> None:
    learner = Learner(project, "run1", config(learn_promote=limit))
    (event,) = [e for e in crash_twice(learner) if getattr(e, "kind", "") == "lesson"]
    (lesson,) = [x for x in load_lessons(project) if "learned" in x.tags]
    assert lesson.level == level == event.data["level"]  # type: ignore[attr-defined]


def test_no_hooks_stops_below_level5_and_says_why(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "bare", {FILE: program(0.1)})
    (root / ".ladder" / "lessons").mkdir(parents=True)
    learner = Learner(Project(root), "run1", config())
    (event,) = [e for e in crash_twice(learner) if getattr(e, "kind", "") == "lesson"]
    assert event.data["level"] == 4  # type: ignore[attr-defined]
    assert any("hooks are not installed" in r for r in event.data["stopped"])  # type: ignore[attr-defined]


def test_different_failures_do_not_add_up(project: Project) -> None:
    learner = Learner(project, "run1", config())
    decide(learner, 1, move("LR", 0.1, 0.5), verdict("crash", reason=NAN))
    decide(learner, 2, move("LR", 0.1, 0.05), verdict("crash", reason=NAN))  # the other way
    decide(learner, 3, move("WD", 0.1, 0.5), verdict("crash", reason=NAN))  # another constant
    decide(learner, 4, move("LR", 0.1, 0.4), verdict("crash", reason="seed 1: timeout after 5 s"))
    assert not [x for x in load_lessons(project) if "learned" in x.tags]


@pytest.mark.parametrize(
    ("status", "reasons", "stats", "kind"),
    [
        pytest.param("crash", ("seed 1: loss is nan",), {}, "nan", id="nan"),
        pytest.param("crash", ("seed 1: timeout after 60 s: the process group was killed",), {}, "timeout", id="timeout"),
        pytest.param("crash", ("seed 1: exit code 1",), {}, "crash", id="crash"),
        pytest.param("discard", ("guard seconds regressed",), {"guards": {"seconds": {"ok": False}}},
                     "guard:seconds", id="guard"),
        pytest.param("discard", ("worse",), {"guards": {"seconds": {"ok": True}}}, None, id="plain-discard"),
        pytest.param("keep", ("better",), {}, None, id="keep"),
    ],
)
def test_classify(status: str, reasons: tuple[str, ...], stats: dict[str, object], kind: str | None) -> None:
    assert classify(Verdict(status, reasons, stats)) == kind  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("direction", "failing", "passing", "integer", "bound"),
    [
        pytest.param("up", [0.5, 0.25], [0.1, 0.125], False, ("<", 0.13), id="up"),
        pytest.param("up", [0.2745, 0.31], [0.2495], False, ("<", 0.25), id="up-near"),
        pytest.param("up", [1024], [512, 256], True, ("<", 600), id="int"),
        pytest.param("up", [1256], [1005], True, ("<", 1010), id="int-near"),
        pytest.param("up", [3], [2], True, ("<", 3), id="int-next"),
        pytest.param("down", [1e-9], [1e-8], False, (">", 9e-9), id="down"),
        pytest.param("down", [1], [4], True, (">", 3), id="down-int"),
        pytest.param("up", [0.3], [0.5], False, None, id="not-separable"),
    ],
)
def test_bound_for(direction: str, failing: list[float], passing: list[float], integer: bool,
                   bound: tuple[str, float] | None) -> None:
    got = bound_for(direction, failing, passing, integer)
    assert (None if got is None else (got.op, got.value)) == bound
