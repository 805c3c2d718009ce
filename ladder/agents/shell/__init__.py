"""What a shell command would change in the repository, and whether it would switch
enforcement off -- for `ladder guard`, before an agent's shell tool runs it.

The command is parsed by bashlex (a port of bash's own grammar), not by regexes, and
every simple command in it is read: pipelines, lists, subshells, functions, loops,
command and process substitutions, heredocs, `bash -c` and `eval` strings, scripts in
the repository run with `bash script.sh`, `find -exec`, `xargs`. A word is followed
through the variables the command line sets, `for` loops and `cd`; where its value
cannot be known it becomes a pattern matched against the repository's files, and what a
program writes where the guard cannot see (a tar archive's members, a patch, `git
stash pop`) is asked of the archive, the patch or git itself, or taken to be everything
below the directory it writes to. Nothing known to write a path is passed over.

Two answers come back: the paths written (for `protect` lessons to judge), and
`SwitchesOff` when the command would disable enforcement itself: `--no-verify`,
`git -c core.hooksPath=...`, `git config core.hooksPath`, `SKIP=...`, `pre-commit
uninstall`, `ladder demote`, a write to `.git/hooks`, `.git/config`, `.ladder/`,
`.pre-commit-config.yaml` or an agent's hook settings, commits and refs made by git's
plumbing. A command bashlex cannot parse is read word by word instead and every
repository path it names counts as written: it fails closed on a protected path.

Not seen: what a program writes by itself (`python train.py`, `make`): the commit hook
judges those files when they are committed, and the loop re-checks every candidate.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ladder.agents.base import PendingEdit, SwitchesOff, holds_enforcement
from ladder.agents.shell import commands, git  # noqa: F401  (git registers its effects)
from ladder.agents.shell.files import Tree
from ladder.agents.shell.walk import walk
from ladder.agents.shell.words import UNKNOWN, literal

__all__ = ["SwitchesOff", "analyse", "pending_edits"]


def pending_edits(command: str, root: Path, cwd: str) -> list[PendingEdit]:
    """The paths `command` would write (content unknown: `protect` judges them); raises
    SwitchesOff when it would disable enforcement."""
    ctx = analyse(command, root, cwd)
    reasons = list(ctx.off)
    written = [*ctx.named, *(e.path for e in ctx.effects), *(e.old for e in ctx.effects)]
    held = next((text for text in written if holds_enforcement(text)), None)
    if held is not None:
        reasons.append(f"it can write {held.replace(UNKNOWN, '…')}, where the enforcement lives")
    if reasons:
        raise SwitchesOff("; ".join(dict.fromkeys(reasons)))
    out: dict[tuple[str, str, str], PendingEdit] = {}
    for e in ctx.effects:
        if e.path and not e.path.startswith(".git/"):
            out.setdefault((e.status, e.path, e.old), PendingEdit(e.path, e.status, old_path=e.old))
    return list(out.values())


def analyse(command: str, root: Path, cwd: str) -> commands.Context:
    ctx = commands.Context(Tree(root), nested=_nested)
    _analyse(command, os.path.realpath(cwd), ctx)
    return ctx


def _nested(text: str, cwd: str | None, ctx: commands.Context) -> None:
    sub = commands.Context(ctx.tree, ctx.depth + 1, nested=_nested)
    _analyse(text, cwd, sub)
    ctx.effects.extend(sub.effects)
    ctx.off.extend(sub.off)
    ctx.named.extend(sub.named)


def _analyse(command: str, cwd: str | None, ctx: commands.Context) -> None:
    import bashlex  # ~85 ms: only shell commands pay for it

    source = _simplify(command)
    try:
        parts = bashlex.parse(source)
    except Exception:  # bashlex raises its own errors and NotImplementedError: fail closed
        _word_scan(command, cwd, ctx)
        return
    walked = walk(parts, source, cwd)
    for redirect in walked.redirects:
        ctx.write(redirect.target, redirect.cwd)
    for name in walked.assigned:
        commands.env_assignment(name, ctx)
    for call in walked.calls:
        commands.run(call, ctx)


# `[[ ... ]]` and `$(( ... ))` are bash that bashlex does not parse; neither writes a file.
_TEST = re.compile(r"\[\[\s(.*?)\s\]\]")
_ARITH = re.compile(r"\$\(\(([^()]*)\)\)")


def _simplify(command: str) -> str:
    command = _ARITH.sub("0", command)
    return _TEST.sub(lambda m: "test " + m.group(1).replace("&&", "-a").replace("||", "-o"), command)


def _word_scan(command: str, cwd: str | None, ctx: commands.Context) -> None:
    """A command that cannot be parsed: every repository path it names is written, and
    every word that switches enforcement off counts."""
    for token in set(re.split(r"[\s;&|()<>`'\"]+", command)):
        if not token:
            continue
        if "=" in token and token.split("=", 1)[0].isidentifier():
            commands.env_assignment(token.split("=", 1)[0], ctx)
            token = token.split("=", 1)[1]
        rel = ctx.tree.rel(token, cwd) if token else None
        if rel and os.path.exists(os.path.join(ctx.tree.root, rel)):
            ctx.write(literal(token), cwd)
    lowered = command.lower()
    for marker in ("--no-verify", "hookspath", "pre-commit uninstall", "ladder demote",
                   "hooks uninstall", "update-ref", "commit-tree", "skip-worktree",
                   "assume-unchanged"):
        if marker in lowered:
            ctx.switch_off(f"a command that could not be parsed names {marker}")
    if any(holds_enforcement(token) for token in re.split(r"[\s;&|()<>`'\"=]+", command)):
        ctx.switch_off("a command that could not be parsed names a file that holds the enforcement")
