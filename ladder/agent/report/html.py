"""report.html: one self-contained page (inline SVG and CSS, no script, no network).

The first screen is the headline (the best verified gain with its interval against the
baseline) and the progress chart; the sections after it say how the run got there. All
text from the journal is escaped (`_e`): descriptions, diffs and reasons come from an
untrusted proposer. The Content-Security-Policy forbids scripts and every fetch as a
second line of defence.
"""

from __future__ import annotations

from html import escape

from ladder.agent.report import words as w
from ladder.agent.report.guardchart import guard_figure
from ladder.agent.report.model import Blocked, Keep, RunReport
from ladder.agent.report.progress import progress_figure
from ladder.agent.report.shapes import COLOURS
from ladder.agent.report.svg import svg

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
DIFF_LINES = 400  # a kept diff longer than this is cut (the commit has it all)

CSS = """
:root { --ink:#1f2328; --muted:#59636e; --line:#d0d7de; --soft:#f6f8fa; --good:#1a7f37;
        --warn:#9a6700; --bad:#cf222e; --blue:#0b57d0; }
* { box-sizing: border-box; }
body { margin:0; color:var(--ink); background:#fff;
       font:15px/1.5 "DejaVu Sans","Liberation Sans",Helvetica,Arial,sans-serif; }
main { max-width:1080px; margin:0 auto; padding:28px 28px 64px; }
.eyebrow { color:var(--muted); font-size:13px; margin:0 0 6px; }
h1 { font-size:20px; font-weight:normal; margin:0; }
h1 .big { font-size:46px; font-weight:bold; letter-spacing:-0.5px; margin:0 10px 0 6px; }
h1.good .big { color:var(--good); } h1.warn .big { color:var(--warn); }
h1.none .big { color:var(--muted); font-size:30px; }
h1 .ci { color:var(--muted); font-size:18px; white-space:nowrap; }
.sub { margin:4px 0 12px; color:var(--ink); }
.chips { display:flex; flex-wrap:wrap; gap:8px; margin:0 0 8px; padding:0; list-style:none; }
.chips li { border:1px solid var(--line); border-radius:14px; padding:2px 11px; font-size:13px;
            background:var(--soft); }
.chips i { display:inline-block; width:9px; height:9px; border-radius:50%; margin-right:6px; }
.alert { border-left:4px solid var(--warn); background:#fff8c5; padding:6px 12px; margin:6px 0;
         font-size:14px; }
figure { margin:14px 0 6px; } figcaption { color:var(--muted); font-size:13px; max-width:900px; }
h2 { font-size:19px; margin:34px 0 8px; padding-bottom:4px; border-bottom:1px solid var(--line); }
table { border-collapse:collapse; width:100%; font-size:14px; }
th, td { text-align:left; vertical-align:top; padding:6px 8px; border-bottom:1px solid var(--line); }
th { background:var(--soft); font-weight:600; }
td.num { text-align:right; white-space:nowrap; font-variant-numeric:tabular-nums; }
code, pre { font-family:"DejaVu Sans Mono","Liberation Mono",monospace; font-size:12.5px; }
pre { background:var(--soft); padding:10px; overflow-x:auto; margin:6px 0 0; max-height:420px; }
pre.take { font-size:13.5px; }
details summary { cursor:pointer; color:var(--blue); }
ul.timeline { list-style:none; padding:0; margin:0; }
ul.timeline li { padding:4px 0; border-bottom:1px dashed var(--line); display:grid;
                 grid-template-columns:170px 1fr; gap:10px; }
ul.timeline .at { color:var(--muted); }
.ok { color:var(--good); } .failed { color:var(--bad); font-weight:600; } .muted { color:var(--muted); }
footer { margin-top:40px; color:var(--muted); font-size:12.5px; }
"""


def render(report: RunReport) -> str:
    parts = [_hero(report), _chart(report), _take(report), _keeps(report), _guards(report),
             _blocked(report), _timeline(report), _placements(report), _learning(report),
             _footer(report)]
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{_e(report.settings.target)} {_e(_gain_text(report))} - ladder run {_e(report.run_id)}</title>"
        f"<style>{CSS}</style></head>\n<body><main>\n" + "\n".join(parts) + "\n</main></body></html>\n"
    )


def _e(text: object) -> str:
    return escape(w.clean(str(text)), quote=True)


# --- the first screen ----------------------------------------------------------------


