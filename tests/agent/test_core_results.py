from __future__ import annotations

from pathlib import Path

import pytest

from ladder.agent.config import AgentConfig, MetricSpec
from ladder.agent.records import Candidate, Verdict
from ladder.agent.results import (
    ResultRow,
    append_candidate,
    append_result,
    memory_gb,
    read_results,
    read_table,
    write_results,
)
from ladder.errors import LadderError

# The header of karpathy/autoresearch's program.md ("The TSV has a header row and 5 columns").
AUTORESEARCH_HEADER = "commit\tval_bpb\tmemory_gb\tstatus\tdescription"

ROWS = [
    ResultRow(
        "a1b2c3d4e5f6",
        0.9979,
        "baseline",
        "baseline",
        iteration=0,
        seeds=3,
        seconds=31.25,
        memory_gb=44.0,
    ),
    ResultRow(
        "b2c3d4e5f6a7",
        0.9932,
        "keep",
        "increase LR to 0.04",
        iteration=1,
        parent="a1b2c3d4",
        effect=-0.0047,
        seeds=3,
        seconds=30.0,
        reasons=("val_bpb improved",),
        memory_gb=44.2,
    ),
    ResultRow(
        "c3d4e5f6a7b8",
        None,
        "crash",
        "double width\t(OOM)\nagain",
        iteration=2,
        parent="b2c3d4e",
        reasons=("seed 1: exit 1", "killed"),
        memory_gb=80.0,
    ),
    ResultRow(
        "",
        None,
        "blocked",
        "delete validate() call",
        iteration=3,
        parent="b2c3d4e",
        reasons=("lesson require-validate",),
    ),
    ResultRow(
        "d4e5f6a7b8c9",
        0.1,
        "quarantine",
        "leak",
        iteration=4,
        parent="b2c3d4e",
        effect=-0.89,
        seeds=1,
        seconds=2.5,
        reasons=("val_bpb below plausible minimum",),
        memory_gb=44.0,
    ),
]


def test_first_five_columns_are_autoresearchs(tmp_path: Path) -> None:
    path = tmp_path / "results.tsv"
    append_result(path, ROWS[0], "val_bpb")
    header = path.read_text().splitlines()[0]
    assert "\t".join(header.split("\t")[:5]) == AUTORESEARCH_HEADER
    assert header.split("\t")[5:] == [
        "iteration",
        "ladder_status",
        "parent",
        "effect",
        "seeds",
        "seconds",
        "reasons",
    ]


def test_lines_in_autoresearchs_format(tmp_path: Path) -> None:
    path = tmp_path / "results.tsv"
    for row in ROWS:
        append_result(path, row, "val_bpb")
    first_five = [line.split("\t")[:5] for line in path.read_text().splitlines()[1:]]
    assert first_five == [
        ["a1b2c3d", "0.997900", "44.0", "keep", "baseline"],
        ["b2c3d4e", "0.993200", "44.2", "keep", "increase LR to 0.04"],
        ["c3d4e5f", "0.000000", "0.0", "crash", "double width (OOM) again"],
        ["0000000", "0.000000", "0.0", "crash", "delete validate() call"],
        ["d4e5f6a", "0.100000", "44.0", "discard", "leak"],
    ]
    assert all(len(line.split("\t")) == 12 for line in path.read_text().splitlines())


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "results.tsv"
    for row in ROWS:
        append_result(path, row, "val_bpb")
    back = read_results(path)
    assert [r.status for r in back] == ["baseline", "keep", "crash", "blocked", "quarantine"]
    assert back[1] == ResultRow(
        "b2c3d4e",
        0.9932,
        "keep",
        "increase LR to 0.04",
        iteration=1,
        parent="a1b2c3d",
        effect=-0.0047,
        seeds=3,
        seconds=30.0,
        reasons=("val_bpb improved",),
        memory_gb=44.2,
    )
    assert back[2].metric is None and back[2].reasons == ("seed 1: exit 1", "killed")
    assert back[3].commit == "" and back[3].effect is None
    assert read_table(path)[0] == "val_bpb"


