"""The group-sequential test against published reference values (gsDesign's own unit
tests, Pocock 1977), and its properties: every design spends exactly its alpha, the
stagewise p-value is uniform under the null and agrees with the boundaries, one look is
the fixed-sample test."""

from __future__ import annotations

import itertools
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize
from scipy import stats as sps

from ladder.agent.stats.sequential import Design, crossing, hsd, schedule


@pytest.mark.parametrize(
    ("looks", "expected"),
    [
        pytest.param(2, 0.042, id="k2"),
        pytest.param(4, 0.063, id="k4"),
        pytest.param(10, 0.097, id="k10"),
        pytest.param(20, 0.124, id="k20"),
    ],
)
def test_repeated_testing_at_1_96_inflates_the_error_as_published(looks: int, expected: float) -> None:
    # gsDesign's test.Deming.gsProb (Armitage, McPherson & Rowe 1969): testing at the
    # unadjusted 1.96 after every one of k equal groups, both sides absorbing.
    up, _ = crossing(range(1, looks + 1), [1.959964] * looks, [-1.959964] * looks)
    assert round(math.fsum(up), 3) == expected


def test_obrien_fleming_bounds_for_four_looks() -> None:
    # gsDesign's test.Deming.OFbound: k = 4, two-sided symmetric, alpha 0.025 a side.
    def error(c: float) -> float:
        bounds = [c * math.sqrt(4 / k) for k in range(1, 5)]
        return math.fsum(crossing(range(1, 5), bounds, [-b for b in bounds])[0]) - 0.025

    c = optimize.brentq(error, 1, 5)
    assert [round(c * math.sqrt(4 / k), 2) for k in range(1, 5)] == [4.05, 2.86, 2.34, 2.02]


def test_pococks_constant_for_five_looks() -> None:
    # Pocock (1977), Table 1: two-sided alpha 0.05, five equal groups: 2.413.
    def error(c: float) -> float:
        return math.fsum(crossing(range(1, 6), [c] * 5, [-c] * 5)[0]) - 0.025

    assert optimize.brentq(error, 1, 4) == pytest.approx(2.413, abs=5e-4)


def test_hsd_spends_nothing_at_zero_and_everything_at_one() -> None:
    for gamma in (-4.0, -2.0, 0.0, 1.0):
        assert hsd(0.0, gamma) == 0.0
        assert hsd(1.0, gamma) == pytest.approx(1.0)
        assert hsd(0.5, gamma) < hsd(0.7, gamma)
    assert hsd(0.3, -4.0) < hsd(0.3, 0.0) < hsd(0.3, 1.0)  # O'Brien-Fleming-like spends late


def test_schedule() -> None:
    assert schedule(1, 1, 5) == (1, 2, 3, 4, 5)
    assert schedule(2, 2, 7) == (2, 4, 6, 7)
    assert schedule(1, 1, 1) == (1,)
    assert schedule(3, 2, 2) == (2,)


def test_one_look_is_the_fixed_sample_test() -> None:
    design = Design(0.01, (5,), first=1, futility_power=0.0, futility_z=-math.inf)
    assert design.bounds()[0] == pytest.approx(float(sps.norm.isf(0.01)), abs=1e-9)
    assert design.p_value(0, 1.5) == pytest.approx(float(sps.norm.sf(1.5)), abs=1e-12)


def _spends_alpha(design: Design, alpha: float) -> bool:
    """No boundary is held at its floor (one-sided p 4 alpha): the design spends alpha."""
    floor = float(sps.norm.isf(min(0.5, 4 * alpha)))
    return all(abs(b - floor) > 1e-9 for b in design.bounds())


@settings(max_examples=25, deadline=None)
@given(
    alpha=st.floats(0.0005, 0.2),
    cap=st.integers(2, 16),
    step=st.integers(1, 3),
    gamma=st.sampled_from([-4.0, -2.0, 0.0, 1.0]),
    power=st.sampled_from([0.0, 0.1, 0.3]),
)
def test_every_design_spends_exactly_its_alpha(
    alpha: float, cap: int, step: int, gamma: float, power: float
) -> None:
    design = Design(alpha, schedule(step, step, cap), gamma, first=2, futility_power=power)
    up, _ = crossing(design.looks, design.bounds(), design.futility())
    if _spends_alpha(design, alpha):  # no boundary held at its floor
        assert math.fsum(up) == pytest.approx(alpha, rel=1e-6)
    else:  # futility left less null mass than alpha at the end: never more
        assert math.fsum(up) <= alpha * (1 + 1e-6)
    assert all(b >= sps.norm.isf(min(0.5, 4 * alpha)) - 1e-9 for b in design.bounds())
    assert design.futility()[-1] == -math.inf  # the last look ends the test either way