def _gain_text(report: RunReport) -> str:
    h = report.headline
    if h.state in ("no-baseline", "nothing-kept"):
        return "no verified gain"
    return w.pct(h.relative).replace("-", "\u2212")


def _hero(report: RunReport) -> str:
    h, s = report.headline, report.settings
    meta = " · ".join(x for x in (
        f"ladder run {report.run_id}", f"started {report.started[:16].replace('T', ' ')} UTC" if report.started else "",
        w.seconds(report.seconds), f"{s.strategy}, {s.proposer} proposer",
        "UNVERIFIED: crude decisions" if s.unverified else f"{s.decision} decisions") if x)
    tone = {"verified": "good", "not-replicated": "warn", "not-revalidated": "warn"}.get(h.state, "none")
    ci = w.interval(h.relative_low, h.relative_high).replace("-", "\u2212")
    colon = "" if _lead(report) else ":"  # "val_loss: no verified gain"
    title = (f'<h1 class="{tone}">{_e(_lead(report))} <b>{_e(h.target)}</b>{colon}'
             f'<span class="big">{_e(_gain_text(report))}</span>'
             + (f'<span class="ci">{_e(ci)}</span>' if ci else "") + "</h1>")
    return (f'<header>\n<p class="eyebrow">{_e(meta)}</p>\n{title}\n'
            f'<p class="sub">{_e(_sub(report))}</p>\n{_chips(report)}\n{_alerts(report)}</header>')


def _lead(report: RunReport) -> str:
    """The words before the number: what kind of number it is."""
    h = report.headline
    if report.settings.unverified:
        return "best kept, UNVERIFIED:"
    return {"verified": "best verified", "not-replicated": "best kept, NOT replicated:",
            "not-revalidated": "best kept, not re-validated:"}.get(h.state, "")


def _sub(report: RunReport) -> str:
    h = report.headline
    if h.state == "no-baseline":
        return "the run has not measured its baseline yet"
    if h.state == "nothing-kept":
        return f"nothing was kept: the baseline stands ({h.target} {w.num(h.baseline)})"
    change = f"#{h.iteration} {h.commit[:8]}: {w.one_line(h.description, 90)}"
    if h.state == "not-revalidated":
        return (f"{w.num(h.baseline)} → {w.num(h.best)} estimated from the paired effects "
                f"along its lineage, not re-validated · {change}")
    return (f"{w.num(h.baseline)} → {w.num(h.best)} against the baseline on {h.seeds} fresh "
            f"paired seed(s) · {change}")


def _chips(report: RunReport) -> str:
    c = report.counts
    items = [(None, f"{c.iterations} iterations"), (None, f"{c.evaluations} evaluations"),
             ("keep", f"{c.kept} kept"), ("discard", f"{c.discarded} discarded"),
             ("crash", f"{c.crashed} crashed"), ("blocked", f"{c.blocked} blocked before evaluation")]
    if c.quarantined:
        items.append(("quarantine", f"{c.quarantined} quarantined ({c.awaiting_review} awaiting review)"))
    if c.tampered:
        items.append(("tamper", f"{c.tampered} tampered"))
    out = [f'<li><i style="background:{COLOURS[k]}"></i>{_e(t)}</li>' if k else f"<li>{_e(t)}</li>"
           for k, t in items]
    return '<ul class="chips">' + "".join(out) + "</ul>"


def _alerts(report: RunReport) -> str:
    s, h, c = report.settings, report.headline, report.counts
    said = []
    if h.state == "not-replicated":
        said.append("The final re-validation did not replicate the gain on fresh seeds: treat it as noise.")
    if s.unverified:
        said.append("Crude decisions (one seed, keep if better): these keeps are UNVERIFIED.")
    if not s.scored:
        said.append(f"{s.target} is a self-reported metric: the candidate can forge it; "
                    "configure `score` (docs/agent.md).")
    if c.awaiting_review:
        said.append(f"{c.awaiting_review} quarantined candidate(s) await a person: "
                    f"ladder agent review {report.run_id}")
    if report.journal is not None and not report.journal.intact:
        said.append(f"The journal's hash chain is broken ({report.journal.problem}): "
                    f"ladder agent verify {report.run_id}")
    return "".join(f'<p class="alert">{_e(x)}</p>' for x in said)


