"""The plain t-test and the robust z against scipy's reference values, and their
properties (hypothesis): symmetry, monotonicity in the effect, n = 1, ties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from ladder.agent.decisions.anomalies import robust_z
from ladder.agent.stats.ttest import t_test, two_sided_p

SAMPLES = [
    pytest.param([0.3, -0.1, 0.5, 0.2], id="mixed"),
    pytest.param([1.0, 2.0, 3.5], id="positive"),
    pytest.param([-0.4, -0.2, -0.9, 0.1, -0.3], id="negative"),
    pytest.param([0.01, 0.02], id="n2"),
]


@pytest.mark.parametrize("values", SAMPLES)
def test_t_test_matches_scipy(values: list[float]) -> None:
    ours = t_test(values)
    ref = sps.ttest_1samp(values, 0.0, alternative="greater")
    assert ours.p == pytest.approx(float(ref.pvalue), rel=1e-9)
    assert ours.t == pytest.approx(float(ref.statistic), rel=1e-9)
    lo, hi = sps.t.interval(0.95, len(values) - 1, loc=ours.mean, scale=sps.sem(values))
    interval = ours.interval(0.95)
    assert interval is not None
    assert interval[0] == pytest.approx(lo) and interval[1] == pytest.approx(hi)


@pytest.mark.parametrize("values", SAMPLES)
def test_two_sided_p_matches_scipy(values: list[float]) -> None:
    ref = sps.ttest_1samp(values, 0.0).pvalue
    assert two_sided_p(values) == pytest.approx(float(ref), rel=1e-9)


def test_one_value_is_never_significant() -> None:
    for value in (-5.0, 0.0, 1e9):
        test = t_test([value])
        assert test.p == 1.0 and test.n == 1 and test.interval() is None


def test_no_values() -> None:
    assert t_test([]).p == 1.0


@pytest.mark.parametrize(
    ("values", "p"),
    [
        pytest.param([0.5, 0.5, 0.5], 0.0, id="identical-gains"),
        pytest.param([-0.5, -0.5], 1.0, id="identical-losses"),
        pytest.param([0.0, 0.0, 0.0], 0.5, id="all-zero"),
    ],
)
def test_ties_decide_by_the_sign(values: list[float], p: float) -> None:
    assert t_test(values).p == p


FINITE = st.floats(min_value=-100, max_value=100, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(FINITE, min_size=2, max_size=12))
def test_symmetry(values: list[float]) -> None:
    """Flipping every sign mirrors the one-sided p: p(d) + p(-d) = 1."""
    up, down = t_test(values), t_test([-v for v in values])
    assert up.p + down.p == pytest.approx(1.0, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(st.lists(FINITE, min_size=2, max_size=12), st.floats(min_value=0.001, max_value=50))
def test_monotone_in_the_effect(values: list[float], shift: float) -> None:
    """A larger improvement on every seed never raises the p-value."""
    assert t_test([v + shift for v in values]).p <= t_test(values).p + 1e-12


def test_robust_z_uses_median_and_mad() -> None:
    history = [1.0, 2.0, 3.0, 4.0, 100.0]
    # median 3, MAD 1 -> sigma 1.4826
    assert robust_z(10.0, history) == pytest.approx((10 - 3) / 1.4826)


def test_robust_z_falls_back_to_the_mean_deviation_and_then_gives_up() -> None:
    history = [0.0, 0.0, 0.0, 1.0]  # MAD 0, mean absolute deviation 0.25
    assert robust_z(1.0, history) == pytest.approx(1 / (1.253314 * 0.25))
    assert robust_z(5.0, [2.0, 2.0, 2.0]) is None
    assert robust_z(5.0, []) is None
