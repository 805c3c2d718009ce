"""What makes two failures the same (issue 14): the same statement deleted from the same
function, whoever deleted it and however it was formatted; the same constant moved the
same way; a crash and a NaN alike, a timeout not."""

from __future__ import annotations

from pathlib import Path

import pytest

from ladder.agent.records import Candidate, Proposal, Verdict
from ladder.agent.skills import Learner
from ladder.agent.skills.deletion import find_deletion
from ladder.project import Project
from ladder.store import load_lessons
from testing.cli import ladder
from testing.fixtures import commit, make_repo
from testing.skills import FILE, config

PROGRAM = '''\
import numpy as np


def standardize(x):
    """Zero mean, unit variance."""
    return (x - x.mean(axis=0)) / x.std(axis=0)


def fit(x, y):
    x = standardize(x)  # the raw features are in the thousands
    w = np.zeros(x.shape[1])
    for _ in range(10):
        w -= 0.1 * x.T @ (x @ w - y)
    return w


def predict(w, x):
    x = standardize(x)
    return x @ w


class Model:
    def fit(self, x):
        self.check(x)
        print(len(x))
        return x
'''


def without(line: str, text: str = PROGRAM, *, pass_: bool = False) -> str:
    assert line in text
    return text.replace(line, line[: len(line) - len(line.lstrip())] + "pass\n" if pass_ else "", 1)


@pytest.mark.parametrize(
    ("edited", "function", "statement", "call"),
    [
        pytest.param(without("    x = standardize(x)  # the raw features are in the thousands\n"),
                     "fit", "x = standardize(x)", "standardize", id="assignment-of-a-call"),
        pytest.param(without("        w -= 0.1 * x.T @ (x @ w - y)\n", pass_=True),
                     "fit", "w -= 0.1 * x.T @ (x @ w - y)", "", id="emptied-block-gets-pass"),
        pytest.param(without("        self.check(x)\n"), "Model.fit", "self.check(x)", "self.check",
                     id="method"),
        pytest.param(without("        print(len(x))\n"), "Model.fit", "print(len(x))", "", id="builtins-only"),
    ],
)
def test_a_deleted_statement_is_found_from_the_text(edited: str, function: str, statement: str,
                                                     call: str) -> None:
    d = find_deletion({FILE: PROGRAM}, {FILE: edited})
    assert d is not None
    assert (d.qualname, d.statement, d.call) == (function, statement, call)
    assert statement not in d.after and statement in d.before
    assert '"""' not in d.before  # docstrings are no evidence


def test_formatting_and_comments_do_not_make_another_deletion() -> None:
    plain = without("    x = standardize(x)  # the raw features are in the thousands\n")
    spaced = PROGRAM.replace("    x = standardize(x)  # the raw features are in the thousands\n",
                             "    x = standardize( x )\n")
    a = find_deletion({FILE: PROGRAM}, {FILE: plain})
    b = find_deletion({FILE: spaced}, {FILE: plain})
    assert a is not None and b is not None and a.key == b.key


def test_the_same_statement_in_another_function_is_another_deletion() -> None:
    in_fit = find_deletion({FILE: PROGRAM}, {FILE: without("    x = standardize(x)  # the raw features are in the thousands\n")})
    in_predict = find_deletion({FILE: PROGRAM}, {FILE: PROGRAM.replace(
        "    x = standardize(x)\n    return x @ w", "    return x @ w")})
    assert in_fit is not None and in_predict is not None
    assert in_fit.statement == in_predict.statement and in_fit.key != in_predict.key


def test_a_call_the_function_still_makes_is_no_require_call() -> None:
    twice = PROGRAM.replace("    w = np.zeros(x.shape[1])\n", "    w = np.zeros(x.shape[1])\n    x = standardize(x)\n")
    d = find_deletion({FILE: twice}, {FILE: without("    x = standardize(x)  # the raw features are in the thousands\n", twice)})
    assert d is not None and d.call == ""  # a semgrep rule must forbid the deletion itself


@pytest.mark.parametrize(
    "edited",
    [
        pytest.param(PROGRAM.replace("0.1 *", "0.2 *"), id="a-changed-constant"),
        pytest.param(without("    x = standardize(x)  # the raw features are in the thousands\n").replace(
            "return w", "return w * 2"), id="a-deletion-and-more"),
        pytest.param(PROGRAM.replace("import numpy as np\n", ""), id="module-level"),
        pytest.param(PROGRAM.replace('    """Zero mean, unit variance."""\n', ""), id="a-docstring"),
        pytest.param("def (:\n", id="not-python"),
    ],
)
def test_other_changes_are_no_deletion(edited: str) -> None:
    assert find_deletion({FILE: PROGRAM}, {FILE: edited}) is None


