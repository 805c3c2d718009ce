"""Thompson sampling toward proven skills, the prompt section, deprecation and reinstatement."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from ladder.agent.proposers.mutate import MutateProposer
from ladder.agent.records import Attempt, Focus, ProposalContext
from ladder.agent.skills import Learner
from ladder.agent.skills.library import load_skills
from ladder.agent.skills.policy import EXPLORE, one_sided_p, skills_text
from ladder.project import Project
from testing.fixtures import make_repo
from testing.skills import config, decide, init_project, move, verdict

PROGRAM = "".join(f"K{n} = {n + 1}.0\n" for n in range(10)) + "LR = 0.01\n"


def draws(root: Path, learner: Learner | None, n: int = 300) -> Counter[tuple[str, str]]:
    """(symbol, direction) of `n` seeded proposals, guided by `learner` when given."""
    proposer = MutateProposer()
    out: Counter[tuple[str, str]] = Counter()
    for seed in range(n):
        if learner is not None:
            guidance = learner.before_proposal(16, random.Random(f"skills/{seed}"))
            proposer.operator_weights = guidance.operator_weights
            proposer.focus = guidance.focus
        ctx = ProposalContext(root=root, editable=("train.py",), iteration=1, rng=random.Random(seed))
        p = proposer.propose(ctx)
        assert p is not None
        f = p.features
        out[(str(f["symbol"]), "up" if float(f["new"]) > float(f["old"]) else "down")] += 1
    return out


def test_thompson_sampling_leans_toward_a_successful_skill(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"train.py": PROGRAM})
    init_project(root)
    learner = Learner(Project(root), "run1", config())
    for it in range(1, 6):
        decide(learner, it, move("LR", 0.01 * it, 0.01 * (it + 1)), verdict("keep", 0.1))
    for it in range(6, 16):  # the rest of the run: changes of other constants, discarded
        decide(learner, it, move(f"K{it - 6}", 1.0, 2.0), verdict("discard", -0.1))
    uniform, learned = draws(root, None), draws(root, learner)
    assert uniform[("LR", "up")] < 0.1 * 300  # 1 constant in 11, half its edits go up
    # 5 keeps in 5 against 0 in 10 explorations: the skill wins most draws, and the
    # explore floor (EXPLORE) takes the rest.
    assert learned[("LR", "up")] > 0.6 * 300
    assert learned[("LR", "up")] < (1 - EXPLORE / 2) * 300
    assert learned[("LR", "down")] < 0.05 * 300
    # The floor: the search still explores every other constant.
    assert {s for s, _ in learned} == {s for s, _ in uniform}


def test_focus_tries_the_magnitude_that_worked_first(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"train.py": PROGRAM})
    proposer = MutateProposer()
    notes = set()
    for ratio, note in ((2.0, "scale x2"), (0.5, "scale x0.5"), (1.1, "shift +10%")):
        direction = "up" if ratio > 1 else "down"
        proposer.focus = (Focus((f"scale:LR:{direction}", f"shift:LR:{direction}"), ratio),)
        for seed in range(5):
            ctx = ProposalContext(root=root, editable=("train.py",), iteration=1, rng=random.Random(seed))
            p = proposer.propose(ctx)
            assert p is not None and p.features["symbol"] == "LR"
            assert p.description.endswith(f"({note})"), p.description
            notes.add(note)
    assert len(notes) == 3
    # Once tried, the next nearest magnitude comes next, then the proposer explores.
    proposer.focus = (Focus(("scale:LR:up", "shift:LR:up"), 2.0),)
    tried: list[Attempt] = []
    seen = []
    for it in range(4):
        ctx = ProposalContext(root=root, editable=("train.py",), iteration=it, rng=random.Random(it),
                              attempts=tuple(tried))
        p = proposer.propose(ctx)
        assert p is not None
        seen.append(p.description.rsplit("(", 1)[1].rstrip(")"))
        tried.append(Attempt(it, p.description, "discard", None, features=p.features))
    assert seen[:3] == ["scale x2", "scale x1.25", "shift +10%"]
    assert "LR" not in tried[3].description  # every LR-up edit tried: explore


def test_below_the_base_rate_means_below_what_exploring_finds(tmp_path: Path) -> None:
    init_project(tmp_path)
    project = Project(tmp_path)
    first = Learner(project, "run1", config())
    decide(first, 1, move("WD", 0.1, 0.05), verdict("keep", 0.2))  # Decrease WD: 1 in 1
    later = Learner(project, "run2", config())
    it = 0
    for n in range(12):  # explorations: 8 keeps in 12 (a rich new task)
        it += 1
        decide(later, it, move(f"K{n}", 1.0, 2.0 if n < 8 else 0.5),
               verdict("keep" if n < 8 else "discard", 0.1 if n < 8 else -0.01))
    for _ in range(5):  # the skill misses, alternating tiny gains and losses: no reversal
        it += 1
        decide(later, it, move("WD", 0.1, 0.05), verdict("discard", 0.001 if it % 2 else -0.001))
    wd = next(x for x in load_skills(project) if x.pattern["symbol"] == "WD")
    assert wd.status == "deprecated"
    assert wd.reason.startswith("success rate 1/5 is below the run's base rate 0.67")
    assert "in 12 explorations" in wd.reason


def test_a_run_going_well_on_a_skill_keeps_it(tmp_path: Path) -> None:
    # The run's keeps are the skills' own: compared with them, a skill that works three
    # times in four would look worse than "the run" and be deprecated for succeeding.
    init_project(tmp_path)
    project = Project(tmp_path)
    learner = Learner(project, "run1", config())
    it = 0
    for n in range(10):  # explorations: nothing found
        it += 1
        decide(learner, it, move(f"K{n}", 1.0, 2.0), verdict("discard", -0.01))
    for n in range(20):  # LR up: kept 3 times in 4
        it += 1
        kept = n % 4 != 3
        decide(learner, it, move("LR", 0.01 * (n + 1), 0.01 * (n + 2)),
               verdict("keep" if kept else "discard", 0.05 if kept else -0.001))
    (lr,) = [x for x in load_skills(project) if x.pattern["symbol"] == "LR"]
    assert lr.status == "active" and lr.usage.successes == 15


def test_no_skill_keeps_the_users_weights(tmp_path: Path) -> None:
    from dataclasses import replace

    from ladder.agent.config import ProposerSpec

    init_project(tmp_path)
    cfg = replace(config(), proposer=ProposerSpec("mutate", {"weights": {"delete": 6}}))
    guidance = Learner(Project(tmp_path), "run1", cfg).before_proposal(1, random.Random(0))
    assert guidance.operator_weights == {"delete": 6.0}
    assert guidance.skills_text == ""


def test_effect_reversal_deprecates_and_new_evidence_reinstates(tmp_path: Path) -> None:
    init_project(tmp_path)
    project = Project(tmp_path)
    first = Learner(project, "run1", config())
    decide(first, 1, move("WD", 0.1, 0.05), verdict("keep", 0.2))
    decide(first, 2, move("WD", 0.05, 0.04), verdict("keep", 0.1))
    later = Learner(project, "run2", config())  # a later task: lowering WD now hurts
    events = []
    for it, effect in enumerate((-0.2, -0.25, -0.3), start=1):
        events += decide(later, it, move("WD", 0.1, 0.05), verdict("discard", effect))
    (skill,) = load_skills(project)
    assert skill.status == "deprecated"
    assert skill.reason.startswith("effect reversed: its last 3 applications")
    assert [e.data["action"] for e in events] == ["deprecated"]
    assert skill.version == 3 and "deprecated by run run2 at iteration 3" in skill.history[-1].why
    assert "Decrease WD" not in later.before_proposal(4, random.Random(0)).skills_text
    decide(later, 5, move("WD", 0.1, 0.08), verdict("keep", 0.05))
    (skill,) = load_skills(project)
    assert (skill.status, skill.reason, skill.version) == ("active", "", 4)
    assert skill.history[-1].why.startswith("reinstated by new evidence")


@pytest.mark.parametrize(
    "effects",
    [
        pytest.param((0.0, 0.0, 0.0), id="ties"),
        pytest.param((-0.2, 0.3, -0.1), id="mixed"),
    ],
)
def test_no_deprecation_without_a_significant_reversal(tmp_path: Path, effects: tuple[float, ...]) -> None:
    init_project(tmp_path)
    learner = Learner(Project(tmp_path), "run1", config())
    decide(learner, 1, move("WD", 0.1, 0.05), verdict("keep", 0.2))
    later = Learner(Project(tmp_path), "run2", config())
    for it, effect in enumerate(effects, start=1):
        decide(later, it, move("WD", 0.1, 0.05), verdict("discard", effect))
    assert load_skills(Project(tmp_path))[0].status == "active"


def test_misses_after_a_success_in_the_same_run_are_saturation(tmp_path: Path) -> None:
    init_project(tmp_path)
    learner = Learner(Project(tmp_path), "run1", config())
    decide(learner, 1, move("LR", 0.01, 0.02), verdict("keep", 0.2))
    for it in range(2, 7):  # LR reached its optimum: every further rise hurts
        decide(learner, it, move("LR", 0.02, 0.04), verdict("discard", -0.3))
    (skill,) = load_skills(Project(tmp_path))
    assert skill.status == "active"
    assert (skill.usage.applications, skill.usage.successes, skill.usage.since_success) == (6, 1, 0)


def test_skills_text_is_bounded_and_ranked_by_relevance(tmp_path: Path) -> None:
    init_project(tmp_path)
    learner = Learner(Project(tmp_path), "run1", config())
    for n in range(30):
        decide(learner, n + 1, move(f"K{n}", 1.0, 2.0), verdict("keep", 0.1))
    skills = load_skills(Project(tmp_path))
    text = skills_text(skills, ["k7"])
    lines = [line for line in text.splitlines() if line.startswith("- ")]
    assert len(lines) == 8 and lines[0].startswith("- Increase K7 ")
    assert len(text) <= 4000


def test_one_sided_p() -> None:
    assert one_sided_p([-1.0, -1.1, -0.9]) < 0.01
    assert one_sided_p([1.0, 1.1, 0.9]) > 0.99
