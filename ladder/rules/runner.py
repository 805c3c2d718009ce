"""Run the rules of many lessons over a set of files: each engine once, findings sorted.

This is what `ladder check` (and the hook, and the agent's pre-evaluation gate) calls.
Lessons are grouped by the engine of their template so that each engine runs once per
check: one libcst parse per file, one semgrep process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from ladder.errors import LadderError, RuleCrash
from ladder.findings import Finding
from ladder.globs import matches
from ladder.lesson import Lesson
from ladder.rules.base import CheckRequest
from ladder.rules.registry import ENGINES, get_template, lesson_where
from ladder.rules.suppress import is_suppressed

# Diff-aware rules look at the request's changes (which may be deletions, absent from
# `files`), so their lessons are not filtered by files. Their findings cannot be
# suppressed inline: a `# ladder: ignore[...]` written into a protected file would
# otherwise unprotect it.
DIFF_ENGINE = "diff"


def _kept(files: Sequence[str], exclude: Sequence[str]) -> list[str]:
    return [f for f in files if not matches(f, exclude)] if exclude else list(files)


def applicable(
    lessons: Sequence[Lesson], files: Sequence[str], exclude: Sequence[str] = ()
) -> list[Lesson]:
    """Lessons with a rule whose `paths` match at least one of `files` (not excluded)."""
    kept = _kept(files, exclude)
    return [
        lesson
        for lesson in lessons
        if lesson.rule is not None and any(matches(f, lesson.paths) for f in kept)
    ]


def _engine_of(lesson: Lesson) -> str:
    assert lesson.rule is not None
    return get_template(lesson.rule.template, lesson_where(lesson)).engine


def _group(lessons: Sequence[Lesson], files: Sequence[str]) -> dict[str, dict[str, list[str] | None]]:
    """engine -> lesson id -> the files it applies to (None: diff-aware, all of them)."""
    groups: dict[str, dict[str, list[str] | None]] = {}
    for lesson in lessons:
        if lesson.rule is None:
            continue
        engine = _engine_of(lesson)
        if engine == DIFF_ENGINE:
            groups.setdefault(engine, {})[lesson.id] = None
            continue
        mine = [f for f in files if matches(f, lesson.paths)]
        if mine:
            groups.setdefault(engine, {})[lesson.id] = mine
    return groups


def _run_engine(
    engine_name: str, lessons: Sequence[Lesson], request: CheckRequest
) -> list[Finding]:
    try:
        return ENGINES[engine_name].run(lessons, request)
    except LadderError:
        raise  # RuleCrash, a bad rule: already one clear line
    except Exception as exc:  # a bug in an engine must still not be a traceback in a hook
        ids = ", ".join(lesson.id for lesson in lessons)
        raise RuleCrash(engine_name, ids, str(request.root), f"{type(exc).__name__}: {exc}") from exc


class _Lines:
    """The text of the lines findings point at, read once per file."""

    def __init__(self, request: CheckRequest) -> None:
        self.request = request
        self.files: dict[str, list[str]] = {}

    def get(self, path: str, line: int) -> str:
        if path not in self.files:
            try:
                self.files[path] = self.request.read(path).splitlines()
            except OSError:
                self.files[path] = []
        lines = self.files[path]
        return lines[line - 1] if 0 < line <= len(lines) else ""


def check(
    request: CheckRequest, lessons: Sequence[Lesson], *, exclude: Sequence[str] = ()
) -> list[Finding]:
    """Findings of every lesson's rule over `request.files`, minus excluded paths.

    Suppressed findings are dropped, each finding carries its lesson's level, and the
    list is sorted by (path, line, column, lesson). Raises RuleCrash when a rule fails.
    """
    by_id: Mapping[str, Lesson] = {lesson.id: lesson for lesson in lessons}
    files = _kept(request.files, exclude)
    lines = _Lines(request)
    findings: list[Finding] = []
    for engine_name, members in _group(lessons, files).items():
        wanted = sorted({f for fs in members.values() if fs is not None for f in fs}) or files
        found = _run_engine(
            engine_name, [by_id[i] for i in members], replace(request, files=wanted)
        )
        for finding in found:
            scope = members.get(finding.lesson, ())
            if scope is not None and finding.path not in scope:
                continue  # an engine reported outside the lesson's paths: not ours to show
            if engine_name != DIFF_ENGINE and is_suppressed(lines.get(finding.path, finding.line), finding):
                continue
            findings.append(replace(finding, level=by_id[finding.lesson].level))
    findings.sort(key=lambda f: (f.path, f.line, f.column, f.lesson))
    return findings
