"""A record that cannot be rewritten: definitions in force on their dates, restatements on the record,
state signposts and decisive signposts, end to end through the command line."""

from __future__ import annotations

import difflib
import json
import math
import textwrap
from pathlib import Path

import pytest

from forecast_tracker.api import Tracker
from forecast_tracker.dates import today
from forecast_tracker.evidence import Evidence, Judgement, Track, decayed
from forecast_tracker.probability import P_MAX, probability_from_odds

from conftest import GADGET, WIDGET, indicator_row


def odds(p: float) -> float:
    return p / (1 - p)


def edit(catalog: Path, name: str, old: str, new: str) -> None:
    path = catalog / name
    text = path.read_text()
    assert old in text, (name, old)
    path.write_text(text.replace(old, new, 1))


def record(db: Path) -> None:
    """A past that scorecards have shown: evidence on both propositions, one resolved."""
    with Tracker(db) as t:
        t.observe("widget-factory-built", date="2025-02-03", source="Trade press", apply=True, by="ana")
        t.resolve("widget-launch", "yes", date="2025-06-02", source="Shop")
        t.observe("gadget-bill", date="2025-03-10", source="Parliament", apply=True, by="ana")
        t.observe("gadget-sales", value=80, date="2025-03-12", source="Stats office", apply=True, by="ana")


def month_files(out: Path, month: str) -> dict[str, bytes]:
    """What a reader sees: the month's pages and the proposition pages (not the render cache's fingerprints,
    which change with the versions so that pages are checked again)."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name not in ("index.json", "fingerprints.json")}  # fmt: skip


def shown(cli, out: Path) -> tuple:
    """Everything a reader has seen of the past: March's pages, the standings and scores on past dates."""
    cli.ok("report", "--month", "2025-03", "--out", out)
    lists = [cli.ok("list", "--as-of", day, "--format", "json").out for day in ("2025-03-31", "2025-12-31")]
    scores = [cli.ok("score", "--as-of", day, "--format", "json").out for day in ("2025-06-30", "2026-06-30")]
    return month_files(out, "2025-03"), lists, scores


# -- definitions in force on their dates -----------------------------------------------------------
def test_a_ratio_change_leaves_every_past_number_byte_identical_and_counts_from_today(cli, db, catalog, tmp_path):
    record(db)
    before = shown(cli, tmp_path / "before")
    edit(catalog, "gadget-ban.yaml", "likelihood_ratio: 2", "likelihood_ratio: 4")
    edit(catalog, "gadget-ban.yaml", "likelihood_ratio: 0.5", "likelihood_ratio: 0.25")
    edit(catalog, "widget-launch.yaml", "likelihood_ratio: 3", "likelihood_ratio: 5")
    result = cli("sync", "--catalog", catalog)
    assert result.code == 0, result.err
    day = today()
    assert f"gadget-bill: likelihood ratio 2 -> 4 from {day}; counts for observations on or after that day (0 so far)" in result.out
    assert f"widget-factory-built: likelihood ratio 3 -> 5 from {day}" in result.out
    after = shown(cli, tmp_path / "after")
    assert after[0] == before[0] and after[0]  # March's scorecard and proposition pages, byte for byte
    for was, now in zip(before[1] + before[2], after[1] + after[2], strict=True):  # list --as-of, score, earlier dates
        assert now == was, "".join(difflib.unified_diff(was.splitlines(True), now.splitlines(True)))
    # a reading today counts under the new version: the state now weighs 0.25, it weighed 0.5
    with Tracker(db) as t:
        was = t.standing_probability("gadget-ban")
        t.observe("gadget-sales", value=90, source="Stats office", apply=True, by="ana")
        link = t.history("gadget-ban")[-1]
        assert link["counted_ratio"] == pytest.approx(0.5) and link["likelihood_ratio"] == 0.25
        assert link["probability"] == pytest.approx(probability_from_odds(odds(was) * 0.5))
    assert "0 added, 0 changed" in cli.ok("sync", "--catalog", catalog).out  # the same files again: nothing to do


