"""Schema upgrades from the first release, and databases this release must refuse clearly."""

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from forecast_tracker.api import Tracker
from forecast_tracker.db import Database
from forecast_tracker.migrations import MIGRATIONS

from conftest import snapshot

FIXTURE = Path(__file__).parent / "fixtures" / "schema_0001.db"


@pytest.fixture
def old_db(tmp_path) -> Path:
    path = tmp_path / "old.db"
    shutil.copy(FIXTURE, path)
    return path


def test_first_schema_upgrades_on_open_without_losing_a_row(old_db):
    before = snapshot(old_db)
    with Tracker(old_db) as t:
        assert t.db.schema_version() == MIGRATIONS[-1][0]
        history = t.history("widget-launch")
        # the first release's stored indicator update became an application of its observation: the
        # chain recomputes it (now with decay, the default), and the manual update still resets it
        methods = ["prior", "decay", "indicator", "decay", "manual", "decay", "restatement"]
        assert [h["method"] for h in history] == methods
        # 0004 put the evidence model's change on the record: the hazard now runs to the end of R
        assert history[-1]["probability"] is None and "hazard decay" in history[-1]["rationale"]
        assert "0.3.0 changed the evidence model" in history[-1]["rationale"]
        history = history[:-1]
        link = history[2]
        assert link["observation_id"] == 1 and link["counted_ratio"] == 3.0
        assert link["probability"] == pytest.approx(link["previous"] * 3 / (link["previous"] * 3 + 1 - link["previous"]))
        assert history[4]["probability"] == 0.8 and history[4]["rationale"] == "gut"
        final = t.scores().as_json()["propositions"][0]["final_probability"]
        assert final == pytest.approx(history[-1]["probability"]) and final < 0.8  # decayed for 60 days
    with sqlite3.connect(old_db) as conn:
        assert conn.execute("SELECT observation_id, forecaster FROM application").fetchall() == [(1, "ana")]
    after = snapshot(old_db)
    for table, rows in before.items():
        if table in ("proposition", "indicator", "probability_update", "application", "observation"):
            # gained columns with their defaults; the old values stand
            assert [r[: len(rows[0])] for r in after[table]] == rows, table
        elif table != "schema_migration":
            assert after[table] == rows, table
    assert [r[0] for r in after["schema_migration"]] == [name for name, _ in MIGRATIONS]
    indexes = {r[0] for r in sqlite3.connect(old_db).execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "ix_update_proposition_as_of" in indexes
    # 0004: a first version of every definition, in force from the day its proposition opened
    versions = {(r[1], r[2]): (r[4], r[5]) for r in after["definition_version"]}
    assert versions[("proposition", "widget-launch")] == ("2025-01-01", '{"decay": "hazard"}')
    assert versions[("indicator", "widget-factory-built")][0] == "2025-01-01"
    assert '"likelihood_ratio": 3.0' in versions[("indicator", "widget-factory-built")][1]
    assert [r[1:5] for r in after["restatement"]] == [
        ("widget-launch", "model", "hazard decay", "to the start of resolve_by, then the floor")
    ]


def test_db_upgrade_command(cli, old_db):
    result = cli("--db", old_db, "db", "upgrade")
    assert result.code == 0 and "applied 0002_lookup_indexes" in result.out
    assert "schema is current" in cli("--db", old_db, "db", "upgrade").out
    assert "integrity: ok" in cli("--db", old_db, "db", "check").out


def _shape(path: Path) -> dict:
    """Tables -> columns (name, type affinity, not null, primary key), and the index names."""
    conn = sqlite3.connect(path)
    affinity = {"VARCHAR": "TEXT", "TEXT": "TEXT", "REAL": "REAL", "FLOAT": "REAL", "INTEGER": "INTEGER"}
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
    shape = {
        # A primary key's NOT NULL is left out: the first release's `id TEXT PRIMARY KEY` lets SQLite
        # store a NULL key (a known SQLite quirk) where the models say NOT NULL; nothing ever wrote one.
        t: [
            (r[1], affinity.get(r[2].split("(")[0], r[2]), bool(r[3]) and not r[5], r[5])
            for r in conn.execute(f"PRAGMA table_info({t})")
        ]
        for t in tables
    }
    shape["indexes"] = sorted(
        r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index' AND name LIKE 'ix_%'")
    )
    conn.close()
    return shape


def test_a_fresh_database_and_an_upgraded_one_have_the_same_schema(tmp_path, old_db):
    # The models are the one definition of the schema: a new database is made from them, an old one
    # is migrated to them, and the two must agree column for column.
    Database(tmp_path / "fresh.db", create=True).dispose()
    Database(old_db).dispose()
    assert _shape(tmp_path / "fresh.db") == _shape(old_db)


def test_migrations_are_registered_in_order():
    names = [name for name, _ in MIGRATIONS]
    assert names == sorted(names) and len(set(names)) == len(names)
    from forecast_tracker.migrations import migration

    with pytest.raises(ValueError, match="must sort after"):
        migration("0000_too_early")(lambda conn: None)


def test_database_from_a_newer_release_is_refused(cli, old_db):
    conn = sqlite3.connect(old_db)
    conn.execute("INSERT INTO schema_migration VALUES ('9999_from_the_future', 'x')")
    conn.commit()
    conn.close()
    before = old_db.read_bytes()
    result = cli("--db", old_db, "list")
    assert result.code == 2 and "newer release" in result.err
    assert old_db.read_bytes() == before


def test_foreign_sqlite_database_is_refused(cli, tmp_path):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE invoices (id INTEGER)")
    conn.commit()
    conn.close()
    result = cli("--db", other, "list")
    assert result.code == 2 and "not a forecast-tracker one" in result.err
    assert [r[0] for r in sqlite3.connect(other).execute("SELECT name FROM sqlite_master")] == ["invoices"]


def test_read_only_database_reads_but_refuses_writes(cli, db):
    url = f"sqlite:///file:{db}?mode=ro&uri=true"
    assert cli("--db", url, "list", "--format", "json").code == 0
    before = snapshot(db)
    result = cli("--db", url, "update", "widget-launch", "0.5", "--date", "2025-02-01", "--rationale", "r")
    assert result.code == 2 and "read-only" in result.err
    assert snapshot(db) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_file(cli, db):
    db.chmod(0o444)
    result = cli("update", "widget-launch", "0.5", "--date", "2025-02-01", "--rationale", "r")
    assert result.code == 2 and "read-only" in result.err


ADD_A_COLUMN = """
import sys
from sqlalchemy import Column, Text, text
from forecast_tracker import migrations, models
from forecast_tracker.db import Database

models.TABLES["application"].append_column(Column("channel", Text, nullable=True))

@migrations.migration("9000_application_channel")
def add_channel(conn):
    conn.execute(text("ALTER TABLE application ADD COLUMN channel TEXT"))

Database(sys.argv[1]).dispose()
Database(sys.argv[2], create=True).dispose()
"""


def test_a_column_added_later_does_not_break_an_old_databases_upgrade(tmp_path, old_db):
    # The next release adds a column to `application` in the models and a migration that adds it. An
    # old database must run 0003 as it shipped (without the column), then the new migration. In a
    # process of its own, so the changed models touch no other test.
    import subprocess
    import sys

    fresh = tmp_path / "fresh.db"
    done = subprocess.run([sys.executable, "-c", ADD_A_COLUMN, str(old_db), str(fresh)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert _shape(fresh) == _shape(old_db)
    columns = [r[1] for r in sqlite3.connect(old_db).execute("PRAGMA table_info(application)")]
    assert columns == ["id", "observation_id", "forecaster", "recorded_at", "criteria_version", "channel"]
