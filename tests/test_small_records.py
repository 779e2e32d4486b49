"""Scores honest at the sizes analysts have: Wilson intervals, calibration over the headline's days,
the decomposition on the same footing, discrimination, breakdowns, and early yeses; by value."""

from __future__ import annotations

import math
import textwrap

import pytest

from forecast_tracker import scoring

Z = 1.6448536269514722  # the 95th percentile of the standard normal


# -- Wilson intervals -----------------------------------------------------------------------------------
def test_wilson_interval_by_hand():
    # 1 of 1: centre (1 + z^2/2) / (1 + z^2), half-width z sqrt(z^2/4) / (1 + z^2)
    low, high = scoring.wilson(1, 1)
    assert low == pytest.approx((1 + Z**2 / 2 - Z * Z / 2) / (1 + Z**2)) and high == 1.0
    assert low == pytest.approx(1 / (1 + Z**2)) == pytest.approx(0.269866, abs=1e-6)
    # 3 of 10 (hand-worked: p = 0.3, z^2 = 2.705543; centre 0.435277 / 1.270554 = 0.342589, half-width
    # 1.644854 x sqrt(0.021 + 0.006764) / 1.270554 = 0.215713)
    low, high = scoring.wilson(3, 10)
    assert (low, high) == pytest.approx((0.126876, 0.558302), abs=1e-5)
    assert scoring.wilson(0, 0) is None
    low, high = scoring.wilson(0, 4)
    assert low == 0.0 and high == pytest.approx(Z**2 / 4 / (1 + Z**2 / 4), abs=1e-12)  # 0.40349


def test_the_final_day_table_carries_the_interval():
    rows = scoring.calibration_rows([0.35, 0.33, 0.31], [1, 0, 0])
    assert len(rows) == 1 and rows[0]["count"] == 3
    assert (rows[0]["low"], rows[0]["high"]) == pytest.approx(scoring.wilson(1, 3))


# -- calibration over the headline's days -------------------------------------------------------------
# A: L = 10, 0.3 for 4 days then 0.8 for 6, resolved yes on day 10. B: L = 5, 0.15 for 5 days, no.
A = scoring.daily_bins([0.3] * 4 + [0.8] * 6, 1, 10)
B = scoring.daily_bins([0.15] * 5, 0, 5)


def test_time_weighted_calibration_by_hand():
    rows = {r["bin"]: r for r in scoring.weighted_calibration(A + B)}
    assert sorted(rows) == [1, 2, 7]  # (0.1, 0.2], (0.2, 0.3], (0.7, 0.8]
    assert rows[1]["n"] == pytest.approx(1.0) and rows[1]["observed"] == 0.0 and rows[1]["mean_forecast"] == pytest.approx(0.15)
    assert rows[2]["n"] == pytest.approx(0.4) and rows[2]["observed"] == 1.0 and rows[2]["mean_forecast"] == pytest.approx(0.3)
    assert rows[7]["n"] == pytest.approx(0.6) and rows[7]["observed"] == 1.0
    assert (rows[7]["low"], rows[7]["high"]) == pytest.approx(scoring.wilson(0.6, 0.6))
    assert rows[1]["low"] == 0.0 and rows[1]["high"] == pytest.approx(Z**2 / (1 + Z**2))  # 0 of 1
    assert all(r["propositions"] == 1 for r in rows.values())


def test_the_decomposition_over_those_days_adds_up_to_the_headline():
    m = scoring.weighted_murphy(A + B, 2)
    # time-averaged Brier: A (4 x 0.49 + 6 x 0.04) / 10 = 0.22, B 5 x 0.0225 / 5 = 0.0225; mean 0.12125
    assert m["brier"] * m["weight"] / m["n"] == pytest.approx(0.12125)
    # base rate 0.5; REL = (1 x 0.15^2 + 0.4 x 0.7^2 + 0.6 x 0.2^2) / 2; RES = (0.25 + 0.4 x 0.25 + 0.6 x 0.25) / 2
    assert m["reliability"] == pytest.approx(0.12125) and m["resolution"] == pytest.approx(0.25)
    assert m["uncertainty"] == pytest.approx(0.25) and m["residual"] == pytest.approx(0.0, abs=1e-15)
    assert m["brier"] == m["reliability"] - m["resolution"] + m["uncertainty"] + m["residual"]


def test_an_early_resolution_weighs_less_than_one_proposition():
    early = scoring.daily_bins([0.6] * 3, 1, 12)  # resolved yes on day 3 of a 12-day life
    assert [(b, w) for b, _o, w, _wp, _wb in early] == [(5, pytest.approx(0.25))]


def test_discrimination_by_hand():
    final = scoring.discrimination([(1, 1.0, 0.8), (1, 1.0, 0.6), (0, 1.0, 0.3)])
    assert final["mean_forecast_yes"] == pytest.approx(0.7) and final["mean_forecast_no"] == pytest.approx(0.3)
    assert final["gap"] == pytest.approx(0.4)
    weighted = scoring.discrimination((o, w, wp) for _b, o, w, wp, _wb in A + B)
    assert weighted["mean_forecast_yes"] == pytest.approx((0.4 * 0.3 + 0.6 * 0.8) / 1.0)
    assert scoring.discrimination([(1, 1.0, 0.8)])["gap"] is None