def test_a_later_effective_day_keeps_the_old_ratio_until_then(cli, db, catalog):
    record(db)
    edit(catalog, "gadget-ban.yaml", "likelihood_ratio: 0.5", "likelihood_ratio: 0.25\n    effective: 2099-01-01")
    result = cli.ok("sync", "--catalog", catalog)
    assert "gadget-sales: likelihood ratio 0.5 -> 0.25 from 2099-01-01" in result.out
    with Tracker(db) as t:
        t.observe("gadget-sales", value=20, source="Stats office", apply=True, by="ana")  # stops firing today
        link = t.history("gadget-ban")[-1]
        # it removes the old version's 0.5 (the new 0.25 is not in force before 2099)
        assert link["counted_ratio"] == pytest.approx(2.0) and "did not fire" in link["rationale"]


def test_a_back_dated_effective_day_is_a_restatement(cli, db, catalog):
    record(db)
    edit(catalog, "gadget-ban.yaml", "likelihood_ratio: 2", "likelihood_ratio: 4\n    effective: 2025-01-01")
    result = cli("sync", "--catalog", catalog)
    assert result.code == 2 and "gadget-ban.yaml: indicators.gadget-bill.likelihood_ratio: 2 -> 4" in result.err
    assert "2025-01-01" in result.err and "--restate --reason" in result.err


# -- restatements ----------------------------------------------------------------------------------
RESTATED = "Will the widget be on sale in two countries by 2026-06-30?"


def test_a_refused_restatement_writes_nothing_and_names_each_key(cli, db, catalog):
    record(db)
    edit(catalog, "widget-launch.yaml", "question: Will the widget go on sale by 2026-06-30?", f"question: {RESTATED}")
    edit(catalog, "widget-launch.yaml", "prior: likely", "prior: 0.8")
    edit(catalog, "gadget-ban.yaml", "resolve_by: 2026-12-31", "resolve_by: 2027-06-30")
    untouched = db.read_bytes()
    result = cli("sync", "--catalog", catalog)
    assert result.code == 2 and result.out == ""
    lines = result.err.strip().splitlines()
    assert lines[0].startswith("error: sync refused 3 restatement(s), nothing written")
    keys = sorted(line.strip().split(": ")[:2] for line in lines[1:])  # one line per file and key
    assert keys == [["gadget-ban.yaml", "proposition.resolve_by"], ["widget-launch.yaml", "proposition.prior"],
                    ["widget-launch.yaml", "proposition.question"]], lines  # fmt: skip
    assert all("--restate --reason" in line for line in lines[1:])
    assert db.read_bytes() == untouched
    # --reason alone is a mistake, and --restate needs a reason
    assert cli("sync", "--catalog", catalog, "--reason", "typo").code == 2
    no_reason = cli("sync", "--catalog", catalog, "--restate")
    assert no_reason.code == 2 and "reason" in no_reason.err and len(no_reason.err.strip().splitlines()) == 1
    assert db.read_bytes() == untouched


