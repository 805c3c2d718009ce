"""The mutate proposer spends its budget on knobs (issue 14: 12 of 20 proposals on a small
numpy project were shape literals and statement deletions, and crashed): structural
literals weigh a tenth of a knob and are owed no coverage, deletions half, and a deletion
that leaves a name unbound is no site at all."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import libcst as cst
import pytest

from ladder.agent.proposers import mutate
from ladder.agent.proposers.mutate import MutateProposer, deletion_key, find_sites, structural_name
from ladder.agent.records import Attempt, Proposal, ProposalContext
from testing.fixtures import make_repo
from testing.numpy_repo import TRAIN

NUMPY = '''\
import numpy as np

N_SAMPLES = 200
N_FEATURES = 4
LEARNING_RATE = 0.05
EPOCHS = 40
L2 = 0.001


def make_data(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N_SAMPLES, N_FEATURES)) * 50.0
    y = x @ np.arange(1, N_FEATURES + 1) + rng.normal(scale=0.1, size=N_SAMPLES)
    return x, y


def standardize(x):
    return (x - x.mean(axis=0)) / x.std(axis=0, keepdims=True)


def fit(x, y):
    x = standardize(x)
    w = np.zeros(x.shape[1])
    for _ in range(EPOCHS):
        grad = x.T @ (x @ w - y) / len(y)
        w -= LEARNING_RATE * (grad + L2 * w)
    return w
'''


def kinds(code: str) -> dict[tuple[str, str], str]:
    out = {}
    for s in find_sites(cst.parse_module(code)):
        out[(s.symbol, s.old)] = "delete" if s.operator == "delete" else (
            "structural" if s.structural else "knob")
    return out


@pytest.mark.parametrize(
    ("code", "symbol", "old", "kind"),
    [
        pytest.param("LR = 0.01\n", "LR", "0.01", "knob", id="float-constant"),
        pytest.param("BATCH_SIZE = 32\n", "BATCH_SIZE", "32", "knob", id="int-constant"),
        pytest.param("HIDDEN_DIM = 64\n", "HIDDEN_DIM", "64", "knob", id="a-width-is-a-knob"),
        pytest.param("N_SAMPLES = 200\n", "N_SAMPLES", "200", "structural", id="data-size"),
        pytest.param("SEED = 3\n", "SEED", "3", "structural", id="seed"),
        pytest.param("INPUT_SHAPE = (28, 28)\n", "INPUT_SHAPE", "28", "structural", id="shape-name"),
        pytest.param("GRID = (28, 32)\n", "GRID", "32", "structural", id="tuple-int"),
        pytest.param("DATA = np.zeros(100)\n", "DATA", "100", "structural", id="positional-size"),
        pytest.param("DROP = nn.Dropout(0.1)\n", "DROP", "0.1", "knob", id="positional-float"),
        pytest.param("COL = DATA[:, 3]\n", "COL", "3", "structural", id="index"),
        pytest.param("def f(x):\n    return x.mean(axis=0)\n", "axis", "0", "structural", id="axis"),
        pytest.param("def f(r):\n    return r.normal(size=7)\n", "size", "7", "structural", id="size"),
        pytest.param("def f(r):\n    return r.normal(scale=0.5)\n", "scale", "0.5", "knob", id="keyword"),
        pytest.param("def f(x, eps=1e-5):\n    return x\n", "eps", "1e-5", "knob", id="default"),
        pytest.param("def f(x):\n    return x.sum(keepdims=True)\n", "keepdims", "True", "structural",
                     id="keepdims-flag"),
    ],
)
def test_structural_literals_are_told_from_knobs(code: str, symbol: str, old: str, kind: str) -> None:
    assert kinds(code)[(symbol, old)] == kind


@pytest.mark.parametrize(
    ("name", "structural"),
    [("axis", True), ("inputShape", True), ("NUM_CLASSES", True), ("random_state", True),
     ("BATCH_SIZE", False), ("HIDDEN_SIZE", False), ("EMBED_DIM", False), ("lr", False)],
)
def test_structural_names(name: str, structural: bool) -> None:
    assert structural_name(name) is structural


def test_a_deletion_that_unbinds_a_name_is_no_site() -> None:
    got = {old for (_, old), kind in kinds(NUMPY).items() if kind == "delete"}
    # `w = np.zeros(...)`, `grad = ...` and everything `make_data` assigns are read below
    # and bound nowhere else: a NameError whatever the seed. `x = standardize(x)` rebinds
    # a parameter and `w -= ...` needs `w` bound already: real changes.
    assert got == {"x = standardize(x)", "w -= LEARNING_RATE * (grad + L2 * w)"}


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("w = 0\n\ndef f():\n    w = 1\n    return w\n", id="a-module-global-remains"),
        pytest.param("def f():\n    global w\n    w = 1\n    return w\n", id="declared-global"),
        pytest.param("def f(w):\n    w = w * 2\n    return w\n", id="a-parameter-remains"),
        pytest.param("def f():\n    w = 1\n    return 2\n", id="never-read"),
        pytest.param("def f():\n    w = [0]\n    w[0] = 1\n    return w\n", id="item-assignment"),
        pytest.param("from m import *\n\ndef f():\n    w = 1\n    return w\n", id="star-import"),
    ],
)
def test_a_deletion_with_another_binding_stays_a_site(code: str) -> None:
    assert "delete" in kinds(code).values()


def run_of(root: Path, n: int, seed: int) -> list[Proposal]:
    """What one run of `n` iterations proposes, coverage and all (every proposal is an
    attempt of the run: nothing is kept)."""
    proposer, attempts, out = MutateProposer(), [], []
    for it in range(n):
        ctx = ProposalContext(root=root, editable=("train.py",), iteration=it,
                              rng=random.Random(seed * 1000 + it), attempts=tuple(attempts), parent="p")
        p = proposer.propose(ctx)
        assert p is not None
        out.append(p)
        attempts.append(Attempt(it, p.description, "discard", None, features=p.features, parent="p"))
    return out


def shares(root: Path, runs: int = 30) -> Counter[str]:
    sites = {(s.operator, s.symbol, s.function, s.old): s for s in find_sites(cst.parse_module(NUMPY))}
    count: Counter[str] = Counter()
    for seed in range(runs):
        for p in run_of(root, 20, seed):
            f = p.features
            site = sites.get((f["operator"], f["symbol"], f["function"], f["old"]))
            assert site is not None
            count["delete" if site.operator == "delete" else "structural" if site.structural else "knob"] += 1
    return count


def test_a_run_spends_its_budget_on_knobs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_repo(tmp_path / "r", {"train.py": NUMPY})
    got = shares(root)
    total = sum(got.values())
    assert got["knob"] / total >= 0.6
    assert got["structural"] / total <= 0.2
    # With every site weighing the same, the same runs spend more elsewhere.
    monkeypatch.setitem(mutate.PRIORS, "structural", 1.0)
    monkeypatch.setitem(mutate.PRIORS, "delete", 1.0)
    flat = shares(root)
    assert flat["knob"] < got["knob"] and flat["structural"] > got["structural"]


def test_structural_literals_are_owed_no_coverage(tmp_path: Path) -> None:
    """With knobs left to try, a structural literal is drawn at a tenth of a knob's
    weight; once coverage is done it is drawn at its weight, not forced."""
    root = make_repo(tmp_path / "r", {"train.py": "LR = 0.1\nWD = 0.01\nSHAPE = (28, 28)\n"})
    first = Counter(run_of(root, 1, seed)[0].features["symbol"] for seed in range(300))
    assert first["SHAPE"] / 300 < 0.15  # 4 structural sites x 0.1 vs 4 knob sites x 1: 9%
    assert first["SHAPE"] > 0  # drawn sometimes, never ruled out


def test_two_deletions_assigning_one_name_are_two_sites(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"train.py": TRAIN})
    seen = {p.features["old"] for seed in range(3) for p in run_of(root, 14, seed)
            if p.features["operator"] == "delete"}
    assert {"x = standardize(x)", "x = np.hstack([x, np.ones((len(x), 1))])"} <= seen


def test_a_site_the_learner_marks_as_crashing_is_tried_less(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"train.py": TRAIN})
    crashed = deletion_key("x", "features", "x = standardize(x)")
    proposer = MutateProposer()
    proposer.operator_weights = {crashed: 0.0}  # 0 here only to make the test exact
    for seed in range(60):
        ctx = ProposalContext(root=root, editable=("train.py",), iteration=1, rng=random.Random(seed))
        p = proposer.propose(ctx)
        assert p is not None and p.features.get("old") != "x = standardize(x)"
