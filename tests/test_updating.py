import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forecast_tracker.errors import InputError
from forecast_tracker.probability import (
    ICD203_BANDS,
    apply_likelihood_ratio,
    clamp,
    counted_ratio,
    decibans,
    describe,
    fires,
    icd203_term,
    odds,
    parse_probability,
    probability_from_odds,
)

from conftest import indicator_row


def test_prior_point_two_with_ratios_four_two_half_gives_even():
    p = 0.2
    for ratio in (4, 2, 0.5):
        p = apply_likelihood_ratio(p, ratio)
    assert p == pytest.approx(0.5, abs=1e-12)


def test_prior_point_three_then_three_then_two_thirds():
    p = apply_likelihood_ratio(0.3, 3)
    assert p == pytest.approx(0.5625, abs=1e-9)
    assert apply_likelihood_ratio(p, 1 / 1.5) == pytest.approx(0.461538, abs=1e-6)


def test_decibans_match_reference():
    assert decibans(4) == pytest.approx(6.0206, abs=1e-4)
    assert decibans(2) == pytest.approx(3.0103, abs=1e-4)
    assert decibans(0.5) == pytest.approx(-3.0103, abs=1e-4)
    assert 10 * math.log10(odds(0.2)) == pytest.approx(-6.0206, abs=1e-4)


def test_posterior_is_clamped():
    assert apply_likelihood_ratio(0.99, 1e9) == 0.999
    assert apply_likelihood_ratio(0.01, 1e-9) == 0.001


@pytest.mark.parametrize(
    "text,expected",
    [
        ("0.7", 0.7),
        ("70%", 0.7),
        (" 35 % ".replace(" ", ""), 0.35),
        ("likely", 0.675),
        ("Highly Probable", 0.875),
        ("roughly even odds", 0.5),
        ("remote", 0.03),
        ("almost certain", 0.97),
        ("very-unlikely", 0.125),
    ],
)
def test_parse_probability(text, expected):
    assert parse_probability(text) == pytest.approx(expected)


@pytest.mark.parametrize("bad", ["-0.1", "1.5", "0", "1", "nan", "abc", "", "inf", "150%", "0.0005"])
def test_parse_probability_rejects(bad):
    with pytest.raises(InputError, match="probability"):
        parse_probability(bad)


@pytest.mark.parametrize("term,synonym,low,high", ICD203_BANDS)
def test_icd203_round_trip(term, synonym, low, high):
    midpoint = parse_probability(term)
    assert midpoint == pytest.approx((low + high) / 2)
    assert parse_probability(synonym) == midpoint
    assert icd203_term(midpoint) == term
    assert describe(midpoint).endswith(f"({term})")


@pytest.mark.parametrize(
    "p,term",
    [
        (0.001, "almost no chance"),
        (0.1, "very unlikely"),
        (0.3, "unlikely"),
        (0.5, "roughly even chance"),
        (0.7, "likely"),
        (0.85, "very likely"),
        (0.999, "almost certain"),
        (0.2, "unlikely"),
        (0.8, "likely"),
    ],
)
def test_icd203_term_bands(p, term):
    assert icd203_term(p) == term


def _ind(kind, threshold=None, ratio=3.0, if_not_met=None):
    return indicator_row(kind=kind, threshold=threshold, ratio=ratio, if_not_met=if_not_met)


def test_fires_by_kind():
    assert fires(_ind("event"), None) and fires(_ind("event"), 1) and not fires(_ind("event"), 0)
    assert fires(_ind("count", 1000), 1000) and not fires(_ind("count", 1000), 999)
    assert fires(_ind("level", 10), 10.5) and not fires(_ind("level", 10), None)


def test_ratio_if_not_met_counts_only_when_given():
    assert counted_ratio(_ind("count", 5), 1) == (False, None)  # it says nothing
    assert counted_ratio(_ind("count", 5, if_not_met=0.5), 1) == (False, 0.5)
    assert counted_ratio(_ind("count", 5, if_not_met=0.5), 5) == (True, 3.0)
    assert apply_likelihood_ratio(0.4, 0.5) == pytest.approx(probability_from_odds(odds(0.4) * 0.5))


probabilities = st.floats(min_value=0.001, max_value=0.999, allow_nan=False)
ratios = st.floats(min_value=0.01, max_value=100, allow_nan=False)


@given(probabilities)
def test_ratio_of_one_never_moves(p):
    assert apply_likelihood_ratio(p, 1.0) == pytest.approx(p, rel=1e-12)


@given(probabilities, st.floats(min_value=1.0, max_value=1000, allow_nan=False))
def test_ratio_above_one_never_lowers(p, ratio):
    assert apply_likelihood_ratio(p, ratio) >= p - 1e-12


@given(
    st.floats(min_value=0.05, max_value=0.95),
    st.lists(st.floats(min_value=0.2, max_value=5), min_size=1, max_size=6),
    st.randoms(),
)
def test_order_of_ratios_does_not_matter_before_clamping(p, rs, rnd):
    def chain(seq):
        o = odds(p)
        for r in seq:
            o *= r
        return probability_from_odds(o)

    shuffled = list(rs)
    rnd.shuffle(shuffled)
    assert chain(rs) == pytest.approx(chain(shuffled), rel=1e-9)


@given(probabilities)
def test_clamp_is_identity_inside_range(p):
    assert clamp(p) == p
