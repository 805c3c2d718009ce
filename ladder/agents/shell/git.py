"""What git commands do to the working tree, and which of them switch enforcement off.

Where git itself can say which files a command would change (`stash pop`, `cherry-pick`,
`reset --hard`, switching branches), it is asked, read-only; where it cannot (`pull`,
`am`), every tracked file counts. Commits and refs made without the hooks (`--no-verify`,
plumbing such as `commit-tree` and `update-ref`), and config that moves or wraps the
hooks (`core.hooksPath`, `include.*`, `alias.*`), switch enforcement off.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence

from ladder.agents.shell import files
from ladder.agents.shell.commands import (
    Context,
    effect,
    operands,
    option_value,
    patched,
    read,
    registrar,
)
from ladder.agents.shell.walk import Call
from ladder.agents.shell.words import Word, literal

_GIT_GLOBAL_VALUE = {"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--exec-path",
                     "--super-prefix", "--config-env"}
_GIT_KEYS_OFF = re.compile(r"(core\.hookspath|include\.|includeif\.|alias\.|core\.fsmonitor|"
                           r"extensions\.worktreeconfig|core\.worktree)", re.IGNORECASE)
# config whose value is a command git runs (editors, diff and merge drivers, filters...)
_GIT_KEYS_RUN = re.compile(r"(core\.editor|core\.pager|sequence\.editor|diff\.external|"
                           r"core\.sshcommand|diff\..*\.(command|textconv)|merge\..*\.driver|"
                           r"filter\..*\.(clean|smudge|process)|credential\.helper|pager\..*|"
                           r"gpg\.program|core\.askpass|uploadpack\.packobjectshook)", re.IGNORECASE)
_GIT_PLUMBING_OFF = {"commit-tree", "update-ref", "fast-import", "replace", "filter-branch",
                     "filter-repo", "symbolic-ref"}


@effect("git")
def _git(call: Call, ctx: Context) -> None:
    argv = call.argv
    cwd = call.cwd
    i = 1
    settings: list[str] = []
    while i < len(argv) and argv[i].text.startswith("-"):
        text = argv[i].text
        value = argv[i + 1].text if i + 1 < len(argv) else ""
        if text == "-c":
            settings.append(value)
        elif text.startswith("--config-env"):
            ctx.switch_off(f"`git {text}` sets git config from the environment")
        if text.startswith("--exec-path="):
            ctx.switch_off("`git --exec-path=...` replaces the git commands that run the hooks")
        if text == "-C" and i + 1 < len(argv):
            cwd = os.path.join(cwd, value) if cwd is not None and argv[i + 1].known else None
        if text.startswith("--work-tree") or text.startswith("--git-dir"):
            where = text.partition("=")[2] or value
            cwd = where if text.startswith("--work-tree") and os.path.isabs(where) else cwd
        i += 2 if text in _GIT_GLOBAL_VALUE else 1
    if i >= len(argv):
        return
    sub = argv[i].text
    rest = list(argv[i + 1:])
    texts = [w.text for w in rest]
    for setting in settings:
        key, _, value = setting.partition("=")
        if _GIT_KEYS_OFF.match(key) and not key.lower().startswith("alias."):
            ctx.switch_off(f"`git -c {setting}` overrides git's hooks or config")
        elif key.lower() == f"alias.{sub}".lower():  # `git -c alias.x='!cmd' x`
            ctx.script(value[1:] if value.startswith("!") else "git " + value, cwd)
        elif _GIT_KEYS_RUN.match(key):
            ctx.script(value, cwd)
    if any(_no_verify(t) for t in texts) or (sub == "commit" and _commit_no_verify(texts)):
        ctx.switch_off(f"`git {sub} --no-verify` skips the hooks that enforce the lessons")
    if sub == "bundle" and texts[:1] == ["create"] and len(rest) > 1:
        ctx.write(rest[1], cwd)
    if sub == "grep":
        pager = next((t[2:] or "" for t in texts if t.startswith("-O")), None) or next(
            (t.partition("=")[2] for t in texts if t.startswith("--open-files-in-pager=")), None)
        if pager:
            ctx.script(pager, cwd)
    output = next((w for w in _outputs(rest)), None)
    if output is not None and sub in ("diff", "archive", "format-patch", "log", "show",
                                      "bundle", "bugreport", "diagnose"):
        ctx.write(output, cwd, recursive=sub == "format-patch")
    if sub == "bisect" and texts[:1] == ["run"] and len(texts) > 1:
        ctx.script(" ".join(texts[1:]), cwd)
    if sub in _GIT_PLUMBING_OFF:
        ctx.switch_off(f"`git {sub}` writes commits or refs without the hooks")
    fn = _GIT.get(sub)
    if fn is not None:
        fn(rest, cwd, ctx)


def _no_verify(text: str) -> bool:
    """`--no-verify`, or an abbreviation git accepts (`--no-veri`)."""
    return len(text) >= len("--no-ver") and "--no-verify".startswith(text)


def _outputs(rest: Sequence[Word]) -> list[Word]:
    out: list[Word] = []
    for i, word in enumerate(rest):
        if word.text.startswith("--output=") or word.text.startswith("--output-directory="):
            out.append(literal(word.text.partition("=")[2]))
        elif word.text in ("-o", "--output", "--output-directory") and i + 1 < len(rest):
            out.append(rest[i + 1])
    return out


def _commit_no_verify(texts: Sequence[str]) -> bool:
    for text in texts:
        if text == "--":
            return False
        if text.startswith("-") and not text.startswith("--"):
            for ch in text[1:]:
                if ch == "n":
                    return True
                if ch in "mFCcSt":
                    break  # the rest is this option's value
    return False


_GitEffector = Callable[[list[Word], "str | None", Context], None]
_GIT: dict[str, _GitEffector] = {}


git_effect = registrar(_GIT)


def _changed(ctx: Context, args: Sequence[str]) -> None:
    """The files git says differ (a superset, every tracked file, when git cannot say)."""
    lines = files.git_lines(ctx.tree.root, ["diff", "--name-only", "--no-renames", *args])
    if lines is None:
        lines = files.git_lines(ctx.tree.root, ["ls-files"]) or []
    ctx.write_rel(lines)


def pathspec(word: Word, cwd: str | None, ctx: Context, status: str = "M") -> None:
    """What a git pathspec names: a glob even when quoted (`'*.py'`), `:/x` from the top;
    other magic (`:(icase)`, `:!`) is not followed: the whole tree then."""
    text = word.text
    if text.startswith(":/"):
        text, cwd = text[2:] or ".", ctx.tree.root
    elif text.startswith(":"):
        ctx.write(literal("."), ctx.tree.root, status, recursive=True)
        return
    ctx.write(Word(text, re.sub(r"([*?\[])", "\x01\\1", text)), cwd, status, recursive=True)


def _restored(ctx: Context, rev: str | None, specs: Sequence[Word], cwd: str | None) -> None:
    """`git checkout [REV] -- PATHS` / `git restore`: the files under PATHS that differ from
    what they are restored from, as git says (the pathspecs themselves when it cannot)."""
    plain = [w.text for w in specs if w.known]
    lines = None
    if cwd is not None and len(plain) == len(specs):
        lines = files.git_lines(cwd, ["diff", "--name-only", "--no-renames", *([rev] if rev else []),
                                      "--", *plain])
    if lines is None:
        for word in specs:
            pathspec(word, cwd, ctx)
    else:
        ctx.write_rel(lines)


def _paths_after(rest: Sequence[Word], cwd: str | None, ctx: Context, status: str = "M") -> None:
    if any(w.text == "--" for w in rest):
        words = rest[[w.text for w in rest].index("--") + 1:]
    else:
        words = [w for w in rest if not w.text.startswith("-")]
    for word in words:
        pathspec(word, cwd, ctx, status)


@git_effect("config")
def _git_config(rest: list[Word], cwd: str | None, ctx: Context) -> None:
    texts = [w.text for w in rest]
    if any(t in ("-e", "--edit") for t in texts):
        ctx.switch_off("`git config --edit` can rewrite the hooks path")
    reading = {"--get", "--get-all", "--get-regexp", "-l", "--list", "--get-urlmatch", "get", "list",
               "--show-origin", "--show-scope", "--name-only"}
    if any(t in reading for t in texts):
        return
    writing = {"--unset", "--unset-all", "--add", "--replace-all", "--remove-section",
               "--rename-section", "set", "unset", "--append"}
    words = operands(rest, {"-f", "--file", "--blob", "--type", "--default", "--comment"}, start=0)
    if words and words[0].text in ("set", "unset", "rename-section", "remove-section"):
        words = words[1:]  # git 2.46's subcommands: `git config set KEY VALUE`
        texts = [*texts, "set"]
    if len(words) < 2 and not any(t in writing for t in texts):
        return  # `git config KEY`: a read
    for word in words[:1]:
        key = word.text
        if _GIT_KEYS_OFF.match(key):
            ctx.switch_off(f"`git config {key}` changes how git runs hooks or reads config")
        elif _GIT_KEYS_RUN.match(key):
            ctx.switch_off(f"`git config {key}` makes git run a command the guard cannot read")
    target = option_value(rest, "-f", "--file")
    if target is not None:
        ctx.write(target, cwd)


@git_effect("update-index")
def _git_update_index(rest: list[Word], cwd: str | None, ctx: Context) -> None:
    flags = {"--skip-worktree", "--assume-unchanged", "--no-skip-worktree", "--no-assume-unchanged"}
    if any(w.text in flags for w in rest):
        ctx.switch_off("`git update-index --skip-worktree/--assume-unchanged` hides changes from the hooks")


@git_effect("branch")
def _git_branch(rest: list[Word], cwd: str | None, ctx: Context) -> None:
    moving = {"-f", "--force", "-m", "-M", "-d", "-D", "--delete", "--move"}
    if any(w.text in moving for w in rest) and any(w.text.startswith(("ladder/", "refs/ladder")) for w in rest):
        ctx.switch_off("`git branch` moving or deleting a branch ladder owns (ladder/...)")


@git_effect("checkout")
def _git_checkout(rest: list[Word], cwd: str | None, ctx: Context) -> None:
    texts = [w.text for w in rest]
    if "--" in texts:
        at = texts.index("--")
        revs = operands(rest[:at], {"--conflict"}, start=0)
        _restored(ctx, revs[0].text if revs else None, rest[at + 1:], cwd)
        return
    new_branch = {"-b", "-B", "--orphan"}
    words = operands(rest, new_branch | {"--conflict", "-t", "--track"}, start=0)
    if any(t in new_branch for t in texts):
        if words:  # `git checkout -b x START`: the tree becomes START's
            _changed(ctx, [words[0].text])
        return
    if not words:
        return
    first = words[0]
    is_rev = first.known and files.git_lines(ctx.tree.root, ["rev-parse", "--verify", "-q",
                                                              first.text + "^{commit}"]) is not None
    if not is_rev:
        _restored(ctx, None, words, cwd)  # `git checkout file`, `git checkout .`
        return
    if len(words) > 1:  # `git checkout REV path...`
        _restored(ctx, first.text, words[1:], cwd)
        return
    _changed(ctx, [first.text])  # switching branches: what differs from here to there


@git_effect("switch")
def _git_switch(rest: list[Word], cwd: str | None, ctx: Context) -> None:
    words = operands(rest, {"-c", "-C", "--create", "--force-create", "--orphan", "-t", "--track"}, start=0)
    creating = any(w.text in ("-c", "-C", "--create", "--force-create", "--orphan") for w in rest)
    if words and not (creating and len(words) == 0):
        target = words[-1].text if not creating else (words[0].text if words else "")
        if target:
            _changed(ctx, [target])


@git_effect("restore")
def _git_restore(rest: list[Word], cwd: str | None, ctx: Context) -> None:
    texts = [w.text for w in rest]
    if ("--staged" in texts or "-S" in texts) and "--worktree" not in texts and "-W" not in texts:
        return
    source = option_value(rest, "-s", "--source")
    words = operands(rest, {"-s", "--source"}, start=0)
    _restored(ctx, source.text if source is not None and source.known else None, words, cwd)


@git_effect("reset")
def _git_reset(rest: list[Word], cwd: str | None, ctx: Context) -> None:
    texts = [w.text for w in rest]
    if not set(texts) & {"--hard", "--merge", "--keep"}:
        return  # mixed and soft resets leave the working tree alone
    words = operands(rest, set(), start=0)
    _changed(ctx, [words[0].text] if words else ["HEAD"])


@git_effect("stash")
def _git_stash(rest: list[Word], cwd: str | None, ctx: Context) -> None:
    texts = [w.text for w in rest]
    action = texts[0] if texts and not texts[0].startswith("-") else "push"
    if action in ("list", "show", "drop", "clear", "create", "store", "branch"):
        return
    if action in ("pop", "apply"):
        if not files.git_lines(ctx.tree.root, ["stash", "list"]):
            return  # no stash: git refuses and nothing changes
        ref = next((t for t in texts[1:] if not t.startswith("-")), "stash@{0}")
        lines = files.git_lines(ctx.tree.root, ["stash", "show", "--name-only", "--include-untracked", ref])
        if lines is None:
            lines = files.git_lines(ctx.tree.root, ["stash", "show", "--name-only", ref])
        ctx.write_rel(lines if lines is not None else files.git_lines(ctx.tree.root, ["ls-files"]) or [])
        return
    _changed(ctx, ["HEAD"])
    if set(texts) & {"-u", "--include-untracked", "-a", "--all"}:
        ctx.write_rel(files.git_lines(ctx.tree.root, ["ls-files", "--others", "--exclude-standard"]) or [])


@git_effect("cherry-pick", "revert")
def _git_pick(rest: list[Word], cwd: str | None, ctx: Context) -> None:
    for word in operands(rest, {"-m", "--mainline", "--strategy", "-X"}, start=0):
        lines = files.git_lines(ctx.tree.root, ["diff-tree", "--no-commit-id", "--name-only", "-r",
                                                "-m", "--root", word.text])
        ctx.write_rel(lines if lines is not None else files.git_lines(ctx.tree.root, ["ls-files"]) or [])


@git_effect("merge", "rebase")
def _git_merge(rest: list[Word], cwd: str | None, ctx: Context) -> None:
    if any(w.text in ("--abort", "--quit", "--continue", "--skip") for w in rest):
        _changed(ctx, ["HEAD"])
        return
    onto = option_value(rest, "--onto")
    words = operands(rest, {"-m", "-s", "--strategy", "-X", "--onto", "-F", "--file"}, start=0)
    for word in [*words, *([onto] if onto is not None else [])]:
        _changed(ctx, [word.text])  # what differs between here and there


@git_effect("pull", "am", "read-tree", "checkout-index", "sparse-checkout", "lfs")
def _git_anything(rest: list[Word], cwd: str | None, ctx: Context) -> None:
    texts = [w.text for w in rest]
    if "-n" in texts or "--dry-run" in texts:
        return
    if any(t in ("--abort", "--quit", "--skip") for t in texts):
        _changed(ctx, ["HEAD"])
        return
    ctx.write_rel(files.git_lines(ctx.tree.root, ["ls-files"]) or [])  # not known: everything


@git_effect("submodule", "worktree")
def _git_elsewhere(rest: list[Word], cwd: str | None, ctx: Context) -> None:
    """Submodules and worktrees write their own directories only."""
    texts = [w.text for w in rest]
    if texts[:1] in (["update"], ["deinit"], ["foreach"], ["sync"]):
        for line in files.git_lines(ctx.tree.root, ["submodule", "status"]) or []:
            parts = line.split()
            if len(parts) >= 2:
                ctx.write(literal(parts[1]), ctx.tree.root, recursive=True)
    if texts[:1] in (["add"], ["remove"], ["move"]):
        for word in operands(rest, {"-b", "-B", "--reason"}, start=1)[:1]:
            ctx.write(word, cwd, recursive=True)


@git_effect("apply")
def _git_apply(rest: list[Word], cwd: str | None, ctx: Context) -> None:
    texts = [w.text for w in rest]
    if set(texts) & {"--cached", "--check", "--stat", "--numstat", "--summary"}:
        return
    patches = operands(rest, {"-p", "-C", "--directory", "--exclude", "--include"}, start=0)
    if not patches:
        ctx.write(literal("."), cwd, recursive=True)
    for word in patches:
        patched(read(word, cwd), cwd, ctx)


@git_effect("rm")
def _git_rm(rest: list[Word], cwd: str | None, ctx: Context) -> None:
    if not any(w.text == "--cached" for w in rest):
        for word in operands(rest, set(), start=0):
            pathspec(word, cwd, ctx, "D")


@git_effect("mv")
def _git_mv(rest: list[Word], cwd: str | None, ctx: Context) -> None:
    words = operands(rest, set(), start=0)
    for src in words[:-1]:
        ctx.move(src, words[-1], cwd)


@git_effect("clean")
def _git_clean(rest: list[Word], cwd: str | None, ctx: Context) -> None:
    if any(w.text in ("-n", "--dry-run") for w in rest):
        return
    ignored = any(w.text == "-x" or w.text == "-X" for w in rest)
    args = ["ls-files", "--others"] + ([] if ignored else ["--exclude-standard"])
    ctx.write_rel(files.git_lines(ctx.tree.root, args) or [], "D")


