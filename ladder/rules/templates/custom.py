"""`custom`: a user's own libcst check class (`ladder.rules.custom.LadderCheck`), by `module:Class`.

The module is imported with the repository root first on sys.path, so
`check = "checks.no_print:NoPrint"` means `<root>/checks/no_print.py`. The class's
VALID and INVALID code strings are the rule's generated allow and block cases.
"""

from __future__ import annotations

import contextlib
import importlib
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ladder.errors import LadderError
from ladder.lesson import Case
from ladder.rules.templates._args import Arg, bad_arg, check_args
from ladder.rules.templates._check import CheckFactory

SPEC_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
ARGS = (Arg("check", "str", "`module:Class` of a LadderCheck subclass", '"checks.no_print:NoPrint"'),)
_TODO = (
    "make `{module}` importable from the repository root (e.g. {path}) with a class "
    "`{cls}(ladder.rules.custom.LadderCheck)`, or fix `check` in the lesson's [rule]"
)
_ATTRIBUTE_HOOK = re.compile(r"^(visit|leave)_[A-Z][A-Za-z]*_[a-z_]+$")


def _error(spec: str, problem: str, where: str) -> LadderError:
    module, _, cls = spec.partition(":")
    path = module.replace(".", "/") + ".py"
    return LadderError(
        f"custom check {spec!r}: {problem}",
        where=where,
        todo=_TODO.format(module=module, path=path, cls=cls),
    )


def load_check(spec: str, root: Path | None, where: str) -> type[Any]:
    """The LadderCheck subclass named by `module:Class`, or a LadderError saying what to do."""
    from ladder.rules.custom import LadderCheck  # imports libcst: only when a custom rule runs

    base = str((root or _default_root()).resolve())
    added = base not in sys.path
    if added:
        sys.path.insert(0, base)
    module_name, _, class_name = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # any error raised while importing the user's module
        raise _error(spec, f"cannot import {module_name!r} ({type(exc).__name__}: {exc})", where) from exc
    finally:
        if added:  # not left first on the path: later imports must not find that tree's modules
            with contextlib.suppress(ValueError):
                sys.path.remove(base)
    cls = getattr(module, class_name, None)
    if cls is None:
        raise _error(spec, f"module {module_name!r} has no class {class_name!r}", where)
    if not (isinstance(cls, type) and issubclass(cls, LadderCheck)):
        raise _error(spec, f"{class_name!r} is not a subclass of ladder.rules.custom.LadderCheck", where)
    hooks = sorted(n for n in dir(cls) if _ATTRIBUTE_HOOK.match(n) and n in _own_names(cls, LadderCheck))
    if hooks:
        raise _error(spec, f"attribute hooks such as {hooks[0]!r} are not supported", where)
    return cls


def _default_root() -> Path:
    """The repository around the working directory (ladder may run from a subdirectory)."""
    from ladder.git import find_root

    try:
        return find_root(Path.cwd())
    except LadderError:
        return Path.cwd()


def _own_names(cls: type[Any], base: type[Any]) -> set[str]:
    """Attribute names defined by `cls` or its bases below `base`."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if klass is base:
            break
        names.update(vars(klass))
    return names


def _cases(items: Any) -> tuple[Case, ...]:
    out = []
    for item in items or ():
        code = getattr(item, "code", item)  # a string, or Fixit's Valid/Invalid
        if isinstance(code, str):
            out.append(Case(code=code))
    return tuple(out)


@dataclass(frozen=True)
class Custom:
    name: str = "custom"
    engine: str = "libcst"
    structural: bool = True
    summary: str = "A user's libcst check class (subclass of ladder.rules.custom.LadderCheck), by `module:Class`."

    def validate(self, args: Mapping[str, Any], where: str) -> dict[str, Any]:
        out = check_args(self.name, ARGS, args, where)
        if not SPEC_RE.match(out["check"]):
            raise bad_arg(self.name, ARGS[0], f"is {out['check']!r}", where)
        return out

    def generated_cases(self, args: Mapping[str, Any]) -> tuple[tuple[Case, ...], tuple[Case, ...]]:
        cls = load_check(args["check"], None, "rule.check")
        return _cases(cls.INVALID), _cases(cls.VALID)

    def describe(self, args: Mapping[str, Any]) -> str:
        return f"The custom check `{args['check']}` must not fire."

    def make_check(self, args: Mapping[str, Any], root: Path, where: str) -> CheckFactory:
        cls: CheckFactory = load_check(args["check"], root, where)
        return cls


TEMPLATE = Custom()
