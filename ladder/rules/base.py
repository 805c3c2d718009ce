"""The two pluggable families of the rule layer: templates and engines.

A *template* turns a lesson's `[rule]` arguments into something an *engine* runs:
`require-call` becomes a libcst visitor, `pattern` a semgrep rule, `regex` a regular
expression, `protect` a check of the diff. Engines run every rule of their kind in one
pass (one libcst parse per file, one semgrep process per check), which is what keeps
the git hook fast.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ladder.findings import Finding, Unfinished
from ladder.git import Change
from ladder.lesson import Case, Lesson
from ladder.rules.semgrep_launch import SEMGREP_TIMEOUT_S

# The largest Python file the libcst rules parse. libcst's tree costs ~650 bytes of memory
# per byte of source: a generated 6 MB file took 3.9 GB and ~1 min to parse, and a commit
# hook with it 3.1 GB and 95 s of CPU (issue 12, part 2). At 1 MB (semgrep's own default
# limit) the check stays under ~0.7 GB while hand-written modules, rarely over 500 KB,
# pass. `[tool.ladder] max_parse_bytes` changes it.
MAX_PARSE_BYTES = 1_000_000


@dataclass(frozen=True)
class CheckRequest:
    """What to check: files under `root`, optionally with in-memory contents.

    `contents` overrides what is on disk (the block/allow cases, an agent's pending
    edit). `changes` is the diff for diff-aware rules (`protect`); None means the run
    is not diff-aware and such rules report nothing.
    """

    root: Path
    files: Sequence[str]
    changes: Sequence[Change] | None = None
    contents: Mapping[str, str] | None = None
    agent: bool = False  # judge as a commit of the agent loop (agent-only protect lessons)
    # Where `custom` checks are imported from (None: `root`). For an agent's commit it is
    # the user's repository, never the checkout a process ladder does not trust wrote:
    # a module there would run in ladder's own process.
    code_root: Path | None = None
    max_parse_bytes: int = MAX_PARSE_BYTES  # larger files are refused, never parsed
    semgrep_timeout: int = SEMGREP_TIMEOUT_S  # seconds per rule per file; 0: no limit
    # The findings cache of a check a person or CI asked for (ladder.rules.cache); None
    # for the hook and the agent loop, which never trust a file others could write.
    cache: Path | None = None
    # Told (files done, files in all) as a long scan goes: the level-5 gate's tree scan.
    progress: Callable[[int, int], None] | None = None
    jobs: int = 1  # processes a whole-tree scan may use (the hook's few files: one)
    # Filled in by the engines: the rules that did not finish on a file (a semgrep
    # timeout). Shared by the copies `dataclasses.replace` makes, so the caller sees them.
    unfinished: list[Unfinished] = field(default_factory=list)

    def read(self, path: str) -> str:
        if self.contents is not None and path in self.contents:
            return self.contents[path]
        return (self.root / path).read_text(encoding="utf-8", errors="replace")

    def read_bytes(self, path: str) -> bytes:
        if self.contents is not None and path in self.contents:
            return self.contents[path].encode("utf-8", "surrogateescape")
        return (self.root / path).read_bytes()

    def size(self, path: str) -> int:
        """The file's size in bytes, without reading it (in memory: its UTF-8 length)."""
        if self.contents is not None and path in self.contents:
            return len(self.contents[path].encode("utf-8", errors="replace"))
        return (self.root / path).stat().st_size


class Template(Protocol):
    # Read-only members, so frozen dataclasses satisfy the protocol.
    @property
    def name(self) -> str: ...

    @property
    def engine(self) -> str:
        """The ENGINES key that runs it."""
        ...

    @property
    def structural(self) -> bool:
        """May it be promoted to levels 4 and 5?"""
        ...

    @property
    def summary(self) -> str:
        """One line for `--help` and docs."""
        ...

    def validate(self, args: Mapping[str, Any], where: str) -> dict[str, Any]:
        """Normalised arguments, or LadderError naming the missing/bad argument."""
        ...

    def generated_cases(self, args: Mapping[str, Any]) -> tuple[tuple[Case, ...], tuple[Case, ...]]:
        """Block and allow cases made from the arguments alone (used when none given)."""
        ...

    def describe(self, args: Mapping[str, Any]) -> str:
        """What the rule enforces, in words, for the lessons document and prompts."""
        ...


class Engine(Protocol):
    @property
    def name(self) -> str: ...

    def run(self, lessons: Sequence[Lesson], request: CheckRequest) -> list[Finding]:
        """Findings of every lesson's rule (all of this engine) over the request's files.

        Lessons arrive already filtered to those whose `paths` match some file; the
        engine itself filters each lesson to its matching files. Raises RuleCrash when
        a rule fails on a file; a rule that ran out of its time on a file is appended
        to `request.unfinished` instead.
        """
        ...
