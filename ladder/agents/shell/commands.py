"""What each program does to files, and which commands switch enforcement off.

`EFFECTS` maps a program's name to a function that records, on a `Context`, the paths
the call writes (M), deletes (D) or renames (R), and any way it switches enforcement off
(hooks skipped, hooks or lessons rewritten, git config that redirects hooks). Programs
not listed write nothing the guard can see, except through their redirections: a
program's own writes (`python train.py`, `make`) are the commit hook's to judge.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

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


def effect(*names: str) -> Callable[[Effector], Effector]:
    def register(fn: Effector) -> Effector:
        for name in names:
            EFFECTS[name] = fn
        return fn
    return register


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
    fn = EFFECTS.get(call.name) or (_interpreter if _INTERPRETER.fullmatch(call.name) else None)
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


def _short_flags(argv: Sequence[Word], start: int = 1) -> str:
    return "".join(w.text[1:] for w in argv[start:] if w.text.startswith("-") and not w.text.startswith("--"))


# --- programs that write their operands ----------------------------------------------------


@effect("rm", "rmdir", "unlink", "shred", "srm")
def _delete(call: Call, ctx: Context) -> None:
    for word in operands(call.argv):
        ctx.write(word, call.cwd, "D")


@effect("touch", "tee", "sponge", "truncate", "chmod", "chown", "chgrp", "chattr", "setfacl", "mkfifo")
def _modify(call: Call, ctx: Context) -> None:
    takes = {"truncate": {"-s", "--size", "-r", "--reference"}, "touch": {"-d", "-t", "-r"},
             "setfacl": {"-m", "-x", "-M", "-X"}}.get(call.name, set())
    words = operands(call.argv, takes)
    if call.name in ("chmod", "chown", "chgrp", "chattr") and not option_value(call.argv, "--reference"):
        # the mode or owner comes first, and a mode may look like an option (`-x`)
        args = [w for w in call.argv[1:] if w.text not in _CHMOD_FLAGS and not w.text.startswith("--")]
        words = args[1:]
    recursive = any(w.text in ("-R", "--recursive") for w in call.argv)
    for word in words:
        ctx.write(word, call.cwd, recursive=recursive)


_CHMOD_FLAGS = {"-R", "-v", "-c", "-f", "-h", "-H", "-L", "-P"}


@effect("cp", "install", "ln", "link", "mv", "rsync", "scp")
def _copy(call: Call, ctx: Context) -> None:
    takes = {"-t", "--target-directory", "-S", "--suffix"}
    if call.name == "install":
        takes |= {"-m", "--mode", "-o", "-g", "--owner", "--group"}
    if call.name in ("rsync", "scp"):
        takes |= {"-e", "--rsh", "--exclude", "--include", "--filter", "-f", "-P", "-i", "-o",
                  "-F", "-c", "-l", "-S"}
    words = operands(call.argv, takes)
    if call.name in ("ln", "link"):
        # a link to a file is a way to write it: its target counts as written
        for src in words[:-1] if len(words) > 1 else words:
            ctx.write(src, call.cwd)
    if call.name == "rsync" and any(w.text == "--remove-source-files" for w in call.argv):
        for src in words[:-1]:
            ctx.write(src, call.cwd, "D")
    target = option_value(call.argv, "-t", "--target-directory")
    if target is None:
        if len(words) < 2:
            if call.name in ("ln", "link") and words:  # `ln -s x`: a link named x here
                ctx.write(literal(os.path.basename(words[0].text)), call.cwd)
            return
        target, words = words[-1], words[:-1]
    if call.name in ("rsync", "scp"):
        if ":" not in target.text.split("/", 1)[0]:
            ctx.write(target, call.cwd, recursive=True)  # what lands under it is not known
        return
    for src in words:
        if call.name == "mv":
            ctx.move(src, target, call.cwd)
        else:
            _copy_one(src, target, call.cwd, ctx)


def _copy_one(src: Word, dst: Word, cwd: str | None, ctx: Context) -> None:
    rel = ctx.tree.rel(dst.text, cwd) if dst.known else None
    if rel is not None and os.path.isdir(os.path.join(ctx.tree.root, rel)):
        base = os.path.basename(src.text.rstrip("/")) if src.known else UNKNOWN
        ctx.write(Word(f"{dst.text.rstrip('/')}/{base}"), cwd, recursive=True)
    else:
        ctx.write(dst, cwd, recursive=True)


@effect("curl", "wget", "sort", "aria2c", "http", "xh")
def _output_option(call: Call, ctx: Context) -> None:
    """Programs that write the file their output option names."""
    names = {"curl": ("-o", "--output"), "wget": ("-O", "--output-document", "-o", "--output-file"),
             "sort": ("-o", "--output"), "aria2c": ("-o", "--out"), "http": ("-o", "--output"),
             "xh": ("-o", "--output")}[call.name]
    target = option_value(call.argv, *names)
    if target is not None and target.text != "-":
        ctx.write(target, call.cwd)
    if call.name == "curl" and any(w.text in ("-O", "--remote-name") for w in call.argv):
        ctx.write(Word(UNKNOWN, UNKNOWN), call.cwd)  # named after the URL


@effect("vi", "vim", "nvim", "ex", "ed", "nano", "emacs", "pico", "micro", "kak", "helix", "hx",
        "black", "isort", "autopep8", "yapf", "autoflake", "prettier", "gofmt", "rustfmt",
        "clang-format", "shfmt", "dos2unix", "unix2dos", "iconv")
def _edits_operands(call: Call, ctx: Context) -> None:
    """Editors and formatters write the files they are given (with none: what is below)."""
    words = operands(call.argv, {"-c", "--cmd", "-S", "-u", "-i", "--line-length", "-l",
                                 "--config", "-f", "-t", "-o", "--style"})
    if call.name == "iconv" and option_value(call.argv, "-o", "--output") is None:
        return  # iconv writes to stdout unless -o
    if call.name in ("gofmt", "clang-format", "yapf", "autopep8", "autoflake", "prettier") and not any(
            w.text in ("-w", "-i", "--in-place", "--write") for w in call.argv):
        return  # these print unless told to write in place
    for word in words or [literal(".")]:
        ctx.write(word, call.cwd, recursive=True)


@effect("ruff")
def _ruff(call: Call, ctx: Context) -> None:
    texts = call.texts()
    if texts[1:2] == ["format"] or "--fix" in texts or "--fix-only" in texts:
        words = operands(call.argv, {"--config", "--line-length", "--select", "--ignore",
                                     "--target-version", "--extend-select"}, start=2)
        for word in words or [literal(".")]:
            ctx.write(word, call.cwd, recursive=True)


@effect("gzip", "gunzip", "bzip2", "bunzip2", "xz", "unxz", "zstd", "unzstd", "lzma", "compress")
def _compress(call: Call, ctx: Context) -> None:
    """These replace their files (a.py -> a.py.gz) unless told to keep or print them."""
    if any(w.text in ("-c", "--stdout", "-k", "--keep", "-l", "--list", "-t", "--test")
           for w in call.argv) or cluster_has(call.argv, "c") or cluster_has(call.argv, "k"):
        return
    for word in operands(call.argv, {"-S", "--suffix", "-T", "--threads"}):
        ctx.write(word, call.cwd, "D", recursive=cluster_has(call.argv, "r"))


@effect("zip")
def _zip(call: Call, ctx: Context) -> None:
    words = operands(call.argv, {"-x", "-i", "-b", "-n", "-t", "-tt", "-O", "--out"})
    if words:
        ctx.write(words[0], call.cwd)  # the archive
    if any(w.text in ("-m", "--move") for w in call.argv) or cluster_has(call.argv, "m"):
        for word in words[1:]:
            ctx.write(word, call.cwd, "D", recursive=True)


@effect("dd")
def _dd(call: Call, ctx: Context) -> None:
    for word in call.argv[1:]:
        if word.text.startswith("of="):
            ctx.write(Word(word.text[3:], word.pattern[3:] if word.pattern else ""), call.cwd)


@effect("sed", "gsed")
def _sed(call: Call, ctx: Context) -> None:
    in_place = cluster_has(call.argv, "i", "ef") or any(
        w.text.startswith("--in-place") for w in call.argv)
    scripts = [w.text for i, w in enumerate(call.argv[:-1])
               if w.text in ("-e", "--expression") and i + 1 < len(call.argv)
               for w in [call.argv[i + 1]]]
    scripted = option_value(call.argv, "-e", "--expression", "-f", "--file") is not None
    words = operands(call.argv, {"-e", "--expression", "-f", "--file", "-l", "--line-length"})
    if not scripted and words:
        scripts.append(words[0].text)
        words = words[1:]
    for script in scripts:
        _sed_script(script, call.cwd, ctx)
    if in_place:
        for word in words:
            ctx.write(word, call.cwd)


_SED_ADDRESS = r"(?:(?:[0-9]+|\$|/[^/]*/)(?:\s*[,~+]\s*(?:[0-9]+|\$|/[^/]*/))?!?)?"
_SED_WRITE = re.compile(r"(?:^|[;\n{}]|/[gpIiMm0-9]*)\s*" + _SED_ADDRESS + r"\s*[wW]\s*([^;\n}]+)")
_SED_EXEC = re.compile(r"(?:^|[;\n{}])\s*" + _SED_ADDRESS + r"\s*e(?:\s|$)|"
                       r"/[gpIiMm0-9]*e[gpIiMm0-9]*(?:$|[;\n}])")


def _sed_script(script: str, cwd: str | None, ctx: Context) -> None:
    """A sed script's own writes (`w FILE`, `s/a/b/w FILE`) and commands (`e`)."""
    for match in _SED_WRITE.finditer(script):
        target = match.group(1).strip()
        if target not in ("/dev/stdout", "/dev/stderr"):
            ctx.write(literal(target), cwd)
    if _SED_EXEC.search(script):
        ctx.switch_off("sed's `e` runs its input as shell commands the guard cannot read")


