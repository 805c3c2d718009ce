from __future__ import annotations

import ast
import dataclasses
import random
from pathlib import Path

import libcst as cst
import pytest

from ladder.agent.config import ProposerSpec
from ladder.agent.proposers import make_proposer
from ladder.agent.proposers.mutate import OPERATORS, MutateProposer, find_sites, numeric_edits
from ladder.agent.records import Attempt, Proposal, ProposalContext
from ladder.errors import LadderError
from testing.fixtures import make_repo

PROGRAM = '''\
"""A tiny training program."""

LR = 0.01  # learning rate
STEPS = 100
USE_NORM = True
ACT = "relu"  # ladder: choices relu gelu silu


def validate_input(x, eps=1e-5):
    """Checks."""
    return x


def train(x):
    # validate first
    validate_input(x)
    y = x * 2
    return y
'''


def only(operator: str) -> dict[str, float]:
    return {op: (1.0 if op == operator else 0.0) for op in OPERATORS}


def ctx_for(
    root: Path, seed: int = 0, editable: tuple[str, ...] = ("train.py",)
) -> ProposalContext:
    return ProposalContext(root=root, editable=editable, iteration=1, rng=random.Random(seed))


def repo_with(tmp_path: Path, code: str, **more: str) -> Path:
    return make_repo(tmp_path / "r", {"train.py": code, **more})


def proposals(
    root: Path, seeds: range = range(40), weights: dict[str, float] | None = None
) -> list[Proposal]:
    out = []
    for seed in seeds:
        p = MutateProposer(weights).propose(ctx_for(root, seed))
        assert p is not None
        out.append(p)
    return out


def sites_of(code: str) -> list[tuple[str, str, str]]:
    return [(s.operator, s.symbol, s.old) for s in find_sites(cst.parse_module(code))]


# --- numbers, as a pure function ------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        pytest.param("scale", 0.01, {"0.005", "0.008", "0.0125", "0.02"}, id="scale-float"),
        pytest.param("scale", 3, {"2", "4", "6"}, id="scale-int-rounds"),
        pytest.param("scale", 1, {"2"}, id="scale-one-stays-at-least-one"),
        pytest.param("scale", 0, set(), id="scale-zero-noop"),
        pytest.param("scale", -2, {"-1", "-3", "-4"}, id="scale-negative-int"),
        pytest.param("shift", 10, {"9", "11"}, id="shift-int"),
        pytest.param("shift", 2000, {"1800", "2200"}, id="shift-int-ten-percent"),
        pytest.param("shift", 4, {"3", "5"}, id="shift-small-int-by-one"),
        pytest.param("shift", 1, {"2"}, id="shift-one-stays-at-least-one"),
        pytest.param("shift", 0, {"1"}, id="shift-zero-int-grows"),
        pytest.param("shift", 0.5, {"0.45", "0.55"}, id="shift-float-ten-percent"),
        pytest.param("shift", 0.0, {"0.1"}, id="shift-zero-float"),
        pytest.param("shift", -0.5, {"-0.45", "-0.55"}, id="shift-negative-float"),
        pytest.param("shift", -1, {"-2"}, id="shift-minus-one-keeps-sign"),
    ],
)
def test_numeric_edits(operator: str, value: float, expected: set[str]) -> None:
    got = {text for text, _ in numeric_edits(operator, value)}
    assert got == expected


# --- sites ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        pytest.param("LR = 0.01\n", [("scale", "LR", "0.01"), ("shift", "LR", "0.01")], id="upper"),
        pytest.param("B = -3\n", [("scale", "B", "-3"), ("shift", "B", "-3")], id="negative"),
        pytest.param(
            "def f(eps=1e-5): pass\n",
            [("scale", "eps", "1e-5"), ("shift", "eps", "1e-5")],
            id="default",
        ),
        pytest.param("f(x, lr=2)\n", [("scale", "lr", "2"), ("shift", "lr", "2")], id="keyword"),
        pytest.param(
            "class C:\n    n: int = 4\n",
            [("scale", "n", "4"), ("shift", "n", "4")],
            id="class-field",
        ),
        pytest.param("USE = True\n", [("flip", "USE", "True")], id="bool"),
        pytest.param("f(bias=False)\n", [("flip", "bias", "False")], id="bool-keyword"),
    ],
)
def test_sites_fixes(code: str, expected: list[tuple[str, str, str]]) -> None:
    assert sites_of(code) == expected


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("lr = 0.1\n", id="lowercase-module-assignment"),
        pytest.param("print(x[0] + 2)\n", id="positional-and-index"),
        pytest.param("def f():\n    return 2\n", id="return-is-not-deletable"),
        pytest.param('def f():\n    """Doc."""\n    ...\n', id="docstring-and-ellipsis"),
        pytest.param("X = 0\nY = True if a else 0\n", id="zero-int-has-shift-only"),
        pytest.param(
            'ACT = "relu"  # ladder: choices gelu silu\n', id="value-not-a-declared-choice"
        ),
        pytest.param('ACT = "relu"\n# ladder: choices relu gelu\n', id="choices-on-another-line"),
    ],
)
def test_sites_noop(code: str) -> None:
    # Only the zero ints may appear, and only with `shift` (scaling zero is a no-op).
    assert all(op in ("shift", "flip") for op, _, _ in sites_of(code))
    assert not [s for s in sites_of(code) if s[0] in ("scale", "delete", "choice")]


