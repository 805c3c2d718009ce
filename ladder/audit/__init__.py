"""`ladder audit`: the constraint stack of a repository, prose against structure.

`report` measures (lessons per level, shares, what blocks promotion, broken
artifacts, fires, suppressions), `inventory` finds the rules a repository already has
outside `.ladder/`, `render` prints a table, JSON or Markdown with a gap report.
"""

from __future__ import annotations

from ladder.audit.inventory import InventoryItem, inventory
from ladder.audit.report import AuditReport, build, to_dict

__all__ = ["AuditReport", "InventoryItem", "build", "inventory", "to_dict"]
