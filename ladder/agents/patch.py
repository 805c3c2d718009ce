"""Codex's `apply_patch` format: parse a patch and compute the files it would write.

    *** Begin Patch
    *** Add File: new.py          every following line starts with `+`
    *** Delete File: old.py
    *** Update File: model.py     optionally followed by `*** Move to: other.py`
    @@ def generate(x):           a hunk; its header line is sought first
     context line
    -removed line
    +added line
    *** End of File               optional: the hunk ends at the end of the file
    *** End Patch

Hunks are located the way Codex locates them: the old lines are sought from where the
previous hunk ended, exactly, then ignoring trailing whitespace, then ignoring
surrounding whitespace; the result always ends with a newline. A patch that cannot be
parsed or located raises GuardRefusal (Codex would not apply it either; the guard fails
closed rather than guess).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from ladder.agents.base import GuardRefusal, PendingEdit
from ladder.agents.edits import read_current, repo_path

BEGIN, END = "*** Begin Patch", "*** End Patch"
ADD, DELETE, UPDATE, MOVE = "*** Add File: ", "*** Delete File: ", "*** Update File: ", "*** Move to: "
EOF_MARK = "*** End of File"


class Hunk:
    """One `@@` hunk; mutable while the patch is parsed (plain class: no dataclasses import)."""

    def __init__(self, context: str | None = None) -> None:
        self.context = context  # the `@@ ...` header, sought before the old lines
        self.old: list[str] = []
        self.new: list[str] = []
        self.at_eof = False


class FileOp:
    """One file section of a patch."""

    def __init__(self, kind: str, path: str) -> None:
        self.kind = kind  # add | delete | update
        self.path = path
        self.move_to = ""
        self.added: list[str] = []  # an Add File's lines
        self.hunks: list[Hunk] = []


def extract(text: str) -> str | None:
    """The `*** Begin Patch ... *** End Patch` block inside `text` (a shell heredoc), if any."""
    start = text.find(BEGIN)
    if start < 0:
        return None
    end = text.find(END, start)
    return text[start : end + len(END)] if end >= 0 else text[start:]


def parse(patch: str) -> list[FileOp]:
    lines = patch.strip().splitlines()
    if not lines or lines[0].strip() != BEGIN:
        raise GuardRefusal(f"the patch does not start with `{BEGIN}`")
    if lines[-1].strip() != END:
        raise GuardRefusal(f"the patch does not end with `{END}`")
    ops: list[FileOp] = []
    for line in lines[1:-1]:
        if line.startswith((ADD, DELETE, UPDATE)):
            kind = "add" if line.startswith(ADD) else "delete" if line.startswith(DELETE) else "update"
            ops.append(FileOp(kind, line.split(": ", 1)[1].strip()))
        elif not ops:
            raise GuardRefusal(f"unexpected line before the first file header: {line!r}")
        else:
            _body_line(ops[-1], line)
    if not ops:
        raise GuardRefusal("the patch changes no file")
    return ops


def _body_line(op: FileOp, line: str) -> None:
    if op.kind == "add":
        if not line.startswith("+"):
            raise GuardRefusal(f"{op.path}: a line of an added file must start with '+': {line!r}")
        op.added.append(line[1:])
    elif op.kind == "delete":
        if line.strip():
            raise GuardRefusal(f"{op.path}: unexpected line after `Delete File`: {line!r}")
    elif line.startswith(MOVE) and not op.hunks:
        op.move_to = line[len(MOVE) :].strip()
    elif line.startswith("@@"):
        header = line[2:].strip()
        op.hunks.append(Hunk(context=header or None))
    elif line.strip() == EOF_MARK:
        _hunk(op).at_eof = True
    else:
        hunk = _hunk(op)
        mark, rest = (line[:1], line[1:]) if line else (" ", "")
        if mark not in " +-":
            raise GuardRefusal(f"{op.path}: a hunk line must start with ' ', '+' or '-': {line!r}")
        if mark != "+":
            hunk.old.append(rest)
        if mark != "-":
            hunk.new.append(rest)


def _hunk(op: FileOp) -> Hunk:
    if not op.hunks:
        op.hunks.append(Hunk())  # Codex accepts a first hunk without its `@@` line
    return op.hunks[-1]


# Codex's matching passes, strictest first.
_PASSES: tuple[Callable[[str], str], ...] = (lambda s: s, str.rstrip, str.strip)


def _seek(lines: Sequence[str], wanted: Sequence[str], start: int, at_eof: bool) -> int | None:
    if not wanted:
        return start
    if len(wanted) > len(lines):
        return None
    last = len(lines) - len(wanted)
    first = last if at_eof and last >= start else start
    for norm in _PASSES:
        target = [norm(w) for w in wanted]
        for i in range(first, last + 1):
            if [norm(x) for x in lines[i : i + len(wanted)]] == target:
                return i
    return None


def apply(text: str, hunks: Sequence[Hunk], path: str) -> str:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    index = 0
    for hunk in hunks:
        if hunk.context is not None:
            found = _seek(lines, [hunk.context], index, False)
            if found is None:
                raise GuardRefusal(f"{path}: cannot find the hunk header {hunk.context!r}")
            index = found + 1
        old, new = list(hunk.old), list(hunk.new)
        if not old:
            at = len(lines)  # pure addition: at the end of the file
        else:
            found = _seek(lines, old, index, hunk.at_eof)
            if found is None and old[-1] == "":
                old, new = old[:-1], new[:-1] if new and new[-1] == "" else new
                found = _seek(lines, old, index, hunk.at_eof)
            if found is None:
                raise GuardRefusal(f"{path}: the patch's old lines are not in the file")
            at = found
        lines[at : at + len(old)] = new
        index = at + len(new)
    return "\n".join([*lines, ""])


def pending_edits(patch: str, root: Path, cwd: str) -> list[PendingEdit]:
    out: list[PendingEdit] = []
    for op in parse(patch):
        rel = repo_path(op.path, root, cwd)
        target = repo_path(op.move_to, root, cwd) if op.move_to else rel
        if op.kind == "add":
            if rel is not None:
                content = "\n".join([*op.added, ""])
                out.append(PendingEdit(rel, "M" if (root / rel).exists() else "A", content))
            continue
        if op.kind == "delete":
            if rel is not None:
                out.append(PendingEdit(rel, "D"))
            continue
        current = read_current(root, rel) if rel is not None else None
        if rel is not None and current is None:
            raise GuardRefusal(f"{op.path}: `Update File` of a file that does not exist")
        new_text = apply(current or "", op.hunks, op.path) if rel is not None else None
        out += _update(rel, target, new_text)
    return out


def _update(rel: str | None, target: str | None, new_text: str | None) -> list[PendingEdit]:
    if rel is None:
        # Moved from outside the repository into it: the new file is what we can judge.
        return [PendingEdit(target, "A", None)] if target else []
    if target is None:
        return [PendingEdit(rel, "D")]  # moved out of the repository
    if target != rel:
        return [PendingEdit(target, "R", new_text, old_path=rel)]
    return [PendingEdit(rel, "M", new_text)]
