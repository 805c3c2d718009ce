"""What the `ray` executor is made of, without a cluster: a commit shipped as a bundle and
checked out elsewhere, the worker's evaluation by the same contract, its configuration,
and the one-line error when Ray is missing. (tests/agent/test_ray_executor.py runs them
on a real two-node cluster.)"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from ladder.agent.config import RaySettings, parse_agent_config
from ladder.agent.config import _Where as Where
from ladder.agent.executors import remote, shipping
from ladder.agent.executors.ray_cluster import RayExecutor
from ladder.agent.pinned import resumable
from ladder.agent.records import EvalJob
from ladder.errors import LadderError
from testing.fixtures import commit, git, make_repo, write

PY = sys.executable
NODE = remote.Node("n" * 56, "worker-host")
EVALUATE = (
    "import os\n"
    "open('out.txt', 'w').write(os.environ['LADDER_SEED'])\n"
    "print('loss:', int(os.environ['LADDER_SEED']) / 10)\n"
    "print('gpu:', int(os.environ['LADDER_DEVICE'] == 'cuda'))\n"
)
SCORE = (
    "import json, os\n"
    "seed = open(os.path.join(os.environ['LADDER_CANDIDATE_DIR'], 'out.txt')).read()\n"
    "json.dump({'acc': int(seed) / 100}, open(os.environ['LADDER_SCORE_FILE'], 'w'))\n"
)


def two_commits(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A repository whose baseline has the scorer and a candidate commit on top, with a
    linked worktree at each (as the loop has them): (repo, baseline tree, candidate tree)."""
    root = make_repo(tmp_path / "repo", {"evaluate.py": EVALUATE, "score.py": SCORE,
                                         "data/big.txt": "x" * 5000})
    git(root, "worktree", "add", "-q", "--detach", str(tmp_path / "base"), "HEAD")
    write(root, "evaluate.py", EVALUATE.replace("/ 10", "/ 20"))
    assert commit(root, "candidate").returncode == 0
    git(root, "worktree", "add", "-q", "--detach", str(tmp_path / "cand"), "HEAD")
    return root, tmp_path / "base", tmp_path / "cand"


def ship(tree: Path) -> shipping.Shipment:
    return shipping.pack(tree, shipping.tree_of(tree))


def test_a_commit_travels_as_a_bundle_of_its_tree_and_nothing_of_the_repository(
        tmp_path: Path) -> None:
    root, _, cand = two_commits(tmp_path)
    refs_before = git(root, "for-each-ref").stdout
    objects_before = git(root, "count-objects", "-v").stdout
    shipped = ship(cand)
    assert shipped.tree == git(cand, "rev-parse", "HEAD^{tree}").stdout.strip()
    assert shipping.pack(cand, shipped.tree) == shipped  # one tree, one bundle, byte for byte
    # Nothing was written to the user's repository: no object, no ref.
    assert git(root, "for-each-ref").stdout == refs_before
    assert git(root, "count-objects", "-v").stdout == objects_before

    there = shipping.checkout(shipped, tmp_path / "node" / "candidate")
    assert (there / "evaluate.py").read_text() == (cand / "evaluate.py").read_text()
    assert (there / "data" / "big.txt").read_text() == "x" * 5000
    # The candidate's tree, without its history: one parentless commit.
    assert git(there, "rev-list", "--count", "HEAD").stdout.strip() == "1"
    assert shipping.intact(there, shipped.tree) == ""


def test_a_bundle_that_is_not_the_tree_named_is_refused(tmp_path: Path) -> None:
    _, base, cand = two_commits(tmp_path)
    other = ship(base)
    forged = shipping.Shipment(ship(cand).tree, other.bundle)  # the right name, other files
    with pytest.raises(LadderError, match="holds tree"):
        shipping.checkout(forged, tmp_path / "node" / "candidate")


def test_uncommitted_changes_cannot_travel(tmp_path: Path) -> None:
    _, _, cand = two_commits(tmp_path)
    assert shipping.tree_of(cand)
    (cand / "evaluate.py").write_text("print('loss: 0')\n")
    with pytest.raises(LadderError, match="uncommitted changes"):
        shipping.tree_of(cand)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda d: (d / "score.py").write_text("print('acc: 1')\n"), id="edited"),
        pytest.param(lambda d: (d / "sitecustomize.py").write_text(""), id="added"),
        pytest.param(lambda d: (d / "score.py").unlink(), id="deleted"),
        pytest.param(lambda d: (d / ".gitignore").write_text("*\n") and (d / "x.py").write_text(""),
                     id="hidden-by-an-ignore-rule"),
    ],
)
def test_intact_names_any_change_to_a_checkout(tmp_path: Path, damage: object) -> None:
    _, base, _ = two_commits(tmp_path)
    shipped = ship(base)
    there = shipping.checkout(shipped, tmp_path / "node" / "scorer")
    assert shipping.intact(there, shipped.tree) == ""
    damage(there)  # type: ignore[operator]
    assert "changed in the checkout" in shipping.intact(there, shipped.tree)


