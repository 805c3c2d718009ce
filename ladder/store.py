"""Reading and writing `.ladder/lessons/*.toml`.

Loading is on the hook's hot path, so parsed lessons are cached in one JSON file
(`.ladder/cache/lessons.json`, ignored by git) keyed by a hash of each file's bytes;
any change to any lesson file re-parses everything. Writes are atomic (temp file +
rename) so a crash never leaves half a lesson.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ladder.errors import LadderError
from ladder.lesson import Lesson, lesson_from_dict, lesson_to_dict, slugify
from ladder.project import Project

_CACHE_VERSION = 2


def _fingerprint(lessons_dir: Path) -> list[list[Any]]:
    """Each lesson file with a hash of its bytes: a same-size edit that kept its mtime is
    still an edit (a cache keyed on size and mtime would enforce the old lesson)."""
    entries: list[list[Any]] = []
    if not lessons_dir.is_dir():
        return entries  # no lesson yet (git keeps no empty directory)
    with os.scandir(lessons_dir) as it:
        for entry in it:
            if entry.name.endswith(".toml") and entry.is_file():
                with open(entry.path, "rb") as fh:
                    entries.append([entry.name, hashlib.sha256(fh.read()).hexdigest()])
    entries.sort()
    return entries


def _parse_all(project: Project, names: Iterable[str]) -> list[Lesson]:
    from ladder import _toml

    lessons = []
    for name in names:
        path = project.lessons_dir / name
        where = f"{LESSONS_REL}/{name}"
        lessons.append(lesson_from_dict(_toml.load(path, where), where, stem=name[:-5]))
    return lessons


LESSONS_REL = ".ladder/lessons"


def load_lessons(project: Project, *, use_cache: bool = True) -> list[Lesson]:
    """All lessons, sorted by id. Raises LadderError naming the first bad file."""
    project.require_initialized()
    # An agent's commit (LADDER_AGENT=1) is checked in a checkout a process ladder does
    # not trust wrote: its lesson cache is not read (a planted one would decide).
    use_cache = use_cache and os.environ.get("LADDER_AGENT") != "1"
    fingerprint = _fingerprint(project.lessons_dir)
    cache = project.cache_dir / "lessons.json"
    if use_cache:
        try:
            data = json.loads(cache.read_text(encoding="utf-8"))
            if data.get("version") == _CACHE_VERSION and data.get("files") == fingerprint:
                return [
                    lesson_from_dict(item, f"{LESSONS_REL}/{item['id']}.toml")
                    for item in data["lessons"]
                ]
        except (OSError, ValueError, KeyError, TypeError, LadderError):
            pass  # a missing or stale cache is rebuilt below
    lessons = sorted(_parse_all(project, (f[0] for f in fingerprint)), key=lambda x: x.id)
    if use_cache:
        payload = {
            "version": _CACHE_VERSION,
            "files": fingerprint,
            "lessons": [lesson_to_dict(lesson) for lesson in lessons],
        }
        # A read-only checkout still works, just slower.
        with contextlib.suppress(OSError):
            atomic_write(cache, json.dumps(payload))
    return lessons


def get_lesson(project: Project, lesson_id: str) -> Lesson:
    for lesson in load_lessons(project):
        if lesson.id == lesson_id:
            return lesson
    raise LadderError(
        f"no lesson with id {lesson_id!r}",
        where=LESSONS_REL,
        todo="`ladder list` shows the ids",
    )


def lesson_path(project: Project, lesson_id: str) -> Path:
    return project.lessons_dir / f"{lesson_id}.toml"


def save_lesson(project: Project, lesson: Lesson) -> Path:
    from ladder import _toml

    path = lesson_path(project, lesson.id)
    header = (
        "# A ladder lesson: edit freely, it is reviewed like code. `ladder show ID` explains it.\n"
    )
    atomic_write(path, header + _toml.dumps(lesson_to_dict(lesson)))
    return path


def new_id(project: Project, title: str) -> str:
    base = slugify(title)
    candidate, n = base, 2
    while lesson_path(project, candidate).exists():
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def atomic_write(path: Path, text: str) -> None:
    """Replace `path` with `text` (UTF-8, newlines as given) so that no reader ever sees
    half of it.

    A file that exists keeps its mode: a user's AGENTS.md at 644 stays 644 (it became
    600, issue 13). A new file gets the mode `open()` would give it under the umask.
    A symlink at `path` is replaced, never written through (a link planted in a tree
    must not steer a write elsewhere): callers that mean to follow a user's link
    resolve it first, as the AGENTS.md/CLAUDE.md writer does.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _temp_beside(path)
    try:
        mode = _mode(path)
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _mode(path: Path) -> int | None:
    """The permission bits of the file at `path`; None when there is none."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return None


def _temp_beside(path: Path) -> tuple[int, str]:
    """A new, empty temporary file next to `path`, created with mode 0o666 so that the
    kernel applies the umask (`tempfile.mkstemp` always makes 0o600, and reading the
    umask means setting it, which races with other threads)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = str(path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {path}")
