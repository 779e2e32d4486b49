"""The daily workflow as analysts do it (issue 23): each intent one command, and output that says
what the chain counted. One test per item that misled a new user, each able to fail."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from forecast_tracker.api import Tracker, report_months
from forecast_tracker.dates import today
from forecast_tracker.probability import describe, icd203_term, parse_probability

from conftest import snapshot

P = "widget-launch"


def _observe(cli, *args: str) -> int:
    cli.ok("observe", *args)
    return max(o["id"] for o in json.loads(cli.ok("export", "observations", "--format", "json").out))


# -- dates, ranges and filters ------------------------------------------------------------------
def test_a_month_is_its_last_day_for_as_of_and_since(cli, db):
    _observe(cli, "widget-factory-built", "--date", "2025-03-02", "--source", "s", "--apply")
    by_month = cli.ok("list", "--as-of", "2025-03", "--since", "2025-02", "--format", "json").json
    by_day = cli.ok("list", "--as-of", "2025-03-31", "--since", "2025-02-28", "--format", "json").json
    assert by_month == by_day and by_month[0]["as_of"] == "2025-03-31" and by_month[0]["since"] == "2025-02-28"
    assert cli.ok("history", P, "--as-of", "2025-03", "--format", "json").json == cli.ok(
        "history", P, "--as-of", "2025-03-31", "--format", "json").json  # fmt: skip


def test_report_from_alone_runs_to_this_month():
    months = report_months(None, "2025-01", None)
    assert months[0] == "2025-01" and months[-1] == today()[:7]


def test_list_by_tag(cli, db):
    widgets = cli.ok("list", "--tag", "widgets", "--format", "json").json
    assert [r["id"] for r in widgets] == [P]
    assert widgets[0]["question"] == "Will the widget go on sale by 2026-06-30?"
    bad = cli("list", "--tag", "widget")
    assert bad.code == 2 and "did you mean 'widgets'" in bad.err


def test_numbers_with_thousands_separators_are_read_as_printed(cli, db):
    obs = _observe(cli, "widget-orders", "--value", "1,500", "--date", "2025-03-02", "--source", "s")
    [row] = [o for o in cli.ok("export", "observations", "--format", "json").json if o["id"] == obs]
    assert row["value"] == 1500
    for bad in ("1,50", "15,00,0", "1.500,5"):
        assert cli("observe", "widget-orders", "--value", bad, "--source", "s").code == 2, bad


# -- ICD 203 ------------------------------------------------------------------------------------
def test_icd203_beyond_the_bands_adverbs_and_edges():
    assert describe(0.001) == "<0.01 (almost no chance)" and describe(0.999) == ">0.99 (almost certain)"
    assert describe(0.01) == "0.01 (almost no chance)" and describe(0.99) == "0.99 (almost certain)"
    assert parse_probability("probably") == parse_probability("probable") == parse_probability("likely") == 0.675
    assert parse_probability("almost certainly") == parse_probability("almost certain") == 0.97
    assert parse_probability("improbably") == parse_probability("unlikely") == 0.325
    assert parse_probability("very probably") == parse_probability("highly probable") == 0.875
    assert parse_probability("Highly Improbably") == 0.125
    assert icd203_term(0.05) == "very unlikely" and icd203_term(0.95) == "very likely"  # an edge goes toward 50%
    assert icd203_term(0.45) == "roughly even chance" and icd203_term(0.55) == "roughly even chance"


def test_one_word_for_one_number_on_every_page(cli, db, tmp_path):
    cli.ok("update", "gadget-ban", "0.001", "--date", "2025-02-01", "--rationale", "no bill")
    cli.ok("report", "--month", "2025-02", "--out", tmp_path / "r", "--format", "all")
    for page in ("2025-02.md", "2025-02.html", "propositions/gadget-ban.md"):
        text = (tmp_path / "r" / page).read_text()
        assert "0.00 (" not in text and "1.00 (" not in text, page
        assert ("&lt;0.01 (almost no chance)" if page.endswith(".html") else "<0.01 (almost no chance)") in text, page
    assert "<0.01 (almost no chance)" in cli.ok("show", "gadget-ban", "--as-of", "2025-02-02").out


# -- retire, amend-adjacent, dry runs ---------------------------------------------------------
def test_retire_a_vanished_signpost(cli, db, catalog):
    obs = _observe(cli, "widget-recall", "--date", "2025-03-02", "--source", "s", "--apply")
    before = cli.ok("list", "--as-of", "2025-04-01", "--format", "json").json
    text = (catalog / "widget-launch.yaml").read_text()
    (catalog / "widget-launch.yaml").write_text(text.split("  - id: widget-recall")[0])
    sync = cli.ok("sync", "--catalog", catalog)
    assert "vanished  indicator widget-recall" in sync.out and "retire indicator widget-recall" in sync.out
    done = cli("retire", "indicator", "widget-recall", "--reason", "merged into widget-orders")
    assert done.code == 0 and "its observations stay on record" in done.out
    assert "vanished" not in cli.ok("sync", "--catalog", catalog).out.replace("0 vanished", "")
    shown = cli.ok("show", P, "--format", "json").json
    assert "widget-recall" not in [i["id"] for i in shown["indicators"]]
    assert obs in [o["id"] for o in shown["observations"]]  # on record, and still counting as before
    assert cli.ok("list", "--as-of", "2025-04-01", "--format", "json").json == before
    refused = cli("observe", "widget-recall", "--source", "s")
    assert refused.code == 2 and "retired" in refused.err
    assert "already retired" in cli("retire", "indicator", "widget-recall", "--reason", "again").err
    (catalog / "widget-launch.yaml").write_text(text)
    assert "retired but in the catalog again" in cli.ok("sync", "--catalog", catalog).err


def test_import_dry_run_writes_nothing(cli, db, tmp_path):
    csv = tmp_path / "obs.csv"
    csv.write_text("indicator,observed_on,value,source,note\nwidget-factory-built,2025-03-02,,s,n\nwidget-orders,2025-03-03,1200,s,\n")
    before = snapshot(db)
    r = cli("import", csv, "--apply", "--dry-run")
    assert r.code == 0 and "dry run, nothing written: would import 2 observations" in r.out and "2 applied" in r.out
    assert snapshot(db) == before
    assert "imported 2 observations" in cli.ok("import", csv).out


def test_an_updates_csv_needs_its_rationale_or_no_rationale(cli, db, tmp_path):
    csv = tmp_path / "updates.csv"
    csv.write_text("proposition,as_of,probability\nwidget-launch,2025-02-01,0.5\n")
    before = snapshot(db)
    refused = cli("import", csv)
    assert refused.code == 2 and "rationale" in refused.err and "--no-rationale" in refused.err
    assert snapshot(db) == before
    assert "imported 1 updates" in cli.ok("import", csv, "--no-rationale").out


def test_a_new_forecaster_is_named_once_on_purpose(cli, db):
    cli.ok("update", P, "0.6", "--date", "2025-02-01", "--rationale", "r")  # you, by default: no flag needed
    typo = cli("update", P, "0.6", "--date", "2025-02-01", "--rationale", "r", "--by", "testre")
    assert typo.code == 2 and "did you mean 'tester'" in typo.err and "--new-forecaster" in typo.err
    cli.ok("update", P, "0.4", "--date", "2025-02-02", "--rationale", "r", "--by", "carol", "--new-forecaster")
    cli.ok("update", P, "0.45", "--date", "2025-02-03", "--rationale", "r", "--by", "carol")  # known now
    assert sorted(cli.ok("show", P, "--as-of", "2025-02-04", "--format", "json").json["forecasters"]) == ["carol", "tester"]


def test_an_indicator_range_refuses_a_typo_and_is_a_plain_edit(cli, db, catalog):
    text = (catalog / "widget-launch.yaml").read_text()
    ranged = text.replace("    threshold: 1000\n", "    threshold: 1000\n    range: [0, 100000]\n")
    assert ranged != text
    (catalog / "widget-launch.yaml").write_text(ranged)
    sync = cli.ok("sync", "--catalog", catalog)
    assert "1 changed" in sync.out and "restate" not in sync.err
    refused = cli("observe", "widget-orders", "--value", "2500000", "--source", "s")
    assert refused.code == 2 and "outside widget-orders's plausible range [0, 100000]" in refused.err
    _observe(cli, "widget-orders", "--value", "25,000", "--date", "2025-03-01", "--source", "s")
    export = {i["id"]: i for i in cli.ok("export", "indicators", "--format", "json").json}
    assert (export["widget-orders"]["range_low"], export["widget-orders"]["range_high"]) == (0, 100000)
    (catalog / "widget-launch.yaml").write_text(ranged.replace("range: [0, 100000]", "range: [5, 1]"))
    bad = cli("sync", "--catalog", catalog)
    assert bad.code == 2 and "low below high" in bad.err


def test_indicators_without_a_range_keep_their_fingerprint():
    # the value the release before `range` and `bears_on` computed for this definition (commit 817f208):
    # were it to change, every stored indicator would read as edited on the first sync after upgrading
    from forecast_tracker.catalog import IndicatorDef

    d = IndicatorDef(id="widget-orders", proposition_id="widget-launch", description="Pre-orders reach 1000.", kind="count",
                     likelihood_ratio=2.0, threshold=1000.0, likelihood_ratio_if_not_met=0.5, rationale=None)  # fmt: skip
    assert d.fingerprint() == "b8d1a7993af1889e"
    assert IndicatorDef(**{**d.__dict__, "range_low": 0.0, "range_high": 5000.0}).fingerprint() != "b8d1a7993af1889e"


# -- output that reads right ---------------------------------------------------------------------
def test_review_and_history_print_whole_lines_when_piped(cli, db):
    long = "a note long enough to have been cut at sixty characters by the old table printer, and more"
    obs = _observe(cli, "widget-factory-built", "--date", "2025-03-02", "--source", "s", "--note", long)
    review = cli.ok("review").out
    assert f"apply {obs}" in review and "…" not in review
    cli.ok("apply", str(obs))
    cli.ok("update", P, "0.5", "--date", "2025-03-05", "--rationale", long)
    history = cli.ok("history", P).out
    assert long in history and "…" not in history
    assert cli.ok("review", "--format", "json").json[0].keys() >= {"proposition", "reason", "detail", "observation_id"}


def test_a_terminal_table_wraps_instead_of_cutting(monkeypatch, capsys):
    from forecast_tracker import cli as cli_module

    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    monkeypatch.setattr("shutil.get_terminal_size", lambda fallback=None: __import__("os").terminal_size((60, 20)))
    text = "word " * 40
    cli_module._table([{"a": "x", "b": text.strip()}], ["a", "b"], "table")
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert len(lines) > 4 and all(len(line) <= 60 for line in lines)
    assert " ".join(" ".join(line.split()[1:] if i == 2 else line.split()) for i, line in enumerate(lines[2:], 2)).count("word") == 40


def test_list_headlines_the_question_and_sync_warns_of_opposite_polarity(cli, db, catalog):
    table = cli.ok("list").out
    assert "Will the widget go on sale by 2026-06-30?" in table and "The widget launches." not in table
    text = (catalog / "gadget-ban.yaml").read_text()
    (catalog / "gadget-ban.yaml").write_text(text.replace("statement: The gadget is banned.", "statement: The gadget is not banned."))
    r = cli.ok("sync", "--catalog", catalog)
    assert "gadget-ban: the statement is negated and the other is not" in r.err
    assert "widget-launch" not in r.err


def test_show_names_the_resolutions_source(cli, db):
    cli.ok("resolve", "gadget-ban", "no", "--date", "2025-06-01", "--source", "the gazette", "--note", "no ban law")
    out = cli.ok("show", "gadget-ban").out
    assert "resolution 1: no on 2025-06-01; source: the gazette; note: no ban law" in out


def card_of(page: str, pid: str) -> str:
    start = page.index(f'<section class="card" id="{pid}">')
    return page[start : page.index("</section>", start)]


def test_the_card_says_what_the_chain_counted(cli, db, tmp_path):
    first = _observe(cli, "widget-factory-built", "--date", "2025-03-02", "--source", "s", "--apply")
    _observe(cli, "widget-factory-built", "--date", "2025-03-09", "--source", "again", "--note", "", "--apply")  # a repeat
    cli.ok("retract", "observation", str(first + 1), "--reason", "duplicate")
    _observe(cli, "widget-factory-built", "--date", "2025-03-10", "--source", "third", "--apply")  # counts 0: repeats once
    cli.ok("resolve", "gadget-ban", "no", "--date", "2025-03-20", "--source", "the gazette")
    cli.ok("report", "--month", "2025-03", "--out", tmp_path / "r", "--format", "all")
    html = (tmp_path / "r" / "2025-03.html").read_text()
    widget = card_of(html, P)
    assert "<h3>Will the widget go on sale by 2026-06-30?" in widget and "Statement: The widget launches." in widget
    assert "+4.8 dB</td>" in widget and "+4.8 dB, counted +0.0 dB" in widget  # the first counted, the third did not
    assert "Commentary&#39;s prior" in widget
    gadget = card_of(html, "gadget-ban")
    assert "final forecast <span" in gadget and "Resolution source: the gazette" in gadget
    md = (tmp_path / "r" / "2025-03.md").read_text()
    assert "~~~~" not in md and "(retracted: duplicate)" in md
    assert "decibans (dB)" in html and "The Metaculus baseline score is" in html and "decibans (dB)" in md
    index = (tmp_path / "r" / "index.html").read_text()
    assert 'href="propositions/widget-launch.html"' in index and 'href="propositions/gadget-ban.html"' in index
    assert "lower is better" in index


def test_signposts_that_fired_list_only_firings_that_counted(cli, tmp_path, catalog):
    # two signposts of one development (a group): the second firing, weaker, adds nothing to the group
    text = (catalog / "widget-launch.yaml").read_text()
    text = text.replace("    likelihood_ratio: 3\n", "    likelihood_ratio: 3\n    group: launch-news\n")
    text = text.replace("    likelihood_ratio: 0.25\n", "    likelihood_ratio: 2\n    group: launch-news\n")
    (catalog / "widget-launch.yaml").write_text(text)
    cli.ok("init", "--catalog", catalog)
    _observe(cli, "widget-factory-built", "--date", "2025-03-02", "--source", "s", "--apply")
    second = _observe(cli, "widget-recall", "--date", "2025-03-09", "--source", "s", "--apply")
    assert cli.ok("history", P, "--format", "json").json[-1]["observation_id"] in (second, None)
    with Tracker(tmp_path / "test.db") as t:
        t.report(["2025-03"], tmp_path / "r", ("html",))
    page = (tmp_path / "r" / "2025-03.html").read_text()
    card = card_of(page, P)
    assert "Signposts fired so far: widget-factory-built." in card  # the recall fired but counted nothing
    assert "+3.0 dB, counted +0.0 dB" in card
    this_month = page[page.index('id="this-month"') : page.index("<h2>Propositions</h2>")]
    assert "widget-factory-built</b>" in this_month and "widget-recall" not in this_month  # "Signposts that fired"
    assert '<td class="neutral">neutral</td>' in card  # the recall's row: it counted nothing


def test_a_quiet_month_shows_only_its_own_decay(cli, tmp_path, catalog):
    (catalog / "gadget-ban.yaml").write_text((catalog / "gadget-ban.yaml").read_text())  # hazard decay (the default)
    cli.ok("init", "--catalog", catalog)
    cli.ok("update", "gadget-ban", "0.6", "--date", "2025-01-15", "--rationale", "a bill")
    with Tracker(tmp_path / "test.db") as t:
        t.report(["2025-06"], tmp_path / "r", ("html",))
        june_start, june_end = t.standing_probability("gadget-ban", "2025-05-31"), t.standing_probability("gadget-ban", "2025-06-30")
    card = card_of((tmp_path / "r" / "2025-06.html").read_text(), "gadget-ban")
    row = re.search(r"<td[^>]*>(\d+)% &rarr; (\d+)%</td><td>decay</td>", card)
    assert row, card[-1500:]
    assert int(row.group(1)) == round(june_start * 100) and int(row.group(2)) == round(june_end * 100)
    assert "this period&#39;s part of" in card


def test_a_move_in_the_opening_month_is_shown(cli, tmp_path, catalog):
    text = (catalog / "widget-launch.yaml").read_text().replace("opened: 2025-01-01", "opened: 2025-03-01")
    (catalog / "widget-launch.yaml").write_text(text)
    cli.ok("init", "--catalog", catalog)
    _observe(cli, "widget-factory-built", "--date", "2025-03-05", "--source", "s", "--apply")
    with Tracker(tmp_path / "test.db") as t:
        t.report(["2025-03"], tmp_path / "r", ("md",))
    md = (tmp_path / "r" / "2025-03.md").read_text()
    this_month = md[md.index("## This month") : md.index("## Propositions")]
    assert "Will the widget go on sale by 2026-06-30? (`widget-launch`): 0.68 (likely) → 0.86 (very likely)" in this_month


def test_an_analysts_prior_is_not_the_commentarys(cli, tmp_path, catalog):
    text = (catalog / "widget-launch.yaml").read_text().replace("  decay: none\n", "  decay: none\n  origin: analyst\n")
    (catalog / "widget-launch.yaml").write_text(text)
    cli.ok("init", "--catalog", catalog)
    with Tracker(tmp_path / "test.db") as t:
        t.report(["2025-03"], tmp_path / "r", ("html", "md"))
        assert t.history(P)[0]["rationale"].startswith("analyst: ")
    assert "Analyst&#39;s prior" in card_of((tmp_path / "r" / "2025-03.html").read_text(), P)
    assert "Analyst's prior" in (tmp_path / "r" / "2025-03.md").read_text()


def test_proposition_pages_list_observations_in_date_order(cli, db, tmp_path):
    _observe(cli, "widget-factory-built", "--date", "2025-04-02", "--source", "s", "--note", "later one")
    _observe(cli, "widget-recall", "--date", "2025-03-02", "--source", "s", "--note", "earlier one")
    with Tracker(db) as t:
        t.report(["2025-04"], tmp_path / "r", ("html",))
    page = (tmp_path / "r" / "propositions" / f"{P}.html").read_text()
    assert page.index("earlier one") < page.index("later one")


# -- files and frames -------------------------------------------------------------------------------
def test_exports_carry_every_catalog_key(cli, db):
    indicators = cli.ok("export", "indicators", "--format", "json").json
    assert set(indicators[0]) >= {"repeats", "group", "fires_when", "decides", "range_low", "range_high", "bears_of", "kind", "threshold"}
    props = cli.ok("export", "propositions", "--format", "json").json
    assert set(props[0]) >= {"origin", "decay", "team", "source_publisher", "source_published", "source_url"}
    assert {p["id"]: p["decay"] for p in props}[P] == "none"


def test_the_python_api_gives_dates_and_a_daily_trajectory(db):
    with Tracker(db) as t:
        t.observe("widget-factory-built", date="2025-03-02", source="s", apply=True)
        frame = t.trajectory_frame(P, as_of="2025-03-10")
        assert str(frame["date"].dtype).startswith("datetime64") and len(frame) == 31 + 28 + 10
        assert frame["date"].iloc[0].date().isoformat() == "2025-01-01"
        for day in ("2025-01-01", "2025-03-01", "2025-03-02", "2025-03-10"):
            value = frame.loc[frame["date"] == day, "probability"].item()
            assert value == pytest.approx(t.standing_probability(P, day), abs=1e-12)
        assert str(t.history_frame(P)["as_of"].dtype).startswith("datetime64")
        observations = t.observations_frame(P)
        assert str(observations["observed_on"].dtype).startswith("datetime64")
        assert str(observations["recorded_at"].dtype).startswith("datetime64[ns, UTC]") or "UTC" in str(
            observations["recorded_at"].dtype)  # fmt: skip
        assert str(t.propositions_frame("2025-03-10")["resolve_by"].dtype).startswith("datetime64")
        t.resolve(P, "yes", date="2025-03-05", source="s")
        assert t.trajectory_frame(P)["date"].iloc[-1].date().isoformat() == "2025-03-04"


def test_dry_run_observe_leaves_the_file_byte_identical(cli, db):
    before = Path(db).read_bytes()
    r = cli("observe", "widget-factory-built", "--date", "2025-03-02", "--source", "s", "--apply", "--dry-run")
    assert r.code == 0 and "dry run, nothing written" in r.out
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert Path(db).read_bytes() == before


def test_a_month_of_routine_is_one_command_per_intent(cli, db, tmp_path):
    """Import, review, apply, fix one mistake, resolve one: each one command, and the month's page
    then says what the chain counted for every observation."""
    csv = tmp_path / "march.csv"
    csv.write_text("indicator,observed_on,value,source,note\n"
                   "widget-factory-built,2025-03-02,,https://example.org/a,ground broken\n"
                   "widget-orders,2025-03-05,1200,https://example.org/b,pre-orders pass the mark\n"
                   "gadget-bill,2025-03-06,,https://example.org/c,a bill is tabled\n"
                   "widget-recall,2025-03-20,,https://example.org/d,misdated recall\n")  # fmt: skip
    imported = cli.ok("import", csv)
    assert "4 row(s) stored, not counted: apply them with 'forecast-tracker apply --pending'" in imported.out
    review = cli.ok("review", "--as-of", "2025-03-31", "--format", "json").json
    assert {item["observation_id"] for item in review if item["observation_id"]} == {1, 2, 3, 4}
    applied = cli.ok("apply", "--pending", "--before", "2025-03-31")
    assert "applied 4 observation(s)" in applied.out
    fixed = cli.ok("amend", "observation", "4", "--date", "2025-03-21", "--reason", "the recall was the 21st")
    assert "amends observation 4" in fixed.out and "applied as evidence" in fixed.out
    resolved = cli.ok("resolve", "gadget-ban", "yes", "--date", "2025-03-25", "--source", "https://example.org/law")
    assert "final forecast" in resolved.out
    waiting = [i for i in cli.ok("review", "--as-of", "2025-03-31", "--format", "json").json
               if i["reason"] in ("unapplied-observation", "fired-unchanged")]  # fmt: skip
    assert waiting == []  # nothing is left waiting
    cli.ok("report", "--month", "2025-03", "--out", tmp_path / "r", "--format", "md")
    md = (tmp_path / "r" / "2025-03.md").read_text()
    evidence = [line for line in md.splitlines() if line.startswith("| 2025-03-")]
    assert evidence and all(" dB" in line or "| – |" in line or "retracted" in line for line in evidence)
    assert "(retracted: amended: the recall was the 21st)" in md


def test_one_number_one_word():
    # 0.049 and 0.05 both show as 0.05: they read as the same word, the band 0.05 belongs to
    from forecast_tracker.probability import shown_word

    assert describe(0.049) == describe(0.05) == "0.05 (very unlikely)"
    assert describe(0.445) == "0.45 (roughly even chance)" and shown_word(0.445) == "roughly even chance"
    assert describe(0.0004) == "<0.01 (almost no chance)" and describe(0.9996) == ">0.99 (almost certain)"


def test_a_lookalike_forecaster_name_is_refused(cli, db):
    from forecast_tracker.validate import lookalike

    cli.ok("update", P, "0.6", "--date", "2025-02-01", "--rationale", "r", "--by", "ana", "--new-forecaster")
    before = snapshot(db)
    for twin in ("Ana", "аna", "ana\u200b", "ａｎａ", "ána"):  # case, Cyrillic а, a zero-width space, full width, an accent
        r = cli("update", P, "0.5", "--date", "2025-02-02", "--rationale", "r", "--by", twin, "--new-forecaster")
        assert r.code == 2 and "looks like the forecaster 'ana'" in r.err, twin
    assert snapshot(db) == before
    assert lookalike("anna", ["ana"]) is None and lookalike("ana", ["ana"]) is None
    cli.ok("update", P, "0.5", "--date", "2025-02-02", "--rationale", "r", "--by", "anna", "--new-forecaster")
