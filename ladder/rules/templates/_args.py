"""Declarative template arguments: one table says what each template accepts.

Every template validates its `[rule]` table the same way, so a missing, unknown or
mistyped argument always produces the same kind of line: the argument, the template,
what was expected, and an example.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ladder.errors import LadderError

DOTTED_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Arg:
    """One template argument: its name, kind ("str", "dotted", "ident", "number", "list", "bool"), doc."""

    name: str
    kind: str
    doc: str  # what is expected, e.g. "the dotted name of the call to forbid"
    example: str
    required: bool = True
    choices: tuple[str, ...] = ()


def bad_arg(template: str, arg: Arg | str, problem: str, where: str) -> LadderError:
    name = arg if isinstance(arg, str) else arg.name
    expected = "" if isinstance(arg, str) else f": expected {arg.doc}, e.g. {arg.name} = {arg.example}"
    return LadderError(
        f"rule argument {name!r} of template {template!r} {problem}{expected}",
        where=where,
        todo="fix the [rule] table of the lesson, or pass `--rule TEMPLATE KEY=VALUE ...` to `ladder promote`",
    )


def _number(value: object) -> float | int | None:
    # `ladder promote --rule bound value=0.05` passes strings: accept numeric text.
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        text = value.strip()
        for convert in (int, float):
            try:
                return convert(text)
            except ValueError:
                continue
    return None


def _convert(template: str, arg: Arg, value: object, where: str) -> object:
    if arg.kind == "number":
        number = _number(value)
        if number is None:
            raise bad_arg(template, arg, f"is {value!r}", where)
        return number
    if arg.kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise bad_arg(template, arg, f"is {value!r}, not true or false", where)
    if arg.kind == "list":
        # A TOML array, or the CLI's `KEY=a,b` as one comma-separated string.
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
            raise bad_arg(template, arg, f"is {value!r}", where)
        stripped = [v.strip() for v in items if v.strip()]
        if not stripped:
            raise bad_arg(template, arg, "is empty", where)
        return stripped
    if not isinstance(value, str) or not value.strip():
        raise bad_arg(template, arg, f"is {value!r}", where)
    text = value.strip()
    if arg.kind == "dotted" and not DOTTED_RE.match(text):
        raise bad_arg(template, arg, f"is {text!r}, not a dotted Python name", where)
    if arg.kind == "ident" and not IDENT_RE.match(text):
        raise bad_arg(template, arg, f"is {text!r}, not a Python identifier", where)
    if arg.choices and text not in arg.choices:
        raise bad_arg(template, arg, f"is {text!r}, not one of {', '.join(arg.choices)}", where)
    return text


def check_args(
    template: str, spec: Sequence[Arg], args: Mapping[str, Any], where: str
) -> dict[str, Any]:
    """Normalised arguments (stripped strings, numbers from numeric text), or LadderError."""
    known = {a.name: a for a in spec}
    for name in args:
        if name not in known:
            raise LadderError(
                f"unknown rule argument {name!r} for template {template!r}",
                where=where,
                todo=f"template {template!r} accepts: {', '.join(known) or 'no arguments'}",
            )
    out: dict[str, Any] = {}
    for arg in spec:
        if arg.name not in args:
            if arg.required:
                raise bad_arg(template, arg, "is missing", where)
            continue
        out[arg.name] = _convert(template, arg, args[arg.name], where)
    return out
