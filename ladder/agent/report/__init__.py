"""A run's report, read from its journal: `report.html` (the headline, the progress chart,
keeps, guards, blocks, events and learning), `progress.png`, Markdown for a pull
request, and the one-line summaries `ladder agent list` and `compare` show.

`read` folds the journal into the records of `model`; `progress` and `guardchart` lay out
charts as plain shapes (`shapes`), which `svg` and `png` draw; `html`, `markdown` and
`summary` render the rest.
"""

from ladder.agent.report.model import RunReport
from ladder.agent.report.read import read_report, settings_of

__all__ = ["RunReport", "read_report", "settings_of"]
