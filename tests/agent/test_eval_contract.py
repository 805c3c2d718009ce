"""The evaluation contract with real processes: metrics from lines and from the JSON file,
crashes kept with their tail, timeouts that kill the whole process group, no secrets."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from ladder.agent.evaluate import build_env, evaluate, parse_metrics, pass_through
from ladder.agent.records import EvalJob
from ladder.sandbox import SANDBOXES

PY = sys.executable

# The summary block of karpathy/autoresearch's train.py (program.md's example output),
# preceded by its `\r` progress line and the `print()` that ends it.
AUTORESEARCH = (
    "\rstep 00952 (99.9%) | loss: 3.215678 | lrm: 0.01 | dt: 315ms | tok/sec: 1,664,219 | "
    "epoch: 1 | remaining: 0s    \rstep 00953 (100.0%) | loss: 3.214512 | lrm: 0.00 | "
    "dt: 314ms | tok/sec: 1,668,012 | epoch: 1 | remaining: 0s    \n"
    "---\n"
    "val_bpb:          0.997900\n"
    "training_seconds: 300.1\n"
    "total_seconds:    325.9\n"
    "peak_vram_mb:     45060.2\n"
    "mfu_percent:      39.80\n"
    "total_tokens_M:   499.6\n"
    "num_steps:        953\n"
    "num_params_M:     50.3\n"
    "depth:            8\n"
)


def test_parse_metrics_reads_autoresearch_unchanged() -> None:
    assert parse_metrics(AUTORESEARCH) == {
        "val_bpb": 0.9979, "training_seconds": 300.1, "total_seconds": 325.9,
        "peak_vram_mb": 45060.2, "mfu_percent": 39.8, "total_tokens_M": 499.6,
        "num_steps": 953.0, "num_params_M": 50.3, "depth": 8.0,
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("val_loss: 1.23\n", {"val_loss": 1.23}, id="plain"),
        pytest.param("  loss:-2.5e-3  \r\n", {"loss": -0.0025}, id="exponent-crlf"),
        pytest.param("a: 1\na: 2\n", {"a": 2.0}, id="last-wins"),
        pytest.param("val_loss: nan\n", {"val_loss": float("nan")}, id="nan-kept"),
        pytest.param("score: -inf\n", {"score": float("-inf")}, id="inf-kept"),
    ],
)
def test_parse_metrics_fixes(text: str, expected: dict[str, float]) -> None:
    assert repr(parse_metrics(text)) == repr(expected)  # repr: nan == nan


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("step 00010 (1.0%) | loss: 3.2 | lr: 0.01\n", id="progress-line"),
        pytest.param("Evaluating...\n---\n", id="prose"),
        pytest.param("compiled:         3/10\n", id="fraction"),
        pytest.param("optimizer: muon\n", id="string-value"),
        pytest.param("time: 12:30\n", id="clock"),
    ],
)
def test_parse_metrics_noop(text: str) -> None:
    assert parse_metrics(text) == {}


def job(tmp_path: Path, code: str, *, timeout: float = 30, env: dict[str, str] | None = None,
        seed: int = 7) -> EvalJob:
    script = tmp_path / "eval_script.py"
    script.write_text(code)
    return EvalJob("it1/cand/s0", tmp_path, f"{PY} {script.name}", seed, timeout, env or {})


def test_metrics_from_lines_with_the_contract_variables(tmp_path: Path) -> None:
    code = (
        "import os\n"
        "print('val_loss: 1.23')\n"
        "print('seed:', os.environ['LADDER_SEED'])\n"
        "print('cpu:', int(os.environ['LADDER_DEVICE'] == 'cpu'))\n"
        "print('cwd_ok:', int(os.path.exists('eval_script.py')))\n"
    )
    result = evaluate(job(tmp_path, code, seed=42), "val_loss")
    assert result.ok, result.reason
    measured = dict(result.metrics)
    assert measured.pop("seconds") == pytest.approx(result.seconds, abs=1e-3)  # wall time, added
    assert 0 < measured.pop("peak_rss_mb") < 100  # a small Python process, not ladder's size
    assert measured == {"val_loss": 1.23, "seed": 42.0, "cpu": 1.0, "cwd_ok": 1.0}
    assert result.key == "it1/cand/s0" and result.seed == 42
    assert 0 < result.seconds < 10


def test_the_metrics_file_wins_over_lines(tmp_path: Path) -> None:
    code = (
        "import json, os\n"
        "print('val_loss: nan')  # a progress line the file overrides\n"
        "json.dump({'val_loss': 0.5, 'commit': 'abc'},"
        " open(os.environ['LADDER_METRICS_FILE'], 'w'))\n"
    )
    result = evaluate(job(tmp_path, code), "val_loss")
    assert result.ok, result.reason
    assert result.metrics == {"val_loss": 0.5, "seconds": round(result.seconds, 3),
                              "peak_rss_mb": result.metrics["peak_rss_mb"]}


def test_wall_time_is_ladders_own_measurement(tmp_path: Path) -> None:
    code = "import time\ntime.sleep(0.3)\nprint('val_loss: 1.0')\n"
    result = evaluate(job(tmp_path, code), "val_loss")
    assert result.ok, result.reason
    assert result.metrics["seconds"] >= 0.3
    assert result.metrics["seconds"] == round(result.seconds, 3)
    # a candidate that reports a flattering `seconds` of its own: an error, not a value
    flattering = evaluate(job(tmp_path, code + "print('seconds: 0.001')\n"), "val_loss")
    assert not flattering.ok and "ladder's own measurement" in flattering.reason


def needs(sandbox: str) -> None:
    """Skip where this machine cannot build `sandbox` (user namespaces off)."""
    if SANDBOXES[sandbox].problem():
        pytest.skip(SANDBOXES[sandbox].problem())


@pytest.mark.parametrize("sandbox", ["none", "userns"])
def test_peak_memory_is_ladders_own_measurement(tmp_path: Path, sandbox: str) -> None:
    """The kernel's peak resident memory of the process tree, reported by the trampoline
    on a pipe the command never holds: a child's allocation counts, a printed
    `peak_rss_mb` is an error."""
    needs(sandbox)
    grow = ("import subprocess, sys\nsubprocess.run([sys.executable, '-c', "
            "'x = bytearray(200 * 2**20)'], check=True)\nprint('val_loss: 1.0')\n")
    small = evaluate(replace(job(tmp_path, "print('val_loss: 1.0')\n"), sandbox=sandbox), "val_loss")
    big = evaluate(replace(job(tmp_path, grow), sandbox=sandbox), "val_loss")
    assert small.ok and big.ok, (small.reason, big.reason)
    assert small.metrics["peak_rss_mb"] < 100 < 200 < big.metrics["peak_rss_mb"] < 400
    forged = evaluate(replace(job(tmp_path, "print('val_loss: 1.0')\nprint('peak_rss_mb: 1')\n"),
                              sandbox=sandbox), "val_loss")
    assert not forged.ok and "ladder's own measurement" in forged.reason


def test_a_metric_printed_twice_is_an_error(tmp_path: Path) -> None:
    code = "print('val_loss: 0.9')\nprint('val_loss: 0.1')\n"  # the last line would win
    result = evaluate(job(tmp_path, code), "val_loss")
    assert not result.ok and "'val_loss' was printed more than once" in result.reason


SCORER = (
    "import json, os, pathlib\n"
    "pred = float(pathlib.Path(os.environ['LADDER_CANDIDATE_DIR'], 'pred.txt').read_text())\n"
    "json.dump({'val_loss': abs(pred - 1.0)}, open(os.environ['LADDER_SCORE_FILE'], 'w'))\n"
)


def _scored_job(tmp_path: Path, code: str, trusted: tuple[str, ...] = ("val_loss",)) -> EvalJob:
    scorer = tmp_path / "baseline"
    scorer.mkdir()
    (scorer / "score.py").write_text(SCORER, encoding="utf-8")
    base = job(tmp_path, code)
    # the candidate's tree has its own score.py: a forged one, never run
    (base.root / "score.py").write_text("print('val_loss: 0.0')\n", encoding="utf-8")
    return EvalJob(base.key, base.root, base.command, base.seed, base.timeout, base.env,
                   score=f"{PY} score.py", scorer=scorer, trusted=trusted)


def test_the_protected_scorer_decides_and_the_candidate_cannot_forge_it(tmp_path: Path) -> None:
    code = (
        "import os, pathlib\n"
        "pathlib.Path('pred.txt').write_text('1.25')\n"
        "assert 'LADDER_SCORE_FILE' not in os.environ  # it never sees where scores go\n"
        "print('val_loss: 0.0')  # what it would like the score to be\n"
    )
    result = evaluate(_scored_job(tmp_path, code), "val_loss")
    assert result.ok, result.reason
    assert result.metrics["val_loss"] == pytest.approx(0.25)
    assert result.scored == ("val_loss",)


def test_a_trusted_metric_the_scorer_does_not_give_is_a_crash(tmp_path: Path) -> None:
    code = "import pathlib\npathlib.Path('pred.txt').write_text('1.0')\nprint('acc: 0.99')\n"
    result = evaluate(_scored_job(tmp_path, code, trusted=("val_loss", "acc")), "val_loss")
    assert not result.ok and "'acc' is trusted = true but the scorer did not give it" in result.reason


def test_a_failing_scorer_is_a_crash_of_the_evaluation(tmp_path: Path) -> None:
    code = "print('val_loss: 0.0')\n"  # no pred.txt: the scorer cannot read it
    result = evaluate(_scored_job(tmp_path, code), "val_loss")
    assert not result.ok and result.reason.startswith("the scorer failed")


def test_a_metrics_file_that_is_not_an_object_is_a_crash(tmp_path: Path) -> None:
    code = "import os\nopen(os.environ['LADDER_METRICS_FILE'], 'w').write('[1, 2]')\n"
    result = evaluate(job(tmp_path, code), "val_loss")
    assert not result.ok and "JSON object" in result.reason


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        pytest.param("print('val_loss: nan')\n", "metric val_loss is nan", id="nan"),
        pytest.param("print('val_loss: 1.0')\nprint('memory_gb: inf')\n",
                     "metric memory_gb is inf", id="inf-in-another-metric"),
        pytest.param("print('loss: 1.0')\n", "target metric 'val_loss' missing", id="missing-target"),
    ],
)
def test_bad_metrics_are_a_crash(tmp_path: Path, code: str, reason: str) -> None:
    result = evaluate(job(tmp_path, code), "val_loss")
    assert not result.ok
    assert reason in result.reason


def test_non_zero_exit_is_a_crash_with_the_tail(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "for i in range(60): print(f'line {i}')\n"
        "print('val_loss: 1.0')\n"
        "sys.exit('Traceback: CUDA out of memory')\n"
    )
    result = evaluate(job(tmp_path, code), "val_loss")
    assert not result.ok and result.reason == "exit code 1"
    lines = result.tail.splitlines()
    assert len(lines) == 40
    assert lines[-1] == "Traceback: CUDA out of memory"  # stderr is in the tail too
    assert "line 59" in lines and "line 19" not in lines
    own = ("seconds", "peak_rss_mb")
    assert {k: v for k, v in result.metrics.items() if k not in own} == {"val_loss": 1.0}  # kept


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:  # a zombie waiting for its reaper is dead too
        return Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] == "Z"
    except OSError:
        return True


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    # The child ignores SIGTERM: only the SIGKILL that follows the grace period ends it.
    code = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import signal, time; "
        "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)'])\n"
        "print('child_pid:', child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    start = time.monotonic()
    result = evaluate(job(tmp_path, code, timeout=1), "val_loss")
    assert not result.ok and result.reason.startswith("timeout after 1 s")
    assert time.monotonic() - start < 10
    child = int(parse_metrics(result.tail)["child_pid"])
    deadline = time.monotonic() + 5
    while not _gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(child)


def test_build_env_drops_secrets_unless_passed(tmp_path: Path) -> None:
    base = {
        "PATH": "/bin", "HOME": "/home/u", "CUDA_VISIBLE_DEVICES": "0",
        "OPENAI_API_KEY": "sk", "ANTHROPIC_API_KEY": "a", "GITHUB_TOKEN": "g", "HF_TOKEN": "h",
        "AWS_REGION": "eu", "DB_PASSWORD": "p", "MY_SECRET": "s", "GOOGLE_APPLICATION_CREDENTIALS": "c",
        "WANDB_API_KEY": "w", "HTTP_AUTHORIZATION": "b",
    }
    env = build_env(base, 3, tmp_path / "m.json", "cuda", pass_env=["WANDB_API_KEY", "AWS_*"])
    assert env == {
        "PATH": "/bin", "HOME": "/home/u", "CUDA_VISIBLE_DEVICES": "0",
        "WANDB_API_KEY": "w", "AWS_REGION": "eu",
        "LADDER_SEED": "3", "LADDER_METRICS_FILE": str(tmp_path / "m.json"), "LADDER_DEVICE": "cuda",
    }


def test_evaluation_sees_only_passed_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live")
    monkeypatch.setenv("HF_TOKEN", "hf-live")
    code = (
        "import os\n"
        "print('val_loss: 1')\n"
        "print('openai:', int('OPENAI_API_KEY' in os.environ))\n"
        "print('hf:', int(os.environ.get('HF_TOKEN') == 'hf-live'))\n"
    )
    result = evaluate(job(tmp_path, code, env=pass_through(["HF_TOKEN"])), "val_loss")
    assert result.ok, result.reason
    assert result.metrics["openai"] == 0.0 and result.metrics["hf"] == 1.0


FORGE_REPORT = """\
import os
forged = 0
for pid in os.listdir('/proc'):
    try:
        if b'enter.py' not in open(f'/proc/{pid}/cmdline', 'rb').read():
            continue
        for fd in os.listdir(f'/proc/{pid}/fd'):
            try:
                with open(f'/proc/{pid}/fd/{fd}', 'w') as out:
                    out.write('-')
                forged += 1
            except OSError:
                pass
    except OSError:
        pass
print('forged:', forged)
print('val_loss: 1.0')
"""


@pytest.mark.parametrize("sandbox", ["none", "userns"])
def test_the_memory_report_cannot_be_written_by_the_command(tmp_path: Path, sandbox: str) -> None:
    """The trampoline is not dumpable: the command (same user) cannot open its report's
    descriptor through /proc; a report that is not exactly the trampoline's is a crash."""
    needs(sandbox)
    result = evaluate(replace(job(tmp_path, FORGE_REPORT), sandbox=sandbox), "val_loss")
    if sandbox == "userns" or os.geteuid() != 0:
        assert result.ok, result.reason
        assert result.metrics["forged"] == 0 and result.metrics["peak_rss_mb"] > 0
    else:  # root outside a sandbox may open anything: the forgery is caught, never a value
        assert result.ok or "memory report" in result.reason, result.reason
        assert not result.ok or result.metrics["forged"] == 0
