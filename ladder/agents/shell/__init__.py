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
from ladder.agents.shell import commands, git, programs, scripts  # noqa: F401  (they register effects)
from ladder.agents.shell.files import Tree
from ladder.agents.shell.walk import walk
from ladder.agents.shell.words import UNKNOWN

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
    _analyse(_CONTROL.sub("?", command), os.path.realpath(cwd), ctx)
    return ctx


_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\ue000]")  # bash never sees these in a name


def _nested(text: str, cwd: str | None, ctx: commands.Context) -> None:
    sub = commands.Context(ctx.tree, ctx.depth + 1, nested=_nested, sets=ctx.sets)
    _analyse(text, cwd, sub)
    ctx.effects.extend(sub.effects)
    ctx.off.extend(sub.off)
    ctx.named.extend(sub.named)


def _analyse(command: str, cwd: str | None, ctx: commands.Context) -> None:
    import bashlex  # ~85 ms: only shell commands pay for it

    source = _simplify(command)
    try:
        parts = bashlex.parse(source)
        walked = walk(parts, source, cwd)
    except Exception:  # bashlex's own errors, NotImplementedError, deep nesting
        statements = _statements(source)
        if len(statements) > 1:  # read what parses; only the rest word by word
            for statement in statements:
                _analyse(statement, cwd, ctx)
        else:
            _word_scan(command, cwd, ctx)
        return
    for redirect in walked.redirects:
        ctx.write(redirect.target, redirect.cwd)
    for name, value in walked.assigned:
        commands.env_assignment(name, ctx, value)
    moved = sorted({n for n, _ in walked.assigned} & commands.ENV_FOR_HOOKS)
    scratch = commands.Context(ctx.tree)  # strip_prefixes reads nested scripts: not twice into ctx
    runners = [c for c in walked.calls if moved
               and commands.strip_prefixes(c, scratch).name in commands.HOOK_RUNNERS]
    if runners:
        ctx.switch_off(f"setting {moved[0]} before `{runners[0].name}` changes where the hooks' "
                       "config and tools come from")
    for call in walked.calls:
        commands.run(call, ctx)


# Bash that bashlex does not parse, rewritten to what it does (none of it writes a file):
# `[[ ... ]]`, `$(( ... ))`, `for (( ...; ...; ... ))`, `time -p`, `select`, arrays, and
# quoted heredoc delimiters (`<<'EOF'`: the body is never expanded either way here).
_REWRITES = (
    (re.compile(r"\$\(\((?:[^()]|\([^()]*\))*\)\)"), "0"),
    (re.compile(r"\bfor\s*\(\((?:[^()]|\([^()]*\))*\)\)"), "for _ in 0"),
    (re.compile(r"\btime\s+-p\b"), "time"),
    (re.compile(r"\bselect\b(?=\s+\w+\s+in\b)"), "for"),
    (re.compile(r"\b(\w+)\+?=\(([^()\"]*)\)"), r'\1="\2"'),
    (re.compile(r"(?<!<)<<(-?)\s*(?:'([^'\n]*)'|\"([^\"\n]*)\"|\\(\w+))"), r"<<\1\2\3\4"),
)
_TEST = re.compile(r"\[\[\s(.*?)\s\]\]")


def _simplify(command: str) -> str:
    for pattern, replacement in _REWRITES:
        command = pattern.sub(replacement, command)
    return _TEST.sub(lambda m: "test " + m.group(1).replace("&&", "-a").replace("||", "-o")
                     .replace("(", "").replace(")", ""), command)


def _statements(command: str) -> list[str]:
    """Top-level statements (split at newlines, `;`, `&&`, `||`, `|`, `&` outside quotes
    and brackets): a command that does not parse as a whole is read statement by statement."""
    out: list[str] = []
    depth, quote, start, i = 0, "", 0, 0
    while i < len(command):
        ch = command[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 1
            elif ch == quote:
                quote = ""
        elif ch == "\\":
            i += 1
        elif ch in "'\"`":
            quote = ch
        elif ch in "({":
            depth += 1
        elif ch in ")}":
            depth = max(0, depth - 1)
        elif depth == 0 and ch in "\n;&|":
            out.append(command[start:i])
            start = i + 1
        i += 1
    out.append(command[start:])
    return [x.strip() for x in out if x.strip()]


def _word_scan(command: str, cwd: str | None, ctx: commands.Context) -> None:
    """A statement that cannot be parsed: every repository path it names (after quote
    removal, as a glob) is written, and every word that switches enforcement off counts."""
    from ladder.agents.shell.words import braces, dequote

    for raw in set(re.split(r"[\s;&|<>`]+", command)):
        if not re.search(r"[?*+@!]\(", raw):  # keep extglob's parentheses, drop the shell's
            raw = raw.strip("()")
        if not raw:
            continue
        for text in braces(raw):
            token = dequote(text, {})
            name, eq, _ = token.text.partition("=")
            if eq and name.isidentifier():
                commands.env_assignment(name, ctx)
                token = dequote(text.partition("=")[2], {})
            if token.text and any(ctx.tree.named(token, cwd)) and (
                    not token.known or os.path.exists(os.path.join(cwd or ctx.tree.root, token.text))):
                ctx.write(token, cwd)
    lowered = "".join(dequote(w, {}).text + " " for w in command.split()).lower()
    for marker in ("--no-verify", "hookspath", "pre-commit uninstall", "ladder demote",
                   "hooks uninstall", "update-ref", "commit-tree", "skip-worktree",
                   "assume-unchanged"):
        if marker in lowered:
            ctx.switch_off(f"a command that could not be parsed names {marker}")
    if any(holds_enforcement(token) for token in re.split(r"[\s;&|()<>`'\"=]+", lowered)):
        ctx.switch_off("a command that could not be parsed names a file that holds the enforcement")
