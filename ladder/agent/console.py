"""What a run says about each candidate on the console: one line per decision that says
why, never a number that misleads (issue 14).

- A refusal names the hook's reason (the lesson and its message), not "see output":
  the real message was only inside journal.jsonl.
- A crash shows the last lines of its output (the traceback's tail).
- The value shown is the paired difference from the parent on the same seeds: the
  candidate's mean on its own seeds beside the baseline's on others made a no-op look
  0.600 against 0.674.
- Text is cut at a word, never mid-token: `scale x1.2` for `x1.25` said the wrong thing.

Everything shown is made printable first: descriptions, hook output and evaluation
output come from processes ladder does not trust, and may hold escape sequences.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ladder.agent.proposers.common import printable
from ladder.agent.records import Candidate, Verdict

DESCRIPTION_WIDTH = 72
REASON_WIDTH = 160
TAIL_LINES = 3  # of a crash's output, under its line

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


def clip(text: str, width: int) -> str:
    """`text` as one printable line of at most `width` characters, cut at a word (the
    cut marked with "..."); a single word longer than half the width is cut inside."""
    line = printable(_ANSI.sub("", text), 100_000)
    if len(line) <= width:
        return line
    cut = line[: width - 3]
    space = cut.rfind(" ")
    if space >= width // 2:
        cut = cut[:space]
    return cut.rstrip() + "..."


def tail_lines(text: str, n: int = TAIL_LINES) -> list[str]:
    """The last `n` non-blank lines of an output, printable."""
    lines = [_indent(line) + clip(line, REASON_WIDTH) for line in _ANSI.sub("", text).splitlines()]
    return [line for line in lines if line.strip()][-n:]


def _indent(line: str) -> str:
    """A traceback's indentation, kept (clip() would fold it away), at most 8."""
    expanded = line.expandtabs(4)
    return " " * min(8, len(expanded) - len(expanded.lstrip(" ")))


def hook_reason(output: str) -> str:
    """One line from what the hooks printed when no ladder lesson refused the commit:
    the failing hook and its first words, or the first line (pre-commit without its
    configuration says "No .pre-commit-config.yaml file was found")."""
    lines = [clip(line, REASON_WIDTH) for line in _ANSI.sub("", output).splitlines()]
    lines = [line for line in lines if line]
    for i, line in enumerate(lines):
        if line.endswith("Failed"):
            name = line[: -len("Failed")].rstrip(". ").strip()
            detail = next((x for x in lines[i + 1:] if not x.startswith("- ")), "")
            return f"hook {name!r} failed" + (f": {detail}" if detail else "")
    return lines[0] if lines else "no output"


def finding_words(finding: Mapping[str, Any]) -> str:
    """A ladder finding of a refused commit: `lesson: path:line: message`."""
    lesson, path = str(finding.get("lesson", "")), str(finding.get("path", ""))
    message = str(finding.get("message", ""))
    where = "" if not path or path in message else f"{path}:{finding.get('line', 1)}: "
    return f"{lesson}: {where}{message}"


def candidate_line(cand: Candidate, verdict: Verdict, target: str) -> str:
    """The console's words for one decision (a crash adds its output's tail below)."""
    described = clip(cand.description, DESCRIPTION_WIDTH)
    head = f"#{cand.iteration:<4} {verdict.status:<10} {described}"
    reason = verdict.reasons[0] if verdict.reasons else ""
    if verdict.status == "blocked":
        if printable(reason) == printable(cand.description):
            return head  # a refused proposal is described by its refusal
        return f"{head}  ({clip(reason, REASON_WIDTH)})"
    if verdict.status == "crash":
        tail = tail_lines(str(verdict.stats.get("tail", "")))
        return "\n".join([f"{head}  {clip(reason, REASON_WIDTH)}", *(f"        | {t}" for t in tail)])
    shown = _paired(cand, verdict, target) + _why_not(verdict) or clip(reason, REASON_WIDTH)
    if verdict.status == "quarantine":
        shown += "  (awaiting review: `ladder agent review`)"
    return f"{head}  {shown}"


def _paired(cand: Candidate, verdict: Verdict, target: str) -> str:
    """The candidate against its parent on the same seeds, labelled as such."""
    if cand.effect is None:
        return ""
    n = verdict.stats.get("n")
    seeds = f" on {n} paired seed{'s' if n != 1 else ''}" if isinstance(n, int) else ""
    return f"{target} {cand.effect:+.4g} vs parent{seeds}"


def _why_not(verdict: Verdict) -> str:
    """Why a candidate that looked better was discarded: a guard, or too little evidence
    (an improvement shown without it reads as a mistake)."""
    stats = verdict.stats
    if verdict.status != "discard":
        return ""
    if stats.get("refused_by"):
        return f"; refused by guard {', '.join(map(str, stats['refused_by']))}"
    effect, p, alpha = (stats.get(k) for k in ("effect", "p", "alpha"))
    if isinstance(effect, (int, float)) and isinstance(p, (int, float)) \
            and isinstance(alpha, (int, float)) and effect > 0:
        return f"; not significant (p={p:.3g} > alpha {alpha:.3g})"
    return ""


@dataclass
class Repeats:
    """Consecutive refusals in the same words become one line: on a small program a
    proposer with nothing new said "no untried mutation found" 51 times in a row."""

    words: str = ""
    first: int = 0
    last: int = 0

    def add(self, iteration: int, line: str, status: str) -> list[str]:
        """The lines to print for this decision's `line` (none when it repeats)."""
        words = line.split(None, 1)[1] if status == "blocked" and " " in line else ""
        if words and words == self.words:
            self.last = iteration
            return []
        out = self.flush()
        self.words, self.first, self.last = words, iteration, iteration
        return [*out, line]

    def flush(self) -> list[str]:
        """The line that closes a run of repeats ([] when there is none)."""
        first, last, words = self.first, self.last, self.words
        self.words, self.first, self.last = "", 0, 0
        if last <= first:
            return []
        if last == first + 1:  # one repeat: the line itself says it best
            return [f"#{last:<4} {words}"]
        return [f"#{first + 1}-#{last}  the same again ({last - first} more)"]
