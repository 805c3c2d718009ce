"""Reading a number out of a code literal, shared by the mutator and skill extraction."""

from __future__ import annotations

import ast


def literal_number(code: str) -> float | None:
    """The value of an int or float literal (`0.01`, `-3`, `1e-3`), else None (bools too)."""
    try:
        value = ast.literal_eval(code.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)
