"""`ladder guard claude|codex`: judge an agent's edit before it lands (level 5, inside the agent).

The agent's pre-tool hook pipes its event (JSON) to standard input. The guard computes
what the edit would make of each file (`ladder.agents.<agent>.pending_edits`), runs the
level-5 rules on that content in memory, with `protect` judging the change itself, and
answers in the agents' shared protocol: exit 0 and silence to allow; exit 2 with the
lessons on stderr to block (the model reads stderr and rewrites the edit).

It fails closed: an event it cannot read, a patch it cannot apply, a rule that crashes
all block with one clear line. An edit judged here counts as the agent's (`agent_only`
protect lessons apply): the guard is the agent's own surface.

Latency: most edits touch nothing an enforced rule looks at. A small index
(`.ladder/cache/guard-index.marshal`, keyed like the hook's on the lesson and config
files) answers those before the rule engines are imported; it is rewritten by every
full run.
"""

from __future__ import annotations

import json
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path
    from typing import Any, TextIO

    from ladder.agents.base import PendingEdit
    from ladder.findings import Finding
    from ladder.lesson import Lesson
    from ladder.project import Project

EXIT_ALLOW, EXIT_BLOCK = 0, 2
INDEX = os.path.join(".ladder", "cache", "guard-index.marshal")
_INDEX_VERSION = (1, sys.version_info[:2])


def run(agent: str, stdin: TextIO | None = None, after: bool = False) -> int:
    """Read one hook event, judge it, say so: 0 allow, 2 block (stderr says why). With
    `after` (the post-tool hook): check the call left the enforcement intact."""
    from ladder.agents.base import SwitchesOff

    try:
        raw = (stdin or sys.stdin).read()
        return _after(agent, raw) if after else _judge(agent, raw)
    except SwitchesOff as exc:
        print(f"ladder guard: this command is blocked: {exc}. The lessons' enforcement is "
              "not the agent's to switch off: do the work without it, and if a hook or "
              "lesson is wrong, stop and ask the user.", file=sys.stderr)
        return EXIT_BLOCK
    except Exception as exc:  # fail closed: a guard that cannot decide blocks
        _refuse(_reason(exc))
        return EXIT_BLOCK


def _reason(exc: Exception) -> str:
    from ladder.agents.base import GuardRefusal
    from ladder.errors import LadderError

    if isinstance(exc, LadderError):
        return exc.line().removeprefix("ladder: error: ")
    if isinstance(exc, GuardRefusal):
        return str(exc)
    return f"internal error: {type(exc).__name__}: {exc} (a bug in ladder)"


def _refuse(reason: str) -> None:
    print(
        f"ladder guard: cannot check this edit, so it is blocked: {reason}. "
        "If ladder itself is broken, tell the user; do not try to work around the guard.",
        file=sys.stderr,
    )


def _judge(agent: str, raw: str) -> int:
    from ladder.agents.base import SwitchesOff, holds_enforcement
    from ladder.agents.registry import GUARDED

    event = _event(agent, raw)
    root = _root(event)
    if root is None:
        return EXIT_ALLOW  # not a repository using ladder: nothing is enforced here
    edits = GUARDED[agent].pending_edits(event, root)
    held = next((e for e in edits for p in (e.path, e.old_path) if p and holds_enforcement(p)), None)
    if held is not None:
        raise SwitchesOff(f"it writes {held.path}, where the enforcement lives")
    if not edits or _index_says_nothing(root, edits):
        return EXIT_ALLOW
    return _full_check(root, edits)


def _event(agent: str, raw: str) -> dict[str, Any]:
    from ladder.agents.base import GuardRefusal
    from ladder.agents.registry import GUARDED

    if agent not in GUARDED:
        raise GuardRefusal(f"unknown agent {agent!r} (use one of: {', '.join(GUARDED)})")
    try:
        event = json.loads(raw)
    except ValueError as exc:
        raise GuardRefusal(f"the hook event on stdin is not JSON ({exc})") from None
    if not isinstance(event, dict):
        raise GuardRefusal("the hook event on stdin is not a JSON object")
    return event


def _after(agent: str, raw: str) -> int:
    """The post-tool check (ladder.agents.intact): exit 2 with what changed, else 0."""
    from ladder.agents import intact
    from ladder.project import Project
    from ladder.rules.registry import TEMPLATES, lesson_where
    from ladder.store import load_lessons

    root = _root(_event(agent, raw))
    if root is None:
        return EXIT_ALLOW
    globs: list[str] = []
    for lesson in enforced(load_lessons(Project(root))):
        assert lesson.rule is not None
        if lesson.rule.template == "protect":
            globs.extend(TEMPLATES["protect"].validate(lesson.rule.args, lesson_where(lesson))["paths"])
    violations = intact.check(root, globs)
    if not violations:
        return EXIT_ALLOW
    print(intact.message(violations), file=sys.stderr)
    return EXIT_BLOCK


def _root(event: dict[str, Any]) -> Path | None:
    """The repository the agent works in: its project dir, else the event's cwd."""
    from pathlib import Path

    from ladder.errors import LadderError

    # ladder.git.find_root, without importing subprocess (~3 ms) on the fast path.
    start = os.path.realpath(os.environ.get("CLAUDE_PROJECT_DIR") or event.get("cwd") or os.getcwd())
    here = start
    while not os.path.exists(os.path.join(here, ".git")):
        parent = os.path.dirname(here)
        if parent == here:
            raise LadderError("not inside a git repository", where=start,
                              todo="run the agent from your repository")
        here = parent
    root = Path(here)
    return root if (root / ".ladder" / "lessons").is_dir() else None


