"""A custom ladder check: no bare `except:` and no `except BaseException:` that swallows.

What the templates cannot say: the handler's *body* matters. A handler that re-raises
is fine; one that carries on hides KeyboardInterrupt, CUDA out-of-memory and NaN
assertions alike, and the run "succeeds" with garbage.

Used by the lesson `lessons/no-swallowed-exceptions.toml` as
`check = "checks.no_bare_except:NoSwallowedExceptions"` (imported with the repository
root first on sys.path, so this file lives at `<repo>/checks/no_bare_except.py`).
"""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from ladder.rules.custom import LadderCheck


class NoSwallowedExceptions(LadderCheck):
    MESSAGE = "a bare `except:` (or `except BaseException:`) must re-raise"

    # The rule's own proof: `ladder test` checks that every INVALID snippet is flagged
    # and no VALID one is; they become the lesson's block/allow cases.
    VALID: ClassVar[list[str]] = [
        "try:\n    step()\nexcept ValueError:\n    skip()\n",
        "try:\n    step()\nexcept:\n    cleanup()\n    raise\n",
        "try:\n    step()\nexcept BaseException as exc:\n    log(exc)\n    raise\n",
    ]
    INVALID: ClassVar[list[str]] = [
        "try:\n    step()\nexcept:\n    pass\n",
        "try:\n    step()\nexcept BaseException:\n    log('failed')\n",
    ]

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if not _catches_everything(node.type):
            return
        if not any(_is_raise(statement) for statement in _statements(node.body)):
            self.report(node)


def _catches_everything(kind: cst.BaseExpression | None) -> bool:
    return kind is None or (isinstance(kind, cst.Name) and kind.value == "BaseException")


def _statements(body: cst.BaseSuite) -> list[cst.BaseSmallStatement]:
    """The simple statements directly in the handler (`raise` nested in an `if` does not count)."""
    if isinstance(body, cst.SimpleStatementSuite):
        return list(body.body)
    out: list[cst.BaseSmallStatement] = []
    for line in body.body:
        if isinstance(line, cst.SimpleStatementLine):
            out.extend(line.body)
    return out


def _is_raise(statement: cst.BaseSmallStatement) -> bool:
    return isinstance(statement, cst.Raise)
