"""Do learnings compound? Skills and failure lessons carried across runs, against none.

A family of related synthetic tasks: one training configuration (`PROGRAM`, some fifty
constants, two flags and a choice), whose optimum differs from task to task in magnitude
but shares its structure (LR wants to go up, WD down, DEPTH up, ...). Most constants do
nothing. The crash region is LR at or above 0.25: the loss keeps falling as LR rises
past that edge of stability, so a search is drawn into it, as real ones are. The
mutate proposer carries the user's prior that LR should go up (the `weights` option,
as `ladder demo` gives one), the same in every run of both arms: every run, memoryless
or not, reaches the edge.

Each arm runs three consecutive tasks with the same iteration budget:
  (a) carry: one repository; every run starts with the skills and lessons the earlier
      runs left (`Learner` on its `.ladder/`), its proposals focused by them (Thompson
      sampling), its exploration steered off moves earlier runs tried in vain, and its
      candidates checked against its level-5 lessons before evaluation;
  (b) independent: a fresh repository per run, nothing carried (crude hill climbing's
      memorylessness, with the same proposer, the same in-run learning and the same
      decision).

Every run is the shipped loop (`ladder.agent.loop.Run`): the real MutateProposer, the
`hill` strategy, the shipped verified decision (`ladder.agent.decisions`), the real
Learner writing real skill and lesson files into a real repository set up by `ladder
init`, lessons promoted through the real gates, and the real rule engine
(`ladder.rules.runner.check`) playing the commit hooks of the shipped in-memory workspace
(`ladder.agent.fakes.MemoryWorkspace`); evaluations run through the shipped callable
executor.

Printed per run (mean and sd over replicate families): hit rate (verified keeps per
evaluation), evaluations saved by blocks of taught lessons, evaluations spent in the
crash region, evaluations to reach the target objective. Then the stale-skill check:
later tasks reverse the optimum of the constant of the family's best-proven skill, run
until that skill is deprecated, counting its applications.

Targets: (a) run 3's hit rate >= 2x run 1's while (b) stays flat within noise; (a)
runs 2-3 spend >= 90% fewer evaluations in the crash region than run 1; the stale
skill is deprecated within 10 applications. The targets are close to the noise of 20
families (about 0.15 sd of a run's hit rate): compare arms within one invocation.

Usage: python bench/compounding.py [--reps 20] [--budget 60] [--seeds 4]
"""

from __future__ import annotations

import argparse
import ast
import math
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ladder.agent.config import AgentConfig, MetricSpec, ProposerSpec, VerifySettings
from ladder.agent.decisions import make_decision
from ladder.agent.fakes import CallableExecutor, FakeClock, MemoryJournal, MemoryWorkspace
from ladder.agent.loop import LoopParts, Run
from ladder.agent.proposers.mutate import MutateProposer
from ladder.agent.records import EvalResult
from ladder.agent.skills import Learner
from ladder.agent.skills.library import load_skills
from ladder.agent.skills.model import Skill
from ladder.agent.strategies import make_strategy
from ladder.lesson import Lesson
from ladder.project import Project
from ladder.rules.base import CheckRequest
from ladder.rules.runner import check
from ladder.store import load_lessons
from testing.fixtures import make_repo, set_git_env

FILE = "train.py"

# name -> (default, direction of the optimum from it, its distance as a factor range)
SIGNAL = {
    # The loss keeps falling as LR rises, past the edge of stability: the search is
    # drawn into the crash region, as real ones are.
    "LR": (0.15, "up", (3.0, 4.0)),
    "WD": (0.5, "down", (8.0, 16.0)),
    "DEPTH": (2, "up", (4.0, 6.0)),
    "WIDTH": (64, "up", (4.0, 8.0)),
    "WARMUP": (2000, "down", (8.0, 16.0)),
    "DROPOUT": (0.4, "down", (4.0, 8.0)),
}
# The crash region: name -> (the value from which it crashes, and why).
CLIFFS = {"LR": (0.25, "loss is nan (diverged)")}
# The user's prior, as `ladder demo` gives one: the learning rate is the knob to try.
PRIOR = {"scale:LR:up": 4.0, "shift:LR:up": 4.0}
# Knobs that change nothing: most of a real configuration.
DISTRACTORS = {f"KNOB_{n:02d}": v for n, v in enumerate(
    [50, 500, 1000, 4, 2, 7, 80, 3, 5000, 20, 10000, 256, 3, 600.0, 4, 100, 512, 8, 0.9, 0.8,
     16, 0.5, 12, 300, 0.25, 64, 9, 0.001, 30, 1.5, 6, 2048, 0.05, 40, 0.7, 11, 128, 3.0, 24, 0.3])}