def _chart(report: RunReport) -> str:
    return (f"<figure>{svg(progress_figure(report))}<figcaption>"
            f"Each point is a candidate, placed at the evaluations spent when it was decided. "
            f"Its height is its parent's verified level plus its paired effect (candidate minus "
            f"parent on the same seeds), not its own mean on its seeds, which seed noise moves "
            f"as much as the change does; hover a point for both. The blue line is the "
            f"verified best; the shaded band is the re-validated 95% interval against the "
            f"baseline on fresh seeds. Blocked mutations cost no evaluation.</figcaption></figure>")


def _take(report: RunReport) -> str:
    if not report.keeps:
        return ""
    return (f"<h2>Take the result</h2><p>The kept chain is the branch <code>{_e(report.branch)}</code>; "
            f"review it, then merge it (or cherry-pick single keeps):</p>"
            f'<pre class="take">git log --oneline HEAD..{_e(report.branch)}\n'
            f"git merge {_e(report.branch)}</pre>")


# --- the sections --------------------------------------------------------------------


def _keeps(report: RunReport) -> str:
    if not report.keeps:
        return "<h2>Kept changes</h2><p class=\"muted\">None.</p>"
    head = ("<tr><th>#</th><th>change</th><th>improvement</th><th>95% CI</th><th>p</th>"
            "<th>seeds</th><th>guards</th></tr>")
    rows = "".join(_keep_row(k) for k in report.keeps)
    return (f"<h2>Kept changes</h2><p class=\"muted\">Improvement in {_e(report.settings.target)} "
            f"units, positive = better, paired against its parent.</p><table>{head}{rows}</table>")


def _keep_row(k: Keep) -> str:
    ci = f"{w.num(k.ci[0])} to {w.num(k.ci[1])}" if k.ci else "-"
    guards = ", ".join(f"{g.name} {'ok' if g.ok else 'FAILED'} ({w.pct(g.regression)})"
                       for g in k.guards) or "-"
    label = f'<br><span class="muted">{_e(k.label)}</span>' if k.label else ""
    diff = _diff(k)
    return (f"<tr><td class=\"num\">{k.iteration}</td><td><code>{_e(k.commit[:8])}</code> "
            f"{_e(w.one_line(k.description))}{label}{diff}</td>"
            f"<td class=\"num\">{_e(w.num(k.improvement))}</td><td class=\"num\">{_e(ci)}</td>"
            f"<td class=\"num\">{_e(f'{k.p:.2g}' if k.p is not None else '-')}</td>"
            f"<td class=\"num\">{k.seeds}</td><td>{_e(guards)}</td></tr>")


def _diff(k: Keep) -> str:
    if not k.diff:
        return ""
    lines = k.diff.splitlines()
    cut = f"\n... {len(lines) - DIFF_LINES} more lines: git show {k.commit[:12]}" \
        if len(lines) > DIFF_LINES else ""
    return f"<details><summary>diff</summary><pre>{_e(chr(10).join(lines[:DIFF_LINES]) + cut)}</pre></details>"


def _guards(report: RunReport) -> str:
    if not report.settings.guards:
        return ("<h2>Guard metrics</h2><p class=\"muted\">No guard metric is configured: a keep "
                "may regress anything but the target unseen (docs/verification.md).</p>")
    refused = dict(report.counts.refused_by_guard)
    out = ["<h2>Guard metrics</h2><p class=\"muted\">Each decision's regression of the guard "
           "against its parent (whisker: the upper bound of its non-inferiority test); a keep "
           "needs that bound under the margin.</p>"]
    for name, margin in report.settings.guards:
        out.append(f"<h3>{_e(name)} <span class=\"muted\">(margin {_e(f'{margin:.0%}')}; "
                   f"significant gains refused by it: {refused.get(name, 0)})</span></h3>")
        tested = any(g.check.name == name and g.check.regression is not None
                     for g in report.guard_points)
        out.append(f"<figure>{svg(guard_figure(report, name, margin))}</figure>" if tested else
                   "<p class=\"muted\">No decision reached this guard's test: every candidate "
                   "was discarded, crashed or blocked before it.</p>")
    return "".join(out)


def _blocked(report: RunReport) -> str:
    if not report.blocked:
        return "<h2>Blocked before evaluation</h2><p class=\"muted\">Nothing was blocked.</p>"
    evals = sum(b.evaluations_saved for b in report.blocked)
    secs = sum(b.seconds_saved for b in report.blocked)
    head = ("<tr><th>by</th><th>blocked</th><th>evaluations saved</th><th>time saved</th>"
            "<th>why, and what it refused</th></tr>")
    rows = "".join(_blocked_row(b) for b in report.blocked)
    return (f"<h2>Blocked before evaluation</h2><p>{report.counts.blocked} mutation(s) refused "
            f"in milliseconds at <code>git commit</code>, about {evals:.0f} evaluation(s) and "
            f"{_e(w.seconds(secs))} of evaluation time saved (at this run's mean evaluated "
            f"candidate).</p><table>{head}{rows}</table>")


