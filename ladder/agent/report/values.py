"""Numbers read from journal JSON, whatever shape a record has: a missing, non-finite or
mistyped value is None, never an exception (the report reads damaged runs too)."""

from __future__ import annotations

import math
from typing import Any


def finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def integer(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def pair(value: Any) -> tuple[float, float] | None:
    if isinstance(value, (list, tuple)) and len(value) == 2:
        a, b = finite(value[0]), finite(value[1])
        if a is not None and b is not None:
            return (a, b)
    return None
