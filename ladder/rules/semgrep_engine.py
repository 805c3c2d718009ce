"""The semgrep engine: every `pattern` lesson of one check in ONE semgrep process.

One process because semgrep's start-up dominates (≈0.15 s with `--experimental`,
≈1.2 s without) and the hook's budget is a few seconds. The combined config is JSON
(valid YAML, and no PyYAML import on the hook path) with each rule's id set to its
lesson's id, so findings map back to lessons.

Which file a lesson applies to is decided here, not by semgrep: semgrep is given the
union of the lessons' files and each finding is kept only when its file matches its
lesson's `paths` (and the rule's own `paths:`). Semgrep scans every file named on its
command line, .gitignore'd / .semgrepignore'd or not (tests/test_rules_semgrep.py
checks it), and `--max-target-bytes=0` stops it from skipping large files silently.

Fail closed: semgrep missing, a rule semgrep rejects, the whole process running over
TIMEOUT_S or any error is a LadderError / RuleCrash, never an empty list. One rule
running out of `semgrep_timeout` on one file is what semgrep calls it, a warning: it is
returned in `request.unfinished` (printed by `ladder check`) and every other finding
stands (issue 13) -- except for an agent's change, which could be written to time a
rule out, so there it still fails closed.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from ladder.errors import LadderError, RuleCrash
from ladder.findings import Finding, Unfinished
from ladder.globs import matches
from ladder.lesson import Lesson
from ladder.rules import semgrep_launch
from ladder.rules.base import CheckRequest
from ladder.rules.semgrep_launch import SEMGREP_ENV, SEMGREP_FLAGS
from ladder.rules.templates.pattern import (
    SemgrepRule,
    semgrep_command,
    semgrep_rule,
)

TIMEOUT_S = 300.0  # the whole process; the per-rule-per-file limit is `semgrep_timeout`
# The default engine gives the same findings (tests/test_rules_semgrep.py) and is ~8x slower to start.
EXPERIMENTAL = True
# semgrep reports these as warnings, but they mean a rule did not finish on a file.
# A timeout is a limit the user chose and can raise, so it is reported (`Unfinished`);
# running out of memory or stack has no such knob and would hide a rule for good, so
# it fails closed.
_FATAL_WARNINGS = ("timeout", "out of memory", "stack overflow")
_TIMEOUT = "timeout"
# File extensions per semgrep language, so a commit with no such file starts no semgrep.
# Languages not listed (generic, regex, dockerfile, ...) get every file.
_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "python": (".py", ".pyi", ".pyw"),
    "python3": (".py", ".pyi", ".pyw"),
    "py": (".py", ".pyi", ".pyw"),
    "javascript": (".js", ".jsx", ".mjs", ".cjs"),
    "js": (".js", ".jsx", ".mjs", ".cjs"),
    "typescript": (".ts", ".tsx", ".mts", ".cts"),
    "ts": (".ts", ".tsx", ".mts", ".cts"),
    "go": (".go",),
    "java": (".java",),
    "rust": (".rs",),
    "ruby": (".rb",),
    "c": (".c", ".h"),
    "cpp": (".cpp", ".cc", ".cxx", ".hpp", ".hh", ".h"),
    "bash": (".sh", ".bash"),
    "sh": (".sh", ".bash"),
    "yaml": (".yaml", ".yml"),
    "json": (".json",),
}


@dataclass(frozen=True)
class _Compiled:
    lesson: Lesson
    rule: SemgrepRule
    extensions: tuple[str, ...] | None  # None: any file

    def applies(self, path: str) -> bool:
        if not matches(path, self.lesson.paths):
            return False
        if self.rule.include and not matches(path, self.rule.include):
            return False
        if self.rule.exclude and matches(path, self.rule.exclude):
            return False
        # Semgrep picks a file's language by its extension (not its shebang, even for
        # a file named on the command line), so other files would be started for nothing.
        return self.extensions is None or PurePosixPath(path).suffix in self.extensions

    @property
    def rule_name(self) -> str:
        """Finding.rule: the user's semgrep id for yaml/config rules, else "pattern"."""
        return "pattern" if self.rule.semgrep_id == self.lesson.id else self.rule.semgrep_id


