"""The audit as data: what `ladder audit` measures, before any rendering.

The shares have one definition, before and after `ladder adopt` (issue 13: adopting
moved pydantic-ai from 9.1% prose to 100% with nothing changed in what is enforced).
They count constraints:
- every rule: each active lesson, and each prose rule found outside `.ladder/` that is
  not a lesson yet (the same text in two files counts once);
- every check no rule names: one per tool or rule a hook, CI step or configuration
  runs, however many hooks and steps run it (a check a rule names is that rule's
  enforcement, not a second constraint).
A constraint's level is the deepest of its own (a lesson's level; 2 for an agent file,
1 for CONTRIBUTING) and that of the check shown to enforce it (`Evidence`). Prose is
levels 1-2: `prose_share` is prose constraints over all of them, and `--max-prose`
compares it. Adopting a rule as a level-1 note leaves it prose (it counted at 2 before:
prose too); only enforcement (a promotion to 3-5, a check that runs what the rule
names) moves it. `structural_share` is 1 - `prose_share` (0.0 when there is nothing).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ladder.audit.inventory import PROSE, InventoryItem, adopted_by, inventory, norm
from ladder.errors import LadderError
from ladder.lesson import LEVEL_NAMES, MAX_LEVEL, MIN_LEVEL, Lesson
from ladder.project import Project

SCHEMA_VERSION = 2  # 2: one prose share over constraints; checks counted by tool


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
class Constraint:
    """One unit of the shares: a rule (a lesson, or a prose rule not adopted yet) or a
    check that no rule names."""

    name: str  # the rule's text, or the check (ruff, no-commit-to-branch, semgrep:no-eval)
    level: int  # the deepest of its own level and the level of what enforces it
    origin: str  # lesson | prose | check
    where: str  # the lesson id, or FILE:LINE


@dataclass(frozen=True)
class AuditReport:
    initialized: bool
    lessons: tuple[LessonRow, ...]
    levels: Mapping[int, int]  # active lessons per level, 1..5
    prose_share: float
    structural_share: float
    constraints: tuple[Constraint, ...]
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
    units = constraints(active, items, adopted)
    prose = _share(sum(1 for c in units if c.level < 3), len(units))
    surfaces, agent_gaps = _surfaces(project, lessons)
    return AuditReport(
        initialized=project.initialized,
        lessons=tuple(
            LessonRow(x.id, x.level, x.level_name, x.title, x.status, fires.get(x.id, 0), suppressions.get(x.id, 0))
            for x in lessons
        ),
        levels=levels,
        prose_share=prose,
        structural_share=round(1.0 - prose, 4) if units else 0.0,
        constraints=tuple(units),
        promotable=tuple(promotion(x, project) for x in active if x.level < MAX_LEVEL),
        broken=tuple(broken(project, lessons)) if project.initialized else (),
        suppressions=suppressions,
        fires=fires,
        inventory=tuple(items),
        adopted=adopted,
        gaps=tuple(gaps(items, active, adopted)),
        totals=_totals(units, items, adopted),
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


def constraints(active: Sequence[Lesson], items: Sequence[InventoryItem], adopted: Mapping[str, str]) -> list[Constraint]:
    """The units the shares count (see the module docstring)."""
    enforced: dict[str, int] = {}  # lesson id -> deepest evidence of the rule it adopted
    cited: set[str] = set()  # checks some rule names: they are that rule's enforcement
    for item in items:
        if item.kind == PROSE and item.evidence:
            cited.update(item.evidence.tools)
            lesson = adopted.get(item.location)
            if lesson:
                enforced[lesson] = max(enforced.get(lesson, 0), item.evidence.level)
    out = [Constraint(x.title, max(x.level, enforced.get(x.id, 0)), "lesson", x.id) for x in active]
    out += _prose_rules(items, adopted)
    out += [Constraint(tool, level, "check", where) for tool, (level, where) in _checks(items).items() if tool not in cited]
    return out


def _prose_rules(items: Sequence[InventoryItem], adopted: Mapping[str, str]) -> list[Constraint]:
    """Prose rules not adopted yet, one per text (AGENTS.md and CLAUDE.md often agree)."""
    out: dict[str, Constraint] = {}
    for item in items:
        if item.kind != PROSE or item.location in adopted:
            continue
        level = max(item.level, item.evidence.level if item.evidence else 0)
        known = out.get(norm(item.text))
        if known is None or level > known.level:
            out[norm(item.text)] = Constraint(item.text, level, "prose", item.location)
    return list(out.values())


def _checks(items: Sequence[InventoryItem]) -> dict[str, tuple[int, str]]:
    """Each check run outside `.ladder/` -> (deepest level it runs at, where): ruff run by
    a hook and by three CI steps is one check, at level 5."""
    out: dict[str, tuple[int, str]] = {}
    for item in items:
        for tool in item.runs if item.kind != PROSE else ():
            if tool not in out or item.level > out[tool][0]:
                out[tool] = (item.level, item.location)
    return out


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _totals(units: Sequence[Constraint], items: Sequence[InventoryItem], adopted: Mapping[str, str]) -> dict[str, Any]:
    by_level = {str(n): 0 for n in range(MIN_LEVEL, MAX_LEVEL + 1)}
    for unit in units:
        by_level[str(unit.level)] += 1
    prose = [i for i in items if i.kind == PROSE]
    return {
        "constraints": len(units),
        "prose": sum(1 for c in units if c.level < 3),
        "structural": sum(1 for c in units if c.level >= 3),
        "lessons": sum(1 for c in units if c.origin == "lesson"),
        "prose_rules": len(prose),
        "enforced_rules": sum(1 for i in prose if i.evidence),
        "adopted": len(adopted),
        "checks": len(_checks(items)),
        "checks_no_rule_names": sum(1 for c in units if c.origin == "check"),
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
    """Prose rules nothing structural enforces.

    A rule is enforced when it was adopted as a lesson now at level 3 or above, or when a
    check is shown to enforce it (its `evidence`: it names a tool, command, rule code or
    test that a hook, CI step or configuration runs). Ladder lessons still at levels
    1-2 are gaps too.
    """
    levels = {x.id: x.level for x in active}
    out = []
    seen: set[str] = set()  # one gap per lesson, even when its rule is in two files
    for item in items:
        if item.kind != PROSE or item.evidence:
            continue
        lesson = adopted.get(item.location, "")
        if lesson and (levels.get(lesson, 0) >= 3 or lesson in seen):
            continue
        seen.add(lesson)
        step = f"`ladder promote {lesson} --max`" if lesson else "`ladder adopt`, then `ladder promote ID --max`"
        out.append(Gap(item.text, item.location, lesson, step))
    adopted_ids = set(adopted.values())
    for x in active:
        if not x.structural and x.id not in adopted_ids:
            out.append(Gap(x.title, f".ladder/lessons/{x.id}.toml", x.id, f"`ladder promote {x.id} --max`"))
    return out


# --- JSON --------------------------------------------------------------------------


def to_dict(report: AuditReport) -> dict[str, Any]:
    """The JSON document: stable keys, in a stable order (scripts and CI read it)."""
    return {
        "schema": SCHEMA_VERSION,
        "initialized": report.initialized,
        "prose_share": report.prose_share,
        "structural_share": report.structural_share,
        "definitions": {
            "constraint": "an active lesson, a prose rule found outside .ladder/ not adopted yet "
            "(one per text), or a check (a tool or rule run by a hook, CI step or configuration, "
            "counted once) that no rule names",
            "level": "the deepest of the constraint's own level and that of the check shown to enforce it",
            "prose_share": "constraints at levels 1-2 over all constraints; --max-prose compares this. "
            "Adopting prose rules as level-1 lessons does not change it; enforcing them does",
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
        "inventory": [_item_dict(i, report.adopted.get(i.location)) for i in report.inventory],
        "checks": [
            {"name": c.name, "level": c.level, "where": c.where}
            for c in sorted(_check_units(report), key=lambda c: (-c.level, c.name))
        ],
        "gaps": [dataclasses.asdict(g) for g in report.gaps],
        "totals": dict(report.totals),
        "surfaces": {k: list(v) for k, v in sorted(report.surfaces.items())},
        "agent_gaps": list(report.agent_gaps),
        "taught_by_runs": {"count": len(report.taught), "lessons": dict(sorted(report.taught.items()))},
    }


def _item_dict(item: InventoryItem, adopted_as: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "source": item.source,
        "line": item.line,
        "text": item.text,
        "kind": item.kind,
        "level": item.level,
        "tool": item.tool,
    }
    if item.kind == PROSE:
        evidence = item.evidence
        out["rule_class"] = item.reason
        out["enforced_by"] = dataclasses.asdict(evidence) if evidence else None
        out["adopted_as"] = adopted_as
    else:
        out["runs"] = list(item.runs)
    return out


def _check_units(report: AuditReport) -> list[Constraint]:
    """Every check run outside .ladder/, named by a rule or not (from the inventory)."""
    return [Constraint(tool, level, "check", where) for tool, (level, where) in _checks(report.inventory).items()]
