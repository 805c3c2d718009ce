"""Every rule template and engine, by name: the one place to look them up.

A lesson's `[rule] template = "..."` names a template; the template names the engine
that runs it. Adding a template is one module under `ladder/rules/templates/` and one
line here. Nothing imported here imports libcst or semgrep at module import time.
"""

from __future__ import annotations

from dataclasses import replace

from ladder.errors import LadderError
from ladder.lesson import Lesson, Rule
from ladder.rules import diff_engine, libcst_engine, regex_engine, semgrep_engine
from ladder.rules.base import Engine, Template
from ladder.rules.templates import (
    bound,
    custom,
    forbid_call,
    forbid_import,
    pattern,
    protect,
    regex,
    require_call,
)

TEMPLATES: dict[str, Template] = {
    "forbid-call": forbid_call.TEMPLATE,
    "forbid-import": forbid_import.TEMPLATE,
    "require-call": require_call.TEMPLATE,
    "bound": bound.TEMPLATE,
    "protect": protect.TEMPLATE,
    "pattern": pattern.TEMPLATE,
    "regex": regex.TEMPLATE,
    "custom": custom.TEMPLATE,
}

ENGINES: dict[str, Engine] = {
    "libcst": libcst_engine.ENGINE,
    "semgrep": semgrep_engine.ENGINE,
    "regex": regex_engine.ENGINE,
    "diff": diff_engine.ENGINE,
}


def lesson_where(lesson: Lesson) -> str:
    """Where a lesson's errors point: its file."""
    return f".ladder/lessons/{lesson.id}.toml"


def get_template(name: str, where: str) -> Template:
    template = TEMPLATES.get(name)
    if template is None:
        raise LadderError(
            f"unknown rule template {name!r}",
            where=where,
            todo=f"use one of: {', '.join(TEMPLATES)}",
        )
    return template


def get_engine(template: Template) -> Engine:
    return ENGINES[template.engine]


def validate_rule(rule: Rule, where: str) -> Rule:
    """The rule with normalised arguments, or LadderError naming the bad argument."""
    template = get_template(rule.template, where)
    return replace(rule, args=template.validate(rule.args, where))


def with_generated_cases(rule: Rule, where: str = "[rule]") -> Rule:
    """The (validated) rule, with generated block/allow cases where it has none of a kind."""
    rule = validate_rule(rule, where)
    if rule.block and rule.allow:
        return rule
    block, allow = get_template(rule.template, where).generated_cases(rule.args)
    return replace(rule, block=rule.block or block, allow=rule.allow or allow)


def describe(rule: Rule, where: str = "[rule]") -> str:
    """What the rule enforces, in one sentence, for the lessons document and prompts."""
    rule = validate_rule(rule, where)
    return get_template(rule.template, where).describe(rule.args)
