from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ladder.agent.config import AgentConfig, MetricSpec, ProposerSpec, load_agent_config
from ladder.errors import LadderError
from ladder.project import Project
from testing.fixtures import write

FULL = """\
[tool.ladder.agent]
editable = ["train.py"]
eval = "python evaluate.py"
timeout = 600
seeds = 5
iterations = 100
proposer = "mutate"
strategy = "auto"
executor = "local"
workers = 1
[tool.ladder.agent.metrics.val_loss]
direction = "min"
role = "target"
[tool.ladder.agent.metrics.seconds]
direction = "min"
role = "guard"
margin = 0.05
"""

MINIMAL = """\
editable = ["train.py"]
eval = "python train.py"
[metrics.val_bpb]
direction = "min"
"""


def project(tmp_path: Path, pyproject: str | None = None, agent: str | None = None) -> Project:
    if pyproject is not None:
        write(tmp_path, "pyproject.toml", pyproject)
    if agent is not None:
        write(tmp_path, ".ladder/agent.toml", agent)
    return Project(tmp_path)


def test_full_example_of_the_issue(tmp_path: Path) -> None:
    config = load_agent_config(project(tmp_path, pyproject=FULL))
    assert config == AgentConfig(
        editable=("train.py",),
        eval="python evaluate.py",
        metrics={
            "val_loss": MetricSpec("val_loss", "min", "target"),
            "seconds": MetricSpec("seconds", "min", "guard", margin=0.05),
        },
        timeout=600.0,
        seeds=5,
        iterations=100,
        proposer=ProposerSpec("mutate", {}),
        strategy="auto",
        executor="local",
        workers=1,
    )
    assert config.target.name == "val_loss"
    assert [g.name for g in config.guards] == ["seconds"]
    # ladder's own wall time is a metric: parent and candidate run side by side
    assert config.reuse_parent is None and not config.shares_parent


def test_every_other_key(tmp_path: Path) -> None:
    text = (
        MINIMAL.replace(
            "[metrics.val_bpb]",
            'hours = 8\nreuse_parent = false\ngates = ["pytest -q -x tests/fast"]\npass_env = ["HF_TOKEN"]\nseed = 7\n'
            'decision = "crude"\nproposer = {kind = "llm", base_url = "http://localhost:1", '
            'model = "m", api_key_env = "KEY", temperature = 0.7}\n'
            '[metrics.acc]\ndirection = "max"\nrole = "guard"\nbounds = [0, 1]\n'
            "[metrics.val_bpb]",
        )
        + "min = 0.5\n"
    )
    config = load_agent_config(project(tmp_path, agent=text))
    assert config.hours == 8.0
    assert config.reuse_parent is False and not config.shares_parent
    assert config.iterations is None  # `hours` alone: run for the hours, not 100 iterations
    assert config.gates == ("pytest -q -x tests/fast",)
    assert config.pass_env == ("HF_TOKEN",)
    assert (config.seed, config.decision) == (7, "crude")
    assert config.proposer == ProposerSpec(
        "llm",
        {"base_url": "http://localhost:1", "model": "m", "api_key_env": "KEY", "temperature": 0.7},
    )
    assert config.metrics["acc"].bounds == (0.0, 1.0)
    assert config.metrics["val_bpb"].bounds == (0.5, None)
    assert config.metrics["val_bpb"].role == "target"  # the default role


def test_agent_table_in_agent_toml(tmp_path: Path) -> None:
    text = MINIMAL.replace("editable", "[agent]\neditable", 1).replace(
        "[metrics.", "[agent.metrics."
    )
    config = load_agent_config(project(tmp_path, agent=text))
    assert config.target.name == "val_bpb"


def test_command_proposer(tmp_path: Path) -> None:
    text = 'proposer = {kind = "command", cmd = "claude -p {prompt_file}"}\n' + MINIMAL
    config = load_agent_config(project(tmp_path, agent=text))
    assert config.proposer == ProposerSpec("command", {"cmd": "claude -p {prompt_file}"})


