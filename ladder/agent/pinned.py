"""The configuration a run was started with, and what a resume may change of it.

A run journals its configuration's source (the table as read and the flags) in its
`start` record. `ladder agent run --resume` rebuilds the configuration from there, not
from today's file and flags: a run started with `--iterations 8` resumes to 8, and its
seeds stay paired. Flags given with `--resume` are explicit changes; a file edited
since is refused unless `--reconfigure` says to take it. Either way only what does not
change the meaning of the run's evaluations may change (RESUMABLE); each change is
journaled as a `reconfigure` record, which later resumes start from.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ladder.agent.config import AgentConfig, ConfigSource
from ladder.agent.replay import jsonable
from ladder.errors import LadderError

# What may change on resume (a dotted key or a key above it): budgets, resources (where
# the evaluations run: a run killed on one machine resumes on a cluster) and how
# proposals are made. Everything else -- the evaluation and scorer, metrics and margins,
# seeds, the decision rule and its statistics, what is editable -- is the run's identity:
# the evaluations already journaled were made and judged under it.
RESUMABLE = ("iterations", "hours", "evaluations", "workers", "timeout", "proposer",
             "strategy", "learn", "learn_promote", "sandbox", "verify.on_converged",
             "executor", "ray")


@dataclass(frozen=True)
class Resumed:
    """The configuration a resume runs under, its source, and what changed (key -> (old, new))."""

    config: AgentConfig
    source: ConfigSource | None
    changes: Mapping[str, tuple[Any, Any]]


def pinned_source(records: Iterable[Mapping[str, Any]]) -> ConfigSource | None:
    """The source of the run's configuration as last journaled (None: an older journal)."""
    found: ConfigSource | None = None
    for rec in records:
        data = rec.get("data")
        if rec.get("kind") in ("start", "reconfigure") and isinstance(data, Mapping) \
                and isinstance(data.get("source"), Mapping):
            found = ConfigSource.from_dict(data["source"])
    return found


def resume_config(
    run_id: str, pinned: ConfigSource, now: ConfigSource | LadderError,
    flags: Mapping[str, Any], *, reconfigure: bool, started: bool = True,
) -> Resumed:
    """The configuration run `run_id` resumes under: its pinned one with `flags`; with
    `reconfigure`, today's file (`now`) with the run's flags and `flags`. `started`: the
    baseline is recorded (before it, nothing was evaluated under the old configuration,
    and any change is allowed)."""
    before = pinned.config()
    flags = {k: v for k, v in flags.items() if v is not None}
    base = pinned
    if reconfigure:
        if isinstance(now, LadderError):
            raise now
        base = now
    elif not isinstance(now, LadderError):
        try:
            edited = diff(before, dataclasses.replace(now, overrides=pinned.overrides).config())
        except LadderError:  # today's file is broken: the journaled configuration stands
            edited = {}
        if edited:
            raise LadderError(
                f"the configuration changed since run {run_id} started: {_words(edited)}",
                where=now.file,
                todo="resume under the journaled configuration by restoring the file, or "
                     "pass --reconfigure to continue under the new one",
            )
    source = dataclasses.replace(base, overrides={**pinned.overrides, **flags})
    after = source.config()
    changes = diff(before, after)
    fixed = [k for k in changes if not resumable(k)] if started else []
    if fixed:
        raise LadderError(
            f"run {run_id} cannot change {_words({k: changes[k] for k in fixed})} on resume: "
            "its journaled evaluations were made and judged under the old value",
            where="--resume",
            todo="start a new run for the new configuration; a resume may change only "
                 + ", ".join(RESUMABLE),
        )
    return Resumed(after, source, changes)


def resumable(key: str) -> bool:
    return any(key == k or key.startswith(k + ".") for k in RESUMABLE)


def diff(old: AgentConfig, new: AgentConfig) -> dict[str, tuple[Any, Any]]:
    """Dotted key -> (old, new) for every value that differs."""
    a, b = _flat(jsonable(dataclasses.asdict(old))), _flat(jsonable(dataclasses.asdict(new)))
    return {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping) and value:
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flat(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def _words(changes: Mapping[str, tuple[Any, Any]]) -> str:
    shown = [f"{k} {old!r} -> {new!r}" for k, (old, new) in list(changes.items())[:4]]
    more = len(changes) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")
