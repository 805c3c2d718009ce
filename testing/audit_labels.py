"""Measure the audit's rule classifier and enforcement matcher on hand-labelled data.

`tests/data/audit_labels/*.toml` hold prose units quoted from real repositories'
AGENTS.md, CLAUDE.md and skills, each labelled by reading (is it a rule; if so, does a
check the repository runs enforce it, named in its text), with the repository's own
check configuration at that commit. This module writes that configuration to a
directory, runs the shipped inventory of checks on it, then classifies and matches each
unit, exactly as `ladder audit` does. `python -m testing.audit_labels` prints the numbers.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ladder._toml import load
from ladder.audit.classify import classify
from ladder.audit.matcher import enforcement
from ladder.audit.structural import structural_items

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "audit_labels"


@dataclass(frozen=True)
class Outcome:
    """One labelled unit, its labels and what the audit decided."""

    source: str  # data file stem / path:line
    split: str  # dev (the classes were refined on it) or held-out (measured once)
    text: str
    rule: bool
    enforced: bool  # labelled: a check named in the text enforces it
    implicit: bool  # labelled: a check enforces it without the text naming it
    said_rule: bool
    said_enforced: bool
    reason: str  # the classifier's class
    evidence: str


@dataclass(frozen=True)
class Score:
    name: str
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def __str__(self) -> str:
        return (f"{self.name}: precision {self.precision:.3f} ({self.tp}/{self.tp + self.fp}), "
                f"recall {self.recall:.3f} ({self.tp}/{self.tp + self.fn})")


def evaluate(path: Path) -> list[Outcome]:
    """Every labelled unit of one data file, with the audit's decisions."""
    data = load(path)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, entry in data.get("files", {}).items():
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(entry["text"], encoding="utf-8")
        checks = structural_items(root)
        return [_outcome(path.stem, item, checks, root) for item in data["item"]]


def _outcome(repo: str, item: dict[str, Any], checks: Sequence[Any], root: Path) -> Outcome:
    verdict = classify(item["text"])
    evidence = enforcement(verdict.text, checks, root) if verdict.is_rule else None
    return Outcome(
        source=f"{repo}/{item['path']}:{item['line']}",
        split=item.get("split", "dev"),
        text=item["text"],
        rule=item["rule"],
        enforced=item["rule"] and item.get("enforced", False),
        implicit=bool(item.get("implicit")),
        said_rule=verdict.is_rule,
        said_enforced=evidence is not None,
        reason=verdict.reason,
        evidence=str(evidence or ""),
    )


def outcomes(files: Iterable[Path] | None = None) -> list[Outcome]:
    return [o for path in (files or sorted(DATA.glob("*.toml"))) for o in evaluate(path)]


def scores(results: Sequence[Outcome]) -> tuple[Score, Score, Score]:
    """"is a rule"; "is enforced" (named in the text); and "is enforced" counting the
    implicitly enforced rules too (what a reader of the whole repository would say)."""
    def score(name: str, gold: list[bool], said: list[bool]) -> Score:
        pairs = list(zip(gold, said, strict=True))
        return Score(name, sum(g and s for g, s in pairs), sum(s and not g for g, s in pairs),
                     sum(g and not s for g, s in pairs))

    rule = score("is a rule", [o.rule for o in results], [o.said_rule for o in results])
    enforced = score("is enforced", [o.enforced for o in results], [o.said_enforced for o in results])
    anyhow = score("is enforced, counting implicit enforcement", [o.enforced or o.implicit for o in results],
                   [o.said_enforced for o in results])
    return rule, enforced, anyhow


def summary(results: Sequence[Outcome], title: str) -> list[str]:
    lines = [f"{title}: {len(results)} labelled units, {sum(o.rule for o in results)} rules, "
             f"{sum(o.enforced for o in results)} enforced by a check they name, "
             f"{sum(o.implicit for o in results)} enforced implicitly"]
    return lines + [f"  {s}" for s in scores(results)]


def report(results: Sequence[Outcome]) -> str:
    lines = summary(results, "all")
    for split in ("dev", "held-out-1", "held-out-2"):
        part = [o for o in results if o.split == split]
        if part:
            lines += summary(part, split)
    lines.append("disagreements:")
    for o in results:
        if o.rule != o.said_rule:
            lines.append(f"  rule {'FN' if o.rule else 'FP'} [{o.reason}] {o.source}: {o.text[:100]}")
        if o.enforced != o.said_enforced:
            kind = "FN" if o.enforced else "FP"
            lines.append(f"  enforced {kind} {o.source}: {o.text[:80]} || {o.evidence[:90]}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    files = [Path(a) for a in (argv if argv is not None else sys.argv[1:])]
    print(report(outcomes(files or None)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
