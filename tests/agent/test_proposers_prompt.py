from __future__ import annotations

import random
from pathlib import Path

import pytest

from ladder.agent.config import ProposerSpec
from ladder.agent.proposers import PROPOSERS, make_proposer
from ladder.agent.proposers.common import changed_symbols
from ladder.agent.proposers.prompt import (
    EDIT_IN_PLACE_FORMAT,
    MAX_FILE_CHARS,
    MAX_FILES_CHARS,
    build_prompt,
)
from ladder.agent.records import Attempt, ProposalContext
from ladder.errors import LadderError


def ctx(**kw: object) -> ProposalContext:
    return ProposalContext(
        root=Path("."),
        editable=("train.py",),
        iteration=2,
        rng=random.Random(0),
        **kw,  # type: ignore[arg-type]
    )


def test_sections_in_order() -> None:
    prompt = build_prompt(
        ctx(
            rules="## Rules from past lessons\n\n- Keep validate_input.\n",
            skills="## Skills\n\n- Warmup helps.\n",
            attempts=(Attempt(1, "LR x2", "discard", effect=0.25),),
            inspirations=(("STEPS x2", "-STEPS = 1\n+STEPS = 2\n"),),
        ),
        {"train.py": "LR = 0.01\n"},
        "val_loss (lower is better)",
    )
    heads = [line for line in prompt.splitlines() if line.startswith("#")]
    assert heads == [
        "# Task",
        "## Rules from past lessons",
        "## Skills",
        "## Recent attempts (oldest first; do not repeat a discarded idea)",
        "## Inspirations (changes that worked elsewhere in this search)",
        "### STEPS x2",
        "## Editable files",
        "## Answer format",
    ]
    assert "Improve val_loss (lower is better)" in prompt
    assert "- #1 LR x2 -> discard, effect +0.25" in prompt
    assert "train.py\n```\nLR = 0.01\n```" in prompt


def test_empty_sections_are_left_out() -> None:
    prompt = build_prompt(ctx(), {}, "loss", answer=EDIT_IN_PLACE_FORMAT)
    assert "## Recent attempts" not in prompt and "## Inspirations" not in prompt
    assert "## How to answer" in prompt


def test_only_the_last_ten_attempts() -> None:
    attempts = tuple(Attempt(i, f"idea {i}", "discard") for i in range(25))
    prompt = build_prompt(ctx(attempts=attempts), {}, "loss")
    assert "idea 14 " not in prompt
    assert all(f"#{i} idea {i} -> discard" in prompt for i in range(15, 25))


def test_large_files_are_cut_at_lines_with_a_note() -> None:
    big = "".join(f"X{i} = {i}\n" for i in range(10_000))
    prompt = build_prompt(ctx(), {"train.py": big, "b.py": big, "c.py": big, "d.py": big}, "loss")
    assert "X0 = 0\n" in prompt
    assert "X9999 = 9999" not in prompt
    assert prompt.count("do not SEARCH in the hidden part") == 4
    assert len(prompt) < MAX_FILES_CHARS + 5_000
    shown = prompt.split("train.py\n```\n", 1)[1].split("```", 1)[0]
    assert len(shown) <= MAX_FILE_CHARS + 1
    assert shown.endswith("\n")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param("A = 1\nB = 2\n", "A = 1\nB = 3\n", ["B"], id="assignment"),
        pytest.param(
            "def f():\n    return 1\n\n\ndef g():\n    return 2\n",
            "def f():\n    return 1\n\n\ndef g():\n    return 5\n",
            ["g"],
            id="inside-a-def",
        ),
        pytest.param("A = 1\n", "A = 1\n", [], id="unchanged"),
        pytest.param("A = 1\n", "A = (\n", ["A"], id="names-from-the-old-text-when-new-breaks"),
    ],
)
def test_changed_symbols(old: str, new: str, expected: list[str]) -> None:
    assert changed_symbols(old, new) == expected


def test_registry() -> None:
    assert sorted(PROPOSERS) == ["command", "llm", "mutate"]
    with pytest.raises(LadderError, match="unknown proposer kind 'gpt'") as info:
        make_proposer(ProposerSpec("gpt"))
    assert "command, llm, mutate" in info.value.todo