@effect("perl")
def _perl(call: Call, ctx: Context) -> None:
    code = option_value(call.argv, "-e", "-E")
    if code is None:
        for i, word in enumerate(call.argv[1:-1], 1):  # `-we CODE`, `-ne CODE`
            if word.text.startswith("-") and not word.text.startswith("--") and \
                    word.text[-1] in "eE":
                code = call.argv[i + 1]
                break
    words = operands(call.argv, {"-e", "-E", "-I", "-M", "-m"})
    if code is not None:
        words = [w for w in words if w is not code]
    if cluster_has(call.argv, "i", "eEIMml"):
        for word in words if code is not None else words[1:]:
            ctx.write(word, call.cwd)
    if code is not None:
        _inline_code(code.text, call.cwd, ctx, python=False)


@effect("awk", "gawk", "mawk", "nawk")
def _awk(call: Call, ctx: Context) -> None:
    include = option_value(call.argv, "-i", "--include")
    program = option_value(call.argv, "-f", "--file")
    words = operands(call.argv, {"-i", "--include", "-f", "--file", "-v", "-F", "--assign",
                                 "--field-separator"})
    if program is None and words:
        _inline_code(words[0].text, call.cwd, ctx, python=False)
        words = words[1:]
    if include is not None and include.text.startswith("inplace"):
        for word in words:
            ctx.write(word, call.cwd)


