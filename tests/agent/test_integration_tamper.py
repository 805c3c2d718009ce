"""A real run's journal, tampered with by hand: `ladder agent verify RUN` exits 1 and names
the record (line and seq) for an edited, a deleted, a forged-and-inserted and a swapped
record; a rewritten suffix with recomputed hashes, a cut tail and appended forged records
by the journal's anchor; a forged ref or a moved kept branch by the refs; `--resume`
refuses all of them unless told `--force`; the untouched journal exits 0."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ladder.agent.anchor import Anchor, anchors_dir
from ladder.agent.journal import record_hash
from testing.agent_repo import agent_table, make_agent_repo, run_dirs
from testing.cli import ladder
from testing.fixtures import git

pytestmark = pytest.mark.slow

Lines = list[str]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A repository with one short, finished run: (root, run id)."""
    root = make_agent_repo(
        tmp_path_factory.mktemp("tamper") / "repo", config=agent_table(iterations=2)
    )
    proc = ladder(root, "agent", "run")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [run_dir] = run_dirs(root)
    return root, run_dir.name


def _first_evaluation(lines: Lines, after: int = 0) -> int:
    """The 0-based index of the first evaluation record after line index `after`
    (a record in the middle of the journal, with records on both sides)."""
    return next(
        i for i, line in enumerate(lines) if i > after and json.loads(line)["kind"] == "evaluation"
    )


def edit_metric(lines: Lines) -> tuple[Lines, int, int, str]:
    i = _first_evaluation(lines, after=3)
    record = json.loads(lines[i])
    record["data"]["metrics"]["loss"] = 0.0001  # a better loss than was measured
    lines[i] = json.dumps(record, sort_keys=True, separators=(",", ":"))
    return lines, i + 1, record["seq"], "edited"


def delete_line(lines: Lines) -> tuple[Lines, int, int, str]:
    i = _first_evaluation(lines, after=3)
    del lines[i]
    # the break shows at the record that now follows the gap
    return lines, i + 1, json.loads(lines[i])["seq"], "deleted"


def insert_forged(lines: Lines) -> tuple[Lines, int, int, str]:
    """A forger who knows the hash function: a well-formed record with a valid hash that
    links to its predecessor, claiming the seq of the record it is put in front of."""
    i = _first_evaluation(lines, after=3)
    before: dict[str, Any] = json.loads(lines[i - 1])
    forged: dict[str, Any] = json.loads(lines[i])
    forged["data"]["metrics"]["loss"] = 0.0001
    forged["prev"] = before["hash"]
    forged["hash"] = record_hash(forged)
    lines.insert(i, json.dumps(forged, sort_keys=True, separators=(",", ":")))
    return lines, i + 1, forged["seq"], "inserted"


def swap_lines(lines: Lines) -> tuple[Lines, int, int, str]:
    i = _first_evaluation(lines, after=3)
    lines[i], lines[i + 1] = lines[i + 1], lines[i]
    # the record that moved down comes after one with a larger seq
    return lines, i + 2, json.loads(lines[i + 1])["seq"], "reordered"


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(edit_metric, id="edit"),
        pytest.param(delete_line, id="delete"),
        pytest.param(insert_forged, id="insert"),
        pytest.param(swap_lines, id="swap"),
    ],
)
def test_verify_names_the_tampered_record(
    finished_run: tuple[Path, str], tamper: Callable[[Lines], tuple[Lines, int, int, str]]
) -> None:
    root, run = finished_run
    source = root / ".ladder" / "runs" / run / "journal.jsonl"
    copy_id = f"{run}-{tamper.__name__}"
    target = root / ".ladder" / "runs" / copy_id / "journal.jsonl"
    _copy_run(root, source, copy_id)
    assert ladder(root, "agent", "verify", copy_id).returncode == 0  # the copy is intact

    lines, line, seq, what = tamper(source.read_text(encoding="utf-8").splitlines())
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = ladder(root, "agent", "verify", copy_id)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    problems = [p for p in proc.stderr.splitlines() if re.search(r": line \d+", p)]
    # exactly the tampered record is named, not a cascade of its neighbours
    assert len(problems) == 1, proc.stderr
    assert f"journal.jsonl: line {line} (seq {seq}): {what}" in problems[0], proc.stderr
    assert proc.stderr.splitlines()[-1] == ("ladder agent verify: 1 problem(s): the run's records "
                                            "were tampered with")


def _copy_run(root: Path, source: Path, copy_id: str) -> Path:
    """The journal under another run id, anchored as the loop anchors its own."""
    target = root / ".ladder" / "runs" / copy_id / "journal.jsonl"
    target.parent.mkdir()
    shutil.copyfile(source, target)
    last = json.loads(target.read_text(encoding="utf-8").splitlines()[-1])
    Anchor(copy_id, anchors_dir(root))(last)
    return target


