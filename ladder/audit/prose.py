"""Where prose rules live, and the units (list items, sentences) a document splits into.

Agent instructions are not only at the root: pydantic-ai has fourteen nested AGENTS.md
files (issue 13) and skills under `.claude/skills/*/SKILL.md`. They are found at any
depth, skipping what is not the project's own (`.git`, `node_modules`, virtual
environments, vendored code). A file reached twice (CLAUDE.md as a symlink to AGENTS.md)
is read once, under the path it really has.

Splitting is kept apart from deciding: `units` yields every candidate with its raw
Markdown (the list marker, the heading's `#`), and `ladder.audit.classify` decides which
are rules.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

# Read by coding agents wherever they are in the tree: a rule there is level 2.
AGENT_NAMES = frozenset({"AGENTS.md", "CLAUDE.md", "GEMINI.md", "SKILL.md"})
# Read by coding agents at a fixed place.
AGENT_FILES = (".cursorrules", ".windsurfrules", ".github/copilot-instructions.md")
AGENT_DIRS = ((".cursor/rules", ".mdc"), (".github/instructions", ".instructions.md"))
# Read by people: a rule there is a note (level 1).
HUMAN_FILES = ("CONTRIBUTING.md", "CONTRIBUTING", ".github/CONTRIBUTING.md", "docs/CONTRIBUTING.md")
# Not the project's own instructions: dependencies, environments, build output, ladder's own.
SKIP_DIRS = frozenset({
    ".git", ".hg", ".svn", "node_modules", ".venv", "venv", ".tox", ".nox", "__pycache__",
    "site-packages", "vendor", "vendored", "third_party", "third-party", "build", "dist",
    ".mypy_cache", ".ruff_cache", ".pytest_cache", ".ladder", ".eggs",
})

BEGIN_MARK, END_MARK = "<!-- ladder:begin", "<!-- ladder:end"

_ITEM = re.compile(r"^(\s*)(?:[-*+]|\d{1,3}[.)])\s+(.*)$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`*_\"'(\[])")
_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^#{1,6}(\s|$)")
_QUOTE = re.compile(r"^\s*>\s?(\[!\w+\]\s*)?")


@dataclass(frozen=True)
class Unit:
    """One candidate rule: a list item (marker kept), a sentence, a heading, a table row."""

    line: int  # 1-based, where it starts
    raw: str  # the Markdown, wrapped lines joined by a space


def prose_files(root: Path, agent_files: Sequence[str] = (), skip: Sequence[str] = ()) -> list[tuple[str, int]]:
    """(repo-relative path, level) of every prose file, agent files first, each once."""
    base = root.resolve()
    names = [*AGENT_FILES, *agent_files, *_agent_dirs(root), *_walk(root)]
    found: dict[str, int] = {}
    skipped = {(root / name).resolve() for name in skip}
    for level, group in ((2, names), (1, HUMAN_FILES)):
        for name in group:
            rel = _real(root, base, name)
            if rel and (base / rel) not in skipped:
                found.setdefault(rel, level)
    return list(found.items())


def _real(root: Path, base: Path, name: str) -> str:
    """The path a file really has inside the repository ("" if absent or outside)."""
    path = root / name
    if not path.is_file():
        return ""
    real = path.resolve()
    try:
        return real.relative_to(base).as_posix()
    except ValueError:
        return ""  # a symlink out of the repository is not the project's


def _agent_dirs(root: Path) -> list[str]:
    out = []
    for folder, suffix in AGENT_DIRS:
        if (root / folder).is_dir():
            out += sorted(p.relative_to(root).as_posix() for p in (root / folder).rglob(f"*{suffix}"))
    return out


def _walk(root: Path) -> list[str]:
    """AGENTS.md, CLAUDE.md, GEMINI.md, SKILL.md at any depth, shallow ones first.

    Symlinked directories are not followed (`.claude/skills/x -> ../../.agents/skills/x`
    would read the same skill twice, or leave the repository)."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info"))
        rel = Path(folder).relative_to(root)
        found += [(rel / f).as_posix() for f in files if f in AGENT_NAMES]
    return sorted(found, key=lambda p: (p.count("/"), p))


# --- units ---------------------------------------------------------------------------


def units(text: str) -> list[Unit]:
    """Every candidate of a Markdown or plain-text document, in order.

    Code fences, HTML comments, front matter and ladder's own managed block hold no
    rules and are skipped; a paragraph is split into sentences, a list item (with its
    wrapped lines) is one unit, a block quote is read as the text it quotes.
    """
    out: list[Unit] = []
    for parts, is_item in _blocks(text):
        if is_item:
            out.append(Unit(parts[0][0], " ".join(t for _, t in parts)))
        else:
            out += [Unit(line, sentence) for line, sentence in _sentences(parts)]
    return out


def _sentences(parts: list[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """(line it starts on, sentence) of a paragraph wrapped over several lines."""
    if _HEADING.match(parts[0][1]) or parts[0][1].startswith("|"):
        yield parts[0]  # headings and table rows are one line each
        return
    joined, starts = "", []
    for line, text in parts:
        starts.append((len(joined), line))
        joined += text + " "
    begin = 0
    for match in [*_SENTENCE_END.finditer(joined), None]:
        end = match.start() if match else len(joined)
        line = max(ln for offset, ln in starts if offset <= begin)
        if joined[begin:end].strip():
            yield line, joined[begin:end].strip()
        begin = match.end() if match else end


def _blocks(text: str) -> Iterator[tuple[list[tuple[int, str]], bool]]:
    """The (line, text) parts of each paragraph, list item, heading or table row, and
    whether it is a list item (its marker kept in the text)."""
    parts: list[tuple[int, str]] = []
    is_item = in_fence = in_managed = in_comment = False
    lines = text.splitlines()
    first = _front_matter_end(lines)
    for number, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        if number <= first:
            continue
        if stripped.startswith(BEGIN_MARK) or in_managed:
            in_managed = not stripped.startswith(END_MARK)
            yield from _flush(parts, is_item)
            parts = []
            continue
        if _FENCE.match(raw) or in_fence:
            in_fence = in_fence != bool(_FENCE.match(raw))
            yield from _flush(parts, is_item)
            parts = []
            continue
        if in_comment or stripped.startswith("<!--"):
            in_comment = "-->" not in stripped
            continue
        raw = _QUOTE.sub("", raw) if stripped.startswith(">") else raw
        stripped = raw.strip()
        if not stripped or stripped.startswith(("---", "***", "___")):
            yield from _flush(parts, is_item)
            parts = []
            continue
        if _HEADING.match(stripped) or stripped.startswith("|"):
            yield from _flush(parts, is_item)
            yield [(number, stripped)], False
            parts = []
            continue
        if _ITEM.match(raw):
            yield from _flush(parts, is_item)
            parts, is_item = [(number, stripped)], True
            continue
        if not parts:
            is_item = False
        parts.append((number, stripped))  # a wrapped line continues the paragraph or item
    yield from _flush(parts, is_item)


def _flush(parts: list[tuple[int, str]], is_item: bool) -> Iterator[tuple[list[tuple[int, str]], bool]]:
    if parts:
        yield parts, is_item


def _front_matter_end(lines: list[str]) -> int:
    """The line number closing a leading `---` front matter block (.mdc, SKILL.md), or 0."""
    if not lines or lines[0].strip() != "---":
        return 0
    for number, raw in enumerate(lines[1:], start=2):
        if raw.strip() == "---":
            return number
    return 0
