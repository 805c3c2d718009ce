"""The lesson model: one operational rule learned the hard way, and its level.

A lesson is stored as one TOML file, `.ladder/lessons/<id>.toml`, so it is reviewed in
pull requests like code. Parsing validates every field and reports the file, the field
and what was expected; nothing here writes half a file (see `ladder.store`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from ladder.errors import LadderError

LEVEL_NAMES = {1: "note", 2: "prompt", 3: "lint", 4: "check", 5: "hook"}
MIN_LEVEL, MAX_LEVEL = 1, 5
RULE_LEVEL = 3  # from the lint rule up, a level is enforced by the lesson's `[rule]`
STATUSES = ("active", "deprecated")
ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")

_LESSON_KEYS = {
    "id",
    "title",
    "why",
    "level",
    "tags",
    "paths",
    "source",
    "rule",
    "history",
    "status",
}
_CASE_KEYS = {"code", "path", "note"}
_HISTORY_KEYS = {"from", "to", "when", "why"}


@dataclass(frozen=True)
class Case:
    """A snippet a rule must flag (block) or accept (allow)."""

    code: str
    path: str = "case.py"  # the file name the snippet is checked as
    note: str = ""


@dataclass(frozen=True)
class Rule:
    template: str
    args: Mapping[str, Any] = field(default_factory=dict)  # template arguments
    block: tuple[Case, ...] = ()
    allow: tuple[Case, ...] = ()


@dataclass(frozen=True)
class LevelChange:
    from_level: int
    to_level: int
    when: str  # ISO 8601, UTC
    why: str


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    why: str
    level: int = 1
    tags: tuple[str, ...] = ()
    paths: tuple[str, ...] = ("**",)
    source: str = ""
    rule: Rule | None = None
    history: tuple[LevelChange, ...] = ()
    status: str = "active"

    @property
    def level_name(self) -> str:
        return LEVEL_NAMES[self.level]

    @property
    def structural(self) -> bool:
        """Levels 3-5 are enforced by a machine; 1-2 rely on a reader."""
        return self.level >= 3

    def with_level(self, to: int, why: str, when: str | None = None) -> Lesson:
        change = LevelChange(self.level, to, when or now_iso(), why)
        return replace(self, level=to, history=(*self.history, change))


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


SLUG_MAX = 60


def slugify(title: str) -> str:
    """An id from a title: lowercase words joined by `-`, at most SLUG_MAX characters,
    cut between words, never inside one (issue 14: ids cut mid-word read as typos)."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    if len(slug) > SLUG_MAX:
        cut = slug[: SLUG_MAX + 1]
        slug = cut[: cut.rfind("-")] if "-" in cut else slug[:SLUG_MAX]
    return slug.rstrip("-") or "lesson"


# --- parsing -----------------------------------------------------------------------


def _bad(where: str, field_name: str, expected: str, got: object = None) -> LadderError:
    got_text = "" if got is None else f", got {got!r}"
    return LadderError(
        f"field {field_name!r}: expected {expected}{got_text}",
        where=where,
        todo="fix the lesson file or recreate it with `ladder add`",
    )


def _str(
    data: Mapping[str, Any], key: str, where: str, *, required: bool, default: str = ""
) -> str:
    if key not in data:
        if required:
            raise _bad(where, key, "a string (the field is required)")
        return default
    value = data[key]
    if not isinstance(value, str):
        raise _bad(where, key, "a string", value)
    return value


def _str_list(
    data: Mapping[str, Any], key: str, where: str, default: tuple[str, ...]
) -> tuple[str, ...]:
    if key not in data:
        return default
    value = data[key]
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(where, key, "a list of strings", value)
    return tuple(value)