def _extensions(languages: object) -> tuple[str, ...] | None:
    if not isinstance(languages, list):
        return None
    out: list[str] = []
    for lang in languages:
        exts = _EXTENSIONS.get(str(lang).lower())
        if exts is None:
            return None
        out.extend(exts)
    return tuple(out)


def compile_lessons(lessons: Sequence[Lesson], root: Path) -> list[_Compiled]:
    out = []
    for lesson in lessons:
        if lesson.rule is None:
            continue
        rule = semgrep_rule(lesson, root)
        out.append(_Compiled(lesson, rule, _extensions(rule.rule.get("languages"))))
    return out


def _safe_rel(path: str) -> PurePosixPath:
    """`path` as a relative path that stays inside a temp dir ('..' and '/' dropped)."""
    parts = [p for p in PurePosixPath(path.replace("\\", "/")).parts if p not in ("..", "/", ".")]
    return PurePosixPath(*parts) if parts else PurePosixPath("_")


def _stage_targets(request: CheckRequest, paths: Sequence[str], tmp: Path) -> dict[str, str]:
    """Semgrep argument -> repo-relative path; in-memory contents go to files under `tmp`."""
    targets: dict[str, str] = {}
    for path in paths:
        if request.contents is not None and path in request.contents:
            dest = tmp / "files" / _safe_rel(path)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(request.contents[path], encoding="utf-8")
            targets[str(dest)] = path
        elif (request.root / path).is_file():
            targets[path] = path  # relative: semgrep runs with cwd = root
        # A path that is not a file (deleted in this commit) has nothing to scan.
    return targets


@functools.lru_cache(maxsize=1)
def osemgrep_core() -> str | None:
    """The semgrep-core binary that `semgrep scan --experimental` ends up exec-ing.

    semgrep's console script is a Python shim that starts an interpreter only to
    `execvp` this binary with argv[0] = "osemgrep". Calling it directly, the same way,
    saves one Python start-up (~40 ms) on every commit (bench/check_latency.py).
    None when the layout is not the one we know: then the shim is used.
    """
    import importlib.util

    spec = importlib.util.find_spec("semgrep")
    if spec is None or not spec.origin:
        return None
    core = Path(spec.origin).parent / "bin" / "semgrep-core"
    return str(core) if core.is_file() and os.access(core, os.X_OK) else None


def run_semgrep(
    rules: Sequence[Mapping[str, Any]], targets: Sequence[str], cwd: Path, *, experimental: bool = EXPERIMENTAL,
    timeout: int = semgrep_launch.SEMGREP_TIMEOUT_S, extra: Sequence[str] = (),
) -> dict[str, Any]:
    """semgrep's JSON output for `rules` on `targets` (never called with no target:
    semgrep would then scan the whole of `cwd`). `extra` flags go to the default
    engine only (`ladder.rules.semgrep_tests` runs it the way `semgrep --test` does)."""
    assert targets, "semgrep with no target scans the current directory"
    assert not (extra and experimental), "extra flags are for the default engine"
    text = semgrep_launch.config_text([json.dumps(rule) for rule in rules])
    core = osemgrep_core() if experimental else None
    proc: subprocess.Popen[str] | semgrep_launch.Spawned | None = (
        semgrep_launch.take(text, targets, str(cwd), timeout) if core else None
    )
    with tempfile.TemporaryDirectory(prefix="ladder-semgrep-") as tmp:
        try:
            if proc is None:
                config = Path(tmp) / "rules.json"
                config.write_text(text, encoding="utf-8")
                if core:
                    proc = semgrep_launch.start(core, str(config), targets, str(cwd), timeout)
                else:
                    cmd = [
                        *semgrep_command(), "scan", *(["--experimental"] if experimental else []),
                        *SEMGREP_FLAGS, "--max-target-bytes=0", *semgrep_launch.timeout_flags(timeout),
                        *extra, "--config", str(config), "--", *targets,
                    ]
                    proc = subprocess.Popen(
                        cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, text=True, env={**os.environ, **SEMGREP_ENV},
                    )
            stdout, stderr = proc.communicate(timeout=TIMEOUT_S)
            code = proc.returncode
        except subprocess.TimeoutExpired as exc:
            assert proc is not None
            proc.kill()
            proc.communicate()
            raise RuleCrash("pattern", _ids(rules), "", f"semgrep ran over {TIMEOUT_S:.0f} s") from exc
        except OSError as exc:
            raise LadderError(
                f"semgrep could not be started: {exc}",
                todo="reinstall semgrep (`pip install semgrep`) or demote the `pattern` lessons",
            ) from exc
    try:
        data = json.loads(stdout)
    except ValueError:
        detail = (stderr.strip().splitlines() or [f"exit code {code}, no output"])[-1]
        raise RuleCrash("pattern", _ids(rules), "", f"semgrep failed: {detail}") from None
    if not isinstance(data, dict):
        raise RuleCrash("pattern", _ids(rules), "", "semgrep printed no JSON object")
    data["returncode"] = code
    return data


