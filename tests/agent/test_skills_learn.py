"""Extraction, deposit and merging of skills; version bumps; the text diff."""

from __future__ import annotations

from pathlib import Path

import pytest

from ladder.agent.records import Candidate, Focus, Proposal
from ladder.agent.skills import Learner
from ladder.agent.skills.extract import diff_changes, extract
from ladder.agent.skills.learner import touches_metrics
from ladder.agent.skills.library import load_skills
from ladder.project import Project
from testing.skills import config, decide, init_project, move, program, verdict


@pytest.fixture
def learner(tmp_path: Path) -> Learner:
    init_project(tmp_path)
    return Learner(Project(tmp_path), "run1", config(), clock=lambda: 0.0)


def test_mutate_pattern_is_operator_symbol_direction_magnitude() -> None:
    pattern = extract(move("LR", 0.01, 0.02), {}, {})
    assert pattern == {"kind": "mutate", "change": "number", "symbol": "LR", "function": "",
                       "direction": "up", "operators": ["scale"], "files": ["train.py"],
                       "ratio": 2.0}


def test_keep_deposits_a_skill_with_evidence(learner: Learner, tmp_path: Path) -> None:
    events = decide(learner, 1, move("LR", 0.01, 0.02), verdict("keep", 0.1))
    assert [(e.kind, e.data["action"]) for e in events] == [("skill", "created")]
    (skill,) = load_skills(Project(tmp_path))
    assert (skill.id, skill.title, skill.version, skill.status) == ("increase-lr", "Increase LR", 1, "active")
    assert {"train", "lr", "number"} <= set(skill.tags)
    (evidence,) = skill.evidence
    assert (evidence.run, evidence.iteration, evidence.commit, evidence.effect) == ("run1", 1, "sha0001", 0.1)
    assert evidence.ci is not None and evidence.ci[0] < 0.1 < evidence.ci[1]
    assert (skill.usage.applications, skill.usage.successes) == (1, 1)


def test_discard_deposits_nothing(learner: Learner, tmp_path: Path) -> None:
    assert decide(learner, 1, move("LR", 0.01, 0.005), verdict("discard", -0.1)) == []
    assert load_skills(Project(tmp_path)) == []


def test_similar_keeps_merge_into_one_skill_with_a_version_bump(learner: Learner, tmp_path: Path) -> None:
    decide(learner, 1, move("LR", 0.01, 0.02, "scale"), verdict("keep", 0.1))
    events = decide(learner, 2, move("LR", 0.02, 0.022, "shift"), verdict("keep", 0.05))
    assert [e.data["action"] for e in events] == ["updated"]
    (skill,) = load_skills(Project(tmp_path))
    assert skill.version == 2
    assert [h.version for h in skill.history] == [1, 2]
    assert "verified again in run run1 iteration 2" in skill.history[-1].why
    assert skill.pattern["operators"] == ["scale", "shift"]
    assert skill.pattern["ratio"] == pytest.approx((2.0 * 1.1) ** 0.5)
    assert [e.iteration for e in skill.evidence] == [1, 2]
    assert (skill.usage.applications, skill.usage.successes) == (2, 2)


@pytest.mark.parametrize(
    ("second", "ids"),
    [
        pytest.param(move("LR", 0.02, 0.01), ["decrease-lr", "increase-lr"], id="other-direction"),
        pytest.param(move("WD", 0.1, 0.2), ["increase-lr", "increase-wd"], id="other-symbol"),
    ],
)
def test_different_patterns_stay_apart(learner: Learner, tmp_path: Path, second: Proposal,
                                       ids: list[str]) -> None:
    decide(learner, 1, move("LR", 0.01, 0.02), verdict("keep", 0.1))
    decide(learner, 2, second, verdict("keep", 0.1))
    assert sorted(s.id for s in load_skills(Project(tmp_path))) == ids


