"""`ladder agent run|status|verify`: the autoresearch loop over a repository."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Mapping
from typing import Any

from ladder.agent import interrupt
from ladder.commands.agent_summary import SELF_REPORTED as SELF_REPORTED
from ladder.commands.agent_summary import summary as summary
from ladder.errors import EXIT_BAD_INPUT, LadderError
from ladder.project import Project


def _rules(project: Project) -> str:
    from ladder.levels.prompt import prompt_text
    from ladder.store import load_lessons

    return prompt_text(load_lessons(project)) if project.initialized else ""


def open_run(project: Project, paths: Any, config: Any, *, report: Any = print,
             readonly: bool = False, progress: Any = None) -> Any:
    """The Run object for `paths`, with the real parts, journal, workspace and results."""
    from ladder.agent import results
    from ladder.agent.anchor import Anchor, anchors_dir
    from ladder.agent.journal import Journal, JournalReader
    from ladder.agent.loop import Run
    from ladder.agent.workspace import Workspace
    from ladder.git import run_git

    baseline = run_git(project.root, "rev-parse", "HEAD").strip()
    # A run that is still going holds its journal's lock: `status` only reads it.
    journal: Any = JournalReader(paths.journal) if readonly else Journal(
        paths.journal, on_append=Anchor(paths.run_id, anchors_dir(project.root)))
    for rec in journal.records():
        if rec["kind"] == "start":
            baseline = rec["data"]["baseline"]
            break
    workspace = Workspace(project.root, paths.run_id, baseline, editable=config.editable)

    def on_result(candidate: Any, verdict: Any) -> None:
        results.append_candidate(paths.results, candidate, verdict, config)

    def on_event(data: Mapping[str, Any]) -> None:  # the executor's infrastructure (a node lost)
        from ladder.agent.report.events import EVENTS

        journal.append("infrastructure", data)
        report(EVENTS["infrastructure"](data, ""))

    return Run(
        root=project.root,
        run_id=paths.run_id,
        config=config,
        parts=_parts(project, paths.run_id, config, learn=config.learn and not readonly,
                     on_event=on_event, evaluates=not readonly),
        workspace=workspace,
        journal=journal,
        rules=_rules(project),
        report=report,
        on_result=on_result,
        progress=progress,
    )


def run(
    project: Project, *, resume: str | None = None, overrides: Mapping[str, Any] | None = None,
    force: bool = False, reconfigure: bool = False, quiet: bool = False,
) -> int:
    from ladder.agent import live
    from ladder.agent.config import config_source
    from ladder.agent.runs import new_run

    project.require_initialized()
    shown = live.display(quiet=quiet)
    source: Any = None
    if resume is not None:
        paths, the_run = _reopen(project, resume, overrides or {}, force=force,
                                 reconfigure=reconfigure, shown=shown)
    else:
        source = config_source(project, overrides)
        config = source.config()
        if not preflight(project, config):
            return EXIT_BAD_INPUT
        protect_non_editable(project, config.editable)
        paths = new_run(project)
        the_run = open_run(project, paths, config, report=shown.line, progress=shown.update)
    # SIGTERM and Ctrl-C stop it gracefully (interrupt.py); whatever stops it, a run
    # leaves no worktree behind (its branch stays: --resume), and the live display is
    # stopped (the terminal given back) before the summary.
    code = 0
    with interrupt.handlers():
        with shown:
            reason = _drive(project, paths, the_run, source, say=shown.line)
        if interrupt.requested():
            code = 128 + interrupt.requested()  # the shell's convention: 130, 143
    _finish(project, paths, the_run, reason)
    return code


def _reopen(project: Project, resume: str, flags: Mapping[str, Any], *, force: bool,
            reconfigure: bool, shown: Any) -> tuple[Any, Any]:
    """The paths and the Run of a journaled run, under the configuration it resumes with
    (refused when its records were tampered with, unless forced)."""
    from ladder.agent.runs import existing_run

    paths = existing_run(project, resume)
    problems = tampering(project, paths, torn=False)
    if problems and not force:
        raise LadderError(
            f"run {paths.run_id} was tampered with: {problems[0]}",
            where=project.rel(paths.journal),
            todo=f"`ladder agent verify {paths.run_id}` lists every problem; "
                 "`--resume ... --force` continues anyway",
        )
    resumed = _resumed(project, paths, flags, reconfigure=reconfigure, say=shown.line)
    _budget_preflight(resumed.config)
    the_run = open_run(project, paths, resumed.config, report=shown.line, progress=shown.update)
    if resumed.changes:
        the_run.journal.append("reconfigure", {
            "source": resumed.source.as_dict() if resumed.source else None,
            "changes": {k: list(v) for k, v in resumed.changes.items()}})
        shown.line(f"ladder agent: run {paths.run_id} continues with "
                   + ", ".join(f"{k} {a!r} -> {b!r}" for k, (a, b) in resumed.changes.items()))
    return paths, the_run


def _drive(project: Project, paths: Any, the_run: Any, source: Any, *,
           say: Callable[[str], None]) -> str:
    """Start (or resume) the run and loop until it stops; why it stopped."""
    from ladder.git import run_git

    try:
        if source is None:
            _resume(project, paths, the_run, say=say)
        else:
            head = run_git(project.root, "rev-parse", "HEAD").strip()
            config = the_run.config
            say(f"ladder agent: run {paths.run_id} from {head[:8]} ({config.strategy}, "
                f"{config.proposer.kind})")
            the_run.start(head, source=source.as_dict())
        _starting_words(the_run, say)
        reason: str = the_run.loop()
    except interrupt.Interrupted as exc:  # during the baseline or a resume's catch-up
        reason = the_run.interrupted(exc)
    finally:
        the_run.ws.cleanup()
    return reason


def _finish(project: Project, paths: Any, the_run: Any, reason: str) -> None:
    """The summary and what to do next: printed even with --quiet."""
    from ladder.commands.agent_summary import next_steps

    if the_run.history:
        print(summary(the_run))
    for line in next_steps(the_run, project.root):
        print(line)
    print(f"ladder agent: stopped: {reason}; records in {project.rel(paths.dir)}/", flush=True)


def preflight(project: Project, config: Any) -> bool:
    """The pre-flight (preflight.py) before anything is spent: each problem one line on
    stderr with its fix; False when there is any."""
    from ladder.agent.preflight import problems_of, static_checks

    found = problems_of(static_checks(project, config))
    for problem in found:
        print(f"ladder: error: {problem.line()}", file=sys.stderr)
    if found:
        print(f"ladder agent: {len(found)} problem(s) found before the run: nothing was "
              "started or spent (`ladder agent check` runs these checks alone)")
    return not found


def _resume(project: Project, paths: Any, the_run: Any, *, say: Callable[[str], None]) -> None:
    from ladder.agent import results

    the_run.resume()
    target = the_run.config.target.name
    rows = [results.candidate_row(c, the_run.verdicts[c.iteration], target)
            for c in the_run.history[1:]]  # the decisions, replayed from the journal
    if results.rebuild(paths.results, rows, target):
        say(f"ladder agent: {project.rel(paths.results)} rebuilt from the journal")
    say(f"ladder agent: resuming run {paths.run_id} at iteration {the_run.next_iteration}")


def _starting_words(the_run: Any, say: Callable[[str], None]) -> None:
    config = the_run.config
    if not config.score:
        say(f"ladder agent: {SELF_REPORTED.format(name=config.target.name)}")
    learner = the_run.parts.learner
    if learner is not None:
        start = learner.summary()
        say(f"ladder agent: starts with {start['skills_active']} active skill(s) of "
            f"{start['skills_loaded']} in .ladder/skills and the lessons earlier runs taught")
    elif not config.learn:
        say("ladder agent: learning off (learn = false): no skill read or written, no lesson taught")


def _resumed(project: Project, paths: Any, flags: Mapping[str, Any], *,
             reconfigure: bool, say: Callable[[str], None] = print) -> Any:
    """The configuration run `paths` resumes under (pinned.py): the journaled one, with
    the flags given now; an older journal without one resumes under today's."""
    from ladder.agent.config import config_source
    from ladder.agent.journal import read_records
    from ladder.agent.pinned import Resumed, pinned_source, resume_config

    records = read_records(paths.journal)
    if not any(r.get("kind") == "start" for r in records):
        raise LadderError(
            f"run {paths.run_id} never started: its journal has no start record (it was "
            "stopped before its first one was written)",
            where=project.rel(paths.journal),
            todo=f"start a new run with `ladder agent run`; remove {project.rel(paths.dir)}",
        )
    pinned = pinned_source(records)
    try:
        now: Any = config_source(project, flags if pinned is None else None)
    except LadderError as exc:
        now = exc
    if pinned is None:
        if isinstance(now, LadderError):
            raise now
        say(f"ladder agent: run {paths.run_id} has no journaled configuration (an older "
            "ladder started it): it resumes under today's")
        return Resumed(now.config(), None, {})
    started = any(r.get("kind") == "baseline" for r in records)
    return resume_config(paths.run_id, pinned, now, flags, reconfigure=reconfigure,
                         started=started)