@effect("tar", "bsdtar", "gtar")
def _tar(call: Call, ctx: Context) -> None:
    first = call.argv[1].text if len(call.argv) > 1 else ""
    bundled = first if first and not first.startswith("-") else ""
    flags = bundled + _short_flags(call.argv)
    long = {w.text for w in call.argv}
    archive = option_value(call.argv, "-f", "--file")
    if archive is None and "f" in bundled:  # `tar xzf a.tgz`: f's value is the next word
        rest = [w for w in call.argv[2:] if not w.text.startswith("-")]
        archive = rest[0] if rest else None
    if "c" in flags or "r" in flags or "u" in flags or long & {"--create", "--append", "--update"}:
        if archive is not None:
            ctx.write(archive, call.cwd)
        if "--remove-files" in long:
            for word in operands(call.argv, {"-f", "--file", "-C", "--directory", "-T", "-X"},
                                 start=2 if bundled else 1):
                ctx.write(word, call.cwd, "D", recursive=True)
        return
    if "x" not in flags and not long & {"--extract", "--get"}:
        return
    if long & {"-O", "--to-stdout"} or "O" in flags:
        return
    dest = option_value(call.argv, "-C", "--directory")
    _extract(archive, dest, call, ctx)


@effect("unzip")
def _unzip(call: Call, ctx: Context) -> None:
    if any(w.text in ("-l", "-t", "-p", "-v", "-Z") for w in call.argv):
        return
    words = operands(call.argv, {"-d", "-x", "-P"})
    _extract(words[0] if words else None, option_value(call.argv, "-d"), call, ctx)