# --- operators on a small program ----------------------------------------------------


def test_scale(tmp_path: Path) -> None:
    root = repo_with(tmp_path, "LR = 0.01  # learning rate\n")
    got = {p.features["new"]: p for p in proposals(root, weights=only("scale"))}
    assert set(got) == {"0.005", "0.008", "0.0125", "0.02"}
    assert got["0.02"].description == "train.py: LR 0.01 -> 0.02 (scale x2)"
    assert got["0.02"].files == {"train.py": "LR = 0.02  # learning rate\n"}


def test_shift_keeps_ints_at_least_one(tmp_path: Path) -> None:
    root = repo_with(tmp_path, "DEPTH = 1\nWIDTH = 64\n")
    news = {
        (p.features["symbol"], p.features["new"]) for p in proposals(root, weights=only("shift"))
    }
    assert news == {("DEPTH", "2"), ("WIDTH", "58"), ("WIDTH", "70")}  # 10%, rounded


def test_negative_number_keeps_its_sign(tmp_path: Path) -> None:
    root = repo_with(tmp_path, "def f(x, floor=-0.5):\n    return x\n")
    for p in proposals(root, range(10), weights=only("scale")):
        assert p.features["new"].startswith("-")
        assert "floor=-" in p.files["train.py"]


def test_flip(tmp_path: Path) -> None:
    root = repo_with(tmp_path, "USE_NORM = True\n")
    (p,) = proposals(root, range(1))
    assert p.files == {"train.py": "USE_NORM = False\n"}
    assert p.description == "train.py: USE_NORM True -> False (flip)"


@pytest.mark.parametrize(
    ("code", "others"),
    [
        pytest.param(
            "ACT = 'relu'  # ladder: choices relu gelu silu\n",
            {"'gelu'", "'silu'"},
            id="assignment",
        ),
        pytest.param(
            'model = make(\n    act="gelu",  # ladder: choices gelu, relu\n)\n',
            {'"relu"'},
            id="keyword-multiline",
        ),
    ],
)
def test_choice(tmp_path: Path, code: str, others: set[str]) -> None:
    root = repo_with(tmp_path, code)
    got = proposals(root, weights=only("choice"))
    assert {p.features["new"] for p in got} == others
    for p in got:
        assert p.features["operator"] == "choice"
        assert p.files["train.py"] == code.replace(p.features["old"], p.features["new"], 1)


def test_delete_sites_are_simple_statements_in_functions(tmp_path: Path) -> None:
    root = repo_with(tmp_path, PROGRAM)
    got = proposals(root, weights=only("delete"))
    # `y = x * 2` is no site: `return y` would read a name nothing binds any more
    # (test_proposers_mutate_priors.py).
    assert {p.features["symbol"] for p in got} == {"validate_input"}
    deleted = next(p for p in got if p.features["symbol"] == "validate_input")
    assert deleted.description == "train.py: delete `validate_input(x)` in train() (delete)"
    assert deleted.features["function"] == "train"
    assert deleted.features["line"] == 16
    new = deleted.files["train.py"]
    assert "validate_input(x)\n" not in new
    assert "    # validate first\n    y = x * 2\n" in new  # the comment moved to the next line


def test_delete_keeps_a_body(tmp_path: Path) -> None:
    root = repo_with(tmp_path, "def setup():\n    # one line\n    init()\n\n\nX = 1\n")
    (p,) = proposals(root, range(1), weights=only("delete"))
    assert p.files["train.py"] == "def setup():\n    # one line\n    pass\n\n\nX = 1\n"
    ast.parse(p.files["train.py"])


def test_every_proposal_parses_and_changes_one_line(tmp_path: Path) -> None:
    root = repo_with(tmp_path, PROGRAM)
    old = PROGRAM.splitlines()
    operators = set()
    for p in proposals(root, range(80)):
        new = p.files["train.py"]
        assert new != PROGRAM
        ast.parse(new)
        operators.add(p.features["operator"])
        if p.features["operator"] != "delete":  # formatting elsewhere survives byte for byte
            diff = [i for i, (a, b) in enumerate(zip(old, new.splitlines(), strict=True)) if a != b]
            assert diff == [p.features["line"] - 1]
    assert operators == set(OPERATORS)


