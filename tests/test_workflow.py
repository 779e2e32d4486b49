"""The whole workflow through the CLI, on a catalog of the tests' own."""

import json

import pytest

from forecast_tracker.api import Tracker

from conftest import PgDatabase, snapshot


def test_init_to_resolve(cli, db):
    listed = cli("list", "--format", "json", "--as-of", "2025-06-01").json
    assert [row["id"] for row in listed] == ["gadget-ban", "widget-launch"]
    assert set(listed[0]) >= {"id", "statement", "status", "probability", "as_of", "resolve_by"}
    assert listed[1]["probability"] == 0.675

    proposed = cli("observe", "widget-factory-built", "--date", "2025-02-01", "--source", "news")
    assert proposed.code == 0
    assert "0.68 (likely) -> 0.86 (very likely)" in proposed.out
    assert "+4.8 dB" in proposed.out and "apply 1" in proposed.out
    assert cli("history", "widget-launch", "--format", "json").json[-1]["method"] == "prior"  # nothing recorded

    applied = cli("observe", "widget-orders", "--value", "400", "--date", "2025-03-01", "--source", "shop", "--apply")
    assert "0.68 (likely) -> 0.51" in applied.out and "-3.0 dB" in applied.out and "applied as evidence" in applied.out

    assert cli("update", "widget-launch", "80%", "--date", "2025-04-01", "--rationale", "launch event booked").code == 0
    history = cli("history", "widget-launch", "--format", "json").json
    assert [h["method"] for h in history] == ["prior", "indicator", "manual"]
    assert history[1]["indicator"] == "widget-orders" and history[1]["observation_id"] == 2
    assert history[1]["probability"] == pytest.approx(0.675 / 0.325 * 0.5 / (1 + 0.675 / 0.325 * 0.5))
    assert history[2]["rationale"] == "launch event booked" and history[2]["forecaster"] == "tester"
    for row in history:
        assert {"as_of", "probability", "method", "rationale", "observation_id", "indicator"} <= set(row)

    assert cli("show", "widget-launch", "--as-of", "2025-03-15", "--format", "json").json["probability"] == pytest.approx(
        history[1]["probability"]
    )
    assert cli("resolve", "widget-launch", "yes", "--date", "2025-05-01", "--source", "shop").code == 0
    assert cli("list", "--status", "yes", "--format", "json").json[0]["id"] == "widget-launch"
    scored = cli("score", "--format", "json").json
    row = scored["propositions"][0]
    assert row["final_probability"] == 0.8 and row["brier"] == pytest.approx(0.04) and row["brier_2"] == pytest.approx(0.08)
    assert scored["summary"]["n_resolved"] == 1


def test_rules_a_user_relies_on(cli, db):
    assert cli("resolve", "gadget-ban", "no", "--source", "the record", "--date", "2025-06-01").code == 0
    refused = cli("update", "gadget-ban", "0.3", "--date", "2025-06-02")
    assert refused.code == 2 and "resolved no" in refused.err
    refused = cli("observe", "gadget-bill", "--date", "2025-06-02", "--source", "x")
    assert refused.code == 2 and "no new observations" in refused.err
    twice = cli("resolve", "gadget-ban", "yes", "--source", "the record", "--date", "2025-06-03")
    assert twice.code == 2 and "--force" in twice.err
    forced = cli("resolve", "gadget-ban", "yes", "--source", "the record", "--date", "2025-06-03", "--force", "--note", "misread the gazette")
    assert forced.code == 0
    resolutions = cli("export", "resolutions", "--format", "json").json
    assert [r["outcome"] for r in resolutions] == ["no", "yes"]  # the earlier one is kept on record
    assert cli("list", "--format", "json").json[0]["status"] == "yes"
    suggestion = cli("update", "widget-lunch", "0.5")
    assert suggestion.code == 2 and "did you mean 'widget-launch'" in suggestion.err
    future = cli("observe", "widget-factory-built", "--date", "2999-01-01", "--source", "x")
    assert future.code == 2 and "in the future" in future.err
    early = cli("update", "widget-launch", "0.5", "--date", "2024-12-31")
    assert early.code == 2 and "before widget-launch opened" in early.err