def test_the_worker_evaluates_the_shipped_commit_by_the_same_contract(tmp_path: Path) -> None:
    _, base, cand = two_commits(tmp_path)
    job = EvalJob("it1/candidate/s0", cand, f"{PY} evaluate.py", 7, 30, score=f"{PY} score.py",
                  scorer=base, trusted=("acc",), hidden=(cand / "data",))
    result = remote.evaluate_shipped(job, "loss", ship(cand), ship(base),
                                     remote.Node("n1", "host-a", ("3",)), sandbox="none",
                                     attempt=2)
    assert result.ok, result.reason + result.tail
    assert result.metrics["loss"] == 7 / 20  # the candidate's code, not the baseline's
    assert result.metrics["acc"] == 0.07 and result.scored == ("acc",)  # the scorer ran
    assert result.metrics["gpu"] == 1.0  # the GPU the cluster assigned
    assert dict(result.placement) == {"node": "n1", "host": "host-a", "device": "cuda:3",
                                      "sandbox": "none", "attempt": "2"}
    assert not (cand / "out.txt").exists()  # the driver's checkout was never written


def test_a_candidate_that_edits_the_workers_scorer_is_a_crash_and_the_scorer_never_runs(
        tmp_path: Path) -> None:
    root, base, _ = two_commits(tmp_path)
    write(root, "evaluate.py", "open('../scorer/score.py', 'w').write('print(\"acc: 1\")')\n"
                               "open('out.txt', 'w').write('1')\nprint('loss: 0')\n")
    assert commit(root, "reaches the scorer").returncode == 0
    git(root, "worktree", "add", "-q", "--detach", str(tmp_path / "evil"), "HEAD")
    job = EvalJob("k", tmp_path / "evil", f"{PY} evaluate.py", 1, 30, score=f"{PY} score.py",
                  scorer=base)
    result = remote.evaluate_shipped(job, "loss", ship(tmp_path / "evil"), ship(base), NODE,
                                     sandbox="none")
    assert not result.ok
    assert result.reason.startswith("tamper on node worker-host: score.py changed")
    assert "acc" not in result.metrics


def test_hidden_paths_of_the_checkout_are_hidden_in_the_workers_checkout() -> None:
    old, new = Path("/driver/wt/candidate"), Path("/tmp/x/candidate")
    assert remote.moved((old / "labels", Path("/data/val")), old, new) == (
        new / "labels", Path("/data/val"))


def test_a_node_without_the_required_sandbox_is_unfit(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        name = "userns"

        def problem(self) -> str:
            return "no user namespaces"

    monkeypatch.setitem(remote.SANDBOXES, "userns", Broken())
    assert remote.sandbox_for("auto") == ("none", "no user namespaces")
    assert remote.sandbox_for("none") == ("none", "")
    with pytest.raises(remote.NodeUnfit, match="requires it"):
        remote.sandbox_for("userns")


# --- configuration --------------------------------------------------------------------

BASE = {"editable": ["a.py"], "eval": "python a.py",
        "metrics": {"loss": {"direction": "min", "role": "target"}}}
WHERE = Where("pyproject.toml", "tool.ladder.agent")


def test_the_ray_table_configures_the_executor() -> None:
    config = parse_agent_config(
        {**BASE, "executor": "ray", "workers": 8,
         "ray": {"address": "ray://head:10001", "num_gpus": 1, "num_cpus": 4,
                 "resources": {"a100": 1}, "max_retries": 5, "grace": 60}}, WHERE)
    assert config.ray == RaySettings("ray://head:10001", 4.0, 1.0, {"a100": 1.0}, 5, 60.0)
    assert parse_agent_config({**BASE, "executor": "ray"}, WHERE).ray == RaySettings()


@pytest.mark.parametrize(
    ("table", "said"),
    [
        pytest.param({"executor": "ray", "ray": {"adress": "auto"}}, "unknown key "
                     "'tool.ladder.agent.ray.adress'", id="typo"),
        pytest.param({"executor": "ray", "ray": {"num_gpus": -1}}, "num_gpus' must be a number >= 0",
                     id="negative"),
        pytest.param({"executor": "ray", "ray": {"resources": {"a100": 0}}}, "a positive number",
                     id="zero-resource"),
        pytest.param({"executor": "ray", "ray": {"max_retries": 1.5}}, "an integer >= 0",
                     id="retries"),
        pytest.param({"ray": {"address": "auto"}}, "applies to executor = \"ray\" only",
                     id="ray-table-without-ray"),
        pytest.param({"executor": "dask"}, "must be one of 'local', 'ray'", id="unknown-executor"),
    ],
)
def test_bad_ray_configuration_is_one_line_naming_the_key(table: dict[str, object],
                                                          said: str) -> None:
    with pytest.raises(LadderError) as info:
        parse_agent_config({**BASE, **table}, WHERE)
    assert said in info.value.line() and "\n" not in info.value.line()


def test_a_run_may_move_to_a_cluster_on_resume() -> None:
    assert resumable("executor") and resumable("ray.address") and resumable("ray.num_gpus")
    assert not resumable("eval")


def test_without_ray_installed_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "ray" else real(name, *a))
    with pytest.raises(LadderError) as info:
        RayExecutor(2)
    assert info.value.exit_code == 2
    assert "pip install 'enforcement-ladder[ray]'" in info.value.line()


