"""A bash command, parsed by bashlex, as the simple commands it runs.

Each simple command becomes a `Call`: its words after expansion (variables the command
line itself set, `for` loop values, `~`; anything else unknown), its prefix assignments,
the directory it runs in (`cd` and `pushd` followed), what feeds its standard input (a
heredoc, a file, the previous command of a pipeline) and the files its redirections
write. Command and process substitutions are walked too: `echo $(rm x)` removes x.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ladder.agents.shell.words import KEY, UNKNOWN, Word, braces, dequote, literal

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
    assigned: list[tuple[str, str]] = field(default_factory=list)  # NAME=value seen


@dataclass
class _State:
    cwd: str | None
    vars: dict[str, list[Word]]
    maybe: bool = False  # in code that may not run (after && or ||): changes are uncertain
    aliases: dict[str, str] = field(default_factory=dict)
    functions: set[str] = field(default_factory=set)

    def copy(self) -> tuple[str | None, dict[str, list[Word]], bool]:
        return self.cwd, dict(self.vars), self.maybe

    def merge(self, saved: tuple[str | None, dict[str, list[Word]], bool]) -> None:
        """After code that may or may not have run (a function body, a branch): either
        state may hold, so a changed directory is unknown and variables take both values."""
        cwd, old, maybe = saved
        if self.cwd != cwd:
            self.cwd = None
        for name, values in old.items():
            if self.vars.get(name) != values:
                self.vars[name] = [*values, *(v for v in self.vars.get(name, []) if v not in values)]
        self.maybe = maybe

    def restore(self, saved: tuple[str | None, dict[str, list[Word]], bool]) -> None:
        """After a subshell (a pipeline's part, a substitution): nothing it did holds."""
        self.cwd, self.vars, self.maybe = saved[0], dict(saved[1]), saved[2]


def walk(parts: list[Any], source: str, cwd: str | None) -> Walked:
    out = Walked()
    state = _State(cwd, {})
    for node in parts:
        _node(node, source, state, out, None)
    return out


def _node(node: Any, source: str, state: _State, out: Walked, stdin: Feed | None) -> Call | None:
    kind = node.kind
    if kind == "list":
        entry = state.maybe
        for part in node.parts:
            if part.kind == "operator":
                state.maybe = entry or part.op in ("&&", "||")
                if part.op in (";", "&", "\n") and not entry:
                    state.maybe = False
                continue
            _node(part, source, state, out, None)
        state.maybe = entry
    elif kind == "pipeline":
        upstream: Call | None = None
        for part in node.parts:
            if part.kind == "pipe":
                continue
            saved = state.copy()  # each part of a pipeline runs in a subshell
            upstream = _node(part, source, state, out, Feed(upstream=upstream) if upstream else None)
            state.restore(saved)
    elif kind == "command":
        return _command(node, source, state, out, stdin)
    elif kind == "compound":
        subshell = bool(node.list) and getattr(node.list[0], "word", "") == "("
        saved = state.copy()
        for part in node.list:
            _node(part, source, state, out, stdin)
        for redirect in getattr(node, "redirects", []) or []:
            _redirect(redirect, source, state, out)
        if subshell:
            state.restore(saved)
    elif kind == "for":
        saved = state.copy()
        _for(node, source, state, out)
        state.merge(saved)
    elif kind in ("if", "while", "until", "function"):
        if kind == "function" and node.parts and node.parts[0].kind == "word":
            state.functions.add(node.parts[0].word)
        saved = state.copy()
        state.maybe = True
        for part in node.parts:  # reserved words and a function's name are skipped below
            _node(part, source, state, out, None)
        state.merge(saved)
    elif kind in ("commandsubstitution", "processsubstitution"):
        saved = state.copy()
        _node(node.command, source, state, out, None)
        state.restore(saved)
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
    assigned: dict[str, list[Word]] = {}
    feed = stdin
    for part in node.parts:
        if part.kind == "assignment":
            name, _, _ = part.word.partition("=")
            value = _assignment_value(part, source, state, out)
            appending = name.endswith("+")
            name = name.rstrip("+")
            if appending:  # `f+=x`: the old value, extended
                value = [Word(o.text + v.text, (o.pattern or o.text) + (v.pattern or v.text))
                         for o in state.vars.get(name, [literal("")]) for v in value][:MAX_WORDS]
            env.append((name, value[0].text if value else ""))
            out.assigned.append((name, value[0].text if value else ""))
            assigned[name] = value or [literal("")]
        elif part.kind == "word":
            argv.extend(expand(part, source, state, out))
        elif part.kind == "redirect":
            feed = _redirect(part, source, state, out) or feed
        else:
            _node(part, source, state, out, None)
    if argv and argv[0].text in state.aliases:  # `alias r=rm; r x`
        argv = [*(literal(w) for w in state.aliases[argv[0].text].split()), *argv[1:]]
    if argv and (not argv[0].known or " " in argv[0].text) and any(c.isspace() for c in argv[0].text):
        # an unquoted expansion holding a command line (`c='rm x'; $c`): its words
        argv = [*(Word(w, w) for w in argv[0].text.split()), *argv[1:]]
    if argv and argv[0].text in state.functions and len(argv) > 1:
        # a function may run its arguments (`f(){ "$@"; }; f rm x`): read them as a command
        out.calls.append(Call(tuple(argv[1:]), (), state.cwd, feed))
    if argv and argv[0].text == "set" and len(argv) > 1 and argv[1].text == "--":
        state.vars["@"] = [Word(" ".join(w.text for w in argv[2:]))]  # `set -- a b; "$@"`
    if argv and argv[0].text == "alias":
        for word in argv[1:]:
            alias, eq, body = word.text.partition("=")
            if eq:
                state.aliases[alias] = body
    if not argv:  # plain assignments set shell variables; `X=1 cmd` only cmd's environment
        for name, values in assigned.items():
            old = state.vars.get(name)
            state.vars[name] = [*(old or []), *values] if state.maybe and old else values
    call = Call(tuple(argv), tuple(env), state.cwd, feed)
    out.calls.append(call)
    _follow_cd(call, state)
    if call.name in ("export", "declare", "local", "typeset", "readonly"):
        for word in call.argv[1:]:
            name, eq, rhs = word.text.partition("=")
            if eq:
                state.vars[name] = [Word(rhs, word.pattern[len(name) + 1:])]
                out.assigned.append((name, rhs))
    return call


def _assignment_value(part: Any, source: str, state: _State, out: Walked) -> list[Word]:
    start = part.pos[0] + part.word.index("=") + 1
    return _expand_span(part, start, source, state, out)


def _follow_cd(call: Call, state: _State) -> None:
    """A `cd` moves the directory when it surely runs and surely succeeds; otherwise the
    directory is unknown (relative paths then match anywhere in the repository)."""
    if call.name not in ("cd", "pushd", "popd", "chdir") or state.cwd is None:
        return
    args = [w for w in call.argv[1:] if not w.text.startswith("-") or w.text == "-"]
    target = os.path.expanduser("~") if not args else None
    if args and args[0].known and args[0].text != "-" and call.name != "popd":
        target = os.path.normpath(os.path.join(state.cwd, os.path.expanduser(args[0].text)))
    if target is None or state.maybe or not os.path.isdir(target):
        state.cwd = None
    else:
        state.cwd = target


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
        if part.kind == "parameter" and source[part.pos[0]:part.pos[1]] == "$":
            continue  # bashlex's node for `$'...'` (ANSI-C quoting): dequote() reads it
        pieces.append(source[last:part.pos[0]])
        pieces.append(f"{KEY}{len(choices)}{KEY}")
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
        for suffix in ("[@]", "[*]", "[0]"):  # an array (kept as one word list here)
            name = name.removesuffix(suffix)
        if name in state.vars:
            return state.vars[name]
        if name == "HOME":
            return [literal(os.path.expanduser("~"))]
        return [_UNKNOWN]  # from the environment, or `${x:-...}` forms: not known here
    if part.kind == "tilde":
        value = str(part.value)
        if value == "~+":
            return [literal(state.cwd)] if state.cwd else [_UNKNOWN]
        return [literal(os.path.expanduser(value))] if value != "~-" else [_UNKNOWN]
    if part.kind in ("commandsubstitution", "processsubstitution"):
        saved = state.copy()
        _node(part.command, source, state, out, None)
        state.restore(saved)
        command = part.command
        first = getattr(command, "parts", [None])[0] if command.kind == "command" else None
        if first is not None and getattr(first, "word", "") == "mktemp":
            base = tempfile.gettempdir() + "/tmp."  # mktemp's default name, one component
            return [Word(base + UNKNOWN, base + "\x01*")]
    return [_UNKNOWN]


def _product(choices: list[list[Word]]) -> Iterator[tuple[Word, ...]]:
    return itertools.islice(itertools.product(*choices), MAX_WORDS)


__all__ = ["Call", "Feed", "Redirect", "Walked", "expand", "literal", "walk"]
