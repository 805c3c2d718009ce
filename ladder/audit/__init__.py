"""`ladder audit`: the constraint stack of a repository, prose against structure.

`report` measures (lessons per level, shares, what blocks promotion, broken
artifacts, fires, suppressions), `inventory` finds the rules a repository already has
outside `.ladder/`: `prose` finds the documents and splits them, `classify` decides
which units are rules, `structural` finds the checks (hooks, CI, configs, agent
permissions; `commands` reads their shell and Makefiles), `matcher` decides which rules
a check is shown to enforce. `render` prints a table, JSON or Markdown with a gap report.
"""

from __future__ import annotations

from ladder.audit.classify import Verdict, classify
from ladder.audit.inventory import Evidence, InventoryItem, inventory
from ladder.audit.matcher import enforcement
from ladder.audit.report import AuditReport, Constraint, build, to_dict

__all__ = [
    "AuditReport", "Constraint", "Evidence", "InventoryItem", "Verdict", "build", "classify", "enforcement",
    "inventory", "to_dict",
]
