"""`amend observation` (issue 23): the old row retracted with its reason, the corrected row stored,
linked and applied as the old one was, in one transaction; the chain is exactly as if the corrected
row had been entered in the first place."""

from __future__ import annotations

import json
import sqlite3

from conftest import snapshot


def _observe(cli, *args: str) -> int:
    cli.ok("observe", *args)
    return max(o["id"] for o in json.loads(cli.ok("export", "observations", "--format", "json").out))


def _chain(cli, proposition: str = "widget-launch") -> list[tuple]:
    rows = cli.ok("history", proposition, "--as-of", "2025-12-31", "--format", "json").json
    return [(r["as_of"], r["probability"], r["method"], r["indicator"]) for r in rows if not r["retracted"]]


def test_amend_keeps_the_chain_exact(cli, db, tmp_path, catalog):
    wrong = _observe(cli, "widget-orders", "--value", "500", "--date", "2025-03-01", "--source", "s", "--apply")
    _observe(cli, "widget-factory-built", "--date", "2025-04-01", "--source", "s", "--apply")
    r = cli("amend", "observation", str(wrong), "--value", "1500", "--date", "2025-03-05", "--reason", "misread the count")
    assert r.code == 0, r.err
    assert f"amends observation {wrong}" in r.out and "applied as evidence" in r.out
    amended = _chain(cli)
    # the same record entered right the first time, in a fresh database
    fresh = tmp_path / "fresh.db"
    cli.ok("--db", fresh, "init", "--catalog", catalog)
    cli.ok("--db", fresh, "observe", "widget-orders", "--value", "1500", "--date", "2025-03-05", "--source", "s", "--apply")
    cli.ok("--db", fresh, "observe", "widget-factory-built", "--date", "2025-04-01", "--source", "s", "--apply")
    rows = cli.ok("--db", fresh, "history", "widget-launch", "--as-of", "2025-12-31", "--format", "json").json
    assert amended == [(r["as_of"], r["probability"], r["method"], r["indicator"]) for r in rows if not r["retracted"]]
    with sqlite3.connect(db) as conn:
        new_id, amends = conn.execute("SELECT id, amends FROM observation ORDER BY id DESC LIMIT 1").fetchone()
        assert amends == wrong
        assert conn.execute("SELECT reason FROM retraction WHERE target_id = ?", (wrong,)).fetchone() == ("amended: misread the count",)


def test_an_unapplied_row_stays_unapplied_and_bad_amends_change_nothing(cli, db):
    obs = _observe(cli, "widget-factory-built", "--date", "2025-03-01", "--source", "s")
    before = snapshot(db)
    for args, said in [
        (("amend", "observation", str(obs), "--date", "2025-03-02"), "--reason"),
        (("amend", "observation", str(obs), "--reason", "r"), "say what to correct"),
        (("amend", "observation", str(obs), "--date", "2025-03-01", "--reason", "r"), "leaves observation"),
        (("amend", "observation", "999", "--date", "2025-03-02", "--reason", "r"), "unknown observation id 999"),
        (("amend", "update", str(obs), "--date", "2025-03-02", "--reason", "r"), "KIND"),
        (("amend", "observation", str(obs), "--date", "31/12/2025", "--reason", "r"), "--date"),
    ]:
        r = cli(*args)
        assert r.code == 2 and said in r.err and len(r.err.strip().splitlines()) == 1, (args, r.err)
        assert snapshot(db) == before, args
    r = cli("amend", "observation", str(obs), "--note", "the factory is up", "--reason", "note")
    assert r.code == 0 and "not applied; to apply it" in r.out
    again = cli("amend", "observation", str(obs), "--note", "x", "--reason", "again")
    assert again.code == 2 and f"observation {obs} is retracted; amend observation {obs + 1}" in again.err


def test_a_duplicate_of_a_retracted_row_says_so_and_suggests_amend(cli, db):
    obs = _observe(cli, "widget-factory-built", "--date", "2025-03-01", "--source", "s")
    cli.ok("retract", "observation", str(obs), "--reason", "wrong day")
    r = cli("observe", "widget-factory-built", "--date", "2025-03-01", "--source", "s")
    assert r.code == 2 and f"observation {obs}, retracted" in r.err and "amend observation" in r.err


def test_an_amended_record_round_trips_through_export(cli, db, catalog, tmp_path, monkeypatch):
    wrong = _observe(cli, "widget-orders", "--value", "500", "--date", "2025-03-01", "--source", "s", "--apply")
    _observe(cli, "widget-factory-built", "--date", "2025-04-01", "--source", "s", "--apply")
    cli.ok("amend", "observation", str(wrong), "--value", "1500", "--date", "2025-03-05", "--reason", "misread")
    cli.ok("update", "widget-launch", "0.6", "--date", "2025-05-01", "--rationale", "hedge")
    files = {}
    for what in ("observations", "updates"):
        files[what] = tmp_path / f"{what}.csv"
        files[what].write_text(cli.ok("export", what).out, encoding="utf-8", newline="")
    chain = _chain(cli)
    listed = cli.ok("list", "--as-of", "2025-12-31", "--format", "json").json
    monkeypatch.setenv("FORECAST_TRACKER_DB", str(tmp_path / "fresh.db"))
    cli.ok("init", "--catalog", catalog)
    cli.ok("import", files["observations"])
    cli.ok("import", files["updates"])
    assert _chain(cli) == chain  # the retracted original, the corrected row applied, the update: the same chain
    assert cli.ok("list", "--as-of", "2025-12-31", "--format", "json").json == listed
    rows = cli.ok("export", "observations", "--format", "json").json
    assert [r["retracted"] for r in rows] == ["amended: misread", None, None]
