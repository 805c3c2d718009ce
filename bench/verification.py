"""Verified decisions against ground truth: crude, verified and an oracle, at an equal
evaluation budget, driving the shipped loop.

Every run is the real `ladder.agent.loop.Run` -- the real `mutate` proposer, the `hill`
strategy, the shipped decision rule (`verified` or `crude` from
`ladder.agent.decisions`), the evaluation budget (`evaluations = N`), calibration,
re-checks and re-validation, the skill learner (`learn = true`, the default: each
replicate a repository's first run; a crude keep teaches it nothing) -- with the shipped fakes for the slow parts
(`ladder.agent.fakes`: an in-memory workspace, a callable executor, a fake clock, an
in-memory journal). Only the evaluation is simulated: a synthetic training program
(`train.py`, ~45 constants, booleans, choices and a train() body) whose true objective
(a loss, lower is better) is a known function of its constants; an evaluation returns

    truth(program) + shared(seed) + specific(program, seed) + nondeterminism

with sd 0.8, 0.6 and 0.05 (one sigma = 1.0 of seed-to-seed spread; 2x in the noisy
world): part of the noise is shared by every program under one seed, part is specific
to the program, as in real training. A guard `latency_ms` (margin 5%) comes with it.

Worlds (each replicate draws its own from its seed):
- far: four of the 16 relevant knobs 2-5x off their optimum (the others at theirs), a
  norm and an activation worth 2 and 1.5 sigma: large effects, an optimum within reach;
- near: a tuned baseline, each relevant knob 0-35% off: helpful effects are below one
  sigma, most mutations are neutral (20 constants and 3 statements do nothing) or harmful;
- null: no mutation has any true effect;
- noisy: the far world with twice the noise;
- small: the issue's example, a target of another shape: four knobs (LR, MOMENTUM,
  WIDTH, USE_NORM) and two that do nothing, seed noise sd 0.05, far from its optimum;
- wide (reported, not a target): all 16 knobs 2-5x off, more to gain than any budget
  here reaches: progress is limited by evaluations alone and effects dwarf the noise,
  the one regime where crude's cheap decisions win.

Policies, the same proposer and run seed, the same evaluation budget:
- crude: `decision = "crude"`, one seed each (a parent's result serving all its
  candidates: autoresearch's rule), keep if better (UNVERIFIED);
- verified: the default decision;
- oracle: the same loop with a decision that keeps exactly the truly better candidates,
  paying crude's evaluations, one seed a decision (the yardstick of what was possible).

Near a tuned baseline the report adds a ceiling: the true gain kept by a test given
about six times the budget -- every proposal of the baseline evaluated on the full seed
cap, tested with the noise's true sd, then Benjamini-Hochberg at 0.05 over all of them
with every p-value in hand (more powerful than any online rule). Set against crude's
gain it says whether the world leaves the target within reach of any rule that controls
false keeps at this seed cap.

False keeps are shown two ways: the share of all keeps that were false (pooled over runs;
one false keep in a null world, where no keep is true, makes it 100%) and the FDR, each
run's share of false keeps averaged over runs (what ADDIS controls).

Injections (verified only, separate replicates in the near world): an artifact at a random
decision -- an evaluation that skips its work (a large gain in 1/30 of the time) or
ignores its seed (the same large gain on every seed) -- must be quarantined; a genuine
large gain (a hidden switch worth 8 sigma, a real program change) must be kept without a
person.

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ladder.agent.config import AgentConfig, MetricSpec, VerifySettings
from ladder.agent.decisions import CrudeDecision, make_decision
from ladder.agent.fakes import CallableExecutor, FakeClock, MemoryJournal, MemoryWorkspace
from ladder.agent.loop import LoopParts, Run, best
from ladder.agent.proposers.mutate import MutateProposer
from ladder.agent.records import (
    Candidate,
    EvalJob,
    EvalResult,
    Plan,
    Proposal,
    ProposalContext,
    Verdict,
)
from ladder.agent.skills import Learner
from ladder.agent.strategies import make_strategy
from ladder.project import Project
from testing.skills import init_project

SHARED_SD, SPECIFIC_SD, NONDET_SD = 0.8, 0.6, 0.05
GUARD_SD = 0.01  # relative noise of latency_ms
SECONDS = 60.0
BOOST = 8.0  # the hidden switch's true gain (sigma)

RELEVANT = {  # name: baseline value (its optimum is drawn per world)
    "LR": 0.003, "WARMUP": 200, "WIDTH": 512, "DEPTH": 8, "HEADS": 8, "DROPOUT": 0.1,
    "WEIGHT_DECAY": 0.01, "BETA2": 0.95, "GRAD_CLIP": 1.0, "BATCH": 64, "SEQ_LEN": 256,
    "LABEL_SMOOTHING": 0.05, "MLP_RATIO": 4.0, "INIT_STD": 0.02, "LR_DECAY": 0.1,
    "EMBED_DIM": 256,
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


def program_text() -> str:
    lines = ['"""A synthetic training program (its true objective is known)."""']
    for name, value in {**RELEVANT, **NEUTRAL}.items():
        lines.append(f"{name} = {value!r}")
    for name, flag in BOOLS.items():
        lines.append(f"{name} = {flag}")
    for name, (value, choices) in CHOICES.items():
        lines.append(f'{name} = "{value}"  # ladder: choices {choices}')
    lines += ["", "", "def train():", "    setup(workers=4, pin_memory=True)"]
    lines += [f'    {c}("run")' if c in ("log", "report", "trace") else f"    {c}()" for c in CALLS[1:]]
    return "\n".join(lines) + "\n"


PROGRAM = program_text()
FILE = "train.py"

# The example, a target of another shape: four knobs and two that do nothing,
# seed noise sd 0.05; far from its optimum (the loss can fall by about 3.4).
SMALL_PROGRAM = (
    '"""A small training script: four knobs, two that do nothing."""\n'
    "LR = 1.0\nMOMENTUM = 0.5\nWIDTH = 16\nUSE_NORM = False\nLOG_EVERY = 100\nSEED_OFFSET = 7\n"
)
SMALL_NOISE = (0.04, 0.03, 0.01)  # shared, program-specific, nondeterministic sd


# --- the world: truth and noise ------------------------------------------------------------


@dataclass(frozen=True)
class World:
    kind: str
    seed: int
    optimum: dict[str, float]  # relevant knob -> its optimal value
    weight: dict[str, float]  # relevant knob -> loss per (ln ratio)^2
    effects: dict[str, float]  # "USE_NORM=False", "ACTIVATION=relu", "delete:setup" -> loss
    noise: float = 1.0  # scale of every noise term

    @property
    def null(self) -> bool:
        return self.kind == "null"

    @staticmethod
    def draw(kind: str, seed: int) -> World:
        rng = random.Random(f"world/{kind}/{seed}")
        optimum, weight = {}, {}
        far = kind in ("far", "noisy", "wide")
        # far and noisy: FAR_KNOBS knobs far off, the others already at their optimum (a
        # budget can reach the optimum, as in the example); wide: every knob off.
        off = set(rng.sample(sorted(RELEVANT), FAR_KNOBS)) if kind in ("far", "noisy") \
            else set(RELEVANT)
        for name, value in RELEVANT.items():
            weight[name] = rng.uniform(1.0, 8.0)
            lo, hi = (math.log(2), math.log(5)) if far else (0.0, 0.35)
            offset = rng.uniform(lo, hi) * rng.choice((-1, 1)) if name in off else 0.0
            optimum[name] = float(value) * math.exp(-offset)  # baseline = optimum * e^offset
        effects = {
            "USE_NORM=False": 1.5, "ACTIVATION=relu": 0.3, "ACTIVATION=silu": -0.1,
            "SCHEDULE=linear": 0.2, "SCHEDULE=constant": 0.8,
            "delete:setup": 5.0, "delete:normalize": 2.0, "delete:warmup": 0.6,
        }
        if far:
            effects.update({"USE_NORM=False": -2.0, "ACTIVATION=silu": -1.5})
        return World(kind, seed, optimum, weight, effects, 2.0 if kind == "noisy" else 1.0)


FAR_KNOBS = 4  # knobs off their optimum in the far and noisy worlds


_CONSTANTS: dict[str, dict[str, Any]] = {}


def constants(text: str) -> dict[str, Any]:
    """The module-level constants of a program, and which train() calls it still makes."""
    if text not in _CONSTANTS:
        out: dict[str, Any] = {}
        for node in ast.parse(text).body:
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
    c = constants(text)
    if world.kind == "small":
        return _small_truth(c)
    boost = BOOST if c.get("BOOST") is True else 0.0
    if world.null:
        return -boost
    loss = -boost
    for name, best_value in world.optimum.items():
        value = float(c.get(name, best_value))
        if value <= 0 or best_value <= 0:
            loss += 10.0
            continue
        loss += world.weight[name] * math.log(value / best_value) ** 2
    for name in ("USE_NORM", "ACTIVATION", "SCHEDULE"):
        loss += world.effects.get(f"{name}={c.get(name)}", 0.0)
    for call in ("setup", "normalize", "warmup"):
        if call not in c.get("calls", set()):
            loss += world.effects[f"delete:{call}"]
    return loss


def _small_truth(c: Mapping[str, Any]) -> float:
    def log(name: str, best_value: float) -> float:
        value = float(c.get(name, best_value))
        return math.log(value / best_value) if value > 0 else 10.0

    loss = 1.0 + 0.8 * log("LR", 0.35) ** 2 + 0.6 * log("WIDTH", 96) ** 2
    loss += 2.0 * (float(c.get("MOMENTUM", 0.9)) - 0.9) ** 2
    return loss + (0.0 if c.get("USE_NORM") is True else 0.3)


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
    """Evaluates a job from the program in its checkout; remembers each result's truth
    (for the oracle and the scoring). `faults` turn a program's results into artifacts."""

    world: World
    rng: random.Random
    truths: dict[str, float] = field(default_factory=dict)  # result key -> true loss
    faults: dict[str, Callable[[EvalResult, str], EvalResult]] = field(default_factory=dict)

    def __call__(self, job: EvalJob) -> EvalResult:
        text = (job.root / FILE).read_text(encoding="utf-8")
        w = self.world
        shared, specific, nondet = SMALL_NOISE if w.kind == "small" else (
            SHARED_SD, SPECIFIC_SD, NONDET_SD)
        value = (truth(w, text) + w.noise * (shared * _gauss("shared", w.seed, job.seed)
                 + specific * _gauss("specific", text, job.seed) + nondet * self.rng.gauss(0, 1)))
        lat = latency(text) * (1 + GUARD_SD * _gauss("lat", text, job.seed))
        seconds = SECONDS * (1 + 0.02 * self.rng.gauss(0, 1))
        result = EvalResult(job.key, job.seed, {"loss": value, "latency_ms": lat}, ok=True,
                            seconds=seconds)
        self.truths[job.key] = truth(w, text)
        for marker, fault in self.faults.items():
            if marker in text:
                return fault(result, text)
        return result