def _extract(archive: Word | None, dest: Word | None, call: Call, ctx: Context) -> None:
    where = dest or literal(".")
    base = os.path.join(call.cwd, where.text) if call.cwd and where.known else None
    members = None
    if archive is not None and archive.known and call.cwd is not None:
        members = files.archive_members(os.path.join(call.cwd, archive.text))
    if members is None or base is None:
        ctx.write(where, call.cwd, recursive=True)  # what it holds is not known: all below
        return
    for member in members:
        ctx.write(literal(os.path.join(base, member)), call.cwd)


@effect("patch")
def _patch(call: Call, ctx: Context) -> None:
    if any(w.text in ("--dry-run", "-C") for w in call.argv):
        return
    where = option_value(call.argv, "-d", "--directory")
    cwd = os.path.join(call.cwd, where.text) if call.cwd and where is not None else call.cwd
    source = option_value(call.argv, "-i", "--input")
    words = operands(call.argv, {"-p", "-d", "--directory", "-i", "--input", "-o", "--output",
                                 "-B", "-r", "-z", "-D", "-F", "-V", "-Y"})
    if len(words) >= 2 and source is None:
        source = words[1]
    if words:  # `patch FILE [PATCH]`: FILE is what it writes
        ctx.write(words[0], cwd)
        if source is not None:
            return
    patched(_patch_text(source, call), cwd, ctx)


def _patch_text(source: Word | None, call: Call) -> str | None:
    if source is not None:
        return read(source, call.cwd)
    return _stdin_text(call.stdin, call.cwd)


def _stdin_text(feed: Feed | None, cwd: str | None) -> str | None:
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


# --- shells, find, xargs, inline code --------------------------------------------------------


@effect("bash", "sh", "zsh", "dash", "ksh", "fish", "su", "source", ".", "eval", "trap")
def _shell(call: Call, ctx: Context) -> None:
    words = call.argv
    if call.name in ("eval", "trap"):
        # eval runs its words; trap runs its first operand later (on a signal or exit)
        body = words[1:] if call.name == "eval" else words[1:2]
        ctx.script(" ".join(w.text for w in body), call.cwd)
        return
    args = operands(words, {"-o", "-O", "+O", "--rcfile", "--init-file"})
    if option_value(words, "-c") is not None or cluster_has(words, "c"):  # -c, -lc, -euc
        if args:
            ctx.script(args[0].text, call.cwd)
        return
    if args and args[0].text in ("/dev/stdin", "-", "/proc/self/fd/0"):
        args = []
    if args and call.name not in ("su",):
        text = read(args[0], call.cwd)
        if text is not None:
            ctx.script(text, call.cwd)
        elif not args[0].known:
            ctx.switch_off(f"runs a script whose name is not known ({args[0].shown})")
        return
    text = _stdin_text(call.stdin, call.cwd)
    if text is not None:
        ctx.script(text, call.cwd)
    elif call.stdin is not None and call.stdin.upstream is not None:
        ctx.switch_off("runs shell commands from a pipe the guard cannot read")


@effect("find")
def _find(call: Call, ctx: Context) -> None:
    argv = call.argv
    i = 1
    starts: list[Word] = []
    while i < len(argv) and not argv[i].text.startswith("-") and argv[i].text not in ("(", "!"):
        starts.append(argv[i])
        i += 1
    matches = _find_matches(starts or [literal(".")], argv[i:], call.cwd, ctx)
    expression = argv[i:]
    for j, word in enumerate(expression):
        if word.text == "-delete":
            ctx.write_rel(matches, "D")
        elif word.text in ("-exec", "-execdir", "-ok", "-okdir"):
            end = next((k for k in range(j + 1, len(expression)) if expression[k].text in (";", "+")),
                       len(expression))
            inner = expression[j + 1:end]
            _with_paths(Call(tuple(inner), (), call.cwd), matches, ctx, placeholder="{}")
        elif word.text in ("-fprint", "-fprint0", "-fprintf", "-fls") and j + 1 < len(expression):
            ctx.write(expression[j + 1], call.cwd)


_FIND_TESTS = {"-name", "-iname", "-path", "-ipath", "-wholename", "-iwholename", "-type",
               "-maxdepth", "-mindepth"}
_FIND_ACTIONS = {"-print", "-print0", "-delete", "-a", "-and", "-depth", "-xdev", "-mount",
                 "-ls", "-prune"}


