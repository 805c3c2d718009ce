"""The run's audit trail: an append-only, hash-chained JSONL file.

Each line is one record `{"seq", "ts", "kind", "data", "prev", "hash"}`: `seq` counts
from 0, `prev` is the previous record's `hash` ("" for the first), and `hash` is the
sha256 of the record's canonical JSON without "hash" (sorted keys, separators (",", ":"),
UTF-8). Editing, inserting, deleting or reordering a record therefore breaks the chain
where it happened, and `verify` says which record.

Durability: `append` writes the whole line in one `write`, then fsyncs; a record is
durable once its newline is on disk. A kill mid-write leaves at most one torn last line,
which reopening the journal cuts away and notes in a "recovered" record, never silently.

`data` is stored as plain JSON: mappings, sequences, paths and dataclasses become
objects, lists and strings, and non-finite floats become the strings "NaN",
"Infinity" and "-Infinity" (standard JSON has none); `append` returns the record exactly
as it was stored, so what the loop holds equals what a resumed run reads back.

Imported by every command that touches a run: it uses the standard library only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path, PurePath
from typing import Any

from ladder.agent import faults
from ladder.errors import LadderError

FIELDS = ("seq", "ts", "kind", "data", "prev", "hash")
RECOVERED = "recovered"  # the kind of the record noting a cut torn tail


@dataclasses.dataclass(frozen=True)
class Problem:
    """One break in a journal: the line (1-based), the record's seq when known, what."""

    line: int
    seq: int | None
    what: str
    torn: bool = False  # a crash's torn last line, which reopening repairs: not tampering

    def __str__(self) -> str:
        seq = f" (seq {self.seq})" if self.seq is not None else ""
        return f"line {self.line}{seq}: {self.what}"


