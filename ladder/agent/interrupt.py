"""A graceful stop: SIGTERM or SIGINT (Ctrl-C) ends a run at its next safe point.

The handler does two things only, both safe inside a signal handler: it notes the
signal and signals the process group of every command ladder is running for the run
(evaluations and gates: SIGTERM, which their trampoline turns into SIGKILL for every
descendant, a daemon that left the group included; the command proposer: SIGKILL),
registered here by `run_command` and the proposer. The loop then finds the request at its choke points -- no evaluation result
is journaled after it (the executor drops what the kill produced) and no decision is
(`Run._decided` checks first) -- and stops: its in-flight iteration stays pending in
the journal, so `--resume` continues it exactly. A second signal stops at once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType

_lock = threading.Lock()
_live: dict[int, int] = {}  # process group of a running command -> the signal that stops it
_requested = 0  # the signal that asked the run to stop (0: none)

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Interrupted(Exception):
    """The run was asked to stop (raised at a safe point, never from the handler)."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")


def register(pgid: int, sig: int = signal.SIGTERM) -> None:
    with _lock:
        _live[pgid] = sig
    if _requested:  # it started as the stop came: it goes too
        _kill(pgid, sig)


def unregister(pgid: int) -> None:
    with _lock:
        _live.pop(pgid, None)


def requested() -> int:
    return _requested


def check() -> None:
    """Raise Interrupted when a stop was asked for."""
    if _requested:
        raise Interrupted(_requested)


def request(signum: int) -> None:
    """Ask the run to stop: what the handler does (tests call it directly)."""
    global _requested
    _requested = signum
    for pgid, sig in list(_live.items()):  # a copy: no lock in a handler (it may be held)
        _kill(pgid, sig)


def reset() -> None:
    global _requested
    _requested = 0


def _kill(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _handle(signum: int, frame: FrameType | None) -> None:
    if _requested:  # the second one: stop now, the default way
        for sig in SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        os.kill(os.getpid(), signum)
        return
    request(signum)


@contextlib.contextmanager
def handlers() -> Iterator[None]:
    """SIGTERM and SIGINT ask for a graceful stop while the block runs (main thread
    only: Python delivers signals there; elsewhere this does nothing)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    reset()
    old = {sig: signal.signal(sig, _handle) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