def _level(value: object, where: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_LEVEL <= value <= MAX_LEVEL:
        raise _bad(where, key, f"an integer from {MIN_LEVEL} to {MAX_LEVEL}", value)
    return value


def _cases(raw: object, where: str, key: str) -> tuple[Case, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise _bad(where, key, "an array of tables ([[rule.block]] with `code = ...`)", raw)
    cases = []
    for i, item in enumerate(raw):
        name = f"{key}[{i}]"
        if isinstance(item, str):
            cases.append(Case(code=item))
            continue
        if not isinstance(item, dict):
            raise _bad(where, name, "a table with a `code` string", item)
        unknown = set(item) - _CASE_KEYS
        if unknown:
            raise _bad(where, f"{name}.{sorted(unknown)[0]}", f"one of {sorted(_CASE_KEYS)}")
        cases.append(
            Case(
                code=_str(item, "code", where, required=True),
                path=_str(item, "path", where, required=False, default="case.py"),
                note=_str(item, "note", where, required=False),
            )
        )
    return tuple(cases)


def parse_rule(raw: object, where: str) -> Rule:
    if not isinstance(raw, dict):
        raise _bad(where, "rule", "a table ([rule] with `template = ...`)", raw)
    template = raw.get("template")
    if not isinstance(template, str) or not template:
        raise _bad(where, "rule.template", "a template name string", template)
    args = {k: v for k, v in raw.items() if k not in ("template", "block", "allow")}
    return Rule(
        template=template,
        args=args,
        block=_cases(raw.get("block"), where, "rule.block"),
        allow=_cases(raw.get("allow"), where, "rule.allow"),
    )


def _history(raw: object, where: str) -> tuple[LevelChange, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise _bad(where, "history", "an array of tables ([[history]])", raw)
    out = []
    for i, item in enumerate(raw):
        name = f"history[{i}]"
        if not isinstance(item, dict) or not set(item) >= _HISTORY_KEYS:
            raise _bad(where, name, "a table with from, to, when and why", item)
        out.append(
            LevelChange(
                from_level=_level(item["from"], where, f"{name}.from") if item["from"] != 0 else 0,
                to_level=_level(item["to"], where, f"{name}.to"),
                when=str(item["when"]),
                why=_str(item, "why", where, required=True),
            )
        )
    return tuple(out)


def lesson_from_dict(data: Mapping[str, Any], where: str, stem: str | None = None) -> Lesson:
    """Validate a parsed TOML table into a Lesson; `where` names the file in errors."""
    unknown = set(data) - _LESSON_KEYS
    if unknown:
        raise _bad(where, sorted(unknown)[0], f"a known field ({', '.join(sorted(_LESSON_KEYS))})")
    lesson_id = _str(data, "id", where, required=True)
    if not ID_RE.match(lesson_id):
        raise _bad(where, "id", "lowercase letters, digits, '.', '_' or '-'", lesson_id)
    if stem is not None and lesson_id != stem:
        raise _bad(where, "id", f"the file name's stem {stem!r}", lesson_id)
    status = _str(data, "status", where, required=False, default="active")
    if status not in STATUSES:
        raise _bad(where, "status", f"one of {', '.join(STATUSES)}", status)
    # Enforcement that cannot work is refused here, not listed as enforced (fail closed).
    paths = _str_list(data, "paths", where, ("**",))
    if not paths:
        raise _bad(where, "paths", "at least one glob (an empty list applies the lesson to "
                   "nothing; leave the field out for every file)", [])
    level = _level(data.get("level", 1), where, "level")
    if level >= RULE_LEVEL and "rule" not in data:
        raise _bad(where, "rule", f"a [rule] table: a lesson at level {level} is enforced by "
                   "its rule (`ladder promote ID --to LEVEL --rule TEMPLATE ...`), or lower "
                   "its level")
    return Lesson(
        id=lesson_id,
        title=_str(data, "title", where, required=True),
        why=_str(data, "why", where, required=True),
        level=level,
        tags=_str_list(data, "tags", where, ()),
        paths=paths,
        source=_str(data, "source", where, required=False),
        rule=parse_rule(data["rule"], where) if "rule" in data else None,
        history=_history(data.get("history"), where),
        status=status,
    )


# --- serialising -------------------------------------------------------------------


def _case_dict(case: Case) -> dict[str, str]:
    out = {"code": case.code}
    if case.path != "case.py":
        out["path"] = case.path
    if case.note:
        out["note"] = case.note
    return out


def rule_to_dict(rule: Rule) -> dict[str, Any]:
    out: dict[str, Any] = {"template": rule.template, **dict(rule.args)}
    if rule.block:
        out["block"] = [_case_dict(c) for c in rule.block]
    if rule.allow:
        out["allow"] = [_case_dict(c) for c in rule.allow]
    return out


def lesson_to_dict(lesson: Lesson) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": lesson.id,
        "title": lesson.title,
        "why": lesson.why,
        "level": lesson.level,
        "tags": list(lesson.tags),
        "paths": list(lesson.paths),
        "source": lesson.source,
    }
    if lesson.status != "active":
        out["status"] = lesson.status
    if lesson.rule is not None:
        out["rule"] = rule_to_dict(lesson.rule)
    if lesson.history:
        out["history"] = [
            {"from": h.from_level, "to": h.to_level, "when": h.when, "why": h.why}
            for h in lesson.history
        ]
    return out
