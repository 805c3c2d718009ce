"""The prompt of the text proposers (`command`, `llm`): task, rules, memory, files, format.

Every section is bounded so a long run or a large file cannot push the prompt past a
model's context: files are cut at line boundaries with a note saying what is hidden,
attempts keep the last ten, inspirations keep a few diffs of bounded size.
"""

from __future__ import annotations

from collections.abc import Mapping

from ladder.agent.records import Attempt, ProposalContext

MAX_FILE_CHARS = 24_000  # one file's share of the prompt
MAX_FILES_CHARS = 80_000  # all files together
MAX_ATTEMPTS = 10
MAX_INSPIRATIONS = 3
MAX_DIFF_CHARS = 4_000
MAX_SECTION_CHARS = 12_000  # rules, skills

SEARCH_REPLACE_FORMAT = """\
## Answer format

First line: a one-line description of your change (it becomes the commit message).
Then one or more SEARCH/REPLACE blocks, each naming the file on the line before it:

path/to/file.py
<<<<<<< SEARCH
exact lines copied from the file
=======
the lines that replace them
>>>>>>> REPLACE

The SEARCH part must match the file exactly, whitespace included (its first occurrence
is replaced); keep it short but unique. To create a file, use an empty SEARCH part.
Make one focused change: a single idea whose effect the evaluation can measure.
"""

EDIT_IN_PLACE_FORMAT = """\
## How to answer

Edit the files in place in the current directory; do not commit. Make one focused
change: a single idea whose effect the evaluation can measure. Finish by printing a
one-line description of your change as the last line of your output.
"""


def build_prompt(
    ctx: ProposalContext,
    files: Mapping[str, str],
    target_desc: str,
    *,
    answer: str = SEARCH_REPLACE_FORMAT,
) -> str:
    """The whole prompt: task, rules, skills, attempts, inspirations, files, answer format."""
    sections = [
        _task(ctx, files, target_desc),
        _bounded(ctx.rules, MAX_SECTION_CHARS),
        _bounded(ctx.skills, MAX_SECTION_CHARS),
        _attempts(ctx.attempts),
        _inspirations(ctx.inspirations),
        _files(files),
        answer,
    ]
    return "\n".join(s.rstrip("\n") + "\n" for s in sections if s.strip())


def _task(ctx: ProposalContext, files: Mapping[str, str], target_desc: str) -> str:
    editable = ", ".join(f"`{g}`" for g in ctx.editable) or "(none)"
    return (
        "# Task\n\n"
        f"Improve {target_desc} of this program with one change (iteration {ctx.iteration}).\n"
        f"Only edit the editable files ({editable}); a change to any other file is refused\n"
        "before evaluation, and so is a change that breaks a rule below.\n"
        f"The editable files are shown below ({len(files)} file(s)).\n"
    )


def _bounded(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rsplit("\n", 1)[0] + f"\n[... {len(text) - limit} more characters cut]\n"


def _attempts(attempts: tuple[Attempt, ...]) -> str:
    if not attempts:
        return ""
    recent = attempts[-MAX_ATTEMPTS:]
    lines = ["## Recent attempts (oldest first; do not repeat a discarded idea)", ""]
    lines += [attempt_line(a) for a in recent]
    return "\n".join(lines) + "\n"


def attempt_line(a: Attempt) -> str:
    effect = "" if a.effect is None else f", effect {a.effect:+.6g}"
    reason = f": {_one_line(a.reason)}" if a.reason else ""
    return f"- #{a.iteration} {_one_line(a.description)} -> {a.status}{effect}{reason}"


def _inspirations(items: tuple[tuple[str, str], ...]) -> str:
    if not items:
        return ""
    lines = ["## Inspirations (changes that worked elsewhere in this search)", ""]
    for description, diff in items[:MAX_INSPIRATIONS]:
        lines += [f"### {_one_line(description)}", "", "```diff", _bounded(diff, MAX_DIFF_CHARS)]
        lines += ["```", ""]
    return "\n".join(lines)


def _files(files: Mapping[str, str]) -> str:
    if not files:
        return ""
    lines = ["## Editable files", ""]
    budget = MAX_FILES_CHARS
    for path, text in files.items():
        shown = _head(text, min(MAX_FILE_CHARS, budget))
        budget -= len(shown)
        lines += [path, "```", shown.rstrip("\n"), "```"]
        hidden = text.count("\n") - shown.count("\n")
        if len(shown) < len(text):
            lines.append(
                f"[truncated: {hidden} more line(s) not shown; do not SEARCH in the hidden part]"
            )
        lines.append("")
    return "\n".join(lines)


def _head(text: str, limit: int) -> str:
    """The longest prefix of whole lines within `limit` characters."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit, 0)]
    return cut[: cut.rfind("\n") + 1]


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 200 else flat[:197] + "..."