class OracleDecision(CrudeDecision):
    """Keeps exactly the truly better candidates, paying crude's evaluations (one seed)."""

    name = "oracle"

    def __init__(self, config: AgentConfig, truths: Mapping[str, float]) -> None:
        super().__init__(config)
        self.truths = truths

    def judge(self, parent: Sequence[EvalResult], candidate: Sequence[EvalResult],
              history: Sequence[Candidate], plan: Plan) -> Verdict:
        verdict = super().judge(parent, candidate, history, plan)
        if verdict.status not in ("keep", "discard") or not parent or not candidate:
            return verdict
        gain = self.truths[parent[0].key] - self.truths[candidate[0].key]
        # The truth, not one seed: what it keeps is evidence the learner may use.
        stats = {k: v for k, v in verdict.stats.items() if k != "unverified"}
        return Verdict("keep" if gain > 0 else "discard", ("oracle",), {**stats, "effect": gain})


class Injecting:
    """The real proposer, except at decision `at`: a planted change (an artifact marker,
    or the hidden BOOST switch)."""

    name = "mutate"

    def __init__(self, inner: MutateProposer, at: int, kind: str) -> None:
        self.inner, self.at, self.kind = inner, at, kind
        self.operator_weights: Any = None
        self.focus: Any = ()

    def propose(self, ctx: ProposalContext) -> Proposal | None:
        if ctx.iteration != self.at:
            return self.inner.propose(ctx)
        text = (ctx.root / FILE).read_text(encoding="utf-8")
        if self.kind == "boost":
            planted = text + "BOOST = True\n"
        else:
            planted = text.replace("NUM_WORKERS = 4", "NUM_WORKERS = 5") + f"# {self.kind}\n"
        return Proposal(f"planted: {self.kind}", {FILE: planted}, {"operator": "planted"}, "bench")


