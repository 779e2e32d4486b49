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
def test_concurrent_writers_lose_nothing(db):
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
