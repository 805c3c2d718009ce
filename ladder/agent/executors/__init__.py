"""Where evaluations run: the `Executor` Protocol (`slots` + `run(jobs, on_result)`,
ladder.agent.records) and its registry, by the name `[tool.ladder.agent] executor` uses.

- `local` (local.py): processes on this machine, one slot per GPU or per CPU budget;
- `ray` (ray_cluster.py): remote tasks on a Ray cluster, one per evaluation, with the
  resources `[tool.ladder.agent.ray]` asks for; the candidate's commit travels as a git
  bundle (shipping.py) and is evaluated on the worker by the same contract (remote.py).

Either way the loop, its decisions and its journal stay in this process: an executor
only runs evaluations and hands their results back as they finish. What the loop cannot
see in a result -- a node lost, a task cancelled and run again elsewhere -- an executor
reports through `on_event`, which the run journals as an `infrastructure` record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from ladder.agent.executors.local import LocalExecutor
from ladder.agent.executors.ray_cluster import RayExecutor
from ladder.agent.records import Executor

if TYPE_CHECKING:
    from ladder.agent.config import AgentConfig

# An infrastructure event: what happened (`what`), to which evaluation (`key`), where,
# and whether it runs again (`retry`). Journaled as is.
OnEvent = Callable[[Mapping[str, Any]], None]


class ExecutorKind(Protocol):
    """An executor class: built from the run's configuration."""

    def from_config(self, config: AgentConfig, on_event: OnEvent | None = None) -> Executor: ...


# name -> class; a class's `from_config` reads what it needs of the configuration.
EXECUTORS: dict[str, ExecutorKind] = {"local": LocalExecutor, "ray": RayExecutor}


def make_executor(config: AgentConfig, on_event: OnEvent | None = None) -> Executor:
    """The executor `config.executor` names, built from the configuration."""
    return EXECUTORS[config.executor].from_config(config, on_event)


__all__ = ["EXECUTORS", "Executor", "ExecutorKind", "LocalExecutor", "OnEvent", "RayExecutor",
           "make_executor"]