def test_an_accepted_restatement_is_on_the_record_the_page_and_every_later_scorecard(cli, db, catalog, tmp_path):
    record(db)
    with Tracker(db) as t:
        first = t.history("gadget-ban")
    assert {h["criteria_version"] for h in first if h["method"] == "indicator"} == {1}
    edit(catalog, "gadget-ban.yaml", "question: Will the gadget be banned by 2026-12-31?",
         "question: Will the gadget be banned nationwide by 2026-12-31?")  # fmt: skip
    edit(catalog, "gadget-ban.yaml", "prior: 0.2", "prior: 0.3")
    result = cli("sync", "--catalog", catalog, "--restate", "--reason", "the source said 30%, misread")
    assert result.code == 0, result.err
    rows = cli.ok("history", "gadget-ban", "--format", "json").json
    restated = [h for h in rows if h["method"] == "restatement"]
    assert len(restated) == 2 and all("the source said 30%, misread" in h["rationale"] for h in restated)
    assert any("prior" in h["rationale"] and "0.2" in h["rationale"] and "0.3" in h["rationale"] for h in restated)
    assert rows[0]["method"] == "prior" and rows[0]["probability"] == pytest.approx(0.3)  # the past moved, on record
    # criteria version 2 from now on: a new update carries it, the old applications keep 1
    cli.ok("update", "--new-forecaster", "gadget-ban", "0.4", "--rationale", "after the restated question", "--by", "ana")
    rows = cli.ok("history", "gadget-ban", "--format", "json").json
    assert [h["criteria_version"] for h in rows if h["method"] in ("indicator", "manual")] == [1, 1, 2]
    out = tmp_path / "reports"
    cli.ok("report", "--month", "2025-03", "--out", out)
    month = (out / "2025-03.md").read_text()
    assert "## Restated" in month and "the source said 30%, misread" in month
    assert "| `gadget-ban` | gadget-ban: prior | 0.2 | 0.3 |" in month
    html = (out / "2025-03.html").read_text()
    assert '<section id="restated">' in html and "the source said 30%, misread" in html
    page = next(out.rglob("gadget-ban.html")).read_text()
    assert "Restated" in page and "the source said 30%, misread" in page
    # a proposition with no restatement shows none on its own page
    assert "Restated" not in next(out.rglob("widget-launch.html")).read_text()


def test_a_restatement_reason_is_escaped_in_html(cli, db, catalog, tmp_path):
    record(db)
    edit(catalog, "gadget-ban.yaml", "prior: 0.2", "prior: 0.3")
    cli.ok("sync", "--catalog", catalog, "--restate", "--reason", "<script>alert(1)</script>")
    out = tmp_path / "r"
    cli.ok("report", "--month", "2025-03", "--out", out)
    html = (out / "2025-03.html").read_text()
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# -- the sync warning for a scheduled event ----------------------------------------------------------
VOTE = textwrap.dedent(
    """\
    proposition:
      id: vote-passes
      statement: The referendum passes.
      question: Will the referendum on the treaty pass on 2026-06-01?
      resolution_criteria: YES if the official count shows a majority for the treaty.
      opened: 2025-01-01
      resolve_by: 2026-06-01
      prior: 0.5
      source:
        title: Vote watch
    indicators:
      - id: vote-poll-lead
        description: The latest poll shows a lead for YES, points.
        kind: level
        threshold: 5
        likelihood_ratio: 2
        likelihood_ratio_if_not_met: 0.5
    """
)


def test_sync_warns_when_a_scheduled_vote_is_left_on_the_default_decay(cli, db, catalog):
    (catalog / "vote-passes.yaml").write_text(VOTE)
    result = cli.ok("sync", "--catalog", catalog)
    assert "vote-passes.yaml: proposition.decay:" in result.err and "decay: none" in result.err
    assert "('referendum')" in result.err and len(result.err.strip().splitlines()) == 1
    assert "added     proposition vote-passes" in result.out
    edit(catalog, "vote-passes.yaml", "  prior: 0.5\n", "  prior: 0.5\n  decay: hazard\n")
    quiet = cli("sync", "--catalog", catalog)  # an explicit choice is not warned about
    assert "decay: none" not in quiet.err


