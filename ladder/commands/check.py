"""`ladder check`: run the rules of lessons at levels 3-5; the git hook's entry point.

Modes: `--hook` (pre-commit passes the staged files; the diff is the staged one, or the
pushed range in a pre-push hook), `--staged`, `--base REV` (CI), or explicit FILES /
the whole tree. Level 5 findings block; with `--ci` level 4 blocks too; level 3 warns.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ladder import git
from ladder.errors import LadderError
from ladder.findings import Finding, Unfinished
from ladder.lesson import Lesson
from ladder.project import Project
from ladder.store import load_lessons

BYPASS = "to bypass knowingly: `SKIP=ladder-check git commit ...` or `git commit --no-verify`"


def _agent_code_root(project: Project) -> Path | None:
    """For an agent's commit (LADDER_AGENT=1, ladder's own commits in its worktrees):
    the user's repository, where `custom` checks are imported from -- not the checkout a
    process ladder does not trust wrote. None otherwise (the project itself)."""
    if os.environ.get("LADDER_AGENT") != "1":
        return None
    from ladder.git import git_dir

    return git_dir(project.root).parent


def findings_cache(project: Project, *, hook: bool = False) -> Path | None:
    """Where a check a person or CI asked for keeps its findings (ladder.rules.cache);
    None for the hook and for the agent loop's commits."""
    if hook or os.environ.get("LADDER_AGENT") == "1":
        return None
    from ladder.errors import LadderError as _Error
    from ladder.git import git_dir
    from ladder.rules.cache import location

    try:
        return location(git_dir(project.root))
    except _Error:
        return None


def _relative(project: Project, names: Sequence[str]) -> list[str]:
    out = []
    for name in names:
        path = Path(name)
        absolute = path if path.is_absolute() else Path.cwd() / path
        # The directories resolved, not the name itself: a symlink `run.py` is checked
        # by its own name (which rules see it) and its target's content, never renamed
        # to its target (`payload.txt`, which no Python rule reads).
        absolute = absolute.parent.resolve() / absolute.name
        try:
            rel = absolute.relative_to(project.root.resolve()).as_posix()
        except ValueError:
            raise LadderError("file is outside the repository", where=name) from None
        if not (project.root / rel).is_file():
            raise LadderError("no such file", where=name, todo="check the path")
        out.append(rel)
    return out


def _uses_diff(lessons: Sequence[Lesson]) -> bool:
    from ladder.rules.registry import TEMPLATES

    return any(
        x.rule is not None
        and x.rule.template in TEMPLATES
        and TEMPLATES[x.rule.template].engine == "diff"
        for x in lessons
    )


def _existing(project: Project, changes: Sequence[git.Change]) -> list[str]:
    return [c.path for c in changes if c.status != "D" and (project.root / c.path).is_file()]


def select(
    project: Project,
    lessons: Sequence[Lesson],
    *,
    files: Sequence[str],
    hook: bool,
    staged: bool,
    base: str | None,
) -> tuple[list[str], list[git.Change] | None]:
    """The files to check and the diff for `protect` rules (None: not diff-aware)."""
    root = project.root
    if hook:
        changes: list[git.Change] | None = None
        if _uses_diff(lessons):
            frm, to = os.environ.get("PRE_COMMIT_FROM_REF"), os.environ.get("PRE_COMMIT_TO_REF")
            changes = git.changes_between(root, frm, to) if frm and to else git.staged_changes(root)
        return _relative(project, files), changes
    if staged or base:
        changes = git.staged_changes(root) if staged else git.changes_between(root, str(base))
        chosen = _relative(project, files) if files else _existing(project, changes)
        return chosen, changes
    if files:
        return _relative(project, files), None
    return git.list_files(root), git.working_changes(root) if _uses_diff(lessons) else None


def _index(project: Project, lessons: Sequence[Lesson]) -> list[dict[str, object]]:
    """What the hook's fast path needs to know of each enforced lesson."""
    from ladder.hooks.fast import ENGINE_SUFFIXES
    from ladder.rules.registry import TEMPLATES

    out: list[dict[str, object]] = []
    for lesson in lessons:
        assert lesson.rule is not None
        template = TEMPLATES.get(lesson.rule.template)
        engine = template.engine if template else ""  # unknown: the runner reports it
        entry: dict[str, object] = {
            "id": lesson.id, "paths": list(lesson.paths), "suffixes": ENGINE_SUFFIXES.get(engine),
        }
        if engine == "semgrep":
            entry.update(_semgrep_entry(project, lesson))
        out.append(entry)
    return out


