"""What needs a look: `review`, the scorecards' flags and "This month" follow one set of rules."""

import pytest

from forecast_tracker.api import Tracker


def _setup(db):
    with Tracker(db) as t:
        t.observe("widget-factory-built", date="2025-02-03", source="press", note="built", apply=True, by="ana")
        t.observe("gadget-bill", date="2025-03-10", source="parliament", note="introduced")  # stored, not applied
        t.observe("gadget-sales", value=20, date="2025-03-12", source="stats")  # below 50, no if-not-met ratio: moves nothing
        t.observe("widget-orders", value=300, date="2025-03-15", source="shop")  # below 1000: its if-not-met ratio 0.5 applies
        t.update("gadget-ban", "0.3", date="2025-04-01", rationale="drafted", by="ben")


def test_review_lists_each_reason_with_its_detail(cli, db):
    _setup(db)
    items = cli.ok("review", "--as-of", "2026-06-10", "--format", "json").json
    reasons = {(i["proposition"], i["reason"]) for i in items}
    assert ("widget-launch", "due-soon") in reasons  # resolve_by 2026-06-30: 20 days away
    assert ("widget-launch", "stale") in reasons  # nothing since 2025-02-03
    assert ("gadget-ban", "fired-unchanged") in reasons  # the bill fired (ratio 2) but was never applied
    assert ("gadget-ban", "stale") in reasons
    detail = {(i["proposition"], i["reason"]): i["detail"] for i in items}
    assert detail[("gadget-ban", "fired-unchanged")] == "gadget-bill on 2025-03-10 fired (ratio 2) but is not applied: apply 2"
    assert detail[("widget-launch", "due-soon")] == "resolve_by 2026-06-30 is in 20 day(s)"
    assert detail[("widget-launch", "stale")] == "no update for 492 days (last 2025-02-03)"
    # a count below its threshold moves the probability by its if-not-met ratio, so it needs applying too;
    # a level below threshold with no such ratio moves nothing and needs nothing
    assert ("widget-launch", "unapplied-observation") in reasons
    assert detail[("widget-launch", "unapplied-observation")] == (
        "widget-orders on 2025-03-15 did not fire (ratio 0.5) and is not applied: apply 4"
    )
    assert not any("gadget-sales" in i["detail"] for i in items)
    # the most urgent first
    order = [i["reason"] for i in items]
    assert order == sorted(order, key=["overdue", "fired-unchanged", "unapplied-observation", "due-soon", "stale"].index)

    later = {(i["proposition"], i["reason"]) for i in cli.ok("review", "--as-of", "2026-07-15", "--format", "json").json}
    assert ("widget-launch", "overdue") in later and ("widget-launch", "due-soon") not in later
    cli.ok("apply", "2")
    cli.ok("apply", "4")
    cli.ok("resolve", "widget-launch", "yes", "--source", "the record", "--date", "2025-05-01")
    settled = {(i["proposition"], i["reason"]) for i in cli.ok("review", "--as-of", "2025-05-20", "--format", "json").json}
    assert settled == set()  # widget resolved; gadget's observations applied; nothing stale yet
    table = cli.ok("review", "--as-of", "2026-06-10").out
    assert "proposition" in table and "stale" in table


def test_the_scorecard_flags_and_this_month_say_what_review_says(cli, db, tmp_path):
    _setup(db)
    items = cli.ok("review", "--as-of", "2025-03-31", "--format", "json").json
    cli.ok("report", "--month", "2025-03", "--out", tmp_path / "r")
    md = (tmp_path / "r" / "2025-03.md").read_text()
    html = (tmp_path / "r" / "2025-03.html").read_text()
    assert md.index("## This month") < md.index("## Propositions")  # the first screen
    assert 'id="this-month"' in html and html.index('id="this-month"') < html.index("<h2>Propositions</h2>")
    assert items
    for item in items:
        assert item["detail"].replace("_", "\\_") in md, item
        assert item["detail"] in html, item
    assert "signpost fired but probability unchanged: gadget-bill on 2025-03-10 fired (ratio 2)" in md


