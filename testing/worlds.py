"""Worlds whose truth is known, and the shipped loop run against them with the shipped
fakes (`ladder.agent.fakes`): the decision tests drive the real `Run`.

A program is `prog.py` holding `X = <value>` (and whatever else a proposal writes); its
true loss is `(X - 1)^2`, and an evaluation adds noise: `shared` sd common to every
program under one seed (pairing cancels it) and `specific` sd drawn per (program, seed).
`faults` turn a program's results into artifacts (too fast, seed ignored, ...).
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ladder.agent.config import AgentConfig, MetricSpec
from ladder.agent.decisions import make_decision
from ladder.agent.fakes import CallableExecutor, FakeClock, MemoryJournal, MemoryWorkspace
from ladder.agent.loop import LoopParts, Run
from ladder.agent.records import Decision, EvalJob, EvalResult, Proposal, ProposalContext
from ladder.agent.strategies import make_strategy

FILE = "prog.py"

CONFIG = AgentConfig(
    editable=(FILE,),
    eval="(in process: testing.worlds)",
    metrics={
        "loss": MetricSpec("loss", "min", "target", bounds=(-5.0, None)),
        "latency": MetricSpec("latency", "min", "guard", margin=0.05),
    },
    seeds=10,
    iterations=None,
    evaluations=400,
    strategy="hill",
    workers=2,
)


def x_of(text: str) -> float:
    match = re.search(r"^X = (-?[\d.e+-]+)", text, re.MULTILINE)
    assert match is not None, text
    return float(match.group(1))


def truth(text: str) -> float:
    return (x_of(text) - 1.0) ** 2


def _gauss(*key: object) -> float:
    digest = hashlib.blake2b("/".join(map(str, key)).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big")).gauss(0.0, 1.0)


Fault = Callable[[EvalResult, str], EvalResult]


@dataclass
class World:
    """Evaluations of `prog.py` in a job's checkout: truth + shared + specific noise; a
    `latency` guard that grows with `LATENCY = <factor>` when a program sets it."""

    shared: float = 0.3
    specific: float = 0.1
    seconds: float = 60.0
    faults: dict[str, Fault] = field(default_factory=dict)  # marker in the text -> fault
    count: int = 0

    def evaluate_text(self, text: str, seed: int, key: str = "") -> EvalResult:
        self.count += 1
        value = truth(text) + self.shared * _gauss("shared", seed) + self.specific * _gauss(text, seed)
        factor = float(m.group(1)) if (m := re.search(r"^LATENCY = ([\d.]+)", text, re.M)) else 1.0
        latency = 100.0 * factor * (1 + 0.01 * _gauss("lat", text, seed))
        result = EvalResult(key or f"e{self.count}", seed, {"loss": value, "latency": latency},
                            ok=True, seconds=self.seconds)
        for marker, fault in self.faults.items():
            if marker in text:
                return fault(result, text)
        return result

    def __call__(self, job: EvalJob) -> EvalResult:
        return self.evaluate_text((job.root / FILE).read_text(encoding="utf-8"), job.seed, job.key)


def program(x: float, extra: str = "") -> str:
    return f"X = {x!r}\n{extra}"


class Script:
    """A proposer following a script: each step maps the parent's text to the new text
    (None: nothing to propose)."""

    name = "script"

    def __init__(self, steps: Sequence[Callable[[str, int], str | None]]) -> None:
        self.steps = list(steps)

    def propose(self, ctx: ProposalContext) -> Proposal | None:
        text = (ctx.root / FILE).read_text(encoding="utf-8")
        new = self.steps[(ctx.iteration - 1) % len(self.steps)](text, ctx.iteration)
        if new is None:
            return None
        return Proposal(f"step {ctx.iteration}: X {x_of(text)} -> {x_of(new)}", {FILE: new},
                        {"operator": "script", "symbol": "X"}, "script")


def move(step: float, extra: str = "") -> Callable[[str, int], str]:
    """A step that moves X by `step` (a unique comment keeps every program distinct)."""
    return lambda text, it: program(x_of(text) + step, f"# {it}\n{extra}")


def loop_run(
    tmp: Path,
    steps: Sequence[Callable[[str, int], str | None]],
    *,
    world: World | None = None,
    config: AgentConfig = CONFIG,
    start: float = 3.0,
    decision: Decision | None = None,
    run_id: str = "t",
) -> tuple[Run, MemoryWorkspace, MemoryJournal]:
    """The shipped loop over `prog.py` (X = start) with the fakes; not yet started."""
    world = world or World()
    clock = FakeClock()
    workspace = MemoryWorkspace(tmp / run_id, {FILE: program(start)})
    parts = LoopParts(proposer=Script(steps), strategy=make_strategy(config.strategy, config),
                      executor=CallableExecutor(world, config.workers, clock),
                      decision=decision or make_decision(config), clock=clock)
    journal = MemoryJournal()
    run = Run(root=workspace.root, run_id=run_id, config=config, parts=parts,
              workspace=workspace, journal=journal)
    return run, workspace, journal


def started(run: Run, workspace: MemoryWorkspace) -> Run:
    run.start(workspace.baseline)
    return run


def with_settings(config: AgentConfig = CONFIG, **changes: Any) -> AgentConfig:
    """`config` with top-level keys and `verify.*` keys changed."""
    verify = {k[len("verify_"):]: v for k, v in changes.items() if k.startswith("verify_")}
    top = {k: v for k, v in changes.items() if not k.startswith("verify_")}
    out = replace(config, **top)
    return replace(out, verify=replace(out.verify, **verify)) if verify else out


def decisions(journal: MemoryJournal) -> list[dict[str, Any]]:
    return journal.of_kind("decision")
