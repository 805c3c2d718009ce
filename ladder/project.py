"""A repository that uses ladder: where its files live and its configuration.

Configuration comes from `[tool.ladder]` in pyproject.toml or from
`.ladder/config.toml` (the latter wins when both exist).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ladder import _toml
from ladder.errors import LadderError
from ladder.git import find_root
from ladder.rules.base import MAX_PARSE_BYTES
from ladder.rules.semgrep_launch import SEMGREP_TIMEOUT_S

LADDER_DIR = ".ladder"
HOOK_ID = "ladder-check"


@dataclass(frozen=True)
class Config:
    lessons_doc: str = "LESSONS.md"  # level 1 artifact
    agent_files: tuple[str, ...] = (
        "AGENTS.md",
        "CLAUDE.md",
    )  # level 2; first always, others when present
    hook_budget_ms: int = 3000  # a level-5 rule must check one typical commit within this
    exclude: tuple[str, ...] = (".ladder/**",)  # never checked
    max_parse_bytes: int = MAX_PARSE_BYTES  # a larger Python file is refused by libcst rules
    semgrep_timeout: int = SEMGREP_TIMEOUT_S  # seconds one semgrep rule may take on one file; 0: none
    extra: dict[str, Any] = field(
        default_factory=dict
    )  # sub-tables owned by other parts (agent, skills)


_KNOWN = {"lessons_doc", "agent_files", "hook_budget_ms", "exclude", "max_parse_bytes", "semgrep_timeout"}
_SUBTABLES = {"agent", "skills", "verify"}


def parse_config(raw: dict[str, Any], where: str) -> Config:
    unknown = set(raw) - _KNOWN - _SUBTABLES
    if unknown:
        name = sorted(unknown)[0]
        raise LadderError(
            f"unknown configuration key {name!r}",
            where=where,
            todo=f"known keys: {', '.join(sorted(_KNOWN | _SUBTABLES))}",
        )
    kwargs: dict[str, Any] = {}
    if "lessons_doc" in raw:
        if not isinstance(raw["lessons_doc"], str):
            raise LadderError("key 'lessons_doc' must be a string", where=where)
        kwargs["lessons_doc"] = raw["lessons_doc"]
    for key in ("agent_files", "exclude"):
        if key in raw:
            value = raw[key]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise LadderError(f"key {key!r} must be a list of strings", where=where)
            kwargs[key] = tuple(value)
    for key in ("hook_budget_ms", "max_parse_bytes"):
        if key in raw:
            value = raw[key]
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise LadderError(f"key {key!r} must be a positive integer", where=where)
            kwargs[key] = value
    if "semgrep_timeout" in raw:
        value = raw["semgrep_timeout"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise LadderError(
                "key 'semgrep_timeout' must be a whole number of seconds, 0 for no limit", where=where
            )
        kwargs["semgrep_timeout"] = value
    extra = {k: raw[k] for k in _SUBTABLES if k in raw}
    return Config(**kwargs, extra=extra)


@dataclass(frozen=True)
class Project:
    root: Path

    @classmethod
    def find(cls, start: Path | str | None = None) -> Project:
        return cls(find_root(start))

    @property
    def ladder_dir(self) -> Path:
        return self.root / LADDER_DIR

    @property
    def lessons_dir(self) -> Path:
        return self.ladder_dir / "lessons"

    @property
    def skills_dir(self) -> Path:
        return self.ladder_dir / "skills"

    @property
    def cache_dir(self) -> Path:
        return self.ladder_dir / "cache"

    @property
    def runs_dir(self) -> Path:
        return self.ladder_dir / "runs"

    @property
    def initialized(self) -> bool:
        # `.ladder/` alone counts: git does not keep an empty lessons directory, so a
        # fresh clone of a repository with no lessons yet has `.ladder/` without it.
        return self.ladder_dir.is_dir()

    def require_initialized(self) -> None:
        if not self.initialized:
            raise LadderError(
                "ladder is not set up in this repository (no .ladder/lessons)",
                where=str(self.root),
                todo="run `ladder init`",
            )

    def rel(self, path: Path) -> str:
        """Repo-relative posix path."""
        return path.resolve().relative_to(self.root.resolve()).as_posix()

    @functools.cached_property
    def config(self) -> Config:
        own = self.ladder_dir / "config.toml"
        if own.is_file():
            return parse_config(_toml.load(own), str(own))
        pyproject = self.root / "pyproject.toml"
        if pyproject.is_file():
            data = _toml.load(pyproject)
            table = data.get("tool", {}).get("ladder", {})
            if isinstance(table, dict):
                return parse_config(table, f"{pyproject}:[tool.ladder]")
        return Config()