def _skip_work(world: World) -> Callable[[EvalResult, str], EvalResult]:
    def fault(result: EvalResult, text: str) -> EvalResult:  # 6 sigma better in 1/30 the time
        return replace(result, metrics={**result.metrics, "loss": result.metrics["loss"] - 6.0},
                       seconds=result.seconds / 30)
    return fault


def _ignore_seed(world: World) -> Callable[[EvalResult, str], EvalResult]:
    def fault(result: EvalResult, text: str) -> EvalResult:  # the same value on every seed
        return replace(result, metrics={**result.metrics, "loss": truth(world, text) - 6.0})
    return fault


# --- one run ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    policy: str
    world: str
    replicate: int
    decisions: int = 0
    evaluations: int = 0
    keeps: list[float] = field(default_factory=list)  # true effect of each keep (+ = better)
    quarantined: int = 0
    planted_status: str = ""
    planted_label: str = ""
    true_gain: float = 0.0
    claimed: float = 0.0
    ci: tuple[float, float] | None = None
    stop: str = ""
    ceiling: float = math.nan  # near world: what an ideal capped test could keep (below)


def config_for(policy: str, budget: int, seeds: int) -> AgentConfig:
    return AgentConfig(
        editable=(FILE,), eval="(in process)",
        metrics={"loss": MetricSpec("loss", "min", "target"),
                 "latency_ms": MetricSpec("latency_ms", "min", "guard", margin=0.05)},
        seeds=seeds, iterations=None, evaluations=budget, strategy="hill", workers=2,
        decision="verified" if policy == "verified" else "crude",
        # The whole budget is spent by every policy (convergence is journaled, not obeyed),
        # so the comparison is at equal evaluations.
        verify=VerifySettings(on_converged="explore"),
    )


