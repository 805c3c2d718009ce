"""Semgrep-style annotated test files, reused as a `pattern` lesson's cases.

For a lesson whose rule is `config = "rules/no-eval.yaml"`, the files beside it whose
name up to the first dot is `no-eval` (`rules/no-eval.py`, `rules/no-eval.html`, not
`no-eval.fixed.py` nor another rule file) are its test files, as in `semgrep --test`:

    # ruleid: no-eval
    eval(x)            <- must be flagged
    # ok: no-eval
    ast.literal_eval(x)  <- must not be
    eval(y)            <- flagged with no `ruleid` above it: fails

and each is judged exactly as `semgrep --test` judges it (issue 13): the annotation
forms and their meaning are in `ladder.rules.semgrep_annotations`, the `.fixed` file
comparison in `ladder.rules.semgrep_autofix`. A rule file with several rules serves
one lesson per rule (`rule_id`); each lesson is judged on its own rule's id.

Every rule of the file runs, not only the lessons', because `semgrep --test` runs
them all: the `.fixed` file holds every rule's fixes, and its rule id mismatch check
sees every rule's findings. They run as semgrep's own test runner runs them, so the
same files are scanned (a `.md` test file is, a `.html` one is not for a Python rule)
and rule `paths:` are ignored; all rule files share one semgrep process
(`ladder.rules.semgrep_test_run`). Where `semgrep --test` would fail on something no
annotation is about (an error semgrep reports on a test file, a rule id mismatch),
the lesson fails with it, with kind `file`; a `.fixed` comparison has kind `fix`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ladder.errors import LadderError
from ladder.lesson import Lesson
from ladder.rules import semgrep_annotations as notes_mod
from ladder.rules import semgrep_autofix as autofix
from ladder.rules.cases import CaseResult
from ladder.rules.semgrep_test_run import RuleFileRun, RunOutput, scan_runs
from ladder.rules.templates.pattern import read_config, semgrep_rule, yaml_rules

_RULE_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class _Chosen:
    """A lesson's rule as its test run sends it: the file's id, the lesson's overrides."""

    lesson: Lesson
    rule_id: str
    rule: dict[str, Any]


@dataclass(frozen=True)
class _Run:
    """One rule file's test: its semgrep run, the lessons judged on it, its .fixed files."""

    scan: RuleFileRun
    lessons: tuple[_Chosen, ...]
    fixed: Mapping[str, str]  # test file -> its .fixed file


def _name_stem(name: str) -> str:
    return name.split(".", 1)[0]


def _is_rule_file(path: Path) -> bool:
    """semgrep's config files: .yaml/.yml, not `x.test.yaml` (a YAML test file) nor `.fixed`."""
    suffixes = path.suffixes
    return (
        bool(suffixes) and suffixes[-1] in _RULE_SUFFIXES
        and suffixes[-2:-1] != [".test"] and autofix.FIXED not in suffixes
    )


def annotated_files(root: Path, config: str) -> list[Path]:
    """The test files of a rule file (see the module doc)."""
    rule_file = root / config
    if not rule_file.parent.is_dir():
        return []
    stem = _name_stem(rule_file.name)
    return sorted(
        p for p in rule_file.parent.iterdir()
        if p.is_file() and _name_stem(p.name) == stem
        and not _is_rule_file(p) and autofix.FIXED not in p.suffixes
    )


def _config_of(lesson: Lesson) -> str | None:
    rule = lesson.rule
    if rule is None or rule.template != "pattern":
        return None
    config = rule.args.get("config")
    return str(PurePosixPath(config.strip())) if isinstance(config, str) else None


def _read(path: Path, name: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LadderError(f"annotated test file cannot be read: {exc}", where=name) from exc


def _choose(root: Path, lesson: Lesson) -> _Chosen:
    compiled = semgrep_rule(lesson, root)
    return _Chosen(lesson, compiled.semgrep_id, {**compiled.rule, "id": compiled.semgrep_id})


def _plan(root: Path, config: str, chosen: Sequence[_Chosen]) -> list[_Run]:
    """The runs for the lessons of one rule file: one, unless two lessons take the same
    rule (with different overrides), which then cannot share a run."""
    where = f".ladder/lessons/{chosen[0].lesson.id}.toml"
    file_rules = yaml_rules(read_config(root, config, where), where, config)
    paths = annotated_files(root, config)
    if not paths:
        return []
    files = tuple(p.relative_to(root).as_posix() for p in paths)
    siblings = list(paths[0].parent.iterdir())
    fixed = {
        f: found.relative_to(root).as_posix()
        for f, p in zip(files, paths, strict=True) if (found := autofix.fixed_file(p, siblings)) is not None
    }
    groups: list[dict[str, _Chosen]] = []
    for one in chosen:
        group = next((g for g in groups if one.rule_id not in g), None)
        if group is None:
            groups.append(group := {})
        group[one.rule_id] = one
    return [
        _Run(RuleFileRun(config, tuple(_rule_for_test(r, g) for r in file_rules), files), tuple(g.values()), fixed)
        for g in groups
    ]


def _rule_for_test(rule: Mapping[str, Any], group: Mapping[str, _Chosen]) -> dict[str, Any]:
    taken = group.get(str(rule.get("id")))
    out = dict(taken.rule if taken is not None else rule)
    out.pop("paths", None)  # a test file need not match the rule's paths: semgrep ignores them
    return out


@dataclass
class _Tally:
    """The CaseResults of one lesson, numbered per kind."""

    lesson: str
    results: list[CaseResult] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, ok: bool, detail: str, source: str) -> None:
        index = self.counts.get(kind, 0)
        self.counts[kind] = index + 1
        self.results.append(CaseResult(self.lesson, kind, index, ok, detail, source))


