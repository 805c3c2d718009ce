"""Best effort: the files a shell command would write, delete or rename.

An agent can change files through its shell tool as well as its edit tools. Reading
arbitrary shell is undecidable, so this catches the common forms only and says so:

- redirections: `> f`, `>> f`, `>| f`, `&> f`, `2> f`;
- commands that write their file arguments: `rm`, `rmdir`, `unlink`, `truncate`,
  `shred`, `touch`, `tee`, `chmod`, `chown`, `sed -i`, `perl -i`; `mv` (both ends),
  `cp`/`install`/`ln` (the destination); `dd of=f`; `git rm|mv|checkout|restore`;
- `sudo`, `env`, `command`, `nohup`, `time` prefixes, and `;`, `&&`, `||`, `|` chains.

Not caught: writes by a program (`python -c ...`, `make`, a script), variables and
command substitution in paths, globs that expand to a protected path, `cd` before a
relative path. Content rules (require-call, ...) cannot run on shell writes: only
`protect` lessons judge them. A command that cannot be tokenised (unbalanced quotes)
is checked word by word on whitespace instead.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from ladder.agents.base import PendingEdit
from ladder.agents.edits import repo_path

_REDIRECTS = {">", ">>", ">|", "&>", "&>>", "<>"}
_SEPARATORS = {";", "&&", "||", "|", "&", "(", ")", "\n", "|&"}
_PREFIXES = {"sudo", "env", "command", "nohup", "time", "exec", "builtin", "xargs"}
_WRITES_ALL = {"rm", "rmdir", "unlink", "truncate", "shred", "touch", "tee", "chmod", "chown"}
_WRITES_LAST = {"cp", "install", "ln"}
_IN_PLACE = {"sed", "perl", "gsed"}  # only with -i
_GIT_WRITES = {"rm", "mv", "checkout", "restore"}


def _tokens(command: str) -> list[str]:
    try:
        lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|()<>")
        lexer.whitespace_split = True
        lexer.commenters = ""
        return list(lexer)
    except ValueError:
        return command.split()


def _commands(tokens: list[str]) -> tuple[list[list[str]], list[str]]:
    """Simple commands (redirections removed) and the redirection targets."""
    commands: list[list[str]] = [[]]
    targets: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok in _SEPARATORS:
            commands.append([])
        elif tok in _REDIRECTS or (tok.endswith(">") and tok.rstrip(">").isdigit()):
            if i + 1 < len(tokens) and not tokens[i + 1].startswith("&"):
                targets.append(tokens[i + 1])
            i += 1
        elif tok.isdigit() and i + 1 < len(tokens) and tokens[i + 1] in _REDIRECTS:
            pass  # the fd number of `2>`: the redirection comes next
        else:
            commands[-1].append(tok)
        i += 1
    return [c for c in commands if c], targets


def _strip_prefixes(words: list[str]) -> list[str]:
    while words and (words[0] in _PREFIXES or ("=" in words[0] and not words[0].startswith("-"))):
        words = words[1:]
    return words


def _operands(words: list[str]) -> list[str]:
    return [w for w in words[1:] if not w.startswith("-")]


def _written(words: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """(paths written or deleted, (old, new) renames) by one simple command."""
    words = _strip_prefixes(words)
    if not words:
        return [], []
    name = words[0].rsplit("/", 1)[-1]
    args = _operands(words)
    if name == "git" and len(words) > 1 and words[1] in _GIT_WRITES:
        rest = [w for w in words[2:] if not w.startswith("-")]
        if words[1] == "mv" and len(rest) >= 2:
            return [], [(src, rest[-1]) for src in rest[:-1]]
        return rest, []
    if name in _WRITES_ALL:
        return args, []
    if name == "mv" and len(args) >= 2:
        return [], [(src, args[-1]) for src in args[:-1]]
    if name in _WRITES_LAST and len(args) >= 2:
        return [args[-1]], []
    if name in _IN_PLACE and any(w.startswith("-i") or w == "--in-place" for w in words[1:]):
        return args[1:], []  # the first operand is the script (or `-e`'s argument)
    if name == "dd":
        return [w[3:] for w in words[1:] if w.startswith("of=")], []
    return [], []


def pending_edits(command: str, root: Path, cwd: str) -> list[PendingEdit]:
    """Best-effort changes: M for writes (content unknown), D for deletions, R for moves."""
    commands, targets = _commands(_tokens(command))
    out: list[PendingEdit] = []
    for target in targets:
        rel = repo_path(target, root, cwd)
        if rel is not None and target != "/dev/null":
            out.append(PendingEdit(rel, "M"))
    for words in commands:
        paths, moves = _written(words)
        deleting = _strip_prefixes(words)[:1] in (["rm"], ["rmdir"], ["unlink"], ["shred"])
        for path in paths:
            rel = repo_path(path, root, cwd)
            if rel is not None:
                out.append(PendingEdit(rel, "D" if deleting else "M"))
        for src, dst in moves:
            old, new = repo_path(src, root, cwd), repo_path(dst, root, cwd)
            if old is not None and new is not None:
                out.append(PendingEdit(new, "R", old_path=old))
            elif old is not None or new is not None:
                out.append(PendingEdit(str(old or new), "D" if old else "A"))
    return out