# --- the fast path -------------------------------------------------------------------


def _index_says_nothing(root: Path, edits: Sequence[PendingEdit]) -> bool:
    """True only when a current index proves no level-5 rule can see any edit."""
    import marshal

    from ladder.hooks.fast import fingerprint

    try:
        with open(root / INDEX, "rb") as fh:
            index = marshal.load(fh)
        if index.get("version") != _INDEX_VERSION or index.get("files") != fingerprint(str(root)):
            return False
        return not any(_sees(entry, e, index["exclude"]) for entry in index["lessons"] for e in edits)
    except (OSError, ValueError, KeyError, TypeError, EOFError, AttributeError):
        return False


def _sees(entry: dict[str, Any], edit: PendingEdit, exclude: Sequence[str]) -> bool:
    from ladder.globs import matches

    if entry["protect"] is not None:
        return any(matches(p, entry["protect"]) for p in (edit.path, edit.old_path) if p)
    if edit.content is None:
        return False  # content rules need the content: a deletion, a shell write
    suffixes = entry["suffixes"]
    if suffixes is not None and not edit.path.endswith(tuple(suffixes)):
        return False
    return matches(edit.path, entry["paths"]) and not matches(edit.path, exclude)


def _write_index(root: Path, files: list[list[object]], lessons: Sequence[Lesson], exclude: Sequence[str]) -> None:
    import marshal

    from ladder.hooks.fast import ENGINE_SUFFIXES
    from ladder.rules.registry import TEMPLATES, lesson_where

    entries: list[dict[str, object]] = []
    for lesson in lessons:
        assert lesson.rule is not None
        template = TEMPLATES.get(lesson.rule.template)
        if template is None:
            return  # an unknown template: the full check reports it every time
        protect = None
        if template.engine == "diff":
            protect = list(template.validate(lesson.rule.args, lesson_where(lesson))["paths"])
        suffixes = ENGINE_SUFFIXES.get(template.engine)
        if template.engine == "semgrep":
            suffixes = None  # any file: the fast path does not narrow semgrep rules here
        entries.append({"id": lesson.id, "paths": list(lesson.paths), "protect": protect,
                        "suffixes": list(suffixes) if isinstance(suffixes, tuple) else None})
    payload = {"version": _INDEX_VERSION, "files": files, "lessons": entries, "exclude": list(exclude)}
    path = root / INDEX
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            marshal.dump(payload, fh)
        os.replace(tmp, path)
    except (OSError, ValueError):
        pass  # advisory: without it every edit takes the full path


# --- the full check ------------------------------------------------------------------


def enforced(lessons: Sequence[Lesson]) -> list[Lesson]:
    """The lessons the guard enforces: active, at level 5, with a rule."""
    return [x for x in lessons if x.status == "active" and x.level == 5 and x.rule is not None]


def check_edits(project: Project, lessons: Sequence[Lesson], edits: Sequence[PendingEdit]) -> list[Finding]:
    """Level-5 findings of `edits`, judged as the agent's change (`protect` included)."""
    from ladder.git import Change
    from ladder.rules.base import CheckRequest
    from ladder.rules.runner import check

    contents = {e.path: e.content for e in edits if e.content is not None}
    changes = [Change(e.status, e.path, e.old_path) for e in edits]
    request = CheckRequest(
        root=project.root, files=list(contents), changes=changes, contents=contents, agent=True,
        max_parse_bytes=project.config.max_parse_bytes, semgrep_timeout=project.config.semgrep_timeout,
    )
    return check(request, lessons, exclude=project.config.exclude)


def _full_check(root: Path, edits: Sequence[PendingEdit]) -> int:
    from ladder import firelog
    from ladder.hooks.fast import fingerprint
    from ladder.project import Project
    from ladder.store import load_lessons

    project = Project(root)
    files = fingerprint(str(root))
    lessons = enforced(load_lessons(project))
    _write_index(root, files, lessons, project.config.exclude)
    findings = check_edits(project, lessons, edits) if lessons else []
    if not findings:
        return EXIT_ALLOW
    firelog.record(project, findings, "guard")
    print(block_message(findings, {x.id: x for x in lessons}), file=sys.stderr)
    return EXIT_BLOCK


def block_message(findings: Sequence[Finding], lessons: dict[str, Lesson]) -> str:
    """What the model reads: each finding with its lesson's title and why, then what to do."""
    ids = sorted({f.lesson for f in findings})
    lines = [
        f"ladder guard: this edit is blocked: it breaks {len(ids)} lesson(s) enforced at level 5 "
        "(the git hook would refuse the commit too).",
        "",
    ]
    protected = False
    for f in findings:
        lesson = lessons.get(f.lesson)
        where = f.path if f.rule == "protect" else f.location()
        lines.append(f"{where}: [{f.lesson}] {f.message}")
        if lesson is not None:
            if lesson.title not in f.message:  # many rules already say it in their message
                lines.append(f"    lesson: {lesson.title}")
            lines.append(f"    why: {' '.join(lesson.why.split())}")
        protected = protected or f.rule == "protect"
    lines.append("")
    if protected:
        lines.append("To do: leave protected files unchanged. If the change is truly needed, "
                     "stop and ask the user to make it.")
    if any(f.rule != "protect" for f in findings):
        lines.append("To do: rewrite the edit so the code follows the lesson (`ladder show ID` "
                     "explains it); do not silence the rule.")
    return "\n".join(lines)
