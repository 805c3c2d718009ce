"""Local processes, one slot per GPU (or per CPU budget): the `local` executor.

`LocalExecutor` keeps `slots` evaluations running at once. Each slot owns one device for
its lifetime: with GPUs visible, slot i sees only GPU `i mod n` (`CUDA_VISIBLE_DEVICES`)
and `LADDER_DEVICE=cuda`; without, `LADDER_DEVICE=cpu`. GPUs are detected once per
process from `CUDA_VISIBLE_DEVICES` or `nvidia-smi -L` -- never by importing torch,
which costs seconds and is not a dependency.
"""

from __future__ import annotations

import functools
import os
import queue
import shutil
import socket
import subprocess
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING

from ladder.agent import interrupt
from ladder.agent.evaluate import evaluate
from ladder.agent.records import EvalJob, EvalResult
from ladder.errors import LadderError

if TYPE_CHECKING:
    from ladder.agent.config import AgentConfig
    from ladder.agent.executors import OnEvent

Runner = Callable[[EvalJob, str], EvalResult]
_HOST = socket.gethostname()


def _parse_visible(value: str) -> tuple[str, ...]:
    ids = tuple(part.strip() for part in value.split(",") if part.strip())
    # CUDA's own convention: an empty list or a negative id hides every GPU.
    return () if not ids or ids[0].startswith("-") else ids


@functools.lru_cache(maxsize=1)
def detect_gpus() -> tuple[str, ...]:
    """The GPU ids this process may use ("" when none), detected once."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return _parse_visible(visible)
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return ()
    try:
        out = subprocess.run(
            [smi, "-L"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    return tuple(str(i) for i, line in enumerate(x for x in out.splitlines() if x.startswith("GPU ")))


def slot_env(slot: int, gpus: Sequence[str]) -> dict[str, str]:
    """The variables that pin slot `slot` to its device."""
    if not gpus:
        return {"LADDER_DEVICE": "cpu"}
    return {"CUDA_VISIBLE_DEVICES": gpus[slot % len(gpus)], "LADDER_DEVICE": "cuda"}


def device_words(env: Mapping[str, str]) -> str:
    """The device an evaluation with this environment ran on, as the journal says it:
    `cpu`, or `cuda:<ids>` (the ids of CUDA_VISIBLE_DEVICES)."""
    if env.get("LADDER_DEVICE") != "cuda":
        return "cpu"
    return f"cuda:{env.get('CUDA_VISIBLE_DEVICES', '')}"


class LocalExecutor:
    """Runs evaluations as local processes, `slots` at a time; results in job order.

    `devices`: GPU ids to spread slots over (None: detect; empty: CPU only). `target`:
    the metric whose absence is a crash. `runner` is the seam for tests of the loop
    (a plain callable standing in for a real evaluation).
    """

    def __init__(
        self,
        slots: int,
        devices: Sequence[str] | None = None,
        *,
        target: str = "",
        runner: Runner = evaluate,
    ) -> None:
        if slots < 1:
            raise LadderError(
                f"the executor needs at least one slot, got {slots}",
                where="[tool.ladder.agent] workers",
                todo="set workers = 1 or more",
            )
        self._slots = slots
        self.gpus: tuple[str, ...] = detect_gpus() if devices is None else tuple(devices)
        self.target = target
        self.runner = runner

    @classmethod
    def from_config(cls, config: AgentConfig, on_event: OnEvent | None = None) -> LocalExecutor:
        """The executor `[tool.ladder.agent]` asks for: `workers` slots (no events: a
        local process has no infrastructure to lose but the machine itself)."""
        return cls(config.workers, target=config.target.name)

    @property
    def slots(self) -> int:
        return self._slots

    def run(
        self, jobs: Sequence[EvalJob], on_result: Callable[[EvalResult], None] | None = None
    ) -> list[EvalResult]:
        """Every job's result, in job order; `on_result` sees each one as it completes
        (from the worker thread that ran it)."""
        if not jobs:
            return []
        free: queue.Queue[int] = queue.Queue()
        for slot in range(self._slots):
            free.put(slot)

        def one(job: EvalJob) -> EvalResult:
            slot = free.get()  # never blocks: the pool has exactly `slots` threads
            try:
                pinned = replace(job, env={**job.env, **slot_env(slot, self.gpus)})
                result = self.runner(pinned, self.target)
                if not result.placement:
                    result = replace(result, placement={"host": _HOST,
                                                        "device": device_words(pinned.env)})
            finally:
                free.put(slot)
            # After a stop was asked for, a result may be what the stop's kill made of
            # the evaluation: it is not reported (journaled), and a resume runs it again.
            if on_result is not None and not interrupt.requested():
                on_result(result)
            return result

        with ThreadPoolExecutor(max_workers=min(self._slots, len(jobs))) as pool:
            return list(pool.map(one, jobs))