# --- wiring and the report ------------------------------------------------------------


def test_the_run_builds_the_ray_executor_from_its_configuration_with_its_event_sink() -> None:
    from ladder.agent.build import build_parts
    from ladder.agent.executors.local import LocalExecutor

    heard: list[object] = []
    config = parse_agent_config({**BASE, "executor": "ray", "workers": 6,
                                 "ray": {"num_gpus": 1}, "sandbox": {"mode": "none"}}, WHERE)
    executor = build_parts(config, on_event=heard.append).executor
    assert isinstance(executor, RayExecutor)
    assert executor.slots == 6 and executor.settings.num_gpus == 1.0
    assert executor.sandbox == "none" and executor.target == "loss"
    executor._event({"what": "x"})
    assert heard == [{"executor": "ray", "what": "x"}]
    assert isinstance(build_parts(parse_agent_config(BASE, WHERE)).executor, LocalExecutor)


def _evaluation(key: str, node: str, attempt: str = "1") -> dict[str, object]:
    return {"kind": "evaluation", "ts": "2026-12-01T00:00:00.000Z",
            "data": {"key": key, "seed": 1, "metrics": {"loss": 1.0}, "ok": True, "seconds": 2.5,
                     "placement": {"node": node, "host": f"host-{node[0]}", "device": "cuda:0",
                                   "sandbox": "userns", "attempt": attempt}}}


def test_the_report_says_where_the_evaluations_ran_and_what_the_cluster_did() -> None:
    from ladder.agent.report import markdown
    from ladder.agent.report.read import read_report

    a, b = "a" * 56, "b" * 56
    records = [_evaluation("parent/x/s0", a), _evaluation("it1/candidate/s0", b),
               {"kind": "infrastructure", "ts": "2026-12-01T00:00:01.000Z",
                "data": {"executor": "ray", "what": "NodeDiedError: the node or worker was lost "
                         "mid-evaluation", "key": "it1/candidate/s1", "attempt": 1,
                         "retry": True, "node": b}},
               _evaluation("it1/candidate/s1", a, attempt="2")]
    report = read_report("r1", records)
    assert [(p.node, p.evaluations, p.seconds, p.retried) for p in report.placements] == [
        (a, 2, 5.0, 1), (b, 1, 2.5, 0)]
    text = markdown.render(report)
    assert "### Where the evaluations ran" in text
    assert f"| `{a[:12]}` | `host-a` | `cuda:0` | 2 | 5.0 s | 1 |" in text
    assert (f"infrastructure: NodeDiedError: the node or worker was lost mid-evaluation on node "
            f"{b[:12]}, evaluation it1/candidate/s1 (try 1); it runs again") in text.replace("\\", "")


def test_a_local_run_on_one_device_shows_no_placement_table() -> None:
    from ladder.agent.report import markdown
    from ladder.agent.report.read import read_report

    record = _evaluation("parent/x/s0", "x")
    record["data"]["placement"] = {"host": "laptop", "device": "cpu"}  # type: ignore[index]
    report = read_report("r1", [record])
    assert len(report.placements) == 1
    assert "Where the evaluations ran" not in markdown.render(report)


def test_the_preflight_refuses_a_ray_run_without_ray_before_anything_is_spent(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from ladder.agent.preflight import ray_installed

    assert ray_installed().problems == ()
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "ray" else real(name, *a))
    [problem] = ray_installed().problems
    assert "pip install 'enforcement-ladder[ray]'" in problem.line()
