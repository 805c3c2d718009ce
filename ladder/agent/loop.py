"""The loop: select parent(s), propose, commit through the hooks, evaluate, decide, record.

Every step is journaled before the next begins, and the journal alone is enough to
resume: `Run.resume` replays it, keeps every completed evaluation (never evaluating one
twice) and continues the interrupted iteration from its last recorded step. Each part
is a seam (`LoopParts`): tests pass plain callables for the proposer, the evaluator
and the clock, and the real ones are built from the configuration.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ladder.agent import interrupt
from ladder.agent.budget import Budget
from ladder.agent.config import AgentConfig
from ladder.agent.console import Repeats, candidate_line, clip, hook_reason
from ladder.agent.live import Snapshot
from ladder.agent.proposers.common import printable
from ladder.agent.records import (
    Attempt,
    Candidate,
    CommitOutcome,
    Decision,
    EvalJob,
    EvalResult,
    Executor,
    JournalLike,
    Plan,
    Proposal,
    ProposalContext,
    Proposer,
    Selection,
    Strategy,
    Verdict,
    Worktrees,
)
from ladder.agent.replay import (
    Pending,
    Tally,
    candidate_dict,
    jsonable,
    proposal_dict,
    proposal_from,
    replay,
    result_dict,
    verdict_dict,
)
from ladder.agent.strategies.pool import best_verified
from ladder.errors import LadderError
from ladder.sandbox import Sandbox, expand, resolve

PARENT_SLOT, CANDIDATE_SLOT, SCORER_SLOT = "parent", "candidate", "scorer"
REVAL = "reval"  # result keys and seeds of the re-validations (`revalidate`)
REVAL_BASELINE = f"{REVAL}/baseline"
_MAX_ATTEMPTS = 1000


@dataclass
class LoopParts:
    """The pluggable parts of a run (built from the config by `build_parts`)."""

    proposer: Proposer
    strategy: Strategy
    executor: Executor
    # How a candidate is judged: `verified` (calibration, sequential paired test under
    # online FDR control, guards, anomalies, re-validation) or `crude` (one seed).
    decision: Decision
    # The run's clock (the time budget; the start record's timestamp).
    clock: Callable[[], float] = time.time
    # The skill library and failure lessons (issue 5): guidance before each proposal,
    # learning after each decision. None: a memoryless run.
    learner: Any | None = None


def derive_seed(*parts: object) -> int:
    """A stable 31-bit seed from the run seed, iteration and index (not Python's hash())."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def mean_metrics(results: Sequence[EvalResult]) -> dict[str, float]:
    ok = [r for r in results if r.ok]
    names = sorted({k for r in ok for k in r.metrics})
    return {
        n: sum(r.metrics[n] for r in ok if n in r.metrics) / max(1, sum(n in r.metrics for r in ok))
        for n in names
    }


class Run:
    """One agent run in a repository: `start` a new one or `resume` a journaled one."""

    def __init__(
        self,
        *,
        root: Path,
        run_id: str,
        config: AgentConfig,
        parts: LoopParts,
        workspace: Worktrees,
        journal: JournalLike,
        rules: str = "",
        report: Callable[[str], None] = lambda line: None,
        on_result: Callable[[Candidate, Verdict], None] | None = None,
        progress: Callable[[Snapshot], None] | None = None,
    ) -> None:
        self.root = root
        self.run_id = run_id
        self.config = config
        self.parts = parts
        self.ws = workspace
        self.journal = journal
        self.rules = rules
        self._emit = report
        self._repeats = Repeats()  # consecutive refusals in the same words: one line
        self.on_result = on_result
        # Live progress (live.py): what runs now, the budget, the best, the counts.
        self.progress = progress
        self.phase = ""
        self._running: dict[str, str] = {}  # key -> words, of the batch in flight
        self._batch = 0
        self.history: list[Candidate] = []
        self.evals: dict[str, EvalResult] = {}
        self._own: dict[str, list[int]] = {}  # a kept parent's own seeds (fixed once kept)
        self.spent_in: dict[int, int] = {}  # iteration -> evaluations it ran
        self.tally = Tally()
        self.pending: dict[int, Pending] = {}
        self.next_iteration = 1
        self.started_at = parts.clock()
        self.stop_reason = ""
        self._halt = ""  # set when the run must stop at once (tamper it cannot undo)
        self.escalated: set[int] = set()
        self.calibrated = False
        self.revalidations: list[dict[str, Any]] = []
        self.converged_reason = ""
        self.outlook_words = ""
        self._decision_state: Mapping[str, Any] | None = None
        self.verdicts: dict[int, Verdict] = {}  # iteration -> verdict (a resume's refs, notes)

    @property
    def decision(self) -> Decision:
        return self.parts.decision

    @property
    def budget(self) -> Budget:
        """The evaluation budget; the final re-validation's reserve shrinks by the
        baseline's re-validation results already measured (`revalidate`)."""
        budget = Budget.of(self.config, self.decision)
        measured = sum(key in self.evals for key in self._reval_keys(REVAL_BASELINE))
        return dataclasses.replace(budget, reserve=budget.reserve - measured)

    def _reval_keys(self, head: str) -> list[str]:
        return [f"{head}/s{k}" for k in range(self.decision.revalidation_seeds)]

    # --- lifecycle -----------------------------------------------------------------

    def start(self, baseline: str, *, evaluate: bool = True,
              source: Mapping[str, Any] | None = None) -> None:
        """Journal the start and evaluate the baseline (`ladder try` skips that: its
        first parent is evaluated alongside its first candidate anyway). `source`: what
        the configuration was made from, which a resume rebuilds it from (pinned.py)."""
        self.journal.append(
            "start",
            {
                "run": self.run_id,
                "baseline": baseline,
                "config": _config_dict(self.config),
                "ts": self.started_at,
                **({"source": dict(source)} if source is not None else {}),
            },
        )
        self.ws.start()
        self.report(self._sandbox_words)
        if evaluate:
            self._baseline(baseline)
        else:
            base = Candidate(
                iteration=0, commit=baseline, parent="", description="baseline", status="baseline"
            )
            self.history.append(base)
            self.journal.append("baseline", {"candidate": candidate_dict(base)})

    def replay(self) -> None:
        """Rebuild the run's state from its journal (for --resume and `status`)."""
        state = replay(self.journal.records())
        if state.started_at is not None:
            self.started_at = state.started_at
        self.history = state.history
        self.evals = state.evals
        self.spent_in = state.spent_in
        self.tally = state.tally
        self.pending = state.pending
        self.next_iteration = state.next_iteration
        self.stop_reason = state.stop_reason
        self.escalated = state.escalated
        self.calibrated = state.calibrated
        self.revalidations = state.revalidations
        self.converged_reason = state.converged_reason
        self._decision_state = state.decision_state
        self.verdicts = state.verdicts

    def resume(self) -> None:
        """Continue from the journal: a baseline or calibration cut short is finished
        first (its journaled evaluations reused, failed ones tried again), then a
        re-validation a kill interrupted; the derived records (refs, notes, the branch)
        are made to match the journal."""
        self.replay()
        self.journal.append(
            "resume", {"next_iteration": self.next_iteration, "evaluations_kept": len(self.evals)}
        )
        if not self.history:
            self.restore_decision(calibrate=False)
            self.ws.start()
            for key in [k for k, r in self.evals.items() if not r.ok and k.startswith(
                    ("parent/", "it0/"))]:
                del self.evals[key]  # a failed baseline evaluation is tried again
            self._baseline(self.ws.baseline)
        else:
            self.restore_decision()
        self._reconcile()
        missing = self._missing_revalidation()
        if missing:
            self.revalidate(missing)

    def _reconcile(self) -> None:
        """Refs, verdict notes and the run's branch as the journal says: a kill between
        a decision and its derived records loses none of them."""
        recorded, noted = self.ws.recorded(), self.ws.noted()
        for cand in self.history[1:]:
            sha, it = cand.commit, cand.iteration
            if sha and (recorded.get(it) != sha or sha not in noted):
                self.ws.record(sha, it, self.verdicts[it])
        kept = [c.commit for c in self.history if c.status in ("baseline", "keep") and c.commit]
        if kept and self.ws.branch_tip() != kept[-1]:
            self.ws.advance(kept[-1])

    def _missing_revalidation(self) -> str:
        """The tag of the re-validation the last keep called for, when the journal does
        not have it (a kill fell inside it)."""
        tag = self._revalidation_due()
        return "" if any(r.get("tag") == tag for r in self.revalidations) else tag

    def _revalidation_due(self) -> str:
        """The tag of the re-validation the last decision calls for ("" for none): every
        `revalidate_every` keeps, right after the keep."""
        every = self.config.verify.revalidate_every if self.decision.revalidation_seeds else 0
        kept = self.tally.kept
        if not every or not kept or kept % every or self.history[-1].status != "keep":
            return ""
        return f"after {kept} keeps"

    def restore_decision(self, *, calibrate: bool = True) -> None:
        """A resumed run's decision rule continues from its journaled state."""
        if self._decision_state is not None:
            from ladder.agent.decisions import DECISIONS

            factory = DECISIONS.get(self.decision.name)
            if factory is not None:
                self.parts.decision = factory(self.config, self._decision_state)
        if calibrate and not self.calibrated and self.history and self.decision.calibration_seeds:
            self._calibrate(self.history[0].commit)

    def report(self, line: str) -> None:
        """Print a line (closing any run of repeated refusals first)."""
        for text in [*self._repeats.flush(), line]:
            self._emit(text)

    def loop(self) -> str:
        """Iterate until a budget ends, the search converges or a SIGTERM/SIGINT asks
        it to stop (interrupt.py: the iteration in flight stays pending for --resume);
        returns why it stopped."""
        try:
            while True:
                reason = self._halt or self._budget_left() or self._converged()
                if reason:
                    break
                interrupt.check()
                self.iterate(self.next_iteration)
                self.next_iteration += 1
            if self.decision.revalidation_seeds and self.tally.kept and not self._halt \
                    and not self._revalidated_final():
                self.revalidate("final")
        except interrupt.Interrupted as exc:
            return self.interrupted(exc)
        for line in self._repeats.flush():
            self._emit(line)
        self._stop(reason)
        return reason

    def interrupted(self, exc: interrupt.Interrupted) -> str:
        """Journal a stop asked for by a signal; the run resumes where it was."""
        reason = f"{exc} (resume with `ladder agent run --resume {self.run_id}`)"
        self._stop(reason, signal=exc.signum)
        return reason

    def _stop(self, reason: str, **extra: Any) -> None:
        learned = self.parts.learner.summary() if self.parts.learner is not None else None
        self.journal.append("stop", {"reason": reason, "tally": dataclasses.asdict(self.tally),
                                     "learned": jsonable(learned), **extra})
        self.stop_reason = reason

    def _revalidated_final(self) -> bool:
        """The final re-validation is done for today's best (a finished run resumed)."""
        top = best(self.history, self.config)
        return bool(self.revalidations) and self.revalidations[-1].get("tag") == "final" \
            and self.revalidations[-1].get("commit") == top.commit

    def _converged(self) -> str:
        reason = self.decision.converged(self.history, self._decisions_left())
        if reason and reason != self.converged_reason:
            self.converged_reason = reason
            self.journal.append(
                "converged", {"reason": reason, "iteration": self.next_iteration - 1}
            )
            self.report(reason)
        if reason and self.config.verify.on_converged == "stop":
            return reason
        return ""

    def _decisions_left(self) -> int | None:
        """About how many more decisions the budgets allow (None: no limit)."""
        left: list[int] = []
        if self.config.iterations is not None:
            left.append(max(0, self.config.iterations - (self.next_iteration - 1)))
        evaluations = self.budget.left(self.tally.evaluations)
        if evaluations is not None:
            decided = max(1, self.tally.evaluated)
            spent = max(1, self.tally.evaluations - 2 * self.decision.calibration_seeds)
            left.append(int(evaluations / max(1.0, spent / decided)))
        return min(left) if left else None

    def _budget_left(self) -> str:
        c = self.config
        if c.iterations is not None and self.next_iteration > c.iterations:
            return f"iteration budget ({c.iterations}) spent"
        if c.hours is not None and self.parts.clock() - self.started_at >= c.hours * 3600:
            return f"time budget ({c.hours} h) spent"
        if self.budget.exhausted(self.tally.evaluations):
            return f"evaluation budget ({c.evaluations}) spent"
        recent = self.history[-IDLE_LIMIT:]
        if len(recent) == IDLE_LIMIT and all(r.status == "blocked" for r in recent):
            # An exhausted proposer (every nearby mutation tried) or one whose every
            # change is refused: without an iteration cap the run would never end.
            return (f"nothing evaluated in the last {IDLE_LIMIT} iterations: every proposal "
                    "was refused or the proposer had nothing new (see their reasons)")
        return ""

    # --- baseline ------------------------------------------------------------------

    def _baseline_jobs(self, sha: str, tag: str) -> list[EvalJob]:
        """The baseline on its first seeds. With a shared parent, the first pass is the
        baseline's own seeds as a parent (`parent/<sha>/s<k>`): the candidates compared
        with it reuse those results instead of paying for them again."""
        tree = self.ws.checkout(PARENT_SLOT, sha)
        n = max(1, self.decision.calibration_seeds)
        if self.config.shares_parent:
            seeds = self._parent_seeds(range(n))
            head = f"parent/{sha}" if tag == "baseline" else f"it0/{tag}"
        else:
            seeds, head = self._seeds(0, n), f"it0/{tag}"
        return [self._job(f"{head}/s{k}", tree, seed) for k, seed in enumerate(seeds)]

    def _baseline(self, sha: str) -> None:
        self.phase = f"baseline {sha[:8]}"
        results = self._evaluate(0, self._baseline_jobs(sha, "baseline"))
        bad = [r for r in results if not r.ok]
        if bad:
            raise LadderError(
                f"the baseline's evaluation failed: {bad[0].reason}",
                where=self.config.eval,
                todo="fix the evaluation command, then `ladder agent run --resume "
                f"{self.run_id} --reconfigure` (or start a new run); its output ends with: "
                + " / ".join(bad[0].tail.strip().splitlines()[-3:]),
            )
        base = Candidate(
            iteration=0,
            commit=sha,
            parent="",
            description="baseline",
            status="baseline",
            metrics=mean_metrics(results),
        )
        self.history.append(base)
        self.journal.append("baseline", {"candidate": candidate_dict(base)})
        self.report(f"baseline {sha[:8]}: {_fmt_metrics(base.metrics)}")
        if self.decision.calibration_seeds:
            self._calibrate(sha)

    def _calibrate(self, sha: str) -> None:
        """The baseline again on the same seeds: the run's noise, journaled; then what
        the run can see, and a refusal when it can keep nothing."""
        self.phase = "calibration (the baseline again on the same seeds: the run's noise)"
        first = self._evaluate(0, self._baseline_jobs(sha, "baseline"))
        second = self._evaluate(0, self._baseline_jobs(sha, "calibration"))
        summary = self.decision.calibrate(first, second)
        self.calibrated = True
        self.journal.append(
            "calibration",
            {"summary": jsonable(summary), "decision": jsonable(self.decision.state())},
        )
        target = self.config.target.name
        noise = summary.get("metrics", {}).get(target, {})
        self.report(
            f"calibration: {target} seed-to-seed sd {noise.get('seed_sd', 0):.4g}, "
            f"re-run sd {noise.get('rerun_sd', 0):.4g}; minimum effect "
            f"{summary.get('min_effect', 0):.4g}"
        )
        outlook = self.decision.outlook(self._plan(0))
        if outlook is None:
            return
        self.outlook_words = outlook.words(target)
        self.journal.append("outlook", jsonable(dataclasses.asdict(outlook)))
        self.report(f"outlook: {self.outlook_words}")
        for name, margin, sd, need in outlook.guards:
            if need > margin:
                self.report(f"outlook: guard {name} (noise sd {sd:.1%} per paired seed) can rarely "
                            f"show its margin {margin:.1%}; it would need about {need:.1%}")
        if outlook.impossible:
            self.journal.append("stop", {"reason": f"refused: {outlook.impossible}"})
            raise LadderError(
                outlook.impossible,
                where="[tool.ladder.agent]",
                todo="widen the margin or raise seeds; the calibration is in the journal",
            )

    # --- one iteration -------------------------------------------------------------

    def iterate(self, it: int) -> Verdict:
        self.phase = f"iteration {it}"
        self._notify()
        pending = self.pending.pop(it, Pending())
        rng = random.Random(derive_seed(self.config.seed, self.run_id, it, "rng"))
        selection = self._selection(it, pending, rng)
        parent = selection.parent
        tree = self.ws.checkout(CANDIDATE_SLOT, parent.commit)
        sha = pending.sha
        proposal_data = pending.proposal
        if not sha:
            if proposal_data is None:
                proposal = self._propose(it, selection, tree, rng)
                if isinstance(proposal, Verdict):
                    return self._decided(it, selection, None, proposal)
                proposal_data = proposal_dict(it, proposal)
                self.journal.append("proposal", proposal_data)
            proposal = proposal_from(proposal_data)
            refusal = self.ws.apply(tree, proposal, self.config.editable)
            if refusal:
                return self._decided(it, selection, proposal, blocked_verdict("invalid", refusal))
            self.ws.sandbox = self._sandbox[0].name  # the hooks of its commit run confined
            outcome = self.ws.commit(tree, self._message(it, proposal.description))
            if not outcome.ok:
                return self._decided(it, selection, proposal, refused_by_hooks(outcome))
            sha = outcome.sha
            self.journal.append("commit", {"iteration": it, "sha": sha, "parent": parent.commit})
        else:
            assert proposal_data is not None
            proposal = proposal_from(proposal_data)
            tree = self.ws.checkout(CANDIDATE_SLOT, sha)
        return self.judge(it, selection, proposal, tree, sha)

    def judge(
        self, it: int, selection: Selection, proposal: Proposal, tree: Path, sha: str
    ) -> Verdict:
        """Defence in depth, gates, paired evaluation and the decision for commit `sha`."""
        parent = selection.parent
        problems = self.ws.verify_commit(tree, sha, parent.commit)
        if problems:
            return self._decided(
                it, selection, proposal, blocked_verdict("verify", "; ".join(problems)), sha
            )
        parent_tree = self.ws.checkout(PARENT_SLOT, parent.commit)
        # What the gates and the evaluations (the candidate's code) must not touch.
        before = self.ws.watch([parent_tree], strict=self._protected_checkouts())
        known = set(self.evals)
        if self.config.gates:
            ok, output = self.ws.run_gates(tree, self.config.gates, self.config.timeout,
                                           sandbox=self._sandbox[0].name, hidden=self._hidden(tree))
            if not ok:
                verdict = (self._tampered(it, before, known, "gate")
                           or blocked_verdict("gate", output[-2000:]))
                return self._decided(it, selection, proposal, verdict, sha)
        _, cand_results, verdict = self._paired(it, parent.commit, parent_tree, tree)
        if verdict.status == "quarantine" and verdict.stats.get("pending"):
            verdict = self._recheck(it, verdict, parent.commit, parent_tree, tree,
                                    used=len(cand_results))
        verdict = self._tampered(it, before, known) or verdict
        return self._decided(it, selection, proposal, verdict, sha, cand_results)

    def _protected_checkouts(self) -> list[Path]:
        """The scorer's checkout, made clean again at the start of every window: what a
        process left there between windows (one that outlived its own, without a
        sandbox) is gone before the scorer runs."""
        if self._scorer is None:
            return []
        return [self.ws.checkout(SCORER_SLOT, self.ws.baseline)]

    def _tampered(
        self, it: int, before: Any, known: set[str], window: str = "evaluation"
    ) -> Verdict | None:
        """A tamper verdict when the proposer or the candidate's evaluations touched what
        they must not: the window's results are discarded, the damage rolled back, the
        run stopped when it cannot be (tamper.py)."""
        damage = self.ws.check_watch(before)
        if not damage.changed:
            return None
        discarded = sorted(k for k in self.evals if k not in known)
        for key in discarded:
            self.evals.pop(key, None)
        self.journal.append("tamper", {"iteration": it, "window": window,
                                       "changed": list(damage.changed),
                                       "notes": list(damage.notes), "stuck": list(damage.stuck),
                                       "discarded": discarded})
        if damage.stuck:
            self._halt = f"tamper that could not be rolled back: {damage.stuck[0]}"
        repaired = damage.stuck or (*damage.notes, "the damage was rolled back")
        return Verdict("tamper", (*(f"tamper ({window}): {c}" for c in damage.changed), *repaired),
                       {"tamper": list(damage.changed), "window": window,
                        "discarded": discarded})

    def _recheck(
        self, it: int, flagged: Verdict, parent: str, parent_tree: Path, tree: Path, used: int
    ) -> Verdict:
        """A flagged candidate (an artifact signal, a large effect, a keep shown on one
        seed) evaluated again on fresh seeds, look after look as the decision rule asks;
        it resolves the flag (a replicated effect is kept), journaled as a "recheck".

        With a shared parent the fresh seeds are the parent's next ones after the `used`
        seeds of the decision: new to the candidate, and most often already evaluated for
        the parent (or of use to the candidates after it)."""
        self.phase = f"iteration {it}: re-check on fresh seeds"
        plan = self.decision.recheck_plan(flagged, self.parts.executor.slots)
        indices: list[int] | None = None
        if self.config.shares_parent:
            indices = self._parent_walk(it, parent, used, plan.cap)
            seeds = self._parent_seeds(indices)
            parent_key = f"parent/{parent}"
        else:
            seeds = [derive_seed(self.config.seed, self.run_id, it, "recheck", k)
                     for k in range(plan.cap)]
            parent_key = f"it{it}/recheck-parent"

        def look(n: int) -> Verdict | int:
            jobs = self._pair_jobs(parent_key, f"it{it}/recheck-candidate", parent_tree, tree,
                                   seeds[:n], indices)
            missing = sum(1 for j in jobs if j.key not in self.evals)
            affordable = not missing or self.budget.affords(self.tally.evaluations, missing)
            results = self._evaluate(it, jobs) if affordable else []
            return self.decision.recheck(flagged, results[0::2], results[1::2], plan)

        verdict = _until_answered(plan, look, "the re-check")
        self.journal.append("recheck", {"iteration": it, "verdict": verdict_dict(verdict)})
        return verdict

    def revalidate(self, tag: str) -> dict[str, Any] | None:
        """The verified best against the baseline on fresh seeds: the headline gain with
        its confidence interval; a keep whose gain does not replicate is flagged."""
        top = best(self.history, self.config)
        n_seeds = self.decision.revalidation_seeds
        if top.status == "baseline" or not n_seeds:
            return None
        n = len(self.revalidations)
        # Every re-validation uses the same fresh seeds: nothing selects on them, and the
        # baseline never changes, so its results there are measured once a run and each
        # later re-validation pays only for the best (intermediate ones cost a far-from-
        # the-optimum run of the benchmark a tenth of its budget). The best's results are
        # keyed by its commit: a re-validation a kill cut short is redone for the best of
        # its time, and never lends its results to another.
        best_head = f"{REVAL}/{top.commit[:12]}"
        cost = sum(key not in self.evals
                   for key in (*self._reval_keys(REVAL_BASELINE), *self._reval_keys(best_head)))
        if tag != "final" and not self.budget.affords(self.tally.evaluations, cost):
            return None  # the final re-validation has its evaluations set aside; this does not
        self.phase = f"re-validation ({tag}): best #{top.iteration} against the baseline"
        base_tree = self.ws.checkout(PARENT_SLOT, self.history[0].commit)
        best_tree = self.ws.checkout(CANDIDATE_SLOT, top.commit)
        seeds = [derive_seed(self.config.seed, self.run_id, REVAL, k) for k in range(n_seeds)]
        jobs = self._pair_jobs(REVAL_BASELINE, best_head, base_tree, best_tree, seeds)
        results = self._evaluate(None, jobs)  # no iteration: the best against the baseline
        outcome = dict(self.decision.revalidate(results[0::2], results[1::2]))
        record = {**jsonable(outcome), "index": n, "tag": tag, "commit": top.commit,
                  "iteration": top.iteration}
        self.revalidations.append(record)
        self.journal.append("revalidation", record)
        flag = "" if outcome.get("replicated") else "  (NOT replicated: the gain may be noise)"
        self.report(
            f"re-validation ({tag}): best #{top.iteration} {top.commit[:8]} against the baseline: "
            f"{outcome.get('headline', '')}{flag}"
        )
        return record

    def _plan(self, it: int) -> Plan:
        """The looks of iteration `it`'s decision, within what the budget had left when
        it started (its own evaluations so far do not count: a resumed run plans alike)."""
        spent = self.tally.evaluations - (self.spent_in.get(it, 0) if it else 0)
        return self.decision.plan(self.parts.executor.slots, self.budget.room(spent))

    def _paired(
        self, it: int, parent: str, parent_tree: Path, tree: Path
    ) -> tuple[list[EvalResult], list[EvalResult], Verdict]:
        """Evaluate parent and candidate on the same seeds, look after look, until the
        decision has its answer; every look is journaled, so a resumed run re-evaluates
        nothing."""
        plan = self._plan(it)
        indices: list[int] | None = None
        if self.config.shares_parent:
            # The parent's own seeds, evaluated once and shared by every candidate
            # compared with it: a look costs the candidate's evaluations only.
            indices = self._parent_walk(it, parent, 0, plan.cap)
            seeds = self._parent_seeds(indices)
            parent_key = f"parent/{parent}"
        else:
            seeds = self._seeds(it, plan.cap)
            parent_key = f"it{it}/parent"
        seen: list[list[EvalResult]] = [[], []]

        def look(n: int) -> Verdict | int:
            jobs = self._pair_jobs(parent_key, f"it{it}/candidate", parent_tree, tree,
                                   seeds[:n], indices)
            results = self._evaluate(it, jobs)
            seen[:] = [results[0::2], results[1::2]]
            return self.decision.judge(seen[0], seen[1], self.history, plan)

        verdict = _until_answered(plan, look, "the decision")
        return seen[0], seen[1], verdict

    def _pair_jobs(
        self, parent: str, candidate: str, parent_tree: Path, tree: Path, seeds: Sequence[int],
        indices: Sequence[int] | None = None,
    ) -> list[EvalJob]:
        """Parent and candidate on each seed, the two jobs of a seed adjacent: with two
        slots they run side by side under the same machine load (paired wall time).
        `indices`: each seed's place in the parents' sequence (their result keys)."""
        kept = self._kept_at(parent.removeprefix("parent/")) if parent.startswith("parent/") \
            else None
        jobs: list[EvalJob] = []
        places = indices[:len(seeds)] if indices is not None else range(len(seeds))
        for k, seed in zip(places, seeds, strict=True):
            jobs.append(self._job(self._parent_key(parent, kept, k), parent_tree, seed))
            jobs.append(self._job(f"{candidate}/s{k}", tree, seed))
        return jobs

    def _selection(self, it: int, pending: Pending, rng: random.Random) -> Selection:
        by_commit = {c.commit: c for c in self.history if c.commit}
        if pending.selection is not None:
            data = pending.selection
            second = by_commit.get(data.get("second") or "")
            return Selection(
                parent=by_commit[data["parent"]], second=second, island=data.get("island", 0)
            )
        selection = self.parts.strategy.select(self.history, rng)
        self._journal_escalations()
        self.journal.append(
            "select",
            {
                "iteration": it,
                "parent": selection.parent.commit,
                "second": selection.second.commit if selection.second else "",
                "island": selection.island,
                "strategy": getattr(self.parts.strategy, "mode", None) or self.parts.strategy.name,
            },
        )
        return selection

    def _learn(self, it: int, cand: Candidate, verdict: Verdict, proposal: Proposal | None) -> None:
        """Skills from keeps, failure lessons from repeated failures; journaled."""
        learner = self.parts.learner
        assert learner is not None
        names = [*proposal.files, *proposal.deleted] if proposal else []
        parent_text = {n: t for n in names if (t := self.ws.show(cand.parent, n)) is not None}
        cand_text = dict(proposal.files) if proposal and verdict.status != "blocked" else {}
        try:
            events = learner.after_decision(cand, verdict, proposal, parent_text, cand_text)
        except Exception as exc:  # learning must never stop a run
            self._learning_failed(it, "after the decision", exc)
            return
        for event in events:
            self.journal.append(event.kind, {"iteration": it, **jsonable(event.data)})
            self.report(f"learned: {event.kind} {_event_words(event.data)}")
        if learner.lessons_changed():
            self.ws.refresh_lessons()  # the loop's own check enforces a lesson made mid-run

    def _learning_failed(self, it: int, when: str, exc: Exception) -> None:
        """A bug in learning costs what it would have learned, never the run: journaled
        and shown (issue 12: a learner's ValueError killed runs with exit 3)."""
        what = f"{type(exc).__name__}: {exc}"
        self.journal.append("learn-error", {"iteration": it, "when": when, "error": what[:2000]})
        self.report(f"learning failed {when} at iteration {it} ({what[:200]}); the run goes on")

    def _journal_escalations(self) -> None:
        """Journal each strategy escalation once (`auto` rebuilds its list on resume)."""
        escalations = getattr(self.parts.strategy, "escalations", None) or []
        reasons = getattr(self.parts.strategy, "reasons", None) or []
        for n, (at, frm, to) in enumerate(escalations):
            if at in self.escalated:
                continue
            self.escalated.add(at)
            why = reasons[n] if n < len(reasons) else ""
            self.journal.append("escalation", {"iteration": at, "from": frm, "to": to, "why": why})
            self.report(f"strategy: {frm} -> {to} at iteration {at}" + (f" ({why})" if why else ""))

    def _propose(
        self, it: int, selection: Selection, tree: Path, rng: random.Random
    ) -> Proposal | Verdict:
        if selection.second is not None:
            files = self.ws.crossover(selection.parent.commit, selection.second.commit, tree)
            if not files:
                return blocked_verdict(
                    "invalid", "crossover: the two lineages conflict or add nothing"
                )
            return Proposal(
                description=f"crossover of {selection.second.commit[:8]} into "
                f"{selection.parent.commit[:8]}",
                files=files,
                features={"operator": "crossover", "second": selection.second.commit},
                proposer="crossover",
            )
        skills = ""
        learner = self.parts.learner
        if learner is not None:
            # Its own random stream, so proposals stay reproducible whatever the library holds.
            try:
                guidance = learner.before_proposal(
                    it, random.Random(derive_seed(self.config.seed, self.run_id, it, "skills"))
                )
            except Exception as exc:  # learning must never stop a run
                from ladder.agent.skills.learner import Guidance

                self._learning_failed(it, "before the proposal", exc)
                guidance = Guidance("", None)
            skills = guidance.skills_text
            if hasattr(self.parts.proposer, "operator_weights"):
                self.parts.proposer.operator_weights = guidance.operator_weights
            if hasattr(self.parts.proposer, "focus"):
                self.parts.proposer.focus = guidance.focus
        ctx = ProposalContext(
            root=tree,
            editable=self.config.editable,
            iteration=it,
            rng=rng,
            rules=self.rules,
            attempts=self._attempts(),
            inspirations=tuple((c.description, "") for c in selection.inspirations),
            skills=skills,
            parent=selection.parent.commit,
            sandbox=self._sandbox[0].name,
            writable=self._confined[0],
            hidden=self._hidden(tree),
        )
        # The proposer's own process (a coding agent) must not reach outside its checkout
        # either: the same watch as around evaluations (tamper.py).
        # (the scorer's checkout as it is: it is made again when the evaluations start)
        before = self.ws.watch([], strict=[self._scorer] if self._scorer is not None else [])
        proposal = self.parts.proposer.propose(ctx)
        tampered = self._tampered(it, before, set(self.evals), "proposal")
        if tampered is not None:
            return tampered
        if proposal is None:
            why = getattr(self.parts.proposer, "last_error", "") or "the proposer proposed nothing"
            return blocked_verdict("invalid", printable(why, 2000))
        # Its words are shown, journaled and committed: one printable line, cut at a word.
        return dataclasses.replace(proposal, description=clip(proposal.description, 200))

    def _attempts(self) -> tuple[Attempt, ...]:
        """Every earlier attempt (bounded): text proposers show the recent ones, the
        mutator uses them all to avoid re-trying a mutation."""
        return tuple(
            Attempt(c.iteration, c.description, c.status, c.effect, features=c.features,
                    parent=c.parent)
            for c in self.history[-_MAX_ATTEMPTS:]
            if c.status != "baseline"
        )

    def _decided(
        self,
        it: int,
        selection: Selection,
        proposal: Proposal | None,
        verdict: Verdict,
        sha: str = "",
        results: Sequence[EvalResult] = (),
    ) -> Verdict:
        # No decision after a stop was asked for: what the stop killed (an evaluation,
        # a gate, the proposer's command) must not become a verdict. Pending, it resumes.
        interrupt.check()
        metrics = mean_metrics(results) if results else {}
        effect = verdict.stats.get(
            "delta"
        )  # candidate minus parent (stats["effect"] is the improvement)
        features: dict[str, Any] = dict(proposal.features) if proposal else {}
        if proposal is None and selection.second is not None:
            # A refused crossover still names its pair, so the strategy does not offer it again.
            features = {"operator": "crossover", "second": selection.second.commit}
        description = (
            proposal.description if proposal else (verdict.reasons[0] if verdict.reasons else "")
        )
        cand = Candidate(
            iteration=it,
            commit=sha,
            parent=selection.parent.commit,
            description=description,
            status=verdict.status,
            metrics=metrics,
            effect=float(effect) if isinstance(effect, (int, float)) else None,
            features=features,
            island=selection.island,
        )
        if sha:
            self.ws.record(sha, it, verdict)
            if verdict.status == "keep":
                self.ws.advance(sha)
        self.journal.append(
            "decision",
            {
                "iteration": it,
                "candidate": candidate_dict(cand),
                "verdict": verdict_dict(verdict),
                "decision": jsonable(self.decision.state()),
            },
        )
        self.history.append(cand)
        self.verdicts[it] = verdict
        self.tally.count(verdict)
        for line in self._repeats.add(it, candidate_line(cand, verdict, self.config.target.name),
                                      verdict.status):
            self._emit(line)
        self._notify()
        if self.on_result is not None:
            self.on_result(cand, verdict)
        if self.parts.learner is not None:
            self._learn(it, cand, verdict, proposal)
        due = self._revalidation_due()
        if due:
            self.revalidate(due)
        return verdict

    # --- evaluation ----------------------------------------------------------------

    def _parent_seeds(self, indices: Sequence[int]) -> list[int]:
        """The parents' sequence of seeds at `indices` (a parent's results on them are
        shared by its candidates). Every parent has the same sequence, so a kept
        candidate, evaluated on its parent's seeds, already has results on its own."""
        return [derive_seed(self.config.seed, self.run_id, "parent", k) for k in indices]

    def _parent_walk(self, it: int, parent: str, start: int, n: int) -> list[int]:
        """Steps `start`.. of iteration `it`'s walk through the parents' seeds: the seeds
        `parent` already has results on (its own), rotated by the iteration, then the
        others in order (further looks, a re-check's fresh seeds). Why rotate: a parent's
        result on a seed is shared by all its candidates, so were every decision to look
        first at the same seed, one lucky parent result would hide every real gain of
        its candidates at their first look (an unlucky one would flatter them all);
        rotated, it is the first comparison of one candidate in as many as the parent
        has seeds, at no extra evaluation."""
        own = self._own_seeds(parent)
        turn = it % len(own)  # crude's parents have one seed: it never turns
        walk = own[turn:] + own[:turn]
        taken = set(own)
        k = 0
        while len(walk) < start + n:
            if k not in taken:
                walk.append(k)
            k += 1
        return walk[start:start + n]

    def _own_seeds(self, sha: str) -> list[int]:
        """The indices (in the parents' sequence) of the seeds commit `sha` was evaluated
        on before it became a parent: the baseline's calibration seeds, or a kept
        candidate's own from its decision and re-check. Fixed once the commit is kept, so
        a resumed decision walks the same seeds."""
        if sha in self._own:  # scanned once: every later candidate of it walks the same
            return self._own[sha]
        kept = self._kept_at(sha)
        if kept is None:
            return list(range(max(1, self.decision.calibration_seeds)))
        heads = (f"it{kept}/candidate/s", f"it{kept}/recheck-candidate/s")
        own = sorted({int(key[len(h):]) for key in self.evals for h in heads
                      if key.startswith(h) and key[len(h):].isdigit()})
        self._own[sha] = own or [0]
        return self._own[sha]

    def _kept_at(self, sha: str) -> int | None:
        """The iteration that kept commit `sha` (None: the baseline, or not kept)."""
        return next((c.iteration for c in reversed(self.history)
                     if c.commit == sha and c.status == "keep"), None)

    def _parent_key(self, head: str, kept: int | None, k: int) -> str:
        """The result key of a parent (`head`) on its seed `k`: a candidate kept at
        iteration `kept` has its own results, from its decision or its re-check, on the
        seeds those used, and they serve as its results as a parent."""
        if kept is not None:
            for own in (f"it{kept}/candidate/s{k}", f"it{kept}/recheck-candidate/s{k}"):
                if own in self.evals:
                    return own
        return f"{head}/s{k}"

    def _seeds(self, it: int, n: int) -> list[int]:
        return [derive_seed(self.config.seed, self.run_id, it, "eval", k) for k in range(n)]

    def _job(self, key: str, tree: Path, seed: int) -> EvalJob:
        sandbox = self.config.sandbox
        return EvalJob(key=key, root=tree, command=self.config.eval, seed=seed,
                       timeout=self.config.timeout, env=self._passed_env,
                       score=self.config.score, scorer=self._scorer,
                       trusted=tuple(m.name for m in self.config.metrics.values() if m.trusted),
                       sandbox=self._sandbox[0].name, writable=self._confined[0],
                       hidden=self._hidden(tree), network=sandbox.network)

    @functools.cached_property
    def _sandbox(self) -> tuple[Sandbox, str]:
        """The sandbox of the run's untrusted processes, and the note when `auto` fell back."""
        return resolve(self.config.sandbox.mode)

    @functools.cached_property
    def _confined(self) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
        """The configured writable and hidden paths (relative ones: from the repository)."""
        return (expand(self.config.sandbox.writable, self.root),
                expand(self.config.sandbox.hidden, self.root))

    def _hidden(self, tree: Path) -> tuple[Path, ...]:
        """Hidden paths, with relative ones hidden in the checkout `tree` as well."""
        relative = tuple(tree / h for h in self.config.sandbox.hidden
                         if not Path(os.path.expanduser(h)).is_absolute())
        return (*self._confined[1], *relative)

    @property
    def _sandbox_words(self) -> str:
        box, note = self._sandbox
        if box.name == "none":
            return "sandbox: none" + (f" -- {note}" if note else
                                      " (configured): tampering is detected, not prevented")
        reach = "network on" if self.config.sandbox.network else "no network"
        words = f"sandbox: {box.name} -- evaluations write only their own checkout, {reach}"
        if self.config.proposer.kind == "command":
            words += "; the proposer's command writes only its checkout (it cannot commit)"
        return words

    @functools.cached_property
    def _scorer(self) -> Path | None:
        """A checkout of the run's baseline: the protected scorer runs from there, never
        from the candidate's tree (made once per process, before any candidate runs)."""
        if not self.config.score:
            return None
        return self.ws.checkout(SCORER_SLOT, self.ws.baseline)

    @functools.cached_property
    def _passed_env(self) -> dict[str, str]:
        """The variables `pass_env` lets through (read once: the run's environment)."""
        from ladder.agent.evaluate import pass_through

        return pass_through(self.config.pass_env)

    def _evaluate(self, it: int | None, jobs: Sequence[EvalJob]) -> list[EvalResult]:
        """Results for `jobs`, reusing journaled ones: nothing is evaluated twice."""
        todo = [j for j in jobs if j.key not in self.evals]

        def record(result: EvalResult) -> None:
            self.journal.append("evaluation", {"iteration": it, **result_dict(result)})
            self.evals[result.key] = result
            self.tally.evaluations += 1
            if it is not None:
                self.spent_in[it] = self.spent_in.get(it, 0) + 1
            self._running.pop(result.key, None)
            self._notify()

        if todo:
            self._running = {j.key: _job_words(j) for j in todo}
            self._batch = len(todo)
            self._notify()
            try:
                self.parts.executor.run(todo, on_result=record)
            finally:
                self._running = {}
        interrupt.check()  # whatever executor ran them: a stop leaves results missing
        return [self.evals[j.key] for j in jobs]

    # --- progress ------------------------------------------------------------------

    def _notify(self) -> None:
        if self.progress is not None:
            self.progress(self.snapshot())

    def snapshot(self) -> Snapshot:
        """Where the run stands now, for a live display (live.py)."""
        t, c = self.tally, self.config
        running = tuple(self._running.values())
        return Snapshot(
            phase=self.phase, running=running, batch=(self._batch - len(running), self._batch),
            spent=t.evaluations, budget=c.evaluations, decided=t.iterations,
            iterations=c.iterations, elapsed=self.parts.clock() - self.started_at,
            hours=c.hours, best=self._best_words(),
            counts={"keep": t.kept, "discard": t.discarded, "quarantine": t.quarantined,
                    "blocked": sum(t.blocked.values()), "crash": t.crashed,
                    "tamper": t.tampered},
        )

    def _best_words(self) -> str:
        """The verified best with its interval: the last re-validation's headline (the
        best against the baseline on fresh seeds), else the keep's own paired effect."""
        if not self.history:
            return ""
        top = best(self.history, self.config)
        if top.status == "baseline":
            return ""
        last = self.revalidations[-1] if self.revalidations else None
        if last is not None and last.get("commit") == top.commit and last.get("headline"):
            return f"#{top.iteration} {top.commit[:8]}: {last['headline']} against the baseline"
        stats = self.verdicts[top.iteration].stats if top.iteration in self.verdicts else {}
        effect, ci = stats.get("effect"), stats.get("ci")
        words = f"#{top.iteration} {top.commit[:8]}"
        if isinstance(effect, (int, float)):
            words += f": {self.config.target.name} improved {effect:.4g} over its parent"
            if isinstance(ci, (list, tuple)) and len(ci) == 2:
                words += f" (95% CI {ci[0]:.4g} to {ci[1]:.4g})"
        return words + "; not yet re-validated against the baseline"

    def _message(self, it: int, description: str) -> str:
        return f"ladder {self.run_id} #{it}: {description}\n\nLadder-Run: {self.run_id}\nLadder-Iteration: {it}\n"


IDLE_LIMIT = 50  # iterations in a row that evaluate nothing before a run stops


def _until_answered(plan: Plan, look: Callable[[int], Verdict | int], what: str) -> Verdict:
    """Look at `plan.first` seeds, then at as many more as each answer asks, up to the
    plan's cap, until the answer is a verdict."""
    n = plan.first
    while True:
        out = look(n)
        if isinstance(out, Verdict):
            return out
        if n >= plan.cap or out <= 0:
            raise LadderError(
                f"{what} asked for {out} more seeds after all {n} were used",
                todo="this is a bug in the decision rule",
            )
        n = min(plan.cap, n + out)


def _event_words(data: Mapping[str, Any]) -> str:
    what = data.get("action") or data.get("event") or ""
    name = data.get("id") or data.get("skill") or data.get("lesson") or ""
    return " ".join(str(x) for x in (what, name) if x) or str(dict(data))[:80]


def refused_by_hooks(outcome: CommitOutcome) -> Verdict:
    """The verdict on a commit the hooks refused, in the hook's own words (the lesson and
    its message), not "see output": the real reason was only inside the journal (issue
    14). A finding names a file the proposer chose: printable before it is kept."""
    lessons = list(outcome.blocked_by)
    said = outcome.reason or ", ".join(lessons) or hook_reason(outcome.output)
    return blocked_verdict("hook", f"refused by the hooks: {clip(said, 1000)}", lessons,
                           outcome.output)


def blocked_verdict(kind: str, why: str, lessons: Sequence[str] = (), output: str = "") -> Verdict:
    stats: dict[str, Any] = {"kind": kind}
    if lessons:
        stats["lessons"] = list(lessons)
    if output:
        stats["output"] = output[-2000:]
    return Verdict("blocked", (why,), stats)


def _config_dict(config: AgentConfig) -> dict[str, Any]:
    return dict(jsonable(dataclasses.asdict(config)))


def _fmt_metrics(metrics: Mapping[str, float]) -> str:
    return ", ".join(f"{k} {v:.6g}" for k, v in sorted(metrics.items())) or "-"


def _job_words(job: EvalJob) -> str:
    """An evaluation in flight, for the live display: whose it is and its seed."""
    parts = job.key.split("/")
    who = parts[-2] if len(parts) > 2 else parts[0]
    if all(ch in "0123456789abcdef" for ch in who) and len(who) >= 8:
        who = "parent" if parts[0] == "parent" else "best"  # a commit's results
    return f"{who} seed {job.seed}"


def best(history: Sequence[Candidate], config: AgentConfig) -> Candidate:
    """The verified best program so far (the baseline when nothing was kept): the largest
    gain over the baseline by paired effects along its lineage (`pool.gains`), not the
    best raw mean, which seed-to-seed noise decides as often as the change does."""
    return best_verified(history, config.target)
