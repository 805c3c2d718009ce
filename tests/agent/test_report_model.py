"""What the report reads from a journal, on runs of the shipped loop with the shipped
fakes (testing/worlds.py, milliseconds each): where each point goes, the verified best,
the headline, blocks priced at the mean candidate; and the pure pieces of rendering
(labels that do not collide, text cut at a word, every renderer escaping)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ladder.agent.report import html, markdown, read_report
from ladder.agent.report.labels import Area, Want, place
from ladder.agent.report.model import Point, RunReport
from ladder.agent.report.shapes import Figure, Text
from ladder.agent.report.summary import compare_text, list_text, summarize
from ladder.agent.report.svg import svg
from ladder.agent.report.words import clean, one_line
from testing.worlds import loop_run, move, started

LOSER = move(+1.0)
Step = Callable[[str, int], "str | None"]


def _report(tmp_path: Path, steps: list[Step], iterations: int = 6
            ) -> tuple[RunReport, list[dict[str, Any]]]:
    run, ws, journal = loop_run(tmp_path, steps)
    started(run, ws)
    for it in range(1, iterations + 1):
        run.iterate(it)
    run.revalidate("final")
    return read_report("t", journal.records()), journal.records()


def test_a_point_sits_at_its_parents_verified_level_plus_its_paired_effect(tmp_path: Path) -> None:
    report, _ = _report(tmp_path, [move(-1.0), LOSER, move(-0.5), LOSER], iterations=4)
    assert [p.status for p in report.points] == ["keep", "discard", "keep", "discard"]
    first, loser, second, last = (_level(p) for p in report.points)
    assert report.baseline is not None
    # loss is minimised: a positive improvement lowers it
    assert first[0] == pytest.approx(report.baseline - first[1])  # its parent: the baseline
    assert loser[0] == pytest.approx(first[0] - loser[1])  # its parent: the first keep
    assert second[0] == pytest.approx(first[0] - second[1])
    assert last[0] == pytest.approx(second[0] - last[1]) and last[0] > second[0]
    # its own mean on its seeds is kept for the tooltip, never used as its height
    assert all(p.mean is not None for p in report.points)


def _level(point: Point) -> tuple[float, float]:
    assert point.value is not None and point.improvement is not None
    return point.value, point.improvement


def test_the_best_steps_at_each_keep_and_the_headline_is_the_final_revalidation(tmp_path: Path) -> None:
    report, records = _report(tmp_path, [move(-1.0), LOSER, move(-0.5)], iterations=3)
    assert [s.iteration for s in report.best] == [0, 1, 3]
    assert report.best[-1].value < report.best[-2].value < report.best[0].value
    [final] = [r["data"] for r in records if r["kind"] == "revalidation"]
    h = report.headline
    assert h.state == "verified" and h.iteration == 3
    assert (h.relative, h.relative_low, h.relative_high) == (final["relative"], *final["relative_ci"])
    [band] = report.revalidations
    assert band.since == report.best[-1].evaluations  # the band starts where that best did
    assert band.low is not None and band.high is not None and band.low <= band.value <= band.high
    # x is evaluations in journal order: rising, and the re-validation spent the last ones
    xs = [p.evaluations for p in report.points]
    assert xs == sorted(xs) and band.evaluations == report.counts.evaluations > xs[-1]


def test_a_run_that_kept_nothing_says_so_everywhere(tmp_path: Path) -> None:
    report, _ = _report(tmp_path, [LOSER], iterations=3)
    assert report.headline.state == "nothing-kept" and not report.revalidations
    page = html.render(report)
    assert "no verified gain" in page and "nothing was kept: the baseline stands" in page
    assert "No change was kept." in markdown.render(report)
    assert "none" in list_text([summarize(report)])


def test_blocked_proposals_cost_nothing_and_are_priced_at_the_mean_candidate(tmp_path: Path) -> None:
    nothing = lambda text, it: None  # noqa: E731 -- a proposer with nothing: refused as invalid
    report, records = _report(tmp_path, [move(-1.0), nothing, LOSER, nothing], iterations=4)
    [blocked] = report.blocked
    assert blocked.by == "invalid" and blocked.count == 2
    assert [p.value for p in report.points if p.status == "blocked"] == [None, None]
    spent = Counter(r["data"]["iteration"] for r in records if r["kind"] == "evaluation")
    evaluated = [spent[p.iteration] for p in report.points if p.status != "blocked"]
    assert blocked.evaluations_saved == pytest.approx(2 * sum(evaluated) / len(evaluated))
    assert blocked.seconds_saved > 0  # the world's evaluations take a minute each


def test_compare_says_when_targets_differ(tmp_path: Path) -> None:
    report, _ = _report(tmp_path, [move(-1.0)], iterations=1)
    a = summarize(report)
    b = replace(a, target="accuracy", direction="max")
    assert "different targets" in compare_text(a, b)
    assert "different targets" not in compare_text(a, a)


# --- the pure pieces --------------------------------------------------------------------


@pytest.mark.parametrize(("text", "limit", "want"), [
    pytest.param("prog.py: X 2.187 -> 1.9683 (scale x1.25)", 0, "prog.py: X 2.187 -> 1.9683 (scale x1.25)", id="whole"),
    pytest.param("prog.py: LR 0.1 -> 0.125 (scale x1.25)", 37, "prog.py: LR 0.1 -> 0.125 (scale…", id="at-a-word"),
    pytest.param("a\tb\n\nc", 0, "a b c", id="one-line"),
    pytest.param("red \x1b[31mX\x1b[0m\r", 0, "red [31mX[0m", id="no-control"),
])
def test_one_line_cuts_at_a_word_never_mid_token(text: str, limit: int, want: str) -> None:
    assert one_line(text, limit) == want


def test_clean_keeps_newlines_and_drops_controls() -> None:
    assert clean("a\nb\tc\x00\x1b\x9b") == "a\nb\tc"


def test_labels_with_room_do_not_collide() -> None:
    wants = [Want(200 + 6 * k, 200, (f"#{k} a fairly long description of a change",)) for k in range(4)]
    texts = place(wants, Area(0, 0, 1000, 400), [], "#000")
    assert len(texts) == 4 and len({(t.angle, t.anchor) for t in texts}) > 1


def test_a_crowded_label_falls_back_to_its_number() -> None:
    wants = [Want(50, 50, ("#1 a long description that cannot fit", "#1"))]
    [text] = place(wants, Area(0, 0, 120, 100), [], "#000")
    assert text.text == "#1"


def test_svg_escapes_every_text_and_title() -> None:
    drawn = svg(Figure(10, 10, (Text(1, 1, "<script>alert(1)</script>"),), '<b title="x">'))
    assert "<script" not in drawn and "<b " not in drawn
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in drawn and "&lt;b title=&quot;x&quot;&gt;" in drawn
