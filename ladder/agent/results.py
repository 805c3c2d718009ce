"""results.tsv: one line per iteration, in Karpathy's autoresearch format first.

The first five columns are autoresearch's, so its analysis notebooks read our runs
unchanged: `commit  <target>  memory_gb  status  description` — the second column is
named after the target metric (autoresearch's is `val_bpb`), the metric has 6 decimals
(0.000000 when there is none), memory is the peak in GB with 1 decimal (0.0 when
unknown or crashed), status is keep | discard | crash. Then ours: iteration,
ladder_status (the full status), parent, effect, seeds, seconds, reasons.

Our statuses fit autoresearch's like this: baseline -> keep (autoresearch logs its
baseline as a keep); quarantine -> discard (it was evaluated and not kept); blocked ->
crash (never evaluated: no metric, and a notebook that drops crashes must drop it too,
not plot its 0.000000 as the best loss ever seen).

The journal is the record; this file is its readable view. Tabs and newlines in text
become spaces; reasons are joined with " | ".
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast, get_args

from ladder.agent.records import Candidate, Status, Verdict
from ladder.errors import LadderError

if TYPE_CHECKING:
    from ladder.agent.config import AgentConfig

AUTORESEARCH_COLUMNS = ("commit", "{metric}", "memory_gb", "status", "description")
OUR_COLUMNS = ("iteration", "ladder_status", "parent", "effect", "seeds", "seconds", "reasons")
NO_COMMIT = "0000000"  # a proposal that never became a commit (blocked by the hooks)
REASON_SEPARATOR = " | "

_AUTORESEARCH_STATUS: dict[str, str] = {
    "keep": "keep",
    "discard": "discard",
    "crash": "crash",
    "baseline": "keep",
    "quarantine": "discard",
    "blocked": "crash",
    "tamper": "crash",
}
_STATUSES: tuple[str, ...] = get_args(Status)


@dataclass(frozen=True)
class ResultRow:
    commit: str  # full or short sha; "" when there is none
    metric: float | None  # the target metric (mean over seeds); None when not evaluated
    status: Status
    description: str
    iteration: int = 0
    parent: str = ""
    effect: float | None = None  # candidate minus parent, in the target's units
    seeds: int = 0  # evaluations the decision rests on
    seconds: float = 0.0  # wall time of the iteration's evaluations
    reasons: tuple[str, ...] = ()
    memory_gb: float = 0.0  # peak memory; 0.0 when unknown

    @classmethod
    def from_candidate(
        cls,
        candidate: Candidate,
        target: str,
        *,
        seeds: int = 0,
        seconds: float = 0.0,
        reasons: Sequence[str] = (),
    ) -> ResultRow:
        return cls(
            commit=candidate.commit,
            metric=candidate.metrics.get(target),
            status=candidate.status,
            description=candidate.description,
            iteration=candidate.iteration,
            parent=candidate.parent,
            effect=candidate.effect,
            seeds=seeds,
            seconds=seconds,
            reasons=tuple(reasons),
            memory_gb=memory_gb(candidate.metrics),
        )

    @property
    def autoresearch_status(self) -> str:
        return _AUTORESEARCH_STATUS[self.status]


def memory_gb(metrics: Mapping[str, float]) -> float:
    """Peak memory in GB: what the evaluation printed (`memory_gb`, or autoresearch's GPU
    `peak_vram_mb`, MiB divided by 1024 as its program.md does), else ladder's own
    measurement of the process tree's resident memory (`peak_rss_mb`)."""
    for name, scale in (("memory_gb", 1.0), ("peak_vram_mb", 1 / 1024), ("peak_rss_mb", 1 / 1024)):
        value = metrics.get(name)
        if value is not None and math.isfinite(value) and value >= 0:
            return value * scale
    return 0.0


def header(metric: str) -> tuple[str, ...]:
    return (*(c.format(metric=metric) for c in AUTORESEARCH_COLUMNS), *OUR_COLUMNS)


def format_row(row: ResultRow) -> str:
    evaluated = row.autoresearch_status != "crash"
    metric = row.metric if evaluated and row.metric is not None else 0.0
    cells = (
        row.commit[:7] or NO_COMMIT,
        f"{metric:.6f}",
        f"{row.memory_gb if evaluated else 0.0:.1f}",
        row.autoresearch_status,
        clean(row.description),
        str(row.iteration),
        row.status,
        row.parent[:7],
        "" if row.effect is None else repr(row.effect),
        str(row.seeds),
        f"{row.seconds:.1f}",
        REASON_SEPARATOR.join(clean(r) for r in row.reasons),
    )
    return "\t".join(cells)


def clean(text: str) -> str:
    """One line without tabs: whitespace runs (tabs, newlines) become one space."""
    return re.sub(r"\s+", " ", text).strip()