def _semgrep_entry(project: Project, lesson: Lesson) -> dict[str, object]:
    import json

    from ladder.rules.semgrep_engine import compile_lessons

    (compiled,) = compile_lessons([lesson], project.root)
    exts = compiled.extensions
    return {
        "suffixes": list(exts) if exts is not None else None,
        "semgrep": {
            "rule_json": json.dumps(compiled.rule.rule),
            "include": list(compiled.rule.include),
            "exclude": list(compiled.rule.exclude),
            "extensions": list(exts) if exts is not None else None,
        },
    }


def run(
    project: Project,
    *,
    files: Sequence[str] = (),
    hook: bool = False,
    staged: bool = False,
    base: str | None = None,
    ci: bool = False,
    fmt: str = "text",
) -> int:
    from ladder import firelog, formats
    from ladder.rules.base import CheckRequest
    from ladder.rules.runner import check

    if sum((hook, staged, base is not None)) > 1:
        raise LadderError("give only one of --hook, --staged and --base")
    from ladder.hooks import fast

    files_seen = fast.fingerprint(str(project.root)) if project.initialized else []
    lessons = [x for x in load_lessons(project) if x.status == "active" and x.level >= 3 and x.rule]
    if hook:
        from ladder.rules.semgrep_engine import osemgrep_core

        index = _index(project, lessons)
        core = osemgrep_core() if any("semgrep" in e for e in index) else None
        fast.write_index(str(project.root), files_seen, index, list(project.config.exclude), core,
                         project.config.semgrep_timeout)
    chosen, changes = select(project, lessons, files=files, hook=hook, staged=staged, base=base)
    findings: list[Finding] = []
    unfinished: list[Unfinished] = []
    if lessons:
        request = CheckRequest(root=project.root, files=chosen, changes=changes,
                               code_root=_agent_code_root(project),
                               cache=findings_cache(project, hook=hook),
                               jobs=1 if hook else os.cpu_count() or 1,
                               max_parse_bytes=project.config.max_parse_bytes,
                               semgrep_timeout=project.config.semgrep_timeout)
        findings = check(request, lessons, exclude=project.config.exclude)
        unfinished = request.unfinished
    blocking = frozenset({4, 5} if ci else {5})
    by_id = {x.id: x for x in lessons}
    if fmt == "json":
        print(formats.as_json(findings, blocking))
    elif fmt == "sarif":
        print(formats.sarif(findings, by_id, blocking, unfinished))
    elif findings:
        print(formats.text(findings, by_id, blocking))
    for warning in unfinished:  # in every format: stdout may be a JSON or SARIF document
        print(warning.line(), file=sys.stderr)
    firelog.record(project, findings, "hook" if hook else "ci" if ci else "manual")
    blocked = [f for f in findings if f.level in blocking]
    warned = len(findings) - len(blocked)
    if hook:
        _record_findings(blocked)
    if fmt == "text":
        _summary(blocked, warned, hook=hook, files=len(chosen), lessons=len(lessons))
    return 1 if blocked else 0


def _record_findings(blocked: Sequence[Finding]) -> None:
    """For the agent loop, which committed: one JSON line of what blocked, appended to
    $LADDER_FINDINGS_FILE when it is set (pre-commit may run the hook more than once)."""
    import json
    import os

    path = os.environ.get("LADDER_FINDINGS_FILE")
    if not path:
        return
    record = {"blocked": sorted({f.lesson for f in blocked}),
              "findings": [{"lesson": f.lesson, "path": f.path, "line": f.line,
                            "message": f.message} for f in blocked]}
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


def _summary(
    blocked: Sequence[Finding], warned: int, *, hook: bool, files: int, lessons: int
) -> None:
    if blocked:
        ids = sorted({f.lesson for f in blocked})
        what = "the commit is refused" if hook else "blocking"
        print(
            f"ladder: {len(blocked)} finding(s) from {', '.join(ids)}: {what}. "
            f"Fix the code; {BYPASS}",
            file=sys.stderr,
        )
    if warned:
        print(f"ladder: {warned} warning(s) (not blocking)", file=sys.stderr)
    if not blocked and not warned and not hook:
        print(f"ladder: {files} file(s), {lessons} rule(s): no findings", file=sys.stderr)
