"""Reading numbers out of code literals: shared by the `bound` rule, the mutator and
skill extraction (so a rule and the search agree on what a literal is)."""

from __future__ import annotations

import ast


def literal_number(code: str) -> int | float | None:
    """The value of an int or float literal (`0.01`, `-3`, `1e-3`), else None (bools too).
    Ints stay ints: a rule reports `WIDTH = 1024`, not 1024.0."""
    try:
        value = ast.literal_eval(code.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def literal_ratio(old: str, new: str) -> float | None:
    """|new / old| of two number literals (None when either is not one, or old is 0)."""
    a, b = literal_number(old), literal_number(new)
    if a is None or b is None or a == 0:
        return None
    return abs(b / a)
