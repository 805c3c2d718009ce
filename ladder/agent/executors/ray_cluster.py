"""The `ray` executor: each evaluation a Ray task on a cluster; the loop, its decisions
and its journal stay here, on the driver.

What travels with a task: the job (command, seed, timeout, the `pass_env` variables),
the candidate's tree as a git bundle put once in the object store (shipping.py), the
pinned baseline's tree when there is a protected scorer, and -- to a cluster this process
did not start -- ladder's own code as a `py_modules` runtime environment, so the worker
evaluates by this version's contract and sandbox. What does not travel: the rest of this
process's environment, untracked or ignored files (data sets: give them a path every
node has), git history, and the user's git configuration. On the worker, remote.py runs
the same `evaluate()` as the local executor.

Failures are told apart:
- the candidate's own failures (non-zero exit, NaN, its timeout: the worker kills the
  whole process group, as locally) come back as results, crashes with their output tail;
- a node or worker lost mid-evaluation, or a task that never answers (no result
  `grace` seconds past the evaluation's own timeout: it is cancelled with `force`, its
  worker killed, and the evaluation's processes die with it -- their trampoline's parent
  death signal) is the infrastructure's failure: reported through `on_event` (the run
  journals an `infrastructure` record) and run again, at most `max_retries` times, then
  the run stops with the finished evaluations journaled (`--resume` continues);
- a task Ray's memory monitor killed is the candidate's crash (it used the memory).

A driver killed with `kill -9` takes its tasks with it: Ray ends the workers of a dead
job, and each evaluation dies with its worker. Every result that reached the driver was
journaled as it arrived (`on_result`), so a resume re-runs only what was in flight.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import re
import signal
import socket
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ladder.agent import interrupt
from ladder.agent.evaluate import looks_secret
from ladder.agent.executors import remote, shipping
from ladder.agent.records import EvalJob, EvalResult
from ladder.errors import LadderError

if TYPE_CHECKING:  # not imported at run time: a worker imports this module, stdlib only
    from ladder.agent.config import AgentConfig, RaySettings
    from ladder.agent.executors import OnEvent

EXTRA = "pip install 'enforcement-ladder[ray]'"
TICK_S = 0.2  # how often the dispatcher looks at deadlines and a stop request
BUNDLES_KEPT = 16  # shipped trees kept in the object store (a parent is shipped once)
_NODE_ID = re.compile(r"node ID: ([0-9a-f]{16,})", re.IGNORECASE)


def require_ray() -> None:
    """A LadderError naming the extra when Ray is not installed (looked up, not imported:
    importing Ray costs about half a second)."""
    if importlib.util.find_spec("ray") is None:
        raise LadderError("executor = \"ray\" needs Ray, which is not installed",
                          where="[tool.ladder.agent] executor", todo=EXTRA)


def _evaluate_remote(job: EvalJob, target: str, tree: str, bundle: bytes, scorer_tree: str,
                     scorer_bundle: bytes | None, sandbox: str, attempt: int) -> EvalResult:
    """The task Ray runs on a worker: what Ray says of the node, then remote.py."""
    import ray

    context = ray.get_runtime_context()
    gpus = tuple(str(g) for g in context.get_accelerator_ids().get("GPU", []))
    node = remote.Node(context.get_node_id(), socket.gethostname(), gpus)
    scorer = shipping.Shipment(scorer_tree, scorer_bundle) if scorer_bundle is not None else None
    return remote.evaluate_shipped(job, target, shipping.Shipment(tree, bundle), scorer, node,
                                   sandbox=sandbox, attempt=attempt)


@dataclass
class _Flight:
    """One evaluation on the cluster: its place in the batch, its try, its deadline."""

    index: int
    job: EvalJob
    attempt: int
    deadline: float


@dataclass
class _Batch:
    """The jobs of one `run`: what waits (index, attempt), what flies, what came back."""

    jobs: Sequence[EvalJob]
    shipped: Mapping[Path, tuple[str, Any]]  # checkout -> (its tree, its bundle's ObjectRef)
    waiting: deque[tuple[int, int]] = field(default_factory=deque)
    flights: dict[Any, _Flight] = field(default_factory=dict)  # ObjectRef -> its flight
    results: dict[int, EvalResult] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.waiting.extend((i, 1) for i in range(len(self.jobs)))


class RayExecutor:
    """Runs evaluations as Ray tasks, at most `slots` at a time; results in job order.

    Nothing connects until the first batch: building the executor (`ladder agent
    status` builds one) costs nothing. `on_event` hears of every infrastructure failure.
    `clock` is the deadlines' clock (tests)."""

    def __init__(
        self,
        slots: int,
        settings: RaySettings | None = None,
        *,
        target: str = "",
        sandbox: str = "auto",
        on_event: OnEvent | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if slots < 1:
            raise LadderError(f"the executor needs at least one slot, got {slots}",
                              where="[tool.ladder.agent] workers",
                              todo="set workers to the evaluations the cluster runs at once")
        require_ray()
        from ladder.agent.config import RaySettings

        self._slots = slots
        self.settings = settings or RaySettings()
        self.target = target
        self.sandbox = sandbox
        self.on_event = on_event
        self.clock = clock
        self._task: Any = None  # the remote function, with the evaluation's resources
        self._bundles: OrderedDict[str, Any] = OrderedDict()  # tree -> ObjectRef of its bundle

    @classmethod
    def from_config(cls, config: AgentConfig, on_event: OnEvent | None = None) -> RayExecutor:
        return cls(config.workers, config.ray, target=config.target.name,
                   sandbox=config.sandbox.mode, on_event=on_event)

    @property
    def slots(self) -> int:
        return self._slots

    # --- the cluster ---------------------------------------------------------------

    def connect(self) -> Any:
        """Ray, connected (once per process) and the evaluation task defined."""
        import ray

        if not ray.is_initialized():
            _connect(self.settings.address)
        if self._task is None:
            s = self.settings
            self._task = ray.remote(_evaluate_remote).options(
                num_cpus=s.num_cpus, num_gpus=s.num_gpus, resources=dict(s.resources),
                max_retries=0, retry_exceptions=False, name="ladder-evaluation")
            self._say_if_unfit(ray)
        return ray

    def _say_if_unfit(self, ray: Any) -> None:
        """An event when no node has what one evaluation asks for (an autoscaler may
        still add one: the run waits `grace` past the timeout, then stops)."""
        asked = {"CPU": self.settings.num_cpus, "GPU": self.settings.num_gpus,
                 **self.settings.resources}
        have = ray.cluster_resources()
        short = {k: v for k, v in asked.items() if v > have.get(k, 0.0)}
        if short:
            self._event({"what": "resources not in the cluster now", "asked": short,
                         "cluster": {k: have.get(k, 0.0) for k in short}, "retry": True})

    def _ship(self, ray: Any, jobs: Sequence[EvalJob]) -> dict[Path, tuple[str, Any]]:
        """Each checkout the jobs name -> (its tree, the ObjectRef of its bundle); a tree
        already in the object store is not shipped again."""
        out: dict[Path, tuple[str, Any]] = {}
        for root in [p for j in jobs for p in (j.root, j.scorer) if p is not None]:
            if root in out:
                continue
            tree = shipping.tree_of(root)
            if tree not in self._bundles:
                self._bundles[tree] = ray.put(shipping.pack(root, tree).bundle)
                while len(self._bundles) > BUNDLES_KEPT:
                    self._bundles.popitem(last=False)
            self._bundles.move_to_end(tree)
            out[root] = (tree, self._bundles[tree])
        return out

    # --- a batch -------------------------------------------------------------------

    def run(
        self, jobs: Sequence[EvalJob], on_result: Callable[[EvalResult], None] | None = None
    ) -> list[EvalResult]:
        """Every job's result, in job order; `on_result` sees each as it arrives (in this
        thread). Raises LadderError when an evaluation failed on the cluster more than
        `max_retries` times, and Interrupted when a stop was asked for."""
        if not jobs:
            return []
        ray = self.connect()
        batch = _Batch(jobs, self._ship(ray, jobs))
        try:
            while batch.waiting or batch.flights:
                if interrupt.requested():
                    raise interrupt.Interrupted(interrupt.requested())
                while batch.waiting and len(batch.flights) < self._slots:
                    self._submit(batch, *batch.waiting.popleft())
                ready, _ = ray.wait(list(batch.flights), num_returns=1, timeout=TICK_S)
                self._land(ray, batch, ready, on_result)
                self._expire(ray, batch)
        finally:
            for ref in batch.flights:  # a stop, or the run gives up: nothing keeps running
                with contextlib.suppress(Exception):
                    ray.cancel(ref, force=True)
        return [batch.results[i] for i in range(len(jobs))]

    def _submit(self, batch: _Batch, index: int, attempt: int) -> None:
        job = batch.jobs[index]
        tree, bundle = batch.shipped[job.root]
        scorer_tree, scorer_bundle = (batch.shipped[job.scorer] if job.scorer is not None
                                      else ("", None))
        ref = self._task.remote(job, self.target, tree, bundle, scorer_tree, scorer_bundle,
                                self.sandbox, attempt)
        phases = 2 if job.score else 1  # the scorer has its own timeout
        deadline = self.clock() + job.timeout * phases + self.settings.grace
        batch.flights[ref] = _Flight(index, job, attempt, deadline)

    def _land(self, ray: Any, batch: _Batch, ready: Sequence[Any],
              on_result: Callable[[EvalResult], None] | None) -> None:
        """Take in the finished flights: results reported, lost ones queued again; every
        result is reported before a LadderError (retries exhausted) is raised."""
        given_up: LadderError | None = None
        for ref in ready:
            flight = batch.flights.pop(ref)
            try:
                result = self._collect(ray, ref, flight)
            except LadderError as exc:
                given_up = given_up or exc
                continue
            if result is None:
                batch.waiting.append((flight.index, flight.attempt + 1))
                continue
            batch.results[flight.index] = result
            # After a stop was asked for, a result may be what the stop made of it: it is
            # not reported (journaled), and a resume runs it again (as the local executor).
            if on_result is not None and not interrupt.requested():
                on_result(result)
        if given_up is not None:
            raise given_up

    def _expire(self, ray: Any, batch: _Batch) -> None:
        """Cancel (force: the worker is killed) each flight past its deadline, and queue
        it again."""
        for ref in [r for r, f in batch.flights.items() if self.clock() > f.deadline]:
            flight = batch.flights.pop(ref)
            ray.cancel(ref, force=True)
            self._lost(flight, "no result in time: the task was cancelled and its worker "
                       f"killed ({flight.job.timeout:g} s timeout + {self.settings.grace:g} s "
                       "grace)", "")
            batch.waiting.append((flight.index, flight.attempt + 1))

    def _collect(self, ray: Any, ref: Any, flight: _Flight) -> EvalResult | None:
        """The flight's result; None when the infrastructure failed it and it may run
        again (a LadderError when it may not)."""
        from ray import exceptions as rx

        try:
            result: EvalResult = ray.get(ref)
            return result
        except rx.OutOfMemoryError as exc:  # the candidate's memory: its crash
            return EvalResult(flight.job.key, flight.job.seed, {}, False,
                              "killed by Ray's memory monitor: the node ran out of memory",
                              _first_line(exc), 0.0, (), {"attempt": str(flight.attempt)})
        except rx.RayTaskError as exc:  # ladder's own code on the worker: setup, the node
            self._lost(flight, "the evaluation could not be set up on the node",
                       _first_line(exc.cause if exc.cause is not None else exc))
        except rx.RayError as exc:  # a node, a worker or an object lost
            self._lost(flight, f"{type(exc).__name__}: the node or worker was lost "
                               "mid-evaluation", str(exc))
        return None

    def _lost(self, flight: _Flight, what: str, detail: str) -> None:
        """An infrastructure failure of `flight`: an event, then a retry (returns) or,
        past `max_retries`, a LadderError that stops the run."""
        retry = flight.attempt <= self.settings.max_retries
        node = _NODE_ID.search(detail)
        self._event({"what": what, "key": flight.job.key, "attempt": flight.attempt,
                     "retry": retry, **({"node": node.group(1)} if node else {}),
                     "detail": detail[:1000]})
        if not retry:
            raise LadderError(
                f"evaluation {flight.job.key} failed on the cluster {flight.attempt} time(s): "
                f"{what}",
                where="[tool.ladder.agent.ray]",
                todo="check the cluster (`ray status`); the finished evaluations are journaled: "
                     "`ladder agent run --resume RUN` continues (raise max_retries to retry more)",
            )

    def _event(self, data: Mapping[str, Any]) -> None:
        if self.on_event is not None:
            self.on_event({"executor": "ray", **data})


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[-1][:1000] if lines else type(exc).__name__


# --- connecting ------------------------------------------------------------------------


def _connect(address: str | None) -> None:
    """`ray.init` for `address`: unset, $RAY_ADDRESS (what `ray job submit` sets) or a new
    local instance; "auto" (the cluster this machine is part of); "host:port"; or a Ray
    Client address "ray://host:10001". A cluster this process did not start gets
    ladder's own code to import. Ray's signal handlers are taken back: SIGTERM and
    Ctrl-C keep stopping the run gracefully (interrupt.py)."""
    import ray

    target = address or os.environ.get("RAY_ADDRESS") or "local"
    kwargs: dict[str, Any] = {"address": target, "namespace": "ladder",
                              "log_to_driver": False, "logging_level": logging.WARNING}
    if target == "local":
        kwargs["include_dashboard"] = False
    else:
        package = Path(__file__).resolve().parents[2]  # .../ladder
        kwargs["runtime_env"] = {"py_modules": [str(package)], "excludes": ["__pycache__"]}
    saved = {sig: signal.getsignal(sig) for sig in interrupt.SIGNALS}
    try:
        with _without_secrets(target == "local"):
            ray.init(**kwargs)
    except ValueError as exc:
        if "ray[client]" in str(exc):
            raise LadderError(f"address {target!r} is a Ray Client address, which needs "
                              "Ray's client extra", where="[tool.ladder.agent.ray] address",
                              todo=EXTRA) from None
        raise LadderError(f"cannot use the Ray cluster at {target!r}: {_first_line(exc)}",
                          where="[tool.ladder.agent.ray] address") from None
    except ConnectionError as exc:
        raise LadderError(f"no Ray cluster answers at {target!r}: {_first_line(exc)}",
                          where="[tool.ladder.agent.ray] address",
                          todo="start it (`ray start --head`, `ray up`), or fix the address; "
                               "leave it unset for a local instance") from None
    finally:
        for sig, handler in saved.items():
            if handler is not None:
                signal.signal(sig, handler)


@contextlib.contextmanager
def _without_secrets(local: bool) -> Iterator[None]:
    """While a local instance starts, this process's secret-looking variables are out
    of the environment its processes inherit: the workers never hold them (an
    evaluation would not see them anyway: evaluate() scrubs; its sandbox could not read
    a worker's /proc either)."""
    if not local:
        yield
        return
    taken = {k: v for k, v in os.environ.items() if looks_secret(k)}
    for key in taken:
        del os.environ[key]
    try:
        yield
    finally:
        os.environ.update(taken)
