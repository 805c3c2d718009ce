"""The evaluation contract: run a command in a candidate's worktree and read its metrics.

The command runs through a shell in the worktree with `LADDER_SEED`, `LADDER_METRICS_FILE`
and `LADDER_DEVICE` set. It reports metrics either as a JSON object written to
`$LADDER_METRICS_FILE`, or as `name: value` lines on stdout -- the convention of
Karpathy's autoresearch, whose `train.py` summary block parses unchanged. When the file
holds metrics it wins outright: a training script that also prints `loss: nan` in
progress lines must not override the numbers it chose to report.

Each evaluation runs in its own process group (a session), so a timeout kills the whole
tree -- data-loader workers, `torchrun` children -- and not just the shell.

The trust boundary: every metric the candidate's process prints or writes is *reported*
-- the candidate can make it say anything. With a `score` command configured, once the
candidate's process has exited, the protected scorer runs from a checkout of the run's
baseline (never the candidate's tree), with `LADDER_CANDIDATE_DIR` pointing at what the
candidate produced and `LADDER_SCORE_FILE` in a directory the candidate never saw; its
metrics are *scored* and replace reported ones of the same name. A metric configured
`trusted = true` must be scored. A reported metric printed twice, or named like ladder's
own measurement (`seconds`), makes the evaluation a crash: which number counts is not
the candidate's to choose.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import math
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ladder.agent.records import EvalJob, EvalResult

TAIL_LINES = 40
KILL_GRACE_S = 2.0  # between SIGTERM and SIGKILL of a timed-out process group

# A variable whose name contains one of these is treated as a secret.
SECRET_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "AUTH", "PRIVATE")
SECRET_PREFIXES = ("AWS_", "AZURE_", "GOOGLE_APPLICATION_")
SECRET_NAMES = frozenset(
    {"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GITHUB_TOKEN", "GH_TOKEN", "HF_TOKEN",
     "HUGGING_FACE_HUB_TOKEN", "WANDB_API_KEY", "NETRC"}
)

_NUMBER = r"[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|nan|inf|infinity)"
# `val_bpb:          0.997900` -- a name, a colon, one number, nothing else on the line.
_METRIC_LINE = re.compile(rf"^\s*([A-Za-z_][\w.\-/]*)\s*:\s*({_NUMBER})\s*$", re.IGNORECASE)


def looks_secret(name: str) -> bool:
    upper = name.upper()
    return (
        upper in SECRET_NAMES
        or upper.startswith(SECRET_PREFIXES)
        or any(word in upper for word in SECRET_WORDS)
    )


def _passed(name: str, pass_env: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in pass_env)


def scrub(base: Mapping[str, str], pass_env: Sequence[str] = ()) -> dict[str, str]:
    """`base` without the variables that look like secrets, except those in `pass_env`
    (exact names or fnmatch patterns)."""
    return {k: v for k, v in base.items() if not looks_secret(k) or _passed(k, pass_env)}


def build_env(
    base: Mapping[str, str],
    seed: int,
    metrics_file: Path,
    device: str,
    pass_env: Sequence[str] = (),
) -> dict[str, str]:
    """The evaluation's environment: `base` scrubbed of secrets plus the contract's variables."""
    env = scrub(base, pass_env)
    env["LADDER_SEED"] = str(seed)
    env["LADDER_METRICS_FILE"] = str(metrics_file)
    env["LADDER_DEVICE"] = device
    return env


def read_metric_lines(text: str) -> tuple[dict[str, float], list[str]]:
    """Metrics from `name: value` lines (later lines win; NaN and inf kept as such), and
    the names printed on more than one line."""
    metrics: dict[str, float] = {}
    repeated: set[str] = set()
    for line in text.splitlines():  # also splits on `\r`: progress bars stay separate
        match = _METRIC_LINE.match(line)
        if match:
            if match.group(1) in metrics:
                repeated.add(match.group(1))
            metrics[match.group(1)] = float(match.group(2))
    return metrics, sorted(repeated)


def parse_metrics(text: str) -> dict[str, float]:
    return read_metric_lines(text)[0]


class MetricsFileError(ValueError):
    """The metrics file exists but does not hold a JSON object of numbers."""


def read_metrics_file(path: Path) -> dict[str, float] | None:
    """The file's metrics; None when it is absent or empty. Non-numeric values are skipped
    (a commit id or a note may ride along); a file that is not a JSON object raises."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if not text.strip():
        return None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise MetricsFileError(f"metrics file is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise MetricsFileError("metrics file must hold a JSON object of name: number")
    return {
        str(k): float(v)
        for k, v in data.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    }


def tail(text: str, lines: int = TAIL_LINES) -> str:
    return "\n".join(text.splitlines()[-lines:])


# --- running a command in its own process group -------------------------------------


@dataclass(frozen=True)
class Finished:
    returncode: int | None  # None: killed at the timeout
    output: str  # stdout and stderr, interleaved
    seconds: float


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def kill_group(pgid: int, grace: float = KILL_GRACE_S) -> None:
    """SIGTERM the whole group, then SIGKILL whatever is left after `grace` seconds."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _group_alive(pgid):
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def run_command(
    command: str, cwd: Path, env: Mapping[str, str], timeout: float
) -> Finished:
    """Run `command` with a shell in a new session; kill the whole group at `timeout`.

    Output goes to a temporary file, not a pipe: a chatty training log can neither fill
    a pipe buffer nor our memory while we wait.
    """
    start = time.monotonic()
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            command,
            shell=True,
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        returncode: int | None
        try:
            returncode = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            returncode = None
        finally:
            # Also after a normal exit: a background child left behind (a stray data
            # loader holding the GPU) must not outlive its evaluation.
            if returncode is None or _group_alive(proc.pid):
                kill_group(proc.pid)
            proc.wait()
        seconds = time.monotonic() - start
        log.seek(0)
        output = log.read().decode("utf-8", errors="replace")
    return Finished(returncode, output, seconds)


def _exit_reason(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


# --- one evaluation ------------------------------------------------------------------


def _judge(metrics: Mapping[str, float], target: str) -> str:
    """Why these metrics are a crash ("" when they are fine)."""
    for name, value in metrics.items():
        if not math.isfinite(value):
            return f"metric {name} is {value}"
    if target and target not in metrics:
        return f"target metric {target!r} missing from the output and the metrics file"
    return ""


SECONDS = "seconds"


def evaluate(job: EvalJob, target: str) -> EvalResult:
    """Run one evaluation. `job.env` holds variables the job must see verbatim (the
    executor's device, the config's `pass_env`); everything else comes from this
    process's environment, scrubbed of secrets. `target` "" skips the missing-target check.
    """
    workdir = Path(tempfile.mkdtemp(prefix="ladder-eval-"))
    try:
        metrics_file = workdir / "metrics.json"
        device = job.env.get("LADDER_DEVICE", "cpu")
        env = build_env({**os.environ, **job.env}, job.seed, metrics_file, device, tuple(job.env))
        done = run_command(job.command, job.root, env, job.timeout)
        out_tail = tail(done.output)

        def crash(reason: str, metrics: Mapping[str, float] | None = None) -> EvalResult:
            return EvalResult(
                job.key, job.seed, dict(metrics or {}), False, reason, out_tail, done.seconds
            )

        if done.returncode is None:
            return crash(f"timeout after {job.timeout:g} s: the process group was killed")
        try:
            from_file = read_metrics_file(metrics_file)
        except MetricsFileError as exc:
            return crash(str(exc))
        metrics, repeated = (from_file, []) if from_file is not None else read_metric_lines(done.output)
        if repeated:
            return crash(f"metric {repeated[0]!r} was printed more than once: which one counts is "
                         "not the candidate's to choose")
        if SECONDS in metrics:
            return crash(f"the candidate reported {SECONDS!r}, ladder's own measurement of its "
                         "wall time: rename that metric")
        # `seconds` is always ladder's own measurement of the process, never what the
        # candidate printed: a wall-time guard (a slower program, work skipped) must not
        # be the candidate's to report (issue 10: guards measured by ladder itself).
        metrics[SECONDS] = round(done.seconds, 3)
        if done.returncode != 0:
            return crash(_exit_reason(done.returncode), metrics)
        scored: dict[str, float] = {}
        if job.score:
            scored, why = _score(job, device)
            if why:
                return crash(why, metrics)
            metrics.update(scored)
        missing = [name for name in job.trusted if name not in scored]
        if missing:
            return crash(f"metric {missing[0]!r} is trusted = true but the scorer did not give it "
                         "(a number the candidate reported does not count)", metrics)
        reason = _judge(metrics, target)
        if reason:
            return crash(reason, metrics)
        return EvalResult(job.key, job.seed, metrics, True, "", out_tail, done.seconds,
                          tuple(sorted(scored)))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _score(job: EvalJob, device: str) -> tuple[dict[str, float], str]:
    """Run the protected scorer on what the candidate produced: (metrics, "") or ({}, why)."""
    private = Path(tempfile.mkdtemp(prefix="ladder-score-"))  # the candidate never saw it
    try:
        score_file = private / "score.json"
        env = build_env({**os.environ, **job.env}, job.seed, score_file, device, tuple(job.env))
        env.pop("LADDER_METRICS_FILE", None)
        env["LADDER_SCORE_FILE"] = str(score_file)
        env["LADDER_CANDIDATE_DIR"] = str(job.root)
        scorer = job.scorer if job.scorer is not None else job.root
        done = run_command(job.score, scorer, env, job.timeout)
        if done.returncode is None:
            return {}, f"the scorer timed out after {job.timeout:g} s"
        if done.returncode != 0:
            return {}, f"the scorer failed: {_exit_reason(done.returncode)}\n{tail(done.output)}"
        try:
            found = read_metrics_file(score_file)
        except MetricsFileError as exc:
            return {}, f"the scorer's file: {exc}"
        return (found if found is not None else parse_metrics(done.output)), ""
    finally:
        shutil.rmtree(private, ignore_errors=True)


def pass_through(names: Sequence[str], base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables of `base` (default: this process) named by `pass_env` patterns: what
    the loop puts in `EvalJob.env` so the evaluation still sees them."""
    source = os.environ if base is None else base
    return {k: v for k, v in source.items() if _passed(k, names)}
