"""Fault injection: kill the process at a chosen journal record, the way SQLite's and
FoundationDB's crash tests do, to prove a resume from any point is exact.

`LADDER_FAULT=<point>:<K>` makes the K-th record this process appends (1-based) the
last thing it does:

- `before-append:K`: killed before record K is written (the previous one is durable);
- `mid-write:K`: killed with half of record K's line written and fsynced (a torn tail);
- `after-record:K`: killed once record K is durable, before anything that follows it
  (its anchor, results.tsv, refs, the next step).

The kill is SIGKILL to this process alone: its evaluations, git and hooks are left to
die the way they would after a real `kill -9` (their parent-death signal). Unset, the
seam costs one comparison per record. Used by tests/agent/test_faults.py (a sampled
sweep) and bench/faults.py (every record boundary).
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass

from ladder.errors import LadderError

VARIABLE = "LADDER_FAULT"
POINTS = ("before-append", "mid-write", "after-record")


@dataclass(frozen=True)
class Fault:
    point: str
    record: int  # 1-based: the K-th record this process appends


def from_env(value: str | None = None) -> Fault | None:
    text = os.environ.get(VARIABLE, "") if value is None else value
    if not text:
        return None
    point, _, k = text.partition(":")
    if point not in POINTS or not k.isdigit() or int(k) < 1:
        raise LadderError(f"{VARIABLE}={text!r} is not a fault", where=VARIABLE,
                          todo=f"use one of {', '.join(POINTS)} with a record number, "
                               "e.g. after-record:12, or unset it")
    return Fault(point, int(k))


def die() -> None:
    """The fault: SIGKILL, which nothing in this process can catch or clean up after."""
    os.kill(os.getpid(), signal.SIGKILL)
