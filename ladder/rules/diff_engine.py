"""The diff engine: `protect` lessons against the changes of a commit or range.

It reads `request.changes`, never file contents: a protected file is flagged for
being touched at all. A rename counts for both its old and its new path, so moving
the evaluator away and moving a file over it are both caught; a deletion counts as a
modification. With `request.changes` None (a run over files, not a diff) it reports
nothing.

`Lesson.paths` does not restrict `protect`: the protected globs do. A deletion-only
commit has no file left to match a lesson's paths, so the runner must hand every
`diff` lesson over even when `request.files` is empty.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from ladder.findings import Finding
from ladder.git import Change
from ladder.globs import matches
from ladder.lesson import Lesson
from ladder.rules.base import CheckRequest
from ladder.rules.templates.protect import TEMPLATE

# Set in the environment of every commit the agent loop makes (and so of its hooks).
AGENT_ENV = "LADDER_AGENT"
_VERBS = {"A": "added", "M": "modified", "D": "deleted", "T": "changed type", "C": "copied"}


def what_happened(change: Change, path: str) -> str:
    if change.status == "R":
        return f"renamed to {change.path}" if path == change.old_path else f"renamed from {change.old_path}"
    if change.status == "C" and path == change.path:
        return f"copied from {change.old_path}"
    return _VERBS.get(change.status, "changed")


def protect_findings(lesson: Lesson, globs: Sequence[str], message: str, changes: Sequence[Change]) -> list[Finding]:
    findings = []
    for change in changes:
        for path in change.paths():
            # A copy leaves its source untouched: only its new path is a change.
            if change.status == "C" and path == change.old_path:
                continue
            if matches(path, globs):
                text = f"{path} is protected ({what_happened(change, path)}): {message}"
                findings.append(Finding("protect", lesson.id, path, 1, 1, text))
    return findings


class DiffEngine:
    name = "diff"

    def run(self, lessons: Sequence[Lesson], request: CheckRequest) -> list[Finding]:
        if request.changes is None:
            return []  # not a diff-aware run: nothing was changed, nothing to protect
        agent = request.agent or os.environ.get(AGENT_ENV) == "1"
        findings: list[Finding] = []
        for lesson in lessons:
            if lesson.rule is None:
                continue
            args = TEMPLATE.validate(lesson.rule.args, f".ladder/lessons/{lesson.id}.toml")
            if args.get("agent_only") and not agent:
                continue  # a person's commit: this lesson guards the agent loop only
            message = args.get("message") or lesson.title
            findings.extend(protect_findings(lesson, args["paths"], message, request.changes))
        return sorted(set(findings), key=lambda f: (f.path, f.lesson))


ENGINE = DiffEngine()
