"""Attacks through the real loop, by a candidate whose evaluation reaches outside its own
worktree: it rewrites its parent's checkout (so the parent scores worse and it looks
better), points git's hooks at /dev/null, or edits a file of the user's working tree.

Without a sandbox each ends as a `tamper` verdict, never kept, and the damage is put
back (ladder/agent/tamper.py); in the user-namespace sandbox the write fails, so the
evaluation crashes and nothing outside the candidate's checkout changes."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from ladder.sandbox import SANDBOXES
from testing.agent_repo import agent_table, journal, make_agent_repo, of_kind, run_dirs
from testing.cli import ladder
from testing.fixtures import git

pytestmark = pytest.mark.slow

# What the candidate's prog.py does when the evaluation imports it; (code, what the
# verdict names).
PAYLOADS = {
    # the parent's evaluator aims at another target: its loss grows, the candidate's not
    "parent": ("_e = _P(__file__).resolve().parent.parent / 'parent' / 'evaluate.py'\n"
               "if _e.exists():\n"
               "    _e.write_text(_e.read_text().replace('TARGET_X = 1.0', 'TARGET_X = 9.0'))\n",
               "protected checkout"),
    "hooks": ("import subprocess\n"
              "subprocess.run(['git', 'config', 'core.hooksPath', '/dev/null'], check=False)\n",
              "config changed"),
    # the user's checkout: .ladder/runs/RUN/worktrees/candidate/prog.py -> parents[5]
    "user-tree": ("_r = _P(__file__).resolve().parents[5] / 'evaluate.py'\n"
                  "_r.write_text(_r.read_text().replace('NOISE = 0.001', 'NOISE = 0.0'))\n",
                  "the user's working tree changed"),
}


def _sabotage(payload: str) -> str:
    """The proposer's script: it writes prog.py with the payload."""
    program = "X = 3.0\nY = 2.0\nfrom pathlib import Path as _P\n" + payload
    return f"from pathlib import Path\nPath('prog.py').write_text({program!r})\n"


USERNS = SANDBOXES["userns"].problem()


def _run(tmp_path: Path, kind: str, sandbox: str) -> tuple[Path, Path, list[dict[str, Any]], list[dict[str, Any]]]:
    payload, _ = PAYLOADS[kind]
    script = tmp_path / "sabotage.py"
    script.write_text(_sabotage(payload), encoding="utf-8")
    cmd = f"{sys.executable} {script} {{prompt_file}}"  # the command proposer's contract
    proposer = "{" + f'kind = "command", cmd = {json.dumps(cmd)}' + "}"
    # learn = false: two crashes alike would teach a lesson, written to the user's tree
    config = agent_table(iterations=2, proposer=proposer,
                         extra=f'learn = false\nsandbox = {{mode = "{sandbox}"}}\n')
    root = make_agent_repo(tmp_path / "repo", config=config)
    proc = ladder(root, "agent", "run")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [run_dir] = run_dirs(root)
    records = journal(root, run_dir.name)
    decisions = [r["data"] for r in of_kind(records, "decision")]
    assert decisions and all(d["verdict"]["status"] != "keep" for d in decisions)
    return root, run_dir, records, decisions


@pytest.mark.skipif(bool(USERNS), reason=f"no user namespaces here: {USERNS}")
@pytest.mark.parametrize("kind", list(PAYLOADS))
def test_in_the_sandbox_the_write_outside_never_happens(tmp_path: Path, kind: str) -> None:
    root, run_dir, records, decisions = _run(tmp_path, kind, "userns")
    # the write raised (a crash) or, where the payload ignores its failure, did nothing
    assert {d["verdict"]["status"] for d in decisions} == ({"discard"} if kind == "hooks" else {"crash"})
    crashed = [r["data"] for r in of_kind(records, "evaluation") if not r["data"]["ok"]]
    assert all("Read-only file system" in e["tail"] for e in crashed)
    assert not of_kind(records, "tamper")
    parent = run_dir / "worktrees" / "parent"
    if parent.exists():
        assert "TARGET_X = 1.0" in (parent / "evaluate.py").read_text(encoding="utf-8")
    assert git(root, "config", "--get", "core.hooksPath", check=False).stdout.strip() == ""
    assert not git(root, "status", "--porcelain").stdout.strip()


@pytest.mark.parametrize("kind", list(PAYLOADS))
def test_a_candidate_that_reaches_outside_its_tree_is_a_tamper_verdict(tmp_path: Path, kind: str) -> None:
    _, named = PAYLOADS[kind]
    root, run_dir, records, decisions = _run(tmp_path, kind, "none")
    tampered = [d for d in decisions if d["verdict"]["status"] == "tamper"]
    assert tampered, [d["verdict"]["status"] for d in decisions]
    assert any(named in r for r in tampered[0]["verdict"]["reasons"]), tampered[0]["verdict"]
    assert of_kind(records, "tamper")  # journaled, with the results it discarded
    parent = run_dir / "worktrees" / "parent"
    if parent.exists():  # put back (or already cleaned up at the end of the run)
        assert "TARGET_X = 1.0" in (parent / "evaluate.py").read_text(encoding="utf-8")
    assert git(root, "config", "--get", "core.hooksPath", check=False).stdout.strip() == ""
    assert not git(root, "status", "--porcelain").stdout.strip()  # put back
    if kind == "user-tree":  # what the change left is set aside, not lost
        [note] = [r for r in tampered[0]["verdict"]["reasons"] if "set aside in" in r]
        aside = Path(note.split("set aside in ", 1)[1])
        assert "NOISE = 0.0" in (aside / "evaluate.py").read_text(encoding="utf-8")
    assert "tamper" in ladder(root, "agent", "explain", run_dir.name,
                              str(tampered[0]["iteration"])).stdout.lower()
