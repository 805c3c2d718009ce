"""Inline suppression: `# ladder: ignore[<id>]` on the line a finding points at.

The ids are comma-separated lesson ids or rule ids (`forbid-call`, a semgrep rule id, a
custom check class). There is no blanket `# ladder: ignore`: a suppression must name what
it silences, so the audit can count it per id and a reviewer can see what was waived.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from ladder.findings import Finding

MARKER = "ladder: ignore["
SUPPRESS_RE = re.compile(r"#\s*ladder:\s*ignore\[([^\]]*)\]")


def suppressed_ids(line_text: str) -> set[str]:
    """The ids a line's `# ladder: ignore[...]` comments name (empty when none)."""
    if "ladder" not in line_text:  # the common case, without a regex
        return set()
    ids: set[str] = set()
    for match in SUPPRESS_RE.finditer(line_text):
        ids.update(part.strip() for part in match.group(1).split(",") if part.strip())
    return ids


def is_suppressed(line_text: str, finding: Finding) -> bool:
    ids = suppressed_ids(line_text)
    return bool(ids) and (finding.lesson in ids or finding.rule in ids)


def count_suppressions(root: Path, files: Sequence[str]) -> dict[str, int]:
    """How many lines suppress each id, over `files` (repo-relative) under `root`."""
    counts: Counter[str] = Counter()
    for name in files:
        try:
            text = (root / name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue  # deleted or unreadable: nothing to count
        if "ladder" not in text:
            continue
        for line in text.splitlines():
            counts.update(suppressed_ids(line))
    return dict(sorted(counts.items()))