# -- state signposts ---------------------------------------------------------------------------------
def test_a_state_signpost_weighs_as_its_latest_reading(cli, db):
    """widget-orders: fires at >= 1000 with ratio 2, 0.5 when not met; decay none; prior 0.675."""
    readings = [("2025-02-01", 400), ("2025-03-01", 1200), ("2025-04-01", 1500), ("2025-05-01", 800), ("2025-06-01", 300)]
    with Tracker(db) as t:
        for day, value in readings:
            t.observe("widget-orders", value=value, date=day, source="Shop figures", apply=True, by="ana")
        links = [h for h in t.history("widget-launch") if h["method"] == "indicator"]
        counted = [h["counted_ratio"] for h in links]
        assert counted == pytest.approx([0.5, 4.0, 1.0, 0.25, 1.0])  # not met; fires; still; stops; still not
        assert all("(reading " in h["rationale"] for h in links)
        o = odds(0.675)
        assert [h["probability"] for h in links] == pytest.approx(
            [probability_from_odds(o * r) for r in (0.5, 2.0, 2.0, 0.5, 0.5)]
        )  # the chain stands at the prior x the latest state's ratio, whatever came before


def test_a_state_signpost_after_a_manual_update_moves_only_by_its_change(cli, db):
    with Tracker(db) as t:
        t.observe("widget-orders", value=1200, date="2025-02-01", source="Shop figures", apply=True, by="ana")
        t.update("widget-launch", "0.6", date="2025-03-01", rationale="launch slipping", by="ana")
        t.observe("widget-orders", value=1500, date="2025-04-01", source="Shop figures", apply=True, by="ana")
        assert t.standing_probability("widget-launch", as_of="2025-04-15") == pytest.approx(0.6)  # still fires
        t.observe("widget-orders", value=700, date="2025-05-01", source="Shop figures", apply=True, by="ana")
        # the judgement saw the state (ratio 2); the reading that stops it takes that out and adds 0.5
        assert t.standing_probability("widget-launch", as_of="2025-05-15") == pytest.approx(probability_from_odds(1.5 / 4))


def test_a_reading_that_counted_nothing_is_drawn_as_neutral(cli, db, tmp_path):
    with Tracker(db) as t:
        t.observe("widget-orders", value=1200, date="2025-03-01", source="Shop figures", apply=True, by="ana")
        t.observe("widget-orders", value=1500, date="2025-03-20", source="Shop figures", apply=True, by="ana")
    out = tmp_path / "r"
    cli.ok("report", "--month", "2025-03", "--out", out)
    from forecast_tracker.scorecard.charts import COLOURS

    card = (out / "2025-03.html").read_text()
    chart = card[card.index('id="widget-launch"') :]
    chart = chart[: chart.index("</svg>")]
    # the first reading fired (support); the second still fires and counts nothing (neutral)
    assert chart.count(f'fill="{COLOURS["supports"]}"') == 1 and chart.count(f'fill="{COLOURS["neutral"]}"') == 1


# -- decisive signposts ------------------------------------------------------------------------------
DECISIVE = GADGET.replace(
    "    kind: event\n    likelihood_ratio: 2\n",
    "    kind: event\n    likelihood_ratio: 2\n    decides: yes\n",
)


def test_a_decisive_firing_is_held_at_the_clamp_and_queued_for_resolution(cli, catalog, tmp_path):
    (catalog / "gadget-ban.yaml").write_text(DECISIVE)
    cli.ok("init", "--catalog", catalog)
    with Tracker(tmp_path / "test.db") as t:
        obs = t.observe("gadget-bill", date="2025-03-10", source="Gazette", apply=True, by="ana").observation_id
        t.observe("gadget-sales", value=20, date="2025-04-10", source="Stats office", apply=True, by="ana")
        for day in ("2025-03-10", "2025-06-30", "2026-06-30", today()):
            assert t.standing_probability("gadget-ban", as_of=day) == P_MAX, day  # no decay, no later evidence
        links = t.history("gadget-ban")
        met = next(h for h in links if h["observation_id"] == obs)
        assert met["probability"] == P_MAX and f"criterion met by observation {obs}" in met["rationale"]
        assert not any(h["method"] == "decay" and h["as_of"] > "2025-03-10" for h in links)
        review = [r for r in t.review() if r["proposition"] == "gadget-ban"]
        assert review[0]["reason"] == "criterion-met"
        assert "resolve gadget-ban yes --date 2025-03-10" in review[0]["detail"]
    assert "criterion-met" in cli.ok("review").out
    out = tmp_path / "r"
    cli.ok("report", "--month", "2025-03", "--out", out)
    assert "criterion met, resolve it" in (out / "2025-03.md").read_text()  # the scorecard flags it
    with Tracker(tmp_path / "test.db") as t:
        t.resolve("gadget-ban", "yes", date="2025-03-10", source="Gazette")
        assert not any(r["reason"] == "criterion-met" for r in t.review())


