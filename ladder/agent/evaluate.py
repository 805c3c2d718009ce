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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ladder.agent import interrupt
from ladder.agent.anchor import key_path
from ladder.agent.records import EvalJob, EvalResult
from ladder.sandbox import FAILED as SANDBOX_FAILED
from ladder.sandbox import (
    SANDBOXES,
    Confinement,
    git_pointer,
    private_tmp,
    read_regular,
    special_files,
)

TAIL_LINES = 40
METRICS_FILE_LIMIT = 1 << 20  # a metrics file is a few numbers: 1 MiB is plenty
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
_METRIC_NAME = re.compile(r"^[A-Za-z_][\w.\-/]*\Z", re.ASCII)
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
    if not path.is_symlink() and not path.exists():
        return None
    data = read_regular(path, METRICS_FILE_LIMIT)
    if data is None:
        raise MetricsFileError(f"metrics file is not a regular file of at most "
                               f"{METRICS_FILE_LIMIT // 1024} KiB (a symlink, a FIFO...)")
    text = data.decode("utf-8", errors="replace")
    if not text.strip():
        return None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise MetricsFileError(f"metrics file is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise MetricsFileError("metrics file must hold a JSON object of name: number")
    numbers = {str(k): float(v) for k, v in data.items()
               if isinstance(v, (int, float)) and not isinstance(v, bool)}
    odd = next((k for k in numbers if not _METRIC_NAME.match(k)), None)
    if odd is not None:  # a name is printed, journaled, written to results.tsv: no escapes
        raise MetricsFileError(f"metrics file names a metric {odd[:40]!r}: a metric name is "
                               "letters, digits and _ . - / (starting with a letter or _)")
    return numbers


def tail(text: str, lines: int = TAIL_LINES) -> str:
    return "\n".join(text.splitlines()[-lines:])


# --- running a command in its own process group -------------------------------------


@dataclass(frozen=True)
class Finished:
    returncode: int | None  # None: killed at the timeout
    output: str  # stdout and stderr, interleaved
    seconds: float
    peak_rss_mb: float | None = 0.0  # the kernel's peak RSS of the tree (None: report forged)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def kill_group(pgid: int, grace: float = KILL_GRACE_S,
               leader: subprocess.Popen[bytes] | None = None) -> None:
    """SIGTERM the whole group, then SIGKILL whatever is left after `grace` seconds.
    `leader`, our child, is reaped as it goes: unreaped, it would keep the group
    "alive" as a zombie for the whole grace."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _group_alive(pgid):
        if leader is not None:
            leader.poll()
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def run_command(
    command: str | Sequence[str], cwd: Path, env: Mapping[str, str], timeout: float,
    *, report: tuple[int, int] | None = None,
) -> Finished:
    """Run `command` (a shell line, or an argv) in a new session; kill the whole group at
    `timeout`. `report`: a pipe (read end, write end) whose write end the command's
    trampoline (ladder.sandbox) gets, to report the peak memory on; this function owns
    and closes both ends (each exactly once: with worker threads a second close could
    hit a descriptor another thread was just given, the journal's).

    Output goes to a temporary file, not a pipe: a chatty training log can neither fill
    a pipe buffer nor our memory while we wait.
    """
    start = time.monotonic()
    with tempfile.TemporaryFile() as log:
        try:
            proc = subprocess.Popen(
                command,
                shell=isinstance(command, str),
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                pass_fds=report[1:] if report else (),
            )
        except BaseException:
            if report:
                os.close(report[0])
            raise
        finally:
            if report:
                os.close(report[1])  # the trampoline holds it now: its exit is our EOF
        interrupt.register(proc.pid)  # a SIGTERM to the run kills the group (interrupt.py)
        returncode: int | None = None
        try:
            returncode = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            returncode = None
        finally:
            # Also after a normal exit: a background child left behind (a stray data
            # loader holding the GPU) must not outlive its evaluation.
            if returncode is None or _group_alive(proc.pid):
                kill_group(proc.pid, leader=proc)
            proc.wait()
            interrupt.unregister(proc.pid)
        seconds = time.monotonic() - start
        log.seek(0)
        output = log.read().decode("utf-8", errors="replace")
    peak: float | None = 0.0
    if report:
        peak = _read_report(report[0]) if returncode is not None else 0.0
        os.close(report[0])
    return Finished(returncode, output, seconds, peak)


def _read_report(fd: int) -> float | None:
    """The peak memory in MB the trampoline wrote; None when what came is not exactly
    its report (digits and a newline): the trampoline is not dumpable, so nothing the
    command runs can write there, and anything else means it was."""
    chunks = []
    with contextlib.suppress(OSError):
        while chunk := os.read(fd, 64):
            chunks.append(chunk)
    text = b"".join(chunks)
    if not re.fullmatch(rb"\d{1,15}\n", text):
        return None
    return round(int(text) / 1024, 1)  # KiB on Linux


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
PEAK_RSS = "peak_rss_mb"
MEASURED = (SECONDS, PEAK_RSS)  # ladder's own measurements: no candidate may report them


def evaluate(job: EvalJob, target: str, *,
             scorer_intact: Callable[[], str] | None = None) -> EvalResult:
    """Run one evaluation. `job.env` holds variables the job must see verbatim (the
    executor's device, the config's `pass_env`); everything else comes from this
    process's environment, scrubbed of secrets. `target` "" skips the missing-target check.

    `scorer_intact`, when given, is asked after the candidate's process has exited and
    before the scorer runs: a non-empty answer (what changed in the scorer's checkout)
    makes the evaluation a crash, and the scorer does not run (a Ray worker checks its
    own checkout of the baseline this way: ladder.agent.executors.remote).
    """
    workdir = Path(tempfile.mkdtemp(prefix="ladder-eval-"))
    try:
        metrics_file = workdir / "metrics.json"
        device = job.env.get("LADDER_DEVICE", "cpu")
        env = build_env({**os.environ, **job.env}, job.seed, metrics_file, device, tuple(job.env))
        # The candidate may write its own checkout and the directory of its metrics file.
        confinement = Confinement((job.root, workdir, *job.writable),
                                  (*ladders_secrets(), *job.hidden), job.network, job.root,
                                  readonly=git_pointer(job.root))
        done = _run_job(job, env, workdir, confinement, job.command, job.root)
        out_tail = tail(done.output)

        def crash(reason: str, metrics: Mapping[str, float] | None = None) -> EvalResult:
            return EvalResult(
                job.key, job.seed, dict(metrics or {}), False, reason, out_tail, done.seconds
            )

        if done.returncode is None:
            return crash(f"timeout after {job.timeout:g} s: the process group was killed")
        if done.returncode == SANDBOX_FAILED and _SANDBOX_SAYS in done.output:
            return crash(f"the {job.sandbox} sandbox could not be built (the command did not run): "
                         + done.output.split(_SANDBOX_SAYS, 1)[1].strip().splitlines()[0])
        if done.peak_rss_mb is None:
            return crash("ladder's memory report was not what its trampoline writes: "
                         "something else wrote to it")
        try:
            from_file = read_metrics_file(metrics_file)
        except MetricsFileError as exc:
            return crash(str(exc))
        metrics, repeated = (from_file, []) if from_file is not None else read_metric_lines(done.output)
        if repeated:
            return crash(f"metric {repeated[0]!r} was printed more than once: which one counts is "
                         "not the candidate's to choose")
        for own in MEASURED:
            if own in metrics:
                return crash(f"the candidate reported {own!r}, ladder's own measurement of "
                             "its process: rename that metric")
        # `seconds` and `peak_rss_mb` are always ladder's own measurements of the process,
        # never what the candidate printed: a wall-time or memory guard must not be the
        # candidate's to report (issue 10: guards measured by ladder itself).
        metrics[SECONDS] = round(done.seconds, 3)
        if done.peak_rss_mb:
            metrics[PEAK_RSS] = done.peak_rss_mb
        if done.returncode != 0:
            return crash(_exit_reason(done.returncode), metrics)
        scored: dict[str, float] = {}
        if job.score:
            changed = scorer_intact() if scorer_intact is not None else ""
            if changed:
                return crash(changed, metrics)
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
    odd = next(special_files(job.root), None)
    if odd is not None:
        return {}, (f"the candidate left {odd.relative_to(job.root)}, which is neither a file nor a directory (a FIFO "
                    "would hold the scorer until its timeout): not an output")
    private = Path(tempfile.mkdtemp(prefix="ladder-score-"))  # the candidate never saw it
    try:
        score_file = private / "score.json"
        env = build_env({**os.environ, **job.env}, job.seed, score_file, device, tuple(job.env))
        env.pop("LADDER_METRICS_FILE", None)
        env["LADDER_SCORE_FILE"] = str(score_file)
        env["LADDER_CANDIDATE_DIR"] = str(job.root)
        scorer = job.scorer if job.scorer is not None else job.root
        # The scorer writes only its private directory: the candidate's outputs are
        # read-only to it, and it sees what is hidden from the candidate (the labels).
        # It sees what is hidden from the candidate: a symlink the candidate left must not
        # lead it there (nosymfollow). No bytecode: its checkout stays as checked out.
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        confinement = Confinement((private, *job.writable), ladders_secrets(), job.network, scorer,
                                  nosymfollow=(job.root,) if job.hidden else ())
        done = _run_job(job, env, private, confinement, job.score, scorer)
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


_SANDBOX_SAYS = "ladder sandbox: "




def ladders_secrets() -> tuple[Path, ...]:
    """What no confined process may read: the key that anchors the journal."""
    return (key_path().parent,)


def _run_job(job: EvalJob, env: dict[str, str], private: Path, confinement: Confinement,
             command: str, cwd: Path) -> Finished:
    """Run `command` in the job's sandbox, its peak memory measured by the trampoline.
    In a sandbox, `env`'s TMPDIR becomes a directory under `private` (/tmp is read-only)."""
    if job.sandbox != "none":
        env["TMPDIR"] = str(private_tmp(private))
    read, write = os.pipe()
    try:
        argv = SANDBOXES[job.sandbox].wrap(["/bin/sh", "-c", command], confinement, write)
    except BaseException:
        os.close(read)
        os.close(write)
        raise
    return run_command(argv, cwd, env, job.timeout, report=(read, write))  # it closes both


def pass_through(names: Sequence[str], base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables of `base` (default: this process) named by `pass_env` patterns: what
    the loop puts in `EvalJob.env` so the evaluation still sees them."""
    source = os.environ if base is None else base
    return {k: v for k, v in source.items() if _passed(k, names)}