def _rehash_from(lines: Lines, start: int) -> Lines:
    """A forger who knows the hash function rewrites every record from `start` on."""
    prev = json.loads(lines[start - 1])["hash"]
    out = lines[:start]
    for line in lines[start:]:
        record = json.loads(line)
        record["prev"] = prev
        record["hash"] = prev = record_hash(record)
        out.append(json.dumps(record, sort_keys=True, separators=(",", ":")))
    return out


def rewrite_suffix(lines: Lines) -> Lines:
    i = _first_evaluation(lines, after=3)
    record = json.loads(lines[i])
    record["data"]["metrics"]["loss"] = 0.0001
    lines[i] = json.dumps(record, sort_keys=True, separators=(",", ":"))
    return _rehash_from(lines, i)


def cut_tail(lines: Lines) -> Lines:
    return lines[:-2]


def append_forged(lines: Lines) -> Lines:
    last = json.loads(lines[-1])
    for n in range(2):
        forged = {**last, "seq": last["seq"] + 1, "prev": last["hash"], "kind": "note",
                  "data": {"forged": n}}
        forged["hash"] = record_hash(forged)
        lines.append(json.dumps(forged, sort_keys=True, separators=(",", ":")))
        last = forged
    return lines


@pytest.mark.parametrize(
    ("tamper", "named"),
    [
        pytest.param(rewrite_suffix, "the journal was rewritten from there", id="suffix"),
        pytest.param(cut_tail, "its tail was cut", id="cut"),
        pytest.param(append_forged, "2 records follow the anchored seq", id="append"),
    ],
)
def test_the_anchor_names_what_a_valid_chain_hides(
    finished_run: tuple[Path, str], tamper: Callable[[Lines], Lines], named: str
) -> None:
    root, run = finished_run
    source = root / ".ladder" / "runs" / run / "journal.jsonl"
    copy_id = f"{run}-{tamper.__name__}"
    target = _copy_run(root, source, copy_id)
    target.write_text("\n".join(tamper(source.read_text(encoding="utf-8").splitlines())) + "\n",
                      encoding="utf-8")
    proc = ladder(root, "agent", "verify", copy_id)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert not re.search(r": line \d+", proc.stderr)  # the chain itself is valid
    assert named in proc.stderr
    resumed = ladder(root, "agent", "run", "--resume", copy_id)
    assert resumed.returncode == 2
    assert resumed.stderr.count("\n") == 1 and "was tampered with" in resumed.stderr
    assert "--force" in resumed.stderr


def test_a_forged_ref_and_a_moved_kept_branch_are_named(finished_run: tuple[Path, str]) -> None:
    root, run = finished_run
    ref = f"refs/ladder/{run}/1"
    branch = f"refs/heads/ladder/{run}"
    saved = {r: git(root, "rev-parse", r).stdout.strip() for r in (ref, branch)}
    forged = git(root, "commit-tree", "-m", "forged", f"{saved[ref]}^{{tree}}").stdout.strip()
    try:
        git(root, "update-ref", ref, forged)
        git(root, "update-ref", branch, forged)
        git(root, "update-ref", f"refs/ladder/{run}/99", forged)
        proc = ladder(root, "agent", "verify", run)
        assert proc.returncode == 1
        assert f"{ref} points to {forged[:12]}" in proc.stderr
        assert f"refs/ladder/{run}/99 is not in the journal" in proc.stderr
        assert "the kept chain was moved" in proc.stderr
    finally:
        for name, sha in saved.items():
            git(root, "update-ref", name, sha)
        git(root, "update-ref", "-d", f"refs/ladder/{run}/99")


def test_the_untouched_journal_verifies(finished_run: tuple[Path, str]) -> None:
    root, run = finished_run
    proc = ladder(root, "agent", "verify", run)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == (f"ladder agent verify: {run}: the journal's hash chain is "
                                   "intact, it ends where its anchor says, and the run's refs "
                                   "match it")
    assert proc.stderr == ""


def test_a_line_that_is_no_record_is_named_and_status_still_reads(finished_run: tuple[Path, str]) -> None:
    """A trailing `{}` line: `verify` names it, `--resume` refuses it in one line (exit 2),
    and `status` reads what is there and warns (it crashed with KeyError, exit 3)."""
    root, run = finished_run
    source = root / ".ladder" / "runs" / run / "journal.jsonl"
    copy_id = f"{run}-empty-object"
    target = _copy_run(root, source, copy_id)
    target.write_text(target.read_text(encoding="utf-8") + "{}\n", encoding="utf-8")
    verified = ladder(root, "agent", "verify", copy_id)
    assert verified.returncode == 1 and "not a journal record" in verified.stderr
    resumed = ladder(root, "agent", "run", "--resume", copy_id)
    assert resumed.returncode == 2 and len(resumed.stderr.strip().splitlines()) == 1, resumed.stderr
    status = ladder(root, "agent", "status", copy_id)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "warning: the run's records were tampered with" in status.stdout
