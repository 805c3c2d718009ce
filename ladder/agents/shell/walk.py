"""A bash command, parsed by bashlex, as the simple commands it runs.

Each simple command becomes a `Call`: its words after expansion (variables the command
line itself set, `for` loop values, `~`; anything else unknown), its prefix assignments,
the directory it runs in (`cd` and `pushd` followed), what feeds its standard input (a
heredoc, a file, the previous command of a pipeline) and the files its redirections
write. Command and process substitutions are walked too: `echo $(rm x)` removes x.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ladder.agents.shell.words import UNKNOWN, Word, braces, dequote, literal

MAX_WORDS = 64  # expansions of one word (loop values x variables) considered


@dataclass(frozen=True)
class Feed:
    """What a command reads on standard input."""

    text: str | None = None  # a heredoc or here-string
    path: Word | None = None  # `< file`
    upstream: Call | None = None  # the previous command of a pipeline


@dataclass(frozen=True)
class Call:
    """One simple command: `argv[0]` is the program (prefixes such as sudo kept)."""

    argv: tuple[Word, ...]
    env: tuple[tuple[str, str], ...]
    cwd: str | None  # None: a `cd` the guard could not follow
    stdin: Feed | None = None

    @property
    def name(self) -> str:
        return self.argv[0].text.rsplit("/", 1)[-1] if self.argv else ""

    def texts(self) -> list[str]:
        return [w.text for w in self.argv]


@dataclass(frozen=True)
class Redirect:
    target: Word
    cwd: str | None


@dataclass
class Walked:
    calls: list[Call] = field(default_factory=list)
    redirects: list[Redirect] = field(default_factory=list)
    assigned: list[str] = field(default_factory=list)  # NAME=value assignments seen


@dataclass
class _State:
    cwd: str | None
    vars: dict[str, list[Word]]


def walk(parts: list[Any], source: str, cwd: str | None) -> Walked:
    out = Walked()
    state = _State(cwd, {})
    for node in parts:
        _node(node, source, state, out, None)
    return out


def _node(node: Any, source: str, state: _State, out: Walked, stdin: Feed | None) -> Call | None:
    kind = node.kind
    if kind == "list":
        for part in node.parts:
            _node(part, source, state, out, None)
    elif kind == "pipeline":
        upstream: Call | None = None
        for part in node.parts:
            if part.kind == "pipe":
                continue
            upstream = _node(part, source, state, out, Feed(upstream=upstream) if upstream else None)
    elif kind == "command":
        return _command(node, source, state, out, stdin)
    elif kind == "compound":
        subshell = bool(node.list) and getattr(node.list[0], "word", "") == "("
        saved = (state.cwd, dict(state.vars))
        for part in node.list:
            _node(part, source, state, out, stdin)
        for redirect in getattr(node, "redirects", []) or []:
            _redirect(redirect, source, state, out)
        if subshell:
            state.cwd, state.vars = saved
    elif kind == "for":
        _for(node, source, state, out)
    elif kind in ("if", "while", "until", "function"):
        for part in node.parts:  # reserved words and a function's name are skipped below
            _node(part, source, state, out, None)
    elif kind in ("commandsubstitution", "processsubstitution"):
        _node(node.command, source, state, out, None)
    return None


def _for(node: Any, source: str, state: _State, out: Walked) -> None:
    words = [p for p in node.parts if p.kind == "word"]
    if words:
        name = words[0].word
        values: list[Word] = []
        for w in words[1:]:
            values.extend(expand(w, source, state, out))
        state.vars[name] = values[:MAX_WORDS] or [_UNKNOWN]
    for part in node.parts:
        if part.kind not in ("word", "reservedword", "operator"):
            _node(part, source, state, out, None)


def _command(node: Any, source: str, state: _State, out: Walked, stdin: Feed | None) -> Call:
    env: list[tuple[str, str]] = []
    argv: list[Word] = []
    feed = stdin
    for part in node.parts:
        if part.kind == "assignment":
            name, _, _ = part.word.partition("=")
            value = _assignment_value(part, source, state, out)
            env.append((name, value[0].text if value else ""))
            out.assigned.append(name)
            if not argv:
                state.vars[name] = value or [literal("")]
        elif part.kind == "word":
            argv.extend(expand(part, source, state, out))
        elif part.kind == "redirect":
            feed = _redirect(part, source, state, out) or feed
        else:
            _node(part, source, state, out, None)
    call = Call(tuple(argv), tuple(env), state.cwd, feed)
    out.calls.append(call)
    _follow_cd(call, state)
    if call.name in ("export", "declare", "local", "typeset", "readonly"):
        for word in call.argv[1:]:
            name, eq, rhs = word.text.partition("=")
            if eq:
                state.vars[name] = [Word(rhs, word.pattern[len(name) + 1:])]
                out.assigned.append(name)
    return call


def _assignment_value(part: Any, source: str, state: _State, out: Walked) -> list[Word]:
    start = part.pos[0] + part.word.index("=") + 1
    return _expand_span(part, start, source, state, out)


def _follow_cd(call: Call, state: _State) -> None:
    if call.name not in ("cd", "pushd") or state.cwd is None:
        return
    args = [w for w in call.argv[1:] if not w.text.startswith("-") or w.text == "-"]
    if not args:
        state.cwd = os.path.expanduser("~")
    elif args[0].known and args[0].text != "-":
        state.cwd = os.path.normpath(os.path.join(state.cwd, os.path.expanduser(args[0].text)))
    else:
        state.cwd = None


def _redirect(node: Any, source: str, state: _State, out: Walked) -> Feed | None:
    kind = node.type
    target = node.output
    if kind in ("<<", "<<-"):
        heredoc = getattr(node, "heredoc", None)
        return Feed(text=str(heredoc.value).rsplit("\n", 1)[0] if heredoc is not None else None)
    if kind == "<<<":
        words = expand(target, source, state, out) if hasattr(target, "kind") else []
        return Feed(text=" ".join(w.text for w in words))
    if not hasattr(target, "kind"):
        return None  # `2>&1`, `>&2`: a file descriptor, not a file
    words = expand(target, source, state, out)
    if kind == "<":
        return Feed(path=words[0]) if words else None
    if kind in (">", ">>", ">|", "&>", "&>>", "<>", ">&"):
        for word in words:
            if word.text not in ("/dev/null", "/dev/stdout", "/dev/stderr"):
                out.redirects.append(Redirect(word, state.cwd))
    return None


def expand(node: Any, source: str, state: _State, out: Walked) -> list[Word]:
    """The words one word node may become."""
    return _expand_span(node, node.pos[0], source, state, out)


def _expand_span(node: Any, start: int, source: str, state: _State, out: Walked) -> list[Word]:
    end = node.pos[1]
    pieces: list[str] = []
    choices: list[list[Word]] = []
    last = start
    for part in sorted(getattr(node, "parts", []) or [], key=lambda p: p.pos[0]):
        if part.pos[0] < last:
            continue
        pieces.append(source[last:part.pos[0]])
        pieces.append(f"\x02{len(choices)}\x02")
        choices.append(_part_values(part, source, state, out))
        last = part.pos[1]
    pieces.append(source[last:end])
    raw = "".join(pieces)
    words: list[Word] = []
    for combo in _product(choices):
        values = {str(i): v for i, v in enumerate(combo)}
        for text in braces(raw) if "{" in raw and "'" not in raw and '"' not in raw else [raw]:
            words.append(dequote(text, values))
            if len(words) >= MAX_WORDS:
                return words
    return words


_UNKNOWN = Word(UNKNOWN, UNKNOWN)


def _part_values(part: Any, source: str, state: _State, out: Walked) -> list[Word]:
    if part.kind == "parameter":
        name = str(part.value)
        if name in state.vars:
            return state.vars[name]
        if name == "HOME":
            return [literal(os.path.expanduser("~"))]
        return [_UNKNOWN]  # from the environment, or `${x:-...}` forms: not known here
    if part.kind == "tilde":
        return [literal(os.path.expanduser(str(part.value)))]
    if part.kind in ("commandsubstitution", "processsubstitution"):
        _node(part.command, source, state, out, None)
    return [_UNKNOWN]


def _product(choices: list[list[Word]]) -> Iterator[tuple[Word, ...]]:
    if not choices:
        yield ()
        return
    count = 0
    for head in choices[0]:
        for rest in _product(choices[1:]):
            yield (head, *rest)
            count += 1
            if count >= MAX_WORDS:
                return


__all__ = ["Call", "Feed", "Redirect", "Walked", "expand", "literal", "walk"]