def _judge(root: Path, run: _Run, out: RunOutput) -> dict[str, list[CaseResult]]:
    texts = {name: _read(root / name, name) for name in run.scan.files}
    notes = {name: notes_mod.parse_annotations(text) for name, text in texts.items()}
    known = {str(rule.get("id")) for rule in run.scan.rules}
    any_reported = bool(out.findings)
    tallies = {}
    for chosen in run.lessons:
        tally = _Tally(chosen.lesson.id)
        for name in run.scan.files:
            _judge_file(tally, name, texts[name], notes[name], chosen.rule_id, out, any_reported)
            for problem in notes_mod.unknown_ids(name, notes[name], known, any_reported):
                tally.add("file", False, f"{problem} (semgrep --test fails on it)", f"annotated:{name}")
        for error in out.errors:
            tally.add("file", False, f"{error} (semgrep --test fails every rule of the file on it)",
                      f"annotated:{run.scan.config}")
        for name, fixed_name in run.fixed.items():
            _judge_fix(tally, root, name, fixed_name, texts[name], out)
        tallies[chosen.lesson.id] = tally.results
    return tallies


def _judge_file(
    tally: _Tally, name: str, text: str, notes: Sequence[notes_mod.Annotation], rule_id: str,
    out: RunOutput, any_reported: bool,
) -> None:
    """semgrep checks rule id mismatches only when its rules flagged something somewhere."""
    here = [f for f in out.findings if f.path == name]
    flagged = {f.line for f in here if f.rule_id == rule_id}
    verdicts = notes_mod.judge_lines(name, text, notes, rule_id, flagged)
    for verdict in verdicts:
        tally.add(verdict.kind, verdict.ok, verdict.detail, f"annotated:{name}")
    if not any_reported or not all(v.ok for v in verdicts):
        return  # a failing line already says what is wrong with this file
    problem = notes_mod.mismatch(name, notes, rule_id, {f.rule_id for f in here})
    if problem is not None:
        tally.add("file", False, f"{problem}: semgrep --test fails on such a rule id mismatch", f"annotated:{name}")


def _judge_fix(tally: _Tally, root: Path, name: str, fixed_name: str, text: str, out: RunOutput) -> None:
    edits = [f.edit for f in out.findings if f.path == name and f.edit is not None]
    got = autofix.apply_edits(text, edits)
    detail = autofix.compare(name, fixed_name, got, _read(root / fixed_name, fixed_name))
    tally.add("fix", not detail, detail, f"annotated:{name}")


def _broken(lesson_id: str, err: LadderError) -> CaseResult:
    where = f" ({err.where})" if err.where else ""
    return CaseResult(lesson_id, "rule", -1, False, f"annotated tests: {err.what}{where}", "annotated")


def _runs(root: Path, lessons: Sequence[Lesson], out: dict[str, list[CaseResult]]) -> list[_Run]:
    """The runs for `lessons`; a lesson whose rule or rule file is broken gets its
    failure in `out` instead."""
    by_config: dict[str, list[_Chosen]] = {}
    for lesson in lessons:
        config = _config_of(lesson)
        if config is None:
            continue
        try:
            chosen = _choose(root, lesson)
        except LadderError as err:  # only this lesson's rule is broken
            out[lesson.id] = [_broken(lesson.id, err)]
            continue
        by_config.setdefault(config, []).append(chosen)
    runs: list[_Run] = []
    for config, group in by_config.items():
        try:
            runs += _plan(root, config, group)
        except LadderError as err:
            out.update({c.lesson.id: [_broken(c.lesson.id, err)] for c in group})
    return runs


def annotated_results(root: Path, lessons: Sequence[Lesson]) -> dict[str, list[CaseResult]]:
    """The annotated-file CaseResults of each `config` lesson that has test files."""
    out: dict[str, list[CaseResult]] = {}
    runs = _runs(root, lessons, out)
    for run, output in zip(runs, scan_runs(root, [r.scan for r in runs]), strict=True):
        out.update(_judged(root, run, output))
    return out


def _judged(root: Path, run: _Run, output: RunOutput | LadderError) -> dict[str, list[CaseResult]]:
    if isinstance(output, RunOutput):
        try:
            return _judge(root, run, output)
        except LadderError as err:  # a test file that cannot be read
            output = err
    return {c.lesson.id: [_broken(c.lesson.id, output)] for c in run.lessons}


def annotated_case_results(root: Path, lesson: Lesson) -> list[CaseResult]:
    """One lesson's annotated-file CaseResults ([] when it has no test file)."""
    return annotated_results(root, [lesson]).get(lesson.id, [])