def test_agent_toml_wins_over_pyproject(tmp_path: Path) -> None:
    other = MINIMAL.replace("val_bpb", "loss")
    config = load_agent_config(project(tmp_path, pyproject=FULL, agent=other))
    assert config.target.name == "loss"
    assert load_agent_config(project(tmp_path / "b", pyproject=FULL)).target.name == "val_loss"


def test_agent_table_of_ladder_config_toml(tmp_path: Path) -> None:
    write(
        tmp_path,
        ".ladder/config.toml",
        "[agent]\n" + MINIMAL.replace("[metrics.", "[agent.metrics."),
    )
    assert load_agent_config(Project(tmp_path)).target.name == "val_bpb"


def test_pyproject_table_counts_beside_a_ladder_config_toml(tmp_path: Path) -> None:
    write(tmp_path, ".ladder/config.toml", 'lessons_doc = "LESSONS.md"\n')
    assert load_agent_config(project(tmp_path, pyproject=FULL)).target.name == "val_loss"


def test_missing_configuration_says_where_to_put_it(tmp_path: Path) -> None:
    with pytest.raises(LadderError) as caught:
        load_agent_config(project(tmp_path, pyproject="[project]\nname = 'x'\n"))
    assert caught.value.exit_code == 2
    assert "[tool.ladder.agent]" in caught.value.todo
    assert ".ladder/agent.toml" in caught.value.todo
    assert 'eval = "python train.py"' in caught.value.todo


def _replace(old: str, new: str) -> str:
    assert old in FULL
    return FULL.replace(old, new)


