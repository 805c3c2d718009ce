"""The registry of what programs do to files, the context it is recorded on, and the
commands that switch enforcement off.

`EFFECTS` maps a program's name (`PATTERNS` a name pattern) to a function that records,
on a `Context`, the paths the call writes (M), deletes (D) or renames (R), and any way
it switches enforcement off (hooks skipped, hooks or lessons rewritten, git config that
redirects hooks). The effects live beside this module: `programs` (programs that write
files), `scripts` (shells, find, xargs, interpreters and their inline code), `git`.
Programs not listed write nothing the guard can see, except through their redirections:
a program's own writes (`python train.py`, `make`) are the commit hook's to judge.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ladder.agents.shell import files
from ladder.agents.shell.walk import Call, Feed
from ladder.agents.shell.words import UNKNOWN, Word, literal

MAX_DEPTH = 4  # nested shells (`bash -c`, scripts, `find -exec`, `xargs`) followed


@dataclass(frozen=True)
class Effect:
    status: str  # M, D or R
    path: str  # repo-relative
    old: str = ""


@dataclass
class Context:
    """What one command line does, collected while its calls are read."""

    tree: files.Tree
    depth: int = 0
    effects: list[Effect] = field(default_factory=list)
    off: list[str] = field(default_factory=list)  # how enforcement would be switched off
    named: list[str] = field(default_factory=list)  # written words (for enforcement paths)
    nested: Callable[[str, str | None, Context], None] | None = None  # analyse a script
    sets: dict[str, list[str]] = field(default_factory=dict)  # placeholder word -> paths

    def write(self, word: Word, cwd: str | None, status: str = "M", recursive: bool = False) -> None:
        for key, paths in self.sets.items():
            if key in word.text:  # `{}` of find -exec, xargs' input: the paths fed in
                self.write_rel(paths, status)
                return
        self.named.append(_absolute_text(word, cwd))
        for path in self.tree.named(word, cwd, recursive=recursive or status == "D"):
            self.effects.append(Effect(status, path))

    def write_rel(self, paths: Sequence[str], status: str = "M") -> None:
        for path in paths:
            self.named.append(path)
            self.effects.append(Effect(status, path))

    def move(self, src: Word, dst: Word, cwd: str | None) -> None:
        if any(key in src.text for key in self.sets) or any(key in dst.text for key in self.sets):
            self.write(src, cwd, "D")  # moved away: the paths fed in
            self.write(dst, cwd)
            return
        self.named.extend([_absolute_text(src, cwd), _absolute_text(dst, cwd)])
        olds = self.tree.named(src, cwd, recursive=True)
        target = self.tree.rel(dst.text, cwd) if dst.known else None
        if dst.known and target is not None and os.path.isdir(os.path.join(self.tree.root, target)):
            base = os.path.basename(src.text.rstrip("/")) if src.known else ""
            target = f"{target}/{base}".lstrip("/") if base else None
        for old in olds:
            if target is not None:
                suffix = old[len(self.tree.rel(src.text, cwd) or ""):] if src.known else ""
                self.effects.append(Effect("R", (target + suffix).lstrip("/"), old))
            else:
                self.effects.append(Effect("D", old))
        if target is not None and not olds:
            self.effects.append(Effect("A", target))
        elif target is None and dst.known is False:
            self.write(dst, cwd)

    def script(self, text: str, cwd: str | None) -> None:
        """A nested shell script: analysed like the command line itself."""
        if self.nested is None or self.depth >= MAX_DEPTH:
            self.off.append("shell nested too deeply to follow")
            return
        if text.strip().lstrip("!").strip() == UNKNOWN:
            self.off.append("it runs a command built at run time, which the guard cannot read")
            return
        text = text.lstrip("!") if text.startswith("!") and not text.startswith("! ") else text
        self.nested(text, cwd, self)

    def switch_off(self, reason: str) -> None:
        self.off.append(reason)


def _absolute_text(word: Word, cwd: str | None) -> str:
    text = word.text
    if text.startswith("/") or text.startswith(UNKNOWN):
        return text
    return (cwd or UNKNOWN) + "/" + text


Effector = Callable[[Call, Context], None]
EFFECTS: dict[str, Effector] = {}
PATTERNS: list[tuple[re.Pattern[str], Effector]] = []  # for program names such as python3.12


def effect_matching(pattern: str) -> Callable[[Effector], Effector]:
    def register(fn: Effector) -> Effector:
        PATTERNS.append((re.compile(pattern), fn))
        return fn
    return register


def registrar(table: dict[str, Any]) -> Callable[..., Callable[[Any], Any]]:
    """A decorator factory that files a function under each of its names in `table`."""
    def by_names(*names: str) -> Callable[[Any], Any]:
        def register(fn: Any) -> Any:
            for name in names:
                table[name] = fn
            return fn
        return register
    return by_names


effect = registrar(EFFECTS)


def run(call: Call, ctx: Context) -> None:
    """Record what `call` does (prefixes such as `sudo` and `env` removed first)."""
    call = strip_prefixes(call, ctx)
    for name, value in call.env:
        _env_switch(name, ctx, value, call)
    if not call.argv:
        return
    if not call.argv[0].known:
        # a program the guard cannot name (`$(echo rm) x`, `$cmd x`): its operands may
        # be written, and any of them may be a command line of its own
        for word in call.argv[1:]:
            ctx.write(word, call.cwd)
        return
    if any(w.text in ("--help", "-h", "--version") for w in call.argv[1:3]):
        return
    fn = EFFECTS.get(call.name) or next((f for rx, f in PATTERNS if rx.fullmatch(call.name)), None)
    if fn is not None:
        fn(call, ctx)


# --- prefixes --------------------------------------------------------------------------------

# program -> options that take a value (the program to run comes after the options)
_PREFIXES: dict[str, set[str]] = {
    "sudo": {"-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U", "-T", "--user", "--group"},
    "doas": {"-u", "-C"},
    "env": {"-u", "--unset", "-C", "--chdir", "-S", "--split-string"},
    "nohup": set(), "command": set(), "exec": {"-a"}, "builtin": set(), "time": {"-f", "-o"},
    "nice": {"-n", "--adjustment"}, "ionice": {"-c", "-n", "-p"}, "chronic": set(),
    "stdbuf": {"-i", "-o", "-e"}, "unbuffer": set(), "setsid": set(), "flock": {"-w", "-E"},
    "timeout": {"-s", "--signal", "-k", "--kill-after"}, "taskset": {"-c", "--cpu-list"},
    "strace": {"-o", "-e", "-p", "-s"}, "ltrace": {"-o", "-e"}, "valgrind": set(),
    "toybox": set(), "runuser": {"-u", "-g", "-G"}, "unshare": set(), "chroot": set(),
    "watch": {"-n", "--interval", "-d"}, "caffeinate": set(), "systemd-run": {"-p", "-u"},
}
_SCRIPT_OPTION = {"flock": "-c", "script": "-c", "su": "-c", "runuser": "-c", "sg": ""}


# runners whose `run` subcommand (or first operand) is the program to run
_RUNNERS = {"uv": "run", "poetry": "run", "pdm": "run", "hatch": "run", "rye": "run",
            "pipx": "run", "conda": "run", "mamba": "run", "pixi": "run", "npx": "", "pnpx": "",
            "bunx": "", "busybox": "", "uvx": ""}
_RUNNER_VALUES = {"-n", "--name", "-p", "--prefix", "--with", "--python", "-e", "--env",
                  "--spec", "--package", "--from", "--directory", "--project"}


def _unwrap(argv: list[Word]) -> list[Word] | None:
    """`uv run X ...` -> `X ...` (None when argv is not such a runner)."""
    name = argv[0].text.rsplit("/", 1)[-1]
    if name not in _RUNNERS:
        return None
    i = 1
    sub = _RUNNERS[name]
    if sub:
        while i < len(argv) and argv[i].text.startswith("-"):
            i += 2 if argv[i].text in _RUNNER_VALUES else 1
        if i >= len(argv) or argv[i].text != sub:
            return None
        i += 1
    while i < len(argv) and argv[i].text.startswith("-"):
        i += 2 if argv[i].text in _RUNNER_VALUES else 1
    return argv[i:]


def strip_prefixes(call: Call, ctx: Context) -> Call:
    argv = list(call.argv)
    env = list(call.env)
    cwd = call.cwd
    while argv:
        inner = _unwrap(argv)
        if inner is not None:
            argv = inner
            continue
        name = argv[0].text.rsplit("/", 1)[-1]
        if name in _SCRIPT_OPTION:  # `flock F -c CMD`, `script -qc CMD`, `sg GROUP CMD`
            flag = _SCRIPT_OPTION[name]
            body = option_value(argv, flag) if flag else (argv[2] if len(argv) > 2 else None)
            if body is None and flag and cluster_has(argv, flag[1]):
                body = next((w for w in argv[1:] if not w.text.startswith("-")), None)
            if body is not None:
                ctx.script(body.text, cwd)
                return Call((), tuple(env), cwd, call.stdin)
        if name == "ssh":  # a command on another host may be this one: read it anyway
            words = operands(argv, {"-p", "-i", "-l", "-o", "-F", "-J", "-L", "-R", "-D", "-E"})
            if len(words) > 1:
                ctx.script(" ".join(w.text for w in words[1:]), None)
            return Call((), tuple(env), cwd, call.stdin)
        if name not in _PREFIXES:
            break
        takes = _PREFIXES[name]
        i = 1
        while i < len(argv):
            text = argv[i].text
            if text == "--":
                i += 1
                break
            if text.startswith("-") and not text.startswith("--") and len(text) > 2 and \
                    f"-{text[-1]}" in takes:
                i += 2  # `-iu root`: a bundle whose last option takes the next word
                continue
            if name == "env" and "=" in text and not text.startswith("-"):
                key, _, value = text.partition("=")
                env.append((key, value))
            elif name == "env" and text in ("-S", "--split-string") and i + 1 < len(argv):
                ctx.script(argv[i + 1].text, cwd)
                return Call((), tuple(env), cwd, call.stdin)
            elif name == "env" and text in ("-C", "--chdir") and i + 1 < len(argv):
                cwd = os.path.join(cwd, argv[i + 1].text) if cwd else None
                i += 1
            elif text in takes:
                i += 1
            elif not text.startswith("-"):
                break
            i += 1
        if name in ("timeout", "chroot") and i < len(argv):
            i += 1  # the duration, the new root
        if name == "taskset" and i < len(argv) and not any(w.text in ("-c", "--cpu-list")
                                                            for w in argv[1:i]):
            i += 1  # the mask
        if name == "flock" and i < len(argv):
            i += 1  # the lock file
        if name == "command" and any(w.text in ("-v", "-V") for w in argv[1:i]):
            return Call((), tuple(env), cwd, call.stdin)  # `command -v x` runs nothing
        argv = argv[i:]
    return Call(tuple(argv), tuple(env), cwd, call.stdin)


# --- options ---------------------------------------------------------------------------------


def operands(argv: Sequence[Word], takes: set[str] = frozenset(), start: int = 1) -> list[Word]:  # type: ignore[assignment]
    """The non-option words after `start` (`--` ends the options; `takes` are options
    whose value is the next word)."""
    out: list[Word] = []
    i = start
    while i < len(argv):
        text = argv[i].text
        if text == "--":
            out.extend(argv[i + 1:])
            break
        if text in takes:
            i += 2
            continue
        if not text.startswith("-") or text == "-":
            out.append(argv[i])
        i += 1
    return out


def option_value(argv: Sequence[Word], *names: str) -> Word | None:
    """The value of `-x V`, `-xV`, `--long V` or `--long=V` (the last one given)."""
    found: Word | None = None
    for i, word in enumerate(argv):
        text = word.text
        for name in names:
            if text == name and i + 1 < len(argv):
                found = argv[i + 1]
            elif name.startswith("--") and text.startswith(name + "="):
                found = literal(text[len(name) + 1:])
            elif not name.startswith("--") and text.startswith(name) and len(text) > len(name) \
                    and not text.startswith("--"):
                found = literal(text[len(name):])
    return found


def cluster_has(argv: Sequence[Word], letter: str, valued: str = "", start: int = 1) -> bool:
    """Is short option `letter` given, alone or bundled (`-Ei`, `-lc`), before any
    bundled option in `valued` whose value is the rest of the word?"""
    for word in argv[start:]:
        text = word.text
        if text == "--":
            return False
        if text.startswith("-") and not text.startswith("--"):
            for ch in text[1:]:
                if ch == letter:
                    return True
                if ch in valued:
                    break
    return False


def short_flags(argv: Sequence[Word], start: int = 1) -> str:
    return "".join(w.text[1:] for w in argv[start:] if w.text.startswith("-") and not w.text.startswith("--"))


# --- what a command reads: its standard input, a file ---------------------------------------


def stdin_text(feed: Feed | None, cwd: str | None) -> str | None:
    if feed is None:
        return None
    if feed.text is not None:
        return feed.text
    if feed.path is not None:
        return read(feed.path, cwd)
    up = feed.upstream
    if up is not None and up.name == "cat" and len(up.argv) == 2:
        return read(up.argv[1], up.cwd)
    if up is not None and up.name in ("echo", "printf") and all(w.known for w in up.argv):
        return " ".join(w.text for w in up.argv[1:] if not (up.name == "echo" and w.text in ("-e", "-n")))
    return None


def read(word: Word, cwd: str | None) -> str | None:
    if not word.known or cwd is None or not files.regular_file(os.path.join(cwd, word.text)):
        return None
    try:
        with open(os.path.join(cwd, word.text), encoding="utf-8", errors="replace") as fh:
            return fh.read(4_000_000)
    except OSError:
        return None


def patched(text: str | None, cwd: str | None, ctx: Context) -> None:
    if text is None:
        ctx.write(literal("."), cwd, recursive=True)  # a patch not seen: anything below
        return
    for path in files.patch_paths(text):
        ctx.write(literal(path), cwd)


# --- enforcement tools -----------------------------------------------------------------------


@effect("pre-commit", "prek")
def _pre_commit(call: Call, ctx: Context) -> None:
    texts = call.texts()
    for action in ("uninstall", "autoupdate", "migrate-config"):
        if action in texts[1:2]:
            ctx.switch_off(f"`{call.name} {action}` removes or rewrites the hooks")
    if texts[1:2] in (["install"], ["install-hooks"]) and any(
            t in ("-c", "--config") or t.startswith("--config=") for t in texts):
        ctx.switch_off(f"`{call.name} install --config` points the hooks at another config")


@effect("pip", "pip3", "uv", "pipx", "conda", "mamba")
def _installer(call: Call, ctx: Context) -> None:
    """Replacing or removing the tools the hooks run (ladder, pre-commit) switches them off."""
    texts = [t.lower() for t in call.texts()]
    if not {"install", "uninstall", "remove", "add", "sync"} & set(texts[1:4]):
        return
    if any("ladder" in t or "pre-commit" in t or "pre_commit" in t for t in texts[2:]):
        ctx.switch_off(f"`{call.name} {texts[1]}` replaces or removes the tools the hooks run")


@effect("ladder")
def _ladder(call: Call, ctx: Context) -> None:
    texts = call.texts()[1:]
    words = [t for t in texts if not t.startswith("-")]
    if words[:1] == ["demote"] or words[:2] == ["hooks", "uninstall"]:
        ctx.switch_off(f"`ladder {' '.join(words[:2])}` lowers the enforcement")
    if words[:2] == ["agent", "review"]:
        ctx.switch_off("`ladder agent review` is a person's decision, not an agent's")
    if words[:1] == ["try"] and "--new-baseline" in texts:
        ctx.switch_off("`ladder try --new-baseline` re-bases verification: a person's call")


_ENV_OFF = re.compile(r"SKIP|PRE_COMMIT_ALLOW_NO_CONFIG|PRE_COMMIT_HOME|GIT_CONFIG(_.*)?|GIT_DIR|"
                      r"GIT_COMMON_DIR|GIT_INDEX_FILE|GIT_WORK_TREE|GIT_EXEC_PATH")
# where git reads its global config and finds the hook's tools: off only for the
# commands that run the hooks (an `export PATH=...` for a build is not a bypass)
ENV_FOR_HOOKS = {"HOME", "XDG_CONFIG_HOME", "PATH", "PYTHONPATH", "VIRTUAL_ENV"}
HOOK_RUNNERS = {"git", "pre-commit", "prek", "ladder"}
# variables that hold a command git (or a program) runs: read as scripts
_ENV_COMMANDS = {"GIT_EDITOR", "GIT_SEQUENCE_EDITOR", "GIT_EXTERNAL_DIFF", "GIT_PAGER", "PAGER",
                 "EDITOR", "VISUAL", "GIT_SSH_COMMAND", "GIT_SSH", "GIT_ASKPASS", "PROMPT_COMMAND"}


def _env_switch(name: str, ctx: Context, value: str = "", call: Call | None = None) -> None:
    if _ENV_OFF.fullmatch(name) and name != "GIT_CONFIG_NOSYSTEM":
        ctx.switch_off(f"setting {name} changes which hooks and config git uses")
    elif name in ENV_FOR_HOOKS and call is not None and call.name in HOOK_RUNNERS:
        ctx.switch_off(f"`{name}=... {call.name}` changes where the hooks' config and tools "
                       "come from")
    elif name in _ENV_COMMANDS and value:
        ctx.script(value, call.cwd if call is not None else None)


def env_assignment(name: str, ctx: Context, value: str = "") -> None:
    _env_switch(name, ctx, value)
