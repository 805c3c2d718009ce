"""The Learner: what one run learns from its decisions, and what it hands the next one.

The loop calls it twice per iteration:

    guidance = learner.before_proposal(it, rng)   # ctx.skills; mutate's weights and focus
    ...
    events = learner.after_decision(candidate, verdict, proposal, parent_text, candidate_text)
    if learner.lessons_changed(): ...              # refresh the level-5 lessons it checks

`after_decision` updates the usage of the skill a proposal applied (and deprecates it
when its effect reversed or it fell below the run's base rate), deposits the pattern of
every verified keep (a new skill, or a new version of a similar one), and counts the
failure patterns; the second occurrence of one becomes a lesson (`failures.teach`),
and a failure its lesson's bound let through tightens the bound (`failures.revise`).
A refusal by a taught lesson counts the evaluations its failures cost (`summary`), and
the sites that failed weigh less in the mutate proposer's draws (`before_proposal`).

The library lives in `.ladder/skills/` (one TOML file per skill, shared by every run of
the repository); the run's own counts live in `.ladder/runs/<run>/learner.json`, so a
resumed run neither forgets a failure nor counts a decision twice.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import re
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ladder.agent.config import AgentConfig
from ladder.agent.proposers.mutate import deletion_key
from ladder.agent.records import Candidate, Focus, Proposal, Verdict
from ladder.agent.skills import failures, policy, synth
from ladder.agent.skills.deletion import Deletion, find_deletion, function_case
from ladder.agent.skills.extract import Move, extract, file_tags, moves
from ladder.agent.skills.library import load_skills, new_skill_id, save_skill
from ladder.agent.skills.model import RECENT, Evidence, Skill, Usage, pattern_key
from ladder.project import Project
from ladder.store import atomic_write

STATE_FILE = "learner.json"
MAX_EVIDENCE = 50  # the newest evidence kept per skill
SIMILAR = 0.5  # Jaccard similarity of two edit patterns' changes that merges them
UNVERIFIED = "an UNVERIFIED keep (crude decision, one seed) is no evidence that the change helps"
_LESSON_ID = re.compile(r"\[([a-z0-9][a-z0-9._-]*)\]")


@dataclass(frozen=True)
class Guidance:
    skills_text: str  # the prompt section for text proposers ("" when no skill applies)
    operator_weights: Mapping[str, float] | None  # for mutate (None: the proposer's own)
    # For mutate: the skills to apply, best first (the first with an untried site
    # wins); () to explore.
    focus: tuple[Focus, ...] = ()


@dataclass(frozen=True)
class Event:
    kind: str  # "skill" | "lesson"
    data: Mapping[str, Any]


_REPORTING = re.compile(r"LADDER_(?:METRICS|SCORE)_FILE|\batexit\b|sys\.stdout|\bbuiltins\b|"
                        r"\bsetattr\s*\(|sys\.modules")
_IMPORTED = re.compile(r"^\s*(?:import\s+([\w.]+)(?:\s+as\s+(\w+))?|from\s+[\w.]+\s+import\s+(.+))",
                       re.MULTILINE)


def touches_metrics(parent: Mapping[str, str], candidate: Mapping[str, str],
                    metrics: Sequence[str]) -> str:
    """Why a change touches how metrics are computed or reported ("" when it does not):
    it writes the metrics file, hooks output or exit, monkeypatches an imported module,
    or prints a configured metric's `name: value` line."""
    for name, text in candidate.items():
        before = set(parent.get(name, "").splitlines())
        added = [line for line in text.splitlines() if line not in before]
        imported = set()
        for match in _IMPORTED.finditer(text):
            if match.group(1):
                imported.add(match.group(2) or match.group(1).split(".")[0])
            else:
                imported.update(p.split(" as ")[-1].strip(" ()") for p in match.group(3).split(","))
        for line in added:
            code = line.split("#", 1)[0]
            if _REPORTING.search(code):
                return f"{name}: `{line.strip()}` touches how metrics are reported"
            target = re.match(r"\s*([A-Za-z_]\w*)\.[\w.]+\s*=[^=]", code)
            if target and target.group(1) in imported:
                return f"{name}: `{line.strip()}` replaces part of an imported module"
            if "print" in code and any(re.search(rf"\b{re.escape(m)}\s*:", code) for m in metrics):
                return f"{name}: `{line.strip()}` prints a metric"
    return ""