def _ids(rules: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(str(r.get("id")) for r in rules)


def _lesson_of(check_id: str, ids: Sequence[str]) -> str | None:
    """The lesson id of a semgrep check id; the default engine prefixes the config's
    directory (`tmp.ladder-x.<id>`), so the longest id it ends with wins."""
    if check_id in ids:
        return check_id
    hits = [i for i in ids if check_id.endswith("." + i)]
    return max(hits, key=len) if hits else None


def _error_text(error: Mapping[str, Any]) -> str:
    text = str(error.get("message") or error.get("long_msg") or error.get("short_msg") or error.get("type"))
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return " ".join(lines[:2]) if lines else "unknown error"


def _unfinished(
    error: Mapping[str, Any], lesson: str | None, compiled: Sequence[_Compiled], paths: Mapping[str, str],
    timeout: int,
) -> Unfinished | None:
    """The warning for a rule's timeout on a file; None when that lesson does not apply
    to the file (semgrep saw the union of all lessons' files): nothing was hidden."""
    raw = str(error.get("path", ""))
    path = paths.get(raw) or paths.get(os.path.normpath(raw)) or raw
    by_id = {c.lesson.id: c for c in compiled}
    if lesson in by_id and not by_id[lesson].applies(path):
        return None
    ids = lesson or ", ".join(by_id)
    return Unfinished(ids, path, f"semgrep timeout of {timeout} s")


def raise_errors(
    data: Mapping[str, Any], compiled: Sequence[_Compiled], paths: Mapping[str, str], request: CheckRequest
) -> list[Unfinished]:
    """Fail closed on anything semgrep could not do; silence only what cannot hide a match.

    A rule's timeout on a file is returned as an `Unfinished` warning, except for an
    agent's change (LADDER_AGENT=1 sets `code_root`), which fails closed."""
    ids = [c.lesson.id for c in compiled]
    errors = [e for e in data.get("errors", []) if isinstance(e, dict)]
    warnings: list[Unfinished] = []
    lenient = not request.agent and request.code_root is None
    for error in errors:
        level = str(error.get("level", "error")).lower()
        kind = str(error.get("type", "")).lower()
        fatal = level == "error" or any(word in kind for word in _FATAL_WARNINGS)
        if not fatal:
            continue  # e.g. a syntax error in a target: semgrep still matched what it parsed
        lesson = _lesson_of(str(error.get("rule_id", "")), ids)
        if lesson is None and len(ids) == 1:
            lesson = ids[0]
        if lenient and level != "error" and _TIMEOUT in kind:
            warning = _unfinished(error, lesson, compiled, paths, request.semgrep_timeout)
            warnings += [warning] if warning else []
            continue
        text = _error_text(error)
        if "rule" in kind or "pattern" in kind or "schema" in kind or "yaml" in kind:
            raise LadderError(
                f"semgrep rejects the rule of lesson {lesson or '?'}: {text}",
                where=f".ladder/lessons/{lesson}.toml" if lesson else ".ladder/lessons",
                todo="fix the rule's pattern/YAML, or demote the lesson",
            )
        where = str(error.get("path", ""))
        raise RuleCrash("pattern", lesson or ", ".join(ids), paths.get(where, where), f"semgrep: {text}")
    if data.get("returncode", 0) != 0:
        raise RuleCrash("pattern", ", ".join(ids), "", f"semgrep exited with code {data['returncode']}")
    return warnings


def _finding(result: Mapping[str, Any], by_id: Mapping[str, _Compiled], paths: Mapping[str, str]) -> Finding | None:
    lesson_id = _lesson_of(str(result.get("check_id", "")), list(by_id))
    raw_path = str(result.get("path", ""))
    path = paths.get(raw_path) or paths.get(os.path.normpath(raw_path))
    if lesson_id is None or path is None:
        return None
    compiled = by_id[lesson_id]
    if not compiled.applies(path):
        return None  # post-filter: semgrep saw the union of all lessons' files
    start = result.get("start", {})
    message = str(result.get("extra", {}).get("message", "")).strip() or compiled.lesson.title
    return Finding(
        rule=compiled.rule_name,
        lesson=lesson_id,
        path=path,
        line=int(start.get("line", 1)),
        column=int(start.get("col", 1)),
        message=message,
    )


def scan(
    compiled: Sequence[_Compiled], request: CheckRequest, *, experimental: bool = EXPERIMENTAL
) -> list[Finding]:
    wanted = [f for f in request.files if any(c.applies(f) for c in compiled)]
    if not wanted:
        return []  # no semgrep process at all: a commit without such files pays nothing
    with tempfile.TemporaryDirectory(prefix="ladder-targets-") as tmp:
        targets = _stage_targets(request, wanted, Path(tmp))
        if not targets:
            return []
        data = run_semgrep(
            [c.rule.rule for c in compiled], list(targets), request.root,
            experimental=experimental, timeout=request.semgrep_timeout,
        )
    # Also accept semgrep's normalised spelling of a target (the default engine drops "./").
    paths = {**{os.path.normpath(k): v for k, v in targets.items()}, **targets}
    request.unfinished.extend(raise_errors(data, compiled, paths, request))
    by_id = {c.lesson.id: c for c in compiled}
    found = {f for r in data.get("results", []) if (f := _finding(r, by_id, paths)) is not None}
    return sorted(found, key=lambda f: (f.path, f.line, f.column, f.lesson))


def _semgrep_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("semgrep")
    except PackageNotFoundError:
        return "unknown"


def cached_scan(compiled: Sequence[_Compiled], request: CheckRequest) -> list[Finding]:
    """`scan` through the findings cache (ladder.rules.cache): semgrep runs only on the
    files whose content changed since a check with the same rules, or not at all.

    A semgrep rule sees one file at a time, so a file's findings depend on its bytes and
    the rules alone (their resolved YAML, the lessons they serve, semgrep's version). A
    file a rule did not finish on (a timeout) is not cached: its findings are unknown."""
    from ladder.rules.cache import FindingsCache, digest, rules_key

    assert request.cache is not None
    cache = FindingsCache.load(request.cache)
    rules = rules_key([{"engine": "semgrep", "semgrep": _semgrep_version(),
                        "timeout": request.semgrep_timeout,
                        "lessons": [[c.lesson.id, list(c.lesson.paths), c.rule.rule,
                                     list(c.rule.include), list(c.rule.exclude)] for c in compiled]}])
    found: list[Finding] = []
    misses: dict[str, str] = {}
    for path in request.files:
        if not any(c.applies(path) for c in compiled):
            continue
        content = digest(request.read_bytes(path))
        hit = cache.get(f"semgrep:{path}", content, rules)
        if hit is None:
            misses[path] = content
        else:
            found.extend(hit)
    if misses:
        before = len(request.unfinished)
        fresh = scan(compiled, replace(request, files=list(misses)))
        unknown = {u.path for u in request.unfinished[before:]}
        by_path: dict[str, list[Finding]] = {}
        for finding in fresh:
            by_path.setdefault(finding.path, []).append(finding)
        for path, content in misses.items():
            if path not in unknown:
                cache.put(f"semgrep:{path}", content, rules, by_path.get(path, []))
        found.extend(fresh)
        cache.save()
    return sorted(found, key=lambda f: (f.path, f.line, f.column, f.lesson))


class SemgrepEngine:
    name = "semgrep"

    def run(self, lessons: Sequence[Lesson], request: CheckRequest) -> list[Finding]:
        # A rule's `config` file is read from `code_root` (for an agent's commit, the
        # user's repository), never from a checkout a process ladder does not trust wrote.
        compiled = compile_lessons(lessons, request.code_root or request.root)
        if not compiled:
            return []
        if request.cache is not None and not request.agent:
            return cached_scan(compiled, request)
        return scan(compiled, request)


ENGINE = SemgrepEngine()