@dataclass(frozen=True)
class Task:
    policy: str
    world: str
    replicate: int
    budget: int
    seeds: int
    plant: str = ""  # "", "skip-work", "ignore-seed", "boost"


def run_task(task: Task) -> Outcome:
    world = World.draw("near" if task.plant else task.world, task.replicate)
    config = config_for(task.policy, task.budget, task.seeds)
    evaluator = Evaluator(world, random.Random(f"nd/{task.policy}/{task.world}/{task.replicate}"))
    if task.plant == "skip-work":
        evaluator.faults["# skip-work"] = _skip_work(world)
    elif task.plant == "ignore-seed":
        evaluator.faults["# ignore-seed"] = _ignore_seed(world)
    clock = FakeClock()
    decision = (OracleDecision(config, evaluator.truths) if task.policy == "oracle"
                else make_decision(config))
    proposer: Any = MutateProposer()
    at = 0
    if task.plant:
        at = random.Random(f"plant/{task.replicate}").randint(15, 45)
        proposer = Injecting(proposer, at, task.plant)
    program = SMALL_PROGRAM if task.world == "small" else PROGRAM
    workspace = MemoryWorkspace(scratch() / f"{task.policy}-{task.world}-{task.replicate}",
                                {FILE: program})
    parts = LoopParts(proposer=proposer, strategy=make_strategy("hill", config),
                      executor=CallableExecutor(evaluator, config.workers, clock),
                      decision=decision, clock=clock)
    journal = MemoryJournal()
    run_id = f"bench{task.replicate}"
    # Learning is on by default (`learn = true`): each replicate is a repository's first
    # run, its skill library empty; a crude keep teaches nothing (one seed is no evidence).
    project = workspace.root.parent / f"{workspace.root.name}-project"
    init_project(project)
    parts.learner = Learner(Project(project), run_id, config, clock=clock)
    run = Run(root=workspace.root, run_id=run_id, config=config, parts=parts,
              workspace=workspace, journal=journal)
    try:
        run.start(workspace.baseline)
        out = Outcome(task.policy, task.world if not task.plant else f"plant:{task.plant}",
                      task.replicate, stop=run.loop())
        score(out, run, workspace, world, at)
    finally:
        workspace.cleanup()
        shutil.rmtree(project, ignore_errors=True)
    return out


