"""Online false-discovery-rate control over a run's decisions: ADDIS.

ADDIS (Tian & Ramdas 2019, "ADDIS: an adaptive discarding algorithm for online FDR
control with conservative nulls", NeurIPS) gives test t the level alpha_t from what the
earlier tests did, and controls the FDR of the whole stream (the expected share of
rejections -- keeps -- that are false) at `fdr` for independent p-values:

    alpha_t = min(lambda, (tau - lambda) [ W0 g(S - C + 1)
                                           + (fdr - W0) g(S - S_1 - (C - C_1) + 1)
                                           + fdr sum_{j>=2} g(S - S_j - (C - C_j) + 1) ])

S counts the tests with p <= tau ("selected": the rest are discarded and cost nothing),
C those with p <= lambda ("candidates": likely non-null, they refund their cost), and
(S_j, C_j) are those counts at the j-th rejection; g is a nonincreasing sequence summing
to one, W0 = fdr/2.

The sequence g (`SEQUENCES`): the reference implementation's default is g_j proportional
to j^-1.6 ("power"). Its index j counts the tests with p in (lambda, tau] since a keep, and
in a run that index stays within a few dozen: g_j ~ j^-1.6 puts 44% of the wealth on
j = 1 and little on the 5 to 30 that a run's gaps between keeps reach, so the level
there is a tenth of what it could be. The default ("mixed") puts 70% on a geometric
sequence (1 - q) q^(j-1), q = 0.93 (mean index 14), and keeps 30% of j^-1.6 as a heavy
tail for long dry spells. Any nonincreasing g summing to at most one keeps ADDIS's
guarantee. In a simulated stream like the benchmark's (250 tests, 3.5% real effects,
55% nulls, the rest harmful) it keeps 12-30% more real effects at the same FDR.

Why ADDIS here: most proposals are harmful or neutral, and their p-values pile up near 1
("conservative nulls"). LORD++ and SAFFRON spend alpha-wealth on every one of them and
starve; ADDIS discards them. A candidate dropped for futility reports its stagewise
p-value (ladder/agent/decisions/verified.py): a harmful one's is near 1, so it is
discarded and costs the run nothing, while a null's stays uniform, as ADDIS needs.
Decisions never overlap in the loop (a decision's seeds run in parallel, decisions one
after another), so the synchronous procedure applies; the asynchronous variant (Zrnic,
Ramdas & Jordan 2021) would be needed if they did.

Reference values: tests/agent/test_stats_fdr.py reproduces the alpha_i of the `onlineFDR`
R package's documented ADDIS example.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ladder.errors import LadderError

__all__ = ["SEQUENCES", "Addis", "gamma", "mixed"]

_ZETA_1_6 = 2.2857656  # sum_{j>=1} j^-1.6: g_j = j^-1.6 / zeta(1.6) sums to one
GEOMETRIC_SHARE, GEOMETRIC_Q = 0.7, 0.93  # the "mixed" sequence (module docstring)


def gamma(j: int) -> float:
    """The j-th term (1-based) of the reference sequence, j^-1.6 / zeta(1.6)."""
    return 0.0 if j < 1 else j ** -1.6 / _ZETA_1_6


def mixed(j: int) -> float:
    """The j-th term (1-based) of the default sequence: most of the wealth over the
    indices a run reaches between keeps, a heavy tail for long dry spells."""
    if j < 1:
        return 0.0
    geometric = (1 - GEOMETRIC_Q) * GEOMETRIC_Q ** (j - 1)
    return GEOMETRIC_SHARE * geometric + (1 - GEOMETRIC_SHARE) * gamma(j)


SEQUENCES: dict[str, Callable[[int], float]] = {"mixed": mixed, "power": gamma}
DEFAULT_SEQUENCE = "mixed"
# A run journaled before the sequence was recorded used the reference sequence.
LEGACY_SEQUENCE = "power"


@dataclass
class Addis:
    """ADDIS's state: counts of selected and candidate tests, and the counts at each
    rejection. `level()` is the next test's alpha; `record(p)` adds its outcome."""

    fdr: float = 0.05
    tau: float = 0.5
    lam: float = 0.25
    selected: int = 0
    candidates: int = 0
    tests: int = 0
    rejections: list[tuple[int, int]] = field(default_factory=list)  # (S_j, C_j)
    sequence: str = DEFAULT_SEQUENCE  # the name of g in SEQUENCES

    @property
    def w0(self) -> float:
        return self.fdr / 2

    def level(self) -> float:
        s, c = self.selected, self.candidates
        g = SEQUENCES[self.sequence]
        total = self.w0 * g(s - c + 1)
        for j, (s_j, c_j) in enumerate(self.rejections):
            weight = self.fdr - self.w0 if j == 0 else self.fdr
            total += weight * g(s - s_j - (c - c_j) + 1)
        return min(self.lam, (self.tau - self.lam) * total)

    def record(self, p: float, alpha: float | None = None) -> bool:
        """Add the outcome of a test with p-value `p` tested at `alpha` (default: the
        current level); True when it is a rejection."""
        level = self.level() if alpha is None else alpha
        rejected = p <= level
        self.tests += 1
        if p <= self.tau:
            self.selected += 1
        if p <= self.lam:
            self.candidates += 1
        if rejected:
            self.rejections.append((self.selected, self.candidates))
        return rejected

    def state(self) -> dict[str, Any]:
        return {"fdr": self.fdr, "tau": self.tau, "lambda": self.lam, "selected": self.selected,
                "candidates": self.candidates, "tests": self.tests,
                "rejections": [list(r) for r in self.rejections], "sequence": self.sequence}

    @classmethod
    def restore(cls, fdr: float, tau: float, lam: float, state: Mapping[str, Any]) -> Addis:
        """From `state()` (the settings come from the configuration, not the state)."""
        return cls(fdr=fdr, tau=tau, lam=lam, selected=int(state.get("selected", 0)),
                   candidates=int(state.get("candidates", 0)), tests=int(state.get("tests", 0)),
                   rejections=[(int(a), int(b)) for a, b in state.get("rejections", [])],
                   # a resumed run keeps the sequence it started with
                   sequence=_sequence(state))


def _sequence(state: Mapping[str, Any]) -> str:
    if not state:
        return DEFAULT_SEQUENCE  # a new run
    name = str(state.get("sequence", LEGACY_SEQUENCE))
    if name not in SEQUENCES:
        # Only a newer ladder writes one; resuming with another sequence would void the
        # run's FDR guarantee (alpha already spent under the old one), so refuse.
        raise LadderError(
            f"the run's ADDIS state names the spending sequence {name!r}, which this "
            f"ladder does not know (it knows {', '.join(sorted(SEQUENCES))})",
            where="the run's journal",
            todo="resume it with the ladder that started it, or start a new run")
    return name


def valid_settings(fdr: float, tau: float, lam: float) -> str:
    """Why these ADDIS settings are invalid ("" when they are fine)."""
    if not 0 < fdr < 1:
        return f"fdr must lie between 0 and 1, not {fdr}"
    if not 0 < tau <= 1:
        return f"tau must lie in (0, 1], not {tau}"
    if not 0 <= lam < tau:
        return f"lambda must lie in [0, tau), not {lam} (tau {tau})"
    return "" if math.isfinite(fdr) else "fdr must be finite"