def _blocked_row(b: Blocked) -> str:
    taught = ' <span class="muted">(taught by a run)</span>' if b.taught else ""
    examples = "".join(f"<br><code>{_e(w.one_line(x, 120))}</code>" for x in b.examples)
    return (f"<tr><td><code>{_e(b.by)}</code>{taught}</td><td class=\"num\">{b.count}</td>"
            f"<td class=\"num\">{b.evaluations_saved:.0f}</td>"
            f"<td class=\"num\">{_e(w.seconds(b.seconds_saved))}</td>"
            f"<td>{_e(w.one_line(b.reason, 300))}{examples}</td></tr>")


def _timeline(report: RunReport) -> str:
    items = "".join(
        f"<li><span class=\"at\">{e.evaluations} evaluations"
        + (f", #{e.iteration}" if e.iteration else "") + f"</span><span>{_e(w.one_line(e.text, 400))}</span></li>"
        for e in report.events)
    return (f"<h2>Strategy and convergence</h2><ul class=\"timeline\">{items or '<li>none</li>'}</ul>")


def _placements(report: RunReport) -> str:
    """Where the evaluations ran: shown for a cluster (a node id) or several devices."""
    rows = report.placements
    if not rows or (len(rows) == 1 and not rows[0].node):
        return ""
    body = "".join(
        f"<tr><td><code>{_e(p.node[:12] or '-')}</code></td><td>{_e(p.host)}</td>"
        f"<td>{_e(p.device)}</td><td class=\"num\">{p.evaluations}</td>"
        f"<td class=\"num\">{_e(w.seconds(p.seconds))}</td><td class=\"num\">{p.retried}</td></tr>"
        for p in rows)
    return ("<h2>Where the evaluations ran</h2><table><tr><th>node</th><th>host</th>"
            "<th>device</th><th>evaluations</th><th>time</th><th>retried here</th></tr>"
            f"{body}</table>")


def _learning(report: RunReport) -> str:
    rows = "".join(
        f"<tr><td>{_e(x.kind)}</td><td>{_e(x.action)}</td><td><code>{_e(x.id)}</code></td>"
        f"<td class=\"num\">{x.iteration if x.iteration is not None else '-'}</td>"
        f"<td>{_e(w.one_line(x.why, 300))}</td></tr>" for x in report.learned)
    table = (f"<table><tr><th>what</th><th>action</th><th>id</th><th>#</th><th>why</th></tr>{rows}</table>"
             if rows else "<p class=\"muted\">Nothing learned in this run.</p>")
    review = ("<p>Learned skills and lessons are written to <code>.ladder/skills/</code> and "
              "<code>.ladder/lessons/</code>, not committed: review and commit them "
              "(<code>git add .ladder &amp;&amp; git commit</code>).</p>" if report.learned else "")
    return f"<h2>Skills and lessons</h2><p>{_e(_injected(report))}</p>{table}{review}"


def _injected(report: RunReport) -> str:
    """What the run started with (the skills injected into its proposals) and what the
    lessons earlier runs taught saved it."""
    n = report.skills_at_start
    said = ("The skill library's size at the start is not in this journal (the run has not stopped)."
            if n is None else "The skill library was empty when the run started: nothing was injected."
            if n == 0 else f"The skill library held {n} skill(s) when the run started; the active "
            "ones were injected into its proposals.")
    if report.saved_by_taught:
        said += (f" Lessons taught by failures blocked {report.saved_by_taught} candidate(s) "
                 "before evaluation.")
    return said


def _footer(report: RunReport) -> str:
    j = report.journal
    chain = ("" if j is None else
             f"journal: {j.records} records, hash chain {'intact' if j.intact else 'BROKEN'}, "
             f"head {j.head[:16]}. ")
    return (f"<footer>{_e(chain)}Generated by <code>ladder agent report {_e(report.run_id)}</code> "
            f"from the run's journal; <code>ladder agent explain {_e(report.run_id)} N</code> says "
            f"why any candidate ended as it did.</footer>")
