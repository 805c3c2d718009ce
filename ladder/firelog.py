"""A small local log of how often each lesson's rule fired, for `ladder audit`.

One JSON line per check run that found something, in `.ladder/cache/fires.jsonl`
(ignored by git: it describes this clone's history, not the project). Trimmed to its
newest half when it passes 1 MiB so it never grows without bound.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence

from ladder.findings import Finding
from ladder.project import Project

_MAX_BYTES = 1 << 20


def record(project: Project, findings: Sequence[Finding], mode: str) -> None:
    if not findings:
        return
    counts = Counter(f.lesson for f in findings)
    line = json.dumps({"ts": int(time.time()), "mode": mode, "fired": dict(counts)})
    path = project.cache_dir / "fires.jsonl"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
        if path.stat().st_size > _MAX_BYTES:
            lines = path.read_text(encoding="utf-8").splitlines()
            path.write_text("\n".join(lines[len(lines) // 2 :]) + "\n", encoding="utf-8")
    except OSError:
        pass  # the log is advisory; never fail a check because of it


def counts(project: Project) -> dict[str, int]:
    """Findings per lesson id over the whole log."""
    total: Counter[str] = Counter()
    path = project.cache_dir / "fires.jsonl"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return {}
    for line in lines:
        try:
            total.update(json.loads(line)["fired"])
        except (ValueError, KeyError, TypeError):
            continue  # a torn line from a killed process: skip it
    return dict(total)