def _find_matches(starts: Sequence[Word], expression: Sequence[Word], cwd: str | None,
                  ctx: Context) -> list[str]:
    """The files `find` may visit and pass: filtered by its tests where all are plain
    (-name, -path, -type, depths, joined by and), else every file below its starts."""
    candidates: list[str] = []
    for start in starts:
        candidates.extend(ctx.tree.named(start, cwd, recursive=True))
    tests: list[tuple[str, str]] = []
    i = 0
    while i < len(expression):
        text = expression[i].text
        if text in ("-exec", "-execdir", "-ok", "-okdir"):
            while i < len(expression) and expression[i].text not in (";", "+"):
                i += 1
        elif text in _FIND_TESTS and i + 1 < len(expression):
            tests.append((text, expression[i + 1].text))
            i += 1
        elif text in ("-fprint", "-fprint0", "-fls"):
            i += 1
        elif text not in _FIND_ACTIONS:
            return candidates  # -o, !, ( ), -newer...: not followed, so no filtering
        i += 1
    return [c for c in candidates if all(_find_test(c, t, v) for t, v in tests)]


def _find_test(path: str, test: str, value: str) -> bool:
    import fnmatch

    name = path.rsplit("/", 1)[-1]
    if test in ("-name", "-iname"):
        return fnmatch.fnmatchcase(name.lower() if test == "-iname" else name,
                                   value.lower() if test == "-iname" else value)
    if test in ("-path", "-ipath", "-wholename", "-iwholename"):
        return fnmatch.fnmatch("./" + path, value) or fnmatch.fnmatch(path, value) \
            or fnmatch.fnmatch("*/" + path, value)
    return test != "-type" or value != "d"  # files only are listed; depths not narrowed


@effect("xargs", "parallel")
def _xargs(call: Call, ctx: Context) -> None:
    takes = {"-n", "-L", "-P", "-d", "-a", "-s", "-E", "-e", "-I", "--max-args", "--max-procs",
             "--delimiter", "--arg-file", "-j", "--jobs"}
    argv = call.argv
    i = 1
    while i < len(argv) and argv[i].text.startswith("-"):
        i += 2 if argv[i].text in takes else 1
    replace = option_value(argv, "-I")
    inner = list(argv[i:]) or [literal("echo")]
    items = _items(call.stdin, call.cwd, ctx)
    if replace is None:
        inner.append(literal("\x03items"))
    _with_paths(Call(tuple(inner), (), call.cwd), items, ctx,
                placeholder=replace.text if replace is not None else "\x03items")


def _items(feed: Feed | None, cwd: str | None, ctx: Context) -> list[str]:
    """The paths a pipeline feeds to xargs: a find's matches, git ls-files, echo's words;
    anything else: every file below the directory."""
    up = feed.upstream if feed is not None else None
    if up is not None:
        if up.name == "git" and up.texts()[1:2] == ["ls-files"] and up.cwd is not None:
            listed = files.git_lines(up.cwd, ["ls-files", "--full-name", *up.texts()[2:]])
            if listed is not None:
                return listed
        if up.name == "find":
            i = 1
            starts = []
            while i < len(up.argv) and not up.argv[i].text.startswith("-"):
                starts.append(up.argv[i])
                i += 1
            return _find_matches(starts or [literal(".")], up.argv[i:], up.cwd, ctx)
        if up.name in ("echo", "printf"):
            out: list[str] = []
            for word in operands(up.argv):
                out.extend(ctx.tree.named(word, up.cwd))
            return out
    return ctx.tree.named(literal("."), cwd, recursive=True)


def _with_paths(call: Call, paths: list[str], ctx: Context, placeholder: str) -> None:
    """Run `call` with `placeholder` standing for the paths fed in (repo-relative): a
    write to it writes them; the call's other words are read as they are."""
    if not call.argv:
        return
    key = f"\x03set{len(ctx.sets)}"
    argv = tuple(Word(w.text.replace(placeholder, key), (w.pattern or w.text).replace(placeholder, key))
                 if placeholder in w.text else w for w in call.argv)
    sub = Context(ctx.tree, ctx.depth + 1, nested=ctx.nested, sets={**ctx.sets, key: paths})
    run(Call(argv, call.env, call.cwd), sub)
    ctx.off.extend(sub.off)
    ctx.named.extend(sub.named)
    ctx.effects.extend(sub.effects)


_INTERPRETER = re.compile(r"(python|pypy)[0-9.]*|node|nodejs|ruby|php|Rscript|deno|bun|lua|osascript")