def _budget_preflight(config: Any) -> None:
    """Refuse, before a resume spends anything, a configuration under which nothing can
    be kept (a new run gets the whole pre-flight)."""
    from ladder.agent import budget
    from ladder.agent.decisions import make_decision

    budget.check(config, make_decision(config))


def _parts(project: Project, run_id: str, config: Any, *, learn: bool,
           on_event: Callable[[Mapping[str, Any]], None] | None = None,
           evaluates: bool = True) -> Any:
    """The real parts, with the skill library of this repository when the run learns;
    `on_event` journals what the executor says of its infrastructure. A run opened only
    to be read (`status`, `explain`, `review`) evaluates nothing: its executor is the
    local one, so reading a Ray run needs neither Ray nor its cluster."""
    from dataclasses import replace

    from ladder.agent.build import build_parts

    parts = build_parts(config if evaluates else replace(config, executor="local"),
                        on_event=on_event)
    if learn:
        from ladder.agent.skills import Learner

        parts.learner = Learner(project, run_id, config)
    return parts


def protect_non_editable(project: Project, editable: Any, *,
                         say: Callable[[str], None] = print) -> None:
    """Generate (or update) the level-5 lesson protecting every non-editable file, and
    commit it: the hooks in the run's worktrees read the lessons of the commit they
    check, so the lesson must be in HEAD before the run starts. Said before it is done
    (even with --quiet): a run once committed onto the user's branch without a word
    (issue 14); `ladder agent check` says it ahead."""
    from ladder.agent import editable as guard
    from ladder.git import run_git

    if guard.up_to_date(project, editable):
        return
    say(f"ladder agent: committing onto {current_branch(project)} the generated lesson "
        f"{guard.LESSON_ID} first (level 5: the agent's commits may change only "
        f"{', '.join(editable)}; the run's worktrees check out HEAD, so it must be committed)")
    written = guard.ensure(project, editable)
    if not written:
        return
    rels = [project.rel(p) for p in written]
    run_git(project.root, "add", "--", *rels)
    proc = subprocess.run(
        ["git", "commit", "-q", "-m", f"ladder: protect everything but {', '.join(editable)} from the agent",
         "-m", f"Generated lesson {guard.LESSON_ID} (level 5, agent commits only).", "--", *rels],
        cwd=project.root, capture_output=True, text=True)
    if proc.returncode != 0:
        raise LadderError(
            f"could not commit the generated lesson {guard.LESSON_ID}: "
            f"{(proc.stdout + proc.stderr).strip().splitlines()[-1:] or proc.returncode}",
            where=str(project.root), todo="commit .ladder/lessons and the regenerated files, then rerun")
    sha = run_git(project.root, "rev-parse", "--short", "HEAD").strip()
    say(f"ladder agent: committed {sha} ({', '.join(rels)}); `git revert {sha}` undoes it")


