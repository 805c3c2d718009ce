"""The journal's head, anchored outside the journal: a chain that cannot be cut or rewritten
unseen.

A hash chain catches an edit in the middle of the journal, but not a rewritten suffix with
recomputed hashes, a deleted last record or forged records appended at the end: each of
those is a valid chain. So after every record the loop writes the chain's head -- its
`seq` and `hash` -- with an HMAC-SHA256 (RFC 2104) under a per-user key to
`<git common dir>/ladder/anchors/<run>.json`, outside the working tree. `check` then
says whether the journal ends where the anchor says:

- the anchored record is missing (the journal is shorter): a cut tail;
- it is there with another hash: a rewritten suffix;
- more than one record follows it: records appended by someone else (one may follow:
  the loop writes a record, then its anchor, and a kill can fall between the two);
- the anchor itself is missing or its MAC does not verify: a forged or deleted anchor.

The key (`$XDG_CONFIG_HOME/ladder/anchor.key`, mode 0600, created on first use) never
enters the repository, the candidate's environment or the proposer's. What it does not
stop: a process running as the same user that reads the key file (run the proposer and
evaluations in a sandbox for that); `docs/security.md` says so.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ladder.git import git_dir

KEY_BYTES = 32


def key_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "ladder" / "anchor.key"


def _key() -> bytes:
    path = key_path()
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another run created it first
        return path.read_bytes()
    with os.fdopen(fd, "wb") as fh:
        fh.write(secrets.token_bytes(KEY_BYTES))
    return path.read_bytes()


def _mac(key: bytes, run: str, seq: int, head: str) -> str:
    return hmac.new(key, f"{run}\n{seq}\n{head}".encode(), hashlib.sha256).hexdigest()


def anchors_dir(root: Path) -> Path:
    return git_dir(root) / "ladder" / "anchors"


@dataclass
class Anchor:
    """Writes the head of run `run`'s journal after each record (Journal's on_append)."""

    run: str
    directory: Path

    def __post_init__(self) -> None:
        self._key = _key()
        self.directory.mkdir(parents=True, exist_ok=True)

    @property
    def path(self) -> Path:
        return self.directory / f"{self.run}.json"

    def __call__(self, record: Mapping[str, Any]) -> None:
        seq, head = int(record["seq"]), str(record["hash"])
        data = {"run": self.run, "seq": seq, "hash": head, "mac": _mac(self._key, self.run, seq, head)}
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)


def check(root: Path, run: str, records: Sequence[Mapping[str, Any]]) -> list[str]:
    """What is wrong with the journal's end, judged against its anchor ([] when none)."""
    path = anchors_dir(root) / f"{run}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        seq, head, mac = int(data["seq"]), str(data["hash"]), str(data["mac"])
    except FileNotFoundError:
        if len(records) > 1:  # one may have none yet: a kill between it and its anchor
            return [f"no anchor for run {run} ({path}): it was deleted, or the run predates anchors"]
        return []
    except (OSError, ValueError, KeyError, TypeError):
        return [f"the anchor {path} is not readable: it was edited"]
    if not hmac.compare_digest(mac, _mac(_key(), run, seq, head)):
        return [f"the anchor {path} does not verify with this user's key: it was forged"]
    by_seq = {int(r.get("seq", -1)): r for r in records}
    last = max(by_seq, default=-1)
    if seq not in by_seq:
        return [f"the journal ends at seq {last} but was anchored at seq {seq}: its tail was cut"]
    if by_seq[seq].get("hash") != head:
        return [f"record seq {seq} is not the one anchored: the journal was rewritten from there"]
    if last > seq + 1:
        return [f"{last - seq} records follow the anchored seq {seq}: they were appended by "
                "someone other than the run"]
    return []