# --- the learner: counting the same failure twice ----------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Project:
    root = make_repo(tmp_path / "repo", {FILE: PROGRAM})
    assert ladder(root, "init").returncode == 0
    assert commit(root, "ladder init").returncode == 0
    return Project(root)


def delete(learner: Learner, it: int, line: str, reason: str, *, by: str = "mutate",
           text: str = PROGRAM) -> list[object]:
    """Feed one decided deletion of `line` to `learner`: by the mutate proposer (with its
    features) or by a text proposer (an edit: no features)."""
    after = without(line, text)
    features = {"operator": "delete", "file": FILE, "symbol": "x", "function": "fit",
                "old": line.strip().split("  #")[0], "new": "", "line": 10} if by == "mutate" else {}
    proposal = Proposal(f"it {it}", {FILE: after}, features, by)
    status = "crash" if reason else "discard"
    verdict = Verdict(status, (reason or "worse",), {"n": 1})  # type: ignore[arg-type]
    cand = Candidate(it, f"sha{it}", "parent", proposal.description, status, features=features)
    return list(learner.after_decision(cand, verdict, proposal, {FILE: text}, {FILE: after}))


STANDARDIZE = "    x = standardize(x)  # the raw features are in the thousands\n"


def taught(project: Project) -> list[str]:
    return [x.id for x in load_lessons(project) if "learned" in x.tags]


def test_a_mutate_deletion_and_an_agents_deletion_are_the_same_failure(project: Project) -> None:
    delete(Learner(project, "run1", config()), 1, STANDARDIZE, "seed 1: loss is nan")
    assert taught(project) == []
    # A coding agent deletes the same statement, formatted its own way, in the next run.
    spaced = PROGRAM.replace(STANDARDIZE, "    x = standardize( x )\n")
    delete(Learner(project, "run2", config()), 4, "    x = standardize( x )\n", "seed 1: exit code 1",
           by="command", text=spaced)
    assert taught(project) == ["learned-fit-must-call-standardize"]


def test_a_crash_and_a_nan_count_alike_a_timeout_does_not(project: Project) -> None:
    learner = Learner(project, "run1", config())
    delete(learner, 1, STANDARDIZE, "seed 1: timeout after 60 s")
    delete(learner, 2, STANDARDIZE, "seed 1: loss is nan")
    assert taught(project) == []  # a timeout and a NaN are different stories
    delete(learner, 3, STANDARDIZE, "seed 1: exit code 1")
    (lesson,) = load_lessons(project)[-1:]
    assert lesson.id == "learned-fit-must-call-standardize"
    assert "crashes" in lesson.title  # a NaN then an exit code: the family's word


def test_different_deletions_do_not_add_up(project: Project) -> None:
    learner = Learner(project, "run1", config())
    delete(learner, 1, STANDARDIZE, "seed 1: loss is nan")
    delete(learner, 2, "    w = np.zeros(x.shape[1])\n", "seed 1: exit code 1")
    delete(learner, 3, STANDARDIZE, "")  # the same deletion, but it ran: no failure
    assert taught(project) == []


# --- the proposer learns where it crashed -----------------------------------------------


def test_a_site_that_crashed_weighs_less_in_the_next_run(project: Project) -> None:
    import random

    from ladder.agent.proposers.mutate import deletion_key
    from ladder.agent.skills.policy import FLOOR

    first = Learner(project, "run1", config())
    delete(first, 1, STANDARDIZE, "seed 1: loss is nan")
    crashed = deletion_key("x", "fit", "x = standardize(x)")
    # The site itself, not every statement that assigns `x`: within the run...
    assert first.before_proposal(2, random.Random(0)).operator_weights == {crashed: FLOOR}
    # ...and in the next one, from the first run's learner.json.
    weights = Learner(project, "run2", config()).before_proposal(1, random.Random(0)).operator_weights
    assert weights == {crashed: FLOOR}


def test_a_lesson_says_why_in_ladders_words_only(project: Project) -> None:
    """The crash reasons are ladder's (an exit code, a metric that was not finite), never
    a name the candidate chose (a metric it printed)."""
    learner = Learner(project, "run1", config())
    delete(learner, 1, STANDARDIZE, "seed 1: exit code 1")
    delete(learner, 2, STANDARDIZE, "seed 9: metric evil.example is nan")
    (lesson,) = [x for x in load_lessons(project) if "learned" in x.tags]
    assert lesson.why.startswith("Seen twice by `ladder agent run` run1: #1 (exit code 1); "
                                 "#2 (a metric was not finite).")
    assert "evil" not in lesson.why + lesson.title
