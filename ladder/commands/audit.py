"""`ladder audit`: lessons per level, prose against structure, what blocks promotion.

Works in a repository that never used ladder: it then reports the rules found outside
`.ladder/` (AGENTS.md, CONTRIBUTING, hooks, linters, CI) and the gap report.
"""

from __future__ import annotations

import sys
from typing import TextIO

from ladder.errors import EXIT_FINDINGS, EXIT_OK, LadderError
from ladder.project import Project


def run(project: Project, *, fmt: str = "table", max_prose: float | None = None, out: TextIO | None = None) -> int:
    from ladder.audit.render import FORMATS, render
    from ladder.audit.report import build

    if fmt not in FORMATS:
        raise LadderError(f"unknown format {fmt!r}", todo=f"use one of {', '.join(FORMATS)}")
    if max_prose is not None and not 0.0 <= max_prose <= 1.0:
        raise LadderError(f"--max-prose {max_prose} is not a fraction", todo="give a number from 0 to 1, e.g. 0.5")
    report = build(project)
    render(report, fmt, out or sys.stdout)
    if max_prose is not None and report.prose_share > max_prose:
        print(
            f"ladder: audit: prose share {report.prose_share:.2f} exceeds --max-prose {max_prose:.2f} "
            "(promote lessons: `ladder promote ID --max`)",
            file=sys.stderr,
        )
        return EXIT_FINDINGS
    return EXIT_OK
