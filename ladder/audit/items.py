"""The records the audit's inventory is made of: constraints found outside `.ladder/`."""

from __future__ import annotations

from dataclasses import dataclass

PROSE, STRUCTURAL = "prose", "structural"


@dataclass(frozen=True)
class Evidence:
    """What shows a prose rule is enforced: the name it cites and the item that runs it."""

    cited: str  # what the rule names: "make lint", "ruff", "E501", "tests/test_x.py"
    tools: tuple[str, ...]  # the checks that enforce it: ("ruff",)
    where: str  # FILE:LINE of the hook, CI step or configuration
    how: str  # that item's text: "pre-commit hook lint runs ruff"
    level: int  # the deepest level at which those checks run

    def __str__(self) -> str:
        return f"`{self.cited}`: {self.how} ({self.where})"


@dataclass(frozen=True)
class InventoryItem:
    """One constraint found outside `.ladder/`: a prose rule, or something that checks."""

    source: str  # repo-relative posix path
    line: int  # 1-based
    text: str  # the rule, or a name such as "pre-commit hook ruff"
    kind: str  # PROSE or STRUCTURAL
    level: int  # the ladder level it corresponds to
    tool: str  # where it comes from: agents, docs, skills, pre-commit, github-actions, ruff, claude...
    # Structural: the checks it runs. One check is one constraint however many hooks and
    # CI steps run it, so this, not the item, is what the shares count.
    runs: tuple[str, ...] = ()
    # Structural: the names a prose rule may cite to be shown enforced by this item
    # (hook id, tool, `make lint`, script, semgrep id, a denied command).
    cites: tuple[str, ...] = ()
    # Structural: rule codes it turns on and off, as prefixes ("E" turns on E501;
    # "" is everything); coverage thresholds as "coverage:85".
    codes: tuple[str, ...] = ()
    off: tuple[str, ...] = ()
    # Structural: it blocks what it names (a Claude Code deny rule) instead of running it,
    # so it enforces "never X", not "run X".
    forbids: bool = False
    # Prose: what enforces it (None: only a reader does), and why it counts as a rule.
    evidence: Evidence | None = None
    reason: str = ""

    @property
    def location(self) -> str:
        return f"{self.source}:{self.line}"
