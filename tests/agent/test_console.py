"""What a run says on the console (issue 14): descriptions cut at a word, the hook's
reason for a refusal, a crash's traceback tail, the paired value of a candidate; and its
live progress -- snapshots from the real loop, plain lines without a control character
off a terminal, a rich Live stopped cleanly whatever ends the run."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from ladder.agent import live
from ladder.agent.console import candidate_line, clip, hook_reason, tail_lines
from ladder.agent.interrupt import Interrupted
from ladder.agent.records import Candidate, Verdict
from ladder.commands.agent_summary import learned_words
from testing.worlds import loop_run, move, started

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # anything but tab and newline

PRE_COMMIT_FAILED = """\
ruff.....................................................................Failed
- hook id: ruff
- exit code: 1

\x1b[1mtrain.py\x1b[0m:3:1: F401 `os` imported but unused
Found 1 error.
"""


def cand(status: str, description: str, effect: float | None = None) -> Candidate:
    return Candidate(iteration=7, commit="ab" * 20, parent="cd" * 20, description=description,
                     status=status, effect=effect)


def test_a_description_is_cut_at_a_word_never_inside_one() -> None:
    words = "train.py: LEARNING_RATE 0.04 -> 0.05 (scale x1.25) and a note that goes on"
    cut = clip(words, 48)
    assert cut.endswith("...") and len(cut) <= 48
    assert "x1.2" not in cut or "x1.25" in cut  # never `x1.2` for `x1.25`
    assert clip("short", 48) == "short"
    assert clip("\x1b[31mred\x1b[0m\nline", 48) == "red line"  # printable, one line


def test_the_line_shows_the_paired_difference_from_the_parent() -> None:
    keep = Verdict("keep", ("improved",), {"n": 3, "delta": -0.074})
    line = candidate_line(cand("keep", "train.py: X 3.0 -> 2.7 (shift -10%)", -0.074), keep, "loss")
    assert line.endswith("loss -0.074 vs parent on 3 paired seeds")
    unsure = Verdict("discard", ("not significant",), {"n": 2, "effect": 0.2, "p": 0.004,
                                                        "alpha": 0.0026})
    line = candidate_line(cand("discard", "x", -0.2), unsure, "loss")
    assert line.endswith("loss -0.2 vs parent on 2 paired seeds; not significant (p=0.004 > alpha 0.0026)")
    guarded = Verdict("discard", ("refused",), {"n": 2, "effect": 0.2, "refused_by": ["latency"]})
    assert candidate_line(cand("discard", "x", -0.2), guarded, "loss").endswith("refused by guard latency")
    quarantined = Verdict("quarantine", ("too fast",), {"n": 1})
    assert "awaiting review" in candidate_line(cand("quarantine", "x", 1.0), quarantined, "loss")


def test_a_refusal_says_the_hooks_reason() -> None:
    blocked = Verdict("blocked", ("refused by the hooks: protect-evaluator: evaluate.py is "
                                  "protected (modified): The evaluator is ground truth",), {})
    line = candidate_line(cand("blocked", "evaluate.py: NOISE 0.001 -> 0.002 (scale x2)"), blocked, "loss")
    assert "protect-evaluator: evaluate.py is protected" in line
    assert hook_reason(PRE_COMMIT_FAILED) == "hook 'ruff' failed: train.py:3:1: F401 `os` imported but unused"
    missing = "No .pre-commit-config.yaml file was found\n- To temporarily silence this, run ...\n"
    assert hook_reason(missing) == "No .pre-commit-config.yaml file was found"


def test_a_crash_shows_the_tail_of_its_traceback() -> None:
    tail = ("Traceback (most recent call last):\n  File \"train.py\", line 3, in <module>\n"
            "    x = 1 / 0\nZeroDivisionError: division by zero\n\n")
    crash = Verdict("crash", ("seed 5: exit code 1",), {"n": 1, "tail": tail})
    first, *below = candidate_line(cand("crash", "train.py: delete line 3"), crash, "loss").splitlines()
    assert first.endswith("seed 5: exit code 1")
    assert below[-1].endswith("| ZeroDivisionError: division by zero")
    assert tail_lines(tail, 2) == ["    x = 1 / 0", "ZeroDivisionError: division by zero"]


def test_the_loop_reports_its_progress(tmp_path: Path) -> None:
    run, ws, _ = loop_run(tmp_path, [move(-0.5), move(0.5)])
    seen: list[live.Snapshot] = []
    run.progress = seen.append
    started(run, ws)
    run.iterate(1)
    run.iterate(2)
    phases = [s.phase for s in seen]
    assert phases[0].startswith("baseline") and any(p.startswith("calibration") for p in phases)
    assert any(s.running and s.running[0].split()[1] == "seed" for s in seen)  # who, seed
    assert [s.spent for s in seen] == sorted(s.spent for s in seen)  # never backwards
    last = seen[-1]
    assert last.decided == 2 and sum(last.counts.values()) == 2
    assert last.counts["keep"] == 1 and last.best.startswith("#1 ")
    assert "95% CI" in last.best and last.budget == 400


def test_plain_progress_has_no_control_character_and_says_when_a_phase_starts() -> None:
    out = io.StringIO()
    ticks = iter([0.0, 10.0, 40.0])
    shown = live.PlainDisplay(out, every=30.0, clock=lambda: next(ticks))
    base = live.Snapshot(phase="baseline abc", running=("parent seed 1", "parent seed 2"),
                         batch=(0, 2), budget=64, elapsed=3.0)
    shown.update(base)  # a phase starts: said
    shown.update(base)  # 10 s later: quiet
    shown.line("#1    keep       prog.py: X 3.0 -> 2.7 (shift -10%)  loss -1.11 vs parent")
    shown.update(live.Snapshot(phase="iteration 1", running=("candidate seed 1",), batch=(0, 1),
                               spent=30, budget=64, decided=1, elapsed=60.0))  # 30 s on: said
    text = out.getvalue()
    progress = [line for line in text.splitlines() if line.startswith("progress: ")]
    assert len(progress) == 2
    assert "baseline abc: evaluating parent seed 1, parent seed 2 (0 of 2 done)" in progress[0]
    assert "evaluations 30 of 64" in progress[1] and "about 1m08s left" in progress[1]
    assert "#1    keep" in text and not CONTROL.search(text)


def test_quiet_shows_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    shown = live.display(quiet=True)
    with shown:
        shown.line("#1 keep")
        shown.update(live.Snapshot(phase="baseline", running=("x",), batch=(0, 1)))
    assert capsys.readouterr().out == ""


def test_a_live_display_is_stopped_when_a_signal_ends_the_run() -> None:
    from rich.console import Console

    shown = live.LiveDisplay()
    shown.console = Console(file=io.StringIO(), force_terminal=True, width=100)
    with pytest.raises(Interrupted), shown:
        shown.update(live.Snapshot(phase="baseline", running=("parent seed 1",), batch=(0, 1)))
        shown.line("baseline abc: loss 1.0")
        raise Interrupted(2)
    assert shown._live is None  # stopped
    written = shown.console.file.getvalue()  # type: ignore[attr-defined]
    assert "baseline abc: loss 1.0" in written
    assert written.rfind("\x1b[?25h") > written.rfind("\x1b[?25l")  # the cursor is back
    shown.stop()  # idempotent


def test_eta_takes_the_budget_that_ends_first() -> None:
    snap = live.Snapshot(phase="iteration 5", spent=20, budget=100, decided=4, iterations=10,
                         elapsed=200.0, hours=1.0)
    assert live.eta(snap) == pytest.approx(300.0)  # iterations: 6 more at 50 s each
    assert live.eta(live.Snapshot(phase="baseline")) is None
    assert live.duration(3725) == "1h02m"


def test_learned_counts_agree_with_the_lines_the_run_printed() -> None:
    """The demo printed "skill updated" eight times and then "updated 0": a skill this
    run created and then verified again was counted nowhere."""
    records = [{"kind": "skill", "data": {"action": "created", "id": "lr-up"}}]
    records += [{"kind": "skill", "data": {"action": "updated", "id": "lr-up"}}] * 8
    got = {"lessons_taught": [], "evaluations_saved": 0}
    words = learned_words(got, records)
    assert "skills created 1, updated 1 (8 times), deprecated 0" in words


def test_consecutive_refusals_in_the_same_words_are_one_line() -> None:
    from ladder.agent.console import Repeats

    repeats = Repeats()
    same = "blocked    no untried mutation found in 128 draws"
    out: list[str] = []
    out += repeats.add(22, "#22   discard    x", "discard")
    for it in range(23, 75):
        out += repeats.add(it, f"#{it:<4} {same}", "blocked")
    out += repeats.add(75, "#75   keep       y", "keep")
    out += repeats.flush()
    assert out == ["#22   discard    x", f"#23   {same}", "#24-#74  the same again (51 more)",
                   "#75   keep       y"]
    assert repeats.add(76, "#76   blocked    a", "blocked") == ["#76   blocked    a"]
    assert repeats.add(77, "#77   blocked    b", "blocked") == ["#77   blocked    b"]  # other words
    assert repeats.add(78, "#78   blocked    b", "blocked") == []
    assert repeats.flush() == ["#78   blocked    b"]  # a single repeat is printed as it was
    assert repeats.flush() == []