def score(out: Outcome, run: Run, workspace: MemoryWorkspace, world: World, planted_at: int) -> None:
    """What the run achieved in truth, and what it claimed."""
    def true_loss(commit: str) -> float:
        return truth(world, workspace.files(commit)[FILE])

    base = workspace.baseline
    for c in run.history[1:]:
        if c.status == "keep":
            out.keeps.append(true_loss(c.parent) - true_loss(c.commit))
        if c.iteration == planted_at:
            out.planted_status = c.status
        out.quarantined += c.status == "quarantine"
    out.decisions = run.tally.evaluated
    out.evaluations = run.tally.evaluations
    top = best(run.history, run.config)
    out.true_gain = true_loss(base) - true_loss(top.commit) if top.commit else 0.0
    if run.revalidations:
        last = run.revalidations[-1]
        ci = last.get("ci")
        out.claimed = float(last.get("gain", 0.0))
        out.ci = (float(ci[0]), float(ci[1])) if ci else None
    elif top.status == "baseline" and not run.decision.unverified:
        out.ci = (0.0, 0.0)  # nothing kept: the claim is "no gain", exactly
    if world.kind == "near" and out.policy == "verified" and not planted_at:
        offered = [true_loss(base) - true_loss(c.commit) for c in run.history[1:]
                   if c.commit and c.parent == base]
        out.ceiling = ceiling(offered, run.config.seeds, world)
    planted = [d for d in run.history if d.iteration == planted_at]
    if planted:
        rec = [r["data"] for r in run.journal.records() if r["kind"] == "decision"
               and r["data"]["iteration"] == planted_at]
        if rec:
            out.planted_label = str(rec[0]["verdict"]["stats"].get("label", ""))


def ceiling(effects: Sequence[float], seeds: int, world: World, draws: int = 200) -> float:
    """The expected true gain kept by a test with far more than the budget: every one of
    the baseline's proposals (`effects`, true improvements) evaluated on the full seed
    cap, a one-sided z test each with the noise's true sd (no estimate to pay for), and
    Benjamini-Hochberg at 0.05 over all of them at once -- offline, with every p-value in
    hand, which no online rule matches. A keep of a harmful proposal counts against the
    gain. Averaged over `draws` simulated noises."""
    import numpy as np
    from scipy import stats as sps

    if not effects:
        return 0.0
    rng = np.random.default_rng(world.seed)
    sd = world.noise * math.sqrt(2 * (SPECIFIC_SD**2 + NONDET_SD**2))  # a paired difference
    e = np.asarray(effects, dtype=float)
    m = len(e)
    mean = e + rng.normal(0.0, sd / math.sqrt(seeds), (draws, m))
    p = sps.norm.sf(mean / (sd / math.sqrt(seeds)))
    order = np.sort(p, axis=1)
    passed = order <= 0.05 * np.arange(1, m + 1) / m
    kept = np.where(passed.any(axis=1), m - np.argmax(passed[:, ::-1], axis=1), 0)
    cut = np.where(kept > 0, order[np.arange(draws), np.maximum(kept - 1, 0)], -1.0)
    return float(np.mean(np.sum(np.where(p <= cut[:, None], e, 0.0), axis=1)))


_SCRATCH = "LADDER_BENCH_DIR"  # set by main(): every process works in its own subdirectory


