"""Thompson sampling toward proven skills, the prompt section, deprecation and reinstatement."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from ladder.agent.proposers.mutate import MutateProposer
from ladder.agent.records import ProposalContext
from ladder.agent.skills import Learner
from ladder.agent.skills.library import load_skills
from ladder.agent.skills.policy import one_sided_p, skills_text
from ladder.project import Project
from testing.fixtures import make_repo
from testing.skills import config, decide, init_project, move, verdict

PROGRAM = "".join(f"K{n} = {n + 1}.0\n" for n in range(10)) + "LR = 0.01\n"


def draws(root: Path, weights: object, n: int = 300) -> Counter[tuple[str, str]]:
    """(symbol, direction) of `n` seeded proposals with the given weights."""
    proposer = MutateProposer()
    proposer.operator_weights = weights  # type: ignore[assignment]
    out: Counter[tuple[str, str]] = Counter()
    for seed in range(n):
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
    weights = learner.before_proposal(16, random.Random(0)).operator_weights
    uniform, learned = draws(root, None), draws(root, weights)
    assert uniform[("LR", "up")] < 0.1 * 300  # 1 constant in 11, half its edits go up
    assert learned[("LR", "up")] > 3 * uniform[("LR", "up")]
    assert learned[("LR", "down")] < learned[("LR", "up")] / 4
    # The floor: the search still explores every other constant.
    assert {s for s, _ in learned} == {s for s, _ in uniform}


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