@dataclass
class _State:
    """The run's own counts (JSON in the run directory)."""

    done: list[int] = field(default_factory=list)  # iterations already learned from
    kept: int = 0
    evaluated: int = 0
    explored: list[int] = field(default_factory=lambda: [0, 0])  # [evaluated, kept] applying no skill
    failures: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # signature -> seen
    passing: dict[str, list[float]] = field(default_factory=dict)  # file|symbol -> values that ran
    taught: dict[str, str] = field(default_factory=dict)  # signature -> lesson id
    blocked: dict[str, int] = field(default_factory=dict)  # taught lesson id -> blocks
    symbols: list[str] = field(default_factory=list)  # symbols the run's proposals touched
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deprecated: list[str] = field(default_factory=list)
    reinstated: list[str] = field(default_factory=list)
    promoted: dict[str, int] = field(default_factory=dict)  # lesson id -> level reached
    tightened: list[str] = field(default_factory=list)  # taught lessons whose bound moved
    tried: dict[str, list[int]] = field(default_factory=dict)  # mutate key -> [evaluated, kept]
    succeeded: list[str] = field(default_factory=list)  # skills verified in this run
    # signature -> the mutate weight keys of the change that failed (what the proposer
    # tries less from then on: the site that crashed, not every site of its operator)
    failed_keys: dict[str, list[str]] = field(default_factory=dict)
    cost: dict[str, float] = field(default_factory=dict)  # taught lesson id -> evaluations per failure
    prose: dict[str, str] = field(default_factory=dict)  # region -> the prose lesson taught for it