def _interpreter(call: Call, ctx: Context) -> None:
    """Inline code (`python -c`, `node -e`, `python - <<EOF`): what it may write."""
    python = call.name.startswith(("python", "pypy"))
    module = option_value(call.argv, "-m") if python else None
    if module is not None:  # `python -m ladder demote ...` is `ladder demote ...`
        at = next(i for i, w in enumerate(call.argv) if w.text in ("-m", "-m" + module.text))
        rest = call.argv[at + (1 if call.argv[at].text != "-m" else 2):]
        name = {"pre_commit": "pre-commit"}.get(module.text, module.text)
        run(Call((literal(name), *rest), call.env, call.cwd, call.stdin), ctx)
        return
    code = _code_option(call.argv, "c" if python else "epr", "WXmQ" if python else "")
    text = code.text if code is not None else None
    if text is None and (len(call.argv) == 1 or call.argv[1].text == "-"):
        text = _stdin_text(call.stdin, call.cwd)
    if text is not None:
        _inline_code(text, call.cwd, ctx, python=python)


def _code_option(argv: Sequence[Word], letters: str, valued: str) -> Word | None:
    """The inline program of `-c CODE`, `-uc CODE`, `-cCODE`, `-e`/`--eval`, `-p`..."""
    for i, word in enumerate(argv[1:], 1):
        text = word.text
        if text in ("--eval", "--print") and i + 1 < len(argv):
            return argv[i + 1]
        if not text.startswith("-") or text.startswith("--"):
            if not text.startswith("-"):
                return None  # a script: the program is in a file
            continue
        for j, ch in enumerate(text[1:], 1):
            if ch in letters:
                rest = text[j + 1:]
                return literal(rest) if rest else (argv[i + 1] if i + 1 < len(argv) else None)
            if ch in valued:
                break
    return None


_PATHLIKE = re.compile(r"[\w.~/@+-]*[\w~]")
_WRITES_HINT = re.compile(
    r"write|append|unlink|remove|rename|copy|move|truncate|chmod|chown|symlink|link|exec|spawn|"
    r"system|popen|delete|rmdir|rm\b|mkdir|FileUtils|print\s*>|>|`|open\s*\(.*['\"][wax+]",
    re.IGNORECASE)
_PY_WRITERS = re.compile(
    r"\b(write_text|write_bytes|unlink|remove|rename|replace|rmtree|rmdir|move|copy|copy2|copyfile|"
    r"copytree|truncate|chmod|chown|touch|symlink|link|system|popen|Popen|run|call|check_call|"
    r"check_output|exec|eval|spawn\w*|execv\w*|fdopen|mkstemp|dump|save|savez|to_csv|to_json)\b")
_PY_OPEN = re.compile(r"\bopen\s*\(|\.open\s*\(")


def _inline_code(code: str, cwd: str | None, ctx: Context, python: bool) -> None:
    """Code run inline may write any path it names: those that exist in the repository
    are written (for `protect`); read-only Python (parsed, no writing call) writes none."""
    if (python and _reads_only(code)) or (not python and not _WRITES_HINT.search(code)):
        return
    if python and _computed_target(code):
        ctx.write(literal("."), cwd, recursive=True)  # it writes a path built at run time
    for token in set(_PATHLIKE.findall(code)):
        if "/" in token or "." in token:
            rel = ctx.tree.rel(token, cwd)
            if rel and os.path.exists(os.path.join(ctx.tree.root, rel)):
                ctx.write(literal(token), cwd)
    for marker in (".git/hooks", ".git/config", "hooksPath", ".ladder/", ".pre-commit-config"):
        if marker in code:
            ctx.switch_off(f"inline code that touches {marker}")


def _reads_only(code: str) -> bool:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else \
                node.func.id if isinstance(node.func, ast.Name) else ""
            if _PY_WRITERS.fullmatch(name):
                return False
            if name == "open":
                at = 0 if isinstance(node.func, ast.Attribute) else 1  # Path.open(mode)
                mode = node.args[at] if len(node.args) > at else next(
                    (k.value for k in node.keywords if k.arg == "mode"), None)
                if mode is not None and not (isinstance(mode, ast.Constant) and isinstance(mode.value, str)
                                             and set(mode.value) <= set("rbt")):
                    return False
        elif isinstance(node, ast.Name) and node.id in ("__import__", "getattr", "exec", "eval"):
            return False
    return True


def _computed_target(code: str) -> bool:
    """Does Python code open or write a path that is not a string literal?"""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id == "open" and node.args and not isinstance(node.args[0], ast.Constant):
            return not _reads_only(code)
    return False


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