def test_features(tmp_path: Path) -> None:
    root = repo_with(tmp_path, PROGRAM)
    for p in proposals(root, range(20)):
        assert set(p.features) >= {"operator", "file", "symbol", "old", "new", "line"}
        assert p.features["file"] == "train.py"
        assert p.proposer == "mutate"
        assert p.features["old"] in PROGRAM.splitlines()[p.features["line"] - 1]


def test_deterministic_given_the_seed(tmp_path: Path) -> None:
    root = repo_with(tmp_path, PROGRAM)
    first = [p.files for p in proposals(root, range(10))]
    again = [p.files for p in proposals(root, range(10))]
    assert first == again
    assert len({p["train.py"] for p in first}) > 5


def test_only_editable_python_files(tmp_path: Path) -> None:
    root = repo_with(
        tmp_path, PROGRAM, **{"evaluate.py": "THRESHOLD = 0.5\n", "notes.txt": "X = 1\n"}
    )
    assert {tuple(p.files) for p in proposals(root)} == {("train.py",)}


def test_no_site_returns_none(tmp_path: Path) -> None:
    root = repo_with(tmp_path, "import os\n", **{"broken.py": "def (:\n"})
    proposer = MutateProposer()
    assert proposer.propose(ctx_for(root, editable=("*.py",))) is None
    assert "no mutation site" in proposer.last_error


def test_weights_hook(tmp_path: Path) -> None:
    root = repo_with(tmp_path, PROGRAM)
    proposer = MutateProposer()
    proposer.operator_weights = only("flip")
    assert proposer.propose(ctx_for(root)) is not None
    assert proposer.propose(ctx_for(root, 3)).features["operator"] == "flip"  # type: ignore[union-attr]
    proposer.operator_weights = {op: 0.0 for op in OPERATORS}
    assert proposer.propose(ctx_for(root)) is None
    assert "weight 0" in proposer.last_error


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"weigths": {}}, id="unknown-option"),
        pytest.param({"weights": {"swap": 1.0}}, id="unknown-operator"),
        pytest.param({"weights": {"flip": -1}}, id="negative-weight"),
        pytest.param({"weights": [1, 2]}, id="not-a-table"),
    ],
)
def test_bad_options(options: dict[str, object]) -> None:
    with pytest.raises(LadderError):
        make_proposer(ProposerSpec("mutate", options))


def test_registry_builds_mutate_with_weights() -> None:
    proposer = make_proposer(ProposerSpec("mutate", {"weights": {"delete": 2}}))
    assert isinstance(proposer, MutateProposer)
    assert proposer.name == "mutate"
    assert proposer.operator_weights == {"delete": 2.0}


GNARLY = """\
X = (3)
Y = -(2.5)  # a comment
W = (-(4))
def f(a=1, b=-2.0):
    return a * 3e-4
Z = [1, 2, (3)]
FLAG = (True)
MODE = ('a')  # ladder: choices a b c
class K:
    R = 0x10
    S = 1_000
    T = 1e3
"""


def test_a_spliced_edit_is_what_a_full_code_generation_gives() -> None:
    # Proposals splice the new literal into the old text (a position pass once per file
    # version) instead of regenerating the whole module: the result must be identical.
    from typing import cast

    from ladder.agent.proposers import mutate

    module = cst.parse_module(GNARLY)
    parsed = mutate._Parsed(module, (), GNARLY)
    parsed.sites = tuple(mutate.find_sites(module, parsed.positions(), GNARLY))
    edits = 0
    for site in parsed.sites:
        if site.operator == "delete":
            continue
        for edit in site.edits:
            spliced = mutate._proposal("k.py", parsed, site, edit).files["k.py"]
            replaced = cast(cst.Module, module.deep_replace(
                site.node, mutate._replacement(site.node, edit.new))).code
            assert spliced == replaced, (site.symbol, edit)
            edits += 1
    assert edits > 30


def test_a_move_tried_only_on_another_parent_is_proposed_when_nothing_else_is_left(
    tmp_path: Path,
) -> None:
    """`USE_NORM True -> False` is the file's only mutation. Tried on this parent, nothing
    is left; tried on another parent (before a keep changed the program), it is new here."""
    root = repo_with(tmp_path, "USE_NORM = True\n")
    flip = "train.py: USE_NORM True -> False (flip)"

    def propose(tried_on: str) -> Proposal | None:
        attempt = Attempt(1, flip, "discard", 0.1, parent=tried_on)
        ctx = dataclasses.replace(ctx_for(root), attempts=(attempt,), parent="p2")
        return MutateProposer().propose(ctx)

    assert propose("p2") is None
    again = propose("p1")
    assert again is not None and again.description == flip