def test_this_month_names_the_biggest_move_and_its_reason_and_cards_are_ordered_by_it(cli, db, tmp_path):
    _setup(db)
    cli.ok("update", "--new-forecaster", "widget-launch", "0.3", "--date", "2025-04-20", "--rationale", "the factory burned down", "--by", "ana")
    cli.ok("report", "--month", "2025-04", "--out", tmp_path / "r", "--format", "md")
    md = (tmp_path / "r" / "2025-04.md").read_text()
    this_month = md[md.index("## This month") : md.index("## Propositions")]
    assert "Will the widget go on sale by 2026-06-30? (`widget-launch`)" in this_month and "manual: the factory burned down" in this_month
    # widget moved ~56 points, gadget 10: widget's card comes first
    assert md.index("(`widget-launch`)", md.index("## Propositions")) < md.index("(`gadget-ban`)", md.index("## Propositions"))
    assert "Signposts that fired" not in this_month  # nothing applied was dated in April


def test_misleading_items_fixed(cli, db, tmp_path):
    cli.ok("resolve", "widget-launch", "yes", "--source", "the record", "--date", "2025-02-10")
    cli.ok("report", "--month", "2025-06", "--out", tmp_path / "r", "--format", "md")
    june = (tmp_path / "r" / "2025-06.md").read_text()
    widget = june[june.index("(`widget-launch`)", june.index("## Propositions")) :].split("\n### ")[0]
    assert "change since last month" not in widget  # resolved months ago: no change to speak of
    gadget = june[june.index("(`gadget-ban`)", june.index("## Propositions")) :].split("\n### ")[0]
    assert "change since last month" in gadget
    # the current month is shown to date, as of today, and says so
    from forecast_tracker.scorecard.context import build_scorecard
    from forecast_tracker.scorecard.dataset import Dataset

    with Tracker(db) as t, t.db.read() as conn:
        data = Dataset.load(conn)
    late = build_scorecard(data, "2026-07", today="2026-07-15")
    assert late.to_date and late.as_of == "2026-07-15" and late.title.endswith("July 2026 (to date)")
    assert not build_scorecard(data, "2026-06", today="2026-07-15").to_date


def test_days_past_resolve_by_read_as_such(cli, catalog, tmp_path):
    widget = catalog / "widget-launch.yaml"
    widget.write_text(widget.read_text().replace("resolve_by: 2026-06-30", "resolve_by: 2025-03-15"))
    cli.ok("init", "--catalog", catalog)
    cli.ok("report", "--month", "2025-04", "--out", tmp_path / "r", "--format", "md")
    md = (tmp_path / "r" / "2025-04.md").read_text()
    assert "46 day(s) past resolve_by 2025-03-15" in md and "-46 day" not in md
    assert "past resolve\\_by but unresolved: resolve\\_by 2025-03-15 passed 46 day(s) ago" in md  # Markdown escapes _


def test_list_since_and_score_csv(cli, db):
    _setup(db)
    rows = {r["id"]: r for r in cli.ok("list", "--as-of", "2025-04-15", "--since", "2025-03-31", "--format", "json").json}
    then = {r["id"]: r for r in cli.ok("list", "--as-of", "2025-03-31", "--format", "json").json}
    for pid in ("gadget-ban", "widget-launch"):
        assert rows[pid]["change"] == pytest.approx(rows[pid]["probability"] - then[pid]["probability"])
    assert rows["gadget-ban"]["change"] > 0.09  # ben's 0.3 against the model's decayed 0.2
    assert rows["gadget-ban"]["last_update"] == "2025-04-01" and rows["gadget-ban"]["since"] == "2025-03-31"
    default = {r["id"]: r for r in cli.ok("list", "--as-of", "2025-04-15", "--format", "json").json}
    assert default["gadget-ban"]["since"] == "2025-03-31"  # the end of last month
    table = cli.ok("list", "--as-of", "2025-04-15").out
    assert "change: since 2025-03-31" in table and "last_update" in table
    assert cli("list", "--since", "2030-01-01", "--as-of", "2025-01-01").code == 2
    cli.ok("resolve", "widget-launch", "yes", "--source", "the record", "--date", "2025-05-01")
    csv_text = cli.ok("score", "--as-of", "2025-05-31", "--format", "csv").out
    header, row = csv_text.splitlines()[:2]
    assert header.startswith("id,outcome,resolved_on") and row.startswith("widget-launch,yes,2025-05-01")