def current_branch(project: Project) -> str:
    """The user's branch in words ("branch main", or "the detached HEAD")."""
    from ladder.git import run_git

    name = run_git(project.root, "symbolic-ref", "-q", "--short", "HEAD", check=False).strip()
    return f"branch {name}" if name else "the detached HEAD"


def status(project: Project, *, run_id: str | None = None, fmt: str = "text") -> int:
    from ladder.agent.config import load_agent_config
    from ladder.agent.journal import read_records
    from ladder.agent.loop import best
    from ladder.agent.pinned import pinned_source
    from ladder.agent.runs import existing_run

    paths = existing_run(project, run_id)
    pinned = pinned_source(read_records(paths.journal))
    config = pinned.config() if pinned is not None else load_agent_config(project)
    the_run = open_run(project, paths, config, report=lambda line: None, readonly=True)
    the_run.replay()
    if fmt == "json":
        top = best(the_run.history, config) if the_run.history else None
        print(
            json.dumps(
                {
                    "run": paths.run_id,
                    "stopped": the_run.stop_reason or None,
                    "next_iteration": the_run.next_iteration,
                    "tally": {k: v for k, v in vars(the_run.tally).items()},
                    "baseline": dict(the_run.history[0].metrics) if the_run.history else None,
                    "best": {"commit": top.commit, "metrics": dict(top.metrics)} if top else None,
                },
                indent=2,
            )
        )
        return 0
    print(
        f"run {paths.run_id}: {'stopped: ' + the_run.stop_reason if the_run.stop_reason else 'not finished'}"
    )
    problems = tampering(project, paths)
    if problems:  # status still reads what is there, and says it cannot be trusted
        print(f"warning: the run's records were tampered with ({len(problems)} problem(s); "
              f"`ladder agent verify {paths.run_id}` lists them): {problems[0][:200]}")
    if the_run.history:
        print(summary(the_run))
    from ladder.commands.agent_summary import next_steps

    for line in next_steps(the_run, project.root):
        print(line)
    return 0


