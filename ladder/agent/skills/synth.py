"""Rules, cases and ids for failure lessons, made from the failing diffs.

A deletion that failed twice (deletion.py) becomes a structural rule, so the lesson can
climb to level 5 and the third attempt is refused before it is evaluated (issue 14: it
stayed a prose lesson, and run 3 evaluated it again):

- `require-call` when the deleted statement made a call the function no longer makes
  anywhere (`fit` must call `standardize`): a libcst check, milliseconds per commit;
- else a semgrep rule that forbids the deletion itself: every `def F` must still hold
  the statement, anywhere in its body (semgrep's deep statement matching). Semgrep costs
  a process per commit, so it is the fallback; the level-5 gate measures it against the
  hook budget, and a rule over budget stays at level 4 with the reason recorded.

Either way the block case is the function without the statement and the allow case the
function as it ran, so `ladder test` proves the rule on the very diff that failed.

Ids are readable: `learned-` and whole words of what the rule says, never cut inside
a word (`learned-fit-must-call-standardize`, `learned-lr-below-0-13`), unique in the
repository.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from ladder.agent.skills.deletion import Deletion
from ladder.lesson import Case, Rule
from ladder.project import Project

ID_PREFIX = "learned"
MAX_ID = 48  # characters of an id before its uniqueness suffix; whole words only
_WORD = re.compile(r"[a-z0-9]+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def readable_id(project: Project, words: str, taken: Collection[str] = ()) -> str:
    """`learned-` and the whole words of `words` that fit in MAX_ID characters, with
    `-2`, `-3`, ... when the id is taken (a file, or one of `taken`)."""
    from ladder.store import lesson_path

    base = ID_PREFIX
    for word in _WORD.findall(words.lower()):
        if len(base) + 1 + len(word) > MAX_ID:
            break  # the next word would not fit whole: stop before it, never inside it
        base += "-" + word
    candidate, n = base, 2
    while candidate in taken or lesson_path(project, candidate).exists():
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def deletion_words(d: Deletion) -> str:
    """What an id of a deletion lesson says: `fit must call standardize`, or `fit must
    keep w lr grad` (the first names of the statement)."""
    if d.call:
        return f"{d.function} must call {d.call}"
    names = list(dict.fromkeys(_NAME.findall(d.statement)))[:3]
    return f"{d.function} must keep {' '.join(names)}"


def deletion_title(d: Deletion, words: str) -> str:
    """`fit() must call standardize(): deleting `x = standardize(x)` crashes`. A title
    is read by every later agent (AGENTS.md, the prompt): a statement holding text (a
    kept candidate's string could say anything) is named by its line, never quoted."""
    what = f"must call {d.call}()" if d.call else "must keep this statement"
    quoted = f"`{d.statement}`" if not _holds_text(d.statement) else (
        f"the call of {d.call}()" if d.call else f"a statement of {d.function}()")
    return f"{d.function}() {what}: deleting {quoted} {words}"


def _holds_text(statement: str) -> bool:
    import ast

    try:
        tree = ast.parse(statement)
    except SyntaxError:
        return True
    return any(isinstance(n, ast.JoinedStr) or (isinstance(n, ast.Constant) and isinstance(n.value, (str, bytes)))
               for n in ast.walk(tree))


def deletion_rule(d: Deletion, lesson_id: str, message: str) -> Rule:
    """The structural rule that refuses `d` again, with the failing diff as its cases."""
    block = (Case(d.after, path=d.file, note="the deletion that failed"),)
    allow = (Case(d.before, path=d.file, note="the function as it ran"),)
    if d.call:
        return Rule("require-call", {"function": d.function, "calls": d.call, "message": message},
                    block=block, allow=allow)
    return Rule("pattern", {"yaml": forbid_deletion_yaml(d, lesson_id, message)},
                block=block, allow=allow)


def forbid_deletion_yaml(d: Deletion, lesson_id: str, message: str) -> str:
    """A semgrep rule: every `def F` must still hold `d.statement` somewhere in its body."""
    import yaml

    head = f"def {d.function}(...):\n    ...\n"
    rule = {
        "id": lesson_id,
        "languages": ["python"],
        "severity": "ERROR",
        "message": message,
        "patterns": [
            {"pattern": head},
            {"pattern-not": f"{head}    {d.statement}\n    ...\n"},
        ],
    }
    return str(yaml.safe_dump({"rules": [rule]}, sort_keys=False, width=1000))


def scoped_bound_rule(symbol: str, function: str, op: str, value: float | int, lesson_id: str,
                      message: str, block: tuple[Case, ...], allow: tuple[Case, ...]) -> Rule:
    """A `bound` for a number inside a function, which the `bound` template (module
    constants only) cannot see: semgrep finds `symbol` passed as a keyword, given as a
    parameter's default or assigned, inside `def function`, and compares its value."""
    import yaml

    failing = ">=" if op == "<" else "<="  # what fails: the complement of `symbol op value`
    rule = {
        "id": lesson_id,
        "languages": ["python"],
        "severity": "ERROR",
        "message": message,
        "patterns": [
            {"pattern-inside": f"def {function}(...):\n    ...\n"},
            {"pattern-either": [
                {"pattern": f"$CALL(..., {symbol}=$V, ...)"},
                {"pattern": f"{symbol} = $V"},
                {"pattern": f"def $FN(..., {symbol}=$V, ...):\n    ...\n"},
            ]},
            {"metavariable-comparison": {"metavariable": "$V", "comparison": f"$V {failing} {value!r}"}},
        ],
    }
    return Rule("pattern", {"yaml": str(yaml.safe_dump({"rules": [rule]}, sort_keys=False, width=1000))},
                block=block, allow=allow)
