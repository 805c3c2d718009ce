"""ADDIS against the reference implementation's documented example (the `onlineFDR` R
package), and its properties: discarded tests cost nothing, rejections earn, the level
never exceeds lambda, and a null stream rarely rejects anything."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ladder.agent.stats.online_fdr import SEQUENCES, Addis, gamma, mixed, valid_settings
from ladder.errors import LadderError

# onlineFDR's ADDIS(sample.df1, random = FALSE): alpha 0.05, w0 alpha/2, lambda 0.25,
# tau 0.5, gamma_j proportional to j^-1.6 (docs/reference/ADDIS.md of the package).
P_VALUES = [2.90e-08, 0.06743, 0.01514, 0.08174, 0.00171, 3.60e-05, 0.79149, 0.27201,
            0.28295, 7.59e-08, 0.69274, 0.30443, 0.00136, 0.72342, 0.54757]
ALPHA_I = [0.002734314, 0.005468627, 0.005468627, 0.005468627, 0.005468627, 0.010937254,
           0.016405881, 0.016405881, 0.005411923, 0.002828822, 0.008297449, 0.008297449,
           0.003589243, 0.009057870, 0.009057870]
REJECTED = [1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0]


def test_the_reference_example() -> None:
    addis = Addis(fdr=0.05, tau=0.5, lam=0.25, sequence="power")
    for p, alpha_i, rejected in zip(P_VALUES, ALPHA_I, REJECTED, strict=True):
        assert addis.level() == pytest.approx(alpha_i, rel=1e-6)
        assert addis.record(p) == bool(rejected)


@pytest.mark.parametrize("g", [gamma, mixed], ids=["power", "mixed"])
def test_every_sequence_is_nonincreasing_and_sums_to_one(g: object) -> None:
    terms = [g(j) for j in range(1, 200_000)]  # type: ignore[operator]
    assert sum(terms) == pytest.approx(1.0, abs=1e-3)
    assert sum(terms) <= 1.0
    assert all(a >= b for a, b in itertools.pairwise(terms))
    assert g(0) == 0.0  # type: ignore[operator]


def test_a_new_run_uses_the_mixed_sequence_and_an_old_one_keeps_its_own() -> None:
    assert Addis.restore(0.05, 0.5, 0.25, {}).sequence == "mixed"
    legacy = {"selected": 3, "candidates": 1, "tests": 5, "rejections": [[1, 1]]}
    old = Addis.restore(0.05, 0.5, 0.25, legacy)
    assert old.sequence == "power"  # journaled before the sequence was recorded
    assert old.level() == Addis(selected=3, candidates=1, tests=5, rejections=[(1, 1)],
                                sequence="power").level()
    again = Addis.restore(0.05, 0.5, 0.25, Addis(sequence="mixed").state())
    assert again.sequence == "mixed"


def test_a_state_naming_a_sequence_this_ladder_does_not_know_is_refused() -> None:
    # A newer ladder's run resumed by this one: spending its alpha under another
    # sequence would void the guarantee, so it is one clear error, not a silent default.
    with pytest.raises(LadderError, match=r"spending sequence 'harmonic'.*does not know") as err:
        Addis.restore(0.05, 0.5, 0.25, {**Addis().state(), "sequence": "harmonic"})
    assert "start a new run" in err.value.line()


def _stream_keeps(sequence: str, runs: int = 150, tests: int = 250) -> tuple[float, float]:
    """Real keeps per run and the FDR over a stream like a run's: 3.5% real effects
    (z shifted by 3), 55% nulls, the rest harmful (z shifted by -2)."""
    from scipy import stats

    rng = random.Random(11)
    kept, fdp = 0, 0.0
    for _ in range(runs):
        addis = Addis(fdr=0.05, sequence=sequence)
        real = false = 0
        for _ in range(tests):
            u = rng.random()
            shift = 3.0 if u < 0.035 else 0.0 if u < 0.585 else -2.0
            if addis.record(float(stats.norm.sf(rng.gauss(0, 1) + shift))):
                real += shift > 0
                false += shift <= 0
        kept += real
        fdp += false / max(1, real + false)
    return kept / runs, fdp / runs


def test_the_mixed_sequence_keeps_more_real_effects_at_the_same_fdr() -> None:
    power, power_fdr = _stream_keeps("power")
    mix, mix_fdr = _stream_keeps("mixed")
    assert mix >= 1.05 * power
    assert power_fdr <= 0.05 and mix_fdr <= 0.05


def test_discarded_tests_cost_nothing() -> None:
    addis = Addis(tau=0.5, lam=0.25)
    before = addis.level()
    for _ in range(50):
        addis.record(0.9)  # a conservative null: p above tau
    assert addis.level() == before
    addis.record(0.4)  # selected, not a candidate: the wealth decays
    assert addis.level() < before


def test_candidates_refund_their_cost() -> None:
    addis = Addis(tau=0.5, lam=0.25)
    before = addis.level()
    addis.record(0.2)  # a candidate that was not rejected
    assert addis.level() == before


def test_a_rejection_earns_wealth() -> None:
    addis = Addis()
    before = addis.level()
    assert addis.record(1e-9)
    assert addis.level() > before


@given(st.lists(st.floats(0, 1), max_size=60))
def test_the_level_stays_in_zero_lambda(ps: list[float]) -> None:
    addis = Addis(fdr=0.1, tau=0.6, lam=0.3)
    for p in ps:
        assert 0 < addis.level() <= addis.lam
        addis.record(p)
    assert addis.tests == len(ps)


def test_state_round_trip() -> None:
    addis = Addis(fdr=0.05)
    for p in P_VALUES:
        addis.record(p)
    again = Addis.restore(0.05, 0.5, 0.25, addis.state())
    assert again.level() == addis.level()
    assert again.state() == addis.state()


@pytest.mark.parametrize("sequence", sorted(SEQUENCES))
def test_a_null_stream_rarely_rejects_anything(sequence: str) -> None:
    # Under the global null the FDR is the chance of any rejection: at most fdr.
    rng = random.Random(3)
    runs, any_rejection = 400, 0
    for _ in range(runs):
        addis = Addis(fdr=0.05, sequence=sequence)
        any_rejection += any(addis.record(rng.random()) for _ in range(200))
    assert any_rejection / runs <= 0.05 + 2 * (0.05 * 0.95 / runs) ** 0.5


def test_invalid_settings_are_named() -> None:
    assert valid_settings(0.05, 0.5, 0.25) == ""
    assert "lambda" in valid_settings(0.05, 0.5, 0.5)
    assert "fdr" in valid_settings(1.5, 0.5, 0.25)
