"""The constraints a repository already has outside `.ladder/`.

A repository that never used ladder still has rules: sentences in AGENTS.md, CLAUDE.md,
skills or CONTRIBUTING.md (prose, levels 1-2: they work only if someone reads them) and
pre-commit hooks, linter configs, CI steps and agent permissions (structural, levels 3-5:
a machine enforces them). `ladder audit` counts both so the prose-versus-structure
figure and the gap report need nothing but a checkout; `ladder adopt` turns the prose
rules into lessons.

Three parts, each its own module: `prose` finds the documents and splits them into
units, `classify` decides which units are rules, `structural` finds the checks, and
`matcher` decides which rules a check is shown to enforce (the `evidence` of an item).

Ladder's own artifacts are never counted here: the managed block in AGENTS.md /
CLAUDE.md, the lessons document, and the `ladder-check` hook are the lessons
themselves, which the audit counts from `.ladder/lessons`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from pathlib import Path

from ladder.audit.classify import classify
from ladder.audit.items import PROSE, STRUCTURAL, Evidence, InventoryItem
from ladder.audit.matcher import enforcement
from ladder.audit.prose import prose_files, units
from ladder.audit.structural import structural_items
from ladder.lesson import Lesson

__all__ = [
    "ADOPTED_TAG", "PROSE", "STRUCTURAL", "Evidence", "InventoryItem", "adopted_by", "inventory",
    "prose_items", "rule_lines",
]

ADOPTED_TAG = "adopted"


def inventory(root: Path, agent_files: Sequence[str] = (), skip: Sequence[str] = ()) -> list[InventoryItem]:
    """Every prose rule and every check under `root`, in a stable order, each prose rule
    with the evidence (if any) that a check enforces it.

    `agent_files` adds the project's configured agent files (`[tool.ladder] agent_files`)
    to the well-known ones; `skip` names files ladder generates (the lessons document).
    """
    checks = structural_items(root)
    prose = [
        dataclasses.replace(item, evidence=enforcement(item.text, checks, root))
        for item in prose_items(root, agent_files, skip)
    ]
    return [*prose, *checks]


def prose_items(root: Path, agent_files: Sequence[str] = (), skip: Sequence[str] = ()) -> list[InventoryItem]:
    items = []
    for rel, level in prose_files(root, agent_files, skip):
        try:
            text = (root / rel).read_text(encoding="utf-8-sig", errors="replace")
        except OSError:
            continue  # unreadable: nothing to count, and the audit must not fail for it
        if _generated_by_ladder(text):
            continue  # .cursor/rules/ladder.mdc and the like are the lessons themselves
        tool = _origin(rel, level)
        for line, rule, reason in rule_lines(text):
            items.append(InventoryItem(rel, line, rule, PROSE, level, tool, reason=reason))
    return items


def _generated_by_ladder(text: str) -> bool:
    from ladder.levels.base import GENERATED_HEADER

    return GENERATED_HEADER in "\n".join(text.splitlines()[:10])


def _origin(rel: str, level: int) -> str:
    if level == 1:
        return "docs"
    return "skills" if rel.rsplit("/", 1)[-1] == "SKILL.md" else "agents"


def rule_lines(text: str) -> list[tuple[int, str, str]]:
    """(line, rule text, why it is a rule) of each unit of a document that is a rule."""
    out = []
    for unit in units(text):
        verdict = classify(unit.raw)
        if verdict.is_rule:
            out.append((unit.line, verdict.text, verdict.reason))
    return out


# --- lessons adopted from the inventory -------------------------------------------------


def adopted_by(items: Sequence[InventoryItem], lessons: Sequence[Lesson]) -> dict[str, str]:
    """Inventory location -> id of the lesson that holds that prose rule.

    Same `source` (FILE:LINE) first; else an adopted lesson with the same title, so a
    rule whose line moved, or the same rule copied into CLAUDE.md, is not adopted twice.
    """
    by_source = {x.source: x.id for x in lessons if x.source}
    by_title = {norm(x.title): x.id for x in lessons if ADOPTED_TAG in x.tags}
    out = {}
    for item in items:
        if item.kind != PROSE:
            continue
        lesson = by_source.get(item.location) or by_title.get(norm(item.text))
        if lesson:
            out[item.location] = lesson
    return out


def norm(text: str) -> str:
    """A rule's text compared across files: case and spacing do not matter."""
    return re.sub(r"\s+", " ", text).strip().lower()
