"""The evidence model by value: repeats, groups, decay, retraction mid-chain, manual update then evidence."""

import math

import pytest

from forecast_tracker.evidence import Evidence, Judgement, Track, counted_ratios, decayed
from forecast_tracker.probability import probability_from_odds

from conftest import indicator_row, observation_row, proposition_row, update_row


def ind(id_="a", ratio=4.0, repeats=None, group=None, kind="event", threshold=None, fires_when=None, if_not_met=None):
    return indicator_row(id_, ratio, repeats, group, kind, threshold, fires_when, if_not_met)


def track(evidence=(), judgements=(), decay="none", prior=0.2):
    return Track(prior=prior, opened="2025-01-01", resolve_by="2026-01-01", decay=decay, evidence=evidence, judgements=judgements)


def firings(indicator, days, start_id=1):
    return [Evidence(start_id + k, d, indicator, None) for k, d in enumerate(days)]


DAYS = ["2025-02-01", "2025-03-01", "2025-04-01", "2025-05-01"]


def test_repeats_once_counts_only_the_first_firing():
    t = track(firings(ind(repeats="once"), DAYS))
    assert t.at("2025-12-31") == pytest.approx(0.5)  # odds 0.25 x 4 = 1, then nothing more
    assert [link.counted_ratio for link in t.links if link.method == "indicator"] == [4, 1, 1, 1]


def test_the_default_is_once():
    assert track(firings(ind(), DAYS)).at("2025-12-31") == pytest.approx(0.5)


def test_repeats_diminishing_halves_the_weight_and_stays_below_twice_one_firing():
    t = track(firings(ind(repeats="diminishing"), DAYS))
    counted = [link.counted_ratio for link in t.links if link.method == "indicator"]
    assert counted == pytest.approx([4, 2, math.sqrt(2), 2**0.25])
    assert t.at("2025-12-31") == pytest.approx(probability_from_odds(0.25 * 4 * 2 * math.sqrt(2) * 2**0.25))
    assert math.prod(counted) < 16  # bounded: less than twice one firing's weight (4 x 4)


def test_repeats_independent_is_the_naive_chain():
    assert track(firings(ind(repeats="independent"), DAYS)).at("2025-12-31") == pytest.approx(probability_from_odds(0.25 * 4**4))


def test_a_group_counts_its_strongest_member_once():
    statement = ind("statement", 2.0, group="freeze")
    dues = ind("dues", 3.0, group="freeze")
    evidence = [*firings(statement, ["2025-02-01"], 1), *firings(dues, ["2025-03-01"], 2), *firings(statement, ["2025-04-01"], 3)]
    counted = counted_ratios(evidence)
    # the statement counts 2; the stronger dues signal adds only what it changes (3/2); the repeat adds nothing
    assert counted == pytest.approx({1: 2.0, 2: 1.5, 3: 1.0})
    assert track(evidence).at("2025-12-31") == pytest.approx(probability_from_odds(0.25 * 3))


def test_fires_when_below_fires_at_or_under_its_threshold():
    inflation = ind("inflation", 3.0, kind="level", threshold=2.0, fires_when="below", if_not_met=0.5)
    evidence = [Evidence(1, "2025-02-01", inflation, 2.5), Evidence(2, "2025-03-01", inflation, 2.0)]
    # a level is a state (`repeats: latest`): the second reading replaces the first, 3.0 / 0.5
    assert [link.counted_ratio for link in track(evidence).links if link.method == "indicator"] == [0.5, 6.0]
    once = ind("inflation", 3.0, kind="level", threshold=2.0, fires_when="below", if_not_met=0.5, repeats="once")
    evidence = [Evidence(1, "2025-02-01", once, 2.5), Evidence(2, "2025-03-01", once, 2.0)]
    assert [link.counted_ratio for link in track(evidence).links if link.method == "indicator"] == [0.5, 3.0]