DISTRACTORS |= {"MOMENTUM": 0.9, "BETA2": 0.98, "EPS": 1e-08}
PROGRAM = (
    '"""A synthetic training configuration (bench/compounding.py)."""\n'
    + "".join(f"{k} = {v[0]!r}\n" for k, v in SIGNAL.items())
    + "".join(f"{k} = {v!r}\n" for k, v in DISTRACTORS.items())
    + "USE_NORM = False\nCOMPILE = False\n"
    + 'ACTIVATION = "relu"  # ladder: choices relu gelu silu\n'
)

WEIGHT = 0.05  # loss per squared log-factor of distance from a constant's optimum
NORM_GAIN = 0.3
ACTIVATION_GAIN = {"relu": 0.0, "silu": 0.1, "gelu": 0.2}
TARGET_SHARE = 0.5  # the target objective: half the possible improvement


def crashes(p: Mapping[str, object]) -> str:
    """The crash region: why the program crashes there ("" outside it)."""
    for name, (edge, why) in CLIFFS.items():
        if _f(p, name) >= edge:
            return why
    return ""


def _f(p: Mapping[str, object], name: str) -> float:
    value = p[name]
    assert isinstance(value, (int, float))
    return float(value)


@dataclass(frozen=True)
class Task:
    optimum: Mapping[str, float]

    def loss(self, p: Mapping[str, object]) -> float:
        total = 1.0
        for name, best in self.optimum.items():
            total += WEIGHT * math.log(max(_f(p, name), 1e-12) / best) ** 2
        total -= NORM_GAIN if p["USE_NORM"] is True else 0.0
        total -= ACTIVATION_GAIN.get(str(p["ACTIVATION"]), 0.0)
        return total

    def best_loss(self) -> float:
        return 1.0 - NORM_GAIN - max(ACTIVATION_GAIN.values())

    def target(self) -> float:
        start = self.loss(params(PROGRAM))
        return start - TARGET_SHARE * (start - self.best_loss())


def make_task(rng: random.Random, reverse: Sequence[str] = ()) -> Task:
    defaults = params(PROGRAM)
    optimum = {}
    for name, (_, way, (lo, hi)) in SIGNAL.items():
        factor = math.exp(rng.uniform(math.log(lo), math.log(hi)))
        up = (way == "up") != (name in reverse)
        optimum[name] = _f(defaults, name) * (factor if up else 1 / factor)
    return Task(optimum)


def params(text: str) -> dict[str, object]:
    out: dict[str, object] = {}
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            out[node.targets[0].id] = ast.literal_eval(node.value)
    return out


def evaluate(task: Task, text: str, seed: int, key: str) -> EvalResult:
    p = params(text)
    why = crashes(p)
    if why:
        return EvalResult(key, seed, {}, ok=False, reason=why)
    # Common random numbers: the noise depends on the seed only, so paired seeds cancel
    # it; the loss is printed to 3 decimals, so a change too small to show is a tie.
    noise = random.Random(seed).gauss(0, 0.01)
    return EvalResult(key, seed, {"loss": round(task.loss(p) + noise, 3)}, ok=True)


# --- one simulated run -----------------------------------------------------------------


@dataclass
class RunStats:
    iterations: int = 0
    evaluated: int = 0
    kept: int = 0
    blocked_taught: int = 0
    crash_region: int = 0
    to_target: int | None = None
    learner: dict[str, object] = field(default_factory=dict)

    @property
    def hit_rate(self) -> float:
        return self.kept / self.evaluated if self.evaluated else 0.0


def config(seeds: int, budget: int) -> AgentConfig:
    return AgentConfig(
        editable=(FILE,), eval="(in-process)", metrics={"loss": MetricSpec("loss")},
        seeds=seeds, iterations=budget, proposer=ProposerSpec("mutate", {"weights": PRIOR}),
        strategy="hill", workers=2,
        # every run spends its whole budget: hit rates compare over equal iterations
        verify=VerifySettings(on_converged="explore"),
    )


def level5(project: Project) -> list[Lesson]:
    return [x for x in load_lessons(project) if x.level == 5 and x.status == "active" and x.rule]


class Hooks:
    """The level-5 lessons of the project, checked by the real rule engine on every
    commit of the in-memory workspace (what the installed hooks do in a real one)."""

    def __init__(self, project: Project, workdir: Path) -> None:
        self.project, self.workdir = project, workdir
        self.lessons = level5(project)

    def refresh(self) -> None:
        self.lessons = level5(project=self.project)

    def __call__(self, files: Mapping[str, str], parent: Mapping[str, str]) -> list[str]:
        if not self.lessons:
            return []
        request = CheckRequest(root=self.workdir, files=[FILE], contents={FILE: files[FILE]},
                               agent=True)
        return sorted({f.lesson for f in check(request, self.lessons)})


