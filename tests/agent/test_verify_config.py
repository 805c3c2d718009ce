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
    settings = load(tmp_path, 'fdr = 0.1\naddis_tau = 0.6\naddis_lambda = 0.2\nspending = -1\n'
                              'min_effect = 0.002\nz_threshold = 5\nrevalidate_every = 3\n'
                              'on_converged = "explore"\nfutility = 1\nfutility_power = 0.2\n'
                              'patience = 12\n')
    assert settings == VerifySettings(fdr=0.1, addis_tau=0.6, addis_lambda=0.2, spending=-1.0,
                                      min_effect=0.002, z_threshold=5.0, revalidate_every=3,
                                      on_converged="explore", futility=1.0, futility_power=0.2,
                                      patience=12)


@pytest.mark.parametrize("key", ["first_stage", "min_confirm", "power", "horizon"])
def test_keys_of_the_old_two_stage_test_say_they_are_gone(tmp_path: Path, key: str) -> None:
    with pytest.raises(LadderError) as info:
        load(tmp_path, f"{key} = 3\n")
    assert f"verify.{key}' is no longer used" in info.value.what
    assert "docs/verification.md" in info.value.todo


def test_lambda_must_stay_below_tau(tmp_path: Path) -> None:
    with pytest.raises(LadderError) as info:
        load(tmp_path, "addis_tau = 0.3\naddis_lambda = 0.3\n")
    assert "addis_lambda" in info.value.what


@pytest.mark.parametrize(
    ("text", "named"),
    [
        pytest.param("fdr_target = 0.1\n", "verify.fdr_target", id="unknown-key"),
        pytest.param("fdr = 1.5\n", "verify.fdr", id="fdr-above-one"),
        pytest.param("fdr = 0\n", "verify.fdr", id="fdr-zero"),
        pytest.param("spending = nan\n", "verify.spending", id="nan-spending"),
        pytest.param('on_converged = "halt"\n', "verify.on_converged", id="bad-choice"),
        pytest.param("min_effect = -1\n", "verify.min_effect", id="negative-effect"),
        pytest.param('patience = "long"\n', "verify.patience", id="wrong-type"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, text: str, named: str) -> None:
    with pytest.raises(LadderError) as info:
        load(tmp_path, text)
    assert named in str(info.value.what)