def test_observation_before_opened_is_context_only(cli, db):
    result = cli("observe", "widget-factory-built", "--date", "2024-06-01", "--source", "archive", "--apply")
    assert result.code == 0 and "recorded as context" in result.out
    assert len(cli("history", "widget-launch", "--format", "json").json) == 1


def test_retract_observation_removes_its_evidence(cli, anydb):
    cli.ok("observe", "widget-factory-built", "--date", "2025-02-01", "--source", "rumour", "--apply")
    before = cli("list", "--format", "json").json[1]["probability"]
    assert before > 0.8
    result = cli("retract", "observation", "1", "--reason", "the rumour was false")
    assert result.code == 0 and result.out == "retracted observation 1\n"
    assert cli("list", "--format", "json").json[1]["probability"] == 0.675
    history = cli("history", "widget-launch", "--format", "json").json
    assert [h["method"] for h in history] == ["prior"]  # the chain no longer holds it
    exported = cli("export", "observations").out
    assert "the rumour was false" in exported
    again = cli("retract", "observation", "1", "--reason", "again")
    assert again.code == 2 and "already retracted" in again.err


def test_export_round_trip_into_fresh_database(cli, anydb, catalog, tmp_path, monkeypatch, request):
    cli.ok(
        "observe",
        "widget-factory-built",
        "--date",
        "2025-02-01",
        "--source",
        'quote "this", and, commas',
        "--note",
        "line1\nline2",
        "--apply",
    )
    cli.ok("observe", "widget-orders", "--value", "1500", "--date", "2025-03-01", "--source", "shop", "--apply")
    cli.ok("observe", "gadget-sales", "--value", "12.5", "--date", "2025-03-02", "--source", "stats", "--apply")
    cli.ok("update", "gadget-ban", "0.3", "--date", "2025-04-01", "--rationale", "bill drafted")
    assert cli("retract", "update", "1", "--reason", "wrong proposition").code == 0  # the manual update
    cli.ok("resolve", "widget-launch", "yes", "--date", "2025-05-01", "--source", "shop")
    out = tmp_path / "export"
    out.mkdir()
    everything = ("observations", "updates", "resolutions", "propositions", "indicators")
    for what in everything:
        assert cli("export", what, "--out", out / f"{what}.csv").code == 0
        assert cli("export", what, "--format", "json", "--out", out / f"{what}.json").code == 0

    fresh = str(tmp_path / "fresh.db") if not isinstance(anydb, PgDatabase) else _another_pg_database(request)
    monkeypatch.setenv("FORECAST_TRACKER_DB", fresh)
    assert cli("init", "--catalog", catalog).code == 0
    for what in ("observations", "updates", "resolutions"):
        result = cli("import", out / f"{what}.csv")
        assert result.code == 0, result.err
    assert "wrong proposition" in (out / "updates.csv").read_text()  # the retraction travels with the row
    for what in everything:
        assert cli("export", what).out == (out / f"{what}.csv").read_text(), what
        assert cli("export", what, "--format", "json").out == (out / f"{what}.json").read_text(), what
    with Tracker(fresh) as t:
        again_updates = t.import_csv(out / "updates.csv")
    assert (again_updates.rows, again_updates.imported, again_updates.duplicates) == (1, 0, 1)
    # importing again adds nothing: every row is recognised as a duplicate
    again = cli("import", out / "observations.csv")
    assert "imported 0 observations" in again.out and "3 duplicate(s)" in again.out


def _another_pg_database(request) -> str:
    """An empty PostgreSQL database beside the test's own, dropped after the test."""
    import uuid

    from sqlalchemy import text

    admin, _template, url = request.getfixturevalue("pg_server")
    name = f"ft_fresh_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))

    request.addfinalizer(drop)
    return url(name)


def test_python_api_returns_dataframes(db):
    with Tracker(db) as tracker:
        tracker.observe("widget-orders", value=2000, date="2025-02-01", source="shop", apply=True)
        frame = tracker.history_frame("widget-launch")
        assert list(frame["method"]) == ["prior", "indicator"]
        assert tracker.standing_probability("widget-launch", "2025-01-31") == 0.675
        assert tracker.standing_probability("widget-launch", "2025-02-01") > 0.8
        assert len(tracker.observations_frame()) == 1
        assert set(tracker.propositions_frame()["id"]) == {"widget-launch", "gadget-ban"}


