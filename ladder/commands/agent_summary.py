"""The words a run ends with (`ladder agent run`, `ladder agent status`): what it did,
counted by verdict, its best with the honest comparison, what it learned, and what to
do next -- how to take the result and which learned files to review and commit.

A newcomer's first runs left `main` at the baseline with nothing saying how to take
the result (`git merge ladder/<run>`), counted quarantines without saying one waits for
a person, and said "skill updated" eight times and then "updated 0" (issue 14).
"""

from __future__ import annotations

import shlex
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

SELF_REPORTED = ("{name} is a self-reported metric: the candidate can forge it; configure "
                 "`score` (a protected scorer, see docs/agent.md)")
# What a refusal that names no lesson was, in words.
_BLOCK_KINDS = {"invalid": "invalid proposal", "hook": "another hook", "verify": "defence in depth",
                "gate": "a gate", "tamper": "tamper"}
# Where a run writes what it learned in the user's tree (not committed: for review).
LEARNED_PATHS = (".ladder/skills", ".ladder/lessons", "AGENTS.md", "LESSONS.md", "CLAUDE.md")
SHOWN = 6


def summary(the_run: Any) -> str:
    """What the run did, its best and what it learned (no git: tests call it on fakes)."""
    lines = [_counts(the_run), _spent(the_run)]
    lines += [f"significant but refused by guard {guard}: {count}"
              for guard, count in sorted(the_run.tally.refused_by_guard.items())]
    lines += _best(the_run)
    if not the_run.config.score:
        lines.append(SELF_REPORTED.format(name=the_run.config.target.name))
    learner = getattr(the_run.parts, "learner", None)
    if learner is not None:
        lines.append(learned_words(learner.summary(), the_run.journal.records()))
    if getattr(the_run, "converged_reason", ""):
        lines.append(the_run.converged_reason)
    if the_run.decision.unverified:
        lines.append(f"({the_run.decision.name} decisions: single seed, keep if better: UNVERIFIED)")
    return "\n".join(lines)


def _counts(the_run: Any) -> str:
    t, run_id = the_run.tally, the_run.run_id
    blocked = sum(t.blocked.values())
    by = ", ".join(f"{_BLOCK_KINDS.get(k, 'lesson ' + k)} {v}" for k, v in sorted(t.blocked.items()))
    words = [f"kept {t.kept}", f"discarded {t.discarded}"]
    if t.quarantined:
        words.append(f"quarantined {t.quarantined} (awaiting review: `ladder agent review {run_id}`)")
    words.append(f"blocked before evaluation {blocked}" + (f" ({by})" if by else ""))
    words.append(f"crashed {t.crashed}" + (f" (`ladder agent explain {run_id} IT` shows each "
                                           "one's output)" if t.crashed else ""))
    if t.tampered:
        words.append(f"tampered {t.tampered} (evaluations that reached outside their tree: "
                     "`ladder agent explain`)")
    return f"iterations {t.iterations}: " + ", ".join(words) + f"; evaluated {t.evaluated}"


def _spent(the_run: Any) -> str:
    budget = the_run.config.evaluations
    return f"evaluations {the_run.tally.evaluations}" + (
        f" of a budget of {budget}" if budget else "")


def _best(the_run: Any) -> list[str]:
    from ladder.agent.loop import best

    name = the_run.config.target.name
    revalidated = getattr(the_run, "revalidations", None)
    last = revalidated[-1] if revalidated else None
    if last is not None and isinstance(last.get("baseline_mean"), (int, float)) \
            and isinstance(last.get("delta"), (int, float)):
        # Both measured on the same fresh seeds: the honest comparison.
        b = float(last["baseline_mean"])
        v = b + float(last["delta"])
        flag = "" if last.get("replicated") else " - NOT replicated: treat the gain as noise"
        return [f"best {name} {v:.6g} vs baseline {b:.6g} on the same fresh seeds: "
                f"{last.get('headline', '')}, commit {str(last.get('commit', ''))[:8]}{flag}"]
    if not the_run.history:
        return []
    base, top = the_run.history[0], best(the_run.history, the_run.config)
    if top.status == "baseline":
        return [f"best: the baseline ({name} {base.metrics[name]:.6g}): nothing was kept"
                if name in base.metrics else "best: the baseline: nothing was kept"]
    if name in base.metrics and name in top.metrics:
        b, v = base.metrics[name], top.metrics[name]
        rel = (v - b) / abs(b) * 100 if b else 0.0
        return [f"best {name} {v:.6g} vs baseline {b:.6g} ({rel:+.1f}%, not re-validated on "
                f"the same seeds), commit {top.commit[:8] or '-'}"]
    return []


def learned_words(got: Mapping[str, Any], records: Sequence[Mapping[str, Any]]) -> str:
    """The learning, counted as the run's `learned: skill ...` lines were: from the
    journal's skill records (a skill this run created and then verified again is
    "updated" there, and was counted nowhere in the learner's own summary)."""
    times: Counter[str] = Counter()
    ids: dict[str, set[str]] = {}
    for rec in records:
        data = rec.get("data") or {}
        if rec.get("kind") == "skill" and data.get("id"):
            action = str(data.get("action", ""))
            times[action] += 1
            ids.setdefault(action, set()).add(str(data["id"]))

    def skills(action: str) -> str:
        n, k = times[action], len(ids.get(action, ()))
        return f"{action} {k}" + (f" ({n} times)" if n > k else "")

    words = [f"skills {skills('created')}", skills("updated"), skills("deprecated")]
    if times["reinstated"]:
        words.append(skills("reinstated"))
    lessons = f"lessons taught {len(got.get('lessons_taught') or ())}"
    if got.get("lessons_tightened"):
        lessons += f", tightened {len(got['lessons_tightened'])}"
    return (f"learned: {', '.join(words)}; {lessons}; evaluations saved by taught lessons "
            f"{got.get('evaluations_saved', 0)}")


# --- what to do next -----------------------------------------------------------------


def next_steps(the_run: Any, root: Path) -> list[str]:
    """How to take the result, and what the run left in the working tree to review."""
    lines: list[str] = []
    if the_run.history:
        lines.append(_take(the_run))
    learned = learned_files(root)
    if learned:
        add = " ".join(shlex.quote(p) for p in learned[:SHOWN]) + (" ..." if len(learned) > SHOWN else "")
        more = f" (+{len(learned) - SHOWN} more)" if len(learned) > SHOWN else ""
        lines.append(
            f"learned, not committed: review and commit them: {', '.join(learned[:SHOWN])}{more}: "
            f"git add -- {add} && git commit -m 'ladder: what run {the_run.run_id} learned' "
            "(the next run starts only from a committed tree)")
    return lines


def _take(the_run: Any) -> str:
    kept = [c for c in the_run.history if c.status == "keep"]
    base = the_run.history[0].commit
    branch = f"ladder/{the_run.run_id}"
    if not kept:
        return f"nothing kept: {branch} is the baseline {base[:8]}; your branch is unchanged"
    return (f"take the result: `git merge {branch}` ({len(kept)} kept commit(s) on top of "
            f"{base[:8]}), or pick them one by one: `git cherry-pick {base[:8]}..{branch}`")


def learned_files(root: Path) -> list[str]:
    """The files under ladder's learning paths that differ from HEAD (untracked included)."""
    from ladder.errors import LadderError
    from ladder.git import run_git, status_paths

    try:
        out = run_git(root, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--",
                      *LEARNED_PATHS)
    except LadderError:  # not a git repository (a test's fake workspace)
        return []
    return status_paths(out)