def test_decides_no_holds_at_the_lower_clamp():
    from forecast_tracker.probability import P_MIN

    rules_out = indicator_row("x", 0.1, decides="no")
    t = Track(prior=0.4, opened="2025-01-01", resolve_by="2026-01-01", decay="hazard",
              evidence=[Evidence(1, "2025-02-01", rules_out, None)])  # fmt: skip
    assert t.at("2025-02-01") == t.at("2025-12-31") == P_MIN
    assert t.criterion_met("2025-01-31") is None and t.criterion_met("2025-02-02") == ("2025-02-01", 1, P_MIN)


# -- decay versions and the hazard to the end of resolve_by ----------------------------------------------
def test_a_decay_version_applies_from_its_day():
    versions = [("2025-01-01", "hazard"), ("2025-07-01", "none")]
    t = Track(prior=0.5, opened="2025-01-01", resolve_by="2026-01-01", decay=versions)
    at_change = decayed(0.5, "2025-01-01", "2025-07-01", "2026-01-01")
    assert t.at("2025-07-01") == pytest.approx(at_change) and at_change < 0.5
    assert t.at("2025-12-31") == pytest.approx(at_change)  # no decay from July on
    back = Track(prior=0.5, opened="2025-01-01", resolve_by="2026-01-01", decay=[("2025-01-01", "none"), ("2025-07-01", "hazard")])
    assert back.at("2025-07-01") == 0.5 and back.at("2025-12-31") < 0.5
    assert back.daily("2026-01-01")[-1] == pytest.approx(back.at("2025-12-31"), abs=1e-12)  # daily ends the day before


def test_an_event_on_the_deadline_counts_and_an_overdue_question_holds():
    """The hazard runs to the end of resolve_by: on that day one day's hazard is left, not the floor."""
    ev = [Evidence(1, "2026-01-01", indicator_row("a", 10.0), None)]
    t = Track(prior=0.3, opened="2025-12-01", resolve_by="2026-01-01", decay="hazard", evidence=ev)
    before = t.links[-2].after
    assert before == pytest.approx(1 - 0.7 ** (1 / 32))  # 31 days gone, 1 of 32 left
    assert t.at("2026-01-01") == pytest.approx(probability_from_odds(odds(before) * 10))  # about 0.10, not 0.0099
    assert t.at("2026-03-01") == t.at("2026-01-02") == t.at("2026-01-01")  # held after resolve_by
    quiet = Track(prior=0.3, opened="2025-12-01", resolve_by="2026-01-01", decay="hazard")
    assert quiet.at("2026-06-30") == quiet.at("2026-01-01") == pytest.approx(before)  # overdue: held, not decayed on


# -- the team's same-day links -------------------------------------------------------------------------
def test_a_team_chain_shows_each_same_day_step_once():
    from forecast_tracker.evidence import build_tracks

    from conftest import observation_row, proposition_row, update_row

    prop = proposition_row(decay="none", prior=0.3)
    indicators = {"a": indicator_row("a", 3.0), "b": indicator_row("b", 2.0)}
    updates = [update_row(1, "2025-02-01", 0.3, "ana", "a"), update_row(2, "2025-02-01", 0.3, "ben", "b")]
    evidence = [observation_row(10, "a", "2025-03-01"), observation_row(11, "b", "2025-03-01")]
    team = build_tracks([prop], indicators, updates, evidence)["p"]
    steps = [link for link in team.links if link.method == "indicator"]
    assert len(steps) == 2
    assert steps[0].before == pytest.approx(0.3) and steps[0].after == pytest.approx(probability_from_odds(odds(0.3) * 3))
    assert steps[1].before == pytest.approx(steps[0].after)
    assert steps[1].after == pytest.approx(probability_from_odds(odds(0.3) * 6)) == team.at("2025-03-01")


