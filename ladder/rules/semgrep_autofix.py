"""Autofix tests: a test file with its rules' fixes applied must equal its `.fixed` file.

As in `semgrep --test` (semgrep 1.185, `cli/src/semgrep/test.py`): a test file
`x.py` of the rule file `x.yaml` is compared with the file beside it whose name has
`.fixed` among its suffixes, the same name up to the first dot and the same last
suffix (`x.fixed.py`), whenever there is one, whether the rules have a `fix:` or not.
The comparison is line by line, newlines normalised, as semgrep's `difflib` does.

The fixes are semgrep's own: each finding's `extra.fix` in its `--json` output (the
replacement of the matched bytes, for `fix:` and `fix-regex:` alike), from the same
run that gives the findings, so no second semgrep run and no temporary copy. They are
applied as semgrep's `Autofix.apply_edits_to_text` does: sorted by start, an edit that
overlaps one kept before it dropped, then applied from the end of the file.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

FIXED = ".fixed"
_DIFF_LINES = 4  # enough of the diff to see what differs; the file itself shows the rest


@dataclass(frozen=True)
class Edit:
    start: int  # byte offset, inclusive
    end: int  # byte offset, exclusive
    text: str


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """`text` with the non-overlapping `edits` applied (offsets are in UTF-8 bytes)."""
    kept: list[Edit] = []
    for edit in sorted(edits, key=lambda e: e.start):  # stable: the first of equal starts wins
        if kept and kept[-1].end > edit.start:
            continue  # overlaps one kept before it: semgrep drops it
        kept.append(edit)
    data = text.encode("utf-8")
    for edit in reversed(kept):
        data = data[: edit.start] + edit.text.encode("utf-8") + data[edit.end :]
    return data.decode("utf-8", errors="replace")


def fixed_file(test_file: Path, siblings: Sequence[Path]) -> Path | None:
    """The expected output of `test_file`'s autofix among `siblings`; the first by name
    when several fit (semgrep takes whichever it listed last)."""
    stem = test_file.name.split(".", 1)[0]
    fits = sorted(
        p for p in siblings
        if FIXED in p.suffixes and p.name.split(".", 1)[0] == stem and p.suffix == test_file.suffix
    )
    return fits[0] if fits else None


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").splitlines(keepends=True)


def compare(name: str, fixed_name: str, got: str, want: str) -> str:
    """'' when `got` (the fixes applied to `name`) equals `want`, else what differs."""
    diff = [
        line.rstrip("\n")
        for line in difflib.unified_diff(_lines(want), _lines(got), n=0)
        if not line.startswith(("---", "+++"))
    ]
    if not diff:
        return ""
    shown = "; ".join(diff[:_DIFF_LINES]) + ("; ..." if len(diff) > _DIFF_LINES else "")
    return f"{name} with its fixes applied differs from {fixed_name} (- expected, + got): {shown}"