def test_usage_counts_failed_applications_without_a_bump(learner: Learner, tmp_path: Path) -> None:
    decide(learner, 1, move("LR", 0.01, 0.02), verdict("keep", 0.1))
    decide(learner, 2, move("LR", 0.01, 0.0125), verdict("discard", -0.01))
    (skill,) = load_skills(Project(tmp_path))
    assert (skill.version, skill.usage.applications, skill.usage.successes) == (1, 2, 1)


def test_a_decision_replayed_on_resume_is_learned_once(tmp_path: Path) -> None:
    init_project(tmp_path)
    first = Learner(Project(tmp_path), "run1", config())
    decide(first, 1, move("LR", 0.01, 0.02), verdict("keep", 0.1))
    again = Learner(Project(tmp_path), "run1", config())  # the resumed run
    assert decide(again, 1, move("LR", 0.01, 0.02), verdict("keep", 0.1)) == []
    (skill,) = load_skills(Project(tmp_path))
    assert skill.usage.applications == 1


def test_next_run_starts_with_the_library(tmp_path: Path) -> None:
    init_project(tmp_path)
    decide(Learner(Project(tmp_path), "run1", config()), 1, move("LR", 0.01, 0.02), verdict("keep", 0.1))
    import random

    guidance = Learner(Project(tmp_path), "run2", config()).before_proposal(1, random.Random(0))
    assert "Increase LR" in guidance.skills_text
    assert guidance.focus == (Focus(("scale:LR:up", "shift:LR:up"), 2.0),)


# --- the text diff ------------------------------------------------------------------------

BEFORE = """import os

LR = 0.1
NAME = "a"


def train(x):
    y = prepare(x)
    return fit(y)


class Model:
    def forward(self, x):
        return x
"""


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        pytest.param(BEFORE, [], id="noop"),
        pytest.param(BEFORE.replace("LR = 0.1", "LR = 0.2"), [("LR", "constant-up")], id="constant-up"),
        pytest.param(BEFORE.replace('"a"', '"b"'), [("NAME", "constant-changed")], id="constant-changed"),
        pytest.param(BEFORE.replace("return fit(y)", "clip(y)\n    return fit(y)"),
                     [("train", "call-added:clip")], id="call-added"),
        pytest.param(BEFORE.replace("    y = prepare(x)\n", "    y = x\n"),
                     [("train", "call-removed:prepare")], id="call-removed"),
        pytest.param(BEFORE.replace("return x", "return x * 2"), [("Model.forward", "function-changed")],
                     id="method-changed"),
        pytest.param(BEFORE.replace("import os\n", "import os\nimport math\n"),
                     [("import math", "import-added")], id="import-added"),
        pytest.param(BEFORE + "\n\ndef helper():\n    pass\n", [("helper", "function-added")],
                     id="function-added"),
    ],
)
def test_diff_changes(after: str, expected: list[tuple[str, str]]) -> None:
    got = [(c.symbol, c.change) for c in diff_changes({"m.py": BEFORE}, {"m.py": after})]
    assert got == expected


def test_text_proposal_pattern_and_merge(learner: Learner, tmp_path: Path) -> None:
    from ladder.agent.records import Candidate

    after = BEFORE.replace("return fit(y)", "clip(y)\n    return fit(y)")
    proposal = Proposal("clip before fitting", {"m.py": after}, {}, "llm")
    for it in (1, 2):
        cand = Candidate(it, f"c{it}", "p", proposal.description, "keep", effect=-0.1)
        learner.after_decision(cand, verdict("keep", 0.1), proposal, {"m.py": BEFORE}, {"m.py": after})
    (skill,) = load_skills(Project(tmp_path))
    assert skill.pattern["kind"] == "edit"
    assert skill.pattern["changes"] == [{"symbol": "train", "change": "call-added:clip"}]
    assert skill.pattern["description"] == "clip before fitting"
    assert skill.version == 2 and "call-added" in skill.tags


