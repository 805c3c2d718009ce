"""The audit as data: what `ladder audit` measures, before any rendering.

Shares, documented once here and in the JSON (`prose_share_basis`):
- `prose_share` is the headline and what `--max-prose` compares: lessons at levels 1-2
  over all active lessons. A repository with no lessons at all (one that never used
  ladder) gets the same figure over its external inventory instead, so the first
  audit of any repository says something. With neither, it is 0.0.
- `structural_share` is 1 - `prose_share` (0.0 when there is nothing to count).
- `combined_prose_share` counts lessons and the external inventory together; a prose
  rule already adopted as a lesson counts once, as the lesson.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ladder.audit.inventory import PROSE, InventoryItem, adopted_by, inventory
from ladder.errors import LadderError
from ladder.lesson import LEVEL_NAMES, MAX_LEVEL, MIN_LEVEL, Lesson
from ladder.project import Project

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class LessonRow:
    id: str
    level: int
    level_name: str
    title: str
    status: str
    fired: int  # findings over the local fire log
    suppressed: int  # `# ladder: ignore[<id>]` comments in the tree


@dataclass(frozen=True)
class Promotion:
    """How far a lesson below level 5 could go now, and what stops it there."""

    id: str
    level: int
    next_level: int  # the deepest level every gate allows; == level when none does
    blocked_level: int | None  # the level whose gate refused (None: reaches 5)
    blocked_by: tuple[str, ...]

    @property
    def can_promote(self) -> bool:
        return self.next_level > self.level


@dataclass(frozen=True)
class Broken:
    kind: str  # failing-case | invalid-rule | hook-missing (lessons at 5, hook absent) | drift
    detail: str
    lesson: str = ""


@dataclass(frozen=True)
class Gap:
    """A prose rule with no structural counterpart, and what to do about it."""

    text: str
    location: str  # FILE:LINE, or the lesson file for a ladder lesson
    lesson: str  # the lesson id when it is (or was adopted as) a lesson
    suggestion: str


@dataclass(frozen=True)
class AuditReport:
    initialized: bool
    lessons: tuple[LessonRow, ...]
    levels: Mapping[int, int]  # active lessons per level, 1..5
    prose_share: float
    prose_share_basis: str  # lessons | inventory | none
    structural_share: float
    combined_prose_share: float
    promotable: tuple[Promotion, ...]
    broken: tuple[Broken, ...]
    suppressions: Mapping[str, int]
    fires: Mapping[str, int]
    inventory: tuple[InventoryItem, ...]
    adopted: Mapping[str, str]  # inventory location -> lesson id
    gaps: tuple[Gap, ...]
    totals: Mapping[str, Any]
    # Where each lesson is enforced (git-hook, ci, guard:claude, rules:cursor...) and the
    # level-5 lessons not enforced inside the coding agents in use (ladder.agents.surfaces).
    surfaces: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    agent_gaps: tuple[str, ...] = ()
    # Lessons an agent run taught (their `source` names the run): lesson id -> run id.
    taught: Mapping[str, str] = dataclasses.field(default_factory=dict)


def build(project: Project) -> AuditReport:
    """Measure `project`; works without `.ladder/` (inventory and gaps only)."""
    from ladder.store import load_lessons

    lessons = load_lessons(project) if project.initialized else []
    active = [x for x in lessons if x.status == "active"]
    items = inventory(project.root, project.config.agent_files, (project.config.lessons_doc,))
    adopted = adopted_by(items, lessons)
    fires = _fires(project) if project.initialized else {}
    suppressions = _suppressions(project) if project.initialized else {}
    levels = {n: sum(1 for x in active if x.level == n) for n in range(MIN_LEVEL, MAX_LEVEL + 1)}
    shares = _shares(active, items, adopted)
    surfaces, agent_gaps = _surfaces(project, lessons)
    return AuditReport(
        initialized=project.initialized,
        lessons=tuple(
            LessonRow(x.id, x.level, x.level_name, x.title, x.status, fires.get(x.id, 0), suppressions.get(x.id, 0))
            for x in lessons
        ),
        levels=levels,
        prose_share=shares["prose_share"],
        prose_share_basis=shares["basis"],
        structural_share=shares["structural_share"],
        combined_prose_share=shares["combined_prose_share"],
        promotable=tuple(promotion(x, project) for x in active if x.level < MAX_LEVEL),
        broken=tuple(broken(project, lessons)) if project.initialized else (),
        suppressions=suppressions,
        fires=fires,
        inventory=tuple(items),
        adopted=adopted,
        gaps=tuple(gaps(items, active, adopted)),
        totals=_totals(active, items, adopted),
        surfaces=surfaces,
        agent_gaps=tuple(agent_gaps),
        taught=_taught(lessons),
    )


def _taught(lessons: Sequence[Lesson]) -> dict[str, str]:
    from ladder.agent.skills.failures import taught_by

    return {x.id: run for x in lessons if (run := taught_by(x))}


def _surfaces(project: Project, lessons: Sequence[Lesson]) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    if not project.initialized:
        return {}, []
    from ladder.agents.surfaces import report

    return report(project, lessons)


# --- shares ------------------------------------------------------------------------


def _counted(items: Sequence[InventoryItem], adopted: Mapping[str, str]) -> list[InventoryItem]:
    """Inventory items that are not already a lesson (an adopted rule counts once)."""
    return [i for i in items if i.location not in adopted]


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _shares(active: Sequence[Lesson], items: Sequence[InventoryItem], adopted: Mapping[str, str]) -> dict[str, Any]:
    prose_lessons = sum(1 for x in active if not x.structural)
    counted = _counted(items, adopted)
    prose_items = sum(1 for i in counted if i.kind == PROSE)
    if active:
        basis, share = "lessons", _share(prose_lessons, len(active))
    elif counted:
        basis, share = "inventory", _share(prose_items, len(counted))
    else:
        basis, share = "none", 0.0
    return {
        "basis": basis,
        "prose_share": share,
        "structural_share": 0.0 if basis == "none" else round(1.0 - share, 4),
        "combined_prose_share": _share(prose_lessons + prose_items, len(active) + len(counted)),
    }


def _totals(active: Sequence[Lesson], items: Sequence[InventoryItem], adopted: Mapping[str, str]) -> dict[str, Any]:
    counted = _counted(items, adopted)
    by_level = {str(n): 0 for n in range(MIN_LEVEL, MAX_LEVEL + 1)}
    for level in [x.level for x in active] + [i.level for i in counted]:
        by_level[str(level)] += 1
    prose = sum(1 for x in active if not x.structural) + sum(1 for i in counted if i.kind == PROSE)
    return {
        "lessons": len(active),
        "inventory": len(counted),
        "adopted": len(adopted),
        "prose": prose,
        "structural": len(active) + len(counted) - prose,
        "by_level": by_level,
    }


# --- promotion ---------------------------------------------------------------------


def promotion(lesson: Lesson, project: Project) -> Promotion:
    """Walk the gates above `lesson` as `ladder promote --max` would, without writing."""
    from ladder.levels import gate_reasons

    reached = lesson.level
    for level in range(lesson.level + 1, MAX_LEVEL + 1):
        try:
            reasons = gate_reasons(dataclasses.replace(lesson, level=reached), level, project)
        except LadderError as exc:
            reasons = [_error_text(exc)]  # an invalid rule blocks; `broken` says so too
        if reasons:
            return Promotion(lesson.id, lesson.level, reached, level, tuple(reasons))
        reached = level
    return Promotion(lesson.id, lesson.level, reached, None, ())


# --- broken artifacts --------------------------------------------------------------


def broken(project: Project, lessons: Sequence[Lesson]) -> list[Broken]:
    active = [x for x in lessons if x.status == "active"]
    return [*_failing_cases(project, active), *_drift(project, lessons)]


def _failing_cases(project: Project, active: Sequence[Lesson]) -> list[Broken]:
    with_rules = [x for x in active if x.rule is not None]
    if not with_rules:
        return []
    from ladder.rules.cases import run_cases

    try:
        results = run_cases(with_rules, root=project.root)
    except LadderError as exc:
        return [Broken("invalid-rule", _error_text(exc))]
    out = []
    for r in results:
        if r.ok:
            continue
        if r.kind == "rule" or r.index < 0:
            out.append(Broken("invalid-rule", r.detail, r.lesson))
        else:
            origin = "" if r.source == "lesson" else f" (from {r.source})"
            out.append(Broken("failing-case", f"rule.{r.kind}[{r.index}]: {r.detail}{origin}", r.lesson))
    return out


def _drift(project: Project, lessons: Sequence[Lesson]) -> list[Broken]:
    """Generated artifacts that differ from their lessons, level by level.

    Level 5's artifact is the installed git hook itself, so its drift is reported as
    `hook-missing`: lessons at 5 that git would not run.
    """
    from ladder.levels import LEVELS

    out = []
    for level in sorted(LEVELS):
        kind = "hook-missing" if level == MAX_LEVEL else "drift"
        out += [Broken(kind, detail) for detail in LEVELS[level].drift(lessons, project)]
    return out


def _error_text(exc: LadderError) -> str:
    return f"{exc.where}: {exc.what}" if exc.where else exc.what


# --- fires and suppressions --------------------------------------------------------


def _fires(project: Project) -> dict[str, int]:
    from ladder import firelog

    return firelog.counts(project)


def _suppressions(project: Project) -> dict[str, int]:
    from ladder.git import list_files
    from ladder.globs import matches
    from ladder.rules.suppress import count_suppressions

    # Ladder's own documents may quote the syntax (`ignore[<id>]`): not suppressions.
    config = project.config
    exclude = (*config.exclude, config.lessons_doc, *config.agent_files)
    files = [f for f in list_files(project.root) if not matches(f, exclude)]
    return count_suppressions(project.root, files)


# --- gaps ----------------------------------------------------------------------------


def gaps(items: Sequence[InventoryItem], active: Sequence[Lesson], adopted: Mapping[str, str]) -> list[Gap]:
    """Prose rules without a structural counterpart.

    A counterpart is the adopted lesson at level 3 or above, or a structural item
    whose tool, hook id or command is named in the rule ("- Run ruff before pushing"
    is covered by a ruff hook). Ladder lessons still at levels 1-2 are gaps too.
    """
    levels = {x.id: x.level for x in active}
    words = {w for i in items if i.kind != PROSE for w in i.keywords}
    out = []
    seen: set[str] = set()  # one gap per lesson, even when its rule is in two files
    for item in items:
        if item.kind != PROSE:
            continue
        lesson = adopted.get(item.location, "")
        if lesson and (levels.get(lesson, 0) >= 3 or lesson in seen):
            continue
        seen.add(lesson)
        if not lesson and _mentions(item.text, words):
            continue
        step = f"`ladder promote {lesson} --max`" if lesson else "`ladder adopt`, then `ladder promote ID --max`"
        out.append(Gap(item.text, item.location, lesson, step))
    adopted_ids = set(adopted.values())
    for x in active:
        if not x.structural and x.id not in adopted_ids:
            out.append(Gap(x.title, f".ladder/lessons/{x.id}.toml", x.id, f"`ladder promote {x.id} --max`"))
    return out


def _mentions(text: str, words: set[str]) -> bool:
    import re

    lowered = text.lower()
    return any(re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", lowered) for w in words)


# --- JSON --------------------------------------------------------------------------


def to_dict(report: AuditReport) -> dict[str, Any]:
    """The JSON document: stable keys, in a stable order (scripts and CI read it)."""
    return {
        "schema": SCHEMA_VERSION,
        "initialized": report.initialized,
        "prose_share": report.prose_share,
        "prose_share_basis": report.prose_share_basis,
        "structural_share": report.structural_share,
        "combined_prose_share": report.combined_prose_share,
        "definitions": {
            "prose_share": "lessons at levels 1-2 over active lessons; over the external "
            "inventory when there are no lessons (prose_share_basis says which); --max-prose compares this",
            "combined_prose_share": "prose over lessons plus the external inventory; "
            "an adopted prose rule counts once, as its lesson",
        },
        "levels": {str(n): report.levels.get(n, 0) for n in range(MIN_LEVEL, MAX_LEVEL + 1)},
        "level_names": {str(n): name for n, name in LEVEL_NAMES.items()},
        "lessons": [dataclasses.asdict(row) for row in report.lessons],
        "promotable": [
            {
                "id": p.id,
                "level": p.level,
                "next_level": p.next_level,
                "can_promote": p.can_promote,
                "blocked_level": p.blocked_level,
                "blocked_by": list(p.blocked_by),
            }
            for p in report.promotable
        ],
        "broken": [
            {"kind": b.kind, **({"lesson": b.lesson} if b.lesson else {}), "detail": b.detail}
            for b in report.broken
        ],
        "suppressions": dict(sorted(report.suppressions.items())),
        "fires": dict(sorted(report.fires.items())),
        "inventory": [
            {
                "source": i.source,
                "line": i.line,
                "text": i.text,
                "kind": i.kind,
                "level": i.level,
                "tool": i.tool,
                "adopted_as": report.adopted.get(i.location),
            }
            for i in report.inventory
        ],
        "gaps": [dataclasses.asdict(g) for g in report.gaps],
        "totals": dict(report.totals),
        "surfaces": {k: list(v) for k, v in sorted(report.surfaces.items())},
        "agent_gaps": list(report.agent_gaps),
        "taught_by_runs": {"count": len(report.taught), "lessons": dict(sorted(report.taught.items()))},
    }