def simulate(project: Project, run_id: str, task: Task, cfg: AgentConfig, seed: int,
             workdir: Path) -> RunStats:
    """One run of the shipped loop on `task`, learning into `project`."""
    hooks = Hooks(project, workdir)
    workspace = MemoryWorkspace(workdir / "ws", {FILE: PROGRAM}, refuse=hooks,
                                on_refresh=hooks.refresh)
    learner = Learner(project, run_id, cfg, clock=lambda: 0.0)
    clock = FakeClock()
    parts = LoopParts(
        proposer=MutateProposer.from_spec(cfg.proposer), strategy=make_strategy("hill", cfg),
        executor=CallableExecutor(lambda job: evaluate(task, (job.root / FILE).read_text(),
                                                       job.seed, job.key), cfg.workers, clock),
        decision=make_decision(cfg), clock=clock, learner=learner)
    journal = MemoryJournal()
    run = Run(root=workdir, run_id=run_id, config=replace(cfg, seed=seed), parts=parts,
              workspace=workspace, journal=journal)
    try:
        run.start(workspace.baseline)
        run.loop()
        return _stats(run, journal, workspace, task, learner, set(hooks_taught(project)))
    finally:
        workspace.cleanup()


def hooks_taught(project: Project) -> list[str]:
    """The ids of the lessons runs taught (their source names a run)."""
    return [x.id for x in load_lessons(project) if x.id.startswith("learned-")]


def _stats(run: Run, journal: MemoryJournal, workspace: MemoryWorkspace, task: Task,
           learner: Learner, taught: set[str]) -> RunStats:
    stats = RunStats(iterations=run.tally.iterations, evaluated=run.tally.evaluated,
                     kept=run.tally.kept)
    stats.blocked_taught = sum(n for key, n in run.tally.blocked.items() if key in taught)
    best = task.loss(params(PROGRAM))
    target = task.target()
    evaluated = 0
    for record in journal.of_kind("decision"):
        cand = record["candidate"]
        status = record["verdict"]["status"]
        if status == "blocked" or not cand["commit"]:
            continue
        evaluated += 1
        text = workspace.files(cand["commit"])[FILE]
        stats.crash_region += bool(crashes(params(text)))
        if status == "keep":
            best = min(best, task.loss(params(text)))
            if stats.to_target is None and best <= target:
                stats.to_target = evaluated
    stats.learner = learner.summary()
    return stats


# --- arms -----------------------------------------------------------------------------


def new_repo(parent: Path, name: str) -> Project:
    root = make_repo(parent / name, {FILE: PROGRAM})
    proc = subprocess.run([sys.executable, "-m", "ladder", "init"], cwd=root,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"ladder init failed: {proc.stdout}{proc.stderr}")
    return Project(root)


def arm(kind: str, tasks: Sequence[Task], cfg: AgentConfig, rep: int, tmp: Path) -> list[RunStats]:
    out = []
    shared = new_repo(tmp, f"{kind}-{rep}") if kind == "carry" else None
    for n, task in enumerate(tasks, start=1):
        project = shared or new_repo(tmp, f"{kind}-{rep}-{n}")
        work = make_repo(tmp / f"work-{kind}-{rep}-{n}", commit=False)  # the proposer lists files with git
        # the same run id in both arms: their first runs draw the same proposals and seeds
        out.append(simulate(project, f"r{rep}-run{n}", task, cfg, seed=1000 * rep + n,
                            workdir=work))
    return out


def stale_check(project: Project, rng: random.Random, cfg: AgentConfig, rep: int,
                tmp: Path, max_runs: int = 6) -> tuple[int | None, str]:
    """Applications of the family's best-proven skill on a constant until deprecated,
    on later tasks whose optimum for that constant is reversed; (None, why) when it
    never was."""
    skill = _stalest(project)
    if skill is None:
        return None, "no skill on a constant to make stale"
    symbol, start = str(skill.pattern["symbol"]), skill.usage.applications
    for n in range(1, max_runs + 1):
        work = make_repo(tmp / f"work-stale-{rep}-{n}", commit=False)
        simulate(project, f"stale-r{rep}-run{n}", make_task(rng, reverse=(symbol,)), cfg,
                 seed=5000 + 100 * rep + n, workdir=work)
        now = next(s for s in load_skills(project) if s.id == skill.id)
        if not now.active:
            return now.usage.applications - start, f"'{now.title}': {now.reason}"
    return None, f"'{skill.title}' still active"


