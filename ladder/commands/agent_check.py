"""`ladder agent check`: the pre-flight of `ladder agent run`, alone (issue 14).

Prints what each check found, then runs the evaluation once on HEAD and prints the
target (one evaluation spent: `--no-eval` skips it). Each problem is one line on stderr
with its fix, and the exit code is 2; nothing is committed or journaled either way.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ladder.agent.config import AgentConfig
from ladder.agent.preflight import Check, Problem, evaluate_once, problems_of, static_checks
from ladder.errors import EXIT_BAD_INPUT
from ladder.project import Project


def run(project: Project, *, evaluate: bool = True) -> int:
    from ladder.agent.config import config_source

    project.require_initialized()
    source = config_source(project)
    config = source.config()  # a bad key: one line naming it (exit 2)
    print(f"ladder agent check: {project.rel(Path(source.file))}: {_described(config)}")
    checks = static_checks(project, config)
    _say_ok(checks)
    if not problems_of(checks):
        # Last, and only when the rest is in order: it is the one check that costs.
        checks.append(_evaluation(project, config) if evaluate else Check(
            "evaluation", (), "evaluation: not run (--no-eval); `ladder agent run` evaluates "
                              "the baseline first"))
        _say_ok(checks[-1:])
    found = problems_of(checks)
    for problem in found:
        print(f"ladder: error: {problem.line()}", file=sys.stderr)
    if found:
        spent = "one evaluation was spent" if any(
            c.name == "evaluation" and c.problems for c in checks) else "nothing was spent"
        print(f"ladder agent check: {len(found)} problem(s); {spent}, nothing committed")
        return EXIT_BAD_INPUT
    note = _commit_note(project, config)
    if note:
        print(f"  note: {note}")
    print("ladder agent check: ready: `ladder agent run`")
    return 0


def _say_ok(checks: list[Check]) -> None:
    for check in checks:
        if not check.problems:
            print(f"  ok: {check.ok}", flush=True)


def _described(config: AgentConfig) -> str:
    target = config.target
    scored = ", scored" if target.trusted else ""
    budget = ", ".join(f"{k} {v}" for k, v in (("iterations", config.iterations),
                                                  ("evaluations", config.evaluations),
                                                  ("hours", config.hours)) if v is not None)
    return (f"editable {', '.join(config.editable)}; eval `{config.eval}`; target "
            f"{target.name} ({target.direction}{scored}); seeds {config.seeds}; {budget or 'no budget'}")


def _evaluation(project: Project, config: AgentConfig) -> Check:
    """The evaluation once on HEAD: it must work and give the target."""
    from ladder.agent.console import tail_lines
    from ladder.agent.decisions import make_decision
    from ladder.agent.live import duration

    print(f"  running the evaluation once on HEAD (one evaluation, at most {config.timeout:g} s; "
          "--no-eval skips it) ...", flush=True)
    result = evaluate_once(project, config)
    name = config.target.name
    if not result.ok or name not in result.metrics:
        tail = tail_lines(result.tail, 1)
        return Check("evaluation", (Problem(
            f"the evaluation failed on HEAD: {result.reason or 'no ' + name}"
            + (f"; its output ends: {tail[0]}" if tail else ""),
            f"make `{config.eval}` work in a clean checkout of HEAD (it gets LADDER_SEED and "
            "LADDER_METRICS_FILE; docs/agent.md, the evaluation contract)"),))
    decision = make_decision(config)
    first = max(1, decision.calibration_seeds) + decision.calibration_seeds
    ahead = duration(first * result.seconds / max(1, config.workers))
    others = ", ".join(f"{k} {v:.4g}" for k, v in sorted(result.metrics.items()) if k != name)
    return Check("evaluation", (), (
        f"the evaluation ran on HEAD in {result.seconds:.1f} s: {name} {result.metrics[name]:.6g}"
        + (f" ({others})" if others else "")
        + f"; a run starts with {first} such evaluations (baseline and calibration, about {ahead})"))


def _commit_note(project: Project, config: AgentConfig) -> str:
    """What `ladder agent run` will commit onto the user's branch first, said ahead."""
    from ladder.agent import editable as guard
    from ladder.commands.agent import current_branch

    if guard.up_to_date(project, config.editable):
        return ""
    return (f"`ladder agent run` will first commit onto {current_branch(project)} the generated "
            f"lesson {guard.LESSON_ID} (level 5: the agent's commits may change only "
            f"{', '.join(config.editable)})")
