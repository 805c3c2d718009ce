"""`protect`: paths no commit may modify — the evaluator, the data.

Diff-aware: it looks at what a change does to files, not at their text. Adding,
modifying, deleting or renaming a protected file (into or out of a protected path)
all count. The lesson's own `paths` do not scope it; the protected globs do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ladder.globs import matches
from ladder.lesson import Case
from ladder.rules.templates._args import Arg, bad_arg, check_args

NAME = "protect"
PATHS = Arg(
    "paths", "list", "a list of globs (or one comma-separated string)", '["evaluate.py", "data/**"]'
)
ARGS = (
    Arg("message", "str", "why the paths are protected", '"the evaluator is ground truth"', required=False),
    # The lesson `ladder agent run` generates protects everything but the editable
    # files from the agent; people still commit there freely.
    Arg("agent_only", "bool", "guard only commits made by the agent loop (LADDER_AGENT=1)", "true",
        required=False),
)


def protected_globs(value: object, where: str) -> list[str]:
    """`["a.py", "data/**"]` or `"a.py,data/**"` (the CLI's `paths=a.py,data/**`) as a list."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_arg(NAME, PATHS, f"is {value!r}", where)
    globs = [v.strip() for v in value if v.strip()]
    if not globs:
        raise bad_arg(NAME, PATHS, "is empty", where)
    return globs


def example_path(glob: str) -> str:
    """A path the glob matches: `evaluate.py` as is, `data/**` -> `data/x`, `*.csv` -> `x.csv`."""
    path = re.sub(r"\*\*/?", "x/", glob.lstrip("/!"))
    path = re.sub(r"[*?]", "x", path).rstrip("/")
    path = re.sub(r"\[[^\]]*\]", "x", path)
    return path or "x"


@dataclass(frozen=True)
class Protect:
    name: str = NAME
    engine: str = "diff"
    structural: bool = True
    summary: str = "Paths no commit may add, modify, delete or rename (the evaluator, the data)."

    def validate(self, args: Mapping[str, Any], where: str) -> dict[str, Any]:
        if "paths" not in args:
            raise bad_arg(NAME, PATHS, "is missing", where)
        out = check_args(self.name, ARGS, {k: v for k, v in args.items() if k != "paths"}, where)
        out["paths"] = protected_globs(args["paths"], where)
        return out

    def generated_cases(self, args: Mapping[str, Any]) -> tuple[tuple[Case, ...], tuple[Case, ...]]:
        globs = protected_globs(args["paths"], "")
        included = [g for g in globs if not g.startswith("!")]
        block: tuple[Case, ...] = ()
        if included:
            path = example_path(included[0])
            if matches(path, globs):
                block = (Case("", path=path, note="a change to a protected path"),)
        allow: tuple[Case, ...] = ()
        # A path an exclusion carves out (`!train.py`) is the natural allowed change.
        carved = [example_path(g[1:]) for g in globs if g.startswith("!")]
        for candidate in (*carved, "unprotected.py", "src/ladder_allow_case.py", "zz-ladder-allow-case.txt"):
            if not matches(candidate, globs):
                allow = (Case("", path=candidate, note="a change elsewhere"),)
                break
        return block, allow

    def describe(self, args: Mapping[str, Any]) -> str:
        names = ", ".join(f"`{g}`" for g in args["paths"])
        who = "No commit by the agent" if args.get("agent_only") else "No commit"
        text = f"{who} may add, modify, delete or rename {names}."
        if args.get("message"):
            text += f" {args['message']}"
        return text


TEMPLATE = Protect()