def test_write_results_equals_appending(tmp_path: Path) -> None:
    appended, written = tmp_path / "a.tsv", tmp_path / "w.tsv"
    for row in ROWS:
        append_result(appended, row, "val_bpb")
    write_results(written, ROWS, "val_bpb")
    assert appended.read_text() == written.read_text()


def test_reads_autoresearchs_own_file(tmp_path: Path) -> None:
    path = tmp_path / "results.tsv"
    path.write_text(
        AUTORESEARCH_HEADER + "\n"
        "a1b2c3d\t0.997900\t44.0\tkeep\tbaseline\n"
        "d4e5f6g\t0.000000\t0.0\tcrash\tdouble model width (OOM)\n"
    )
    rows = read_results(path)
    assert rows[0] == ResultRow("a1b2c3d", 0.9979, "keep", "baseline", memory_gb=44.0)
    assert rows[1].status == "crash" and rows[1].metric is None


def test_torn_last_line_is_cut_before_appending(tmp_path: Path) -> None:
    path = tmp_path / "results.tsv"
    append_result(path, ROWS[0], "val_bpb")
    with path.open("a") as handle:
        handle.write("b2c3d4e\t0.99")
    append_result(path, ROWS[1], "val_bpb")
    assert [r.iteration for r in read_results(path)] == [0, 1]


def test_another_target_metric_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "results.tsv"
    append_result(path, ROWS[0], "val_bpb")
    with pytest.raises(LadderError, match="another header"):
        append_result(path, ROWS[1], "val_loss")


def test_malformed_row_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "results.tsv"
    append_result(path, ROWS[0], "val_bpb")
    with path.open("a") as handle:
        handle.write("x\ty\n")
    with pytest.raises(LadderError, match="line 3"):
        read_results(path)


@pytest.mark.parametrize(
    ("metrics", "expected"),
    [
        pytest.param({"val_bpb": 1.0}, 0.0, id="unknown"),
        pytest.param({"memory_gb": 12.3}, 12.3, id="memory-gb"),
        pytest.param({"peak_vram_mb": 45060.2}, 45060.2 / 1024, id="autoresearch-peak-vram-mb"),
    ],
)
def test_memory_from_metrics(metrics: dict[str, float], expected: float) -> None:
    assert memory_gb(metrics) == pytest.approx(expected)


def test_row_from_candidate() -> None:
    candidate = Candidate(
        iteration=4,
        commit="abcdef123456",
        parent="1234567abc",
        description="scale LR",
        status="discard",
        metrics={"val_bpb": 1.01, "peak_vram_mb": 2048.0},
        effect=0.01,
    )
    row = ResultRow.from_candidate(candidate, "val_bpb", seeds=5, seconds=12.0, reasons=("worse",))
    assert row == ResultRow(
        "abcdef123456",
        1.01,
        "discard",
        "scale LR",
        iteration=4,
        parent="1234567abc",
        effect=0.01,
        seeds=5,
        seconds=12.0,
        reasons=("worse",),
        memory_gb=2.0,
    )


def test_append_candidate_takes_seeds_seconds_and_reasons_from_the_verdict(tmp_path: Path) -> None:
    config = AgentConfig(
        editable=("train.py",), eval="x", metrics={"val_bpb": MetricSpec("val_bpb", "min")}
    )
    candidate = Candidate(
        iteration=1,
        commit="abcdef1234",
        parent="1234567",
        description="d",
        status="keep",
        metrics={"val_bpb": 0.5},
        effect=-0.1,
    )
    verdict = Verdict("keep", ("better",), {"n": 3, "seconds": 9.0})
    path = tmp_path / "results.tsv"
    append_candidate(path, candidate, verdict, config)
    (row,) = read_results(path)
    assert (row.metric, row.seeds, row.seconds, row.reasons) == (0.5, 3, 9.0, ("better",))
