"""`[tool.ladder.agent.verify]`: parsed into VerifySettings; unknown keys and bad values
are errors naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from ladder.agent.config import VerifySettings, load_agent_config
from ladder.errors import LadderError
from ladder.project import Project
from testing.fixtures import write

BASE = """\
editable = ["train.py"]
eval = "python train.py"
[metrics.loss]
direction = "min"
"""


def load(tmp_path: Path, verify: str) -> VerifySettings:
    write(tmp_path, ".ladder/agent.toml", BASE + "[verify]\n" + verify)
    return load_agent_config(Project(tmp_path)).verify


def test_defaults_without_a_table(tmp_path: Path) -> None:
    write(tmp_path, ".ladder/agent.toml", BASE)
    assert load_agent_config(Project(tmp_path)).verify == VerifySettings()


def test_every_key(tmp_path: Path) -> None:
    settings = load(tmp_path, 'fdr = 0.1\nfirst_stage = 4\nmin_effect = 0.002\nz_threshold = 5\n'
                              'revalidate_every = 3\non_converged = "explore"\nfutility = 1\n'
                              'horizon = 4\npatience = 12\n')
    assert settings == VerifySettings(fdr=0.1, first_stage=4, min_effect=0.002, z_threshold=5.0,
                                      revalidate_every=3, on_converged="explore", futility=1.0,
                                      horizon=4, patience=12)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        pytest.param("fdr_target = 0.1\n", "verify.fdr_target", id="unknown-key"),
        pytest.param("fdr = 1.5\n", "verify.fdr", id="fdr-above-one"),
        pytest.param("fdr = 0\n", "verify.fdr", id="fdr-zero"),
        pytest.param("first_stage = 0\n", "verify.first_stage", id="no-first-stage"),
        pytest.param('on_converged = "halt"\n', "verify.on_converged", id="bad-choice"),
        pytest.param("min_effect = -1\n", "verify.min_effect", id="negative-effect"),
        pytest.param('patience = "long"\n', "verify.patience", id="wrong-type"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, text: str, named: str) -> None:
    with pytest.raises(LadderError) as info:
        load(tmp_path, text)
    assert named in str(info.value.what)