class Learner:
    def __init__(
        self,
        project: Project,
        run_id: str,
        config: AgentConfig,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.project = project
        self.run_id = run_id
        self.config = config
        self.clock = clock
        self.skills: dict[str, Skill] = {s.id: s for s in load_skills(project)}
        self.loaded = len(self.skills)
        self.state = self._load_state()
        self._prior = self._prior_runs()
        # Mutate moves earlier runs tried and never kept (a keep anywhere makes a skill).
        self._spent = sorted(k for k, (_n, kept) in self._prior.tried.items() if not kept)
        self._bounds: set[str] = set()  # taught lessons whose rule is a bound
        self._taught_ids = self._taught_lessons()
        self._changed = False
        weights = config.proposer.options.get("weights") if config.proposer.kind == "mutate" else None
        self._base_weights = {str(k): float(v) for k, v in (weights or {}).items()}
        self._editable_tags = file_tags(list(config.editable))

    # --- the loop's calls ------------------------------------------------------------

    def before_proposal(self, iteration: int, rng: random.Random) -> Guidance:
        skills = list(self.skills.values())
        tags = [*self._editable_tags, *(s.lower() for s in self.state.symbols)]
        weights = policy.operator_weights(self._base_weights, self._failed_keys(), self._spent)
        tried, found = self.state.explored
        chosen = policy.focus(skills, found, tried, rng)
        return Guidance(policy.skills_text(skills, tags), weights,
                        tuple(policy.focus_of(s) for s in chosen))

    def after_decision(
        self,
        candidate: Candidate,
        verdict: Verdict,
        proposal: Proposal | None,
        parent_text: Mapping[str, str],
        candidate_text: Mapping[str, str],
    ) -> list[Event]:
        it = candidate.iteration
        if it in self.state.done:
            return []  # a resumed run replays decisions it already learned from
        events: list[Event] = []
        if verdict.status == "blocked":
            self._count_block(verdict)
        elif verdict.status == "quarantine":
            self.state.evaluated += 1  # evaluated, but too good to be true: no evidence either way
        elif verdict.status in ("keep", "discard", "crash"):
            self.state.evaluated += 1
            self.state.kept += verdict.status == "keep"
            pattern = extract(proposal, parent_text, candidate_text) if proposal else None
            forged = touches_metrics(parent_text, candidate_text, tuple(self.config.metrics))
            if forged and pattern is not None and verdict.status == "keep":
                # a gain from changing how the numbers are made is no skill to repeat
                events.append(Event("skill", {"action": "not learned", "why": forged}))
                pattern = None
            # A crude decision saw one seed: its keep is not evidence that the change
            # helps, nor its discard that it does not (most crude keeps are noise), so it
            # neither makes, confirms nor wears down a skill. Failures still count.
            unverified = verdict.stats.get("unverified") is True
            if unverified and pattern is not None and verdict.status == "keep":
                events.append(Event("skill", {"action": "not learned", "why": UNVERIFIED}))
            if pattern is not None:
                self._note_symbols(pattern)
                if not unverified:
                    self._note_tried(_site_keys(pattern, proposal), verdict.status == "keep")
                    events += self._apply(pattern, verdict, candidate)
            found = moves(proposal, parent_text, candidate_text)
            events += self._failures(candidate, verdict, proposal, pattern, found,
                                     parent_text, candidate_text)
        self.state.done.append(it)
        self._save_state()
        return events

    def lessons_changed(self) -> bool:
        """True once after each lesson this run created or promoted (then False until
        the next), so the loop refreshes the lessons of its pre-evaluation check."""
        changed, self._changed = self._changed, False
        return changed

    def summary(self) -> dict[str, Any]:
        s = self.state
        blocked = sum(s.blocked.values())
        return {
            "skills_loaded": self.loaded,
            "skills_active": sum(1 for x in self.skills.values() if x.active),
            "created": list(s.created),
            "updated": list(s.updated),
            "deprecated": list(s.deprecated),
            "reinstated": list(s.reinstated),
            "lessons_taught": sorted(s.taught.values()),
            "lessons_promoted": dict(s.promoted),
            "lessons_tightened": list(s.tightened),
            "blocked_by_taught_lessons": dict(s.blocked),
            "blocked_repeats": blocked,
            # Each refused repeat saved what its failures cost, in evaluations (the unit of
            # the budget): a crash that stopped after one seed saved one, not `seeds`.
            "evaluations_saved": sum(n * self._saved(i) for i, n in s.blocked.items()),
            "evaluations_saved_by_lesson": {i: n * self._saved(i) for i, n in s.blocked.items()},
            "kept": s.kept,
            "evaluated": s.evaluated,
        }

    # --- skills ------------------------------------------------------------------------

    def _apply(self, pattern: Mapping[str, Any], verdict: Verdict, cand: Candidate) -> list[Event]:
        """Usage of the skill this proposal applied; the deposit of a keep."""
        events: list[Event] = []
        improvement = _improvement(cand, verdict, self.config)
        skill = self._similar(pattern)
        keep = verdict.status == "keep"
        if skill is None or not skill.active:  # an exploration: the base arm's evidence
            self.state.explored = [self.state.explored[0] + 1, self.state.explored[1] + keep]
        if skill is not None:
            u = skill.usage
            if keep:
                usage = Usage(u.applications + 1, u.successes + 1, 0, ())
            elif skill.id in self.state.succeeded:
                # It already worked in this run: a later miss is saturation (the constant
                # reached its optimum), not a reversal. It lowers the posterior only.
                usage = dataclasses.replace(u, applications=u.applications + 1)
            else:
                recent = (*u.recent, improvement) if improvement is not None else u.recent
                usage = Usage(u.applications + 1, u.successes, u.since_success + 1, recent[-RECENT:])
            skill = dataclasses.replace(skill, usage=usage)
            if not keep and skill.active:
                explored, found = self.state.explored
                why = policy.deprecation_reason(skill, found, explored)
                if why:
                    skill = skill.bumped(f"deprecated by run {self.run_id} at iteration "
                                         f"{cand.iteration}: {why}", status="deprecated", reason=why)
                    self._mark(self.state.deprecated, skill.id)
                    events.append(_skill_event("deprecated", skill, why))
        if keep:
            skill, event = self._deposit(skill, pattern, cand, verdict, improvement)
            self._mark(self.state.succeeded, skill.id)
            events.append(event)
        if skill is not None:
            self._save(skill)
        return events

    def _deposit(
        self, skill: Skill | None, pattern: Mapping[str, Any], cand: Candidate, verdict: Verdict,
        improvement: float | None,
    ) -> tuple[Skill, Event]:
        evidence = Evidence(
            run=self.run_id, iteration=cand.iteration, commit=cand.commit,
            effect=improvement if improvement is not None else 0.0,
            ci=_ci(verdict), description=cand.description[:200],
        )
        where = f"run {self.run_id} iteration {cand.iteration}"
        if skill is None:
            title = title_of(pattern)
            skill_id = new_skill_id(self.project, title, taken=list(self.skills))
            entry_why = f"created from {where}: {cand.description[:120]}"
            skill = Skill(
                id=skill_id, title=title, pattern=dict(pattern), tags=tags_of(pattern),
                version=0, evidence=(evidence,), usage=Usage(1, 1, 0, ()),
            ).bumped(entry_why, when=self._now())
            self._mark(self.state.created, skill.id)
            return skill, _skill_event("created", skill, entry_why)
        merged = merge_patterns(skill.pattern, pattern)
        changes: dict[str, Any] = {
            "pattern": merged,
            "tags": tuple(dict.fromkeys((*skill.tags, *tags_of(pattern)))),
            "evidence": (*skill.evidence, evidence)[-MAX_EVIDENCE:],
        }
        action = "updated"
        why = f"verified again in {where} (effect {evidence.effect:+.4g})"
        if not skill.active:
            action, changes["status"], changes["reason"] = "reinstated", "active", ""
            why = f"reinstated by new evidence: {why}"
            self._mark(self.state.reinstated, skill.id)
        elif skill.id not in self.state.created:
            self._mark(self.state.updated, skill.id)
        skill = skill.bumped(why, when=self._now(), **changes)
        return skill, _skill_event(action, skill, why)

    def _similar(self, pattern: Mapping[str, Any]) -> Skill | None:
        key = pattern_key(pattern)
        exact = next((s for s in self.skills.values() if s.key == key), None)
        if exact is not None or pattern.get("kind") != "edit":
            return exact
        best, score = None, SIMILAR
        mine = _change_set(pattern)
        for skill in self.skills.values():
            if skill.pattern.get("kind") != "edit":
                continue
            theirs = _change_set(skill.pattern)
            jaccard = len(mine & theirs) / max(1, len(mine | theirs))
            if jaccard >= score:
                best, score = skill, jaccard
        return best

    def _save(self, skill: Skill) -> None:
        self.skills[skill.id] = skill
        save_skill(self.project, skill)

    def _note_tried(self, keys: Sequence[str], kept: bool) -> None:
        for key in keys:
            counts = self.state.tried.setdefault(key, [0, 0])
            counts[0] += 1
            counts[1] += kept

    def _note_symbols(self, pattern: Mapping[str, Any]) -> None:
        names = [str(pattern.get("symbol", ""))] if pattern.get("kind") == "mutate" else [
            str(c.get("symbol", "")) for c in pattern.get("changes", [])]
        for name in names:
            if name and name not in self.state.symbols:
                self.state.symbols.append(name)

    # --- failures -> lessons ---------------------------------------------------------

    def _failures(
        self, cand: Candidate, verdict: Verdict, proposal: Proposal | None,
        pattern: Mapping[str, Any] | None, found: list[Move],
        before: Mapping[str, str], after: Mapping[str, str],
    ) -> list[Event]:
        kind = failures.classify(verdict)
        move = found[0] if len(found) == 1 else None
        if move is not None:
            # The parent ran (it was kept or is the baseline); so did the candidate
            # unless this failure is about it.
            self._passing(move, move.old)
            if kind is None or kind.startswith("guard:"):
                self._passing(move, move.new)
        if kind is None:
            return []
        deletion = find_deletion(before, after) if move is None else None
        signature = _signature(failures.family(kind), move, deletion, pattern)
        if signature is None:
            return []
        taught = self.state.taught.get(signature) or self._prior.taught.get(signature)
        seen = failures.Seen(
            iteration=cand.iteration,
            description=cand.description[:160],
            reason=(verdict.reasons[0] if verdict.reasons else kind)[:160],
            line=_statement(after, move, proposal) if move else "",
            parent_line=_statement(before, move, proposal) if move else "",
            value=move.new if move else None,
            run=self.run_id,
            evaluations=_spent(verdict),
            kind=kind,
        )
        own = self.state.failures.setdefault(signature, [])
        own.append(dataclasses.asdict(seen))
        if pattern is not None and (site := _site_keys(pattern, proposal)):
            keys = self.state.failed_keys.setdefault(signature, [])
            keys += [k for k in site if k not in keys]
        # Earlier runs of this repository count too: a failure seen once by each of two
        # runs is the same failure seen twice.
        history = [*self._prior.failures.get(signature, []), *own]
        if taught and taught in self._taught_ids:
            # Already a lesson, and yet it failed: its bound let the value through.
            return self._tighten(taught, kind, [failures.Seen(**h) for h in history], move) \
                if move is not None else []
        if len(history) < 2:
            return []
        pair = [failures.Seen(**h) for h in history[-2:]]
        return self._teach(signature, failures.common_kind(pair, kind), pair, move, deletion,
                           _region(move, deletion, pattern))

    def _tighten(self, lesson_id: str, kind: str, seen: list[failures.Seen], move: Move) -> list[Event]:
        from ladder.errors import LadderError
        from ladder.store import get_lesson

        try:
            lesson = get_lesson(self.project, lesson_id)
        except LadderError:
            return []  # removed by hand since: nothing to tighten
        key = _value_key(move)
        passing = [*self._prior.passing.get(key, []), *self.state.passing.get(key, [])]
        new = failures.tightened(lesson, self.run_id, kind, seen, move, passing, self._now()) \
            if lesson.status == "active" else None
        if new is None:
            return []
        refused = failures.revise(self.project, new)
        data: dict[str, Any] = {"action": "tightened" if not refused else "not tightened",
                                "id": lesson.id, "level": lesson.level, "title": new.title,
                                "why": new.history[-1].why, "stopped": refused}
        if not refused:
            self._mark(self.state.tightened, lesson.id)
            self._changed = True
        return [Event("lesson", data)]

    def _teach(self, signature: str, kind: str, seen: list[failures.Seen], move: Move | None,
               deletion: Deletion | None, region: str) -> list[Event]:
        key = _value_key(move)
        passing = [*self._prior.passing.get(key, []), *self.state.passing.get(key, [])] if move else []
        if deletion is not None:
            draft = failures.draft_deletion("x", self.run_id, kind, seen, deletion)
        else:
            draft = failures.draft_lesson("x", self.run_id, kind, seen, move, passing)
        if draft.rule is None:
            again = self._seen_again(signature, kind, seen[-1], region)
            if again is not None:
                return again
        lesson_id = synth.readable_id(self.project, failures.id_words(draft, deletion),
                                      taken=self._taught_ids)
        # Drafted again under its id: a semgrep rule names the lesson it belongs to.
        draft = failures.draft_deletion(lesson_id, self.run_id, kind, seen, deletion) \
            if deletion is not None else failures.draft_lesson(lesson_id, self.run_id, kind, seen, move, passing)
        limit = self.config.learn_promote
        why = f"learned: the same failure twice ({', '.join(f'#{s.iteration}' for s in seen)})"
        lesson, stopped = failures.teach(self.project, draft, limit, why)
        self.state.taught[signature] = lesson.id
        self.state.promoted[lesson.id] = lesson.level
        self.state.cost[lesson.id] = statistics.fmean(max(1, s.evaluations) for s in seen)
        if lesson.rule is None:
            self.state.prose[region] = lesson.id
        elif failures.BOUND_TAG in lesson.tags:
            self._bounds.add(lesson.id)
        self._taught_ids.add(lesson.id)
        self._changed = True
        return [Event("lesson", failures.lesson_event(lesson, stopped, limit))]

    def _seen_again(self, signature: str, kind: str, seen: failures.Seen, region: str) -> list[Event] | None:
        """A failure with no rule, in a region a prose lesson already covers: that lesson
        records it (None when there is none, or it is gone: teach a new one)."""
        from ladder.errors import LadderError
        from ladder.store import get_lesson, save_lesson

        lesson_id = self.state.prose.get(region) or self._prior.prose.get(region)
        if not lesson_id:
            return None
        try:
            lesson = get_lesson(self.project, lesson_id)
        except LadderError:
            return None  # removed by hand since
        if lesson.status != "active" or lesson.rule is not None:
            return None
        lesson = failures.seen_again(lesson, self.run_id, kind, seen, self._now())
        save_lesson(self.project, lesson)
        self.state.taught[signature] = lesson.id
        self.state.prose.setdefault(region, lesson.id)
        return [Event("lesson", {"action": "seen again", "id": lesson.id, "level": lesson.level,
                                 "why": lesson.history[-1].why})]

    def _failed_keys(self) -> list[str]:
        """Weight keys of the mutate moves that failed, in any run: the proposer tries
        them less, not never (the second failure makes the lesson, and a lesson refuses
        the third before it costs an evaluation). A failure a bound was learned from is
        left out: the bound refuses the values that fail, and the key (`scale:LR:up`)
        is coarser than it -- raising LR below the bound may still help."""
        keys: list[str] = []
        merged = {**self._prior.failed_keys, **self.state.failed_keys}
        for sig in [*self._prior.failures, *self.state.failures]:
            taught = self.state.taught.get(sig) or self._prior.taught.get(sig)
            if taught and taught in self._bounds:
                continue
            keys += merged.get(sig) or _old_keys(sig)
        return list(dict.fromkeys(keys))

    def _passing(self, move: Move, value: float) -> None:
        values = self.state.passing.setdefault(_value_key(move), [])
        if value not in values:
            values.append(value)

    def _count_block(self, verdict: Verdict) -> None:
        ids = list(verdict.stats.get("lessons") or [])
        for reason in verdict.reasons:
            ids += _LESSON_ID.findall(reason)
        for lesson_id in dict.fromkeys(ids):
            if lesson_id in self._taught_ids:
                self.state.blocked[lesson_id] = self.state.blocked.get(lesson_id, 0) + 1

    def _saved(self, lesson_id: str) -> int:
        """The evaluations one refusal by `lesson_id` saved: what each failure it was
        learned from cost (one at least: a lesson from before costs were kept)."""
        cost = self.state.cost.get(lesson_id) or self._prior.cost.get(lesson_id) or 1.0
        return max(1, round(cost))

    def _taught_lessons(self) -> set[str]:
        from ladder.store import load_lessons

        if not self.project.initialized:
            return set(self.state.taught.values())
        lessons = [x for x in load_lessons(self.project) if failures.taught_by(x)]
        self._bounds = {x.id for x in lessons if x.rule is not None
                        and (failures.BOUND_TAG in x.tags or x.rule.template == "bound")}
        return {x.id for x in lessons} | set(self.state.taught.values())

    # --- state -------------------------------------------------------------------------

    def _state_path(self) -> Path:
        return self.project.runs_dir / self.run_id / STATE_FILE

    def _load_state(self) -> _State:
        return _read_state(self._state_path()) or _State()

    def _prior_runs(self) -> _State:
        """The failures, passing values and taught signatures of the repository's other
        runs (their learner.json), oldest first."""
        merged = _State()
        runs = self.project.runs_dir
        paths = sorted(runs.glob(f"*/{STATE_FILE}"), key=lambda p: p.stat().st_mtime) \
            if runs.is_dir() else []
        for path in paths:
            if path.parent.name == self.run_id:
                continue
            state = _read_state(path)
            if state is None:
                continue
            for sig, seen in state.failures.items():
                merged.failures.setdefault(sig, []).extend(seen)
            for key, values in state.passing.items():
                merged.passing.setdefault(key, []).extend(values)
            merged.taught.update(state.taught)
            merged.cost.update(state.cost)
            merged.prose.update(state.prose)
            for sig, keys in state.failed_keys.items():
                merged.failed_keys[sig] = list(dict.fromkeys([*merged.failed_keys.get(sig, []), *keys]))
            for key, (n, kept) in state.tried.items():
                counts = merged.tried.setdefault(key, [0, 0])
                counts[0] += n
                counts[1] += kept
        return merged

    def _save_state(self) -> None:
        # Plain JSON containers all the way down: no deep copy (asdict) per decision.
        atomic_write(self._state_path(), json.dumps(vars(self.state), indent=1))

    def _now(self) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.clock()))

    @staticmethod
    def _mark(bucket: list[str], skill_id: str) -> None:
        if skill_id not in bucket:
            bucket.append(skill_id)


