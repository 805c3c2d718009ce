"""The regex engine: each `regex` lesson searched line by line in its files, with RE2.

RE2 (google-re2) runs in time linear in the line: no lesson's regex can hang a commit
or a CI run (a backtracking engine took minutes on `^(a+)+$` and 34 characters).

One finding per matching line, at the first match's column. Binary or non-UTF-8
files are skipped: a regex over text has nothing to say about them.
"""

from __future__ import annotations

from collections.abc import Sequence

from ladder.findings import Finding
from ladder.globs import matches
from ladder.lesson import Lesson
from ladder.rules.base import CheckRequest
from ladder.rules.templates.regex import TEMPLATE, LineRegex, compile_regex

_SNIFF = 8192  # bytes looked at for a NUL, git's own binary test


def read_text(request: CheckRequest, path: str) -> str | None:
    """The file's text, or None when it is missing, binary or not UTF-8."""
    if request.contents is not None and path in request.contents:
        return request.contents[path]
    try:
        data = (request.root / path).read_bytes()
    except OSError:
        return None  # deleted in this change, or a directory
    if b"\0" in data[:_SNIFF]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def search_lines(regex: LineRegex, text: str) -> list[tuple[int, int]]:
    """(line, column), both 1-based, of each line where `regex` matches."""
    hits = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = regex.search(line)
        if match is not None:
            hits.append((number, match.start() + 1))
    return hits


class RegexEngine:
    name = "regex"

    def run(self, lessons: Sequence[Lesson], request: CheckRequest) -> list[Finding]:
        compiled = []
        for lesson in lessons:
            if lesson.rule is None:
                continue
            where = f".ladder/lessons/{lesson.id}.toml"
            args = TEMPLATE.validate(lesson.rule.args, where)
            compiled.append((lesson, compile_regex(args, where), args.get("message") or lesson.title))
        texts: dict[str, str | None] = {}  # each file read once, whatever the number of lessons
        findings = []
        for lesson, regex, message in compiled:
            for path in request.files:
                if not matches(path, lesson.paths):
                    continue
                if path not in texts:
                    texts[path] = read_text(request, path)
                text = texts[path]
                if text is None:
                    continue
                for line, column in search_lines(regex, text):
                    findings.append(Finding("regex", lesson.id, path, line, column, message))
        return sorted(findings, key=lambda f: (f.path, f.line, f.column, f.lesson))


ENGINE = RegexEngine()
