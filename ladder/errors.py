"""The errors a user can act on, and the exit codes they map to.

One top-level handler (`ladder.main`) turns these into a single line on stderr and
the exit code; anything else is a crash (exit 3) and is reported as such.
"""

from __future__ import annotations

# Exit codes, pre-commit style: distinct so scripts and CI can tell them apart.
EXIT_OK = 0
EXIT_FINDINGS = 1  # blocking findings, a refused promotion, a failed audit threshold
EXIT_BAD_INPUT = 2  # malformed lesson, unknown template, not a git repo, ...
EXIT_CRASH = 3  # a bug in ladder itself
EXIT_INTERRUPT = 130


class LadderError(Exception):
    """Bad input: says what was wrong, where, and what to do. Exit code 2."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, what: str, *, where: str = "", todo: str = "") -> None:
        super().__init__(what)
        self.what = what
        self.where = where
        self.todo = todo

    def line(self) -> str:
        """The one line printed for this error (no traceback)."""
        head = f"{self.where}: " if self.where else ""
        tail = f" ({self.todo})" if self.todo else ""
        return f"ladder: error: {head}{self.what}{tail}"


class GateRefused(LadderError):
    """A promotion whose gate is not met. Exit code 1, the reason on stderr."""

    exit_code = EXIT_FINDINGS


class RuleCrash(LadderError):
    """A rule raised while checking a file: blocks in a hook (fail closed)."""

    def __init__(self, rule: str, lesson: str, path: str, detail: str) -> None:
        super().__init__(
            f"rule {rule!r} of lesson {lesson!r} crashed: {detail}",
            where=path,
            todo=(
                "fix or demote the lesson (`ladder demote "
                f"{lesson} --to 3 --why ...`); to bypass knowingly: "
                "`SKIP=ladder-check git commit ...` or `git commit --no-verify`"
            ),
        )
        self.rule = rule
        self.lesson = lesson
        self.path = path
