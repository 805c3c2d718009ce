"""Findings rendered as text, JSON or SARIF 2.1.0 (for code-scanning UIs)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ladder import __version__
from ladder.findings import Finding, Unfinished
from ladder.lesson import LEVEL_NAMES, Lesson

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def severity(finding: Finding, blocking_levels: frozenset[int]) -> str:
    return "error" if finding.level in blocking_levels else "warning"


def text(
    findings: Sequence[Finding], lessons: Mapping[str, Lesson], blocking: frozenset[int]
) -> str:
    lines = []
    for f in findings:
        lesson = lessons.get(f.lesson)
        sev = severity(f, blocking)
        lines.append(f"{f.location()}: {sev} [{f.lesson}] {f.message}")
        if lesson is not None and sev == "error":
            lines.append(
                f"    lesson: {lesson.title} (level {lesson.level}: {LEVEL_NAMES[lesson.level]})"
            )
            lines.append(f"    why: {lesson.why}")
    return "\n".join(lines)


def as_json(findings: Sequence[Finding], blocking: frozenset[int]) -> str:
    return json.dumps(
        [
            {
                "rule": f.rule,
                "lesson": f.lesson,
                "path": f.path,
                "line": f.line,
                "column": f.column,
                "message": f.message,
                "level": f.level,
                "severity": severity(f, blocking),
            }
            for f in findings
        ],
        indent=2,
    )


def sarif(
    findings: Sequence[Finding], lessons: Mapping[str, Lesson], blocking: frozenset[int],
    unfinished: Sequence[Unfinished] = (),
) -> str:
    used = sorted({f.lesson for f in findings})
    rules: list[dict[str, Any]] = []
    for lesson_id in used:
        lesson = lessons.get(lesson_id)
        rules.append(
            {
                "id": lesson_id,
                "shortDescription": {"text": lesson.title if lesson else lesson_id},
                "fullDescription": {"text": lesson.why if lesson else ""},
                "properties": {
                    "level": lesson.level if lesson else 0,
                    "tags": list(lesson.tags) if lesson else [],
                },
            }
        )
    index = {rule_id: i for i, rule_id in enumerate(used)}
    results = [
        {
            "ruleId": f.lesson,
            "ruleIndex": index[f.lesson],
            "level": severity(f, blocking),
            "message": {"text": f.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.path, "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": f.line, "startColumn": f.column},
                    }
                }
            ],
            "properties": {"rule": f.rule},
        }
        for f in findings
    ]
    doc: dict[str, Any] = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "ladder",
                        "version": __version__,
                        "informationUri": "https://pypi.org/project/enforcement-ladder/",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    if unfinished:
        doc["runs"][0]["invocations"] = [_invocation(unfinished)]
    return json.dumps(doc, indent=2)


def _invocation(unfinished: Sequence[Unfinished]) -> dict[str, Any]:
    """A rule that did not finish on a file is a tool notification, not a result."""
    notes = [
        {
            "level": "warning",
            "message": {"text": u.line().removeprefix("ladder: warning: ")},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": u.path, "uriBaseId": "%SRCROOT%"}}}],
            "associatedRule": {"id": u.lesson},
        }
        for u in unfinished
    ]
    return {"executionSuccessful": True, "toolExecutionNotifications": notes}
