"""Glob matching for lesson `paths`, with `**` spanning directories.

fnmatch's `*` crosses `/`, and pathlib's match() has no `**` before 3.13, so
lessons get their own small, predictable dialect:
`*` and `?` stay within one path segment, `**/` matches zero or more directories,
and a pattern without `/` matches the file name at any depth (like .gitignore).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable


@functools.lru_cache(maxsize=512)
def compile_glob(pattern: str) -> re.Pattern[str]:
    pat = pattern.strip().lstrip("/")
    if "/" not in pat:
        pat = "**/" + pat
    out: list[str] = []
    i = 0
    while i < len(pat):
        if pat.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pat.startswith("**", i):
            out.append(".*")
            i += 2
        elif pat[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pat[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pat[i]))
            i += 1
    # A pattern naming a directory also covers everything below it.
    # DOTALL: a file name may hold a newline, and `**` must still span it (fail closed).
    return re.compile("".join(out) + "(?:/.*)?\\Z", re.DOTALL)


def matches(path: str, patterns: Iterable[str]) -> bool:
    """Whether the repo-relative posix `path` matches any of `patterns`.

    Patterns starting with `!` exclude what earlier patterns included.
    """
    hit = False
    for pattern in patterns:
        if pattern.startswith("!"):
            if hit and compile_glob(pattern[1:]).match(path):
                hit = False
        elif not hit and compile_glob(pattern).match(path):
            hit = True
    return hit
