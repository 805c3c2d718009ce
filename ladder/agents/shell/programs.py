"""Programs that write the files they are given: rm, cp/mv, sed -i, tar x, patch,
editors and formatters, downloads, compressors... (registered in commands.EFFECTS)."""

from __future__ import annotations

import os
import re

from ladder.agents.shell import files
from ladder.agents.shell.commands import (
    Context,
    cluster_has,
    effect,
    operands,
    option_value,
    patched,
    read,
    short_flags,
    stdin_text,
)
from ladder.agents.shell.walk import Call
from ladder.agents.shell.words import UNKNOWN, Word, literal

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


@effect("tar", "bsdtar", "gtar")
def _tar(call: Call, ctx: Context) -> None:
    first = call.argv[1].text if len(call.argv) > 1 else ""
    bundled = first if first and not first.startswith("-") else ""
    flags = bundled + short_flags(call.argv)
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
    return stdin_text(call.stdin, call.cwd)
