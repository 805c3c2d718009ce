"""Level 5, hook: the level-4 check bound to git, so a violating commit cannot exist.

The artifact is the `ladder-check` hook in `.pre-commit-config.yaml` (see
`ladder.hooks`). `compile` makes sure it is there whenever a lesson sits at level 5;
it never removes it: `ladder init` adds it up front (so teammates' clones get the hook
before the first level-5 lesson lands), and with no level-5 lesson `ladder check
--hook` finds nothing to do, cheaply.

Gate: the hooks are installed; the rule does not fire on the current tree (else the
first commit touching those files is blocked); and one check of the whole tree stays
within `hook_budget_ms`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path

from ladder import git
from ladder.errors import LadderError
from ladder.findings import Finding, Unfinished
from ladder.lesson import Lesson, Rule
from ladder.levels.lint import validated
from ladder.project import Project

SHOWN_FINDINGS = 5
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


def check_tree(
    lesson: Lesson, rule: Rule, project: Project
) -> tuple[list[Finding], float, list[Unfinished]]:
    """The lesson's findings on the whole current tree, the milliseconds it took, and
    the files its rule did not finish on (a semgrep timeout).

    Runs as `ladder check` with no arguments would: every file git knows about (tracked
    or not ignored), plus the uncommitted changes for diff-aware rules.
    """
    from ladder.rules.base import CheckRequest
    from ladder.rules.runner import check

    start = time.perf_counter()
    changes = git.working_changes(project.root) if _diff_aware(rule) else None
    request = CheckRequest(root=project.root, files=git.list_files(project.root), changes=changes,
                           max_parse_bytes=project.config.max_parse_bytes,
                           semgrep_timeout=project.config.semgrep_timeout)
    lesson = dataclasses.replace(lesson, rule=rule, level=5)  # as the level-5 lesson it would be
    findings = check(request, [lesson], exclude=project.config.exclude)
    return findings, (time.perf_counter() - start) * 1000, list(request.unfinished)


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
        try:
            findings, ms, unfinished = check_tree(lesson, rule, project)
        except LadderError as exc:
            return [*reasons, f"the rule fails on the current tree: {exc.line().removeprefix('ladder: error: ')}"]
        if findings:
            reasons.append(fires_reason(findings))
        if unfinished:
            reasons.append(unfinished_reason(unfinished))
        budget = project.config.hook_budget_ms
        if ms > budget:
            reasons.append(
                f"the rule took {ms:.0f} ms on the current tree, over the hook budget of "
                f"{budget} ms (hook_budget_ms): narrow its paths or keep it at level 4"
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
