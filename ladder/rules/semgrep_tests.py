"""Semgrep-style annotated test files, reused as a `pattern` lesson's cases.

For a lesson whose rule is `config = "rules/no-eval.yaml"`, the files next to it with
the same stem and a code extension (`rules/no-eval.py`) are its test files, as in
`semgrep --test`:

    # ruleid: no-eval
    eval(x)            <- must be flagged
    # ok: no-eval
    ast.literal_eval(x)  <- must not be

An annotation applies to the next line that is not itself an annotation, or to its
own line when it trails code (`eval(x)  # ruleid: no-eval`). The id may be the
lesson's or the YAML rule's; several ids may be given, comma-separated.
`todoruleid` / `todook` (known misses) are not counted. All files of a lesson are
checked by one semgrep invocation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from ladder.errors import LadderError
from ladder.lesson import Lesson
from ladder.rules.base import CheckRequest
from ladder.rules.cases import CaseResult
from ladder.rules.semgrep_engine import compile_lessons, scan

_ANNOTATION = re.compile(r"(?:#|//|--|/\*|<!--|;)\s*(ruleid|ok)\s*:\s*([A-Za-z0-9_.,\- ]+)")
_RULE_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Annotation:
    kind: str  # "block" (ruleid) or "allow" (ok)
    line: int  # 1-based line the annotation is about
    at: int  # 1-based line of the annotation itself


def annotated_files(root: Path, config: str, extensions: tuple[str, ...] | None = None) -> list[Path]:
    """Files next to the rule file with its stem and a code extension: one of
    `extensions` (the rule's languages) when known, else any but YAML's."""
    rule_file = root / config
    if not rule_file.parent.is_dir():
        return []
    return sorted(
        p
        for p in rule_file.parent.iterdir()
        if p.is_file()
        and p.stem == rule_file.stem
        and p.suffix
        and p.suffix not in _RULE_SUFFIXES
        and (extensions is None or p.suffix in extensions)
    )


def parse_annotations(text: str, ids: set[str]) -> list[Annotation]:
    """The annotations in `text` that name one of `ids`, with the line each is about."""
    lines = text.splitlines()
    found: list[Annotation] = []
    pending: list[tuple[str, int]] = []  # whole-line annotations waiting for their code line
    for number, line in enumerate(lines, start=1):
        match = _ANNOTATION.search(line)
        if match is not None:
            kind = "block" if match.group(1) == "ruleid" else "allow"
            named = {part.strip() for part in match.group(2).split(",")}
            standalone = not line[: match.start()].strip()
            if named & ids:
                if standalone:
                    pending.append((kind, number))
                else:
                    found.append(Annotation(kind, number, number))
            if standalone:
                continue
        found.extend(Annotation(kind, number, at) for kind, at in pending)
        pending = []
    return found


def annotated_case_results(root: Path, lesson: Lesson) -> list[CaseResult]:
    """One CaseResult per annotation in the lesson's annotated test files ([] when none)."""
    rule = lesson.rule
    if rule is None or rule.template != "pattern" or not isinstance(rule.args.get("config"), str):
        return []
    # The test files sit next to the rule, outside the lesson's `paths` and the rule's own.
    [compiled] = compile_lessons([replace(lesson, paths=("**",))], root)
    compiled = replace(compiled, rule=replace(compiled.rule, include=(), exclude=()))
    files = annotated_files(root, rule.args["config"], compiled.extensions)
    if not files:
        return []
    ids = {lesson.id, compiled.rule.semgrep_id}
    rel = {f: f.relative_to(root).as_posix() for f in files}
    texts: dict[str, str] = {}
    for path, name in rel.items():
        try:
            texts[name] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise LadderError(f"annotated test file cannot be read: {exc}", where=name) from exc
    findings = scan([compiled], CheckRequest(root, list(texts), contents=texts))
    flagged = {(f.path, f.line) for f in findings}
    results: list[CaseResult] = []
    counts = {"block": 0, "allow": 0}
    for name, text in texts.items():
        for note in parse_annotations(text, ids):
            hit = (name, note.line) in flagged
            ok = hit if note.kind == "block" else not hit
            expected = "flagged" if note.kind == "block" else "not flagged"
            got = "it was" if hit else "it was not"
            tag = "ruleid" if note.kind == "block" else "ok"
            detail = "" if ok else f"{name}:{note.line}: expected {expected} ({tag} at line {note.at}); {got}"
            results.append(
                CaseResult(
                    lesson=lesson.id,
                    kind=note.kind,
                    index=counts[note.kind],
                    ok=ok,
                    detail=detail,
                    source=f"annotated:{name}",
                )
            )
            counts[note.kind] += 1
    return results
