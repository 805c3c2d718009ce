"""`ladder agent report`, `list` and `compare` on runs the real loop recorded
(testing/report_runs.py): every section of the report checked against the run's journal,
the page opened in headless Chromium, journal text from an untrusted proposer shown as
text, and no control character in any output meant for a pipe or a file."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from testing.agent_repo import journal, of_kind
from testing.cli import ladder
from testing.fixtures import git
from testing.report_runs import HOSTILE, agent_run, hostile_repo, rich_run

pytestmark = pytest.mark.slow

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
KEEP_GREEN, BEST_BLUE, HEADLINE_GREEN = (0x00, 0x9E, 0x73), (0x0B, 0x57, 0xD0), (0x1A, 0x7F, 0x37)


@dataclass(frozen=True)
class Recorded:
    root: Path
    run: str
    stdout: str  # of `ladder agent report RUN`

    @property
    def dir(self) -> Path:
        return self.root / ".ladder" / "runs" / self.run

    @property
    def html(self) -> str:
        return (self.dir / "report.html").read_text(encoding="utf-8")

    def records(self) -> list[dict[str, Any]]:
        return journal(self.root, self.run)

    def decisions(self) -> list[dict[str, Any]]:
        return [r["data"] for r in of_kind(self.records(), "decision")]


def _report(root: Path, run: str) -> Recorded:
    proc = ladder(root, "agent", "report", run)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return Recorded(root, run, proc.stdout)


@pytest.fixture(scope="module")
def rich(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    return _report(*rich_run(tmp_path_factory.mktemp("rich") / "repo"))


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    """Two runs of a proposer that writes markup; the report of the second."""
    root = hostile_repo(tmp_path_factory.mktemp("hostile") / "repo")
    agent_run(root)
    git(root, "add", "-A")  # what the first run learned, as the summary says to
    git(root, "commit", "-q", "-m", "what the first run learned")
    return _report(root, agent_run(root))


def _no_control(text: str) -> None:
    found = CONTROL.search(text)
    assert found is None, f"control character {found.group()!r} in: {text[max(0, found.start() - 60):found.end() + 20]!r}"


def _svgs(html: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", html, re.S)


# --- the command ----------------------------------------------------------------------


def test_report_writes_the_page_and_the_picture_and_prints_their_paths(rich: Recorded) -> None:
    assert rich.stdout.splitlines() == [f"ladder agent report: {rich.dir / 'report.html'}",
                                        f"ladder agent report: {rich.dir / 'progress.png'}"]
    _no_control(rich.stdout)
    with Image.open(rich.dir / "progress.png") as image:
        assert image.format == "PNG" and image.width >= 1000
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20) or []
        assert len(colours) > 50  # a chart, not a blank canvas
        assert any(_near(c, KEEP_GREEN) for _, c in colours)
        assert any(_near(c, BEST_BLUE) for _, c in colours)


def test_out_writes_elsewhere_and_a_missing_run_is_named(rich: Recorded, tmp_path: Path) -> None:
    proc = ladder(rich.root, "agent", "report", rich.run, "--out", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "report.html").is_file() and (tmp_path / "out" / "progress.png").is_file()
    missing = ladder(rich.root, "agent", "report", "no-such-run")
    assert missing.returncode == 2
    assert "no run named 'no-such-run'" in missing.stderr and "Traceback" not in missing.stderr


def test_the_page_is_self_contained(rich: Recorded) -> None:
    html = rich.html
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    for needle in ("<script", "<link", "<img", "<iframe", "src=", "href=", "url(", "@import"):
        assert needle not in html.lower(), needle
    assert re.findall(r"https?://[^\s\"']+", html) == ["http://www.w3.org/2000/svg"] * len(_svgs(html))


# --- the headline and the chart ---------------------------------------------------------


def test_the_headline_comes_first_with_its_interval(rich: Recorded) -> None:
    html = rich.html
    [final] = [r["data"] for r in of_kind(rich.records(), "revalidation") if r["data"]["tag"] == "final"]
    low, high = final["relative_ci"]
    h1 = re.search(r"<h1.*?</h1>", html, re.S)
    assert h1 is not None
    text = re.sub(r"<[^>]+>", " ", h1.group()).replace("\u2212", "-")
    assert f"{final['relative']:+.1%}" in text and f"95% CI {low:+.1%} to {high:+.1%}" in text
    # nothing of substance before it, and the chart right after the counts
    assert html.index("<h1") < html.index("<svg") < html.index("Kept changes")
    assert "against the baseline on 2 fresh paired seed(s)" in html


def test_every_candidate_is_a_point_coloured_and_shaped_by_its_verdict(rich: Recorded) -> None:
    chart = _svgs(rich.html)[0]
    decisions = rich.decisions()
    statuses = Counter(d["verdict"]["status"] for d in decisions)
    assert statuses["keep"] and statuses["crash"] and statuses["blocked"]  # the run has them all
    for d in decisions:  # each one's tooltip, saying what its height is
        assert f"<title>#{d['iteration']} {d['verdict']['status']}: " in chart
    points = re.findall(r"<g><title>#\d+ (\w+): .*?</title>(<\w+[^>]*>)", chart, re.S)
    assert Counter(s for s, _ in points) == statuses
    for status, shape in points:
        colour = {"keep": "#009e73", "discard": "#8c8c8c", "crash": "#d55e00", "blocked": "#7b5ea7",
                  "quarantine": "#e69f00"}[status]
        assert colour in shape
        if status == "crash":
            assert shape.startswith("<path")
        if status == "blocked":
            assert shape.startswith("<polygon")
    assert "its parent&#x27;s verified level + its paired effect" not in chart  # text, not attr
    assert "its parent's verified level + its paired effect" in chart
    assert "not its own mean on its seeds" in rich.html  # the caption says what y is


def test_kept_points_are_labelled_and_the_best_has_its_band(rich: Recorded) -> None:
    chart = _svgs(rich.html)[0]
    labels = re.findall(r"<text [^>]*>(#\d+)[^<]*</text>", chart)
    keeps = [d["iteration"] for d in rich.decisions() if d["verdict"]["status"] == "keep"]
    assert sorted(int(x[1:]) for x in labels) == sorted(keeps)
    assert "<polyline" in chart  # the verified best
    assert "re-validation (final) of #" in chart  # its re-validated interval's marker
    assert re.search(r'<rect [^>]*fill="#0b57d0" fill-opacity="0.14"', chart)  # the band


# --- the sections -------------------------------------------------------------------------


def test_the_keeps_table_has_diff_effect_interval_p_and_seeds(rich: Recorded) -> None:
    html = rich.html
    section = html[html.index("<h2>Kept changes"):html.index("<h2>Guard metrics")]
    for d in rich.decisions():
        if d["verdict"]["status"] != "keep":
            continue
        stats, cand = d["verdict"]["stats"], d["candidate"]
        row = section[section.index(f"<code>{cand['commit'][:8]}</code>"):]
        row = row[:row.index("</tr>")]
        assert cand["description"].replace(">", "&gt;") in row
        assert f"{stats['effect']:.4g}" in row and f"{stats['ci'][0]:.4g} to {stats['ci'][1]:.4g}" in row
        assert f"{stats['p']:.2g}" in row and f'<td class="num">{stats["n"]}</td>' in row
        assert "<details><summary>diff</summary><pre>diff --git a/prog.py b/prog.py" in row
        symbol, new = cand["features"]["symbol"], cand["features"]["new"]
        assert f"+{symbol} = {new}" in row


def test_the_guard_section_charts_each_guard_against_its_margin(rich: Recorded) -> None:
    html = rich.html
    refused = Counter(name for d in rich.decisions() for name in d["verdict"]["stats"].get("refused_by") or ())
    assert f"(margin 10%; significant gains refused by it: {refused['size']})" in html
    guard_chart = _svgs(html)[1]
    assert "margin +10%" in guard_chart
    checked = [d for d in rich.decisions() if "size" in (d["verdict"]["stats"].get("guards") or {})
               and d["verdict"]["stats"]["guards"]["size"].get("regression") is not None]
    assert checked and guard_chart.count("<title>#") == len(checked)


def test_blocked_mutations_by_lesson_with_what_they_saved(rich: Recorded) -> None:
    html = rich.html
    section = html[html.index("<h2>Blocked before evaluation"):html.index("<h2>Strategy")]
    by = Counter(lesson for d in rich.decisions() if d["verdict"]["status"] == "blocked"
                 for lesson in d["verdict"]["stats"].get("lessons") or [d["verdict"]["stats"]["kind"]])
    assert by["protect-evaluator"]
    for lesson, count in by.items():
        assert re.search(rf"<code>{re.escape(lesson)}</code>.*?<td class=\"num\">{count}</td>", section, re.S)
    assert f"{sum(by.values())} mutation(s) refused" in section
    assert "evaluation(s) and" in section and "of evaluation time saved" in section


def test_strategy_and_convergence_events(rich: Recorded) -> None:
    html = rich.html
    section = html[html.index("<h2>Strategy and convergence"):html.index("<h2>Skills and lessons")]
    for words in ("calibration: the baseline twice", "outlook: with noise sd",
                  "re-validation (final): best #", "stopped: iteration budget (16) spent"):
        assert words in section


def test_skills_and_lessons_learned(rich: Recorded) -> None:
    html = rich.html
    section = html[html.index("<h2>Skills and lessons"):]
    learned = [r["data"] for r in rich.records() if r["kind"] in ("skill", "lesson")]
    assert learned  # its keeps made skills
    for d in learned:
        assert f"<td>{d['action']}</td><td><code>{d['id']}</code></td>" in section
    assert "The skill library was empty when the run started" in section
    assert "review and commit them" in section


def test_markdown_for_a_pull_request(rich: Recorded) -> None:
    proc = ladder(rich.root, "agent", "report", rich.run, "--format", "markdown")
    assert proc.returncode == 0, proc.stderr
    md = proc.stdout
    _no_control(md)
    assert md.startswith(f"## ladder run `{rich.run}`: loss -")
    assert "95% CI" in md.splitlines()[0]
    assert "| # | commit | change | improvement | 95% CI | p | seeds |" in md
    assert "### Blocked before evaluation" in md and "`protect-evaluator`" in md
    assert f"`git merge ladder/{rich.run}`" in md
    assert not (rich.dir / "report.md").exists()  # printed, for a pipe


# --- untrusted text ----------------------------------------------------------------------


def test_a_proposers_markup_is_shown_as_text(hostile: Recorded) -> None:
    html = hostile.html
    assert HOSTILE in hostile.decisions()[0]["candidate"]["description"]  # the journal has it
    assert "<script" not in html and "<img" not in html and "onerror=alert(1)>" not in html
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in html  # the table and the chart
    assert "# &lt;script&gt;alert(&#x27;diff&#x27;)&lt;/script&gt;" in html  # the diff
    _no_control(html)
    md = ladder(hostile.root, "agent", "report", hostile.run, "--format", "markdown").stdout
    _no_control(md)
    assert re.search(r"(?<!\\)<", md) is None  # every < escaped: no raw HTML in a pull request
    assert "\\<script>" in md and "\\| \\`tick\\`" in md


# --- in a browser -------------------------------------------------------------------------


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("chromium is not installed: the report is checked in a real headless "
                    "browser. Install it: `apt-get install -y chromium` (Debian/Ubuntu; .ci/run "
                    "and the README's test command do this when it is missing)")
    return found


def _browse(page: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # --no-sandbox: CI runs as root, where Chromium's own sandbox refuses to start; the
    # page is ours and runs no script (its Content-Security-Policy forbids any).
    return subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr",
         "--v=0", *args, page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("which", ["rich", "hostile"])
def test_the_page_in_headless_chromium(which: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    recorded: Recorded = request.getfixturevalue(which)
    page = recorded.dir / "report.html"
    shot = tmp_path / "shot.png"
    proc = _browse(page, tmp_path, "--window-size=1280,1000", f"--screenshot={shot}")
    assert proc.returncode == 0 and shot.is_file(), proc.stderr[-2000:]
    # Any console message is a failure: a script error, or the page trying to load or run
    # something its policy refused.
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]
    assert console == []
    with Image.open(shot) as image:
        rgb = image.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 22) or []
        assert len(colours) > 100, "a blank page"
        # What a reader sees first: the green headline on top, the chart in the first screen.
        top = rgb.crop((0, 0, rgb.width, 160)).getcolors(maxcolors=1 << 22) or []
        assert any(_near(c, HEADLINE_GREEN) for _, c in top)
        assert any(_near(c, BEST_BLUE) for _, c in colours)
    dom = _browse(page, tmp_path, "--dump-dom")
    assert dom.returncode == 0 and "Kept changes" in dom.stdout
    assert "<script" not in dom.stdout  # the proposer's markup never became an element
    if which == "hostile":
        assert "&lt;script&gt;alert('pwned')&lt;/script&gt;" in dom.stdout


# --- list and compare ---------------------------------------------------------------------


def test_list_shows_each_run_with_its_headline(hostile: Recorded) -> None:
    proc = ladder(hostile.root, "agent", "list")
    assert proc.returncode == 0, proc.stderr
    _no_control(proc.stdout)
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["run", "started", "status", "evaluations", "keeps", "best", "gain",
                                "(95%", "CI)"]
    runs = sorted(p.name for p in (hostile.root / ".ladder" / "runs").iterdir())
    assert [line.split()[0] for line in lines[1:]] == runs
    assert all(" finished " in line and "loss -" in line for line in lines[1:])
    data = json.loads(ladder(hostile.root, "agent", "list", "--format", "json").stdout)
    assert [r["run"] for r in data["runs"]] == runs and data["unreadable"] == []
    first = data["runs"][0]
    assert first["kept"] == 2 and first["hit_rate"] == 1.0 and first["gain_state"] == "verified"
    assert first["gain_low"] <= first["gain"] <= first["gain_high"] < 0


def test_compare_puts_two_runs_side_by_side(hostile: Recorded) -> None:
    a, b = sorted(p.name for p in (hostile.root / ".ladder" / "runs").iterdir())
    proc = ladder(hostile.root, "agent", "compare", a, b)
    assert proc.returncode == 0, proc.stderr
    _no_control(proc.stdout)
    rows = {line[:32].strip(): line[32:].split() for line in proc.stdout.splitlines()[1:]}
    assert rows["hit rate (keeps per evaluated)"] == ["100%", "(2/2)", "100%", "(2/2)"]
    assert {"evaluations per keep", "blocked share (of proposals)", "best gain (95% CI)",
            "skills at start"} <= set(rows)
    assert rows["skills at start"] == ["0", "1"]  # the second run started with what the first learned
    data = json.loads(ladder(hostile.root, "agent", "compare", a, b, "--format", "json").stdout)
    assert data["comparable"] and data["a"]["run"] == a and data["b"]["run"] == b
    assert data["b"]["skills_at_start"] == 1


def test_the_demo_ends_by_writing_the_report(default_demo: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    proc, root = default_demo
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    [run] = [p for p in (root / ".ladder" / "runs").iterdir()]
    tail = proc.stdout[proc.stdout.index("$ ladder agent report"):]
    assert f"ladder agent report: {run / 'report.html'}" in tail
    assert f"ladder agent report: {run / 'progress.png'}" in tail
    assert (run / "report.html").is_file() and (run / "progress.png").is_file()


def _near(colour: Any, want: tuple[int, int, int], tolerance: int = 6) -> bool:
    return isinstance(colour, tuple) and all(abs(c - w) <= tolerance for c, w in zip(colour, want, strict=False))