def test_decay_is_the_constant_hazard_rule_and_composes():
    # p at t becomes 1 - (1-p)^((R+1-t')/(R+1-t)): the question runs to the end of R, 2026-01-01, day 365
    # from 2025-01-01, so 366 days of exposure
    assert decayed(0.6, "2025-01-01", "2025-07-02", "2026-01-01") == pytest.approx(1 - 0.4 ** (184 / 366))
    step = decayed(decayed(0.6, "2025-01-01", "2025-03-01", "2026-01-01"), "2025-03-01", "2025-07-02", "2026-01-01")
    assert step == pytest.approx(decayed(0.6, "2025-01-01", "2025-07-02", "2026-01-01"))
    # on the deadline one day of exposure is left, and after it the last number holds (review: overdue)
    on_deadline = decayed(0.6, "2025-01-01", "2026-01-01", "2026-01-01")
    assert on_deadline == pytest.approx(1 - 0.4 ** (1 / 366))
    assert decayed(0.6, "2025-01-01", "2026-03-01", "2026-01-01") == on_deadline


def test_decay_between_evidence_in_date_order_and_shown_as_its_own_link():
    t = track(firings(ind(), ["2025-07-02"]), decay="hazard", prior=0.6)
    before = 1 - 0.4 ** (184 / 366)
    assert [link.method for link in t.links] == ["prior", "decay", "indicator"]
    assert t.links[1].after == pytest.approx(before) and "no decisive news for 182 days" in t.links[1].rationale
    after = probability_from_odds(before / (1 - before) * 4)
    assert t.at("2025-07-02") == pytest.approx(after)
    assert t.at("2025-10-01") == pytest.approx(1 - (1 - after) ** (93 / 184))
    assert [link.method for link in t.links_until("2025-10-01")] == ["prior", "decay", "indicator", "decay"]


def test_manual_update_then_evidence_and_evidence_before_it_does_not_count_again():
    evidence = firings(ind(ratio=2.0, repeats="independent"), ["2025-02-01", "2025-04-01"])
    t = track(evidence, [Judgement("2025-03-01", 9, 0.4, "my view")])
    assert t.at("2025-02-15") == pytest.approx(probability_from_odds(0.25 * 2))
    assert t.at("2025-03-15") == 0.4  # the judgement replaces everything before it
    assert t.at("2025-04-01") == pytest.approx(probability_from_odds(0.4 / 0.6 * 2))
    # evidence dated on the day of the judgement is taken as known to it
    same_day = track(firings(ind(), ["2025-03-01"]), [Judgement("2025-03-01", 9, 0.4)])
    assert same_day.at("2025-03-01") == 0.4


def test_retraction_mid_chain_removes_exactly_its_evidence(cli, anydb):
    # two signposts, the first retracted: the standing probability is the prior x the second alone
    cli.ok("observe", "widget-factory-built", "--date", "2025-02-01", "--source", "a", "--apply")
    cli.ok("observe", "widget-orders", "--value", "2000", "--date", "2025-03-01", "--source", "b", "--apply")
    both = cli("show", "widget-launch", "--format", "json").json["probability"]
    assert both == pytest.approx(probability_from_odds(0.675 / 0.325 * 3 * 2))
    cli.ok("retract", "observation", "1", "--reason", "false report")
    assert cli("show", "widget-launch", "--format", "json").json["probability"] == pytest.approx(
        probability_from_odds(0.675 / 0.325 * 2)
    )


def test_apply_records_the_update_a_stored_observation_proposes(cli, db):
    proposed = cli("observe", "widget-factory-built", "--date", "2025-02-01", "--source", "press")
    assert "not applied; to apply it: apply 1" in proposed.out
    assert cli("list", "--format", "json").json[1]["probability"] == 0.675
    applied = cli("apply", "1")
    assert applied.code == 0 and "0.68 (likely) -> 0.86 (very likely) on 2025-02-01" in applied.out
    assert cli("list", "--format", "json").json[1]["probability"] == pytest.approx(probability_from_odds(0.675 / 0.325 * 3))
    again = cli("apply", "1")
    assert again.code == 2 and again.err == "error: ID: observation 1 is already applied\n"
    assert cli("apply", "99").err == "error: ID: unknown observation id 99\n"
    assert cli("apply", "99999999999999999999999").code == 2  # beyond 64 bits: bad input, not a crash


