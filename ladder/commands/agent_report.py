"""`ladder agent report [RUN]`: report.html and progress.png in the run's directory (or
--out DIR), their paths printed; `--format markdown` prints Markdown for a pull request."""

from __future__ import annotations

from pathlib import Path

from ladder.project import Project

HTML, PNG = "report.html", "progress.png"


def run(project: Project, *, run_id: str | None, out: str | None = None,
        fmt: str = "html") -> int:
    from ladder.agent.report import html, markdown, words
    from ladder.agent.report.load import load_report
    from ladder.agent.report.png import write_png
    from ladder.agent.report.progress import progress_figure
    from ladder.agent.report.shapes import titled
    from ladder.agent.runs import existing_run

    paths = existing_run(project, run_id)
    report = load_report(project.root, paths)
    if fmt == "markdown":
        print(markdown.render(report), end="")
        return 0
    where = Path(out) if out else paths.dir
    where.mkdir(parents=True, exist_ok=True)
    (where / HTML).write_text(html.render(report), encoding="utf-8")
    title = f"ladder run {report.run_id}: {words.headline(report.headline)}"
    write_png(titled(progress_figure(report), words.one_line(title, 150)), where / PNG)
    print(f"ladder agent report: {where / HTML}")
    print(f"ladder agent report: {where / PNG}")
    return 0