# -- bad catalog input ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("old", "new", "path", "words"),
    [
        ("likelihood_ratio: 3\n", "likelihood_ratio: 3\n    decides: maybe\n", "indicators[0].decides", "yes"),
        ("likelihood_ratio: 3\n", "likelihood_ratio: 3\n    effective: 2025-13-01\n", "indicators[0].effective", "date"),
        ("likelihood_ratio: 3\n", "likelihood_ratio: 3\n    repeats: latest\n", "indicators[0].repeats", "count"),
        ("  decay: none\n", "  decay: none\n  effective: soon\n", "proposition.effective", "date"),
    ],
)
def test_new_catalog_keys_reject_bad_values(path, old, new, words):
    from forecast_tracker.catalog import parse_proposition_file

    assert old in WIDGET
    definition, problems = parse_proposition_file(WIDGET.replace(old, new, 1), "w.yaml")
    assert definition is None
    found = [str(p) for p in problems if p.path == path]
    assert len(found) == 1 and words in found[0], [str(p) for p in problems]


def test_a_bad_sync_leaves_the_database_unchanged(cli, db, catalog):
    record(db)
    untouched = db.read_bytes()
    edit(catalog, "widget-launch.yaml", "likelihood_ratio: 3\n", "likelihood_ratio: 3\n    decides: perhaps\n")
    result = cli("sync", "--catalog", catalog)
    assert result.code == 2 and "decides" in result.err and db.read_bytes() == untouched


def test_history_json_carries_the_criteria_version(cli, db):
    record(db)
    rows = cli.ok("history", "widget-launch", "--format", "json").json
    assert all("criteria_version" in h for h in rows)
    assert json.dumps(rows)  # JSON-ready
    assert [h["criteria_version"] for h in rows if h["method"] == "indicator"] == [1]


# -- the rules docs/evidence-model.md states, each by value ------------------------------------------
def test_the_documented_level_series_counts_as_the_data_moves():
    """40, 45, 60, 42 against 50 with ratios 2 and 0.5: x0.5, x1, x4, x0.25, ending at the prior x0.5."""
    from forecast_tracker.evidence import counted_ratios

    level = indicator_row("u", 2.0, kind="level", threshold=50, if_not_met=0.5)
    readings = [Evidence(k, day, level, value) for k, (day, value) in
                enumerate([("2025-02-01", 40), ("2025-03-01", 45), ("2025-04-01", 60), ("2025-05-01", 42)], 1)]  # fmt: skip
    assert counted_ratios(readings) == pytest.approx({1: 0.5, 2: 1.0, 3: 4.0, 4: 0.25})
    t = Track(prior=0.3, opened="2025-01-01", resolve_by="2026-01-01", decay="none", evidence=readings)
    assert t.at("2025-05-01") == pytest.approx(probability_from_odds(odds(0.3) * 0.5))
    once = indicator_row("u", 2.0, repeats="once", kind="level", threshold=50, if_not_met=0.5)
    assert list(counted_ratios([Evidence(e.observation_id, e.observed_on, once, e.value) for e in readings]).values()) == pytest.approx([0.5, 1, 2, 1])


def test_an_event_reported_not_to_happen_follows_repeats_apart_from_its_firings():
    from forecast_tracker.evidence import counted_ratios

    event = indicator_row("e", 3.0, if_not_met=0.5)  # once, the event default
    days = ["2025-02-01", "2025-03-01", "2025-04-01", "2025-05-01"]
    evidence = [Evidence(k, d, event, v) for k, (d, v) in enumerate(zip(days, [0, 0, 1, 1], strict=True), 1)]
    assert list(counted_ratios(evidence).values()) == pytest.approx([0.5, 1.0, 3.0, 1.0])


