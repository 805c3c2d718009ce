"""Programs that run other programs or code: shells (`bash -c`, scripts, `eval`, `trap`),
`find -exec`, `xargs`, and interpreters with inline code (`python -c`, `perl -e`, awk
programs) -- read as far as they can be, over-approximated where they cannot."""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Sequence

from ladder.agents.shell import files
from ladder.agents.shell.commands import (
    Context,
    cluster_has,
    effect,
    effect_matching,
    operands,
    option_value,
    read,
    run,
    stdin_text,
)
from ladder.agents.shell.walk import Call, Feed
from ladder.agents.shell.words import Word, literal


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
    text = stdin_text(call.stdin, call.cwd)
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


@effect_matching(r"(python|pypy)[0-9.]*|node|nodejs|ruby|php|Rscript|deno|bun|lua|osascript")
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
        text = stdin_text(call.stdin, call.cwd)
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