# -- breakdowns -------------------------------------------------------------------------------------------
def _row(i, outcome, tab, tags, opened="2024-01-01", resolve_by="2024-03-01", resolved_on="2024-02-01"):
    return {"id": f"p{i}", "outcome": outcome, "origin": "commentary", "time_averaged_brier": tab,
            "prior_time_averaged_brier": 0.25, "baseline_score": 0.0, "brier": tab, "brier_2": tab, "log_loss": 0.5,
            "prior_brier": 0.25, "tags": tags, "horizon": scoring.horizon(opened, resolve_by), "resolved_on": resolved_on}  # fmt: skip


def test_breakdowns_by_value_and_the_fewer_than_five_rule():
    rows = [_row(i, "yes", 0.1 * (i + 1), ["rates"]) for i in range(5)] + [_row(9, "no", 0.3, ["rates", "fx"])]
    rows.append(_row(10, "annulled", None, ["fx"]))
    tags = scoring.breakdown(rows, lambda r: r["tags"])
    assert tags["rates"]["n_resolved"] == 6
    assert tags["rates"]["mean_time_averaged_brier"] == pytest.approx((0.1 + 0.2 + 0.3 + 0.4 + 0.5 + 0.3) / 6)
    assert tags["rates"]["skill_vs_prior"] == pytest.approx(1 - 1.8 / 1.5)
    assert tags["fx"] == {**{k: None for k in tags["fx"] if not k.startswith("n_") and k != "note"},
                          "n_resolved": 1, "n_commentary": 1, "note": "fewer than 5 resolved"}  # fmt: skip


def test_horizons_follow_the_scheduled_life():
    assert scoring.horizon("2024-01-01", "2024-03-30") == "< 90 days"  # 89 days
    assert scoring.horizon("2024-01-01", "2024-03-31") == "90-365 days"
    assert scoring.horizon("2024-01-01", "2024-12-31") == "90-365 days"  # 365 days
    assert scoring.horizon("2024-01-01", "2025-01-01") == "> 365 days"


# -- early yeses on the command line ---------------------------------------------------------------------
BY_DATE = textwrap.dedent(
    """\
    proposition:
      id: {id}
      statement: Event {id} happens.
      question: Will event {id} happen by 2024-12-31?
      resolution_criteria: YES if event {id} happens on or before 2024-12-31.
      opened: 2024-01-01
      resolve_by: 2024-12-31
      prior: {prior}
      decay: none
      tags: [{tag}]
      source:
        title: Outlook
    indicators: []
    """
)


def test_early_yeses_are_marked_and_can_be_left_out_of_calibration(cli, tmp_path):
    folder = tmp_path / "cat"
    folder.mkdir()
    for pid, prior, tag in (("early", 0.7, "a"), ("late", 0.4, "a"), ("never", 0.2, "b")):
        (folder / f"{pid}.yaml").write_text(BY_DATE.format(id=pid, prior=prior, tag=tag))
    cli.ok("init", "--catalog", folder)
    cli.ok("resolve", "early", "yes", "--date", "2024-04-01", "--source", "news")
    cli.ok("resolve", "late", "yes", "--date", "2024-12-31", "--source", "news")
    cli.ok("resolve", "never", "no", "--date", "2024-12-31", "--source", "news")
    scores = cli.ok("score", "--as-of", "2025-01-31", "--format", "json").json
    marked = {p["id"]: p["early_yes"] for p in scores["propositions"]}
    assert marked == {"early": True, "late": False, "never": False}
    assert scores["calibration_includes_early_yes"] is True
    assert sum(r["count"] for r in scores["calibration"]) == 3
    # early: 91 days at 0.7 of a 365-day life weigh 91/365 of a proposition in the (0.6, 0.7] bin
    bins = {r["bin"]: r for r in scores["calibration_time_weighted"]}
    assert bins[6]["n"] == pytest.approx(91 / 365) and bins[3]["n"] == pytest.approx(365 / 365)
    without = cli.ok("score", "--as-of", "2025-01-31", "--format", "json", "--without-early-yes").json
    assert without["calibration_includes_early_yes"] is False
    assert sum(r["count"] for r in without["calibration"]) == 2
    assert 6 not in {r["bin"] for r in without["calibration_time_weighted"]}
    assert without["summary"] == scores["summary"]  # the headline keeps every proposition
    assert scores["by_tag"]["a"]["n_resolved"] == 2 and scores["by_tag"]["a"]["note"] == "fewer than 5 resolved"
    assert scores["by_year"]["2024"]["n_resolved"] == 3
    assert scores["discrimination"]["final"]["mean_forecast_yes"] == pytest.approx(0.55)
    assert math.isclose(scores["discrimination"]["final"]["mean_forecast_no"], 0.2)
    table = cli.ok("score", "--as-of", "2025-01-31", "--by-tag").out
    assert "by tag" in table and "fewer than 5 resolved" in table and "90% interval" in table
