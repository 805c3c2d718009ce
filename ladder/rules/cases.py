"""Run each rule's block/allow cases: the proof a level-4 check carries.

Every block case must produce at least one finding of its lesson, every allow case none.
Cases are written to one temporary directory (one subdirectory per lesson, kind and
index, keeping the case's file name) and each engine runs once over all of them, with
each lesson scoped to its own subdirectory instead of its `paths`: cases are checked
regardless of where the lesson applies in the repository. Diff-aware rules (`protect`)
get one tiny request per case, the case file at the root, marked as modified.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from ladder.errors import LadderError
from ladder.findings import Finding
from ladder.git import Change
from ladder.lesson import Case, Lesson
from ladder.rules.base import CheckRequest, Template
from ladder.rules.libcst_engine import PARSE_ERROR
from ladder.rules.registry import ENGINES, get_template, lesson_where, with_generated_cases

KINDS = ("block", "allow")


@dataclass(frozen=True)
class CaseResult:
    lesson: str
    kind: str  # "block" | "allow"; "rule" when the rule itself is invalid
    index: int  # -1 for a result about the rule or a missing kind of case
    ok: bool
    detail: str  # what went wrong; "" when ok
    source: str = "lesson"  # "lesson" (inline or generated) or an annotated test file


@dataclass(frozen=True)
class _Entry:
    kind: str
    index: int
    case: Case
    path: str  # where the case was written, relative to the batch root


@dataclass(frozen=True)
class _Prepared:
    lesson: Lesson  # with the validated rule (and generated cases) and paths scoped to its cases
    template: Template
    entries: tuple[_Entry, ...]


def _case_path(case: Case) -> str | None:
    path = PurePosixPath(case.path)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        return None
    return str(path)


def _prepare(lesson: Lesson, root: Path | None) -> _Prepared | CaseResult:
    assert lesson.rule is not None
    where = lesson_where(lesson)
    try:
        rule = lesson.rule
        if rule.template == "custom" and root is not None:
            from ladder.rules.templates.custom import load_check

            # Import the user's check from the repository, not from wherever we run.
            load_check(str(rule.args.get("check", "")), root, where)
        rule = with_generated_cases(rule, where)
        template = get_template(rule.template, where)
    except LadderError as err:
        return CaseResult(lesson.id, "rule", -1, False, f"the rule is invalid: {err.what}")
    entries = []
    for kind, cases in (("block", rule.block), ("allow", rule.allow)):
        for index, case in enumerate(cases):
            rel = _case_path(case)
            if rel is None:
                detail = f"{kind} case {index}: path {case.path!r} must be relative, inside the repository"
                return CaseResult(lesson.id, "rule", -1, False, detail)
            entries.append(_Entry(kind, index, case, f"{lesson.id}/{kind}/{index}/{rel}"))
    scoped = replace(lesson, rule=rule, paths=(f"{lesson.id}/**",))
    return _Prepared(scoped, template, tuple(entries))


def _judge(lesson_id: str, entry: _Entry, findings: Sequence[Finding], source: str = "lesson") -> CaseResult:
    note = f" ({entry.case.note})" if entry.case.note else ""
    broken = [f for f in findings if f.rule == PARSE_ERROR]
    if broken:
        return CaseResult(
            lesson_id, entry.kind, entry.index, False,
            f"{entry.kind} case {entry.index}{note} does not parse: {broken[0].message}", source,
        )
    if entry.kind == "block":
        ok = bool(findings)
        detail = "" if ok else f"block case {entry.index}{note} was not flagged"
    else:
        ok = not findings
        first = findings[0] if findings else None
        detail = "" if first is None else (
            f"allow case {entry.index}{note} was flagged at line {first.line}: {first.message}"
        )
    return CaseResult(lesson_id, entry.kind, entry.index, ok, detail, source)


def _failed_all(prepared: _Prepared, err: LadderError) -> list[CaseResult]:
    detail = f"the rule failed: {err.what}"
    return [
        CaseResult(prepared.lesson.id, e.kind, e.index, False, detail) for e in prepared.entries
    ]


def _run_batch(engine: str, batch: Sequence[_Prepared], base: Path) -> list[CaseResult]:
    """All cases of `batch` in one engine run; one run per lesson if that run fails."""
    request = CheckRequest(root=base, files=[e.path for p in batch for e in p.entries])
    try:
        findings = ENGINES[engine].run([p.lesson for p in batch], request)
    except LadderError as err:
        if len(batch) == 1:
            return _failed_all(batch[0], err)
        return [r for p in batch for r in _run_batch(engine, [p], base)]
    # A case the rule did not finish on (a semgrep timeout) proves nothing either way:
    # an allow case would pass unchecked.
    unfinished = {(u.lesson, u.path): u.reason for u in request.unfinished}
    results = []
    for prepared in batch:
        lesson_id = prepared.lesson.id
        for entry in prepared.entries:
            why = unfinished.get((lesson_id, entry.path))
            if why is not None:
                results.append(CaseResult(lesson_id, entry.kind, entry.index, False,
                                          f"{entry.kind} case {entry.index}: the rule did not "
                                          f"finish on it ({why})"))
                continue
            hits = [f for f in findings if f.lesson == lesson_id and f.path == entry.path]
            results.append(_judge(lesson_id, entry, hits))
    return results


def _run_diff(prepared: _Prepared, base: Path) -> list[CaseResult]:
    """One request per case: the case file at a fresh root, marked as modified."""
    engine = ENGINES[prepared.template.engine]
    lesson = replace(prepared.lesson, paths=("**",))
    results = []
    for entry in prepared.entries:
        case_root = base / f"{lesson.id}.{entry.kind}.{entry.index}"
        rel = str(PurePosixPath(*PurePosixPath(entry.path).parts[3:]))
        _write(case_root, rel, entry.case.code)
        # agent=True: a case proves the rule as it fires, agent-only lessons included.
        request = CheckRequest(root=case_root, files=[rel], changes=[Change("M", rel)], agent=True)
        try:
            findings = engine.run([lesson], request)
        except LadderError as err:
            results.append(CaseResult(lesson.id, entry.kind, entry.index, False, f"the rule failed: {err.what}"))
            continue
        shown = replace(entry, path=rel)
        results.append(_judge(lesson.id, shown, [f for f in findings if f.lesson == lesson.id]))
    return results


def _write(root: Path, rel: str, code: str) -> None:
    target = root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(code, encoding="utf-8")


def _annotated(root: Path, lessons: Sequence[Lesson]) -> dict[str, list[CaseResult]]:
    from ladder.rules import semgrep_tests

    patterns = [x for x in lessons if x.rule is not None and x.rule.template == "pattern"]
    return semgrep_tests.annotated_results(root, patterns) if patterns else {}


def _missing(lesson_id: str, results: Sequence[CaseResult]) -> list[CaseResult]:
    # A check with no block case proves nothing; one with no allow case may flag everything.
    out = []
    kinds = {r.kind for r in results}
    if "rule" not in kinds:
        for kind in KINDS:
            if kind not in kinds:
                what = "flag" if kind == "block" else "accept"
                out.append(CaseResult(
                    lesson_id, kind, -1, False,
                    f"the rule has no {kind} case: add [[rule.{kind}]] code it must {what}",
                ))
    return out


def run_cases(lessons: Sequence[Lesson], *, root: Path | None = None) -> list[CaseResult]:
    """Every case of every lesson that has a rule, in lesson order (see the module doc)."""
    results: dict[str, list[CaseResult]] = {}
    batches: dict[str, list[_Prepared]] = {}
    diff: list[_Prepared] = []
    for lesson in lessons:
        if lesson.rule is None:
            continue
        prepared = _prepare(lesson, root)
        results[lesson.id] = []
        if isinstance(prepared, CaseResult):
            results[lesson.id].append(prepared)
        elif prepared.template.engine == "diff":
            diff.append(prepared)
        else:
            batches.setdefault(prepared.template.engine, []).append(prepared)
    with tempfile.TemporaryDirectory(prefix="ladder-cases-") as tmp:
        base = Path(tmp)
        for batch in batches.values():
            for prepared in batch:
                for entry in prepared.entries:
                    _write(base / "batch", entry.path, entry.case.code)
        for engine, batch in batches.items():
            for result in _run_batch(engine, batch, base / "batch"):
                results[result.lesson].append(result)
        for prepared in diff:
            results[prepared.lesson.id].extend(_run_diff(prepared, base / "diff"))
    if root is not None:
        # Annotated test files, judged as `semgrep --test` does (ladder.rules.semgrep_tests).
        for lesson_id, found in _annotated(root, lessons).items():
            results[lesson_id].extend(found)
    out: list[CaseResult] = []
    for lesson_id, found in results.items():
        out.extend(found)
        out.extend(_missing(lesson_id, found))
    return out
