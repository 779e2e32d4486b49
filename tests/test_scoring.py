"""Scores against hand-computed values, the reference vectors, and scikit-learn on random data."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast_tracker.evidence import Judgement, Track
from forecast_tracker.scoring import (
    baseline_score,
    brier,
    brier_2,
    calibration_table,
    life_days,
    log_loss,
    murphy_decomposition,
    score_propositions,
    summarise,
    time_average,
)


@pytest.mark.parametrize("p,o,b1,b2", [(0.7, 1, 0.09, 0.18), (0.7, 0, 0.49, 0.98), (0.9, 1, 0.01, 0.02)])
def test_brier_both_scales(p, o, b1, b2):
    assert brier(p, o) == pytest.approx(b1)
    assert brier_2(p, o) == pytest.approx(b2)


@pytest.mark.parametrize("p,o,ln", [(0.8, 1, -0.223144), (0.8, 0, -1.609438), (0.99, 0, -4.605170), (0.999, 0, -6.907755)])
def test_log_score(p, o, ln):
    assert -log_loss(p, o) == pytest.approx(ln, abs=1e-6)


@pytest.mark.parametrize(
    "p,expected",
    [
        (0.9, 84.799691),
        (0.1, -232.192809),
        (2**-0.5, 50.0),
        (0.8, 67.807191),
        (0.6, 26.303441),
        (0.4, -32.192809),
        (0.7, 48.542683),
        (0.999, 99.855658),
        (0.001, -896.578428),
    ],
)
def test_metaculus_baseline(p, expected):
    assert baseline_score(p, 1) == pytest.approx(expected, abs=1e-6)


def path(prior, opened, changes, resolve_by="2030-01-01"):
    """A track with no decay: the prior, then manual updates (as_of, probability)."""
    judgements = [Judgement(d, n, p) for n, (d, p) in enumerate(changes, 1)]
    return Track(prior=prior, opened=opened, resolve_by=resolve_by, decay="none", judgements=judgements)


def test_design_time_average_example():
    # DESIGN.md: opened day 0, resolve_by day 20, 0.6 from day 0, 0.8 from day 4, resolved yes on day 10
    track = path(0.6, "2025-01-01", [("2025-01-05", 0.8)], resolve_by="2025-01-21")
    life = life_days("2025-01-01", "2025-01-21", "2025-01-11")
    assert life == 20
    assert time_average(track.daily("2025-01-11"), 1, life, brier) == pytest.approx(0.044)


def test_reference_time_averages_over_a_full_life():
    # scoring-vectors.md: open 10 days, 0.6 on days 0-3 and 0.8 on days 4-9
    daily = path(0.6, "2025-01-01", [("2025-01-05", 0.8)]).daily("2025-01-11")
    assert daily == [0.6] * 4 + [0.8] * 6
    assert time_average(daily, 1, 10, brier) == pytest.approx(0.088)
    assert time_average(daily, 0, 10, brier) == pytest.approx(0.528)
    assert time_average(daily, 1, 10, baseline_score) == pytest.approx(51.205691, abs=1e-6)
    assert time_average(daily, 0, 10, baseline_score) == pytest.approx(-92.192809, abs=1e-6)


def test_cultivate_labs_examples():
    daily = path(0.9, "2025-01-01", [("2025-01-04", 0.95)]).daily("2025-01-08")
    assert time_average(daily, 1, 7, brier_2) == pytest.approx(0.011429, abs=1e-6)
    daily = path(0.8, "2025-01-01", [("2025-01-07", 0.4)]).daily("2025-01-10")
    assert time_average(daily, 0, 9, brier) == pytest.approx(0.48)


def test_same_day_updates_latest_wins_and_after_resolution_ignored():
    track = path(0.5, "2025-01-01", [("2025-01-03", 0.1), ("2025-01-03", 0.9), ("2025-01-20", 0.01)])
    assert track.at("2025-01-03") == 0.9
    assert track.before("2025-01-10") == 0.9
    # days 0-1 at 0.5, days 2-9 at 0.9; the update on day 19 is after resolution
    assert time_average(track.daily("2025-01-11"), 1, 10, brier) == pytest.approx((2 * 0.25 + 8 * 0.01) / 10)


def _expected_time_average(forecast, hazard, days, divide_by_days_open):
    """Exact expectation over when (or whether) an event with a constant daily hazard happens within
    `days`; `forecast(d)` is the probability on day d. Days after an early YES add 0."""
    total, survive = 0.0, 1.0
    for t in range(days):  # the event happens on day t (the question was open on days 0..t-1)
        chance = survive * hazard
        open_days = [forecast(d) for d in range(t)]
        total += chance * sum((p - 1) ** 2 for p in open_days) / (max(t, 1) if divide_by_days_open else days)
        survive *= 1 - hazard
    total += survive * sum(forecast(d) ** 2 for d in range(days)) / days  # no event: resolves NO on the last day
    return total


def test_time_average_over_the_scheduled_life_is_proper():
    # "Will X happen by D?" with a constant hazard: the honest forecast on day d is 1 - (1-h)^(days-d).
    # Over-forecasting must not beat honesty in expectation under the scheduled-life average, and under
    # the old average (divided by the days actually open) it does: that is the bug this fixes.
    days, hazard = 60, 0.01
    honest = lambda d: 1 - (1 - hazard) ** (days - d)  # noqa: E731
    for boost in (1.2, 1.5, 2.0):
        over = lambda d, b=boost: min(0.99, honest(d) * b)  # noqa: E731
        assert _expected_time_average(honest, hazard, days, False) < _expected_time_average(over, hazard, days, False)
    over = lambda d: min(0.99, honest(d) * 1.5)  # noqa: E731
    assert _expected_time_average(over, hazard, days, True) < _expected_time_average(honest, hazard, days, True)


def test_hazard_decay_is_the_honest_forecast_of_a_constant_hazard():
    # with no news, decay takes the prior along exactly the honest curve of the test above
    days, hazard = 60, 0.01
    prior = 1 - (1 - hazard) ** days
    # the question's last day is day 59 (2025-03-01): 60 days of exposure, days 0 to 59
    track = Track(prior=prior, opened="2025-01-01", resolve_by="2025-03-01")
    daily = track.daily("2025-03-02")
    assert daily == pytest.approx([1 - (1 - hazard) ** (days - d) for d in range(days)], abs=1e-12)


def test_murphy_reference_equal_forecasts_in_bins():
    p = [0.1, 0.1, 0.3, 0.3, 0.3, 0.7, 0.7, 0.9, 0.9, 0.9]
    o = [0, 0, 0, 1, 0, 1, 1, 1, 1, 0]
    m = murphy_decomposition(p, o, n_bins=5)
    assert m["brier"] == pytest.approx(0.17)
    assert m["reliability"] == pytest.approx(0.036667, abs=1e-6)
    assert m["resolution"] == pytest.approx(0.116667, abs=1e-6)
    assert m["uncertainty"] == pytest.approx(0.25)
    assert m["residual"] == pytest.approx(0.0, abs=1e-12)


def test_murphy_reference_with_within_bin_spread():
    p = [0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.95]
    o = [0, 0, 1, 0, 0, 1, 1, 0, 1, 1]
    m = murphy_decomposition(p, o, n_bins=5)
    assert m["brier"] == pytest.approx(0.1825)
    assert m["reliability"] - m["resolution"] + m["uncertainty"] == pytest.approx(0.17)
    assert m["residual"] == pytest.approx(0.0125)


def test_calibration_matches_reference_and_sklearn():
    from sklearn.calibration import calibration_curve

    p = [0.1, 0.1, 0.3, 0.3, 0.3, 0.7, 0.7, 0.9, 0.9, 0.9]
    o = [0, 0, 0, 1, 0, 1, 1, 1, 1, 0]
    table = calibration_table(p, o, n_bins=5)
    assert table["observed_frequency"].tolist() == pytest.approx([0, 1 / 3, 1, 2 / 3])
    prob_true, prob_pred = calibration_curve(o, p, n_bins=5)
    assert table["observed_frequency"].tolist() == pytest.approx(list(prob_true))
    assert table["mean_forecast"].tolist() == pytest.approx(list(prob_pred))


@pytest.mark.parametrize("seed", range(5))
def test_against_sklearn_on_random_data(seed):
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import brier_score_loss
    from sklearn.metrics import log_loss as sk_log_loss

    rng = np.random.default_rng(seed)
    n = 200
    p = rng.uniform(0.001, 0.999, n)
    o = (rng.uniform(size=n) < p).astype(int)
    resolved = [
        {"id": f"p{i}", "prior": pi, "outcome": "yes" if oi else "no", "resolved_on": "2025-02-01", "daily": [pi] * 31,
         "final": pi, "life": 31}
        for i, (pi, oi) in enumerate(zip(p, o, strict=True))
    ]  # fmt: skip
    scores = score_propositions(resolved)
    summary = summarise(scores.to_dict("records"))
    assert summary["mean_brier"] == pytest.approx(brier_score_loss(o, p))
    assert summary["mean_log_loss"] == pytest.approx(sk_log_loss(o, p))
    assert summary["skill_vs_prior"] == pytest.approx(0.0)  # no updates: the tracker is the prior
    table = calibration_table(p, o, n_bins=10)
    prob_true, prob_pred = calibration_curve(o, p, n_bins=10)
    assert table["observed_frequency"].tolist() == pytest.approx(list(prob_true))
    assert table["mean_forecast"].tolist() == pytest.approx(list(prob_pred))


def test_annulled_listed_but_not_scored():
    # b: 0.6 for 9 days, then 0.9 for 22 days, resolves yes on day 31 of a 40-day life
    daily = path(0.6, "2025-01-01", [("2025-01-10", 0.9)]).daily("2025-02-01")
    resolved = [
        {"id": "a", "prior": 0.3, "outcome": "annulled", "resolved_on": "2025-02-01"},
        {"id": "b", "prior": 0.6, "outcome": "yes", "resolved_on": "2025-02-01", "daily": daily, "final": 0.9, "life": 40},
    ]
    scores = score_propositions(resolved)
    assert scores.loc[scores.id == "a", "brier"].isna().all()
    summary = summarise(scores.to_dict("records"))
    assert summary["n_resolved"] == 1
    assert summary["mean_brier"] == pytest.approx(0.01)
    assert summary["mean_prior_brier"] == pytest.approx(0.16)
    ours, prior = (9 * 0.16 + 22 * 0.01) / 40, 31 * 0.16 / 40
    assert summary["mean_time_averaged_brier"] == pytest.approx(ours)
    assert summary["mean_prior_time_averaged_brier"] == pytest.approx(prior)
    assert summary["skill_vs_prior"] == pytest.approx(1 - ours / prior)


def test_skill_counts_only_the_commentarys_own_forecasts():
    row = {"outcome": "yes", "resolved_on": "2025-02-01", "final": 0.9, "life": 10, "prior": 0.5}
    scores = score_propositions([
        {**row, "id": "c", "origin": "commentary", "daily": [0.9] * 10},
        {**row, "id": "a", "origin": "analyst", "daily": [0.1] * 10},  # a terrible analyst addition
    ])  # fmt: skip
    summary = summarise(scores.to_dict("records"))
    assert summary["n_resolved"] == 2 and summary["n_commentary"] == 1
    assert summary["skill_vs_prior"] == pytest.approx(1 - 0.01 / 0.25)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=0.001, max_value=0.999), min_size=1, max_size=400), st.sampled_from([0, 1]),
       st.integers(min_value=1, max_value=2000))  # fmt: skip
def test_the_written_out_time_averages_are_the_general_ones_to_the_bit(daily, outcome, life):
    """`time_average` writes out the Brier and baseline terms for speed; the result is the same float."""
    from forecast_tracker import scoring

    for score in (scoring.brier, scoring.baseline_score):
        general = math.fsum(score(p, outcome) for p in daily) / life
        assert scoring.time_average(daily, outcome, life, score) == general
