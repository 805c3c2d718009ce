"""Code too deeply nested for libcst: refused before libcst sees it.

libcst's native parser recurses on nesting (`((((...))))`, `not not not ... x`, chained
lambdas) and overflows its stack -- a segfault, not an exception -- somewhere between
one and ten thousand levels. CPython's own parser stops at a fixed depth and raises. So
code a process ladder does not trust wrote is first given to `ast.parse` wherever ladder's
long-lived process parses it with libcst (the learner's diff, the mutate proposer, the
loop's own re-check): a segfault there would end the run, and every resume after it.
"""

from __future__ import annotations

import ast


def too_deep(text: str) -> str:
    """Why `text` is too deeply nested to parse ("" when it is not, or when CPython
    refuses it for another reason: libcst may read syntax this Python does not)."""
    try:
        ast.parse(text)
    except (RecursionError, MemoryError):
        return "nested too deeply to parse"
    except SyntaxError as exc:
        message = str(exc.msg or "")
        if "too many nested" in message or "too complex" in message or "nesting" in message:
            return f"nested too deeply to parse ({message})"
    except ValueError:
        return ""  # null bytes: libcst says what is wrong
    return ""