def append_result(path: Path, row: ResultRow, metric: str) -> None:
    """Append `row`, writing the header first when the file is new or empty.

    `metric` is the target's name (the second column's header); appending to a file
    whose header names another metric is an error. A torn last line (a kill mid-write)
    is cut away first: the journal is the record, and the loop rewrites what it lost.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if text and not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
        with path.open("r+b") as handle:
            handle.truncate(len(text.encode("utf-8")))
    lines = [header(metric)] if not text else []
    if text:
        found = tuple(text.split("\n", 1)[0].split("\t"))
        if found != header(metric):
            raise LadderError(
                f"results.tsv has another header: {' '.join(found)!r}",
                where=str(path),
                todo=f"a run has one target metric ({metric!r}); start a new run",
            )
    out = "".join("\t".join(cells) + "\n" for cells in lines) + format_row(row) + "\n"
    with path.open("a", encoding="utf-8", newline="\n") as handle:
        handle.write(out)
        handle.flush()
        os.fsync(handle.fileno())


def append_candidate(
    path: Path, candidate: Candidate, verdict: Verdict, config: AgentConfig
) -> None:
    """Append the row of a decided candidate: the loop's one call per iteration."""
    append_result(path, candidate_row(candidate, verdict, config.target.name), config.target.name)


def candidate_row(candidate: Candidate, verdict: Verdict, target: str) -> ResultRow:
    """The row of a decided candidate; seeds and seconds come from the verdict's stats
    ("n", "seconds") when it has them."""
    seeds = verdict.stats.get("n", 0)
    seconds = verdict.stats.get("seconds", 0.0)
    return ResultRow.from_candidate(
        candidate,
        target,
        seeds=seeds if isinstance(seeds, int) else 0,
        seconds=float(seconds) if isinstance(seconds, (int, float)) else 0.0,
        reasons=verdict.reasons,
    )


def journal_rows(records: Iterable[Mapping[str, Any]], target: str) -> list[ResultRow]:
    """The rows the journal's decisions make, in order: what results.tsv must hold."""
    from ladder.agent.replay import candidate_from, verdict_from

    return [candidate_row(candidate_from(rec["data"]["candidate"]),
                          verdict_from(rec["data"]["verdict"]), target)
            for rec in records if rec.get("kind") == "decision" and isinstance(rec.get("data"), Mapping)]


def rebuild(path: Path, rows: Sequence[ResultRow], target: str) -> bool:
    """Make results.tsv hold exactly `rows`, the journal's (a kill after a decision and
    before its row, a torn or edited file); True when it had to be rewritten."""
    want = table_text(rows, target)
    try:
        if path.read_text(encoding="utf-8") == want:
            return False
    except (OSError, UnicodeDecodeError):
        pass
    if not rows and not path.exists():
        return False
    write_results(path, rows, target)
    return True


def table_text(rows: Sequence[ResultRow], metric: str) -> str:
    return "\t".join(header(metric)) + "\n" + "".join(format_row(r) + "\n" for r in rows)


def expected_text(records: Iterable[Mapping[str, Any]], target: str) -> str:
    """results.tsv as the journal's decisions make it."""
    return table_text(journal_rows(records, target), target)


def write_results(path: Path, rows: Sequence[ResultRow], metric: str) -> None:
    """Write the whole file at once (atomically), e.g. rebuilt from the journal."""
    text = table_text(rows, metric)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8", newline="\n")
    os.replace(tmp, path)


def read_results(path: Path) -> list[ResultRow]:
    """The rows of a results.tsv — ours, or autoresearch's own five-column file."""
    return read_table(path)[1]


def read_table(path: Path) -> tuple[str, list[ResultRow]]:
    """(target metric name, rows)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise LadderError(f"cannot read: {exc.strerror}", where=str(path)) from None
    if not lines:
        raise LadderError("empty results file (no header)", where=str(path))
    names = lines[0].split("\t")
    if len(names) < 5 or names[0] != "commit" or names[3] != "status":
        raise LadderError(
            "not a results.tsv: the header must start with commit, <metric>, memory, status",
            where=str(path),
        )
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) != len(names):
            raise LadderError(
                f"line {number} has {len(cells)} cells, the header {len(names)}", where=str(path)
            )
        rows.append(_parse_row(dict(zip(names, cells, strict=True)), names[1], path, number))
    return names[1], rows


def _parse_row(cells: Mapping[str, str], metric: str, path: Path, line: int) -> ResultRow:
    try:
        status = cells.get("ladder_status") or cells["status"]
        if status not in _STATUSES:
            raise ValueError(f"unknown status {status!r}")
        crashed = cells["status"] == "crash"
        reasons = cells.get("reasons", "")
        effect = cells.get("effect", "")
        return ResultRow(
            commit="" if cells["commit"] == NO_COMMIT else cells["commit"],
            metric=None if crashed else float(cells[metric]),
            status=cast(Status, status),  # checked against Status above
            description=cells.get("description", ""),
            iteration=int(cells.get("iteration") or 0),
            parent=cells.get("parent", ""),
            effect=float(effect) if effect else None,
            seeds=int(cells.get("seeds") or 0),
            seconds=float(cells.get("seconds") or 0.0),
            reasons=tuple(reasons.split(REASON_SEPARATOR)) if reasons else (),
            memory_gb=float(cells.get("memory_gb") or cells.get("memory") or 0.0),
        )
    except (KeyError, ValueError) as exc:
        raise LadderError(f"line {line} is malformed: {exc}", where=str(path)) from None
