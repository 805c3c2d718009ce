"""Findings: what a rule reports about one place in one file."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    rule: str  # the rule's id: its template name, semgrep rule id or custom class
    lesson: str  # the lesson the rule enforces
    path: str  # repo-relative, posix separators
    line: int  # 1-based
    column: int  # 1-based
    message: str
    level: int = 0  # the lesson's level when it fired (filled in by the runner)

    def location(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Unfinished:
    """A rule that did not finish on one file (semgrep's per-rule-per-file timeout).

    A warning, as semgrep itself treats it: the rule's findings in that file are
    unknown, every other finding stands and decides the exit code (issue 13).
    """

    lesson: str
    path: str  # repo-relative, posix separators
    reason: str  # e.g. "semgrep timeout of 5 s"

    def line(self) -> str:
        return (
            f"ladder: warning: {self.path}: the rule of lesson {self.lesson!r} did not finish "
            f"({self.reason}), so it is unchecked in this file "
            "(raise `semgrep_timeout` in [tool.ladder], 0 for no limit, or `exclude` the file)"
        )