def test_an_identical_observation_is_refused_as_a_duplicate(cli, db):
    args = ("observe", "widget-factory-built", "--date", "2025-02-01", "--source", "press", "--note", "same")
    cli.ok(*args)
    twice = cli(*args, "--apply")
    assert twice.code == 2 and "identical observation" in twice.err
    assert cli("export", "observations", "--format", "json").json[0]["applied_by"] is None
    cli.ok(*args[:-1], "another note")  # any field different is a new observation


def test_a_catalog_prior_outside_the_stored_range_is_an_error():
    from forecast_tracker.catalog import parse_proposition_file

    from conftest import WIDGET

    _definition, problems = parse_proposition_file(WIDGET.replace("prior: likely", "prior: 0.0001"), "w.yaml")
    assert [str(p) for p in problems] == [
        "w.yaml: proposition.prior: 0.0001 is outside [0.001, 0.999] (record certainty with 'resolve', not a probability)"
    ]


# -- the team: one track per forecaster, the median of those who have forecast ----------------------
def _team(updates, evidence=(), decay="hazard", by=None):
    from forecast_tracker.evidence import build_tracks

    prop = proposition_row(decay=decay)
    indicators = {"a": ind("a", 3.0)}
    rows = [update_row(i, d, pr, who, f"{who} {pr}") for i, (d, pr, who) in enumerate(updates, start=1)]
    ev = [observation_row(100 + k, "a", d) for k, d in enumerate(evidence)]
    return build_tracks([prop], indicators, rows, ev, by=by)["p"]


def test_two_forecasters_keep_their_own_tracks_and_the_team_is_their_median():
    updates = [("2025-02-01", 0.6, "ana"), ("2025-03-01", 0.9, "ben"), ("2025-04-01", 0.3, "ana")]
    team = _team(updates, decay="none")
    assert team.at("2025-01-15") == pytest.approx(0.2)  # nobody yet: the model (the prior)
    assert team.at("2025-02-15") == pytest.approx(0.6)  # only ana has forecast
    assert team.at("2025-03-15") == pytest.approx((0.6 + 0.9) / 2)  # ben's update does not replace ana's
    assert team.at("2025-04-15") == pytest.approx((0.3 + 0.9) / 2)
    assert team.spread("2025-04-15") == pytest.approx((0.3, 0.9)) and team.spread("2025-02-15") is None
    assert _team(updates, decay="none", by="ana").at("2025-04-15") == pytest.approx(0.3)
    assert _team(updates, decay="none", by="ben").at("2025-02-15") == pytest.approx(0.2)  # before ben: the model
    assert _team(updates, decay="none", by="cleo").at("2025-04-15") == pytest.approx(0.2)  # never forecast: the model


def test_shared_evidence_moves_every_track_and_the_median_follows():
    updates = [("2025-02-01", 0.5, "ana"), ("2025-02-01", 0.8, "ben"), ("2025-02-01", 0.2, "cleo")]
    team = _team(updates, evidence=["2025-05-01"], decay="none")
    after = [probability_from_odds(0.5 / 0.5 * 3), probability_from_odds(0.8 / 0.2 * 3), probability_from_odds(0.2 / 0.8 * 3)]
    assert team.at("2025-05-01") == pytest.approx(sorted(after)[1])  # the median of three, each x3 in odds


def test_the_team_chain_ends_on_the_number_shown_and_daily_agrees_with_at():
    import datetime as dt

    updates = [("2025-02-01", 0.6, "ana"), ("2025-03-01", 0.9, "ben"), ("2025-06-01", 0.4, "ana")]
    team = _team(updates, evidence=["2025-04-01", "2025-07-01"], decay="hazard")
    for day in ("2025-03-01", "2025-04-01", "2025-06-15", "2025-12-01"):
        chain = team.links_until(day)
        assert chain[-1].after == pytest.approx(team.at(day), abs=0.005), day  # decays under half a point are folded
        assert all(link.on <= day for link in chain)
    assert [link.method for link in team.links if link.method != "decay"] == [
        "prior",
        "manual",
        "manual",
        "indicator",
        "manual",
        "indicator",
    ]
    assert "team median of ana" in team.links[-1].rationale
    daily = team.daily("2025-09-01")
    first = dt.date(2025, 1, 1)
    for k in (0, 40, 59, 100, 151, 200, len(daily) - 1):
        assert daily[k] == pytest.approx(team.at((first + dt.timedelta(days=k)).isoformat())), k


