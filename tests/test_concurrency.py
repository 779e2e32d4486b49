"""Four processes writing 250 times each into one database: no row lost, no lock error reaching anyone."""

import multiprocessing as mp

import pytest

from forecast_tracker.api import Tracker

WORKERS = 4
WRITES = 250


def _writer(db: str, worker: int, queue) -> None:
    errors = []
    with Tracker(db) as t:
        for i in range(WRITES):
            try:
                if i % 2:
                    t.update("gadget-ban", 0.2 + (i % 50) / 100, date="2025-03-01", rationale=f"w{worker}-{i}", by=f"w{worker}")
                else:
                    t.observe(
                        "widget-factory-built", date="2025-02-01", source=f"w{worker}", note=str(i), apply=True, by=f"w{worker}"
                    )
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
    queue.put(errors)


@pytest.mark.slow
def test_concurrent_writers_lose_nothing(anydb):
    db = anydb
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(str(db), w, queue)) for w in range(WORKERS)]
    for p in procs:
        p.start()
    errors = [e for _ in procs for e in queue.get(timeout=300)]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert errors == []
    with Tracker(db) as t:
        observations = t.observations_frame()
        updates = t.history_frame("gadget-ban")
        widget = t.history_frame("widget-launch")
        assert t.db.integrity_check() == "ok"
    half = WORKERS * WRITES // 2
    assert len(observations) == half
    assert (updates["method"] == "manual").sum() == half  # the chain also lists the prior and decay steps
    assert (widget["method"] == "indicator").sum() == half  # every observation applied as evidence
    assert observations.groupby("source").size().to_dict() == {f"w{w}": WRITES // 2 for w in range(WORKERS)}


def test_databases_are_in_wal_mode(db):
    # the README promises WAL (readers never blocked by a writer); ask SQLite itself, from outside
    import sqlite3

    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with Tracker(db) as t:
        assert t.db.journal_mode() == "wal"


def _run(*args: str, env: dict | None = None):
    import os
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "forecast_tracker", *args], capture_output=True, text=True, env={**os.environ, **(env or {})}
    )


@pytest.mark.slow
def test_a_long_import_blocks_no_reader_and_fails_no_writer(db, tmp_path):
    """list, report, show and score while a large import holds the write lock (paused where its
    observation index is dropped): readers run at once (WAL) and see the record as before it; a writer
    waits for the lock and then succeeds; not one command fails."""
    import csv
    import os
    import subprocess
    import sys

    from forecast_tracker.io.importing import DEFER_INDEX_ROWS

    rows = DEFER_INDEX_ROWS + 2_000  # enough to drop the index, which is where the import waits
    big = tmp_path / "big.csv"
    with open(big, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["indicator", "observed_on", "value", "source", "note"])
        for i in range(rows):
            writer.writerow(["widget-orders", f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}", i, "bulk", f"row {i}"])
    release = tmp_path / "release"
    env = {**os.environ, "FORECAST_TRACKER_PAUSE_AT": f"import-index:{release}"}
    importing = subprocess.Popen(
        [sys.executable, "-m", "forecast_tracker", "--db", str(db), "import", str(big)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    try:
        _wait_for_lock(db)
        readers = [
            ("list", "--format", "json"),
            ("report", "--month", "2025-03", "--out", str(tmp_path / "r")),
            ("show", "widget-launch"),
            ("score",),
        ]
        failures = []
        for command in readers:
            result = _run("--db", str(db), *command)
            if result.returncode != 0:
                failures.append((command, result.returncode, result.stderr))
        assert importing.poll() is None  # every reader ran while the import held the lock
        observe = subprocess.Popen(
            [sys.executable, "-m", "forecast_tracker", "--db", str(db), "observe", "widget-factory-built", "--date",
             "2025-02-01", "--source", "during import"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
    finally:
        release.touch()
    out, err = importing.communicate(timeout=300)
    observed = observe.communicate(timeout=300)
    assert importing.returncode == 0, err
    assert observe.returncode == 0, observed[1]
    assert failures == []
    with Tracker(db) as t:
        assert len(t.observations_frame()) == rows + 1


def _wait_for_lock(db, limit: float = 60.0) -> None:
    """Until another process holds the database's write lock (a bounded wait)."""
    import sqlite3
    import time

    waited = 0.0
    while waited < limit:
        probe = sqlite3.connect(db, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
        except sqlite3.OperationalError:
            return  # locked: the import is writing
        finally:
            probe.close()
        time.sleep(0.05)
        waited += 0.05
    raise AssertionError("the import never took the write lock")


def test_a_writer_that_cannot_get_the_lock_says_the_database_is_busy(db):
    import sqlite3

    before = sqlite3.connect(db).execute("SELECT count(*) FROM observation").fetchone()[0]
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock and does not let go
    try:
        reader = _run("--db", str(db), "list", env={"FORECAST_TRACKER_BUSY_TIMEOUT_MS": "100"})
        writer = _run(
            "--db", str(db), "observe", "widget-factory-built", "--date", "2025-02-01", "--source", "s",
            env={"FORECAST_TRACKER_BUSY_TIMEOUT_MS": "100"},
        )  # fmt: skip
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert reader.returncode == 0, reader.stderr  # readers are never blocked by a writer
    assert writer.returncode == 1 and writer.stderr.count("\n") == 1, writer.stderr
    assert "is busy: another command is writing to it" in writer.stderr
    assert sqlite3.connect(db).execute("SELECT count(*) FROM observation").fetchone()[0] == before


def _resolver(db: str, queue, barrier) -> None:
    import os

    from typer.testing import CliRunner

    from forecast_tracker.api import Tracker as Warm
    from forecast_tracker.cli import app

    os.environ["FORECAST_TRACKER_DB"] = db
    with Warm(db) as t:  # connect and load everything first, so the race is only the resolve itself
        t.standing()
    barrier.wait(timeout=60)
    result = CliRunner().invoke(app, ["resolve", "widget-launch", "yes", "--source", "the record", "--date", "2025-05-01"])
    queue.put((result.exit_code, result.stderr))


@pytest.mark.parametrize("attempt", range(3))
def test_six_concurrent_resolutions_record_one(anydb, attempt):
    """Six processes resolve one proposition at once, none with --force: exactly one resolution is
    recorded and the other five are refused as bad input, on SQLite and on PostgreSQL alike."""
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    queue, barrier = ctx.Queue(), ctx.Barrier(6)
    procs = [ctx.Process(target=_resolver, args=(str(anydb), queue, barrier)) for _ in range(6)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2, 2, 2, 2, 2], results
    assert all("already resolved" in err or "--force" in err for code, err in results if code == 2), results
    with Tracker(str(anydb)) as t:
        assert len([r for r in t.export("resolutions", "json").splitlines() if '"outcome"' in r]) == 1
