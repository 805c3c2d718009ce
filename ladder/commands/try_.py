"""`ladder try -m DESCRIPTION`: one verified iteration for an agent that drives its own loop.

The working tree is committed through the hooks (a blocked commit costs no
evaluation), the commit is evaluated against its parent on paired seeds, the decision
is recorded in the `try` run's journal and results.tsv, and on discard the branch is
reset to the parent (the candidate stays reachable under refs/ladder/try/<n>).

Each try starts from where the try run left off: its baseline or a commit it kept
itself. Any other HEAD (a program the agent committed on its own, `--no-verify` or not)
is refused with the commits named; a person starts a new try run from a new HEAD with
`--new-baseline` (the old run's records are kept beside it).
"""

from __future__ import annotations

import sys

from ladder.errors import LadderError
from ladder.project import Project

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

    from ladder.agent.records import Candidate

RUN_ID = "try"
EXIT = {"keep": 0, "discard": 1, "quarantine": 1, "blocked": 4, "crash": 5}


def run(project: Project, *, message: str, new_baseline: bool = False) -> int:
    from dataclasses import replace

    from ladder.agent.config import load_agent_config
    from ladder.agent.loop import Run, refused_by_hooks
    from ladder.agent.records import Proposal, Selection
    from ladder.agent.runs import RunPaths
    from ladder.commands.agent import open_run
    from ladder.git import has_head, run_git

    project.require_initialized()
    # One iteration the user asked for: the run-level budgets do not apply to it.
    config = replace(load_agent_config(project), evaluations=None, iterations=None, hours=None)
    root = project.root
    if not has_head(root):
        raise LadderError(
            "the repository has no commit yet",
            where=str(root),
            todo="commit the program first: `ladder try` compares against HEAD",
        )
    if not run_git(root, "status", "--porcelain").strip():
        raise LadderError(
            "nothing to try: the working tree has no changes",
            where=str(root),
            todo="edit the program, then run `ladder try -m DESCRIPTION`",
        )
    from ladder.agent import editable as guard

    if not guard.up_to_date(project, config.editable):
        print(f"ladder try: note: lesson {guard.LESSON_ID} is missing or stale, so the hooks do not "
              "keep this commit inside the editable files (the loop's own check still does); "
              "`ladder agent run` generates it", file=sys.stderr)
    parent = run_git(root, "rev-parse", "HEAD").strip()
    paths = RunPaths(RUN_ID, project.runs_dir / RUN_ID)
    if new_baseline and paths.dir.exists():
        kept = _archive(paths.dir)
        print(f"ladder try: a new try run starts at {parent[:8]}; the old one's records are in "
              f"{kept.relative_to(root)}")
    paths.dir.mkdir(parents=True, exist_ok=True)
    the_run: Run = open_run(project, paths, config, report=print)
    the_run.replay()
    the_run.restore_decision(calibrate=False)  # its FDR wealth carries across tries
    if not the_run.history:
        the_run.start(parent, evaluate=False)
    parent_cand = next((c for c in reversed(the_run.history)
                        if c.commit == parent and c.status in ("baseline", "keep")), None)
    if parent_cand is None:
        raise _unknown_head(parent, the_run.history)
    it = the_run.next_iteration
    the_run.next_iteration += 1
    selection = Selection(parent=parent_cand)
    proposal = Proposal(description=message, files={}, proposer="try")
    the_run.journal.append(
        "select", {"iteration": it, "parent": parent, "second": "", "island": 0, "strategy": "try"}
    )
    outcome = the_run.ws.commit(root, message, reset=False)
    if not outcome.ok:
        verdict = the_run._decided(it, selection, proposal, refused_by_hooks(outcome))
        print(outcome.output.rstrip(), file=sys.stderr)
        print(f"ladder try: {verdict.reasons[0]}; nothing was evaluated", file=sys.stderr)
        return EXIT[verdict.status]
    sha = outcome.sha
    the_run.journal.append("commit", {"iteration": it, "sha": sha, "parent": parent})
    tree = the_run.ws.checkout("candidate", sha)
    try:
        verdict = the_run.judge(it, selection, proposal, tree, sha)
    finally:
        the_run.ws.cleanup()
    if verdict.status != "keep":
        run_git(root, "reset", "-q", "--hard", parent)
        print(
            f"ladder try: {verdict.status}: reset to {parent[:8]} "
            f"(the candidate stays at refs/ladder/{RUN_ID}/{it})"
        )
    else:
        print(f"ladder try: keep {sha[:8]}")
    return EXIT.get(verdict.status, 1)


def _unknown_head(head: str, history: list[Candidate]) -> LadderError:
    """HEAD is neither the try run's baseline nor a commit it kept: refuse, naming them."""
    known = [c for c in history if c.status in ("baseline", "keep")]
    last = known[-1]
    named = ", ".join(f"{c.commit[:8]} ({c.status})" for c in known[-4:])
    return LadderError(
        f"HEAD {head[:8]} is not a commit this try run started from or kept "
        f"(it knows {named}): a program committed outside `ladder try` is not a verified parent",
        where="ladder try",
        todo=f"`git reset --hard {last.commit[:12]}` to go on from the last verified commit; "
             "a person starts a new try run here with `ladder try --new-baseline -m ...`",
    )


def _archive(run_dir: Path) -> Path:
    import time

    target = run_dir.with_name(f"{run_dir.name}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}")
    n = 1
    while target.exists():
        target = target.with_name(f"{target.name}.{n}")
        n += 1
    run_dir.rename(target)
    return target