def test_every_command_has_help_and_a_line_in_the_readme_tour(cli):
    """Each command explains itself (--help, which docs/cli.md is generated from) and the README's tour
    shows it being run: `forecast-tracker NAME` on a command line, not merely named somewhere."""
    import re
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from cli_reference import commands

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    lines = re.findall(r"^forecast-tracker ([a-z]+)(?: ([a-z-]+))?", readme, flags=re.M)
    tour = {f"{first} {second}" if first == "db" else first for first, second in lines}
    for words in commands():
        result = cli(*words, "--help")
        assert result.code == 0 and "Usage" in result.out, words
        name = " ".join(words)
        assert name in tour, f"{name}: no 'forecast-tracker {name}' line in the README's tour"


def test_json_exports_are_valid(cli, db):
    for what in ("propositions", "indicators"):
        rows = json.loads(cli("export", what, "--format", "json").out)
        assert rows and "id" in rows[0]
    csv_text = cli("export", "indicators").out
    assert csv_text.splitlines()[0].startswith("id,proposition,description")


def test_failed_command_leaves_database_unchanged(cli, db):
    before = snapshot(db)
    assert cli("update", "widget-launch", "abc").code == 2
    assert snapshot(db) == before


def test_indicator_diagnostics_after_resolution(cli, db):
    cli.ok("observe", "widget-factory-built", "--date", "2024-12-01", "--source", "before opening")  # context only
    cli.ok("observe", "widget-orders", "--value", "1500", "--date", "2025-02-01", "--source", "shop", "--apply")
    cli.ok("observe", "widget-recall", "--date", "2025-03-01", "--source", "regulator", "--apply")
    cli.ok("resolve", "widget-launch", "yes", "--source", "the record", "--date", "2025-05-01")
    rows = {d["indicator"]: d for d in cli("score", "--format", "json").json["indicator_diagnostics"]}
    assert rows["widget-orders"]["verdict"] == "diagnostic" and rows["widget-orders"]["fired"] == 1
    assert rows["widget-recall"]["verdict"] == "misleading"  # a ratio below 1 fired, yet it launched
    assert rows["widget-factory-built"]["verdict"] == "quiet" and rows["widget-factory-built"]["observations"] == 0
    assert rows["widget-orders"]["decibans"] == 3.01