def _read_state(path: Path) -> _State | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # no state yet, or one cut by a kill: start from the journal's decisions
    if not isinstance(data, dict):
        return None
    names = {f.name for f in dataclasses.fields(_State)}
    return _State(**{k: v for k, v in data.items() if k in names})


# --- patterns --------------------------------------------------------------------------


def title_of(pattern: Mapping[str, Any]) -> str:
    if pattern.get("kind") == "mutate":
        symbol, how = pattern.get("symbol", ""), pattern.get("direction", "")
        scope = f" in {pattern['function']}()" if pattern.get("function") else ""
        change = pattern.get("change")
        if change == "number":
            verb = "Increase" if how == "up" else "Decrease"
            return f"{verb} {symbol}{scope}"
        if change == "delete":
            return f"Delete the {symbol} statement{scope}"
        return f"Set {symbol} to {how}{scope}"
    changes = [f"{c.get('symbol') or 'module'} {c.get('change')}" for c in pattern.get("changes", [])]
    text = ", ".join(changes[:3]) + (" ..." if len(changes) > 3 else "")
    return f"Edit: {text}"


def tags_of(pattern: Mapping[str, Any]) -> tuple[str, ...]:
    """Domain tags: the files' folders and stems, the symbols, the kind of change."""
    tags = file_tags([str(f) for f in pattern.get("files", [])])
    if pattern.get("kind") == "mutate":
        tags += [str(pattern.get("symbol", "")).lower(), str(pattern.get("change", ""))]
        if pattern.get("function"):
            tags.append(str(pattern["function"]).lower())
    else:
        for c in pattern.get("changes", []):
            tags.append(str(c.get("symbol", "")).lower())
            tags.append(str(c.get("change", "")).split(":")[0])
    tags += [str(t).lower() for t in pattern.get("tags", [])]
    return tuple(dict.fromkeys(t for t in tags if t))