def scratch() -> Path:
    root = os.environ.get(_SCRATCH) or tempfile.mkdtemp(prefix="ladder-bench-")
    os.environ[_SCRATCH] = root
    path = Path(root) / str(os.getpid())
    path.mkdir(exist_ok=True)
    return path


# --- the report ------------------------------------------------------------------------------


def summarize(outs: Sequence[Outcome]) -> dict[str, Any]:
    keeps = [e for o in outs for e in o.keeps]
    false = [e for e in keeps if e <= 1e-12]
    true_keeps = len(keeps) - len(false)
    covered = [o.ci[0] - 1e-9 <= o.true_gain <= o.ci[1] + 1e-9 for o in outs if o.ci]
    gains = [o.true_gain for o in outs]
    return {
        "runs": len(outs),
        "median_gain": statistics.median(gains),
        "mean_gain": statistics.fmean(gains),
        "false_share": len(false) / len(keeps) if keeps else 0.0,
        # the false-discovery rate: each run's share of false keeps, averaged over runs
        "fdr": statistics.fmean(sum(1 for e in o.keeps if e <= 1e-12) / max(1, len(o.keeps))
                                for o in outs),
        "keeps": len(keeps) / len(outs),
        "any_keep": statistics.fmean(1.0 if o.keeps else 0.0 for o in outs),
        "coverage": statistics.fmean(covered) if covered else None,
        "evals_per_true_keep": (sum(o.evaluations for o in outs) / true_keeps
                                if true_keeps else math.inf),
        "evaluations": statistics.fmean(o.evaluations for o in outs),
        "decisions": statistics.fmean(o.decisions for o in outs),
        "quarantined": statistics.fmean(o.quarantined for o in outs),
    }


WORLDS = ("far", "near", "null", "noisy", "small", "wide")
REPORTED = ("wide",)  # worlds shown but not held to the targets
POLICIES = ("crude", "verified", "oracle")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--replicates", type=int, default=100)
    parser.add_argument("--budget", type=int, default=400, help="evaluations per run")
    parser.add_argument("--seeds", type=int, default=10, help="the verified rule's seed cap")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--worlds", default=",".join(WORLDS))
    parser.add_argument("--plants", type=int, default=None,
                        help="replicates of each injection (default: --replicates)")
    args = parser.parse_args(argv)
    r = args.replicates
    worlds = [w for w in args.worlds.split(",") if w]
    plants = r if args.plants is None else args.plants
    tasks = [Task(p, w, i, args.budget, args.seeds) for w in worlds for p in POLICIES
             for i in range(r)]
    tasks += [Task("verified", "near", 1000 + i, args.budget, args.seeds, kind)
              for kind in ("skip-work", "ignore-seed", "boost") for i in range(plants)]
    started = time.perf_counter()
    os.environ[_SCRATCH] = tempfile.mkdtemp(prefix="ladder-bench-")
    try:
        with multiprocessing.Pool(args.jobs) as pool:
            outs = pool.map(run_task, tasks, chunksize=1)
    finally:
        shutil.rmtree(os.environ.pop(_SCRATCH), ignore_errors=True)
    elapsed = time.perf_counter() - started
    return report(outs, args, elapsed, worlds)


