"""One evaluation on a cluster's worker, by the same contract as on the driver's machine.

The worker has none of the driver's files. It receives the candidate's tree (and, with
a `score` command, the pinned baseline's, where the protected scorer lives) as shipped
bundles (shipping.py), checks each out in a temporary directory of its own, verifies
that each holds exactly the tree the driver named, and runs `evaluate()` -- the same
function the local executor runs: `LADDER_SEED`, `LADDER_METRICS_FILE`, `LADDER_DEVICE`,
the node's environment scrubbed of secrets, the whole process group killed at the
timeout, the scorer run from the baseline's checkout after the candidate has exited.

Between the candidate's exit and the scorer's start the scorer's checkout is compared,
file by file, with the baseline's tree: a candidate that reached it (on a node without a
sandbox) makes the evaluation a crash and the scorer never runs.

The sandbox is the node's: `auto` confines the evaluation where the node allows user
namespaces and says so in the result's placement when it does not; `userns` on a node
without them is the node's failure (`NodeUnfit`), and the evaluation is sent elsewhere.

Nothing here imports Ray: ray_cluster.py calls `evaluate_shipped` from its remote task
with what Ray told the task about its node.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ladder.agent.evaluate import evaluate
from ladder.agent.executors import shipping
from ladder.agent.executors.local import device_words
from ladder.agent.records import EvalJob, EvalResult
from ladder.sandbox import SANDBOXES


@dataclass(frozen=True)
class Node:
    """Where a remote evaluation runs, as the cluster says."""

    id: str  # the cluster's id of the node
    host: str
    gpus: tuple[str, ...] = ()  # the GPU ids assigned to this evaluation


class NodeUnfit(Exception):
    """This node cannot run the evaluation as configured (not the candidate's fault)."""


def sandbox_for(mode: str) -> tuple[str, str]:
    """The sandbox this node gives an evaluation under `mode` (auto, userns, none), and
    why not userns when `auto` fell back ("" otherwise)."""
    if mode == "none":
        return "none", ""
    why = SANDBOXES["userns"].problem()
    if not why:
        return "userns", ""
    if mode == "userns":
        raise NodeUnfit(f"this node cannot build the userns sandbox ({why}) and "
                        "[tool.ladder.agent.sandbox] mode = \"userns\" requires it")
    return "none", why


def device_env(gpus: Sequence[str]) -> dict[str, str]:
    """The contract's device variables for the GPUs the cluster assigned (none: cpu)."""
    if not gpus:
        return {"LADDER_DEVICE": "cpu"}
    return {"CUDA_VISIBLE_DEVICES": ",".join(gpus), "LADDER_DEVICE": "cuda"}


def moved(paths: Sequence[Path], old: Path | None, new: Path | None) -> tuple[Path, ...]:
    """`paths`, those under the driver's checkout `old` moved under the worker's `new`
    (a hidden path relative to the repository lives in every checkout); others are the
    node's own paths and stay as they are."""
    out = []
    for path in paths:
        if old is not None and new is not None and path.is_relative_to(old):
            out.append(new / path.relative_to(old))
        else:
            out.append(path)
    return tuple(out)


def evaluate_shipped(job: EvalJob, target: str, candidate: shipping.Shipment,
                     scorer: shipping.Shipment | None, node: Node, *, sandbox: str = "auto",
                     attempt: int = 1) -> EvalResult:
    """Evaluate `job` on this node: the shipped trees checked out and verified, the job's
    paths moved onto them, then `evaluate()`; the result says where it ran. Setup
    failures raise (the driver tells them from the candidate's crashes)."""
    box, fallback = sandbox_for(sandbox)
    with tempfile.TemporaryDirectory(prefix="ladder-remote-", ignore_cleanup_errors=True) as tmp:
        root = shipping.checkout(candidate, Path(tmp, "candidate"))
        score_root = shipping.checkout(scorer, Path(tmp, "scorer")) if scorer else None
        env = {**job.env, **device_env(node.gpus)}
        here = replace(
            job, root=root, scorer=score_root, env=env, sandbox=box,
            hidden=moved(moved(job.hidden, job.root, root), job.scorer, score_root),
        )

        def scorer_intact() -> str:
            if scorer is None or score_root is None:
                return ""
            changed = shipping.intact(score_root, scorer.tree)
            return (f"tamper on node {node.host}: {changed} (the protected scorer's "
                    "checkout of the baseline); the scorer did not run") if changed else ""

        result = evaluate(here, target, scorer_intact=scorer_intact)
    placement = {"node": node.id, "host": node.host, "device": device_words(env),
                 "sandbox": box + (f" ({fallback[:120]})" if fallback else ""),
                 "attempt": str(attempt)}
    return replace(result, placement=placement)
