"""The local executor: parallel slots, results in job order, one device per slot."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

from ladder.agent.executor import EXECUTORS, LocalExecutor, _parse_visible, slot_env
from ladder.agent.records import EvalJob, EvalResult, Executor
from ladder.errors import LadderError

PY = sys.executable
REPORT_DEVICE = (
    "import os, time\n"
    "time.sleep({sleep})\n"
    "print('val_loss: {value}')\n"
    "print('gpu:', os.environ.get('CUDA_VISIBLE_DEVICES', '-1'))\n"
    "print('cuda:', int(os.environ['LADDER_DEVICE'] == 'cuda'))\n"
)


def jobs_for(tmp_path: Path, specs: list[tuple[float, float]]) -> list[EvalJob]:
    jobs = []
    for i, (sleep, value) in enumerate(specs):
        script = tmp_path / f"eval{i}.py"
        script.write_text(REPORT_DEVICE.format(sleep=sleep, value=value))
        jobs.append(EvalJob(f"j{i}", tmp_path, f"{PY} {script.name}", i, 30))
    return jobs


def test_two_slots_run_two_one_second_evaluations_at_once(tmp_path: Path) -> None:
    executor = LocalExecutor(2, devices=[], target="val_loss")
    start = time.monotonic()
    results = executor.run(jobs_for(tmp_path, [(1, 1.0), (1, 2.0)]))
    elapsed = time.monotonic() - start
    assert elapsed < 1.8, f"took {elapsed:.2f} s: not parallel"
    assert [r.metrics["val_loss"] for r in results] == [1.0, 2.0]
    assert all(r.ok and r.metrics["cuda"] == 0.0 for r in results)


def test_results_in_job_order_and_each_reported_as_it_completes(tmp_path: Path) -> None:
    seen: list[str] = []
    lock = threading.Lock()

    def on_result(result: EvalResult) -> None:
        with lock:
            seen.append(result.key)

    executor = LocalExecutor(2, devices=[], target="val_loss")
    results = executor.run(jobs_for(tmp_path, [(0.8, 1.0), (0.0, 2.0), (0.0, 3.0)]), on_result)
    assert [r.key for r in results] == ["j0", "j1", "j2"]
    assert seen[-1] == "j0" and sorted(seen) == ["j0", "j1", "j2"]  # the slow one finished last


def test_each_concurrent_slot_gets_its_own_gpu(tmp_path: Path) -> None:
    executor = LocalExecutor(2, devices=["0", "1"])
    results = executor.run(jobs_for(tmp_path, [(0.5, 1.0), (0.5, 1.0), (0.0, 1.0)]))
    assert {r.metrics["gpu"] for r in results[:2]} == {0.0, 1.0}
    assert all(r.metrics["cuda"] == 1.0 for r in results)


@pytest.mark.parametrize(
    ("slot", "gpus", "env"),
    [
        pytest.param(0, (), {"LADDER_DEVICE": "cpu"}, id="cpu"),
        pytest.param(3, ("0", "1"), {"CUDA_VISIBLE_DEVICES": "1", "LADDER_DEVICE": "cuda"}, id="wraps"),
        pytest.param(1, ("GPU-ab12",), {"CUDA_VISIBLE_DEVICES": "GPU-ab12", "LADDER_DEVICE": "cuda"},
                     id="uuid"),
    ],
)
def test_slot_env(slot: int, gpus: tuple[str, ...], env: dict[str, str]) -> None:
    assert slot_env(slot, gpus) == env


@pytest.mark.parametrize(
    ("value", "ids"),
    [
        pytest.param("", (), id="empty-hides-all"),
        pytest.param("-1", (), id="negative-hides-all"),
        pytest.param("0,1", ("0", "1"), id="two"),
        pytest.param(" 2 , 3 ", ("2", "3"), id="spaces"),
    ],
)
def test_parse_visible(value: str, ids: tuple[str, ...]) -> None:
    assert _parse_visible(value) == ids


def test_registry_builds_an_executor() -> None:
    executor: Executor = EXECUTORS["local"](slots=3, devices=[])
    assert executor.slots == 3
    assert executor.run([]) == []


def test_no_slots_is_a_clear_error() -> None:
    with pytest.raises(LadderError, match="at least one slot"):
        LocalExecutor(0)


def test_each_result_says_which_host_and_device_ran_it(tmp_path: Path) -> None:
    import socket

    executor = LocalExecutor(2, devices=["0", "1"])
    results = executor.run(jobs_for(tmp_path, [(0.5, 1.0), (0.5, 1.0)]))
    assert {r.placement["device"] for r in results} == {"cuda:0", "cuda:1"}
    assert {r.placement["host"] for r in results} == {socket.gethostname()}
    [cpu] = LocalExecutor(1, devices=[]).run(jobs_for(tmp_path, [(0.0, 1.0)]))
    assert dict(cpu.placement) == {"host": socket.gethostname(), "device": "cpu"}