BAD = [
    pytest.param(
        _replace("seeds = 5", "sedes = 5"), "tool.ladder.agent.sedes", id="unknown-top-key"
    ),
    pytest.param(
        _replace('role = "target"', 'role = "target"\ndirecton = "min"'),
        "tool.ladder.agent.metrics.val_loss.directon",
        id="unknown-metric-key",
    ),
    pytest.param(
        _replace('direction = "min"\nrole = "target"', 'direction = "down"\nrole = "target"'),
        "tool.ladder.agent.metrics.val_loss.direction",
        id="bad-direction",
    ),
    pytest.param(
        _replace('role = "guard"', 'role = "target"').replace("margin = 0.05\n", ""),
        "exactly one metric",
        id="two-targets",
    ),
    pytest.param(
        _replace('role = "target"', 'role = "guard"'), "exactly one metric", id="no-target"
    ),
    pytest.param(
        _replace('eval = "python evaluate.py"\n', ""), "tool.ladder.agent.eval", id="missing-eval"
    ),
    pytest.param(
        _replace('role = "target"', 'role = "target"\ntrusted = true'),
        "is trusted = true, but no `score` command", id="trusted-without-scorer",
    ),
    pytest.param(
        _replace('role = "target"', 'role = "target"\ntrusted = "yes"'), "trusted", id="trusted-string",
    ),
    pytest.param(
        _replace('editable = ["train.py"]', 'editable = "train.py"'),
        "tool.ladder.agent.editable",
        id="editable-not-a-list",
    ),
    pytest.param(
        _replace('editable = ["train.py"]', "editable = []"),
        "tool.ladder.agent.editable",
        id="editable-empty",
    ),
    pytest.param(
        _replace("seeds = 5", 'seeds = "5"'), "tool.ladder.agent.seeds", id="seeds-string"
    ),
    pytest.param(_replace("seeds = 5", "seeds = 0"), "tool.ladder.agent.seeds", id="seeds-zero"),
    pytest.param(
        _replace("seeds = 5", 'seeds = 5\nlearn = "no"'), "tool.ladder.agent.learn", id="learn-string"
    ),
    pytest.param(
        _replace("workers = 1", "workers = true"), "tool.ladder.agent.workers", id="workers-bool"
    ),
    pytest.param(
        _replace("seeds = 5", "seeds = 5\nreuse_parent = 1"), "tool.ladder.agent.reuse_parent",
        id="reuse-parent-number",
    ),
    pytest.param(
        _replace("timeout = 600", "timeout = -1"),
        "tool.ladder.agent.timeout",
        id="timeout-negative",
    ),
    pytest.param(
        _replace('strategy = "auto"', 'strategy = "greedy"'),
        "tool.ladder.agent.strategy",
        id="unknown-strategy",
    ),
    pytest.param(
        _replace('executor = "local"', 'executor = "slurm"'),
        "tool.ladder.agent.executor",
        id="unknown-executor",
    ),
    pytest.param(
        _replace("margin = 0.05", "margin = -0.05"),
        "tool.ladder.agent.metrics.seconds.margin",
        id="negative-margin",
    ),
    pytest.param(
        _replace('role = "target"', 'role = "target"\nmargin = 0.1'),
        "tool.ladder.agent.metrics.val_loss.margin",
        id="margin-on-target",
    ),
    pytest.param(
        _replace('role = "target"', 'role = "target"\nbounds = [1, 0]'),
        "tool.ladder.agent.metrics.val_loss",
        id="empty-bounds",
    ),
    pytest.param(
        _replace('role = "target"', 'role = "target"\nbounds = [0]'),
        "tool.ladder.agent.metrics.val_loss.bounds",
        id="one-sided-bounds-list",
    ),
    pytest.param(
        _replace('role = "target"', 'role = "target"\nbounds = [0, 1]\nmin = 0'),
        "tool.ladder.agent.metrics.val_loss.bounds",
        id="bounds-and-min",
    ),
    pytest.param(
        _replace('direction = "min"\nrole = "target"', 'role = "target"'),
        "tool.ladder.agent.metrics.val_loss.direction",
        id="missing-direction",
    ),
    pytest.param(
        _replace('proposer = "mutate"', 'proposer = "genius"'),
        "tool.ladder.agent.proposer",
        id="unknown-proposer",
    ),
    pytest.param(
        _replace('proposer = "mutate"', 'proposer = "command"'),
        "tool.ladder.agent.proposer.cmd",
        id="command-without-cmd",
    ),
    pytest.param(
        _replace('proposer = "mutate"', 'proposer = {kind = "command", cmd = "claude"}'),
        "tool.ladder.agent.proposer.cmd",
        id="cmd-without-prompt-file",
    ),
    pytest.param(
        _replace('proposer = "mutate"', 'proposer = {kind = "llm", model = "m"}'),
        "tool.ladder.agent.proposer.base_url",
        id="llm-without-base-url",
    ),
    pytest.param(
        _replace(
            'proposer = "mutate"',
            'proposer = {kind = "llm", base_url = "u", model = "m", temp = 1}',
        ),
        "tool.ladder.agent.proposer.temp",
        id="llm-unknown-option",
    ),
    pytest.param(
        _replace('proposer = "mutate"', 'proposer = {cmd = "x {prompt_file}"}'),
        "tool.ladder.agent.proposer.kind",
        id="proposer-table-without-kind",
    ),
    pytest.param(
        _replace('proposer = "mutate"', "proposer = 3"),
        "tool.ladder.agent.proposer",
        id="proposer-number",
    ),
    pytest.param(
        _replace("seeds = 5", 'decision = "vibes"'), "tool.ladder.agent.decision", id="bad-decision"
    ),
    pytest.param(
        _replace("seeds = 5", 'gates = "pytest"'), "tool.ladder.agent.gates", id="gates-string"
    ),
    pytest.param(
        _replace("seeds = 5", 'sandbox = {mode = "docker"}'), "tool.ladder.agent.sandbox.mode",
        id="sandbox-unknown-mode",
    ),
    pytest.param(
        _replace("seeds = 5", "sandbox = {net = true}"), "tool.ladder.agent.sandbox.net",
        id="sandbox-unknown-key",
    ),
    pytest.param(
        _replace("seeds = 5", 'sandbox = {writable = "~/.cache"}'),
        "tool.ladder.agent.sandbox.writable", id="sandbox-writable-string",
    ),
    pytest.param(
        _replace("seeds = 5", 'sandbox = {network = "yes"}'), "tool.ladder.agent.sandbox.network",
        id="sandbox-network-string",
    ),
]


