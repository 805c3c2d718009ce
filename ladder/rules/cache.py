"""The findings cache of whole-tree checks: a re-run that changed nothing reads no tree.

`ladder check` with no files (and `--ci`, and the level-5 gate's tree scan) checks every
file of the repository; on 1,000 files that is seconds even on CPython's parser. As
ruff's cache does, the findings of each file are kept, keyed by what decides them: the
file's content (a BLAKE2 digest of its bytes, never its mtime: a checkout, a rebase or a
`touch` must not matter) and the rules that applied to it (each rule's template, its
arguments and paths, and the code of the engine and templates that ran them). Anything
else changed misses.

Only pure rules are cached: the built-in libcst templates, whose findings are a function
of those keys alone. A `custom` check imports code of the repository, which a cache key
would have to follow; it is always run.

The cache lives in the repository's git directory (`.git/ladder/check-cache.json`):
never committed, never in the working tree, shared by worktrees. It is used by checks a
person or CI asks for, never by the hook or the agent loop, whose verdicts must not rest
on a file something else could have written.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ladder.findings import Finding

VERSION = 1
MAX_ENTRIES = 200_000  # a repository's files; beyond it the oldest half is dropped
_CODE: str | None = None


def code_digest() -> str:
    """A digest of the engine and template code: a new ladder never reads old entries."""
    global _CODE
    if _CODE is None:
        here = Path(__file__).resolve().parent
        h = hashlib.blake2b(digest_size=16)
        for path in sorted([*here.glob("*.py"), *(here / "templates").glob("*.py")]):
            h.update(path.name.encode())
            h.update(path.read_bytes())
        _CODE = h.hexdigest()
    return _CODE


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def rules_key(rules: Sequence[Mapping[str, Any]]) -> str:
    """The key of the rules that applied to one file (their order does not matter)."""
    text = json.dumps(sorted(json.dumps(r, sort_keys=True, default=str) for r in rules))
    return digest(f"{code_digest()}\n{text}".encode())


@dataclass
class FindingsCache:
    """path -> (content digest, rules key, findings); loaded once, saved once."""

    path: Path
    entries: dict[str, list[Any]] = field(default_factory=dict)
    changed: bool = False

    @classmethod
    def load(cls, path: Path) -> FindingsCache:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls(path)  # missing or damaged: start over, never fail a check
        if not isinstance(data, dict) or data.get("version") != VERSION:
            return cls(path)
        entries = data.get("entries")
        return cls(path, entries if isinstance(entries, dict) else {})

    def get(self, name: str, content: str, rules: str) -> list[Finding] | None:
        entry = self.entries.get(name)
        if not isinstance(entry, list) or len(entry) != 3 or entry[:2] != [content, rules]:
            return None
        try:
            return [Finding(**f) for f in entry[2]]
        except TypeError:
            return None

    def put(self, name: str, content: str, rules: str, findings: Sequence[Finding]) -> None:
        self.entries[name] = [content, rules, [asdict(f) for f in findings]]
        self.changed = True

    def save(self) -> None:
        """Write atomically (a concurrent run reads the old or the new file, whole); a
        failure to write only costs the next run its speed."""
        if not self.changed:
            return
        if len(self.entries) > MAX_ENTRIES:
            keep = list(self.entries)[len(self.entries) // 2:]
            self.entries = {k: self.entries[k] for k in keep}
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps({"version": VERSION, "entries": self.entries}),
                           encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            tmp.unlink(missing_ok=True)
        self.changed = False


def location(git_dir: Path) -> Path:
    return git_dir / "ladder" / "check-cache.json"
