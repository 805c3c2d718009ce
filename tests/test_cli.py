"""The CLI's contract beyond the founding story: argument parsing, output formats,
CI mode, failing closed, the published hook manifest and the demo."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ladder import _toml
from ladder.commands.promote import parse_rule_args, parse_value, read_code
from ladder.errors import LadderError
from testing.cli import ladder
from testing.fixtures import commit, make_repo, write

REPO = Path(__file__).resolve().parents[1]
BAD = "def generate(x):\n    return model(x)\n"

BOOM_CHECK = '''
import libcst as cst
from ladder.rules.custom import LadderCheck


class Boom(LadderCheck):
    MESSAGE = "bad() is not allowed"
    VALID = ["x = good()\\n"]
    INVALID = ["x = bad()\\n"]

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "bad":
            self.report(node)

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == "explode":
            raise RuntimeError("the check itself is broken")
'''


@pytest.mark.parametrize(
    ("text", "value"),
    [
        pytest.param("0.05", 0.05, id="float"),
        pytest.param("3", 3, id="int"),
        pytest.param("true", True, id="bool"),
        pytest.param('["a.py", "b.py"]', ["a.py", "b.py"], id="array"),
        pytest.param("generate", "generate", id="bare-word"),
        pytest.param('"--validate"', '"--validate"', id="quotes-kept"),
        pytest.param("eval(...)", "eval(...)", id="pattern"),
    ],
)
def test_rule_argument_values(text: str, value: object) -> None:
    assert parse_value(text) == value


def test_rule_arguments_must_be_key_value() -> None:
    assert parse_rule_args(["function=generate", "calls=validate_input"]) == {
        "function": "generate", "calls": "validate_input"}
    with pytest.raises(LadderError, match="KEY=VALUE"):
        parse_rule_args(["function"])


def test_case_code_from_the_command_line(tmp_path: Path) -> None:
    assert read_code("def f():\\n    pass") == "def f():\n    pass\n"
    (tmp_path / "case.py").write_text("x = 1\n")
    assert read_code(f"@{tmp_path / 'case.py'}") == "x = 1\n"
    with pytest.raises(LadderError, match="cannot read"):
        read_code(f"@{tmp_path / 'missing.py'}")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "p", {"gen.py": "def generate(x):\n    validate_input(x)\n"})
    assert ladder(root, "init").returncode == 0
    commit(root, "init")
    return root


def promote_require_call(root: Path, to: int) -> str:
    lesson_id = ladder(root, "add", "generate() must call validate_input()", "--why", "w").stdout.strip()
    out = ladder(root, "promote", lesson_id, "--to", str(to), "--rule", "require-call",
                 "function=generate", "calls=validate_input")
    assert out.returncode == 0, out.stderr
    return lesson_id


@pytest.mark.slow
def test_json_and_sarif_findings(project: Path) -> None:
    lesson_id = promote_require_call(project, 5)
    write(project, "gen.py", BAD)
    as_json = ladder(project, "check", "--format", "json")
    assert as_json.returncode == 1
    (finding,) = json.loads(as_json.stdout)
    assert finding | {"message": ""} == {
        "rule": "require-call", "lesson": lesson_id, "path": "gen.py", "line": 1, "column": 5,
        "message": "", "level": 5, "severity": "error"}
    sarif = json.loads(ladder(project, "check", "--format", "sarif").stdout)
    assert sarif["version"] == "2.1.0"
    (result,) = sarif["runs"][0]["results"]
    assert result["ruleId"] == lesson_id
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "gen.py"
    assert sarif["runs"][0]["tool"]["driver"]["rules"][0]["shortDescription"]["text"].startswith("generate()")


@pytest.mark.slow
def test_level_4_blocks_only_in_ci_mode(project: Path) -> None:
    promote_require_call(project, 4)
    write(project, "gen.py", BAD)
    hook_mode = ladder(project, "check")
    assert hook_mode.returncode == 0
    assert "warning" in hook_mode.stdout
    ci_mode = ladder(project, "check", "--ci")
    assert ci_mode.returncode == 1
    assert "error" in ci_mode.stdout


@pytest.mark.slow
def test_base_mode_checks_only_what_changed_since_rev(project: Path) -> None:
    promote_require_call(project, 4)
    commit(project, "lesson")
    write(project, "other.py", BAD)  # a new violation, uncommitted
    assert ladder(project, "check", "--ci", "--base", "HEAD").returncode == 1
    commit(project, "violation", "other.py")
    assert ladder(project, "check", "--ci", "--base", "HEAD").returncode == 0  # nothing since HEAD
    assert ladder(project, "check", "--ci", "--base", "HEAD~1").returncode == 1


@pytest.mark.slow
def test_a_crashing_rule_blocks_the_commit_and_says_how_to_bypass(project: Path) -> None:
    write(project, "checks.py", BOOM_CHECK)
    lesson_id = ladder(project, "add", "No bad()", "--why", "w", "--path", "src/**").stdout.strip()
    out = ladder(project, "promote", lesson_id, "--to", "5", "--rule", "custom", "check=checks:Boom")
    assert out.returncode == 0, out.stderr
    assert commit(project, "custom check").returncode == 0
    write(project, "src/x.py", "explode = 1\n")
    refused = commit(project, "trips the broken check")
    assert refused.returncode != 0
    output = refused.stdout + refused.stderr
    assert "crashed" in output and lesson_id in output
    assert "SKIP=ladder-check" in output and "--no-verify" in output
    assert "Traceback" not in output


def test_pre_commit_missing_is_one_clear_line(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "p")
    code = ("import sys; sys.modules['pre_commit'] = None\n"
            "from ladder.main import main; raise SystemExit(main(['init']))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert "pre-commit is not installed" in proc.stderr


def test_published_hook_manifest_is_valid() -> None:
    proc = subprocess.run([sys.executable, "-m", "pre_commit", "validate-manifest",
                           str(REPO / ".pre-commit-hooks.yaml")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_help_lists_every_command() -> None:
    proc = subprocess.run([sys.executable, "-m", "ladder", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    for command in ("init", "add", "list", "show", "promote", "demote", "audit", "adopt",
                    "check", "test", "prompt", "hooks", "demo"):
        assert f"  {command}" in proc.stdout


@pytest.mark.slow
def test_the_default_demo_keeps_its_verified_wins(
    default_demo: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    """`ladder demo` as a new user runs it: its proposer's biases said first, every
    decision setting the default, and at least one verified keep that the final
    re-validation on fresh seeds confirms (issue 10)."""
    proc, root = default_demo
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert proc.stdout.splitlines()[0].startswith("ladder demo: the proposer is biased")
    assert "scaling LEARNING_RATE up x8" in proc.stdout.splitlines()[0]
    toml = (root / ".ladder" / "agent.toml").read_text()
    table = _toml.loads(toml, "agent.toml")
    assert "verify" not in table and "fdr" not in table  # every decision setting the default
    # the budget is in evaluations (refused proposals cost none)
    assert table["evaluations"] == 64 and "iterations" not in table
    assert "baseline" in proc.stdout
    # not a terminal: progress as plain lines from the first evaluation on, no control codes
    assert "\nprogress: baseline " in proc.stdout
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", proc.stdout)
    assert (root / ".ladder" / "lessons" / "protect-evaluator.toml").is_file()
    (run_dir,) = (root / ".ladder" / "runs").iterdir()
    records = [json.loads(line) for line in (run_dir / "journal.jsonl").read_text().splitlines()]
    iterations = int(re.search(r"^iterations (\d+): ", proc.stdout, re.M).group(1))  # type: ignore[union-attr]
    assert len((run_dir / "results.tsv").read_text().splitlines()) == 1 + iterations
    # val_loss comes from the protected scorer, not from the candidate's process
    assert 'score = "' in toml and "trusted = true" in toml
    assert "self-reported" not in proc.stdout
    ok = [r["data"] for r in records if r["kind"] == "evaluation" and r["data"]["ok"]]
    assert ok and all("val_loss" in e["scored"] for e in ok)
    # the verified decision at the default false-discovery rate, and it kept something
    (start,) = [r["data"] for r in records if r["kind"] == "start"]
    assert start["config"]["decision"] == "verified" and start["config"]["verify"]["fdr"] == 0.05
    keeps = [r["data"]["verdict"] for r in records
             if r["kind"] == "decision" and r["data"]["verdict"]["status"] == "keep"]
    kept = int(re.search(r"kept (\d+)", proc.stdout).group(1))  # type: ignore[union-attr]
    assert kept >= 1 and len(keeps) == kept, proc.stdout[-3000:]
    assert all(k["stats"]["rule"] == "verified" and k["stats"]["p"] <= k["stats"]["alpha"]
               for k in keeps)
    # ... and the best it found beats the baseline on fresh seeds
    best = re.search(r"^best val_loss ([\d.]+) vs baseline ([\d.]+) on the same fresh seeds",
                     proc.stdout, re.M)
    assert best and float(best.group(1)) < float(best.group(2)), proc.stdout[-3000:]
