"""The executors' old home: `ladder.agent.executors` holds them now (local processes, a
Ray cluster). The names earlier code imports from here still resolve."""

from __future__ import annotations

from ladder.agent.executors import EXECUTORS
from ladder.agent.executors.local import (
    LocalExecutor,
    Runner,
    _parse_visible,
    detect_gpus,
    slot_env,
)

__all__ = ["EXECUTORS", "LocalExecutor", "Runner", "_parse_visible", "detect_gpus", "slot_env"]
