"""Level 5, hook: the level-4 check bound to git, so a violating commit cannot exist.

The artifact is the `ladder-check` hook in `.pre-commit-config.yaml` (see
`ladder.hooks`). `compile` makes sure it is there whenever a lesson sits at level 5;
it never removes it: `ladder init` adds it up front (so teammates' clones get the hook
before the first level-5 lesson lands), and with no level-5 lesson `ladder check
--hook` finds nothing to do, cheaply.

Gate: the hooks are installed; the rule does not fire on the current tree (else the
first commit touching those files is blocked); and the check of one commit stays within
`hook_budget_ms`. The two are measured apart, because they cost different things: a
commit's hook checks its staged files, so its cost is measured on a commit of files of
the size typical for the rule (the files nearest the median); the tree is checked once,
without a wall-clock limit, with progress on stderr (issue 13: a whole-tree limit of
3 s kept every rule of a 921-file repository off level 5, though its hook took 1 s).
Both figures are printed.
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ladder import git
from ladder.errors import LadderError
from ladder.findings import Finding, Unfinished
from ladder.lesson import Lesson, Rule
from ladder.levels.lint import validated
from ladder.project import Project

if TYPE_CHECKING:
    from ladder.rules.base import CheckRequest

SHOWN_FINDINGS = 5
COMMIT_FILES = 5  # a typical commit: this many staged files of the rule's median size
PROGRESS_EVERY_S = 2.0  # a tree scan longer than this says how far it is
DIFF_ENGINES = frozenset({"diff"})  # engines that judge changes (protect), not contents


def _at_five(lessons: Sequence[Lesson]) -> list[Lesson]:
    return [x for x in lessons if x.status == "active" and x.level == 5]


def missing_hooks(project: Project) -> list[str]:
    """What of the hook chain is missing: the config entry, the git hook scripts."""
    from ladder.hooks import precommit

    st = precommit.status(project)
    missing = [] if st.config_has_hook else [f"the ladder hook in {precommit.CONFIG}"]
    return missing + [f"the git {t} hook" for t, ok in sorted(st.installed.items()) if not ok]


def _diff_aware(rule: Rule) -> bool:
    from ladder.rules.registry import TEMPLATES

    template = TEMPLATES.get(rule.template)
    return template is not None and template.engine in DIFF_ENGINES


@dataclass(frozen=True)
class TreeCheck:
    """The rule on the whole current tree."""

    findings: tuple[Finding, ...]
    files: int
    ms: float
    unfinished: tuple[Unfinished, ...]


@dataclass(frozen=True)
class CommitCost:
    """The rule's check of one typical commit, as the hook would run it."""

    files: int
    typical_bytes: int
    ms: float


def _request(
    project: Project,
    files: Sequence[str],
    rule: Rule,
    cache: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    jobs: int = 1,
) -> CheckRequest:
    from ladder.rules.base import CheckRequest

    changes = git.working_changes(project.root) if _diff_aware(rule) else None
    return CheckRequest(root=project.root, files=list(files), changes=changes,
                        max_parse_bytes=project.config.max_parse_bytes,
                        semgrep_timeout=project.config.semgrep_timeout, cache=cache,
                        progress=progress, jobs=jobs)


def _progress(out: Callable[[str], None]) -> Callable[[int, int], None]:
    """Say how far a long scan is, every PROGRESS_EVERY_S seconds (a short one is silent)."""
    start = last = time.perf_counter()

    def tick(done: int, total: int) -> None:
        nonlocal last
        now = time.perf_counter()
        if now - last >= PROGRESS_EVERY_S:
            last = now
            out(f"  checking the tree: {done:,}/{total:,} files ({now - start:.0f} s)")

    return tick


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def check_tree(
    lesson: Lesson, rule: Rule, project: Project, progress: Callable[[str], None] | None = None
) -> TreeCheck:
    """The lesson's findings on the whole current tree, the milliseconds it took, and
    the files its rule did not finish on (a semgrep timeout). No time limit: it says
    how far it is through `progress` instead.

    Runs as `ladder check` with no arguments would: every file git knows about (tracked
    or not ignored), plus the uncommitted changes for diff-aware rules.
    """
    from ladder.commands.check import findings_cache
    from ladder.rules.runner import check

    start = time.perf_counter()
    files = git.list_files(project.root)
    request = _request(project, files, rule, cache=findings_cache(project),
                       progress=_progress(progress) if progress else None,
                       jobs=os.cpu_count() or 1)
    lesson = dataclasses.replace(lesson, rule=rule, level=5)  # as the level-5 lesson it would be
    findings = check(request, [lesson], exclude=project.config.exclude)
    return TreeCheck(tuple(findings), len(files), (time.perf_counter() - start) * 1000,
                     tuple(request.unfinished))


