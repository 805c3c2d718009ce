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
from ladder.agents.shell.commands import Context, effect, operands, option_value, patched, read
from ladder.agents.shell.walk import Call
from ladder.agents.shell.words import Word, literal

_GIT_GLOBAL_VALUE = {"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--exec-path",
                     "--super-prefix", "--config-env"}
_GIT_KEYS_OFF = re.compile(r"(core\.hookspath|include\.|includeif\.|alias\.|core\.fsmonitor)",
                           re.IGNORECASE)
_GIT_PLUMBING_OFF = {"commit-tree", "update-ref", "fast-import", "replace", "filter-branch",
                     "filter-repo", "symbolic-ref"}


@effect("git")
def _git(call: Call, ctx: Context) -> None:
    argv = call.argv
    cwd = call.cwd
    i = 1
    while i < len(argv) and argv[i].text.startswith("-"):
        text = argv[i].text
        value = argv[i + 1].text if i + 1 < len(argv) else ""
        if (text == "-c" or text.startswith("--config-env")) and \
                _GIT_KEYS_OFF.search(value if text == "-c" else text):
            ctx.switch_off(f"`git {text} {value}` overrides git's hooks or config")
        if text == "-C" and cwd is not None:
            cwd = os.path.join(cwd, value) if argv[i + 1].known else None
        i += 2 if text in _GIT_GLOBAL_VALUE else 1
    if i >= len(argv):
        return
    sub = argv[i].text
    rest = list(argv[i + 1:])
    texts = [w.text for w in rest]
    if "--no-verify" in texts or (sub == "commit" and _commit_no_verify(texts)):
        ctx.switch_off(f"`git {sub} --no-verify` skips the hooks that enforce the lessons")
    if sub in _GIT_PLUMBING_OFF:
        ctx.switch_off(f"`git {sub}` writes commits or refs without the hooks")
    fn = _GIT.get(sub)
    if fn is not None:
        fn(rest, cwd, ctx)


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


def git_effect(*names: str) -> Callable[[_GitEffector], _GitEffector]:
    def register(fn: _GitEffector) -> _GitEffector:
        for name in names:
            _GIT[name] = fn
        return fn
    return register


def _changed(ctx: Context, args: Sequence[str]) -> None:
    """The files git says differ (a superset, every tracked file, when git cannot say)."""
    lines = files.git_lines(ctx.tree.root, ["diff", "--name-only", "--no-renames", *args])
    if lines is None:
        lines = files.git_lines(ctx.tree.root, ["ls-files"]) or []
    ctx.write_rel(lines)


def _paths_after(rest: Sequence[Word], cwd: str | None, ctx: Context, status: str = "M") -> None:
    if any(w.text == "--" for w in rest):
        words = rest[[w.text for w in rest].index("--") + 1:]
    else:
        words = [w for w in rest if not w.text.startswith("-")]
    for word in words:
        ctx.write(word, cwd, status, recursive=True)


@git_effect("config")
def _git_config(rest: list[Word], cwd: str | None, ctx: Context) -> None:
    texts = [w.text for w in rest]
    if any(t in ("-e", "--edit") for t in texts):
        ctx.switch_off("`git config --edit` can rewrite the hooks path")
    reading = {"--get", "--get-all", "--get-regexp", "-l", "--list", "--get-urlmatch", "get", "list"}
    if any(t in reading for t in texts):
        return
    for text in texts:
        if _GIT_KEYS_OFF.match(text):
            ctx.switch_off(f"`git config {text}` changes how git runs hooks or reads config")
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
        _paths_after(rest, cwd, ctx)
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
    if len(words) == 1 and first.known and ctx.tree.rel(first.text, cwd) is not None and \
            os.path.exists(os.path.join(cwd or "", first.text)) and \
            files.git_lines(ctx.tree.root, ["rev-parse", "--verify", "-q", first.text]) is None:
        ctx.write(first, cwd, recursive=True)  # `git checkout file`
        return
    if len(words) > 1:  # `git checkout REV path...`
        for word in words[1:]:
            ctx.write(word, cwd, recursive=True)
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
    words = operands(rest, {"-s", "--source"}, start=0)
    for word in words:
        ctx.write(word, cwd, recursive=True)


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
    words = operands(rest, {"-m", "-s", "--strategy", "-X", "--onto", "-F", "--file"}, start=0)
    if not words or any(w.text in ("--abort", "--quit", "--continue", "--skip") for w in rest):
        _changed(ctx, ["HEAD"]) if not words else None
        return
    for word in words:
        _changed(ctx, [f"HEAD...{word.text}"])


@git_effect("pull", "am", "read-tree", "checkout-index", "submodule", "worktree", "sparse-checkout")
def _git_anything(rest: list[Word], cwd: str | None, ctx: Context) -> None:
    texts = [w.text for w in rest]
    if texts[:1] in (["list"], ["status"]) or "-n" in texts or "--dry-run" in texts:
        return
    ctx.write_rel(files.git_lines(ctx.tree.root, ["ls-files"]) or [])


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
            ctx.write(word, cwd, "D", recursive=True)


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