def test_daily_and_on_days_are_at_to_the_last_bit():
    """Scores read `daily`, charts `on_days`; every other view reads `at`. They must be the same floats,
    also on days with two anchors, past resolve_by, and with no decay."""
    import datetime as dt

    evidence = firings(ind(repeats="independent"), ["2025-02-01", "2025-02-01", "2025-06-30", "2025-12-31"])
    judgements = [Judgement("2025-03-15", 100, 0.7), Judgement("2025-06-30", 101, 0.35)]
    for decay in ("hazard", "none"):
        t = track(evidence, judgements, decay=decay)
        daily = t.daily("2026-03-01")  # two months past resolve_by
        assert len(daily) == (dt.date(2026, 3, 1) - dt.date(2025, 1, 1)).days
        at = [t.at((dt.date(2025, 1, 1) + dt.timedelta(days=k)).isoformat()) for k in range(len(daily))]
        assert daily == at, decay
        offsets = list(range(-3, len(daily) + 40, 3))  # before it opened, every third day, past the end
        day = lambda k: (dt.date(2025, 1, 1) + dt.timedelta(days=k)).isoformat()  # noqa: E731
        assert t.on_days(offsets) == [t.at(day(k)) for k in offsets], decay
    # without decay, piecewise constant: prior 0.2, two firings on one day 0.8, 0.7, on 06-30 the firing
    # then the judgement (evidence first on a judgement's day) 0.35, the last firing x4
    assert sorted(set(daily)) == pytest.approx([0.2, 0.35, 0.35 * 4 / (0.65 + 0.35 * 4), 0.7, 0.8])


def test_a_team_of_several_answers_on_days_as_at():
    import datetime as dt

    team = _team([("2025-02-01", 0.6, "ana"), ("2025-03-01", 0.9, "ben")], evidence=["2025-04-01"], decay="hazard")
    offsets = [0, 31, 59, 90, 200]
    assert team.on_days(offsets) == [team.at((dt.date(2025, 1, 1) + dt.timedelta(days=k)).isoformat()) for k in offsets]


def test_every_view_answers_the_same_questions_whoever_it_belongs_to():
    from forecast_tracker.evidence import MODEL, Team

    nobody = _team([])
    alone = _team([("2025-03-01", 0.6, "ana")])
    mine = _team([("2025-03-01", 0.6, "ana"), ("2025-04-01", 0.3, "bob")], by="ana")
    team = _team([("2025-03-01", 0.6, "ana"), ("2025-04-01", 0.3, "bob")])
    assert not isinstance(alone, Team) and isinstance(team, Team)  # a team of one is its forecaster's track
    assert nobody.members("2025-06-01") == {MODEL: nobody.at("2025-06-01")} and nobody.side_by_side() == {}
    assert alone.members("2025-02-01") == {MODEL: alone.at("2025-02-01")}  # before ana's first update the model stands
    assert alone.members("2025-06-01") == {"ana": alone.at("2025-06-01")}
    assert alone.side_by_side() == {"ana": (alone, "2025-03-01")}  # scored against itself: alone, she is the team
    assert mine.members("2025-06-01") == {"ana": mine.at("2025-06-01")} and mine.side_by_side() == {}  # --by: no team
    both = team.members("2025-06-01")
    assert mine.spread("2025-06-01") is None and team.spread("2025-06-01") == (both["bob"], both["ana"])
    assert set(team.side_by_side()) == {"ana", "bob"} and team.side_by_side()["bob"][1] == "2025-04-01"
    decays = [link.rationale for link in team.links_until("2025-09-01") if link.method == "decay"]
    assert decays and all(r.startswith("no decisive news for ") for r in decays)
