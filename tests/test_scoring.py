"""Scores against hand-computed values, the reference vectors, and scikit-learn on random data."""

import numpy as np
import pandas as pd
import pytest

from forecast_tracker.scoring import (
    Trajectory,
    baseline_score,
    brier,
    brier_2,
    calibration_table,
    log_loss,
    murphy_decomposition,
    score_propositions,
    summarise,
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


def test_design_time_average_example():
    path = Trajectory(0.6, "2025-01-01", [("2025-01-05", 1, 0.8)])
    assert path.time_average("2025-01-11", 1, brier) == pytest.approx(0.088)
    assert path.time_average("2025-01-11", 0, brier) == pytest.approx(0.528)
    assert path.time_average("2025-01-11", 1, baseline_score) == pytest.approx(51.205691, abs=1e-6)
    assert path.time_average("2025-01-11", 0, baseline_score) == pytest.approx(-92.192809, abs=1e-6)


def test_cultivate_labs_examples():
    path = Trajectory(0.9, "2025-01-01", [("2025-01-04", 1, 0.95)])
    assert path.time_average("2025-01-08", 1, brier_2) == pytest.approx(0.011429, abs=1e-6)
    path = Trajectory(0.8, "2025-01-01", [("2025-01-07", 1, 0.4)])
    assert path.time_average("2025-01-10", 0, brier) == pytest.approx(0.48)


def test_same_day_updates_latest_wins_and_after_resolution_ignored():
    path = Trajectory(0.5, "2025-01-01", [("2025-01-03", 2, 0.9), ("2025-01-03", 1, 0.1), ("2025-01-20", 3, 0.01)])
    assert path.at("2025-01-03") == 0.9
    assert path.before("2025-01-10") == 0.9
    # days 0-1 at 0.5, days 2-9 at 0.9; the update on day 19 is after resolution
    assert path.time_average("2025-01-11", 1, brier) == pytest.approx((2 * 0.25 + 8 * 0.01) / 10)


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
    resolved = pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(n)],
            "prior": p,
            "opened": "2025-01-01",
            "outcome": ["yes" if x else "no" for x in o],
            "resolved_on": "2025-02-01",
        }
    )
    updates = pd.DataFrame(columns=["proposition", "as_of", "id", "probability"])
    scores = score_propositions(resolved, updates)
    summary = summarise(scores)
    assert summary["mean_brier"] == pytest.approx(brier_score_loss(o, p))
    assert summary["mean_log_loss"] == pytest.approx(sk_log_loss(o, p))
    assert summary["skill_vs_prior"] == pytest.approx(0.0)  # no updates: the tracker is the prior
    table = calibration_table(p, o, n_bins=10)
    prob_true, prob_pred = calibration_curve(o, p, n_bins=10)
    assert table["observed_frequency"].tolist() == pytest.approx(list(prob_true))
    assert table["mean_forecast"].tolist() == pytest.approx(list(prob_pred))


def test_annulled_listed_but_not_scored():
    resolved = pd.DataFrame(
        {
            "id": ["a", "b"],
            "prior": [0.3, 0.6],
            "opened": ["2025-01-01"] * 2,
            "outcome": ["annulled", "yes"],
            "resolved_on": ["2025-02-01"] * 2,
        }
    )
    updates = pd.DataFrame({"proposition": ["b"], "as_of": ["2025-01-10"], "id": [1], "probability": [0.9]})
    scores = score_propositions(resolved, updates)
    assert scores.loc[scores.id == "a", "brier"].isna().all()
    summary = summarise(scores)
    assert summary["n_resolved"] == 1
    assert summary["mean_brier"] == pytest.approx(0.01)
    assert summary["mean_prior_brier"] == pytest.approx(0.16)
    assert summary["skill_vs_prior"] == pytest.approx(1 - 0.01 / 0.16)