def tampering(project: Project, paths: Any, *, torn: bool = True) -> list[str]:
    """Everything that says run `paths` was tampered with: a broken hash chain, a journal
    that does not end where its anchor says, refs that disagree with the journal.
    `torn`: name a torn last line too (what a kill mid-write leaves; a resume repairs it)."""
    from ladder.agent.anchor import check as check_anchor
    from ladder.agent.journal import read_records
    from ladder.agent.journal import verify as verify_journal

    problems = [f"{project.rel(paths.journal)}: {p}" for p in verify_journal(paths.journal)
                if torn or not p.torn]
    records = read_records(paths.journal)
    problems += check_anchor(project.root, paths.run_id, records)
    problems += _ref_problems(project, paths.run_id, records)
    return problems


def _ref_problems(project: Project, run_id: str, records: list[dict[str, Any]]) -> list[str]:
    """refs/ladder/<run>/<iteration> and the kept branch against the journal's decisions."""
    from ladder.git import run_git

    expected: dict[str, str] = {}
    branch = ""
    for rec in records:
        data = rec.get("data") or {}
        if rec.get("kind") == "start":
            branch = str(data.get("baseline", ""))
        if rec.get("kind") == "commit" and isinstance(data.get("iteration"), int):
            # the candidate's ref is written just before its decision: a kill can fall between
            expected.setdefault(f"refs/ladder/{run_id}/{data['iteration']}", str(data.get("sha", "")))
        if rec.get("kind") != "decision":
            continue
        cand = data.get("candidate") or {}
        commit, it = str(cand.get("commit") or ""), data.get("iteration")
        if commit and isinstance(it, int):
            expected[f"refs/ladder/{run_id}/{it}"] = commit  # the decision's word is final
            if cand.get("status") == "keep":
                branch = commit
    listing = run_git(project.root, "for-each-ref", "--format=%(refname) %(objectname)",
                      f"refs/ladder/{run_id}/", f"refs/heads/ladder/{run_id}")
    actual = dict(line.split(" ", 1) for line in listing.splitlines() if " " in line)
    problems = [f"{ref} points to {actual[ref][:12]}, the journal says {sha[:12]}: a forged ref"
                for ref, sha in sorted(expected.items()) if ref in actual and actual[ref] != sha]
    problems += [f"{ref} is not in the journal: a forged ref" for ref in sorted(actual)
                 if ref.startswith(f"refs/ladder/{run_id}/") and ref not in expected]
    decided = {r["data"].get("iteration") for r in records if r.get("kind") == "decision"}
    in_flight = {str(r["data"].get("sha")) for r in records
                 if r.get("kind") == "commit" and r["data"].get("iteration") not in decided}
    tip = actual.get(f"refs/heads/ladder/{run_id}")
    if branch and tip and tip != branch and tip not in in_flight:
        problems.append(f"branch ladder/{run_id} points to {tip[:12]}, but the journal's last "
                        f"keep is {branch[:12]}: the kept chain was moved")
    return problems


def verify(project: Project, *, run_id: str) -> int:
    from ladder.agent.runs import existing_run

    paths = existing_run(project, run_id)
    problems = tampering(project, paths)
    if not problems:
        print(f"ladder agent verify: {paths.run_id}: the journal's hash chain is intact, it ends "
              "where its anchor says, and the run's refs match it")
        return 0
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"ladder agent verify: {len(problems)} problem(s): the run's records were tampered with",
          file=sys.stderr)
    return 1