def test_a_design_whose_last_look_cannot_spend_the_rest_spends_less() -> None:
    # found by the property above: at look 13 of 14 the futility exit (z 1.43) sits just
    # under the efficacy boundary (1.66), so few null tests reach the last look; its
    # boundary stops at the floor (one-sided p 4 alpha) and 0.17% of alpha goes unspent
    design = Design(0.046875, schedule(1, 1, 14), -2.0, first=2, futility_power=0.1)
    up, _ = crossing(design.looks, design.bounds(), design.futility())
    assert design.bounds()[-1] == pytest.approx(float(sps.norm.isf(4 * 0.046875)))
    assert 0.99 * 0.046875 < math.fsum(up) < 0.046875


@settings(max_examples=20, deadline=None)
@given(alpha=st.floats(0.001, 0.1), cap=st.integers(2, 12), z=st.floats(-3, 5), k=st.integers(0, 11))
def test_the_p_value_is_below_alpha_exactly_when_the_boundary_is_crossed(
    alpha: float, cap: int, z: float, k: int
) -> None:
    design = Design(alpha, schedule(1, 1, cap))
    k = min(k, cap - 1)
    bound = design.bounds()[k]
    p = design.p_value(k, z)
    spends_alpha = _spends_alpha(design, alpha)
    if z >= bound:
        assert p <= alpha * (1 + 1e-6)
    elif k == cap - 1 and spends_alpha:  # the last look: not crossed means not significant
        assert p > alpha * (1 - 1e-6)
    # (a design held at its floor spends less than alpha, so a p-value below alpha can
    # come without a crossing; the decision then tells ADDIS p = 1: verified._final)
    assert design.p_value(k, z + 0.1) <= p  # more evidence, a smaller p


def test_an_underspent_design_can_give_p_below_alpha_without_a_crossing() -> None:
    # found by the property above: alpha 0.094 over 11 looks holds the last boundary at its
    # floor, so z = 0 there (not crossed) has p < alpha; the decision reports such a p as 1
    design = Design(0.09375, schedule(1, 1, 11))
    assert 0.0 < design.bounds()[-1] == pytest.approx(float(sps.norm.isf(4 * 0.09375)))
    assert design.p_value(10, 0.0) < 0.09375


def test_the_stagewise_p_value_is_uniform_under_the_null() -> None:
    design = Design(0.02, schedule(1, 1, 8), futility_power=0.1)
    upper, lower = design.bounds(), design.futility()
    rng = random.Random(7)
    ps = []
    for _ in range(3000):
        total, seen = 0.0, 0
        for k, n in enumerate(design.looks):
            total += sum(rng.gauss(0, 1) for _ in range(n - seen))
            seen = n
            z = total / math.sqrt(n)
            if z >= upper[k] or z <= lower[k] or k == len(design.looks) - 1:
                ps.append(design.p_value(k, round(z, 2)))
                break
    for u in (0.02, 0.1, 0.3, 0.5, 0.8):
        share = sum(p <= u for p in ps) / len(ps)
        assert share == pytest.approx(u, abs=3.5 * math.sqrt(u * (1 - u) / len(ps)) + 0.006)


def test_a_harmful_change_gives_a_conservative_p_value() -> None:
    design = Design(0.02, schedule(1, 1, 8))
    rng = random.Random(8)
    small = 0
    runs = 1500
    for _ in range(runs):
        total, seen = 0.0, 0
        for k, n in enumerate(design.looks):
            total += sum(rng.gauss(-0.3, 1) for _ in range(n - seen))  # a true loss of 0.3 sd
            seen = n
            z = total / math.sqrt(n)
            if z >= design.bounds()[k] or z <= design.futility()[k] or k == len(design.looks) - 1:
                small += design.p_value(k, z) <= 0.2
                break
    assert small / runs < 0.2 * 0.6


def test_futility_rises_with_the_evidence_needed() -> None:
    design = Design(0.01, schedule(1, 1, 10), futility_power=0.1)
    lower = design.futility()[:-1]
    assert lower[0] == 0.0  # the first look drops a candidate whose mean is not positive
    assert all(a <= b for a, b in itertools.pairwise(lower))
    assert lower[-1] > 1.0  # late, only a candidate near the boundary goes on
    lenient = Design(0.01, schedule(1, 1, 10), futility_power=0.0).futility()
    assert lenient[:-1] == (0.0,) * 9


def test_no_efficacy_before_the_first_allowed_look() -> None:
    design = Design(0.05, schedule(1, 1, 6), first=2)
    assert design.bounds()[0] == math.inf
    assert design.spent(0) == 0.0
    assert design.spent(5) == pytest.approx(0.05)
