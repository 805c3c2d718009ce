"""A real run's journal, tampered with by hand: `ladder agent verify RUN` exits 1 and names
the record (line and seq) for an edited, a deleted, a forged-and-inserted and a swapped
record; the untouched journal exits 0."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ladder.agent.journal import record_hash
from testing.agent_repo import agent_table, make_agent_repo, run_dirs
from testing.cli import ladder

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
    target.parent.mkdir()
    shutil.copyfile(source, target)
    assert ladder(root, "agent", "verify", copy_id).returncode == 0  # the copy is intact

    lines, line, seq, what = tamper(source.read_text(encoding="utf-8").splitlines())
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = ladder(root, "agent", "verify", copy_id)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    problems = [p for p in proc.stderr.splitlines() if re.search(r": line \d+", p)]
    # exactly the tampered record is named, not a cascade of its neighbours
    assert len(problems) == 1, proc.stderr
    assert f"journal.jsonl: line {line} (seq {seq}): {what}" in problems[0], proc.stderr
    assert proc.stderr.splitlines()[-1] == "ladder agent verify: 1 problem(s): the journal was edited"


def test_the_untouched_journal_verifies(finished_run: tuple[Path, str]) -> None:
    root, run = finished_run
    proc = ladder(root, "agent", "verify", run)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == f"ladder agent verify: {run}: the journal's hash chain is intact"
    assert proc.stderr == ""
