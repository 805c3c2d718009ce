from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from ladder.agent.journal import Journal, JournalReader, Problem, read_records, record_hash, verify
from ladder.errors import LadderError


def clock() -> float:
    return 1_800_000_000.0


def make(path: Path, n: int = 5) -> list[dict[str, object]]:
    with Journal(path, clock=clock) as journal:
        return [journal.append("evaluation", {"i": i, "metric": 1.0 / (i + 1)}) for i in range(n)]


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def put(path: Path, rows: list[str]) -> None:
    path.write_text("".join(rows), encoding="utf-8")


def test_append_and_read(tmp_path: Path) -> None:
    path = tmp_path / "run" / "journal.jsonl"
    written = make(path, 3)
    assert read_records(path) == written
    assert [r["seq"] for r in written] == [0, 1, 2]
    assert written[0]["prev"] == ""
    assert written[1]["prev"] == written[0]["hash"]
    assert written[0]["ts"] == "2027-01-15T08:00:00.000Z"
    assert written[2]["hash"] == record_hash(written[2])
    assert verify(path) == []


def test_hash_is_sha256_of_the_canonical_record(tmp_path: Path) -> None:
    import hashlib

    record = make(tmp_path / "j.jsonl", 1)[0]
    body = {k: v for k, v in record.items() if k != "hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert record["hash"] == hashlib.sha256(canonical.encode()).hexdigest()


def test_reopening_continues_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    first = make(path, 2)
    with Journal(path, clock=clock) as journal:
        third = journal.append("decision", {"status": "keep"})
        assert journal.records()[-1] == third
    assert third["seq"] == 2
    assert third["prev"] == first[-1]["hash"]
    assert verify(path) == []


@dataclass(frozen=True)
class Point:
    x: float


def test_data_is_stored_as_plain_json(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    with Journal(path) as journal:
        stored = journal.append(
            "evaluation",
            {
                "nan": math.nan,
                "inf": -math.inf,
                "where": Path("a/b"),
                "pair": (1, 2),
                "point": Point(0.5),
            },
        )
    assert stored["data"] == {
        "nan": "NaN",
        "inf": "-Infinity",
        "where": "a/b",
        "pair": [1, 2],
        "point": {"x": 0.5},
    }
    assert read_records(path) == [stored]
    assert "NaN" not in path.read_text().replace('"NaN"', "")  # standard JSON only


def test_unserialisable_data_is_refused_before_writing(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    with Journal(path) as journal, pytest.raises(TypeError, match="cannot journal a object"):
        journal.append("x", {"bad": object()})
    assert path.read_text() == ""


# --- tampering: noop/fixes pairs ---------------------------------------------------------------


def test_intact_journal_has_no_problems(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    make(path)
    assert verify(path) == []


def test_edited_record_is_named(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    make(path)
    rows = lines(path)
    rows[2] = rows[2].replace('"i":2', '"i":20')
    put(path, rows)
    assert verify(path) == [Problem(3, 2, "edited: its content does not match its hash")]


def test_rewritten_record_with_recomputed_hash_is_named(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    make(path)
    rows = lines(path)
    record = json.loads(rows[2])
    record["data"]["metric"] = 0.0001
    record["hash"] = record_hash(record)
    rows[2] = json.dumps(record) + "\n"
    put(path, rows)
    problems = verify(path)
    assert len(problems) == 1
    assert (problems[0].line, problems[0].seq) == (4, 3)
    assert "rewritten" in problems[0].what and "seq 2 (line 3)" in problems[0].what


def test_deleted_record_is_named(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    make(path)
    rows = lines(path)
    del rows[2]
    put(path, rows)
    assert verify(path) == [Problem(3, 3, "deleted: seq 2 missing before this record")]


def test_deleted_first_records_are_named(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    make(path)
    put(path, lines(path)[2:])
    assert verify(path) == [Problem(1, 2, "deleted: seqs 0..1 missing before this record")]


def test_inserted_forged_record_is_named(tmp_path: Path) -> None:
    """A well-forged insertion: valid hash and prev, the next seq; the original record
    that follows still points past it."""
    path = tmp_path / "j.jsonl"
    written = make(path)
    forged = {
        "seq": 2,
        "ts": "x",
        "kind": "decision",
        "data": {"status": "keep"},
        "prev": written[1]["hash"],
    }
    forged["hash"] = record_hash(forged)
    rows = lines(path)
    rows.insert(2, json.dumps(forged) + "\n")
    put(path, rows)
    problems = verify(path)
    assert len(problems) == 1
    assert (problems[0].line, problems[0].seq) == (3, 2)
    assert problems[0].what.startswith("inserted: seq 2 appears twice (lines 3, 4)")


def test_inserted_naive_record_is_named(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    make(path)
    rows = lines(path)
    copy = json.loads(rows[1])
    copy["data"]["metric"] = 0.0
    rows.insert(2, json.dumps(copy) + "\n")
    put(path, rows)
    problems = verify(path)
    assert Problem(3, 1, "edited: its content does not match its hash") in problems
    assert any(p.line == 3 and p.what.startswith("inserted: seq 1") for p in problems)


def test_reordered_records_are_named(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    make(path)
    rows = lines(path)
    rows[1], rows[2] = rows[2], rows[1]
    put(path, rows)
    assert verify(path) == [Problem(3, 1, "reordered: seq 1 comes after seq 2 (line 2)")]


def test_torn_tail_is_named(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    make(path)
    with path.open("a") as handle:
        handle.write('{"seq":5,"ts":"2027')
    problems = verify(path)
    assert len(problems) == 1
    assert problems[0].line == 6 and problems[0].what.startswith("torn tail")


def test_malformed_line_in_the_middle(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    make(path)
    rows = lines(path)
    rows[1] = "garbage\n"
    put(path, rows)
    problems = verify(path)
    assert Problem(2, None, "not a journal record (malformed JSON)") in problems
    with pytest.raises(LadderError, match="line 2 is not a journal record"):
        read_records(path)


# --- recovery --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "torn",
    [
        pytest.param(b'{"seq":3,"ts":"20', id="no-newline"),
        pytest.param(b"\x00\x00\x00\n", id="garbage-line"),
    ],
)
def test_reopening_cuts_a_torn_tail_and_records_it(tmp_path: Path, torn: bytes) -> None:
    path = tmp_path / "j.jsonl"
    written = make(path, 3)
    with path.open("ab") as handle:
        handle.write(torn)
    assert verify(path) != []
    with Journal(path, clock=clock) as journal:
        after = journal.append("resume", {})
        records = journal.records()
    assert records[:3] == written
    recovered = records[3]
    assert recovered["kind"] == "recovered"
    assert recovered["data"]["cut_bytes"] == len(torn)
    assert recovered["prev"] == written[-1]["hash"]
    assert after["seq"] == 4
    assert verify(path) == []


def test_reopening_an_intact_journal_records_nothing(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    make(path, 2)
    Journal(path).close()
    assert [r["kind"] for r in read_records(path)] == ["evaluation", "evaluation"]


def test_a_second_writer_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    make(path, 2)
    with path.open("a") as handle:
        handle.write('{"seq":2,')  # as if the first writer were mid-line
    with Journal(path) as journal:
        with pytest.raises(LadderError, match="open in another process"):
            Journal(path)
        assert len(journal.records()) == 3  # 2 + its own "recovered" record
        assert JournalReader(path).records() == journal.records()  # readers need no lock
    with Journal(path) as again:  # free once the first is closed
        assert again.append("x", {})["seq"] == 3


WRITER = """
import sys
from ladder.agent.journal import Journal
journal = Journal(sys.argv[1])
blob = "x" * 20000  # large lines: a kill is likely to land mid-append
while True:
    record = journal.append("evaluation", {"blob": blob})
    print(record["seq"], flush=True)
"""


def test_sigkill_in_a_tight_append_loop_loses_no_completed_record(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True, cwd=Path.cwd()
    )
    assert child.stdout is not None
    acked = -1
    for line in child.stdout:
        acked = int(line)
        if acked >= 30:
            break
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    Journal(path).close()  # recovers a torn tail, if the kill made one
    assert verify(path) == []
    records = read_records(path)
    seqs = [r["seq"] for r in records if r["kind"] == "evaluation"]
    assert seqs[: acked + 1] == list(range(acked + 1))  # every acknowledged record is there


def test_import_is_cheap() -> None:
    code = (
        "import sys, ladder.agent.journal; "
        "heavy = {'git', 'libcst', 'scipy', 'ladder.agent.config', 'ladder.project', 'click', 'rich'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_appends_from_many_threads_keep_one_chain(tmp_path: Path) -> None:
    # The executor's worker threads journal evaluations as they finish (workers = 2 and
    # more): two records must never share a sequence number or a previous hash.
    import threading

    journal = Journal(tmp_path / "j.jsonl")
    barrier = threading.Barrier(4)

    def write(n: int) -> None:
        barrier.wait()
        for i in range(40):
            journal.append("evaluation", {"worker": n, "i": i})

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    journal.close()
    records = read_records(tmp_path / "j.jsonl")
    assert [r["seq"] for r in records] == list(range(160))
    assert verify(tmp_path / "j.jsonl") == []