def test_real_entry_point_gives_one_line_and_exit_code(db):
    import subprocess
    import sys

    bad = subprocess.run(
        [sys.executable, "-m", "forecast_tracker", "update", "widget-launch", "1.5"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and bad.stderr.startswith("error: PROBABILITY: 1.5")
    bare = subprocess.run([sys.executable, "-m", "forecast_tracker"], capture_output=True, text=True)
    assert "Usage" in bare.stdout and "error" not in bare.stderr
    ok = subprocess.run([sys.executable, "-m", "forecast_tracker", "list", "--format", "csv"], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.startswith(
        "id,statement,status,probability,as_of,resolve_by,change,since,last_update,question\n"
    )


def test_two_resolutions_of_one_proposition_in_one_file_are_refused(cli, db, tmp_path):
    from conftest import snapshot

    path = tmp_path / "twice.csv"
    path.write_text(
        "proposition,outcome,resolved_on,source,note\nwidget-launch,yes,2025-02-01,,\nwidget-launch,no,2025-02-02,,\n"
    )
    before = snapshot(db)
    result = cli("import", path)
    assert result.code == 2 and "line 3: proposition: widget-launch is already resolved" in result.err
    assert snapshot(db) == before


def test_import_apply_keeps_who_applied_and_skips_context(cli, db, tmp_path):
    path = tmp_path / "obs.csv"
    path.write_text(
        "indicator,observed_on,value,source,note,applied_by,applied_at\n"
        "widget-factory-built,2025-02-01,,a,,ana,2025-02-02T00:00:00.000000Z\n"  # applied by ana in the export
        "widget-orders,2025-03-01,400,b,,,\n"  # not applied in the export: --apply applies it, credited to --by
        "widget-recall,2024-12-01,,c,,,\n"  # before widget-launch opened: context, never applied
    )
    result = cli("import", path, "--apply", "--by", "ben")
    assert result.code == 0 and "2 applied as evidence" in result.out, result.out
    rows = {r["indicator"]: r for r in cli("export", "observations", "--format", "json").json}
    assert (rows["widget-factory-built"]["applied_by"], rows["widget-factory-built"]["applied_at"]) == (
        "ana",
        "2025-02-02T00:00:00.000000Z",
    )
    assert rows["widget-orders"]["applied_by"] == "ben" and rows["widget-recall"]["applied_by"] is None


def test_one_resolution_in_force_everywhere(cli, db, tmp_path):
    """resolve yes, then no --force: list, show, score and the scorecard all say no, with one final number."""
    cli.ok("resolve", "widget-launch", "yes", "--source", "the record", "--date", "2025-04-02")
    cli.ok("resolve", "widget-launch", "no", "--source", "the record", "--date", "2025-04-10", "--force", "--note", "the launch was a demo")
    listed = {r["id"]: r for r in cli.ok("list", "--format", "json").json}["widget-launch"]
    shown = cli.ok("show", "widget-launch", "--format", "json").json
    scored = {r["id"]: r for r in cli.ok("score", "--format", "json").json["propositions"]}["widget-launch"]
    assert listed["status"] == "no" and scored["outcome"] == "no" and scored["resolved_on"] == "2025-04-10"
    assert listed["probability"] == pytest.approx(scored["final_probability"])
    assert shown["status"] == "no" if "status" in shown else shown["proposition"]["status"] == "no"
    cli.ok("report", "--month", "2025-04", "--out", tmp_path / "r", "--format", "md")
    md = (tmp_path / "r" / "2025-04.md").read_text()
    assert "status **no** on 2025-04-10" in md and "status **yes**" not in md


def test_two_forecasters_keep_separate_tracks_and_the_team_is_scored(cli, db, tmp_path):
    """widget-launch (decay: none, prior 0.675): ana says 0.60 in February, ben 0.90 in March; it launches."""
    cli.ok("update", "--new-forecaster", "widget-launch", "0.6", "--date", "2025-02-01", "--rationale", "slow orders", "--by", "ana")
    first = cli.ok("update", "--new-forecaster", "widget-launch", "0.9", "--date", "2025-03-01", "--rationale", "factory done", "--by", "ben")
    assert "0.68 (likely) -> 0.90" in first.out  # ben's own track stood at the prior: ana's number is not his
    again = cli.ok("update", "--new-forecaster", "widget-launch", "0.7", "--date", "2025-03-10", "--rationale", "hedging", "--by", "ana")
    assert "0.60 (likely) -> 0.70" in again.out
    team = {r["id"]: r for r in cli.ok("list", "--as-of", "2025-03-15", "--format", "json").json}["widget-launch"]
    assert team["probability"] == pytest.approx((0.7 + 0.9) / 2)  # ben's update did not replace ana's
    ana = {r["id"]: r for r in cli.ok("list", "--as-of", "2025-03-15", "--format", "json", "--by", "ana").json}
    assert ana["widget-launch"]["probability"] == pytest.approx(0.7)
    assert ana["gadget-ban"]["probability"] == pytest.approx(
        {r["id"]: r for r in cli.ok("list", "--as-of", "2025-03-15", "--format", "json").json}["gadget-ban"]["probability"]
    )  # where ana made no update, her track is the model's
    shown = cli.ok("show", "widget-launch", "--as-of", "2025-03-15")
    assert "team:       median of ana 0.70, ben 0.90" in shown.out
    chain = cli.ok("history", "widget-launch", "--as-of", "2025-03-15", "--format", "json", "--by", "ben").json
    assert [(r["method"], r["forecaster"]) for r in chain] == [("prior", ""), ("manual", "ben")]  # only ben's own chain
    team_chain = cli.ok("history", "widget-launch", "--as-of", "2025-03-15", "--format", "json").json
    assert (
        team_chain[-1]["probability"] == pytest.approx(0.8) and "team median of ana 0.70, ben 0.90" in team_chain[-1]["rationale"]
    )

    cli.ok("resolve", "widget-launch", "yes", "--source", "the record", "--date", "2025-04-01")
    scored = cli.ok("score", "--as-of", "2025-04-30", "--format", "json").json
    rows = {f["forecaster"]: f for f in scored["forecasters"]}
    # by hand, over each one's forecast days up to 2025-03-31 (outcome 1):
    # ana: 37 days at 0.6 (Feb 1 - Mar 9) and 22 at 0.7 (Mar 10-31); ben: 31 days at 0.9 (Mar 1-31)
    ana_tab = (28 * 0.16 + 9 * 0.16 + 22 * 0.09) / 59
    team_ana_days = (28 * 0.16 + 9 * (1 - 0.75) ** 2 + 22 * (1 - 0.8) ** 2) / 59  # alone in Feb, then the medians
    assert rows["ana"]["mean_time_averaged_brier"] == pytest.approx(ana_tab)
    assert rows["ana"]["mean_relative_brier"] == pytest.approx(ana_tab - team_ana_days)
    assert rows["ben"]["mean_time_averaged_brier"] == pytest.approx(0.01)
    assert rows["ben"]["mean_relative_brier"] == pytest.approx(0.01 - (9 * (1 - 0.75) ** 2 + 22 * 0.04) / 31)
    assert [f["forecaster"] for f in scored["forecasters"]] == ["ben", "ana"]  # best relative score first
    ben_view = cli.ok("score", "--as-of", "2025-04-30", "--format", "json", "--by", "ben").json
    assert {r["id"]: r for r in ben_view["propositions"]}["widget-launch"]["final_probability"] == pytest.approx(0.9)

    cli.ok("report", "--month", "2025-03", "--out", tmp_path / "r", "--format", "md")
    march = (tmp_path / "r" / "2025-03.md").read_text()
    assert "Team median of 2 forecasters: ana 70% · ben 90% (spread 70%–90%)." in march
    cli.ok("report", "--month", "2025-04", "--out", tmp_path / "r", "--format", "all")
    april = (tmp_path / "r" / "2025-04.md").read_text()
    assert "### Forecasters" in april and "| ben | 1 | 31 | 0.010 |" in april
    assert "<h3>Forecasters</h3>" in (tmp_path / "r" / "2025-04.html").read_text()
    cli.ok("report", "--month", "2025-03", "--out", tmp_path / "ana", "--format", "md", "--by", "ana")
    assert "Forecast scorecard, March 2025 (ana's forecasts)" in (tmp_path / "ana" / "2025-03.md").read_text()


def test_pragmas_for_large_reads_and_imports_hold_for_the_command_and_are_given_back(db, tmp_path, monkeypatch):
    from forecast_tracker import db as database
    from forecast_tracker.api import Tracker
    from forecast_tracker.io import importing
    from forecast_tracker.scorecard import scores

    seen = {}

    def spy(module, name, pragma):
        original = getattr(module, name)

        def call(conn, *args, **kwargs):
            seen[name] = conn.exec_driver_sql(f"PRAGMA {pragma}").scalar()
            return original(conn, *args, **kwargs)

        monkeypatch.setattr(module, name, call)

    spy(importing, "import_file", "cache_size")
    spy(scores, "compute_scores", "mmap_size")
    path = tmp_path / "obs.csv"
    path.write_text("indicator,observed_on,value,source,note\nwidget-factory-built,2025-02-01,,a,\n")
    with Tracker(db) as t:
        t.import_csv(path)
        t.scores()
        with t.db.read() as conn:
            default = conn.exec_driver_sql("PRAGMA cache_size").scalar()
            with database.sqlite_pragma(conn, "cache_size", -1234):
                inside = conn.exec_driver_sql("PRAGMA cache_size").scalar()
            after = conn.exec_driver_sql("PRAGMA cache_size").scalar()
        with t.db.read(batches=True) as conn:
            mapped = conn.exec_driver_sql("PRAGMA mmap_size").scalar()
            raw = conn.connection.driver_connection  # the same SQLite connection, after the block
        unmapped = raw.execute("PRAGMA mmap_size").fetchone()[0]
    assert seen == {"import_file": -database.IMPORT_CACHE_KIB, "compute_scores": database.READ_MMAP_BYTES}
    assert inside == -1234 and after == default != inside
    assert mapped == database.READ_MMAP_BYTES and unmapped == 0


def test_import_apply_chunk_by_chunk_applies_what_one_pass_would(cli, db, tmp_path, monkeypatch):
    """An import written in several chunks applies what it would in one: context stays unapplied,
    a duplicate is skipped, and everything else is credited to --by."""
    from forecast_tracker import store

    monkeypatch.setattr(store, "CHUNK", 2)
    path = tmp_path / "obs.csv"
    path.write_text(
        "indicator,observed_on,value,source,note\n"
        "widget-factory-built,2025-02-01,,a,\n"
        "widget-recall,2024-12-01,,c,\n"  # before widget-launch opened: context, never applied
        "widget-orders,2025-03-01,400,b,\n"
        "widget-factory-built,2025-02-01,,a,\n"  # a duplicate of the first row: skipped
        "widget-orders,2025-03-02,500,b,\n"
    )
    result = cli("import", path, "--apply", "--by", "ben")
    assert result.code == 0 and "4 observations" in result.out and "3 applied as evidence" in result.out, result.out
    rows = cli("export", "observations", "--format", "json").json
    assert [(r["indicator"], r["applied_by"]) for r in rows] == [
        ("widget-factory-built", "ben"),
        ("widget-recall", None),
        ("widget-orders", "ben"),
        ("widget-orders", "ben"),
    ]


def _schema(db) -> list[tuple]:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name").fetchall()
    finally:
        conn.close()


def _index_calls(monkeypatch) -> list[str]:
    from forecast_tracker import store

    calls = []
    for name in ("drop_observation_index", "create_observation_index"):
        original = getattr(store, name)
        monkeypatch.setattr(store, name, lambda conn, _f=original, _n=name: (calls.append(_n), _f(conn))[1])
    return calls


LARGE_IMPORT = (
    "indicator,observed_on,value,source,note,retracted,applied_by,applied_at\n"
    "widget-factory-built,2025-02-01,,a,,,ana,2025-02-02T00:00:00.000000Z\n"
    "widget-recall,2024-12-01,,c,,,,\n"  # context: never applied
    "widget-orders,2025-03-01,400,b,,,,\n"
    "widget-orders,2025-03-02,500,b,,wrong shop,,\n"  # retracted in the file: not applied
    "widget-orders,2025-03-03,600,b,,,,\n"
    "widget-orders,2025-03-04,700,b,,,,\n"
    "widget-orders,2025-03-05,800,b,,,,\n"
)


def test_a_large_import_defers_the_index_and_ends_as_one_written_with_it(cli, db, tmp_path, monkeypatch):
    """Rows beyond DEFER_INDEX_ROWS (and beyond what the table held) go in without the observation
    index, which is built once at the end: the rows, ids, retractions and applications are those of
    the same import written with the index in place, and so is the schema."""
    import shutil

    from forecast_tracker import store
    from forecast_tracker.io import importing

    monkeypatch.setattr(store, "CHUNK", 2)
    monkeypatch.setattr(importing, "DEFER_INDEX_ROWS", 2)
    plain = tmp_path / "plain.db"
    shutil.copy(db, plain)
    path = tmp_path / "obs.csv"
    path.write_text(LARGE_IMPORT)
    calls = _index_calls(monkeypatch)
    result = cli("import", path, "--apply", "--by", "ben")
    assert result.code == 0 and "7 observations" in result.out and "5 applied as evidence" in result.out, result.out
    assert calls == ["drop_observation_index", "create_observation_index"]
    deferred = cli("export", "observations", "--format", "json").json

    calls.clear()
    monkeypatch.setattr(store, "may_defer_indexes", lambda conn: False)
    assert cli("--db", plain, "import", path, "--apply", "--by", "ben").code == 0
    assert calls == []
    strip = [{k: v for k, v in r.items() if k not in ("recorded_at", "applied_at")} for r in deferred]
    kept = cli("--db", plain, "export", "observations", "--format", "json").json
    assert strip == [{k: v for k, v in r.items() if k not in ("recorded_at", "applied_at")} for r in kept]
    assert [(r["indicator"], r["retracted"], r["applied_by"]) for r in deferred[-7:]] == [
        ("widget-factory-built", None, "ana"),
        ("widget-recall", None, None),
        ("widget-orders", None, "ben"),
        ("widget-orders", "wrong shop", None),
        ("widget-orders", None, "ben"),
        ("widget-orders", None, "ben"),
        ("widget-orders", None, "ben"),
    ]
    assert _schema(db) == _schema(plain)
    import sqlite3

    conn = sqlite3.connect(db)
    plan = conn.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM observation WHERE indicator_id = 'widget-orders' AND observed_on = '2025-03-01'"
    ).fetchall()
    conn.close()
    assert "ix_observation_indicator_date" in str(plan)


def test_a_possible_duplicate_builds_the_deferred_index_at_once(cli, db, tmp_path, monkeypatch):
    from forecast_tracker import store
    from forecast_tracker.io import importing

    monkeypatch.setattr(store, "CHUNK", 2)
    monkeypatch.setattr(importing, "DEFER_INDEX_ROWS", 2)
    calls = _index_calls(monkeypatch)
    path = tmp_path / "obs.csv"
    path.write_text(LARGE_IMPORT + "widget-orders,2025-03-03,600,b,,,,\nwidget-orders,2025-03-06,900,b,,,,\n")
    result = cli("import", path, "--apply")
    assert result.code == 0 and "8 observations" in result.out and "1 duplicate(s) skipped" in result.out, result.out
    assert calls == ["drop_observation_index", "create_observation_index"]  # built for the check, never dropped again
    assert "ix_observation_indicator_date" in str(_schema(db))


def test_a_refused_large_import_leaves_rows_and_index_as_they_were(cli, db, tmp_path, monkeypatch):
    from forecast_tracker import store
    from forecast_tracker.io import importing

    monkeypatch.setattr(store, "CHUNK", 2)
    monkeypatch.setattr(importing, "DEFER_INDEX_ROWS", 2)
    calls = _index_calls(monkeypatch)
    path = tmp_path / "obs.csv"
    path.write_text(LARGE_IMPORT + "widget-orders,2025-03-07,lots,b,,,,\n")  # the last row is bad
    before, schema = snapshot(db), _schema(db)
    result = cli("import", path)
    assert result.code == 2 and "line 9" in result.err and "'lots' is not a number" in result.err, result.err
    assert calls == ["drop_observation_index"]  # dropped, then rolled back with everything else
    assert snapshot(db) == before and _schema(db) == schema


def test_only_a_bulk_writer_on_sqlite_may_defer_indexes(db):
    from forecast_tracker import store

    with Tracker(db) as t:
        with t.db.write(bulk=True) as conn:
            bulk = store.may_defer_indexes(conn)
        with t.db.write() as conn:
            single = store.may_defer_indexes(conn)
        with t.db.write(bulk=True) as conn:  # the option belongs to the connection, not the pool
            again = store.may_defer_indexes(conn)
    assert (bulk, single, again) == (True, False, True)


def test_a_bare_carriage_return_in_a_note_survives_export_and_import(cli, db, catalog, tmp_path, monkeypatch):
    # Python's csv quotes a cell holding "\n" but not one holding a lone "\r", which a reader takes as
    # the end of the row: the export split mid-row ("expected 11 columns, found 5").
    from forecast_tracker.api import Tracker

    note = "first part\rsecond part, with a comma"
    with Tracker(db) as t:
        t.observe("widget-factory-built", date="2025-02-01", source="s\rsrc", note=note, apply=True)
        text = t.export("observations", "csv")
    assert '"first part\rsecond part, with a comma"' in text
    path = tmp_path / "observations.csv"
    path.write_text(text, encoding="utf-8", newline="")
    monkeypatch.setenv("FORECAST_TRACKER_DB", str(tmp_path / "fresh.db"))
    cli.ok("init", "--catalog", catalog)
    with Tracker(tmp_path / "fresh.db") as fresh:
        fresh.import_csv(path)
        rows = fresh.observations_frame()
        assert list(rows["note"]) == [note] and list(rows["source"]) == ["s\rsrc"]
        assert fresh.export("observations", "csv") == text  # the round trip is exact
