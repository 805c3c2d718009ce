"""The loop: select parent(s), propose, commit through the hooks, evaluate, decide, record.

Every step is journaled before the next begins, and the journal alone is enough to
resume: `Run.resume` replays it, keeps every completed evaluation (never evaluating one
twice) and continues the interrupted iteration from its last recorded step. Each part
is a seam (`LoopParts`): tests pass plain callables for the proposer, the evaluator
and the clock, and the real ones are built from the configuration.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ladder.agent.config import AgentConfig
from ladder.agent.records import (
    Attempt,
    Candidate,
    Decide,
    EvalJob,
    EvalResult,
    Executor,
    Proposal,
    ProposalContext,
    Proposer,
    Selection,
    Strategy,
    Verdict,
)
from ladder.agent.strategies.pool import best_verified
from ladder.errors import LadderError

PARENT_SLOT, CANDIDATE_SLOT = "parent", "candidate"
_MAX_ATTEMPTS = 1000


@dataclass
class LoopParts:
    """The pluggable parts of a run (built from the config by `build_parts`)."""

    proposer: Proposer
    strategy: Strategy
    executor: Executor
    decide: Decide  # may answer "k more paired seeds" (an int) before its verdict
    clock: Callable[[], float] = time.monotonic
    first_stage: int | None = None  # seeds of the first look; None: all of them at once
    # The verified decision (issue 4): calibration, staged paired tests under online FDR
    # control, quarantine re-checks, convergence and re-validation. None: `decide` alone.
    verifier: Any | None = None
    # The skill library and failure lessons (issue 5): guidance before each proposal,
    # learning after each decision. None: a memoryless run.
    learner: Any | None = None


@dataclass
class Tally:
    """What the run did, for the summary line and `ladder agent status`."""

    iterations: int = 0
    blocked: dict[str, int] = field(default_factory=dict)  # by lesson id or reason kind
    evaluated: int = 0
    kept: int = 0
    discarded: int = 0
    crashed: int = 0
    invalid: int = 0
    evaluations: int = 0  # single evaluations run (each seed of parent and candidate)

    def count(self, verdict: Verdict) -> None:
        self.iterations += 1
        status = verdict.status
        if status == "blocked":
            kind = str(verdict.stats.get("kind", "hook"))
            if kind == "invalid":
                self.invalid += 1
            for key in verdict.stats.get("lessons") or [kind]:
                self.blocked[key] = self.blocked.get(key, 0) + 1
            return
        self.evaluated += 1
        if status == "keep":
            self.kept += 1
        elif status == "crash":
            self.crashed += 1
        else:
            self.discarded += 1


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


def _candidate_dict(c: Candidate) -> dict[str, Any]:
    return dataclasses.asdict(c)


def _candidate(d: Mapping[str, Any]) -> Candidate:
    return Candidate(
        **{k: v for k, v in d.items() if k in {f.name for f in dataclasses.fields(Candidate)}}
    )


def _result_dict(r: EvalResult) -> dict[str, Any]:
    return {
        "key": r.key,
        "seed": r.seed,
        "metrics": dict(r.metrics),
        "ok": r.ok,
        "reason": r.reason,
        "tail": r.tail,
        "seconds": r.seconds,
    }


def _result(d: Mapping[str, Any]) -> EvalResult:
    return EvalResult(
        key=d["key"],
        seed=d["seed"],
        # the journal stores non-finite floats as "NaN"/"Infinity" strings
        metrics={k: float(v) for k, v in d["metrics"].items()},
        ok=d["ok"],
        reason=d.get("reason", ""),
        tail=d.get("tail", ""),
        seconds=d.get("seconds", 0.0),
    )


@dataclass
class _Pending:
    """What the journal holds of an iteration that has no decision yet."""

    selection: dict[str, Any] | None = None
    proposal: dict[str, Any] | None = None
    sha: str = ""


class Run:
    """One agent run in a repository: `start` a new one or `resume` a journaled one."""

    def __init__(
        self,
        *,
        root: Path,
        run_id: str,
        config: AgentConfig,
        parts: LoopParts,
        workspace: Any,
        journal: Any,
        rules: str = "",
        report: Callable[[str], None] = lambda line: None,
        on_result: Callable[[Candidate, Verdict], None] | None = None,
    ) -> None:
        self.root = root
        self.run_id = run_id
        self.config = config
        self.parts = parts
        self.ws = workspace
        self.journal = journal
        self.rules = rules
        self.report = report
        self.on_result = on_result
        self.history: list[Candidate] = []
        self.evals: dict[str, EvalResult] = {}
        self.tally = Tally()
        self.pending: dict[int, _Pending] = {}
        self.next_iteration = 1
        self.started_at = time.time()
        self.stop_reason = ""
        self.escalated: set[int] = set()
        self.calibrated = False
        self.revalidations: list[dict[str, Any]] = []
        self.converged_reason = ""
        self._verifier_state: Mapping[str, Any] | None = None

    # --- lifecycle -----------------------------------------------------------------

    def start(self, baseline: str, *, evaluate: bool = True) -> None:
        """Journal the start and evaluate the baseline (`ladder try` skips that: its
        first parent is evaluated alongside its first candidate anyway)."""
        self.journal.append(
            "start",
            {
                "run": self.run_id,
                "baseline": baseline,
                "config": _config_dict(self.config),
                "ts": self.started_at,
            },
        )
        self.ws.start()
        if evaluate:
            self._baseline(baseline)
        else:
            base = Candidate(
                iteration=0, commit=baseline, parent="", description="baseline", status="baseline"
            )
            self.history.append(base)
            self.journal.append("baseline", {"candidate": _candidate_dict(base)})

    def replay(self) -> None:
        """Rebuild the run's state from its journal (for --resume and `status`)."""
        for rec in self.journal.records():
            kind, data = rec["kind"], rec["data"]
            if kind == "start":
                self.started_at = float(data.get("ts", self.started_at))
            elif kind == "evaluation":
                self.evals[data["key"]] = _result(data)
                self.tally.evaluations += 1  # `status` and a resumed run count them too
            elif kind == "baseline":
                self.history.insert(0, _candidate(data["candidate"]))
            elif kind == "decision":
                it = int(data["iteration"])
                self.history.append(_candidate(data["candidate"]))
                v = data["verdict"]
                self.tally.count(Verdict(v["status"], tuple(v["reasons"]), v["stats"]))
                self.pending.pop(it, None)
                self.next_iteration = max(self.next_iteration, it + 1)
                if data.get("verifier") is not None:
                    self._verifier_state = data["verifier"]
            elif kind in ("select", "proposal", "commit"):
                p = self.pending.setdefault(int(data["iteration"]), _Pending())
                if kind == "select":
                    p.selection = data
                elif kind == "proposal":
                    p.proposal = data
                else:
                    p.sha = data["sha"]
            elif kind == "stop":
                self.stop_reason = data.get("reason", "")
            elif kind == "escalation":
                self.escalated.add(int(data["iteration"]))
            elif kind == "calibration":
                self.calibrated = True
                self._verifier_state = data.get("verifier")
            elif kind == "revalidation":
                self.revalidations.append(dict(data))
            elif kind == "converged":
                self.converged_reason = str(data.get("reason", ""))

    def resume(self) -> None:
        self.replay()
        self.restore_verifier()
        if not self.history:
            raise LadderError(
                "the run has no baseline yet",
                where=self.run_id,
                todo="start a new run: `ladder agent run`",
            )
        self.journal.append(
            "resume", {"next_iteration": self.next_iteration, "evaluations_kept": len(self.evals)}
        )

    def restore_verifier(self, *, calibrate: bool = True) -> None:
        """A resumed run's verifier continues from its journaled state."""
        verifier = self.parts.verifier
        if verifier is None:
            return
        if self._verifier_state is not None:
            self.parts.verifier = type(verifier)(self.config, self._verifier_state)
        if calibrate and not self.calibrated and self.history:
            self._calibrate(self.history[0].commit)

    def loop(self) -> str:
        """Iterate until a budget ends or the search converges; returns why it stopped."""
        while True:
            reason = self._budget_left() or self._converged()
            if reason:
                break
            self.iterate(self.next_iteration)
            self.next_iteration += 1
        if self.parts.verifier is not None and self.tally.kept:
            self.revalidate("final")
        learned = self.parts.learner.summary() if self.parts.learner is not None else None
        self.journal.append(
            "stop", {"reason": reason, "tally": dataclasses.asdict(self.tally), "learned": _jsonable(learned)}
        )
        self.stop_reason = reason
        return reason

    def _converged(self) -> str:
        verifier = self.parts.verifier
        if verifier is None:
            return ""
        reason = str(verifier.converged(self.history))
        if reason and reason != self.converged_reason:
            self.converged_reason = reason
            self.journal.append(
                "converged", {"reason": reason, "iteration": self.next_iteration - 1}
            )
            self.report(reason)
        if reason and self.config.verify.on_converged == "stop":
            return reason
        return ""

    def _budget_left(self) -> str:
        c = self.config
        if c.iterations is not None and self.next_iteration > c.iterations:
            return f"iteration budget ({c.iterations}) spent"
        if c.hours is not None and time.time() - self.started_at >= c.hours * 3600:
            return f"time budget ({c.hours} h) spent"
        return ""

    # --- baseline ------------------------------------------------------------------

    def _baseline(self, sha: str) -> None:
        tree = self.ws.checkout(PARENT_SLOT, sha)
        seeds = self._seeds(0)
        jobs = [self._job(f"it0/baseline/s{k}", tree, seed) for k, seed in enumerate(seeds)]
        results = self._evaluate(0, jobs)
        bad = [r for r in results if not r.ok]
        if bad:
            raise LadderError(
                f"the baseline's evaluation failed: {bad[0].reason}",
                where=self.config.eval,
                todo="fix the evaluation command; its output ends with: "
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
        self.journal.append("baseline", {"candidate": _candidate_dict(base)})
        self.report(f"baseline {sha[:8]}: {_fmt_metrics(base.metrics)}")
        if self.parts.verifier is not None:
            self._calibrate(sha)

    def _calibrate(self, sha: str) -> None:
        """The baseline again on the same seeds: the run's noise, journaled."""
        tree = self.ws.checkout(PARENT_SLOT, sha)
        seeds = self._seeds(0)
        first = self._evaluate(
            0, [self._job(f"it0/baseline/s{k}", tree, s) for k, s in enumerate(seeds)]
        )
        second = self._evaluate(
            0, [self._job(f"it0/calibration/s{k}", tree, s) for k, s in enumerate(seeds)]
        )
        verifier = self.parts.verifier
        assert verifier is not None
        summary = verifier.calibrate(first, second)
        self.calibrated = True
        self.journal.append(
            "calibration",
            {"summary": _jsonable(summary), "verifier": _jsonable(verifier.state())},
        )
        target = self.config.target.name
        noise = summary.get("metrics", {}).get(target, {})
        self.report(
            f"calibration: {target} seed-to-seed sd {noise.get('seed_sd', 0):.4g}, "
            f"re-run sd {noise.get('rerun_sd', 0):.4g}; minimum effect "
            f"{summary.get('min_effect', 0):.4g}"
        )

    # --- one iteration -------------------------------------------------------------

    def iterate(self, it: int) -> Verdict:
        pending = self.pending.pop(it, _Pending())
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
                proposal_data = {
                    "iteration": it,
                    "description": proposal.description,
                    "files": dict(proposal.files),
                    "deleted": list(proposal.deleted),
                    "features": dict(proposal.features),
                    "proposer": proposal.proposer,
                }
                self.journal.append("proposal", proposal_data)
            proposal = _proposal(proposal_data)
            refusal = self.ws.apply(tree, proposal, self.config.editable)
            if refusal:
                return self._decided(it, selection, proposal, blocked_verdict("invalid", refusal))
            outcome = self.ws.commit(tree, self._message(it, proposal.description))
            if not outcome.ok:
                lessons = list(outcome.blocked_by)
                why = f"refused by the hooks: {', '.join(lessons) or 'see output'}"
                return self._decided(
                    it, selection, proposal, blocked_verdict("hook", why, lessons, outcome.output)
                )
            sha = outcome.sha
            self.journal.append("commit", {"iteration": it, "sha": sha, "parent": parent.commit})
        else:
            assert proposal_data is not None
            proposal = _proposal(proposal_data)
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
        if self.config.gates:
            ok, output = self.ws.run_gates(tree, self.config.gates, self.config.timeout)
            if not ok:
                return self._decided(
                    it, selection, proposal, blocked_verdict("gate", output[-2000:]), sha
                )
        parent_tree = self.ws.checkout(PARENT_SLOT, parent.commit)
        _, cand_results, verdict = self._paired(it, parent_tree, tree)
        if verdict.status == "quarantine" and self.parts.verifier is not None:
            verdict = self._recheck(it, verdict, parent_tree, tree)
        return self._decided(it, selection, proposal, verdict, sha, cand_results)

    def _recheck(self, it: int, flagged: Verdict, parent_tree: Path, tree: Path) -> Verdict:
        """A too-good-to-be-true result, evaluated again on fresh seeds; it stays in
        quarantine until a person reviews it (`ladder agent review`)."""
        seeds = [
            derive_seed(self.config.seed, self.run_id, it, "recheck", k)
            for k in range(self.config.seeds)
        ]
        jobs = [
            self._job(f"it{it}/recheck-parent/s{k}", parent_tree, s) for k, s in enumerate(seeds)
        ]
        jobs += [self._job(f"it{it}/recheck-candidate/s{k}", tree, s) for k, s in enumerate(seeds)]
        results = self._evaluate(it, jobs)
        n = len(seeds)
        verifier = self.parts.verifier
        assert verifier is not None
        verdict: Verdict = verifier.recheck(flagged, results[:n], results[n:])
        self.journal.append(
            "recheck",
            {
                "iteration": it,
                "verdict": {
                    "status": verdict.status,
                    "reasons": list(verdict.reasons),
                    "stats": _jsonable(verdict.stats),
                },
            },
        )
        return verdict

    def revalidate(self, tag: str) -> dict[str, Any] | None:
        """The verified best against the baseline on fresh seeds: the headline gain with
        its confidence interval; a keep whose gain does not replicate is flagged."""
        top = best(self.history, self.config)
        if top.status == "baseline" or self.parts.verifier is None:
            return None
        n = len(self.revalidations)
        base_tree = self.ws.checkout(PARENT_SLOT, self.history[0].commit)
        best_tree = self.ws.checkout(CANDIDATE_SLOT, top.commit)
        seeds = [
            derive_seed(self.config.seed, self.run_id, "revalidate", n, k)
            for k in range(self.config.seeds)
        ]
        jobs = [self._job(f"reval{n}/baseline/s{k}", base_tree, s) for k, s in enumerate(seeds)]
        jobs += [self._job(f"reval{n}/best/s{k}", best_tree, s) for k, s in enumerate(seeds)]
        results = self._evaluate(None, jobs)  # no iteration: the best against the baseline
        outcome = dict(self.parts.verifier.revalidate(results[: len(seeds)], results[len(seeds) :]))
        record = {
            "n": n,
            "tag": tag,
            "commit": top.commit,
            "iteration": top.iteration,
            **_jsonable(outcome),
        }
        self.revalidations.append(record)
        self.journal.append("revalidation", record)
        flag = "" if outcome.get("replicated") else "  (NOT replicated: the gain may be noise)"
        self.report(
            f"re-validation ({tag}): best #{top.iteration} {top.commit[:8]} against the baseline: "
            f"{outcome.get('headline', '')}{flag}"
        )
        return record

    def _paired(
        self, it: int, parent_tree: Path, tree: Path
    ) -> tuple[list[EvalResult], list[EvalResult], Verdict]:
        """Evaluate parent and candidate on the same seeds, in stages when the decision
        asks for more (a first look that can only drop a loser, then more seeds for a
        contender); every stage is journaled, so a resumed run re-evaluates nothing."""
        seeds = self._seeds(it)
        n = min(len(seeds), self.parts.first_stage or len(seeds))
        while True:
            jobs = [
                self._job(f"it{it}/parent/s{k}", parent_tree, s) for k, s in enumerate(seeds[:n])
            ]
            jobs += [self._job(f"it{it}/candidate/s{k}", tree, s) for k, s in enumerate(seeds[:n])]
            results = self._evaluate(it, jobs)
            parent_results, cand_results = results[:n], results[n:]
            verifier = self.parts.verifier
            out = (
                verifier.judge(parent_results, cand_results, self.history)
                if verifier is not None
                else self.parts.decide(parent_results, cand_results, self.config, self.history)
            )
            if isinstance(out, Verdict):
                return parent_results, cand_results, out
            if n >= len(seeds) or out <= 0:
                raise LadderError(
                    f"the decision asked for {out} more seeds after all {n} were used",
                    todo="this is a bug in the decision rule",
                )
            n = min(len(seeds), n + out)

    def _selection(self, it: int, pending: _Pending, rng: random.Random) -> Selection:
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
        for event in learner.after_decision(cand, verdict, proposal, parent_text, cand_text):
            self.journal.append(event.kind, {"iteration": it, **_jsonable(event.data)})
            self.report(f"learned: {event.kind} {_event_words(event.data)}")
        if learner.lessons_changed():
            self.ws.refresh_lessons()  # the loop's own check enforces a lesson made mid-run

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
            guidance = learner.before_proposal(
                it, random.Random(derive_seed(self.config.seed, self.run_id, it, "skills"))
            )
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
        )
        proposal = self.parts.proposer.propose(ctx)
        if proposal is None:
            why = getattr(self.parts.proposer, "last_error", "") or "the proposer proposed nothing"
            return blocked_verdict("invalid", why)
        return proposal

    def _attempts(self) -> tuple[Attempt, ...]:
        """Every earlier attempt (bounded): text proposers show the recent ones, the
        mutator uses them all to avoid re-trying a mutation."""
        return tuple(
            Attempt(c.iteration, c.description, c.status, c.effect, features=c.features)
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
        verifier_state = (
            _jsonable(self.parts.verifier.state()) if self.parts.verifier is not None else None
        )
        self.journal.append(
            "decision",
            {
                "iteration": it,
                "candidate": _candidate_dict(cand),
                "verdict": {
                    "status": verdict.status,
                    "reasons": list(verdict.reasons),
                    "stats": _jsonable(verdict.stats),
                },
                "verifier": verifier_state,
            },
        )
        self.history.append(cand)
        self.tally.count(verdict)
        self.report(_line(cand, verdict, self.history, self.config))
        if self.on_result is not None:
            self.on_result(cand, verdict)
        if self.parts.learner is not None:
            self._learn(it, cand, verdict, proposal)
        every = self.config.verify.revalidate_every if self.parts.verifier is not None else 0
        if verdict.status == "keep" and every and self.tally.kept % every == 0:
            self.revalidate(f"after {self.tally.kept} keeps")
        return verdict

    # --- evaluation ----------------------------------------------------------------

    def _seeds(self, it: int) -> list[int]:
        n = 1 if self.config.decision == "crude" else self.config.seeds
        return [derive_seed(self.config.seed, self.run_id, it, "eval", k) for k in range(n)]

    def _job(self, key: str, tree: Path, seed: int) -> EvalJob:
        from ladder.agent.evaluate import pass_through

        return EvalJob(
            key=key,
            root=tree,
            command=self.config.eval,
            seed=seed,
            timeout=self.config.timeout,
            env=pass_through(self.config.pass_env),
        )

    def _evaluate(self, it: int | None, jobs: Sequence[EvalJob]) -> list[EvalResult]:
        """Results for `jobs`, reusing journaled ones: nothing is evaluated twice."""
        todo = [j for j in jobs if j.key not in self.evals]

        def record(result: EvalResult) -> None:
            self.journal.append("evaluation", {"iteration": it, **_result_dict(result)})
            self.evals[result.key] = result
            self.tally.evaluations += 1

        if todo:
            self.parts.executor.run(todo, on_result=record)
        return [self.evals[j.key] for j in jobs]

    def _message(self, it: int, description: str) -> str:
        return f"ladder {self.run_id} #{it}: {description}\n\nLadder-Run: {self.run_id}\nLadder-Iteration: {it}\n"


def _event_words(data: Mapping[str, Any]) -> str:
    what = data.get("action") or data.get("event") or ""
    name = data.get("id") or data.get("skill") or data.get("lesson") or ""
    return " ".join(str(x) for x in (what, name) if x) or str(dict(data))[:80]


def _proposal(data: Mapping[str, Any]) -> Proposal:
    """A proposal as journaled (for resume)."""
    return Proposal(
        description=data["description"],
        files=data["files"],
        features=data["features"],
        proposer=data["proposer"],
        deleted=tuple(data.get("deleted", ())),
    )


def blocked_verdict(kind: str, why: str, lessons: Sequence[str] = (), output: str = "") -> Verdict:
    stats: dict[str, Any] = {"kind": kind}
    if lessons:
        stats["lessons"] = list(lessons)
    if output:
        stats["output"] = output[-2000:]
    return Verdict("blocked", (why,), stats)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _config_dict(config: AgentConfig) -> dict[str, Any]:
    return dict(_jsonable(dataclasses.asdict(config)))


def _fmt_metrics(metrics: Mapping[str, float]) -> str:
    return ", ".join(f"{k} {v:.6g}" for k, v in sorted(metrics.items())) or "-"


def _line(
    cand: Candidate, verdict: Verdict, history: Sequence[Candidate], config: AgentConfig
) -> str:
    target = config.target.name
    head = f"#{cand.iteration:<4} {verdict.status:<10}"
    if verdict.status == "blocked":
        return f"{head} {cand.description[:60]}  ({verdict.reasons[0][:80] if verdict.reasons else ''})"
    value = cand.metrics.get(target)
    shown = (
        f"{target} {value:.6g}"
        if value is not None
        else (verdict.reasons[0][:60] if verdict.reasons else "")
    )
    effect = f" ({cand.effect:+.4g})" if cand.effect is not None else ""
    return f"{head} {cand.description[:60]}  {shown}{effect}"


def best(history: Sequence[Candidate], config: AgentConfig) -> Candidate:
    """The verified best program so far (the baseline when nothing was kept): the largest
    gain over the baseline by paired effects along its lineage (`pool.gains`), not the
    best raw mean, which seed-to-seed noise decides as often as the change does."""
    return best_verified(history, config.target)
