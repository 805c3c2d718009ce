"""`regex`: a line must not match a regular expression (level 3 only).

A regex sees text, not code: it fires inside comments and strings and misses a
call split over two lines, so it is not structural and the promote gate keeps it at
level 3 (a warning). Use `pattern` or a libcst template for a rule that must block.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ladder.errors import LadderError
from ladder.lesson import Case
from ladder.rules.templates._args import Arg, bad_arg, check_args

NAME = "regex"
# RE2 (google-re2) runs in time linear in the line: a lesson's regex cannot hang a commit
# (Python's `re` backtracks: `^(a+)+$` on 34 characters took minutes). `a` is accepted
# for older lessons: RE2's `\w`, `\d` and `\b` are ASCII already.
FLAGS = ("i", "a")
ARGS = (
    Arg("regex", "str", "a regular expression (RE2 syntax: no lookaround or backreferences) "
        "searched in each line", r'"print\\("'),
    Arg("message", "str", "the message shown when the rule fires", '"use logging"', required=False),
    Arg("flags", "str", "letters among ia (i: ignore case)", '"i"', required=False),
)
# The regex arguments are not stripped: leading/trailing spaces can be meaningful.
_RAW = ("regex",)


class LineMatch(Protocol):
    def start(self) -> int: ...


class LineRegex(Protocol):
    def search(self, text: str) -> LineMatch | None: ...


def compile_regex(args: Mapping[str, Any], where: str = "") -> LineRegex:
    """The lesson's compiled regex (RE2: linear time), or LadderError naming the argument."""
    import re2  # google-re2

    options = re2.Options()
    options.log_errors = False  # the error is ours to report, in one line
    for letter in str(args.get("flags", "")):
        if letter not in FLAGS:
            raise bad_arg(NAME, ARGS[2], f"has unknown flag {letter!r}", where)
        if letter == "i":
            options.case_sensitive = False
    try:
        compiled: LineRegex = re2.compile(str(args["regex"]), options)
    except re2.error as exc:
        reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else exc
        raise LadderError(
            f"rule argument 'regex' of template {NAME!r} is not a regular expression RE2 can run: "
            f"{reason}",
            where=where,
            todo="RE2 runs in linear time, so it has no lookaround or backreferences: rewrite "
                 "the regex, or use a `pattern` (semgrep) rule",
        ) from None
    return compiled


def _literal(regex: str) -> str | None:
    """The text a regex matches when it has no special characters (`eval(` escaped)."""
    text = re.sub(r"\\(.)", r"\1", regex)
    if re.escape(text) == regex or not re.search(r"[\\.^$*+?{}\[\]|()]", regex):
        return text
    return None


@dataclass(frozen=True)
class Regex:
    name: str = NAME
    engine: str = "regex"
    structural: bool = False  # text, not code: level 3 only
    summary: str = "A line must not match a regular expression (level 3 only: not structural)."

    def validate(self, args: Mapping[str, Any], where: str) -> dict[str, Any]:
        out = check_args(self.name, ARGS, args, where)
        if isinstance(args.get("regex"), str):
            out["regex"] = args["regex"]  # unstripped
        compile_regex(out, where)
        return out

    def generated_cases(self, args: Mapping[str, Any]) -> tuple[tuple[Case, ...], tuple[Case, ...]]:
        regex = compile_regex(args)
        allow = (Case("pass\n", note="a line without the pattern"),) if not regex.search("pass") else ()
        literal = _literal(str(args["regex"]))
        if literal is None or "\n" in literal or not regex.search(literal):
            return (), allow  # no safe example of an arbitrary regex: give a block case
        return (Case(literal + "\n", note="the regex's literal text"),), allow

    def describe(self, args: Mapping[str, Any]) -> str:
        text = f"No line may match the regular expression `{args['regex']}`."
        if args.get("message"):
            text += f" {args['message']}"
        return text


TEMPLATE = Regex()
