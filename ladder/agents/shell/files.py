"""The files a command can reach: the repository's paths, matched by words and patterns;
what an archive or a patch names; what a git command would change, asked of git itself.

Where the answer cannot be known, the answer is a superset (every file under the
directory the command writes into), never nothing: the guard fails closed.
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
import subprocess
import tarfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

from ladder.agents.shell.words import UNKNOWN, Word

_GLOB_MARK = "\x01"  # words.py's unquoted-glob marker

MAX_FILES = 200_000  # a listing this long is cut (the rest of the tree is not matched)
_GIT_KEEP = ("config", "hooks")  # inside .git, the parts that hold enforcement


class Tree:
    """The repository's files, listed once (lazily), and what a word may name in them."""

    def __init__(self, root: Path) -> None:
        self.root = os.path.realpath(root)
        self._files: list[str] | None = None

    def files(self) -> list[str]:
        """Repo-relative posix paths of the files (with .git's config and hooks)."""
        if self._files is None:
            out: list[str] = []
            for here, dirs, names in os.walk(self.root):
                rel = os.path.relpath(here, self.root).replace(os.sep, "/")
                prefix = "" if rel == "." else rel + "/"
                if ".git" in dirs:
                    dirs.remove(".git")
                    out.extend(_git_parts(os.path.join(here, ".git"), prefix + ".git/"))
                out.extend(prefix + n for n in names if n != ".git")
                if len(out) >= MAX_FILES:
                    break
            self._files = out
        return self._files

    def rel(self, path: str, cwd: str | None) -> str | None:
        """A known path as repo-relative posix; None outside the repository."""
        if cwd is None and not os.path.isabs(path):
            return None
        full = os.path.realpath(os.path.join(cwd or "/", os.path.expanduser(path)))
        if full != self.root and not full.startswith(self.root + os.sep):
            return None
        rel = os.path.relpath(full, self.root).replace(os.sep, "/")
        return "" if rel == "." else rel

    def under(self, rel: str) -> list[str]:
        """`rel` itself when it is a file, else every file below it ("" : the whole tree)."""
        if rel and os.path.isfile(os.path.join(self.root, rel)):
            return [rel]
        prefix = rel.rstrip("/") + "/" if rel else ""
        inside_git = prefix.startswith(".git/") or "/.git/" in prefix
        # A directory's files: git's own (config, hooks) only when the word names .git.
        return [f for f in self.files() if f.startswith(prefix)
                and (inside_git or not (f.startswith(".git/") or "/.git/" in f))]

    def named(self, word: Word, cwd: str | None, recursive: bool = False) -> list[str]:
        """The repo-relative paths `word` may name: itself when known (with the files
        below it when `recursive`), else the files its pattern matches."""
        if cwd is None and not word.text.startswith(("/", "~", UNKNOWN)):
            # a `cd` the guard could not follow: the path may be below any directory
            word = Word(UNKNOWN + "/" + word.text, UNKNOWN + "/" + (word.pattern or word.text))
        if word.known:
            rel = self.rel(word.text, cwd)
            full = os.path.realpath(os.path.join(cwd or "/", os.path.expanduser(word.text)))
            if rel is None and recursive and (self.root + os.sep).startswith(full.rstrip(os.sep) + os.sep):
                return self.under("")  # a directory above the repository: all of it
            if rel is None:
                return []
            if recursive or rel == "":
                return self.under(rel) or ([rel] if rel else [])
            return [rel]
        regex = _absolute(word, cwd)
        if recursive and any(regex.fullmatch(a) for a in _ancestors(self.root)):
            return self.under("")  # matches the repository or a directory above it
        out: list[str] = []
        for path in self.files():
            full = self.root + "/" + path
            if regex.fullmatch(full) or (recursive and _ancestor_matches(regex, self.root, path)):
                out.append(path)
        return out


def _git_parts(gitdir: str, prefix: str) -> list[str]:
    out: list[str] = []
    if os.path.isfile(gitdir):
        return [prefix.rstrip("/")]  # a worktree's .git file
    for part in _GIT_KEEP:
        full = os.path.join(gitdir, part)
        if os.path.isfile(full):
            out.append(prefix + part)
        elif os.path.isdir(full):
            out.extend(prefix + part + "/" + n for n in sorted(os.listdir(full)))
    return out


def _absolute(word: Word, cwd: str | None) -> re.Pattern[str]:
    text = word.pattern or word.text
    if text.startswith("~"):
        text = os.path.expanduser("~") + text[1:]
    elif not (text.startswith("/") or text.startswith(UNKNOWN)):
        text = (cwd.rstrip("/") if cwd else UNKNOWN) + "/" + text
    if UNKNOWN in text:  # `…/../x` cannot be collapsed: only drop `.` components
        text = re.sub(r"(?<=/)\./", "", text.replace("//", "/"))
    else:
        text = posixpath.normpath(text)
    return Word(text.replace(_GLOB_MARK, ""), text).regex()


def _ancestors(root: str) -> list[str]:
    out = [root]
    while os.path.dirname(out[-1]) != out[-1]:
        out.append(os.path.dirname(out[-1]))
    return out


def _ancestor_matches(regex: re.Pattern[str], root: str, path: str) -> bool:
    parts = path.split("/")
    return any(regex.fullmatch(root + "/" + "/".join(parts[:i])) for i in range(1, len(parts)))


# --- archives and patches ------------------------------------------------------------------


def regular_file(path: str) -> bool:
    """A plain file (never a FIFO or a device: reading one could block the guard)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def archive_members(path: str) -> list[str] | None:
    """The member names of a tar or zip archive; None when it cannot be read."""
    if not regular_file(path):
        return None
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                return z.namelist()
        with tarfile.open(path) as t:
            return t.getnames()
    except (OSError, tarfile.TarError, zipfile.BadZipFile, EOFError):
        return None


_HEADER = re.compile(r"^(?:--- |\+\+\+ |diff --git )(.*)$", re.MULTILINE)


def patch_paths(text: str) -> list[str]:
    """Every path a unified or git diff names, at every strip level (a superset of what
    `patch -pN` or `git apply` writes, whatever N)."""
    out: list[str] = []
    for match in _HEADER.finditer(text):
        line = match.group(1).split("\t", 1)[0].strip()
        names = line.split(" ") if match.group(0).startswith("diff --git") else [line]
        for name in names:
            if name in ("/dev/null", ""):
                continue
            parts = name.strip('"').split("/")
            out.extend("/".join(parts[i:]) for i in range(len(parts)))
    return sorted(set(out))


# --- git ---------------------------------------------------------------------------------------


def git_lines(root: str, args: Sequence[str]) -> list[str] | None:
    """A read-only git command's output lines; None when it fails (or an argument holds a
    piece the guard does not know: the caller falls back to a superset)."""
    if any(UNKNOWN in arg for arg in args):
        return None
    try:
        proc = subprocess.run(["git", "-C", root, *args], capture_output=True, text=True,
                              timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    return [line for line in proc.stdout.splitlines() if line]
