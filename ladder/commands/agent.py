"""`ladder agent run|status|verify`: the autoresearch loop over a repository."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

from ladder.agent import interrupt
from ladder.errors import LadderError
from ladder.project import Project


def _rules(project: Project) -> str:
    from ladder.levels.prompt import prompt_text
    from ladder.store import load_lessons

    return prompt_text(load_lessons(project)) if project.initialized else ""


def open_run(project: Project, paths: Any, config: Any, *, report: Any = print,
             readonly: bool = False) -> Any:
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

    return Run(
        root=project.root,
        run_id=paths.run_id,
        config=config,
        parts=_parts(project, paths.run_id, config, learn=config.learn and not readonly),
        workspace=workspace,
        journal=journal,
        rules=_rules(project),
        report=report,
        on_result=on_result,
    )


def run(
    project: Project, *, resume: str | None = None, overrides: Mapping[str, Any] | None = None,
    force: bool = False, reconfigure: bool = False,
) -> int:
    from ladder.agent.config import config_source
    from ladder.agent.runs import existing_run, new_run
    from ladder.git import has_head, run_git

    project.require_initialized()
    if resume is not None:
        paths = existing_run(project, resume)
        problems = tampering(project, paths, torn=False)
        if problems and not force:
            raise LadderError(
                f"run {paths.run_id} was tampered with: {problems[0]}",
                where=project.rel(paths.journal),
                todo=f"`ladder agent verify {paths.run_id}` lists every problem; "
                     "`--resume ... --force` continues anyway",
            )
        resumed = _resumed(project, paths, overrides or {}, reconfigure=reconfigure)
        config = resumed.config
        _preflight(config)
        the_run = open_run(project, paths, config)
        if resumed.changes:
            the_run.journal.append("reconfigure", {
                "source": resumed.source.as_dict() if resumed.source else None,
                "changes": {k: list(v) for k, v in resumed.changes.items()}})
            print(f"ladder agent: run {paths.run_id} continues with "
                  + ", ".join(f"{k} {a!r} -> {b!r}" for k, (a, b) in resumed.changes.items()))
    else:
        source = config_source(project, overrides)
        config = source.config()
        _preflight(config)
        if not has_head(project.root):
            raise LadderError(
                "the repository has no commit yet",
                where=str(project.root),
                todo="commit the program first: the run starts from HEAD",
            )
        dirty = run_git(project.root, "status", "--porcelain", "--untracked-files=no").strip()
        if dirty:
            raise LadderError(
                "the working tree has uncommitted changes",
                where=str(project.root),
                todo="commit or stash them: the run starts from HEAD",
            )
        protect_non_editable(project, config.editable)
        paths = new_run(project)
        the_run = open_run(project, paths, config)
    # SIGTERM and Ctrl-C stop it gracefully (interrupt.py); whatever stops it, a run
    # leaves no worktree behind (its branch stays: --resume).
    code = 0
    with interrupt.handlers():
        try:
            if resume is not None:
                _resume(project, paths, the_run)
            else:
                head = run_git(project.root, "rev-parse", "HEAD").strip()
                print(f"ladder agent: run {paths.run_id} from {head[:8]} ({config.strategy}, "
                      f"{config.proposer.kind})")
                the_run.start(head, source=source.as_dict())
            _starting_words(the_run)
            reason = the_run.loop()
        except interrupt.Interrupted as exc:  # during the baseline or a resume's catch-up
            reason = the_run.interrupted(exc)
        finally:
            the_run.ws.cleanup()
        if interrupt.requested():
            code = 128 + interrupt.requested()  # the shell's convention: 130, 143
    if the_run.history:
        print(summary(the_run))
    print(f"ladder agent: stopped: {reason}; records in {project.rel(paths.dir)}/")
    return code


def _resume(project: Project, paths: Any, the_run: Any) -> None:
    from ladder.agent import results

    the_run.resume()
    target = the_run.config.target.name
    rows = [results.candidate_row(c, the_run.verdicts[c.iteration], target)
            for c in the_run.history[1:]]  # the decisions, replayed from the journal
    if results.rebuild(paths.results, rows, target):
        print(f"ladder agent: {project.rel(paths.results)} rebuilt from the journal")
    print(f"ladder agent: resuming run {paths.run_id} at iteration {the_run.next_iteration}")


def _starting_words(the_run: Any) -> None:
    config = the_run.config
    if not config.score:
        print(f"ladder agent: {SELF_REPORTED.format(name=config.target.name)}")
    learner = the_run.parts.learner
    if learner is not None:
        start = learner.summary()
        print(f"ladder agent: starts with {start['skills_active']} active skill(s) of "
              f"{start['skills_loaded']} in .ladder/skills and the lessons earlier runs taught")
    elif not config.learn:
        print("ladder agent: learning off (learn = false): no skill read or written, no lesson taught")


def _resumed(project: Project, paths: Any, flags: Mapping[str, Any], *,
             reconfigure: bool) -> Any:
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
        print(f"ladder agent: run {paths.run_id} has no journaled configuration (an older "
              "ladder started it): it resumes under today's")
        return Resumed(now.config(), None, {})
    started = any(r.get("kind") == "baseline" for r in records)
    return resume_config(paths.run_id, pinned, now, flags, reconfigure=reconfigure,
                         started=started)


def _preflight(config: Any) -> None:
    """Refuse, before anything is spent, a configuration under which nothing can be kept."""
    from ladder.agent import budget
    from ladder.agent.decisions import make_decision

    budget.check(config, make_decision(config))


def _parts(project: Project, run_id: str, config: Any, *, learn: bool) -> Any:
    """The real parts, with the skill library of this repository when the run learns."""
    from ladder.agent.build import build_parts

    parts = build_parts(config)
    if learn:
        from ladder.agent.skills import Learner

        parts.learner = Learner(project, run_id, config)
    return parts


def protect_non_editable(project: Project, editable: Any) -> None:
    """Generate (or update) the level-5 lesson protecting every non-editable file, and
    commit it: the hooks in the run's worktrees read the lessons of the commit they
    check, so the lesson must be in HEAD before the run starts."""
    from ladder.agent import editable as guard
    from ladder.git import run_git

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
    print(f"ladder agent: generated lesson {guard.LESSON_ID} (level 5) and committed it")


SELF_REPORTED = ("{name} is a self-reported metric: the candidate can forge it; configure "
                 "`score` (a protected scorer, see docs/agent.md)")


def summary(the_run: Any) -> str:
    from ladder.agent.loop import best

    t = the_run.tally
    blocked = ", ".join(f"{k} {v}" for k, v in sorted(t.blocked.items())) or "none"
    base = the_run.history[0]
    top = best(the_run.history, the_run.config)
    name = the_run.config.target.name
    line = (
        f"iterations {t.iterations}: blocked {sum(t.blocked.values())} ({blocked}), "
        f"evaluated {t.evaluated}, kept {t.kept}, discarded {t.discarded}, crashed {t.crashed}"
        + (f", quarantined {t.quarantined} (awaiting review: `ladder agent review "
           f"{the_run.run_id}`)" if t.quarantined else "")
        + (f", tampered {t.tampered} (evaluations that reached outside their tree: "
           "`ladder agent explain`)" if t.tampered else "")
    )
    budget = the_run.config.evaluations
    line += f"\nevaluations {t.evaluations}" + (f" of a budget of {budget}" if budget else "")
    for guard, count in sorted(t.refused_by_guard.items()):
        line += f"\nsignificant but refused by guard {guard}: {count}"
    revalidated = getattr(the_run, "revalidations", None)
    last = revalidated[-1] if revalidated else None
    if last is not None and isinstance(last.get("baseline_mean"), (int, float)) \
            and isinstance(last.get("delta"), (int, float)):
        # Both measured on the same fresh seeds: the honest comparison.
        b = float(last["baseline_mean"])
        v = b + float(last["delta"])
        flag = "" if last.get("replicated") else " - NOT replicated: treat the gain as noise"
        line += (f"\nbest {name} {v:.6g} vs baseline {b:.6g} on the same fresh seeds: "
                 f"{last.get('headline', '')}, commit {str(last.get('commit', ''))[:8]}{flag}")
    elif name in base.metrics and name in top.metrics:
        b, v = base.metrics[name], top.metrics[name]
        rel = (v - b) / abs(b) * 100 if b else 0.0
        line += f"\nbest {name} {v:.6g} vs baseline {b:.6g} ({rel:+.1f}%), commit {top.commit[:8] or '-'}"
    if not the_run.config.score:
        line += f"\n{SELF_REPORTED.format(name=name)}"
    learner = getattr(the_run.parts, "learner", None)
    if learner is not None:
        got = learner.summary()
        line += (f"\nlearned: skills created {len(got['created'])}, updated {len(got['updated'])}, "
                 f"deprecated {len(got['deprecated'])}; lessons taught {len(got['lessons_taught'])}"
                 + (f", tightened {len(got['lessons_tightened'])}" if got["lessons_tightened"] else "")
                 + f"; evaluations saved by taught lessons {got['evaluations_saved']}")
        if any(got[k] for k in ("created", "updated", "deprecated", "lessons_taught",
                                "lessons_tightened")):
            # Written to the working tree, not committed: the next run reads them either
            # way, but only a commit shares them with the team.
            line += ("\nlearned: written to .ladder/skills/ and .ladder/lessons/, not committed: "
                     "review and commit them (git add .ladder && git commit) to keep them")
    if getattr(the_run, "converged_reason", ""):
        line += f"\n{the_run.converged_reason}"
    if the_run.decision.unverified:
        line += f"\n({the_run.decision.name} decisions: single seed, keep if better: UNVERIFIED)"
    return line


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
