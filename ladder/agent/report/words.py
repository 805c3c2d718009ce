"""Numbers and text as every renderer of a report writes them."""

from __future__ import annotations

import math
import re

from ladder.agent.report.model import Headline

# C0 and C1 control characters but newline and tab: what a proposer's description or an
# evaluation's output may carry (an ANSI escape, a carriage return that rewrites a line)
# and no report, table or JSON meant for a file or a pipe should pass on.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str) -> str:
    """`text` without control characters (newlines and tabs kept)."""
    return _CONTROL.sub("", text)


def one_line(text: str, limit: int = 0) -> str:
    """`text` on one line, cut at a word boundary to `limit` characters (0: whole) with an
    ellipsis: never mid-token (issue 14: `scale x1.2` was shown for `x1.25`)."""
    flat = re.sub(r"\s+", " ", clean(text)).strip()
    if not limit or len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"


def num(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.4g}"


def pct(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:+.1%}"


def interval(low: float | None, high: float | None, fmt: str = "pct") -> str:
    """'95% CI a to b', or '' when there is none."""
    if low is None or high is None:
        return ""
    show = pct if fmt == "pct" else num
    return f"95% CI {show(low)} to {show(high)}"


def headline(h: Headline) -> str:
    """The headline in one line of plain text: the gain with its interval."""
    tail = "; UNVERIFIED (crude decisions: one seed, keep if better)" if h.unverified else ""
    if h.state == "no-baseline":
        return "no baseline measured yet" + tail
    if h.state == "nothing-kept":
        return f"no change kept: the baseline stands ({h.target} {num(h.baseline)})" + tail
    ci = interval(h.relative_low, h.relative_high)
    gain = f"{h.target} {pct(h.relative)}" + (f" ({ci})" if ci else "")
    levels = f"{num(h.baseline)} -> {num(h.best)}"
    if h.state == "not-revalidated":
        return (f"{gain}: {levels}, estimated from paired effects along its lineage; "
                "not re-validated against the baseline" + tail)
    said = (f"{gain} vs the baseline: {levels}, re-validated on {h.seeds} fresh paired "
            f"seed(s)")
    if h.state == "not-replicated":
        said += " - NOT replicated: treat the gain as noise"
    return said + tail


def seconds(value: float) -> str:
    if value < 90:
        return f"{value:.1f} s"
    if value < 5400:
        return f"{value / 60:.1f} min"
    return f"{value / 3600:.1f} h"
