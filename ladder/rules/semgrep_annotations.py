"""Semgrep test annotations (`# ruleid: x`), read and judged the way `semgrep --test` does.

`semgrep --test` (semgrep 1.185; its test runner is `cli/src/semgrep/test.py`, which
the `semgrep` command still runs for `--test`) reads a line as an annotation when it
holds a comment start (`#`, `//`, `<!--` or `(*`), then at most one space, then one of
the words below, and has a colon somewhere. The rule ids are what follows the line's
first colon, split on commas, with the closing tokens `-->` and `*)` removed. An
annotation is always about the NEXT line, even when it trails code
(`eval(x)  # ruleid: r` is about the line after `eval(x)`).

- `ruleid: x` -- x must flag the next line;
- `ok: x` -- a comment only: a finding on a line no `ruleid` names fails anyway;
- `todoruleid: x` -- a known false negative: the line is not checked at all;
- `todook: x` -- a known false positive: the line is not checked at all;
- `ruleid: deepok: x` / `ruleid: prook: x` -- the pro engines' words after the first
  colon are skipped: for semgrep OSS this is `ruleid: x`. A line that starts with
  `deepruleid:`, `deepok:`, `proruleid:` or `prook:` is no annotation for semgrep OSS.

A finding on a line that no `ruleid` names fails, as semgrep's "incorrect lines".
What semgrep --test does not read, ladder does not either: `/* */`, `--` and `;`
comments, upper case, two spaces before the word; a finding below such a line fails
with a hint saying so. (semgrep's newer runner, `semgrep test --experimental`, from
`src/osemgrep/cli_test/Test_annotation.ml`, differs: it reads `/* */` and `{/* */}`,
ignores trailing annotations, and fails a `todoruleid` line that is flagged. ladder
follows the runner `semgrep --test` runs.)

One addition, asked for in issue 13: `{# ruleid: x #}` (jinja) loses its `#}`, where
semgrep 1.185 keeps it in the id (`x #}`) and then fails the whole run on a rule id
mismatch. `<!-- ruleid: x -->` is read the same by both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# semgrep's COMMENT_SYNTAXES: the starts it looks for, and the ends it strips.
COMMENT_STARTS = ("#", "//", "<!--", "(*")
CLOSERS = ("-->", "*)", "#}")  # "#}" is ladder's (jinja), see the module doc
KINDS = ("ruleid", "ok", "todoruleid", "todook")
# semgrep OSS skips these after the first colon (`ruleid: deepok: x` is `ruleid: x`).
ENGINE_WORDS = ("deepok", "prook", "deepruleid", "proruleid")
EXPECTING = ("ruleid", "todoruleid")  # the kinds semgrep counts as expected lines
TODO = ("todoruleid", "todook")  # lines semgrep leaves out of the comparison
NAMING = ("ruleid", "ok", "todoruleid")  # the kinds its rule-id mismatch check reads
# Something a person meant as an annotation, read by semgrep or not: for hints only.
_LOOKS_LIKE = re.compile(r"(?i)\b(?:todo|deep|pro)?(?:ruleid|ok)\s*:")
_PRO_ONLY = re.compile(r"\b(?:deep|pro)(?:ruleid|ok)\s*:")


@dataclass(frozen=True)
class Annotation:
    kind: str  # one of KINDS, semgrep's own words
    rule_id: str
    at: int  # 1-based line of the comment

    @property
    def line(self) -> int:
        """The line it is about: always the next one, as in semgrep."""
        return self.at + 1


@dataclass(frozen=True)
class LineVerdict:
    """One checked line of a test file, for one rule."""

    kind: str  # "block": a `ruleid` line; "allow": an `ok` line or an unexpected finding
    line: int
    ok: bool
    detail: str  # "" when ok


def _marked(line: str, kind: str) -> bool:
    return any(f"{start}{space}{kind}" in line for start in COMMENT_STARTS for space in ("", " "))


def _strip_closers(text: str) -> str:
    for closer in CLOSERS:
        text = text.strip().replace(closer, "")
    return text.strip()


def rule_ids(line: str) -> tuple[str, ...] | None:
    """The ids of an annotation line; None when semgrep cannot parse it (it warns and
    skips the line)."""
    rest = line.strip().split(":", 1)[1].strip()
    if rest.startswith(ENGINE_WORDS):
        parts = rest.split(":")
        if len(parts) != 2:
            return None
        rest = parts[1]
    ids = (_strip_closers(part) for part in rest.strip().split(","))
    return tuple(i for i in ids if i)


def parse_annotations(text: str) -> list[Annotation]:
    """Every annotation of a test file, one per (kind, id), in line order."""
    found: list[Annotation] = []
    # semgrep splits on "\n" only, as its line numbers count.
    for number, line in enumerate(text.split("\n"), start=1):
        kinds = [kind for kind in KINDS if _marked(line, kind)]
        if not kinds or ":" not in line:
            continue
        ids = rule_ids(line)
        found.extend(Annotation(kind, i, number) for kind in kinds for i in ids or ())
    return found


def lines_of(notes: Iterable[Annotation], rule_id: str, kinds: Sequence[str]) -> set[int]:
    return {n.line for n in notes if n.rule_id == rule_id and n.kind in kinds}


def _hint(lines: Sequence[str], notes: Sequence[Annotation], rule_id: str, line: int) -> str:
    """Why a finding the author may have meant to annotate counts as unexpected."""
    if any(n.at == line and n.rule_id == rule_id for n in notes):
        return f"; the annotation on line {line} is about line {line + 1}, as semgrep reads it"
    above = lines[line - 2] if line >= 2 else ""
    if any(n.at == line - 1 for n in notes) or not _LOOKS_LIKE.search(above):
        return ""
    if _PRO_ONLY.search(above):
        return f"; line {line - 1} is an annotation for semgrep's pro engines, which semgrep --test does not read"
    return (
        f"; line {line - 1} looks like an annotation, but semgrep --test reads only"
        " `#`, `//`, `<!-- -->` and `(* *)` comments, in lower case, with at most one space"
    )


def _above(line: int) -> str:
    return f"on line {line - 1}" if line > 1 else "above it"


def judge_lines(
    name: str, text: str, notes: Sequence[Annotation], rule_id: str, flagged: set[int]
) -> list[LineVerdict]:
    """semgrep --test's comparison for one rule and one file, line by line: the file
    passes when every verdict does (expected lines == reported lines, todo lines aside)."""
    todo = lines_of(notes, rule_id, TODO)
    expected = lines_of(notes, rule_id, EXPECTING) - todo
    oks = lines_of(notes, rule_id, ("ok",)) - todo - expected
    reported = flagged - todo
    lines = text.split("\n")
    out = []
    for line in sorted(expected | oks | reported):
        if line in expected:
            ok = line in reported
            detail = "" if ok else f"{name}:{line}: expected a finding (`ruleid` {_above(line)}); there was none"
            out.append(LineVerdict("block", line, ok, detail))
        elif line in oks:
            ok = line not in reported
            detail = "" if ok else f"{name}:{line}: flagged, but annotated `ok` {_above(line)}"
            out.append(LineVerdict("allow", line, ok, detail))
        else:
            detail = (
                f"{name}:{line}: flagged, but no `ruleid: {rule_id}` is {_above(line)}"
                f" (semgrep --test: an incorrect line){_hint(lines, notes, rule_id, line)}"
            )
            out.append(LineVerdict("allow", line, False, detail))
    return out


def mismatch(
    name: str, notes: Sequence[Annotation], rule_id: str, fired: set[str]
) -> str | None:
    """semgrep --test's rule id mismatch for `rule_id` in one file, when the rules
    reported anything at all: the ids the file's annotations name must be the ids that
    fire in it. None when there is none."""
    named = {n.rule_id for n in notes if n.kind in NAMING}
    if not named or (rule_id in named) == (rule_id in fired):
        return None
    if rule_id in named:
        return f"{name}: annotations name {rule_id!r}, which flags nothing in this file"
    return f"{name}: {rule_id!r} flags this file (on `todook` lines only) but no annotation names it"


def unknown_ids(
    name: str, notes: Sequence[Annotation], known: set[str], any_reported: bool
) -> list[str]:
    """Annotations naming a rule id that the rule file does not define, where semgrep
    --test fails on them: a `ruleid` it can never see, or any name once something fired."""
    out = []
    for rule_id in sorted({n.rule_id for n in notes} - known):
        todo = lines_of(notes, rule_id, TODO)
        expecting = lines_of(notes, rule_id, EXPECTING) - todo
        naming = [n for n in notes if n.rule_id == rule_id and n.kind in NAMING]
        if expecting or (any_reported and naming):
            at = min(n.at for n in notes if n.rule_id == rule_id)
            out.append(f"{name}:{at}: an annotation names rule id {rule_id!r}, which the rule file does not define")
    return out
