"""Crash safety by fault injection (issue 12): a real run killed with SIGKILL at a record
boundary of each kind its journal holds (and mid-write, and before an append), resumed to
completion, and checked: the journal verifies against its anchor, every iteration is
decided once, no evaluation runs twice, results.tsv, refs, notes and the branch match
the journal, each re-validation measured the commit it names, no worktree is left and
the user's HEAD, branches and tree are untouched (testing/faults.py).

This is the sampled sweep; bench/faults.py kills at every record.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ladder.agent.faults import from_env
from ladder.errors import LadderError
from testing.agent_repo import journal, run_dirs
from testing.faults import agent, check, kill_and_resume, template, user_state
from testing.fixtures import set_git_env

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], Path]:
    """The template repository, one fault per kind of record a clean run journals (the
    first record of each kind, killed just after it is durable) plus a torn write and a
    kill before the append of a keep's decision and of the first record, and the work
    directory."""
    set_git_env()
    base = tmp_path_factory.mktemp("faults")
    repo = template(base / "template")
    reference = base / "reference"
    import shutil

    shutil.copytree(repo, reference, symlinks=True)
    before = user_state(reference)
    done = agent(reference)
    assert done.returncode == 0, done.stdout + done.stderr
    assert check(reference, before) == []  # the invariants hold without a fault
    records = journal(reference, run_dirs(reference)[0].name)
    first: dict[str, int] = {}
    for k, rec in enumerate(records, start=1):
        first.setdefault(rec["kind"], k)
    assert {"start", "baseline", "calibration", "select", "proposal", "commit", "evaluation",
            "decision", "revalidation", "stop"} <= set(first)
    keep = next(k for k, r in enumerate(records, start=1)
                if r["kind"] == "decision" and r["data"]["candidate"]["status"] == "keep")
    faults = [f"after-record:{k}" for k in sorted(set(first.values()))]
    faults += [f"mid-write:{keep}", f"before-append:{keep}", "mid-write:1"]
    return repo, faults, base / "points"


def test_every_kind_of_record_boundary_resumes_exactly(sweep: tuple[Path, list[str], Path]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    repo, faults, work = sweep
    # Each kill point works in its own copy of the template: two at a time halves the
    # sweep's wall time (it is most of this file's CI minutes).
    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(lambda fault: kill_and_resume(repo, work, fault), faults))
    killed = [o for o in outcomes if o.killed]
    assert len(killed) >= len(faults) - 1, [o.fault for o in outcomes if not o.killed]
    bad = {o.fault: o.anomalies for o in outcomes if not o.consistent}
    assert bad == {}


def test_a_bad_fault_spec_is_one_clear_error() -> None:
    assert from_env("") is None
    assert from_env("mid-write:3") is not None
    with pytest.raises(LadderError, match="LADDER_FAULT='after:x' is not a fault"):
        from_env("after:x")