def report(outs: Sequence[Outcome], args: argparse.Namespace, elapsed: float,
           worlds: Sequence[str]) -> int:
    groups: dict[tuple[str, str], list[Outcome]] = {}
    for o in outs:
        groups.setdefault((o.world, o.policy), []).append(o)
    print(f"verification benchmark: {args.replicates} replicates per world and policy, "
          f"{args.budget} evaluations per run (every policy), verified seed cap {args.seeds}; "
          f"noise sigma 1.0 (shared {SHARED_SD}, program-specific {SPECIFIC_SD}); the shipped "
          f"loop with ladder.agent.fakes; {elapsed:.0f}s on {args.jobs} process(es)\n")
    head = (f"{'world':<7} {'policy':<20} {'median true gain':>16} {'of oracle':>9} "
            f"{'false-keep':>10} {'FDR':>6} {'keeps/run':>9} {'evals/true keep':>15} {'any keep':>8} "
            f"{'CI covers':>9} {'quarantined/run':>15}")
    print(head)
    print("-" * len(head))
    table: dict[tuple[str, str], dict[str, Any]] = {}
    for world in worlds:
        oracle = summarize(groups[(world, "oracle")])
        for policy in POLICIES:
            s = summarize(groups[(world, policy)])
            table[(world, policy)] = s
            share = (s["median_gain"] / oracle["median_gain"] if oracle["median_gain"] > 0
                     else math.nan)
            cov = f"{s['coverage']:.0%}" if s["coverage"] is not None else "-"
            label = policy + (" (UNVERIFIED)" if policy == "crude" else "")
            print(f"{world:<7} {label:<20} {s['median_gain']:>16.3f} {share:>9.0%} "
                  f"{s['false_share']:>10.1%} {s['fdr']:>6.1%} {s['keeps']:>9.2f} {s['evals_per_true_keep']:>15.1f} "
                  f"{s['any_keep']:>8.0%} {cov:>9} {s['quarantined']:>15.2f}")
    near = [o.ceiling for o in groups.get(("near", "verified"), []) if not math.isnan(o.ceiling)]
    if near:
        print(f"\nnear, ceiling: every proposal of the baseline on {args.seeds} seeds (about six "
              "times the budget), Benjamini-Hochberg at 0.05 over all of them, keeps a true "
              f"gain of {statistics.median(near):.3f} (median over runs); 1.5x crude's median is "
              f"{1.5 * table[('near', 'crude')]['median_gain']:.3f}")
    targets: list[tuple[str, bool, str]] = []
    for world in worlds:
        if world == "null" or world in REPORTED:
            continue
        v, c = table[(world, "verified")]["median_gain"], table[(world, "crude")]["median_gain"]
        factor = 1.5 if world == "near" else 1.0
        met = v >= factor * c if c > 0 else v >= c
        targets.append((f"{world}: verified's median true gain >= {factor:g}x crude's", met,
                        f"{v:.3f} vs {c:.3f}"))
    for world in worlds:
        if world in REPORTED:
            continue
        s = table[(world, "verified")]
        targets.append((f"{world}: verified's false-keep share <= 5%", s["false_share"] <= 0.05,
                        f"{s['false_share']:.1%} of all keeps, FDR {s['fdr']:.1%} "
                        f"(crude {table[(world, 'crude')]['false_share']:.0%})"))
    if "null" in worlds:
        s = table[("null", "verified")]
        targets.append(("null world: <= 5% of verified runs keep anything", s["any_keep"] <= 0.05,
                        f"{s['any_keep']:.1%} (crude {table[('null', 'crude')]['any_keep']:.0%})"))
    held = [w for w in worlds if w not in REPORTED]
    cover = [table[(w, "verified")]["coverage"] for w in held]
    targets.append(("the headline CI covers the true gain >= 90% (every world)",
                    all(c is not None and c >= 0.90 for c in cover),
                    " / ".join(f"{w} {c:.0%}" for w, c in zip(held, cover, strict=True)
                               if c is not None)))
    for kind, want in (("skip-work", "quarantine"), ("ignore-seed", "quarantine")):
        runs = groups.get((f"plant:{kind}", "verified"), [])
        if runs:
            share = statistics.fmean(1.0 if o.planted_status == want else 0.0 for o in runs)
            targets.append((f"injected artifact ({kind}) quarantined in 100%", share == 1.0,
                            f"{share:.0%} of {len(runs)}"))
    boosts = groups.get(("plant:boost", "verified"), [])
    if boosts:
        share = statistics.fmean(1.0 if o.planted_status == "keep" else 0.0 for o in boosts)
        replicated = sum(1 for o in boosts if o.planted_label)
        targets.append(("genuine large gain kept without a person >= 95%", share >= 0.95,
                        f"{share:.0%} of {len(boosts)} ({replicated} via 'large effect, "
                        "replicated')"))
    print("\ntargets:")
    for name, met, value in targets:
        print(f"  [{'met' if met else 'NOT MET'}] {name}: {value}")
    return 0 if all(m for _, m, _ in targets) else 1


if __name__ == "__main__":
    raise SystemExit(main())
