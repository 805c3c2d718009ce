"""`ladder promote ID`: move a lesson up the ladder through each level's gate."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ladder import _toml
from ladder.errors import GateRefused, LadderError
from ladder.lesson import LEVEL_NAMES, MAX_LEVEL, Case, Lesson, Rule
from ladder.project import Project
from ladder.store import get_lesson, load_lessons, save_lesson


def parse_value(text: str) -> Any:
    """KEY=VALUE values: numbers, booleans and arrays are read as TOML; anything else is
    kept verbatim, quotes included, because semgrep patterns such as `"--validate"`
    mean the quotes."""
    try:
        value = _toml.loads(f"v = {text}", "argument")["v"]
    except LadderError:
        return text
    return text if isinstance(value, str) else value


def parse_rule_args(pairs: Sequence[str]) -> dict[str, Any]:
    args: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise LadderError(
                f"rule argument {pair!r} is not KEY=VALUE",
                todo="e.g. --rule require-call function=generate calls=validate_input",
            )
        args[key.strip()] = parse_value(value)
    return args


def read_code(text: str) -> str:
    """A case given on the command line: @FILE reads a file; a literal \\n is a newline."""
    if text.startswith("@"):
        try:
            return Path(text[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise LadderError(f"cannot read case file: {exc.strerror}", where=text[1:]) from None
    if "\\n" in text and "\n" not in text:
        text = text.replace("\\n", "\n").replace("\\t", "\t")
    return text if text.endswith("\n") else text + "\n"


def build_rule(
    lesson: Lesson,
    template: str | None,
    rule_args: Sequence[str],
    block: Sequence[str],
    allow: Sequence[str],
) -> Rule | None:
    """The lesson's rule after applying the command line (a new rule, or new cases)."""
    from ladder.rules.registry import validate_rule, with_generated_cases

    if template is None and rule_args:
        raise LadderError(
            f"rule arguments {' '.join(rule_args)!r} given without --rule TEMPLATE",
            todo="e.g. --rule require-call function=generate calls=validate_input",
        )
    rule = lesson.rule
    if template is not None:
        rule = Rule(template=template, args=parse_rule_args(rule_args))
    if rule is None:
        if block or allow:
            raise LadderError(
                "--block/--allow given but the lesson has no rule", todo="add --rule TEMPLATE ..."
            )
        return None
    if block:
        rule = dataclasses.replace(rule, block=tuple(Case(read_code(c)) for c in block))
    if allow:
        rule = dataclasses.replace(rule, allow=tuple(Case(read_code(c)) for c in allow))
    where = f".ladder/lessons/{lesson.id}.toml [rule]"
    return with_generated_cases(validate_rule(rule, where))


def run(
    project: Project,
    lesson_id: str,
    *,
    to: int | None = None,
    to_max: bool = False,
    template: str | None = None,
    rule_args: Sequence[str] = (),
    block: Sequence[str] = (),
    allow: Sequence[str] = (),
    why: str = "",
) -> int:
    from ladder.levels import compile_all, gate_reasons

    lesson = get_lesson(project, lesson_id)
    candidate = dataclasses.replace(
        lesson, rule=build_rule(lesson, template, rule_args, block, allow)
    )
    target = MAX_LEVEL if to_max else (to if to is not None else lesson.level + 1)
    if target > MAX_LEVEL:
        raise GateRefused(f"lesson {lesson_id!r} is already at level {MAX_LEVEL} (hook)")
    if target <= lesson.level and not to_max:
        raise LadderError(
            f"lesson {lesson_id!r} is at level {lesson.level}; --to {target} is not higher",
            todo="use `ladder demote` to move down",
        )
    reached = lesson.level
    # A new rule must pass the gates of the level the lesson already holds, too.
    first = 3 if candidate.rule != lesson.rule and lesson.level >= 3 else lesson.level + 1
    for level in range(first, target + 1):
        at = min(reached, level - 1)
        reasons = gate_reasons(dataclasses.replace(candidate, level=at), level, project)
        if reasons and level <= lesson.level:
            raise GateRefused(
                f"the new rule of {lesson_id!r} fails the gate of its level {level} "
                f"({LEVEL_NAMES[level]}): " + "; ".join(reasons),
                todo=_todo(level),
            )
        if reasons:
            if to_max and (reached > lesson.level or (reached == lesson.level and candidate.rule != lesson.rule)):
                _report_stop(level, reasons)
                break
            raise GateRefused(
                f"cannot promote {lesson_id!r} to level {level} ({LEVEL_NAMES[level]}): "
                + "; ".join(reasons),
                todo=_todo(level),
            )
        reached = level
    if reached == lesson.level and candidate.rule == lesson.rule:
        print(f"{lesson_id}: stays at level {lesson.level} ({lesson.level_name})")
        return 0
    note = why.strip() or "promoted"
    promoted = candidate if reached == lesson.level else candidate.with_level(reached, note)
    save_lesson(project, promoted)
    written = compile_all(project, load_lessons(project))
    print(
        f"{lesson_id}: level {lesson.level} ({lesson.level_name}) -> {reached} ({LEVEL_NAMES[reached]})"
    )
    for path in written:
        print(f"  wrote {project.rel(path)}")
    return 0


def _report_stop(level: int, reasons: list[str]) -> None:
    import sys

    print(
        f"stopped below level {level} ({LEVEL_NAMES[level]}): {'; '.join(reasons)}", file=sys.stderr
    )


def _todo(level: int) -> str:
    return {
        3: "give a rule: --rule TEMPLATE KEY=VALUE ...",
        4: "use a structural template and make its --block/--allow cases pass (`ladder test ID`)",
        5: "install hooks (`ladder hooks install`), fix what the rule flags, or keep it at level 4",
    }.get(level, "see `ladder promote --help`")
