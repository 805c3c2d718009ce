"""Verified decisions against ground truth: crude, naive k-seed mean, and ladder.

A synthetic training program (`train.py`, ~45 constants, booleans, string choices and a
train() body) is explored by the real `mutate` proposer in a temporary directory (no
git: the proposal's file is written there directly). Its true objective (a loss, lower is
better) is a known function of the program's constants; an evaluation returns

    truth(program) + shared(seed) + specific(program, seed) + nondeterminism

with sd 0.8, 0.6 and 0.05: part of the noise is shared by every program under one seed,
part is specific to the program, as in real training. One noise sigma (the seed-to-seed
spread of a single evaluation) is 1.0. A guard metric `latency_ms` (margin 5%) and the
evaluation's wall time (`seconds`) come with every evaluation.

Regimes (every replicate draws its own world from its seed):
- realistic: the baseline is tuned, each relevant knob 0-35% off its optimum: most
  mutations are neutral (20 constants and 3 statements have no effect) or harmful, and
  helpful effects are below one sigma;
- easy: every relevant knob 2-5x off its optimum: large effects.

Policies, at the same budget of evaluations per run (hill climbing: the parent is the
last kept program):
- crude: parent and candidate on one fresh seed, keep if better (ladder --crude);
- naive: parent and candidate on k = 5 paired seeds, keep if the mean is better;
- ladder: calibration, screen on 3 paired seeds, confirmation on fresh seeds at
  LORD++'s alpha, guards, anomalies (quarantine + re-check on fresh seeds), periodic
  re-validation, convergence stop, and a final re-validation that gives the headline
  gain with its 95% confidence interval. Every evaluation counts against the budget.

Also: the null world (no mutation has any true effect; 200-decision runs), an injected
too-good result (an evaluation that skips its work and reports a 20-sigma gain) and an
injected 10% guard regression (margin 5%) on a candidate with a clear true gain.

Usage: python bench/verification.py [--replicates 100] [--budget 400] [--jobs 2]
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import math
import multiprocessing
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ladder.agent.proposers.mutate as mutate
from ladder.agent.config import AgentConfig, MetricSpec
from ladder.agent.decide import decide, decide_crude
from ladder.agent.records import Attempt, Candidate, EvalResult, ProposalContext, Verdict
from ladder.agent.verify import Verifier, VerifySettings

# The proposer lists editable files with `git ls-files` and records each site's line
# number (a full position pass of libcst, most of its time): neither matters here (no
# git, and the line is only a feature for the skill library), so both are replaced.
mutate.editable_files = lambda root, globs: ["train.py"]  # type: ignore[assignment]
mutate._line = lambda module, node: 0  # type: ignore[assignment]

# Applying a mutation (libcst's deep_replace and code generation) is a pure function of
# the parsed parent, the site and the edit; every replicate starts from the same program,
# so one proposer per process, with that function memoized, does the same work once.
_apply = mutate._proposal
_APPLIED: dict[tuple[int, int, str, str], tuple[Any, Any, Any]] = {}
mutate._CACHE_SIZE = 256


def _memo_proposal(path: str, parsed: Any, site: Any, edit: Any) -> Any:
    key = (id(parsed), id(site.node), edit.new, edit.note)
    hit = _APPLIED.get(key)
    if hit is None:
        if len(_APPLIED) > 20000:
            _APPLIED.clear()
        hit = _APPLIED[key] = (parsed, site.node, _apply(path, parsed, site, edit))  # refs pin ids
    return hit[2]


mutate._proposal = _memo_proposal  # type: ignore[assignment]
PROPOSER = mutate.MutateProposer()

SHARED_SD, SPECIFIC_SD, NONDET_SD = 0.8, 0.6, 0.05
GUARD_SD = 0.01  # relative noise of latency_ms
SECONDS = 60.0

RELEVANT = {  # name: baseline value (its optimum is drawn per world)
    "LR": 0.003, "WARMUP": 200, "WIDTH": 512, "DEPTH": 8, "HEADS": 8, "DROPOUT": 0.1,
    "WEIGHT_DECAY": 0.01, "BETA2": 0.95, "GRAD_CLIP": 1.0, "BATCH": 64, "SEQ_LEN": 256,
    "LABEL_SMOOTHING": 0.05, "MLP_RATIO": 4.0, "INIT_STD": 0.02, "LR_DECAY": 0.1,
    "EMBED_DIM": 256, "EPS": 1e-8, "MOMENTUM": 0.9, "ROPE_BASE": 10000.0, "Z_LOSS": 0.0001,
    "TEMPERATURE": 1.0, "NOISE_STD": 0.01, "MIN_LR": 0.0001, "ATTN_DROPOUT": 0.05,
}
NEUTRAL = {  # constants with no effect on the objective
    "LOG_EVERY": 100, "EVAL_EVERY": 500, "CHECKPOINT_EVERY": 1000, "NUM_WORKERS": 4,
    "PREFETCH": 2, "PRINT_WIDTH": 80, "KEEP_LAST": 3, "PROFILE_STEPS": 10, "SEED_OFFSET": 7,
    "PLOT_DPI": 100, "RETRIES": 3, "TIMEOUT_S": 600, "BUFFER_MB": 64, "PORT": 8080,
    "PROGRESS_EVERY": 50, "SAMPLE_TOKENS": 64, "TOP_K": 50, "CACHE_SIZE": 128,
    "HISTORY": 20, "WARN_AFTER": 5,
}
BOOLS = {"USE_NORM": True, "TIE_WEIGHTS": True, "COMPILE": False, "VERBOSE": False}
CHOICES = {"ACTIVATION": ("gelu", "relu gelu silu"), "SCHEDULE": ("cosine", "cosine linear constant")}
CALLS = ("setup", "normalize", "warmup", "log", "report", "trace")


def program_text(relevant: int, neutral: int) -> str:
    lines = ['"""A synthetic training program (its true objective is known)."""']
    knobs = {**dict(list(RELEVANT.items())[:relevant]), **dict(list(NEUTRAL.items())[:neutral])}
    for name, value in knobs.items():
        lines.append(f"{name} = {value!r}")
    for name, flag in BOOLS.items():
        lines.append(f"{name} = {flag}")
    for name, (value, choices) in CHOICES.items():
        lines.append(f'{name} = "{value}"  # ladder: choices {choices}')
    lines += ["", "", "def train():", "    setup(workers=4, pin_memory=True)"]
    lines += [f'    {c}("run")' if c in ("log", "report", "trace") else f"    {c}()" for c in CALLS[1:]]
    return "\n".join(lines) + "\n"


# The regimes' program: 16 relevant and 10 neutral constants (about 200 distinct
# mutations of any one program); the null world's: all 44 (about 300), so 200 decisions
# on a program that never changes still find untried mutations.
PROGRAM = program_text(16, 10)
NULL_PROGRAM = program_text(len(RELEVANT), len(NEUTRAL))


# --- the world: truth and noise ------------------------------------------------------------


@dataclass(frozen=True)
class World:
    seed: int
    optimum: dict[str, float]  # relevant knob -> its optimal value
    weight: dict[str, float]  # relevant knob -> loss per (ln ratio)^2
    effects: dict[str, float]  # "USE_NORM=False", "ACTIVATION=relu", "delete:setup" -> loss
    null: bool = False

    @staticmethod
    def draw(seed: int, regime: str) -> World:
        rng = random.Random(f"world/{regime}/{seed}")
        optimum, weight = {}, {}
        for name, value in list(RELEVANT.items())[:16]:
            weight[name] = rng.uniform(1.0, 8.0)
            lo, hi = (0.0, 0.35) if regime == "realistic" else (math.log(2), math.log(5))
            offset = rng.uniform(lo, hi) * rng.choice((-1, 1))
            optimum[name] = float(value) * math.exp(-offset)  # baseline = optimum * e^offset
        effects = {
            "USE_NORM=False": 1.5, "ACTIVATION=relu": 0.3, "ACTIVATION=silu": -0.1,
            "SCHEDULE=linear": 0.2, "SCHEDULE=constant": 0.8,
            "delete:setup": 5.0, "delete:normalize": 2.0, "delete:warmup": 0.6,
        }
        if regime == "easy":
            effects.update({"USE_NORM=False": -2.0, "ACTIVATION=silu": -1.5})
        return World(seed, optimum, weight, effects, null=regime == "null")


_CONSTANTS: dict[str, dict[str, Any]] = {}


def constants(text: str) -> dict[str, Any]:
    """The module-level constants of a program, and which train() calls it still makes."""
    if text not in _CONSTANTS:
        tree = ast.parse(text)
        out: dict[str, Any] = {}
        for node in tree.body:
            target = node.targets[0] if isinstance(node, ast.Assign) else None
            if isinstance(target, ast.Name) and isinstance(node.value, ast.Constant):
                out[target.id] = node.value.value
            if isinstance(node, ast.FunctionDef):
                out["calls"] = {
                    n.value.func.id for n in node.body
                    if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)
                    and isinstance(n.value.func, ast.Name)
                }
        if len(_CONSTANTS) > 20000:
            _CONSTANTS.clear()
        _CONSTANTS[text] = out
    return _CONSTANTS[text]


def truth(world: World, text: str) -> float:
    """The program's true loss (lower is better)."""
    if world.null:
        return 0.0
    c = constants(text)
    loss = 0.0
    for name, best in world.optimum.items():
        value = float(c.get(name, best))
        if value <= 0 or best <= 0:
            loss += 10.0
            continue
        loss += world.weight[name] * math.log(value / best) ** 2
    for name in ("USE_NORM", "ACTIVATION", "SCHEDULE"):
        loss += world.effects.get(f"{name}={c.get(name)}", 0.0)
    for call in ("setup", "normalize", "warmup"):
        if call not in c.get("calls", set()):
            loss += world.effects[f"delete:{call}"]
    return loss