def record_hash(record: Mapping[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(_canonical(body).encode("utf-8")).hexdigest()


class Journal:
    """Append records to `path` (created when missing); one writer at a time."""

    def __init__(self, path: Path | str, *, clock: Callable[[], float] = time.time,
                 on_append: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.path = Path(path)
        self._clock = clock
        self._on_append = on_append  # anchors the chain's head outside the file (anchor.py)
        self._lock = threading.Lock()
        self._fd = -1
        self._fault = faults.from_env()  # LADDER_FAULT: the crash tests' seam (faults.py)
        self._appended = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        # One writer: a second one would fork the chain, and its "torn tail" could be the
        # first one's line in flight. The lock goes with the process (kill -9 included).
        if not _lock(self._fd):
            self.close()
            raise LadderError(
                "the journal is open in another process (is the run still going?)",
                where=str(self.path),
                todo="wait for it or stop it; `ladder agent status` reads a running run",
            )
        if created:
            _fsync_dir(self.path.parent)  # the file's name survives a crash too
        torn = b"" if created else _cut_torn_tail(self.path)
        self._seq, self._prev = _last_link(self.path)
        if torn:
            self.append(
                RECOVERED,
                {
                    "cut_bytes": len(torn),
                    "torn": torn[:200].decode("utf-8", "replace"),
                    "why": "the last line was incomplete (a write was interrupted)",
                },
            )

    def append(self, kind: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Write one record and fsync it; returns the record as stored. Thread-safe: the
        executor's worker threads journal their evaluations as they finish, and two
        records must never share a sequence number or a previous hash."""
        if not kind:
            raise ValueError("a journal record needs a kind")
        with self._lock:
            return self._append(kind, data)

    def _append(self, kind: str, data: Mapping[str, Any]) -> dict[str, Any]:
        record: dict[str, Any] = {
            "seq": self._seq,
            "ts": _timestamp(self._clock()),
            "kind": kind,
            "data": plain(data),
            "prev": self._prev,
        }
        record["hash"] = record_hash(record)
        line = (_canonical(record) + "\n").encode("utf-8")
        self._appended += 1
        fault = self._fault if self._fault and self._fault.record == self._appended else None
        if fault and fault.point == "before-append":
            faults.die()
        view = memoryview(line if not fault or fault.point != "mid-write" else line[: len(line) // 2])
        while view:  # os.write may write less than asked (signals, pipes): finish the line
            view = view[os.write(self._fd, view) :]
        os.fsync(self._fd)
        if fault:
            faults.die()
        self._seq += 1
        self._prev = record["hash"]
        if self._on_append is not None:
            self._on_append(record)
        return record

    def records(self) -> list[dict[str, Any]]:
        return read_records(self.path)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()


class JournalReader:
    """A journal read without taking it over (`ladder agent status` of a running run):
    no lock, no recovery, and `append` refused."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    def records(self) -> list[dict[str, Any]]:
        return read_records(self.path)

    def append(self, kind: str, data: Mapping[str, Any]) -> dict[str, Any]:
        raise LadderError("the journal was opened read-only", where=str(self.path))


def read_records(path: Path | str) -> list[dict[str, Any]]:
    """Every complete record, in file order. A torn last line is left out (reopening
    with `Journal` cuts it); a malformed line elsewhere is an error."""
    records: list[dict[str, Any]] = []
    for number, (text, complete) in enumerate(_lines(Path(path)), start=1):
        record = _parse(text)
        if record is None:
            if not complete:
                break
            raise LadderError(
                f"line {number} is not a journal record",
                where=str(path),
                todo="`ladder agent verify` lists every problem of the journal",
            )
        records.append(record)
    return records


def verify(path: Path | str) -> list[Problem]:
    """Every break of the chain, in line order; [] for an intact journal.

    Detects an edited record (its hash does not match its content), a rewritten one
    (hash recomputed: the next record's `prev` no longer matches), a deleted one (a seq
    is missing), an inserted one (a seq appears twice, or a record has no valid hash),
    a reordered one (a seq comes after a larger one), and a torn last line. Appending
    whole forged records with recomputed hashes at the end, or cutting whole records
    off the end, cannot be told from the file alone: anchor the last hash elsewhere.
    """
    entries: list[tuple[int, dict[str, Any]]] = []
    problems: list[Problem] = []
    for number, (text, complete) in enumerate(_lines(Path(path)), start=1):
        record = _parse(text)
        if not complete:
            seq = record.get("seq") if record else None
            problems.append(
                Problem(
                    number,
                    seq if isinstance(seq, int) else None,
                    "torn tail: the last line is incomplete (a write was interrupted); "
                    "reopening the journal cuts it and records that",
                    torn=True,
                )
            )
        elif record is None:
            problems.append(Problem(number, None, "not a journal record (malformed JSON)"))
        else:
            shape = _shape_problem(record)
            if shape:
                problems.append(Problem(number, None, shape))
            else:
                entries.append((number, record))
    problems += _chain_problems(entries)
    return sorted(problems, key=lambda p: p.line)


# --- checking the chain ------------------------------------------------------------------


def _chain_problems(entries: list[tuple[int, dict[str, Any]]]) -> list[Problem]:
    problems: list[Problem] = []
    by_seq: dict[int, list[tuple[int, dict[str, Any]]]] = {}
    for number, record in entries:
        by_seq.setdefault(record["seq"], []).append((number, record))
    # The records some later record points to: of two with one seq, the pointed-to one
    # is the original and the other the insertion.
    pointed = {record["prev"] for _, record in entries}
    expected = 0  # the seq the next record should have
    highest: tuple[int, int] | None = None  # (seq, line) of the largest seq so far
    for number, record in entries:
        seq = record["seq"]
        if record_hash(record) != record["hash"]:
            problems.append(Problem(number, seq, "edited: its content does not match its hash"))
        order = _order_problem(number, seq, expected, highest, by_seq, pointed)
        if order:
            problems.append(order)
        else:
            link = _link_problem(number, record, by_seq)
            if link:
                problems.append(Problem(number, seq, link))
        if highest is None or seq > highest[0]:
            highest = (seq, number)
        expected = max(expected, seq + 1)
    return problems


def _order_problem(
    number: int,
    seq: int,
    expected: int,
    highest: tuple[int, int] | None,
    by_seq: Mapping[int, list[tuple[int, dict[str, Any]]]],
    pointed: set[str],
) -> Problem | None:
    if seq > expected:
        missing = [s for s in range(expected, seq) if s not in by_seq]
        if not missing:  # a gap whose seqs appear later is reported there, as a reordering
            return None
        span = f"seq {missing[0]}" if len(missing) == 1 else f"seqs {missing[0]}..{missing[-1]}"
        return Problem(number, seq, f"deleted: {span} missing before this record")
    if seq == expected or highest is None:
        return None
    same = by_seq[seq]
    if any(n < number for n, _ in same):
        lines = ", ".join(str(n) for n, _ in same)
        # The chain goes on from the original: the one record of this seq that a later
        # record points to. The other is the insertion, and the problem is put on it.
        kept = [n for n, r in same if r["hash"] in pointed]
        if len(kept) == 1 and len(same) == 2:
            inserted = next(n for n, _ in same if n != kept[0])
            what = f"inserted: seq {seq} appears twice (lines {lines}); the chain goes on from line {kept[0]}"
            return Problem(inserted, seq, what)
        return Problem(number, seq, f"inserted: seq {seq} appears more than once (lines {lines})")
    return Problem(
        number, seq, f"reordered: seq {seq} comes after seq {highest[0]} (line {highest[1]})"
    )


def _link_problem(
    number: int, record: Mapping[str, Any], by_seq: Mapping[int, list[tuple[int, dict[str, Any]]]]
) -> str:
    seq = record["seq"]
    if seq == 0:
        return "" if record["prev"] == "" else "the first record must have prev = ''"
    before = by_seq.get(seq - 1, [])
    if not before or any(r["hash"] == record["prev"] for _, r in before):
        return ""  # a missing predecessor is reported as a deletion
    lines = ", ".join(str(n) for n, _ in before)
    return (
        f"rewritten: its prev does not match the hash of seq {seq - 1} (line {lines}); "
        "that record was replaced with a recomputed hash, or this one was"
    )


def _shape_problem(record: Mapping[str, Any]) -> str:
    if tuple(sorted(record)) != tuple(sorted(FIELDS)):
        return f"not a journal record: its fields are {sorted(record)}, not {sorted(FIELDS)}"
    seq = record["seq"]
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        return "not a journal record: seq is not a count"
    if not all(isinstance(record[k], str) for k in ("ts", "kind", "prev", "hash")):
        return "not a journal record: ts, kind, prev and hash must be strings"
    return ""


# --- files ---------------------------------------------------------------------------------


def _lines(path: Path) -> list[tuple[str, bool]]:
    """(text, complete) for each line; only the last can be incomplete."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise LadderError("no such journal", where=str(path)) from None
    parts = raw.split(b"\n")
    tail = parts.pop()  # b"" when the file ends with a newline
    lines = [(p.decode("utf-8", "replace"), True) for p in parts]
    if tail:
        lines.append((tail.decode("utf-8", "replace"), False))
    return lines


def _cut_torn_tail(path: Path) -> bytes:
    """Cut a torn last line (no newline, or not a record) away; returns what was cut."""
    raw = path.read_bytes()
    if raw.endswith(b"\n"):
        body = raw[:-1]
        last = body[body.rfind(b"\n") + 1 :]
        if not body or _parse(last.decode("utf-8", "replace")) is not None:
            return b""
        keep = len(body) - len(last)  # a newline-ended line that is garbage: torn too
    else:
        keep = raw.rfind(b"\n") + 1
    torn = raw[keep:]
    with path.open("r+b") as handle:
        handle.truncate(keep)
        handle.flush()
        os.fsync(handle.fileno())
    return torn


def _last_link(path: Path) -> tuple[int, str]:
    """(next seq, last hash) of the journal at `path`."""
    records = read_records(path)
    if not records:
        return 0, ""
    last = records[-1]
    return int(last["seq"]) + 1, str(last["hash"])


def _lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock, one writer by convention
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


# --- encoding ------------------------------------------------------------------------------


def _canonical(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def _parse(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _timestamp(seconds: float) -> str:
    moment = datetime.fromtimestamp(seconds, timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def plain(value: Any) -> Any:
    """`value` as JSON-native types (see the module docstring)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, PurePath):
        return value.as_posix()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    raise TypeError(f"cannot journal a {type(value).__name__}: {value!r}")
