"""Level 4, check: a structural rule that carries its own proof.

Gate: the template is structural (libcst or semgrep, not a regex), the rule has at
least one must-block and one must-allow case (given, or generated from its
arguments), and every case passes. `ladder check --ci` then fails on its findings;
like level 3 there is no artifact to write.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from ladder.errors import LadderError
from ladder.lesson import Lesson, Rule
from ladder.levels.lint import validated
from ladder.project import Project


def not_structural(template: str) -> str:
    from ladder.rules.registry import TEMPLATES

    structural = sorted(name for name, t in TEMPLATES.items() if t.structural and name != "pattern")
    return (
        f"{template} rules are not structural: use {'/'.join(structural)} "
        "or a semgrep pattern (template `pattern`)"
    )


def case_reasons(lesson: Lesson, rule: Rule, project: Project) -> list[str]:
    """Why `rule` (validated, the lesson's) has no passing proof; empty when it has one."""
    from ladder.rules.cases import run_cases
    from ladder.rules.registry import with_generated_cases

    rule = with_generated_cases(rule)
    try:
        results = run_cases([dataclasses.replace(lesson, rule=rule)], root=project.root)
    except LadderError as exc:
        return [f"its cases cannot run: {exc.what}"]
    # Semgrep-style annotated test files (`# ruleid:` / `# ok:`) count as cases too.
    annotated = {r.kind for r in results if r.source != "lesson"}
    reasons = []
    if not rule.block and "block" not in annotated:
        reasons.append("no block case: give code the rule must flag with --block CODE")
    if not rule.allow and "allow" not in annotated:
        reasons.append("no allow case: give code the rule must accept with --allow CODE")
    for r in results:
        if r.ok or r.detail.startswith("the rule has no "):
            continue  # a missing kind of case: said above, with how to add one
        # The detail names the case ("allow case 0 was flagged at line 2: ..."); an
        # annotated test file is named too. One engine failure fails every case alike.
        reason = r.detail if r.source == "lesson" else f"{r.source}: {r.detail}"
        if reason not in reasons:
            reasons.append(reason)
    return reasons


class CheckCompiler:
    level = 4
    name = "check"

    def gate(self, lesson: Lesson, project: Project) -> list[str]:
        from ladder.rules.registry import TEMPLATES

        rule, reasons = validated(lesson)
        if rule is None:
            return reasons
        if not TEMPLATES[rule.template].structural:
            return [not_structural(rule.template)]
        return case_reasons(lesson, rule, project)

    def compile(self, lessons: Sequence[Lesson], project: Project) -> list[Path]:
        return []  # read live by `ladder check --ci`

    def drift(self, lessons: Sequence[Lesson], project: Project) -> list[str]:
        return []
