"""The `ladder` command line: parse, dispatch, and map errors to exit codes.

Each command lives in its own module under `ladder/commands/` as a typed `run(...)`
returning an exit code; this module only parses arguments and handles errors, so the
commands are imported lazily and `ladder check` inside a git hook loads only what it uses.
"""

from __future__ import annotations

import sys

# Importing typing costs the hook ~2 ms of its start-up budget; annotations only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any


def _guarded(fn: Callable[[], int]) -> int:
    """Run a command: one line per user error, a log file for crashes."""
    from ladder.errors import EXIT_INTERRUPT, LadderError

    try:
        return fn()
    except LadderError as exc:
        print(exc.line(), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("ladder: interrupted", file=sys.stderr)
        return EXIT_INTERRUPT
    except BrokenPipeError:
        return 0
    except Exception as exc:
        return _crash(exc)


def _crash(exc: BaseException) -> int:
    import tempfile
    import traceback

    from ladder.errors import EXIT_CRASH

    with tempfile.NamedTemporaryFile(
        "w", prefix="ladder-crash-", suffix=".log", delete=False, encoding="utf-8"
    ) as log:
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=log)
    print(
        f"ladder: internal error: {type(exc).__name__}: {exc} "
        f"(this is a bug in ladder; the traceback is in {log.name})",
        file=sys.stderr,
    )
    return EXIT_CRASH


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:2] == ["check", "--hook"]:
        # The commit hook calls `ladder check --hook -- FILES...` (older configs: without
        # the `--`): every argument after it is a file name, even one that looks like an
        # option -- a staged file named `--help` must be checked, not print help and pass.
        # Answer "nothing to check" from the index when possible, and otherwise skip click
        # (~17 ms) too.
        from ladder.hooks import fast

        files = args[3:] if args[2:3] == ["--"] else args[2:]
        if fast.run(files):
            return 0
        return _guarded(lambda: _hook_check(files))
    if len(args) == 2 and args[0] == "guard" and not args[1].startswith("-"):
        # A coding agent's pre-tool hook runs `ladder guard AGENT` on every edit: skip
        # click and the CLI module (~30 ms). The guard catches everything itself (fail closed).
        from ladder.commands import guard

        return guard.run(args[1])
    if len(args) == 3 and args[0] == "guard" and args[2] == "--after" and not args[1].startswith("-"):
        from ladder.commands import guard

        return guard.run(args[1], after=True)
    return _guarded(lambda: _invoke_cli(args))


def _hook_check(files: list[str]) -> int:
    from ladder.commands import check
    from ladder.project import Project

    return check.run(Project.find(), files=files, hook=True)


def _invoke_cli(args: list[str]) -> int:
    import click

    from ladder.cli import cli

    try:
        result: Any = cli.main(args=args, prog_name="ladder", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return 2  # a usage error is bad input too
    except click.exceptions.Abort:
        print("ladder: aborted", file=sys.stderr)
        return 130
    return int(result or 0)
