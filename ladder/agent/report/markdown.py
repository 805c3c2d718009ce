"""The report as Markdown, for a pull request's description: the headline, the counts,
the keeps with their statistics, what was blocked and what was learned. Journal text is
escaped for GitHub's Markdown: no raw HTML, no table breaks, no code-span breaks."""

from __future__ import annotations

import re

from ladder.agent.report import words as w
from ladder.agent.report.model import RunReport

_SPECIAL = re.compile(r"([\\`*_{}\[\]<|~])")


def render(report: RunReport, png: str = "") -> str:
    """`png`: where progress.png is, named under the headline ("" : not mentioned)."""
    c = report.counts
    out = [f"## ladder run `{report.run_id}`: {_m(w.headline(report.headline))}", ""]
    if png:
        out += [f"Progress chart: {_code(png)}", ""]
    out += [
        "| iterations | evaluations | kept | discarded | crashed | blocked | quarantined |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        f"| {c.iterations} | {c.evaluations} | {c.kept} | {c.discarded} | {c.crashed} | "
        f"{c.blocked} | {c.quarantined} |", "",
    ]
    out += (_warnings(report) + _keeps(report) + _blocked(report) + _learned(report)
            + _events(report) + _placements(report))
    if report.keeps:
        out += [f"Take it: `git merge {report.branch}`.", ""]
    return "\n".join(out).rstrip() + "\n"


def _m(text: str) -> str:
    """Journal text as literal Markdown on one line."""
    return _SPECIAL.sub(r"\\\1", w.one_line(text))


def _code(text: str) -> str:
    """Journal text as a code span: a backtick inside cannot end it early, a bar cannot
    split a table's cell (GitHub reads `\\|` as a bar even in code)."""
    return "`" + w.one_line(text).replace("`", "'").replace("|", "\\|") + "`"


def _warnings(report: RunReport) -> list[str]:
    s = report.settings
    out = []
    if s.unverified:
        out.append("> **UNVERIFIED**: crude decisions (one seed, keep if better).")
    if not s.scored:
        out.append(f"> {_m(s.target)} is self-reported: the candidate can forge it.")
    if report.counts.awaiting_review:
        out.append(f"> {report.counts.awaiting_review} quarantined candidate(s) await review.")
    return [*out, ""] if out else []


def _keeps(report: RunReport) -> list[str]:
    if not report.keeps:
        return ["No change was kept.", ""]
    out = ["### Kept changes", "",
           "| # | commit | change | improvement | 95% CI | p | seeds |",
           "|---:|---|---|---:|---|---:|---:|"]
    for k in report.keeps:
        ci = f"{w.num(k.ci[0])} to {w.num(k.ci[1])}" if k.ci else "-"
        p = f"{k.p:.2g}" if k.p is not None else "-"
        out.append(f"| {k.iteration} | `{k.commit[:8]}` | {_m(k.description)} | "
                   f"{w.num(k.improvement)} | {ci} | {p} | {k.seeds} |")
    return [*out, ""]


def _blocked(report: RunReport) -> list[str]:
    if not report.blocked:
        return []
    out = ["### Blocked before evaluation", "",
           "| by | blocked | evaluations saved | time saved |", "|---|---:|---:|---:|"]
    out += [f"| {_code(b.by)} | {b.count} | {b.evaluations_saved:.0f} | {w.seconds(b.seconds_saved)} |"
            for b in report.blocked]
    return [*out, ""]


def _learned(report: RunReport) -> list[str]:
    if not report.learned:
        return []
    out = ["### Learned", ""]
    out += [f"- {x.kind} {_m(x.action)} {_code(x.id)}: {_m(w.one_line(x.why, 200))}"
            for x in report.learned]
    return [*out, ""]


def _events(report: RunReport) -> list[str]:
    shown = [e for e in report.events
             if e.kind in ("escalation", "converged", "revalidation", "stop", "infrastructure")]
    if not shown:
        return []
    out = ["### Strategy and convergence", ""]
    out += [f"- after {e.evaluations} evaluations: {_m(w.one_line(e.text, 300))}" for e in shown]
    return [*out, ""]


def _placements(report: RunReport) -> list[str]:
    rows = report.placements
    if not rows or (len(rows) == 1 and not rows[0].node):
        return []
    out = ["### Where the evaluations ran", "",
           "| node | host | device | evaluations | time | retried here |",
           "|---|---|---|---:|---:|---:|"]
    out += [f"| {_code(p.node[:12] or '-')} | {_code(p.host)} | {_code(p.device)} | "
            f"{p.evaluations} | {w.seconds(p.seconds)} | {p.retried} |" for p in rows]
    return [*out, ""]
