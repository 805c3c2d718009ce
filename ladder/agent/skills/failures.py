"""Failure lessons: the same failure twice becomes a lesson, compiled as far as the gates allow.

A failure is a crash, a NaN, a timeout or a guard regression (a crash and a NaN are one
family). It is the same failure when the change is the same: a numeric constant moved
one way (`LR` up), a statement deleted from a function (deletion.py: found from the text,
whoever proposed it), or the same set of (symbol, change) of any other change. The second
time, a level-1 lesson is written whose `source` names the run and both iterations, with
a structural rule and cases from the failing diffs wherever one fits (synth.py): a
`require-call` or a forbidden deletion for a deleted statement; a `bound` (`LR < 0.3`)
when every value that failed lies beyond every value that passed -- for a module
constant the `bound` template, inside a function a semgrep rule scoped to it. `teach`
then walks it up through the real gates (`ladder.levels.gate_reasons`), as `ladder
promote --max` would, stopping at the configured limit or the first gate that refuses,
and records both. A failure no rule fits stays prose, one lesson per region
(`seen_again`), so prose lessons do not pile up.

A failure the lesson did not block -- a value on its allowed side that failed all the
same -- tightens the bound (`revise`): the lesson keeps its id and level, its rule
moves to the new threshold with the new failing line as one more block case, and its
history says why; when the gates of its level refuse the revision, it stays as it was.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ladder.agent.records import Verdict
from ladder.agent.skills import synth
from ladder.agent.skills.deletion import Deletion
from ladder.agent.skills.extract import Move
from ladder.errors import LadderError
from ladder.lesson import MAX_LEVEL, Case, Lesson, LevelChange, Rule
from ladder.project import Project

LEARNED_TAG = "learned"
BOUND_TAG = "bound"  # a lesson that bounds a constant (module-level or in a function)
SOURCE_PREFIX = "learned by run "
_SOURCE = re.compile(r"^learned by run (\S+?)(?:,| from |$)")
_BOUND_TITLE = re.compile(r"^(\S+?)(?: in (\S+?)\(\))? at or (above|below) (\S+) ")
_SEED = re.compile(r"^seed \d+: ")
_OWN = re.compile(r"(exit code -?\d+|killed by signal [A-Z0-9]+|timeout after [\d.]+ s)(?=$|:)")
_NAN = re.compile(r"\b(nan|inf|infinity|non-finite)\b", re.IGNORECASE)

KIND_WORDS = {
    "crash": "crashes",
    "nan": "diverges (NaN)",
    "timeout": "times out",
}


def taught_by(lesson: Lesson) -> str | None:
    """The run that taught `lesson` (its `source` names it), or None."""
    m = _SOURCE.match(lesson.source)
    return m.group(1) if m else None


def source_text(run: str, seen: Sequence[tuple[str, int]]) -> str:
    """`learned by run R from iterations 3, 7` (`OTHER#3` for another run's iteration)."""
    its = ", ".join(str(i) if r in ("", run) else f"{r}#{i}" for r, i in seen)
    return f"{SOURCE_PREFIX}{run} from iterations {its}"


def classify(verdict: Verdict) -> str | None:
    """The failure kind of a decided candidate: crash, nan, timeout, guard:NAME or None."""
    if verdict.status == "crash":
        text = " ".join(verdict.reasons)
        if "timeout" in text.lower() or "timed out" in text.lower():
            return "timeout"
        if _NAN.search(text):
            return "nan"
        return "crash"
    if verdict.status == "discard":
        guards = verdict.stats.get("guards")
        if isinstance(guards, Mapping):
            bad = sorted(n for n, g in guards.items() if isinstance(g, Mapping) and g.get("ok") is False)
            if bad:
                return f"guard:{bad[0]}"
    return None


def family(kind: str) -> str:
    """The kinds that count as one failure: a crash and a NaN both mean the program gave
    no usable result (the same deletion crashes with a shape error on one parent and
    diverges on another); a timeout or a guard regression is another story."""
    return "crash" if kind in ("crash", "nan") else kind


def common_kind(seen: Sequence[Seen], kind: str) -> str:
    """The kind all of `seen` share (`kind` when they do not say), else its family."""
    kinds = {s.kind or kind for s in seen}
    return kinds.pop() if len(kinds) == 1 else family(kind)


def kind_words(kind: str) -> str:
    if kind.startswith("guard:"):
        return f"regresses guard {kind.removeprefix('guard:')}"
    return KIND_WORDS.get(kind, kind)


# --- bounds ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bound:
    op: str  # "<" (values at or above `value` failed) or ">" (at or below)
    value: float | int


GAP_SHARE = 0.25  # how far into the gap between the last value that ran and the first that failed


def bound_for(direction: str, failing: Sequence[float], passing: Sequence[float],
              integer: bool) -> Bound | None:
    """The roundest threshold separating every failing value from every passing one
    (None when they are not separable).

    Values between the last that ran and the first that failed are unknown. A crash
    costs a whole evaluation, a blocked value that would have run costs one proposal:
    so the threshold sits just past the last value that ran, at the roundest number
    within the first GAP_SHARE of the gap, and treats the rest of the gap as failing.
    """
    if not failing:
        return None
    if direction == "up":
        edge = min(failing)
        if any(p >= edge for p in passing):
            return None
        value = _round_up(max(passing), edge, integer) if passing else edge
        return Bound("<", int(value) if integer and value == int(value) else value)
    edge = max(failing)
    if any(p <= edge for p in passing):
        return None
    value = _round_down(min(passing), edge, integer) if passing else edge
    return Bound(">", int(value) if integer and value == int(value) else value)


def _clean(x: float) -> float:
    return float(f"{x:.12g}")


def _steps(span: float, integer: bool) -> list[float]:
    top = math.floor(math.log10(abs(span))) if span else 0
    return [10.0 ** (top - d) for d in range(0, 10) if not integer or top - d >= 0]


def _round_up(ran: float, failed: float, integer: bool) -> float:
    """The roundest t with ran < t <= ran + GAP_SHARE * (failed - ran) (an integer one
    step past `ran` at least), the coarsest step first and, at a step, the least t."""
    limit = ran + GAP_SHARE * (failed - ran)
    limit = max(limit, ran + 1) if integer else limit
    for step in _steps(max(abs(ran), abs(failed)), integer):
        t = _clean((math.floor(ran / step) + 1) * step)
        if ran < t <= limit:
            return t
    return limit


def _round_down(ran: float, failed: float, integer: bool) -> float:
    """The roundest t with ran - GAP_SHARE * (ran - failed) <= t < ran."""
    limit = ran - GAP_SHARE * (ran - failed)
    limit = min(limit, ran - 1) if integer else limit
    for step in _steps(max(abs(ran), abs(failed)), integer):
        t = _clean((math.ceil(ran / step) - 1) * step)
        if limit <= t < ran:
            return t
    return limit


def _fmt(value: object) -> str:
    return repr(value) if isinstance(value, float) else str(value)


# --- the lesson ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    """One failure of a pattern, as the run state keeps it."""

    iteration: int
    description: str
    reason: str
    line: str = ""  # the failing statement (a block case)
    parent_line: str = ""  # the parent's statement (an allow case)
    value: float | None = None
    run: str = ""  # the run that saw it
    evaluations: int = 1  # the candidate evaluations the failing decision cost
    kind: str = ""  # crash, nan, timeout, guard:NAME ("" in an older learner.json)


def draft_lesson(
    lesson_id: str, run: str, kind: str, seen: Sequence[Seen], move: Move | None,
    passing: Sequence[float],
) -> Lesson:
    """The level-1 lesson for a failure pattern seen twice (with a bound rule when one fits)."""
    iterations = [s.iteration if s.run in ("", run) else f"{s.run}#{s.iteration}" for s in seen]
    # Never the proposal's words: a lesson is read by every later agent (AGENTS.md, the
    # prompt), and a proposer's description is text ladder does not trust (an
    # instruction planted there would be obeyed). Iterations and ladder's own reasons
    # say where to look (`ladder agent explain RUN IT`).
    examples = "; ".join(f"{_cite(i)} ({_own_words(s.reason)})" for i, s in zip(iterations, seen, strict=True))
    bound = None
    if move is not None and (move.boundable or move.scoped):
        failing = [s.value for s in seen if s.value is not None]
        bound = bound_for(move.direction, failing, passing, move.integer)
    words = kind_words(kind)
    if move is not None and bound is not None:
        side = "at or above" if bound.op == "<" else "at or below"
        scope = f" in {move.function}()" if move.scoped else ""
        title = f"{move.symbol}{scope} {side} {_fmt(bound.value)} {words}"
        message = f"{title} (learned by run {run}, iterations {', '.join(map(str, iterations))})"
        block = tuple(_cases(seen, "line", move, "a value that failed"))
        allow = tuple(_cases(seen, "parent_line", move, "the parent's value, which passed"))
        rule: Rule | None = Rule(
            "bound", {"name": move.symbol, "op": bound.op, "value": bound.value, "message": message},
            block=block, allow=allow,
        ) if move.boundable else synth.scoped_bound_rule(
            move.symbol, move.function, bound.op, bound.value, lesson_id, message, block, allow)
    elif move is not None:
        title = f"Moving {move.symbol} {move.direction} {words}"
        rule = None
    else:
        title = f"The change of iteration {iterations[-1]} {words}"
        rule = None
    why = (f"Seen twice by `ladder agent run` {run}: {examples}."
           + (f" Values that passed: {', '.join(_fmt(v) for v in sorted(set(passing)))}."
              if passing and rule is not None else ""))
    paths = (move.file,) if move is not None and move.file else ("**",)
    return Lesson(
        id=lesson_id, title=title, why=why, level=1,
        tags=(LEARNED_TAG, "agent", kind.split(":")[0], *((BOUND_TAG,) if bound is not None else ())),
        paths=paths, source=source_text(run, [(s.run, s.iteration) for s in seen]), rule=rule,
    )


def draft_deletion(lesson_id: str, run: str, kind: str, seen: Sequence[Seen], d: Deletion) -> Lesson:
    """The level-1 lesson for a statement deletion that failed twice, with the rule that
    refuses it again (`synth.deletion_rule`): its block case is the failing diff."""
    iterations = _iterations(run, seen)
    title = synth.deletion_title(d, kind_words(kind))
    message = f"{title} (learned by run {run}, iterations {', '.join(iterations)})"
    examples = "; ".join(f"{_cite(i)} ({_own_words(s.reason)})" for i, s in zip(iterations, seen, strict=True))
    return Lesson(
        id=lesson_id, title=title,
        why=f"Seen twice by `ladder agent run` {run}: {examples}. The function ran with the "
            f"statement and failed without it.",
        level=1, tags=(LEARNED_TAG, "agent", kind.split(":")[0]), paths=(d.file,),
        source=source_text(run, [(s.run, s.iteration) for s in seen]),
        rule=synth.deletion_rule(d, lesson_id, message),
    )


def id_words(lesson: Lesson, deletion: Deletion | None) -> str:
    """What a taught lesson's id says: its rule in a few words, else its title."""
    rule = lesson.rule
    if deletion is not None and rule is not None:
        return synth.deletion_words(deletion)
    bound = _BOUND_TITLE.match(lesson.title) if rule is not None and BOUND_TAG in lesson.tags else None
    if bound is not None:  # `LR at or above 0.13 diverges`: the rule is `LR below 0.13`
        name, function, side, value = bound.groups()
        scope = f" in {function}" if function else ""
        return f"{name} {'below' if side == 'above' else 'above'} {value}{scope}"
    return lesson.title


def seen_again(lesson: Lesson, run: str, kind: str, seen: Seen, when: str) -> Lesson:
    """A prose lesson of the same region, failing again: one more example in its `why`
    and its history, instead of one more lesson (issue 14: prose lessons piled up, and
    each raised the prose share `ladder audit --max-prose` fails on)."""
    where = seen.iteration if seen.run in ("", run) else f"{seen.run}#{seen.iteration}"
    why = f"seen again by run {run} at iteration {where} ({kind_words(kind)}: {_own_words(seen.reason)})"
    return dataclasses.replace(
        lesson, why=f"{lesson.why} Then {why}.",
        history=(*lesson.history, LevelChange(lesson.level, lesson.level, when, why)),
    )


def _cite(iteration: object) -> str:
    """`#3` for an iteration of the teaching run, `run1#3` for another run's."""
    text = str(iteration)
    return text if "#" in text else f"#{text}"


def _iterations(run: str, seen: Sequence[Seen]) -> list[str]:
    return [str(s.iteration) if s.run in ("", run) else f"{s.run}#{s.iteration}" for s in seen]


MAX_CASES = 6  # the newest failing lines a revised bound keeps as block cases


def _own_words(reason: str) -> str:
    """The first words of a verdict's reason: ladder's, up to the first quote, colon or
    line end (what follows may be the candidate's output or a name it chose). After the
    `seed N: ` a crash starts with, only what ladder itself words is said: an exit code,
    a signal, a timeout, a metric that was not finite (never the metric's name: the
    candidate chose it)."""
    rest = _SEED.sub("", reason)
    known = _OWN.match(rest)
    if known:
        return known.group(0)
    if rest.startswith("metric ") and _NAN.search(rest):
        return "a metric was not finite"
    head = re.split(r"[:'\"\n`]", reason, maxsplit=1)[0].strip()
    return "".join(ch for ch in head if ch.isprintable())[:60] or "failed"


def tightened(lesson: Lesson, run: str, kind: str, seen: Sequence[Seen], move: Move,
              passing: Sequence[float], when: str) -> Lesson | None:
    """`lesson` with its bound moved to block every value in `seen` (None when it is not
    a bound, already blocks them, or no threshold separates them from `passing`)."""
    rule = lesson.rule
    if rule is None or rule.template != "bound" or not move.boundable:
        return None
    failing = [s.value for s in seen if s.value is not None]
    bound = bound_for(move.direction, failing, passing, move.integer)
    old = rule.args.get("value")
    if bound is None or not isinstance(old, (int, float)) or bound.op != rule.args.get("op"):
        return None
    if (bound.value >= old) if bound.op == "<" else (bound.value <= old):
        return None  # no tighter than it is: the failure was blocked, or is not separable
    redraft = draft_lesson(lesson.id, run, kind, seen[-MAX_CASES:], move, passing)
    if redraft.rule is None:
        return None
    why = (f"bound tightened from {_fmt(old)} to {_fmt(bound.value)} by run {run}: "
           f"iteration {seen[-1].iteration} ({_own_words(seen[-1].reason)}) passed the old bound")
    args = {**rule.args, "value": bound.value, "message": redraft.rule.args["message"]}
    return dataclasses.replace(
        lesson, title=redraft.title, why=f"{lesson.why} Then: {seen[-1].description} "
        f"({seen[-1].reason}) at iteration {seen[-1].iteration} of run {seen[-1].run or run}.",
        rule=dataclasses.replace(rule, args=args, block=redraft.rule.block, allow=redraft.rule.allow),
        history=(*lesson.history, LevelChange(lesson.level, lesson.level, when, why)),
    )


def revise(project: Project, new: Lesson) -> list[str]:
    """Save `new` over the lesson of its id when the gates of its level still pass; the
    reasons they refuse otherwise (and the saved lesson stays as it was)."""
    from ladder.levels import compile_all, gate_reasons
    from ladder.store import load_lessons, save_lesson

    try:
        reasons = gate_reasons(dataclasses.replace(new, level=1), new.level, project) \
            if new.level > 1 else []
    except LadderError as exc:
        reasons = [exc.what]
    if reasons:
        return reasons
    save_lesson(project, new)
    compile_all(project, load_lessons(project))
    return []


def _cases(seen: Sequence[Seen], attr: str, move: Move, note: str) -> list[Case]:
    lines = dict.fromkeys(getattr(s, attr) for s in seen if getattr(s, attr))
    return [Case(code=line if line.endswith("\n") else line + "\n", path=move.file or "case.py", note=note)
            for line in lines]


def teach(project: Project, lesson: Lesson, limit: int, why: str) -> tuple[Lesson, list[str]]:
    """Write `lesson` at level 1 and promote it through the gates up to level `limit`.

    Returns the lesson as saved and the reasons the climb stopped below `limit` ([]
    when it reached it). A rule the gates cannot even validate is dropped, and said so:
    the note is still worth having.
    """
    from ladder.levels import compile_all, gate_reasons
    from ladder.rules.registry import validate_rule
    from ladder.store import load_lessons, save_lesson

    stopped: list[str] = []
    if lesson.rule is not None:
        try:
            lesson = dataclasses.replace(lesson, rule=validate_rule(lesson.rule, f"lesson {lesson.id}"))
        except LadderError as exc:
            stopped.append(f"rule dropped: {exc.what}")
            lesson = dataclasses.replace(lesson, rule=None)
    lesson = dataclasses.replace(lesson, level=0).with_level(1, why)
    reached = 1
    for level in range(2, min(limit, MAX_LEVEL) + 1):
        try:
            reasons = gate_reasons(dataclasses.replace(lesson, level=reached), level, project)
        except LadderError as exc:
            reasons = [exc.what]
        if reasons:
            stopped += [f"level {level}: {r}" for r in reasons]
            break
        reached = level
    if reached > 1:
        lesson = lesson.with_level(reached, f"promoted automatically (learn_promote = {limit})")
    save_lesson(project, lesson)
    compile_all(project, load_lessons(project))
    return lesson, stopped


def lesson_event(lesson: Lesson, stopped: Sequence[str], limit: int) -> dict[str, Any]:
    return {
        "action": "taught",
        "id": lesson.id,
        "level": lesson.level,
        "limit": limit,
        "rule": lesson.rule.template if lesson.rule else None,
        "stopped": list(stopped),
        "source": lesson.source,
        "title": lesson.title,
    }