def test_a_group_weighs_its_strongest_member_for_plus_its_strongest_against():
    from forecast_tracker.evidence import counted_ratios

    up, up2 = indicator_row("up", 4.0, group="g"), indicator_row("up2", 2.0, group="g")
    down, down2 = indicator_row("down", 0.5, group="g"), indicator_row("down2", 0.25, group="g")
    days = ["2025-02-01", "2025-03-01", "2025-04-01", "2025-05-01"]
    evidence = [Evidence(k, d, i, None) for k, (d, i) in enumerate(zip(days, [up, down, up2, down2], strict=True), 1)]
    counted = counted_ratios(evidence)
    assert counted == pytest.approx({1: 4.0, 2: 0.5, 3: 1.0, 4: 0.5})  # the total: 4 x 0.25 at the end
    product = math.prod(counted.values())
    assert product == pytest.approx(4.0 * 0.25)


def test_evidence_on_the_opened_day_counts_and_each_step_is_clamped():
    from forecast_tracker.probability import P_MAX

    strong = indicator_row("s", 1e5)
    against = indicator_row("a", 0.5)
    t = Track(prior=0.5, opened="2025-01-01", resolve_by="2026-01-01", decay="none",
              evidence=[Evidence(1, "2025-01-01", strong, None), Evidence(2, "2025-01-02", against, None)])  # fmt: skip
    steps = [link for link in t.links if link.method == "indicator"]
    assert steps[0].on == "2025-01-01" and steps[0].after == P_MAX  # clamped at the step, not at the end
    assert steps[1].after == pytest.approx(probability_from_odds(odds(P_MAX) * 0.5))


def test_a_decisive_hold_also_holds_a_later_manual_update():
    from forecast_tracker.probability import P_MAX

    decisive = indicator_row("d", 5.0, decides="yes")
    t = Track(prior=0.3, opened="2025-01-01", resolve_by="2026-01-01", decay="hazard",
              evidence=[Evidence(1, "2025-03-01", decisive, None)],
              judgements=[Judgement("2025-04-01", 9, 0.2, "I doubt it", "ana")])  # fmt: skip
    assert t.at("2025-04-01") == t.at("2025-12-31") == P_MAX
    manual = next(link for link in t.links if link.method == "manual")
    assert manual.after == P_MAX and "criterion met by observation 1" in manual.rationale


def test_a_forced_re_resolution_is_in_force_from_its_own_date_and_shows_open_before(cli, db):
    with Tracker(db) as t:
        t.resolve("gadget-ban", "yes", date="2025-03-01", source="Gazette")
        t.resolve("gadget-ban", "no", date="2025-06-01", source="Court", note="the ban was struck down", force=True)
        status = {day: next(s.status for s in t.standing(as_of=day) if s.id == "gadget-ban")
                  for day in ("2025-02-01", "2025-04-01", "2025-07-01")}  # fmt: skip
    assert status == {"2025-02-01": "open", "2025-04-01": "open", "2025-07-01": "no"}


def test_a_changed_kind_is_a_version_and_past_firings_stay_firings(cli, db, catalog):
    record(db)
    before = cli.ok("history", "gadget-ban", "--as-of", "2025-12-31", "--format", "json").out
    edit(catalog, "gadget-ban.yaml", "    kind: event\n    likelihood_ratio: 2\n",
         "    kind: level\n    threshold: 10\n    likelihood_ratio: 2\n")  # fmt: skip
    result = cli.ok("sync", "--catalog", catalog)
    assert "gadget-bill: kind event -> level from" in result.out
    assert cli.ok("history", "gadget-ban", "--as-of", "2025-12-31", "--format", "json").out == before
