from __future__ import annotations

import random
import shlex
import sys
import time
from pathlib import Path

import pytest

from ladder.agent.config import ProposerSpec
from ladder.agent.proposers import make_proposer
from ladder.agent.proposers.command import CommandProposer
from ladder.agent.records import Attempt, ProposalContext
from ladder.errors import LadderError
from testing.fixtures import git, make_repo

FILES = {
    "train.py": "LR = 0.01\n\n\ndef train():\n    return LR\n",
    "old.py": "X = 1\n",
    "evaluate.py": "print('loss: 1.0')\n",
}
PY = shlex.quote(sys.executable)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "r", FILES)


def ctx_for(root: Path) -> ProposalContext:
    return ProposalContext(
        root=root,
        editable=("train.py", "new.py", "old.py"),
        iteration=4,
        rng=random.Random(0),
        rules="## Rules from past lessons\n\n- Never edit evaluate.py.\n",
        attempts=(Attempt(3, "LR 0.01 -> 0.02", "discard", effect=0.05),),
    )


def python(code: str) -> str:
    return f"{PY} -c {shlex.quote(code)}"


def assert_restored(root: Path) -> None:
    assert git(root, "status", "--porcelain").stdout == ""
    for name, text in FILES.items():
        assert (root / name).read_text() == text


EDIT = """
import pathlib, sys
p = pathlib.Path('train.py')
p.write_text(p.read_text().replace('0.01', '0.02'))
pathlib.Path('new.py').write_text('Y = 2\\n')
pathlib.Path('old.py').unlink()
print('thinking...')
print('raise the learning rate')
print()
"""


def test_whatever_the_command_changed_is_the_proposal(root: Path) -> None:
    proposer = CommandProposer(python(EDIT) + " {prompt_file}")
    p = proposer.propose(ctx_for(root))
    assert p is not None, proposer.last_error
    assert p.description == "raise the learning rate"
    assert p.files == {
        "train.py": FILES["train.py"].replace("0.01", "0.02"),
        "new.py": "Y = 2\n",
    }
    assert p.deleted == ("old.py",)
    assert p.proposer == "command"
    assert p.features["operator"] == "command"
    assert p.features["files"] == ["new.py", "old.py", "train.py"]
    assert "LR" in p.features["symbols"]
    assert_restored(root)


def test_the_prompt_reaches_the_command(root: Path, tmp_path: Path) -> None:
    seen = tmp_path / "seen.md"
    cmd = (
        f'cp {{prompt_file}} {shlex.quote(str(seen))} && cmp {{prompt_file}} "$LADDER_PROMPT_FILE"'
    )
    proposer = CommandProposer(cmd, target="val_loss (lower is better)")
    assert proposer.propose(ctx_for(root)) is None
    assert proposer.last_error == "command changed no file"
    prompt = seen.read_text()
    assert "Never edit evaluate.py." in prompt
    assert "#3 LR 0.01 -> 0.02 -> discard, effect +0.05" in prompt
    assert "Improve val_loss (lower is better)" in prompt
    assert "def train():" in prompt
    assert "do not commit" in prompt
    assert "<<<<<<< SEARCH" not in prompt  # a CLI agent edits in place


def test_a_command_that_commits_is_rolled_back(root: Path) -> None:
    cmd = "echo 'Z = 3' >> train.py && git commit -qam 'agent commit' && echo edited evaluate > evaluate.py"
    start = git(root, "rev-parse", "HEAD").stdout
    p = CommandProposer(cmd).propose(ctx_for(root))
    assert p is not None
    assert p.files == {
        "train.py": FILES["train.py"] + "Z = 3\n",
        "evaluate.py": "edited evaluate\n",
    }
    assert p.description == "command proposal"  # it printed nothing
    assert git(root, "rev-parse", "HEAD").stdout == start
    assert_restored(root)


def test_a_failing_command_proposes_nothing(root: Path) -> None:
    proposer = CommandProposer("echo broken > train.py; echo 'no key' >&2; exit 3")
    assert proposer.propose(ctx_for(root)) is None
    assert proposer.last_error == "command exited 3: no key"
    assert_restored(root)


def test_a_command_past_its_timeout_is_killed(root: Path) -> None:
    proposer = CommandProposer("echo x > train.py; sleep 30", timeout=0.5)
    began = time.monotonic()
    assert proposer.propose(ctx_for(root)) is None
    assert time.monotonic() - began < 10
    assert proposer.last_error == "command timed out after 0.5 s"
    assert_restored(root)


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({}, id="no-cmd"),
        pytest.param({"cmd": "x", "timeout": 0}, id="zero-timeout"),
        pytest.param({"cmd": "x", "env": {"A": 1}}, id="env-not-strings"),
        pytest.param({"cmd": "x", "model": "m"}, id="unknown-option"),
    ],
)
def test_bad_options(options: dict[str, object]) -> None:
    with pytest.raises(LadderError):
        make_proposer(ProposerSpec("command", options))


def test_env_option_reaches_the_command(root: Path) -> None:
    spec = ProposerSpec("command", {"cmd": 'echo "$GREETING" > new.py', "env": {"GREETING": "hi"}})
    p = make_proposer(spec).propose(ctx_for(root))
    assert p is not None
    assert p.files == {"new.py": "hi\n"}