@pytest.mark.parametrize(
    ("added", "named"),
    [
        pytest.param("import prepare\nprepare.evaluate = lambda *a: 0.93 * OLD(*a)\n",
                     "replaces part of an imported module", id="monkeypatch-evaluator"),
        pytest.param("from prepare import evaluate as ev\nev.scale = 0.9\n",
                     "replaces part of an imported module", id="patch-an-imported-name"),
        pytest.param("print(f'loss: {0.1:.6f}')\n", "prints a metric", id="print-metric-line"),
        pytest.param("import json, os\njson.dump({'loss': 0}, open(os.environ['LADDER_METRICS_FILE'], 'w'))\n",
                     "touches how metrics are reported", id="write-metrics-file"),
        pytest.param("import atexit\natexit.register(lambda: None)\n", "touches how metrics are reported",
                     id="atexit"),
    ],
)
def test_a_keep_that_touches_how_metrics_are_made_teaches_no_skill(
    learner: Learner, tmp_path: Path, added: str, named: str
) -> None:
    proposal = move("LR", 0.01, 0.02)
    cand = Candidate(1, "sha0001", "parent", proposal.description, "keep", effect=-0.1,
                     features=proposal.features)
    before = {"train.py": program(0.01)}
    after = {"train.py": program(0.02) + added}
    events = learner.after_decision(cand, verdict("keep", 0.1), proposal, before, after)
    assert [(e.kind, e.data["action"]) for e in events] == [("skill", "not learned")]
    assert named in events[0].data["why"]
    assert load_skills(Project(tmp_path)) == []


def test_touches_metrics_leaves_ordinary_changes_alone() -> None:
    before = {"train.py": "import torch\nLR = 0.01\n"}
    after = {"train.py": "import torch\nLR = 0.02\nmodel.lr = LR\nprint('step', 3)\n"}
    assert touches_metrics(before, after, ("loss",)) == ""


def test_a_failed_free_text_edit_does_not_break_the_next_proposal(learner: Learner) -> None:
    """A crash of a `command`/`llm` proposal is an edit-pattern failure ("crash|edit|...");
    the next proposal's guidance must read it without mistaking it for a numeric move."""
    import random

    after = BEFORE.replace("return fit(y)", "clip(y)\n    return fit(y)")
    proposal = Proposal("clip before fitting", {"m.py": after}, {}, "command")
    for it in (1, 2):
        cand = Candidate(it, f"c{it}", "p", proposal.description, "crash")
        learner.after_decision(cand, verdict("crash", reason="exit code 1"), proposal,
                               {"m.py": BEFORE}, {"m.py": after})
    guidance = learner.before_proposal(3, random.Random(0))
    assert all(":" in key for key in guidance.operator_weights or {})  # numeric moves only


def test_an_unverified_keep_makes_no_skill_and_wears_none_down(learner: Learner, tmp_path: Path) -> None:
    """A crude decision's keep rests on one seed: no skill is made, confirmed or worn down
    by it, and the journal says why."""
    decide(learner, 1, move("LR", 0.01, 0.02), verdict("keep", 0.1))  # a verified keep
    crude = verdict("keep", 0.5)
    crude = crude.__class__(crude.status, crude.reasons, {**crude.stats, "unverified": True})
    events = decide(learner, 2, move("WD", 0.1, 0.2), crude)
    assert [(e.kind, e.data["action"]) for e in events] == [("skill", "not learned")]
    assert "UNVERIFIED" in events[0].data["why"]
    miss = verdict("discard", -0.3)
    miss = miss.__class__(miss.status, miss.reasons, {**miss.stats, "unverified": True})
    for it in range(3, 8):
        decide(learner, it, move("LR", 0.01, 0.02), miss)
    (skill,) = load_skills(Project(tmp_path))
    assert skill.id == "increase-lr"
    assert (skill.usage.applications, skill.usage.successes, skill.status) == (1, 1, "active")
