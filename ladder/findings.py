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