def _stalest(project: Project) -> Skill | None:
    """The active skill moving a SIGNAL constant with the most verified successes."""
    found = [s for s in load_skills(project) if s.active and s.pattern.get("change") == "number"
             and s.pattern.get("symbol") in SIGNAL]
    return max(found, key=lambda s: (s.usage.successes, s.id), default=None)


# --- report ----------------------------------------------------------------------------


def _ms(values: Sequence[float]) -> str:
    if not values:
        return "-"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):6.3f} ± {sd:5.3f}"


def _mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else math.nan


def report(results: Mapping[str, list[list[RunStats]]], budget: int) -> dict[str, float]:
    print(f"\nper run, mean ± sd over {len(results['carry'])} replicate families "
          f"(budget {budget} iterations per run)\n")
    head = f"{'arm':<12}{'run':<5}{'hit rate':>17}{'keeps':>8}{'evals':>8}{'saved':>8}" \
           f"{'crash evals':>13}{'evals to target':>17}"
    print(head)
    print("-" * len(head))
    summary: dict[str, float] = {}
    for kind in ("carry", "independent"):
        for n in range(3):
            runs = [rep[n] for rep in results[kind]]
            reached = [r.to_target for r in runs if r.to_target is not None]
            to_target = f"{_mean(reached):7.1f} ({len(reached)}/{len(runs)})" if reached else "never"
            print(f"{kind:<12}{n + 1:<5}{_ms([r.hit_rate for r in runs]):>17}"
                  f"{_mean([r.kept for r in runs]):8.1f}{_mean([r.evaluated for r in runs]):8.1f}"
                  f"{_mean([r.blocked_taught for r in runs]):8.1f}"
                  f"{_mean([r.crash_region for r in runs]):13.2f}{to_target:>17}")
            summary[f"{kind}.hit{n + 1}"] = _mean([r.hit_rate for r in runs])
            summary[f"{kind}.crash{n + 1}"] = _mean([r.crash_region for r in runs])
            summary[f"{kind}.hit{n + 1}.sd"] = statistics.stdev([r.hit_rate for r in runs]) \
                if len(runs) > 1 else 0.0
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=20, help="replicate task families")
    parser.add_argument("--budget", type=int, default=60, help="iterations per run")
    parser.add_argument("--seeds", type=int, default=4, help="most paired seeds per decision")
    args = parser.parse_args(argv)
    set_git_env()
    cfg = config(args.seeds, args.budget)
    started = time.perf_counter()
    results: dict[str, list[list[RunStats]]] = {"carry": [], "independent": []}
    stale: list[tuple[int | None, str]] = []
    with tempfile.TemporaryDirectory(prefix="ladder-compounding-") as name:
        tmp = Path(name)
        for rep in range(args.reps):
            family = random.Random(rep)
            tasks = [make_task(family) for _ in range(3)]
            for kind in ("carry", "independent"):
                results[kind].append(arm(kind, tasks, cfg, rep, tmp))
            stale.append(stale_check(Project(tmp / f"carry-{rep}"), family, cfg, rep, tmp))
    s = report(results, args.budget)
    c1, c3 = s["carry.hit1"], s["carry.hit3"]
    i1, i3 = s["independent.hit1"], s["independent.hit3"]
    noise = max(s["independent.hit1.sd"], s["independent.hit3.sd"])
    crash1 = s["carry.crash1"]
    crash23 = (s["carry.crash2"] + s["carry.crash3"]) / 2
    cut = 1 - crash23 / crash1 if crash1 else math.nan
    applied = [a for a, _ in stale if a is not None]
    print("\ntargets")
    _target(f"(a) hit rate run 3 / run 1 = {c3 / c1:.2f}x (>= 2x)", c1 > 0 and c3 >= 2 * c1)
    _target(f"(b) hit rate run 3 - run 1 = {i3 - i1:+.3f} (flat: within one sd, {noise:.3f})",
            abs(i3 - i1) <= noise)
    _target(f"(a) crash-region evaluations, runs 2-3 vs run 1: {crash23:.2f} vs {crash1:.2f} "
            f"= {cut:.0%} fewer (>= 90%)", cut >= 0.9)
    _target(f"stale skill deprecated after {applied} applications in {len(applied)}/{len(stale)} "
            f"families (<= 10)", len(applied) == len(stale) and all(a <= 10 for a in applied))
    for (a, why), rep in zip(stale, range(len(stale)), strict=True):
        print(f"  family {rep}: {a if a is not None else '-'} applications: {why}")
    print(f"\n{time.perf_counter() - started:.0f} s")
    return 0


def _target(text: str, ok: bool) -> None:
    print(f"  [{'met' if ok else 'MISSED'}] {text}")


if __name__ == "__main__":
    raise SystemExit(main())