def merge_patterns(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """One pattern for two similar ones: operators, files and changes united, the
    typical magnitude (geometric mean of the ratios) and the newest description."""
    out = dict(old)
    for key in ("operators", "files"):
        if key in old or key in new:
            out[key] = sorted({*old.get(key, []), *new.get(key, [])})
    if "ratio" in old and "ratio" in new:
        out["ratio"] = round(math.sqrt(float(old["ratio"]) * float(new["ratio"])), 6)
    elif "ratio" in new:
        out["ratio"] = new["ratio"]
    if old.get("kind") == "edit":
        pairs = {(c["symbol"], c["change"]) for c in [*old.get("changes", []), *new.get("changes", [])]}
        out["changes"] = [{"symbol": s, "change": c} for s, c in sorted(pairs)][:12]
        if new.get("description"):
            out["description"] = new["description"]
    return out


def _change_set(pattern: Mapping[str, Any]) -> set[str]:
    return {f"{c.get('symbol', '')}:{c.get('change', '')}" for c in pattern.get("changes", [])}


def _improvement(cand: Candidate, verdict: Verdict, config: AgentConfig) -> float | None:
    effect = verdict.stats.get("effect")
    if isinstance(effect, (int, float)) and not isinstance(effect, bool) and math.isfinite(effect):
        return float(effect)
    if cand.effect is None or not math.isfinite(cand.effect):
        return None
    return -cand.effect if config.target.direction == "min" else cand.effect


def _ci(verdict: Verdict) -> tuple[float, float] | None:
    ci = verdict.stats.get("ci")
    if isinstance(ci, (list, tuple)) and len(ci) == 2 and all(
        isinstance(x, (int, float)) and math.isfinite(x) for x in ci
    ):
        return (float(ci[0]), float(ci[1]))
    diffs = verdict.stats.get("diffs")
    if not isinstance(diffs, list):
        return None
    values = [float(d["improvement"]) for d in diffs
              if isinstance(d, Mapping) and isinstance(d.get("improvement"), (int, float))]
    if len(values) < 2:
        return None
    from scipy.stats import t

    mean, sd = statistics.fmean(values), statistics.stdev(values)
    half = float(t.ppf(0.975, len(values) - 1)) * sd / math.sqrt(len(values))
    return (round(mean - half, 12), round(mean + half, 12))


def _signature(kind: str, move: Move | None, deletion: Deletion | None,
               pattern: Mapping[str, Any] | None) -> str | None:
    """What makes two failures the same (None: nothing to learn from): the same
    constant moved the same way (`crash|train.py||LR|up`; where it lands is the bound's
    business), the same statement deleted from the same function (normalised, whoever
    deleted it), else the same pattern of change."""
    if move is not None:
        return f"{kind}|{move.file}|{move.function}|{move.symbol}|{move.direction}"
    if deletion is not None:
        return f"{kind}|delete|{deletion.key}"
    return f"{kind}|{pattern_key(pattern)}" if pattern is not None else None


def _region(move: Move | None, deletion: Deletion | None, pattern: Mapping[str, Any] | None) -> str:
    """Where a prose lesson applies: one per constant, statement or pattern, whatever
    the failure's kind or direction (prose lessons must not pile up)."""
    if move is not None:
        return f"{move.file}|{move.function}|{move.symbol}"
    if deletion is not None:
        return deletion.key
    if pattern is not None and pattern.get("kind") == "mutate":
        return f"{','.join(pattern.get('files', []))}|{pattern.get('function', '')}|{pattern.get('symbol', '')}"
    return pattern_key(pattern) if pattern is not None else ""


def _site_keys(pattern: Mapping[str, Any], proposal: Proposal | None) -> list[str]:
    """The mutate weight keys of the site a proposal tried: a deletion's own statement
    (other statements assigning the same name are other sites), else the pattern's keys
    ([] for a text proposal's edit: the mutator has no weight for it)."""
    if pattern.get("kind") != "mutate":
        return []
    f = proposal.features if proposal is not None else {}
    if pattern.get("change") == "delete" and f.get("old"):
        return [deletion_key(str(f.get("symbol", "")), str(f.get("function", "")), str(f["old"]))]
    return policy.pattern_keys(pattern)


def _old_keys(signature: str) -> list[str]:
    """The weight keys of a numeric move's signature from a learner.json written before
    `failed_keys` was kept (module-level moves only, as then)."""
    parts = signature.split("|")
    if len(parts) != 5 or parts[2]:
        return []
    _kind, _file, _function, symbol, direction = parts
    return [f"{op}:{symbol}:{direction}" for op in policy.NUMERIC_OPERATORS]


def _spent(verdict: Verdict) -> int:
    """The candidate evaluations a decision cost (`n` of its stats; one at least)."""
    n = verdict.stats.get("n")
    return n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 1


def _value_key(move: Move | None) -> str:
    return f"{move.file}|{move.function}|{move.symbol}" if move else ""


def _statement(texts: Mapping[str, str], move: Move, proposal: Proposal | None = None) -> str:
    """What a bound's case holds: the module-level line assigning `move.symbol` in
    `move.file`, or for a number inside a function, that function ("" when not found)."""
    text = texts.get(move.file, "")
    if move.scoped:
        line = proposal.features.get("line") if proposal is not None else None
        return function_case(text, move.function, line) if isinstance(line, int) else ""
    pattern = re.compile(rf"^{re.escape(move.symbol)}\s*(?::[^=]+)?=[^=].*$", re.MULTILINE)
    m = pattern.search(text)
    return m.group(0).rstrip() if m else ""


def _skill_event(action: str, skill: Skill, why: str) -> Event:
    return Event("skill", {"action": action, "id": skill.id, "version": skill.version,
                           "status": skill.status, "why": why})

