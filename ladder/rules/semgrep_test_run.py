"""The semgrep processes behind `ladder.rules.semgrep_tests`: rule files on their test files.

Each rule file runs the way `semgrep --test` runs it: semgrep's default engine, with
`--scan-unknown-extensions` (a test file named on the command line is scanned even
when its extension belongs to no language) and the rules' ids left as they are.

That engine takes ~1.3 s to start, where the test itself takes milliseconds, so all
rule files go to ONE process: each rule's id gets its run's number (`3.no-eval`) and
its `paths: include:` becomes exactly its own rule file's test files, so no rule sees
another's files (and no test file is parsed by a language its own rules do not have).
When that process fails (a rule semgrep rejects), each rule file runs alone so the
failure lands on its own lessons only. A run alone keeps `paths:` out, as semgrep
does in a test.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ladder.errors import LadderError
from ladder.rules.semgrep_autofix import Edit
from ladder.rules.semgrep_engine import run_semgrep

TEST_FLAGS = ("--scan-unknown-extensions", "--no-rewrite-rule-ids", "--optimizations", "none")
_GLOB_CHARS = frozenset("*?[]{}!\\")  # a file name with one cannot be an exact `include:`


@dataclass(frozen=True)
class RuleFileRun:
    """A rule file's rules (lessons' overrides applied, `paths:` removed) on its test files."""

    config: str
    rules: tuple[dict[str, Any], ...]
    files: tuple[str, ...]  # repo-relative


@dataclass(frozen=True)
class Found:
    rule_id: str  # as the rule file has it
    path: str  # one of the run's files
    line: int
    edit: Edit | None  # semgrep's fix for it, when the rule has one


@dataclass(frozen=True)
class RunOutput:
    findings: tuple[Found, ...]
    errors: tuple[str, ...]  # what semgrep reported on a test file; `semgrep --test` fails on any


def _error_text(error: Mapping[str, Any]) -> str:
    text = str(error.get("message") or error.get("type") or "an error")
    return " ".join(line.strip() for line in text.strip().splitlines()[:2] if line.strip())


def _edit(result: Mapping[str, Any]) -> Edit | None:
    fix = result.get("extra", {}).get("fix")
    if not isinstance(fix, str):
        return None
    return Edit(int(result["start"]["offset"]), int(result["end"]["offset"]), fix)


def _batched_rules(runs: Sequence[RuleFileRun]) -> list[dict[str, Any]]:
    if len(runs) == 1:
        return list(runs[0].rules)
    return [
        {**rule, "id": f"{n}.{rule.get('id')}", "paths": {"include": list(run.files)}}
        for n, run in enumerate(runs)
        for rule in run.rules
    ]


def _owner(check_id: str, batched: bool) -> tuple[int, str]:
    """The run number and the rule file's own id of a semgrep check id (-1: none)."""
    if not batched:
        return 0, check_id
    n, _, rule_id = check_id.partition(".")
    return (int(n), rule_id) if n.isdigit() else (-1, check_id)


def _scan(root: Path, runs: Sequence[RuleFileRun]) -> list[RunOutput]:
    files = sorted({f for run in runs for f in run.files})
    data = run_semgrep(_batched_rules(runs), files, root, experimental=False, extra=TEST_FLAGS)
    batched = len(runs) > 1
    configs = ", ".join(run.config for run in runs)
    errors = [e for e in data.get("errors", []) if isinstance(e, dict)]
    fatal = [e for e in errors if str(e.get("level", "error")).lower() == "error"]
    if fatal:
        raise LadderError(f"semgrep cannot run {configs} on the test files: {_error_text(fatal[0])}")
    if data.get("returncode", 0) != 0 and not errors:
        raise LadderError(f"semgrep exited with code {data['returncode']} on the test files of {configs}")
    found: list[list[Found]] = [[] for _ in runs]
    named = {os.path.normpath(f): f for f in files}
    for result in data.get("results", []):
        n, rule_id = _owner(str(result.get("check_id")), batched)
        path = named.get(os.path.normpath(str(result.get("path"))), "")
        if 0 <= n < len(runs):
            found[n].append(Found(rule_id, path, int(result["start"]["line"]), _edit(result)))
    return [RunOutput(tuple(found[n]), _errors_of(run, errors, n, batched)) for n, run in enumerate(runs)]


def _errors_of(run: RuleFileRun, errors: Sequence[Mapping[str, Any]], n: int, batched: bool) -> tuple[str, ...]:
    """The (non-fatal) errors about this run: on one of its files, or by one of its rules."""
    files = {os.path.normpath(f) for f in run.files}
    mine = []
    for error in errors:
        path = error.get("path")
        if path and os.path.normpath(str(path)) not in files:
            continue
        rule = error.get("rule_id")
        if batched and rule and _owner(str(rule), batched)[0] not in (n, -1):
            continue
        mine.append(f"{path or run.config}: semgrep reported {_error_text(error)}")
    return tuple(mine)


def _batchable(run: RuleFileRun) -> bool:
    return not any(_GLOB_CHARS & set(f) for f in run.files)


def scan_runs(root: Path, runs: Sequence[RuleFileRun]) -> list[RunOutput | LadderError]:
    """Each run's findings, or the error that stopped it (see the module doc)."""
    outputs: dict[int, RunOutput | LadderError] = {}
    together = [n for n, run in enumerate(runs) if _batchable(run)]
    if len(together) > 1:
        # On failure (one rule file semgrep rejects) each runs alone, to find which.
        with contextlib.suppress(LadderError):
            outputs.update(zip(together, _scan(root, [runs[n] for n in together]), strict=True))
    for n, run in enumerate(runs):
        if n not in outputs:
            try:
                [outputs[n]] = _scan(root, [run])
            except LadderError as err:
                outputs[n] = err
    return [outputs[n] for n in range(len(runs))]
