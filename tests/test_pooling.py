"""Pooling a team's tracks (`team:` in the catalog, `--pool`), the walk-forward comparison of the
methods, and the log peer score, each by value."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pytest

from forecast_tracker import scoring
from forecast_tracker.dates import previous_day, today
from forecast_tracker.evidence import Team, Track, build_tracks
from forecast_tracker.probability import POOLS, pool

from conftest import proposition_row, update_row


# -- the methods, by value ----------------------------------------------------------------------------
def test_each_pool_by_value():
    values = [0.1, 0.3, 0.6, 0.9]
    assert pool(values, "median") == pytest.approx(0.45)
    assert pool(values, "mean") == pytest.approx(0.475)
    assert pool(values, "trimmed") == pytest.approx(0.45)  # 4 values: one set aside at each end
    # geometric mean of odds: (1/9 * 3/7 * 3/2 * 9)^(1/4) = (81/126)^(1/4)
    g = (1 / 9 * 3 / 7 * 3 / 2 * 9) ** 0.25
    assert pool(values, "geo-odds") == pytest.approx(g / (1 + g))


def test_trimmed_sets_aside_a_fifth_at_each_end():
    ten = [0.01, 0.02, 0.3, 0.4, 0.5, 0.5, 0.6, 0.7, 0.98, 0.99]
    assert pool(ten, "trimmed") == pytest.approx(sum(ten[2:8]) / 6)  # two at each end
    assert pool([0.2, 0.4], "trimmed") == pytest.approx(0.3)  # two values: nothing to set aside
    assert pool([0.2, 0.4, 0.9], "trimmed") == pytest.approx(0.4)


def test_geo_odds_clips_each_track_before_pooling():
    # 0.001 is clipped to 0.02: odds 1/49; with 0.5 (odds 1) the pool's odds are 1/7
    assert pool([0.001, 0.5], "geo-odds") == pytest.approx((1 / 7) / (1 + 1 / 7))
    # without the clip one track near certainty would drag the team to 0.0307
    assert pool([0.001, 0.5], "geo-odds") > 0.12


def test_numbers_that_agree_pool_to_themselves_under_every_method():
    for method in POOLS:
        assert pool([0.999, 0.999, 0.999], method) == 0.999  # a criterion met holds every track at the clamp
        assert pool([0.7], method) == 0.7
    with pytest.raises(ValueError):
        pool([0.3, 0.4], "vote")


# -- a team pools by the method in force on each day ------------------------------------------------------
def _team(pools):
    p = proposition_row(prior=0.5, opened="2025-01-01", resolve_by="2025-12-31", decay="none")
    updates = [update_row(1, "2025-01-01", 0.8, "ana"), update_row(2, "2025-01-01", 0.8, "ben"),
               update_row(3, "2025-01-01", 0.05, "cy")]  # fmt: skip
    return build_tracks([p], {}, updates, [], pools={"p": pools} if pools else None)["p"]


def test_a_team_pools_by_the_version_in_force_on_each_day():
    team = _team([("2025-01-01", "median"), ("2025-03-01", "mean")])
    assert isinstance(team, Team)
    assert team.at("2025-02-28") == pytest.approx(0.8)  # the median before the change
    assert team.at("2025-03-01") == pytest.approx(0.55)  # the mean from its day on
    daily = team.daily("2025-03-03")
    assert daily[58] == pytest.approx(0.8) and daily[59] == pytest.approx(0.55)  # 2025-02-28, 2025-03-01
    # and `--pool` pools every day by one method
    forced = build_tracks([proposition_row(prior=0.5, opened="2025-01-01", resolve_by="2025-12-31", decay="none")], {},
                          [update_row(1, "2025-01-01", 0.8, "ana"), update_row(2, "2025-01-01", 0.2, "ben")], [],
                          pool="geo-odds")["p"]  # fmt: skip
    assert forced.at("2025-06-01") == pytest.approx(0.5)
    assert "team geo-odds pool of ana 0.80, ben 0.20" in forced.links[-1].rationale


def test_one_track_has_no_pool():
    p = proposition_row(prior=0.5, opened="2025-01-01", resolve_by="2025-12-31", decay="none")
    alone = build_tracks([p], {}, [update_row(1, "2025-01-01", 0.9, "ana")], [], pool="mean")["p"]
    assert isinstance(alone, Track) and alone.at("2025-02-01") == 0.9


# -- the catalog's `team` key and --pool on the command line ---------------------------------------------
TEAM = textwrap.dedent(
    """\
    proposition:
      id: rates-peak
      statement: Rates peak above 5%.
      question: Will the policy rate exceed 5% by 2025-12-31?
      resolution_criteria: YES if the policy rate is above 5% on any day up to 2025-12-31.
      opened: 2025-01-01
      resolve_by: 2025-01-11
      prior: 0.5
      decay: none
      team: {team}
      source:
        title: Rates note
    indicators: []
    """
)


def _three_forecasters(cli, folder, team="median", effective=None):
    (folder / "rates-peak.yaml").write_text(TEAM.format(team=team))
    cli.ok("init", "--catalog", folder)
    for who, p in (("ana", "0.8"), ("ben", "0.8"), ("cy", "0.05")):
        cli.ok("update", "--new-forecaster", "rates-peak", p, "--date", "2025-01-01", "--rationale", "view", "--by", who)


def test_the_catalog_names_the_pool_and_every_view_uses_it(cli, tmp_path):
    folder = tmp_path / "cat"
    folder.mkdir()
    _three_forecasters(cli, folder, team="mean")
    rows = {r["id"]: r for r in cli.ok("list", "--as-of", "2025-01-05", "--format", "json").json}
    assert rows["rates-peak"]["probability"] == pytest.approx(0.55)
    shown = cli.ok("show", "rates-peak", "--as-of", "2025-01-05")
    assert "team:       mean of ana 0.80, ben 0.80, cy 0.05" in shown.out
    assert cli.ok("show", "rates-peak", "--as-of", "2025-01-05", "--format", "json").json["pool"] == "mean"
    # --pool overrides the catalog for one view, and changes nothing stored
    median = {r["id"]: r for r in cli.ok("list", "--as-of", "2025-01-05", "--format", "json", "--pool", "median").json}
    assert median["rates-peak"]["probability"] == pytest.approx(0.8)
    chain = cli.ok("history", "rates-peak", "--as-of", "2025-01-05", "--format", "json", "--pool", "trimmed").json
    assert chain[-1]["probability"] == pytest.approx(0.8)


def test_changing_the_pool_in_the_catalog_moves_no_earlier_number(cli, tmp_path):
    folder = tmp_path / "cat"
    folder.mkdir()
    _three_forecasters(cli, folder, team="median")
    before = cli.ok("list", "--as-of", "2025-01-03", "--format", "json").json[0]["probability"]
    assert before == pytest.approx(0.8)
    (folder / "rates-peak.yaml").write_text(TEAM.format(team="mean"))
    synced = cli.ok("sync", "--catalog", folder)
    day = today()
    assert f"team median -> mean from {day}; the forecasters pool by it from then on" in synced.out
    assert cli.ok("list", "--as-of", "2025-01-03", "--format", "json").json[0]["probability"] == before
    assert cli.ok("list", "--as-of", day, "--format", "json").json[0]["probability"] == pytest.approx(0.55)
    assert cli.ok("list", "--as-of", previous_day(day), "--format", "json").json[0]["probability"] == pytest.approx(0.8)


def test_a_pool_the_tool_does_not_know_is_bad_input(cli, tmp_path):
    folder = tmp_path / "cat"
    folder.mkdir()
    (folder / "rates-peak.yaml").write_text(TEAM.format(team="vote"))
    refused = cli("init", "--catalog", folder)
    assert refused.code == 2
    assert "proposition.team" in refused.err and "median" in refused.err


# -- walk-forward comparison ---------------------------------------------------------------------------
def test_compare_pools_scores_every_method_on_a_record_where_the_answer_is_known(cli, tmp_path):
    folder = tmp_path / "cat"
    folder.mkdir()
    _three_forecasters(cli, folder)
    cli.ok("resolve", "rates-peak", "yes", "--date", "2025-01-11", "--source", "central bank")
    rows = {r["method"]: r for r in cli.ok("score", "--as-of", "2025-01-31", "--compare-pools", "--format", "json").json}
    # ten days at the same numbers, L = 10: each method's time-averaged Brier is its one day's Brier
    odds = math.exp((2 * math.log(4) + math.log(0.05 / 0.95)) / 3)
    expected = {"median": 0.2**2, "trimmed": 0.2**2, "mean": 0.45**2, "geo-odds": (1 - odds / (1 + odds)) ** 2}
    for method, brier in expected.items():
        assert rows[method]["mean_time_averaged_brier"] == pytest.approx(brier)
        assert rows[method]["difference_vs_median"] == pytest.approx(brier - 0.04)
        # one proposition: every resample is the same, so the interval is the point
        assert rows[method]["low"] == pytest.approx(brier - 0.04) and rows[method]["high"] == pytest.approx(brier - 0.04)
    assert cli("score", "--compare-pools", "--pool", "mean").code == 2


def test_the_bootstrap_interval_by_value():
    per = [{"median": 0.1, "mean": 0.1 + d} for d in (0.0, 0.1)]
    row = next(r for r in scoring.pool_comparison(per, ["median", "mean"], resamples=2000, seed=0) if r["method"] == "mean")
    assert row["difference_vs_median"] == pytest.approx(0.05)
    # each resample's mean difference is 0, 0.05 or 0.1 with odds 1:2:1; the 5th and 95th percentiles
    picks = np.random.default_rng(0).integers(0, 2, size=(2000, 2))
    means = np.asarray([0.0, 0.1])[picks].mean(axis=1)
    assert (row["low"], row["high"]) == pytest.approx(tuple(np.quantile(means, [0.05, 0.95])))
    assert row["low"] == pytest.approx(0.0) and row["high"] == pytest.approx(0.1)


# -- the log peer score: Metaculus's own test vectors ---------------------------------------------------
# From Metaculus's tests/unit/test_scoring/test_score_math.py (test_evaluate_forecasts_peer_accuracy):
# a binary question open for 10 days that resolves yes; each forecaster's probability held from their
# start day, the score 100 x ln(p / geometric mean of the others'), time-averaged over the 10 days.
def gmean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))


@pytest.mark.parametrize(
    "forecasts, expected",
    [
        ([(0, 0.9)], [0.0]),
        ([(0, 0.9), (0, 0.9)], [0.0, 0.0]),
        ([(0, 0.1), (0, 0.9)], [100 * math.log(0.1 / 0.9), 100 * math.log(0.9 / 0.1)]),
        ([(0, 0.4), (0, 0.6)], [100 * math.log(0.4 / 0.6), 100 * math.log(0.6 / 0.4)]),
        (
            [(0, 0.1), (0, 0.5), (0, 0.9)],
            [100 * math.log(0.1 / gmean([0.5, 0.9])), 100 * math.log(0.5 / gmean([0.1, 0.9])),
             100 * math.log(0.9 / gmean([0.1, 0.5]))],
        ),
        (
            [(0, 0.1), (0, 0.3), (0, 0.6), (0, 0.9)],
            [100 * math.log(0.1 / gmean([0.3, 0.6, 0.9])), 100 * math.log(0.3 / gmean([0.1, 0.6, 0.9])),
             100 * math.log(0.6 / gmean([0.1, 0.3, 0.9])), 100 * math.log(0.9 / gmean([0.1, 0.3, 0.6]))],
        ),
        (
            [(0, 0.1), (0, 0.5), (5, 0.9)],
            [100 * (0.5 * math.log(0.1 / 0.5) + 0.5 * math.log(0.1 / gmean([0.5, 0.9]))),
             100 * (0.5 * math.log(0.5 / 0.1) + 0.5 * math.log(0.5 / gmean([0.1, 0.9]))),
             100 * (0.5 * 0 + 0.5 * math.log(0.9 / gmean([0.1, 0.5])))],
        ),
    ],
)  # fmt: skip
def test_peer_score_matches_metaculus_vectors(forecasts, expected):
    series = {f"f{k}": (start, [p] * (10 - start)) for k, (start, p) in enumerate(forecasts)}
    got = scoring.peer_scores(series, 1, 10)
    assert [got[f"f{k}"] for k in range(len(forecasts))] == pytest.approx(expected, abs=1e-8)
    assert math.fsum(got.values()) == pytest.approx(0.0, abs=1e-9)


def test_peer_score_reads_the_probability_of_the_outcome():
    got = scoring.peer_scores({"a": (0, [0.9] * 10), "b": (0, [0.1] * 10)}, 0, 10)
    assert got["a"] == pytest.approx(100 * math.log(0.1 / 0.9))  # Metaculus's resolution_bucket 0 case


def test_score_reports_each_forecasters_peer_score(cli, tmp_path):
    folder = tmp_path / "cat"
    folder.mkdir()
    _three_forecasters(cli, folder)
    cli.ok("resolve", "rates-peak", "yes", "--date", "2025-01-11", "--source", "central bank")
    scores = cli.ok("score", "--as-of", "2025-01-31", "--format", "json").json
    peer = {f["forecaster"]: f["peer_score"] for f in scores["forecasters"]}
    assert peer["cy"] == pytest.approx(100 * math.log(0.05 / 0.8))
    assert peer["ana"] == pytest.approx(100 * 0.5 * math.log(0.8 / 0.05))
    assert scores["pool"] == "median"
    table = cli.ok("score", "--as-of", "2025-01-31").out
    assert "peer_score" in table and "log peer score" in table


def test_a_change_of_pool_is_a_named_step_of_the_chain():
    team = _team([("2025-01-01", "median"), ("2025-03-01", "mean")])
    step = next(link for link in team.links_until("2025-04-01") if link.method == "pool")
    assert step.on == "2025-03-01"
    assert (step.before, step.after) == (pytest.approx(0.8), pytest.approx(0.55))
    assert step.rationale.startswith("team pool median -> mean (catalog `team`); team mean pool of ana 0.80")
    # the chain ends where the number stands, with no decay step carrying the change
    chain = team.links_until("2025-04-01")
    assert chain[-1].after == pytest.approx(team.at("2025-04-01"))
    assert all(link.method != "decay" for link in chain)


def test_the_scorecard_names_the_pool_and_shows_what_the_record_rests_on(cli, tmp_path):
    folder = tmp_path / "cat"
    folder.mkdir()
    _three_forecasters(cli, folder, team="geo-odds")
    cli.ok("resolve", "rates-peak", "yes", "--date", "2025-01-11", "--source", "central bank")
    cli.ok("report", "--month", "2025-01", "--out", tmp_path / "out")
    md = (tmp_path / "out" / "2025-01.md").read_text()
    html = (tmp_path / "out" / "2025-01.html").read_text()
    for page in (md, html):
        assert "Team geo-odds of 3 forecasters" in page
        assert "pooled by geo-odds" in page and "peer score" in page
        assert "90% interval" in page and "Calibration over the same days as the headline" in page
        assert "Where the record is good" in page and "fewer than 5 resolved" in page
    median = tmp_path / "median"
    cli.ok("report", "--month", "2025-01", "--out", median, "--pool", "median")
    assert "Team median of 3 forecasters" in (median / "2025-01.md").read_text()


def test_score_pools_by_the_method_asked(cli, tmp_path):
    folder = tmp_path / "cat"
    folder.mkdir()
    _three_forecasters(cli, folder)
    cli.ok("resolve", "rates-peak", "yes", "--date", "2025-01-11", "--source", "central bank")
    mean = cli.ok("score", "--as-of", "2025-01-31", "--format", "json", "--pool", "mean").json
    assert mean["pool"] == "mean" and mean["propositions"][0]["pool"] == "mean"
    assert mean["summary"]["mean_time_averaged_brier"] == pytest.approx(0.45**2)  # ten days at 0.55, L = 10
    median = cli.ok("score", "--as-of", "2025-01-31", "--format", "json").json
    assert median["summary"]["mean_time_averaged_brier"] == pytest.approx(0.2**2)
