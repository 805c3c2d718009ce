"""Starting semgrep: the exact command line, and an early start for the commit hook.

Kept free of heavy imports because the hook's fast path uses it before anything else
is loaded. semgrep takes ~90 ms of a commit whatever we do; what ladder can save is the
time *before* it starts. So when the hook index says which semgrep rules apply to the
staged files, `ladder.hooks.fast` starts semgrep right away (a prefetch) and the
semgrep engine, once it has compiled the same rules for the same files, takes that
running process instead of starting another. The hand-over is checked for exact
equality of config text, targets, directory and timeout: a prefetch that guessed wrong is
killed and ignored, so it can make a commit slower, never wrong.
"""

from __future__ import annotations

import os

SEMGREP_ENV = {"SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off", "NO_COLOR": "1"}
# Without these semgrep tries the network and stalls ~97 s offline.
SEMGREP_FLAGS = ("--metrics=off", "--disable-version-check", "--json", "--quiet")
# semgrep silently skips files over 1 MB unless told otherwise.
SCAN_FLAGS = ("--experimental", *SEMGREP_FLAGS, "--max-target-bytes=0")
# Seconds one rule may run on one file, semgrep's own default; 0 is no limit
# (`[tool.ladder] semgrep_timeout`, issue 13). A whole number: `semgrep scan` without
# --experimental refuses `--timeout 0.5`.
SEMGREP_TIMEOUT_S = 5


def timeout_flags(timeout: int) -> tuple[str, ...]:
    """The per-rule-per-file limit. `--timeout-threshold=0`: semgrep otherwise stops
    running *every* rule on a file once 3 have timed out there, dropping their findings."""
    return (f"--timeout={timeout}", "--timeout-threshold=0")

TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess
    from collections.abc import Sequence

def config_text(rule_jsons: Sequence[str]) -> str:
    """The config file's text from each rule's `json.dumps`: equal to json.dumps({"rules": ...})."""
    return '{"rules": [' + ", ".join(rule_jsons) + "]}"


def scan_argv(config: str, targets: Sequence[str], timeout: int) -> list[str]:
    """argv for semgrep-core run as osemgrep (what `semgrep scan --experimental` execs)."""
    return ["osemgrep", "scan", *SCAN_FLAGS, *timeout_flags(timeout), "--config", config, "--", *targets]


def start(core: str, config: str, targets: Sequence[str], cwd: str, timeout: int) -> subprocess.Popen[str]:
    import subprocess

    return subprocess.Popen(
        scan_argv(config, targets, timeout),
        executable=core,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **SEMGREP_ENV},
    )


class Spawned:
    """A prefetched semgrep: spawned with os.posix_spawn, output to files.

    posix_spawn rather than subprocess because importing subprocess alone costs the
    hook ~3 ms before semgrep could start. It offers the part of Popen's interface the
    engine uses: communicate(timeout=), kill() and returncode.
    """

    def __init__(self, pid: int, out: str, err: str) -> None:
        self.pid, self.out, self.err = pid, out, err
        self.returncode: int | None = None

    def _reap(self, block: bool) -> bool:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, 0 if block else os.WNOHANG)
            if pid == 0:
                return False
            self.returncode = os.waitstatus_to_exitcode(status)
        return True

    def communicate(self, timeout: float | None = None) -> tuple[str, str]:
        import subprocess

        if not self._reap(block=False) and not self._wait(timeout):
            raise subprocess.TimeoutExpired(["osemgrep"], timeout or 0.0)
        texts = []
        for path in (self.out, self.err):
            try:
                with open(path, encoding="utf-8", errors="replace") as fh:
                    texts.append(fh.read())
                os.unlink(path)
            except OSError:
                texts.append("")
        return texts[0], texts[1]

    def _wait(self, timeout: float | None) -> bool:
        """Wait for exit; a pidfd wakes us the moment it exits (Linux), else poll."""
        import select
        import time

        try:
            fd = os.pidfd_open(self.pid)
        except (AttributeError, OSError):
            fd = -1
        if fd >= 0:
            try:
                ready, _, _ = select.select([fd], [], [], timeout)
            finally:
                os.close(fd)
            return bool(ready) and self._reap(block=True)
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._reap(block=False):
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.002)
        return True

    def kill(self) -> None:
        import contextlib
        import signal

        if self.returncode is None:
            with contextlib.suppress(OSError):  # it may have exited just now
                os.kill(self.pid, signal.SIGKILL)


_pending: tuple[str, tuple[str, ...], str, int, Spawned] | None = None


def prefetch(core: str, text: str, targets: Sequence[str], workdir: str, timeout: int) -> None:
    """Start semgrep on `targets` (relative to the current directory) right now.

    The config and the output files go to `workdir`; nothing happens where the
    platform has no posix_spawn (the engine then starts semgrep the ordinary way).
    """
    global _pending
    if not hasattr(os, "posix_spawn"):
        return
    stem = os.path.join(workdir, f"prefetch-{os.getpid()}")
    config, out, err = stem + ".json", stem + ".out", stem + ".err"
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    try:
        with open(config, "w", encoding="utf-8") as fh:
            fh.write(text)
        pid = os.posix_spawn(
            core,
            scan_argv(config, targets, timeout),
            {**os.environ, **SEMGREP_ENV},
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, out, flags, 0o600),
                (os.POSIX_SPAWN_OPEN, 2, err, flags, 0o600),
            ],
        )
    except OSError:
        return
    proc = Spawned(pid, out, err)
    _pending = (text, tuple(targets), os.getcwd(), timeout, proc)
    _cleanup_at_exit(proc, (config, out, err))


def take(text: str, targets: Sequence[str], cwd: str, timeout: int) -> Spawned | None:
    """The prefetched process if it runs exactly this scan; otherwise None (and it dies)."""
    global _pending
    if _pending is None:
        return None
    p_text, p_targets, p_cwd, p_timeout, proc = _pending
    _pending = None
    mine = (p_text, p_targets, os.path.realpath(p_cwd), p_timeout)
    if mine == (text, tuple(targets), os.path.realpath(cwd), timeout):
        return proc
    proc.kill()
    proc.communicate()
    return None


def _cleanup_at_exit(proc: Spawned, paths: Sequence[str]) -> None:
    # A prefetch nobody took (the full check failed early) must not outlive ladder.
    import atexit

    def cleanup() -> None:
        proc.kill()
        proc._reap(block=True)
        for path in paths:
            try:  # noqa: SIM105 - contextlib is one more import on the hook's hot path
                os.unlink(path)
            except OSError:
                pass

    atexit.register(cleanup)
