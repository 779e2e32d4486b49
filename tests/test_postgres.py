"""The same workflow against a real PostgreSQL server, for teams that outgrow one SQLite file.

Runs when FORECAST_TRACKER_TEST_PG names a server's maintenance database as an SQLAlchemy URL
(`.ci/run` starts Debian's PostgreSQL and sets it); each test creates and drops its own database.
"""

import os
import uuid

import pytest

from conftest import WIDGET  # noqa: F401 - the catalog fixture writes it

ADMIN = os.environ.get("FORECAST_TRACKER_TEST_PG")
pytestmark = pytest.mark.skipif(not ADMIN, reason="FORECAST_TRACKER_TEST_PG is not set (no PostgreSQL server)")


@pytest.fixture
def pg_url():
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    name = f"ft_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield make_url(ADMIN).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def test_workflow_on_postgresql(cli, catalog, tmp_path, pg_url):
    db = ("--db", pg_url)
    assert cli(*db, "init", "--catalog", catalog).code == 0
    observed = cli(*db, "observe", "widget-orders", "--value", "400", "--date", "2025-03-01", "--source", "shop", "--apply")
    assert observed.code == 0 and "applied as evidence" in observed.out
    assert cli(*db, "update", "widget-launch", "0.8617021276595745", "--date", "2025-04-01", "--no-rationale").code == 0
    history = cli(*db, "history", "widget-launch", "--format", "json").json
    assert history[-1]["probability"] == 0.8617021276595745  # double precision, not PostgreSQL's 4-byte REAL
    csv_path = tmp_path / "obs.csv"
    csv_path.write_text(
        "indicator,observed_on,value,source,note\n"
        + "".join(f"gadget-sales,2025-02-{d:02d},{50 + d},stats,day {d}\n" for d in range(1, 29))
    )
    imported = cli(*db, "import", csv_path, "--apply")
    assert imported.code == 0 and "imported 28 observations" in imported.out and "28 applied as evidence" in imported.out
    again = cli(*db, "import", csv_path)
    assert "imported 0 observations" in again.out and "28 duplicate(s)" in again.out
    bad = cli(*db, "update", "widget-launch", "1.5")
    assert bad.code == 2 and bad.err.startswith("error: PROBABILITY")
    assert cli(*db, "retract", "observation", "1", "--reason", "misread").code == 0
    assert cli(*db, "resolve", "widget-launch", "yes", "--source", "the record", "--date", "2025-05-01").code == 0
    scores = cli(*db, "score", "--format", "json").json
    assert scores["propositions"][0]["final_probability"] == 0.8617021276595745
    assert cli(*db, "report", "--month", "2025-03", "--out", tmp_path / "r").code == 0
    assert "gadget-ban" in (tmp_path / "r" / "2025-03.md").read_text()
    exported = {what: cli(*db, "export", what).out for what in ("observations", "updates", "resolutions")}
    assert "misread" in exported["observations"]
    assert cli(*db, "db", "check").code == 0


def test_a_large_import_on_postgresql_keeps_the_index(cli, catalog, tmp_path, pg_url, monkeypatch):
    """Dropping an index there would lock readers out until the commit: a bulk writer may not defer it."""
    from forecast_tracker import store
    from forecast_tracker.api import Tracker
    from forecast_tracker.io import importing

    monkeypatch.setattr(store, "CHUNK", 2)
    monkeypatch.setattr(importing, "DEFER_INDEX_ROWS", 2)
    dropped = []
    monkeypatch.setattr(store, "drop_observation_index", lambda conn: dropped.append(conn))
    assert cli("--db", pg_url, "init", "--catalog", catalog).code == 0
    csv_path = tmp_path / "obs.csv"
    csv_path.write_text(
        "indicator,observed_on,value,source,note\n" + "".join(f"gadget-sales,2025-02-{d:02d},{d},s,\n" for d in range(1, 9))
    )
    imported = cli("--db", pg_url, "import", csv_path, "--apply")
    assert imported.code == 0 and "imported 8 observations" in imported.out and dropped == []
    with Tracker(pg_url) as t, t.db.write(bulk=True) as conn:
        assert store.may_defer_indexes(conn) is False


def test_a_reader_on_postgresql_sees_one_snapshot(cli, catalog, pg_url):
    """A command's reads are one snapshot (REPEATABLE READ), as on SQLite: a write committed while it
    reads is invisible to it. Under READ COMMITTED the second count below saw the new row."""
    from forecast_tracker import store
    from forecast_tracker.api import Tracker

    assert cli("--db", pg_url, "init", "--catalog", catalog).code == 0
    with Tracker(pg_url) as reader, Tracker(pg_url) as writer:
        with reader.db.read() as conn:
            first = len(store.observations(conn))
            writer.observe("widget-factory-built", date="2025-02-01", source="s")
            assert len(store.observations(conn)) == first
        with reader.db.read() as conn:
            assert len(store.observations(conn)) == first + 1