@pytest.mark.parametrize(("text", "named"), BAD)
def test_bad_configuration_names_the_key(tmp_path: Path, text: str, named: str) -> None:
    with pytest.raises(LadderError) as caught:
        load_agent_config(project(tmp_path, pyproject=text))
    assert named in caught.value.what
    assert caught.value.where == str(tmp_path / "pyproject.toml")
    assert caught.value.exit_code == 2


def test_agent_toml_errors_name_that_file(tmp_path: Path) -> None:
    with pytest.raises(LadderError) as caught:
        load_agent_config(project(tmp_path, pyproject=FULL, agent=MINIMAL + "wat = 1\n"))
    assert caught.value.where == str(tmp_path / ".ladder" / "agent.toml")
    assert "metrics.val_bpb.wat" in caught.value.what


def test_overrides_apply_after_the_file(tmp_path: Path) -> None:
    root = project(tmp_path, pyproject=FULL)
    flags: dict[str, Any] = {
        "iterations": 3,
        "strategy": "hill",
        "seed": 9,
        "workers": 2,
        "crude": True,
        "hours": None,
    }
    config = load_agent_config(root, flags)
    assert (config.iterations, config.strategy, config.seed, config.workers) == (3, "hill", 9, 2)
    assert config.decision == "crude"
    assert config.hours is None  # None: flag not given
    assert load_agent_config(root, {"crude": False}).decision == "verified"


def test_the_sandbox_table_and_flag(tmp_path: Path) -> None:
    text = FULL + ('[tool.ladder.agent.sandbox]\nmode = "none"\n'
                   'writable = ["~/.cache/huggingface"]\nhidden = ["/data/val_labels.npy"]\n'
                   "network = true\n")
    config = load_agent_config(project(tmp_path, pyproject=text))
    assert config.sandbox.mode == "none" and config.sandbox.network is True
    assert config.sandbox.writable == ("~/.cache/huggingface",)
    assert config.sandbox.hidden == ("/data/val_labels.npy",)
    flagged = load_agent_config(project(tmp_path, pyproject=text), {"sandbox": "userns"})
    assert flagged.sandbox.mode == "userns" and flagged.sandbox.hidden == config.sandbox.hidden
    assert load_agent_config(project(tmp_path, pyproject=FULL)).sandbox.mode == "auto"


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        pytest.param({"sandbox": "docker"}, "--sandbox", id="unknown-sandbox"),
        pytest.param({"iterations": 0}, "--iterations", id="zero-iterations"),
        pytest.param({"strategy": "greedy"}, "--strategy", id="unknown-strategy"),
        pytest.param({"workers": "2"}, "--workers", id="workers-string"),
        pytest.param({"seed": -1}, "--seed", id="negative-seed"),
        pytest.param({"crude": "yes"}, "--crude", id="crude-not-a-flag"),
        pytest.param({"metrics": {}}, "--metrics", id="not-overridable"),
    ],
)
def test_bad_overrides_name_the_flag(tmp_path: Path, flags: dict[str, Any], named: str) -> None:
    with pytest.raises(LadderError) as caught:
        load_agent_config(project(tmp_path, pyproject=FULL), flags)
    assert named in caught.value.what
    assert caught.value.where == "the command line"


def test_config_knows_exactly_the_options_each_proposer_takes() -> None:
    # Two lists of options would drift apart; this keeps config and proposers in step.
    from ladder.agent.config import PROPOSER_OPTIONS
    from ladder.agent.proposers import command, llm, mutate

    assert set(PROPOSER_OPTIONS["mutate"]) == set(mutate.OPTIONS)
    assert set(PROPOSER_OPTIONS["command"]) == set(command.OPTIONS)
    assert set(PROPOSER_OPTIONS["llm"]) == set(llm.OPTIONS)


def test_the_old_decision_name_still_reads(tmp_path: Path) -> None:
    root = project(tmp_path, pyproject=FULL.replace('decision = "crude"', 'decision = "paired"'))
    assert load_agent_config(root).decision == "verified"
