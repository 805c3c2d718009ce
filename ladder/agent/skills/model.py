"""The skill record: one proven pattern of change, its evidence, its usage and its life.

A skill is stored as one TOML file, `.ladder/skills/<id>.toml`, reviewed like code:

    id, title, status (active | deprecated), reason (why deprecated), version, tags
    [pattern]      what the change does (see `pattern_key`)
    [usage]        applications, successes, since_success, recent
    [[history]]    version, when, why -- one entry per version
    [[evidence]]   run, iteration, commit, effect, ci, description -- one per verified keep

The version bumps whenever the pattern, the evidence or the status changes, each bump
with its history entry. Usage counters are statistics, updated in place without a bump
(a skill applied a hundred times would otherwise carry a hundred versions that say
nothing).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ladder.errors import LadderError
from ladder.lesson import ID_RE, now_iso

STATUSES = ("active", "deprecated")
PATTERN_KINDS = ("mutate", "edit")
RECENT = 10  # outcomes kept since the last success (the deprecation test reads them)

_KEYS = {"id", "title", "pattern", "tags", "version", "history", "evidence", "usage", "status",
         "reason"}


@dataclass(frozen=True)
class Evidence:
    """One verified keep that showed the pattern works."""

    run: str
    iteration: int
    commit: str
    effect: float  # improvement of the target, positive = better, in the metric's units
    ci: tuple[float, float] | None = None  # confidence interval of the effect, when known
    description: str = ""


@dataclass(frozen=True)
class Version:
    version: int
    when: str  # ISO 8601, UTC
    why: str


@dataclass(frozen=True)
class Usage:
    applications: int = 0  # evaluated proposals that applied the pattern
    successes: int = 0  # ... of which were verified keeps
    since_success: int = 0  # applications since the last verified keep
    recent: tuple[float, ...] = ()  # their improvements (crashes have none), newest last

    @property
    def failures(self) -> int:
        return self.applications - self.successes


@dataclass(frozen=True)
class Skill:
    id: str
    title: str
    pattern: Mapping[str, Any]
    tags: tuple[str, ...] = ()
    version: int = 1
    history: tuple[Version, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    usage: Usage = field(default_factory=Usage)
    status: str = "active"
    reason: str = ""

    @property
    def key(self) -> str:
        return pattern_key(self.pattern)

    @property
    def active(self) -> bool:
        return self.status == "active"

    def bumped(self, why: str, when: str | None = None, **changes: Any) -> Skill:
        """The next version, with `changes` applied and `why` in its history."""
        version = self.version + 1
        entry = Version(version, when or now_iso(), why)
        return replace(self, version=version, history=(*self.history, entry), **changes)


def pattern_key(pattern: Mapping[str, Any]) -> str:
    """What identifies a pattern: two keeps with the same key are the same skill.

    `mutate`: the kind of change, its scope, symbol and direction ("raise LR"), whatever
    the operator (scale or shift) or the file. `edit`: the sorted set of changed symbols
    with the kind of each change.
    """
    if pattern.get("kind") == "mutate":
        parts = [pattern.get(k, "") for k in ("change", "function", "symbol", "direction")]
        return "mutate|" + "|".join(str(p) for p in parts)
    changes = sorted({f"{c.get('symbol', '')}:{c.get('change', '')}" for c in pattern.get("changes", [])})
    return "edit|" + ";".join(changes)


# --- parsing -------------------------------------------------------------------------


def _bad(where: str, name: str, expected: str, got: object = None) -> LadderError:
    got_text = "" if got is None else f", got {got!r}"
    return LadderError(
        f"field {name!r}: expected {expected}{got_text}",
        where=where,
        todo="fix the skill file, or remove it (`ladder skills list` re-checks them)",
    )


def _int(data: Mapping[str, Any], key: str, where: str, least: int, default: int | None = None) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise _bad(where, key, f"an integer >= {least}", value)
    return value


def _str(data: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise _bad(where, key, "a string" + ("" if default is not None else " (required)"), value)
    return value


def _number(value: object, where: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _bad(where, key, "a finite number", value)
    return float(value)


def _table_list(data: Mapping[str, Any], key: str, where: str) -> list[Mapping[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _bad(where, key, "an array of tables", value)
    return value


def _pattern(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(where, "pattern", "a table ([pattern] with kind = ...)", value)
    kind = value.get("kind")
    if kind not in PATTERN_KINDS:
        raise _bad(where, "pattern.kind", f"one of {', '.join(PATTERN_KINDS)}", kind)
    if kind == "mutate":
        for key in ("change", "symbol", "direction"):
            _str(value, key, f"{where} [pattern]")
    else:
        changes = _table_list(value, "changes", f"{where} [pattern]")
        if not changes:
            raise _bad(where, "pattern.changes", "at least one {symbol, change} table")
    return dict(value)


def _evidence(item: Mapping[str, Any], where: str) -> Evidence:
    ci = item.get("ci")
    interval: tuple[float, float] | None = None
    if ci is not None:
        if not isinstance(ci, list) or len(ci) != 2:
            raise _bad(where, "evidence.ci", "a list [low, high]", ci)
        interval = (_number(ci[0], where, "evidence.ci"), _number(ci[1], where, "evidence.ci"))
    return Evidence(
        run=_str(item, "run", where),
        iteration=_int(item, "iteration", where, 0),
        commit=_str(item, "commit", where, ""),
        effect=_number(item.get("effect"), where, "evidence.effect"),
        ci=interval,
        description=_str(item, "description", where, ""),
    )


def _usage(value: object, where: str) -> Usage:
    if value is None:
        return Usage()
    if not isinstance(value, dict):
        raise _bad(where, "usage", "a table", value)
    recent = value.get("recent", [])
    if not isinstance(recent, list):
        raise _bad(where, "usage.recent", "a list of numbers", recent)
    usage = Usage(
        applications=_int(value, "applications", where, 0, 0),
        successes=_int(value, "successes", where, 0, 0),
        since_success=_int(value, "since_success", where, 0, 0),
        recent=tuple(_number(v, where, "usage.recent") for v in recent),
    )
    if usage.successes > usage.applications:
        raise _bad(where, "usage.successes", "at most usage.applications", usage.successes)
    return usage


def skill_from_dict(data: Mapping[str, Any], where: str, stem: str | None = None) -> Skill:
    """Validate a parsed TOML table into a Skill; `where` names the file in errors."""
    unknown = set(data) - _KEYS
    if unknown:
        raise _bad(where, sorted(unknown)[0], f"a known field ({', '.join(sorted(_KEYS))})")
    skill_id = _str(data, "id", where)
    if not ID_RE.match(skill_id):
        raise _bad(where, "id", "lowercase letters, digits, '.', '_' or '-'", skill_id)
    if stem is not None and skill_id != stem:
        raise _bad(where, "id", f"the file name's stem {stem!r}", skill_id)
    status = _str(data, "status", where, "active")
    if status not in STATUSES:
        raise _bad(where, "status", f"one of {', '.join(STATUSES)}", status)
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise _bad(where, "tags", "a list of strings", tags)
    history = tuple(
        Version(_int(h, "version", where, 1), str(h.get("when", "")), _str(h, "why", where, ""))
        for h in _table_list(data, "history", where)
    )
    return Skill(
        id=skill_id,
        title=_str(data, "title", where),
        pattern=_pattern(data.get("pattern"), where),
        tags=tuple(tags),
        version=_int(data, "version", where, 1, 1),
        history=history,
        evidence=tuple(_evidence(e, where) for e in _table_list(data, "evidence", where)),
        usage=_usage(data.get("usage"), where),
        status=status,
        reason=_str(data, "reason", where, ""),
    )


# --- serialising -----------------------------------------------------------------------


def _evidence_dict(e: Evidence) -> dict[str, Any]:
    out: dict[str, Any] = {"run": e.run, "iteration": e.iteration, "commit": e.commit,
                           "effect": e.effect}
    if e.ci is not None:
        out["ci"] = list(e.ci)
    if e.description:
        out["description"] = e.description
    return out


def skill_to_dict(skill: Skill) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": skill.id,
        "title": skill.title,
        "status": skill.status,
    }
    if skill.reason:
        out["reason"] = skill.reason
    out["version"] = skill.version
    out["tags"] = list(skill.tags)
    out["pattern"] = dict(skill.pattern)
    u = skill.usage
    out["usage"] = {"applications": u.applications, "successes": u.successes,
                    "since_success": u.since_success, "recent": list(u.recent)}
    out["history"] = [{"version": h.version, "when": h.when, "why": h.why} for h in skill.history]
    out["evidence"] = [_evidence_dict(e) for e in skill.evidence]
    return out