def latency(text: str) -> float:
    """The guard's true value: bigger models are slower."""
    c = constants(text)
    ratio = 0.06 * math.log(float(c.get("WIDTH", 512)) / 512) + 0.04 * math.log(
        float(c.get("DEPTH", 8)) / 8
    ) + (-0.03 if c.get("COMPILE") else 0.0)
    return 100.0 * math.exp(ratio)


def _gauss(*key: object) -> float:
    digest = hashlib.blake2b("/".join(map(str, key)).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big")).gauss(0.0, 1.0)


@dataclass
class Evaluator:
    """In-process evaluations, counted; `override` injects a fault into one program."""

    world: World
    rng: random.Random
    count: int = 0
    override: dict[str, Callable[[EvalResult], EvalResult]] = field(default_factory=dict)

    def __call__(self, text: str, seed: int) -> EvalResult:
        self.count += 1
        value = (truth(self.world, text) + SHARED_SD * _gauss("shared", self.world.seed, seed)
                 + SPECIFIC_SD * _gauss("specific", text, seed) + NONDET_SD * self.rng.gauss(0, 1))
        lat = latency(text) * (1 + GUARD_SD * _gauss("lat", text, seed))
        seconds = SECONDS * (1 + 0.02 * self.rng.gauss(0, 1))
        result = EvalResult(f"e{self.count}", seed,
                            {"loss": value, "latency_ms": lat, "tokens_per_s": 1e5 / lat},
                            ok=True, seconds=seconds)
        fault = self.override.get(text)
        return fault(result) if fault else result


def config_for(policy: str, seeds: int) -> AgentConfig:
    return AgentConfig(
        editable=("train.py",), eval="(in process)",
        metrics={"loss": MetricSpec("loss", "min", "target"),
                 "latency_ms": MetricSpec("latency_ms", "min", "guard", margin=0.05)},
        seeds=seeds, iterations=None, strategy="hill",
        decision="crude" if policy == "crude" else "paired",
    )


# --- one run ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    policy: str
    regime: str
    replicate: int
    decisions: int = 0
    evaluations: int = 0
    keeps: list[float] = field(default_factory=list)  # true effect of each keep (+ = better)
    quarantined: int = 0
    quarantined_injected: bool = False
    injected_status: str = ""
    claimed: float = 0.0  # the gain the run reports (loss units, + = better)
    true_gain: float = 0.0
    ci: tuple[float, float] | None = None
    not_replicated: int = 0
    stop: str = ""


class Search:
    """A hill-climbing run of one policy in one world, driven like ladder's loop."""

    def __init__(self, policy: str, world: World, replicate: int, budget: int,
                 max_decisions: int | None, settings: VerifySettings, seeds: int,
                 inject: str = "", inject_at: int = 0) -> None:
        self.policy, self.world, self.budget = policy, world, budget
        self.max_decisions = max_decisions
        self.rng = random.Random(f"run/{policy}/{world.seed}/{replicate}")
        self.evaluate = Evaluator(world, random.Random(f"nd/{policy}/{world.seed}/{replicate}"))
        k = {"crude": 1, "naive": 5}.get(policy, seeds)
        self.config = replace(config_for(policy, k), verify=settings)
        self.verifier = Verifier(self.config) if policy == "ladder" else None
        self.proposer = PROPOSER
        self.dir = work_dir()
        self.out = Outcome(policy, "null" if world.null else "", replicate)
        self.inject, self.inject_at = inject, inject_at
        self.seed_counter = 0

    def seeds(self, n: int) -> list[int]:
        out = [self.rng.randrange(2**31) for _ in range(n)]
        self.seed_counter += n
        return out

    def pair(self, parent: str, cand: str, n: int) -> tuple[list[EvalResult], list[EvalResult]]:
        seeds = self.seeds(n)
        return [self.evaluate(parent, s) for s in seeds], [self.evaluate(cand, s) for s in seeds]

    def run(self) -> Outcome:
        base = parent = NULL_PROGRAM if self.world.null else PROGRAM
        attempts: list[Attempt] = []
        reserve = 0
        if self.verifier is not None:  # calibration: the baseline twice on the same seeds
            s = self.seeds(CALIBRATION_SEEDS)
            first = [self.evaluate(base, x) for x in s]
            self.verifier.calibrate(first, [self.evaluate(base, x) for x in s])
            reserve = 2 * REVALIDATE_SEEDS
        else:  # the loop's baseline evaluation, on `seeds` seeds
            first = [self.evaluate(base, x) for x in self.seeds(self.config.seeds)]
        recorded = {base: statistics.fmean(r.metrics["loss"] for r in first)}
        history = [Candidate(0, "p0", "", "baseline", "baseline", {"loss": recorded[base]})]
        keeps_since = 0
        written = ""
        per_decision = 2 * self.config.seeds
        it = 0
        while True:
            it += 1
            if self.max_decisions is not None and self.out.decisions >= self.max_decisions:
                self.out.stop = "decisions"
                break
            if self.max_decisions is None and self.evaluate.count + per_decision > self.budget - reserve:
                self.out.stop = "budget"
                break
            if written != parent:
                (self.dir / "train.py").write_text(parent)
                written = parent
            ctx = ProposalContext(root=self.dir, editable=("train.py",), iteration=it,
                                  rng=random.Random(f"{self.rng.random()}"), attempts=tuple(attempts))
            proposal = self.proposer.propose(ctx)
            if proposal is None:
                self.out.stop = "proposer exhausted"
                break
            cand = proposal.files["train.py"]
            injected = bool(self.inject) and self.out.decisions + 1 == self.inject_at
            if injected:
                cand = self._inject(parent, cand)
            true_effect = truth(self.world, parent) - truth(self.world, cand)
            verdict, results = self.decide(parent, cand, history)
            self.out.decisions += 1
            if injected:
                self.out.injected_status = verdict.status
            if verdict.status == "quarantine":
                self.out.quarantined += 1
                self.out.quarantined_injected |= injected
                if self.verifier is not None:  # re-checked on fresh seeds, held for a person
                    p, c = self.pair(parent, cand, self.verifier.first_stage())
                    self.verifier.recheck(verdict, p, c)
            delta = verdict.stats.get("delta")
            status = verdict.status
            history.append(Candidate(it, f"p{it}", history[-1].commit, proposal.description,
                                     status, {}, float(delta) if isinstance(delta, float) else None,
                                     dict(proposal.features)))
            attempts.append(Attempt(it, proposal.description, status,
                                    features=dict(proposal.features)))
            if status == "keep":
                self.out.keeps.append(true_effect)
                recorded[cand] = statistics.fmean(r.metrics["loss"] for r in results)
                parent = cand
                keeps_since += 1
                if self.verifier is not None and keeps_since >= self.config.verify.revalidate_every:
                    keeps_since = 0
                    b, p = self.pair(base, parent, REVALIDATE_SEEDS)
                    if not self.verifier.revalidate(b, p)["replicated"]:
                        self.out.not_replicated += 1
            if self.verifier is not None:
                why = self.verifier.converged(history)
                if why and self.config.verify.on_converged == "stop":
                    self.out.stop = "converged"
                    break
        # what the run reports: its best recorded value against the baseline's (`ladder
        # agent status`), for ladder the final re-validation on fresh seeds
        self.out.claimed = recorded[base] - min(recorded.values())
        if self.verifier is not None:
            if parent != base:
                b, p = self.pair(base, parent, REVALIDATE_SEEDS)
                report = self.verifier.revalidate(b, p)
                self.out.claimed = report["gain"]
                self.out.ci = (report["ci"][0], report["ci"][1]) if report["ci"] else None
            else:
                self.out.claimed, self.out.ci = 0.0, (0.0, 0.0)
        self.out.true_gain = truth(self.world, base) - truth(self.world, parent)
        self.out.evaluations = self.evaluate.count
        return self.out

    def decide(self, parent: str, cand: str,
               history: Sequence[Candidate]) -> tuple[Verdict, list[EvalResult]]:
        if self.verifier is None:
            p, c = self.pair(parent, cand, self.config.seeds)
            rule = decide_crude if self.policy == "crude" else decide
            return rule(p, c, self.config, history), c
        p, c = self.pair(parent, cand, self.verifier.first_stage())
        while True:
            outcome = self.verifier.judge(p, c, history)
            if isinstance(outcome, Verdict):
                return outcome, c
            more_p, more_c = self.pair(parent, cand, outcome)
            p, c = p + more_p, c + more_c

    def _inject(self, parent: str, cand: str) -> str:
        """A distinct program text whose evaluation is faulty."""
        faulty = cand + f"# injected {self.inject}\n"
        if self.inject == "too-good":
            def skip(r: EvalResult) -> EvalResult:  # reports a 20-sigma gain in 1/30 of the time
                loss = truth(self.world, parent) - 20.0 + 0.05 * self.rng.gauss(0, 1)
                return replace(r, metrics={**r.metrics, "loss": loss}, seconds=2.0)
            self.evaluate.override[faulty] = skip
        else:
            def regress(r: EvalResult) -> EvalResult:  # a clear true gain, 10% slower
                gain = truth(self.world, cand) - truth(self.world, parent) + 2.0
                return replace(r, metrics={**r.metrics, "loss": r.metrics["loss"] - gain,
                                           "latency_ms": r.metrics["latency_ms"] * 1.10})
            self.evaluate.override[faulty] = regress
        return faulty


REVALIDATE_SEEDS = 10
_SCRATCH = "LADDER_BENCH_DIR"  # set by main(): every process works in its own subdirectory


def work_dir() -> Path:
    """This process's scratch directory (its runs are sequential)."""
    root = os.environ.get(_SCRATCH) or tempfile.mkdtemp(prefix="ladder-bench-")
    os.environ[_SCRATCH] = root
    path = Path(root) / str(os.getpid())
    path.mkdir(exist_ok=True)
    return path


CALIBRATION_SEEDS = 5


@dataclass(frozen=True)
class Task:
    policy: str
    regime: str
    replicate: int
    budget: int
    max_decisions: int | None = None
    inject: str = ""


def run_task(task: Task) -> Outcome:
    world = World.draw(task.replicate, task.regime)
    # The whole budget is spent by every policy (convergence is journaled, not obeyed),
    # so the comparison is at equal evaluations.
    settings = VerifySettings(on_converged="explore")
    inject_at = 0
    if task.inject:
        inject_at = random.Random(f"inject/{task.replicate}").randint(10, 40)
    search = Search(task.policy, world, task.replicate, task.budget, task.max_decisions,
                    settings, SEEDS, task.inject, inject_at)
    out = search.run()
    out.regime = task.regime if not task.inject else f"inject:{task.inject}"
    return out


SEEDS = 15  # ladder's most paired seeds per decision (screen 3, confirm 12)


# --- the report ----------------------------------------------------------------------------


def summarize(outs: Sequence[Outcome]) -> dict[str, Any]:
    keeps = [e for o in outs for e in o.keeps]
    false = [e for e in keeps if e <= 1e-12]
    true_keeps = len(keeps) - len(false)
    covered = [o.ci[0] - 1e-9 <= o.true_gain <= o.ci[1] + 1e-9 for o in outs if o.ci]
    claimed = [o.claimed for o in outs]
    gains = [o.true_gain for o in outs]
    return {
        "runs": len(outs),
        "false_share": len(false) / len(keeps) if keeps else 0.0,
        "keeps": len(keeps) / len(outs),
        "churn": len(false) / len(outs),
        "median_gain": statistics.median(gains),
        "mean_claimed": statistics.fmean(claimed),
        "mean_true": statistics.fmean(gains),
        "coverage": statistics.fmean(covered) if covered else None,
        "evals_per_true_keep": sum(o.evaluations for o in outs) / true_keeps if true_keeps else math.inf,
        "evaluations": statistics.fmean(o.evaluations for o in outs),
        "decisions": statistics.fmean(o.decisions for o in outs),
        "quarantined": sum(o.quarantined for o in outs) / len(outs),
        "not_replicated": sum(o.not_replicated for o in outs),
        "any_keep": statistics.fmean(1.0 if o.keeps else 0.0 for o in outs),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replicates", type=int, default=100)
    parser.add_argument("--budget", type=int, default=400, help="evaluations per run")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--null-decisions", type=int, default=200)
    parser.add_argument("--null-crude", type=int, default=20,
                        help="replicates of crude in the null world (it keeps in every run)")
    args = parser.parse_args(argv)
    r = args.replicates
    tasks = [Task(p, g, i, args.budget) for g in ("realistic", "easy")
             for p in ("crude", "naive", "ladder") for i in range(r)]
    tasks += [Task("ladder", "null", i, 0, args.null_decisions) for i in range(r)]
    tasks += [Task("crude", "null", i, 0, args.null_decisions) for i in range(args.null_crude)]
    tasks += [Task("ladder", "realistic", 1000 + i, 10**6, 45, inj)
              for inj in ("too-good", "guard") for i in range(r)]
    started = time.perf_counter()
    os.environ[_SCRATCH] = tempfile.mkdtemp(prefix="ladder-bench-")
    try:
        with multiprocessing.Pool(args.jobs) as pool:
            outs = pool.map(run_task, tasks, chunksize=2)
    finally:
        shutil.rmtree(os.environ.pop(_SCRATCH), ignore_errors=True)
    elapsed = time.perf_counter() - started
    groups: dict[tuple[str, str], list[Outcome]] = {}
    for o in outs:
        groups.setdefault((o.regime, o.policy), []).append(o)
    print(f"verification benchmark: {r} replicates per policy, {args.budget} evaluations per run, "
          f"noise sigma 1.0 (shared {SHARED_SD}, program-specific {SPECIFIC_SD}); "
          f"{elapsed:.0f}s on {args.jobs} process(es)\n")
    head = (f"{'regime':<10} {'policy':<7} {'keeps/run':>9} {'false-keep':>10} {'churn/run':>9} "
            f"{'median true gain':>16} {'claimed':>8} {'true':>7} {'CI covers':>9} "
            f"{'evals/true keep':>15} {'evals/run':>9}")
    print(head)
    print("-" * len(head))
    table: dict[tuple[str, str], dict[str, Any]] = {}
    for regime in ("realistic", "easy"):
        for policy in ("crude", "naive", "ladder"):
            s = summarize(groups[(regime, policy)])
            table[(regime, policy)] = s
            cov = f"{s['coverage']:.0%}" if s["coverage"] is not None else "-"
            label = policy + (" (UNVERIFIED)" if policy == "crude" else "")
            print(f"{regime:<10} {label:<7} {s['keeps']:>9.2f} {s['false_share']:>10.1%} "
                  f"{s['churn']:>9.2f} {s['median_gain']:>16.3f} {s['mean_claimed']:>8.3f} "
                  f"{s['mean_true']:>7.3f} {cov:>9} {s['evals_per_true_keep']:>15.1f} "
                  f"{s['evaluations']:>9.0f}")
    null = {p: summarize(groups[("null", p)]) for p in ("crude", "ladder")}
    good = groups[("inject:too-good", "ladder")]
    guard = groups[("inject:guard", "ladder")]
    too_good_q = statistics.fmean(1.0 if o.injected_status == "quarantine" else 0.0 for o in good)
    guard_rej = statistics.fmean(1.0 if o.injected_status not in ("keep", "") else 0.0 for o in guard)
    guard_seen = sum(1 for o in guard if o.injected_status)
    print()
    for regime in ("realistic", "easy"):
        c, lad = table[(regime, "crude")], table[(regime, "ladder")]
        over = c["mean_claimed"] - c["mean_true"]
        print(f"{regime}: crude claims {c['mean_claimed']:.3f} sigma, true {c['mean_true']:.3f} "
              f"(winner's curse: overstates by {over:.3f} sigma); ladder claims "
              f"{lad['mean_claimed']:.3f}, true {lad['mean_true']:.3f}")
        print(f"{regime}: ladder quarantined {lad['quarantined']:.2f}/run, "
              f"{lad['not_replicated']} periodic re-validations did not replicate")
    print(f"null world ({args.null_decisions} decisions/run): runs keeping anything: "
          f"ladder {null['ladder']['any_keep']:.1%} of {null['ladder']['runs']}, crude "
          f"{null['crude']['any_keep']:.1%} of {null['crude']['runs']} "
          f"(crude keeps {null['crude']['keeps']:.1f}/run)")
    print(f"injected too-good result: quarantined in {too_good_q:.0%} of {len(good)} replicates")
    print(f"injected 10% guard regression (margin 5%): rejected in {guard_rej:.0%} of "
          f"{len(guard)} replicates (reached in {guard_seen})")
    realistic_l, realistic_c = table[("realistic", "ladder")], table[("realistic", "crude")]
    false_all = [e for g in ("realistic", "easy") for o in groups[(g, "ladder")] for e in o.keeps]
    false_share = sum(1 for e in false_all if e <= 1e-12) / len(false_all) if false_all else 0.0
    targets = [
        ("ladder false-keep share <= 5% (both regimes)", false_share <= 0.05,
         f"{false_share:.1%} (crude {table[('realistic', 'crude')]['false_share']:.0%} / "
         f"{table[('easy', 'crude')]['false_share']:.0%})"),
        ("null world: <= 5% of runs keep anything", null["ladder"]["any_keep"] <= 0.05,
         f"{null['ladder']['any_keep']:.1%}"),
        ("ladder headline CI covers the true gain >= 90%",
         all((table[(g, "ladder")]["coverage"] or 0) >= 0.90 for g in ("realistic", "easy")),
         " / ".join(f"{table[(g, 'ladder')]['coverage']:.0%}" for g in ("realistic", "easy"))),
        ("realistic: ladder median true gain >= crude's",
         realistic_l["median_gain"] >= realistic_c["median_gain"],
         f"{realistic_l['median_gain']:.3f} vs {realistic_c['median_gain']:.3f}"),
        ("injected too-good result quarantined in every replicate", too_good_q == 1.0,
         f"{too_good_q:.0%}"),
        ("injected guard regression rejected >= 95%", guard_rej >= 0.95 and guard_seen == len(guard),
         f"{guard_rej:.0%}"),
    ]
    print("\ntargets:")
    for name, met, value in targets:
        print(f"  [{'met' if met else 'NOT MET'}] {name}: {value}")
    e = table[("easy", "ladder")]["median_gain"], table[("easy", "crude")]["median_gain"]
    print(f"  [report] easy: ladder median true gain {e[0]:.3f} vs crude {e[1]:.3f}")
    return 0 if all(m for _, m, _ in targets) else 1


if __name__ == "__main__":
    raise SystemExit(main())