def typical_commit(lesson: Lesson, project: Project, files: Sequence[str]) -> list[str]:
    """COMMIT_FILES of the rule's files, those nearest the median size."""
    from ladder.globs import matches

    sized = []
    for name in files:
        if matches(name, lesson.paths) and not matches(name, project.config.exclude):
            try:
                sized.append(((project.root / name).stat().st_size, name))
            except OSError:
                continue
    if not sized:
        return []
    middle = statistics.median(size for size, _ in sized)
    sized.sort(key=lambda item: (abs(item[0] - middle), item[1]))
    return [name for _, name in sized[:COMMIT_FILES]]


def commit_cost(lesson: Lesson, rule: Rule, project: Project) -> CommitCost:
    """The rule's check of a typical commit, as the hook runs it (no cache)."""
    from ladder.rules.runner import check

    chosen = typical_commit(lesson, project, git.list_files(project.root))
    lesson = dataclasses.replace(lesson, rule=rule, level=5)
    request = _request(project, chosen, rule)
    start = time.perf_counter()
    check(request, [lesson], exclude=project.config.exclude)
    ms = (time.perf_counter() - start) * 1000
    sizes = [(project.root / name).stat().st_size for name in chosen]
    return CommitCost(len(chosen), int(statistics.median(sizes)) if sizes else 0, ms)


def unfinished_reason(unfinished: Sequence[Unfinished]) -> str:
    """A rule that cannot finish on the tree would only warn at every commit: not level 5."""
    first = unfinished[0]
    more = f" and {len(unfinished) - 1} more file(s)" if len(unfinished) > 1 else ""
    return (f"the rule did not finish on {first.path}{more} ({first.reason}): raise "
            "semgrep_timeout in [tool.ladder], narrow the rule's paths, or keep it at level 4")


def fires_reason(findings: Sequence[Finding]) -> str:
    shown = ", ".join(f.location() for f in findings[:SHOWN_FINDINGS])
    more = len(findings) - SHOWN_FINDINGS
    if more > 0:
        shown += f" ... and {more} more"
    return (
        f"the rule fires on the current tree: {shown}; "
        "fix these first or the hook would block every commit"
    )


class HookCompiler:
    level = 5
    name = "hook"

    def gate(self, lesson: Lesson, project: Project) -> list[str]:
        missing = missing_hooks(project)
        reasons = [
            f"hooks are not installed: run `ladder hooks install` (missing: {', '.join(missing)})"
        ] if missing else []
        rule, bad = validated(lesson)
        if rule is None:
            return [*reasons, *bad]
        budget = project.config.hook_budget_ms
        try:
            cost = commit_cost(lesson, rule, project)
            tree = check_tree(lesson, rule, project, progress=_stderr)
        except LadderError as exc:
            return [*reasons, f"the rule fails on the current tree: {exc.line().removeprefix('ladder: error: ')}"]
        _stderr(f"level 5 gate: a commit of {cost.files} typical file(s) (~{cost.typical_bytes:,} "
                f"bytes each) takes {cost.ms:.1f} ms (budget {budget} ms); the whole tree, "
                f"{tree.files:,} files, {tree.ms / 1000:.1f} s: {len(tree.findings)} finding(s)")
        if tree.findings:
            reasons.append(fires_reason(tree.findings))
        if tree.unfinished:
            reasons.append(unfinished_reason(tree.unfinished))
        if cost.ms > budget:
            reasons.append(
                f"the rule's check of a commit of {cost.files} typical file(s) took {cost.ms:.0f} ms, "
                f"over the hook budget of {budget} ms (hook_budget_ms): narrow its paths or "
                "keep it at level 4"
            )
        return reasons

    def compile(self, lessons: Sequence[Lesson], project: Project) -> list[Path]:
        from ladder.hooks import precommit

        if _at_five(lessons) and precommit.ensure_config(project):
            return [project.root / precommit.CONFIG]
        return []

    def drift(self, lessons: Sequence[Lesson], project: Project) -> list[str]:
        at_five = _at_five(lessons)
        if not at_five:
            return []
        return [
            f"{len(at_five)} lesson(s) at level 5 but {what} is missing: run `ladder hooks install`"
            for what in missing_hooks(project)
        ]
