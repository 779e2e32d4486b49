"""Processes really killed with SIGKILL at named steps (FORECAST_TRACKER_CRASH_AT): the database keeps
all of an import or none; reports keep each file old or new. The kill lands at the same step every
run, so these tests cannot pass by luck or fail by timing."""

import csv
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from forecast_tracker.api import Tracker

pytestmark = pytest.mark.slow  # SIGKILLed processes


ROWS = 12_000  # three chunks of the importer's 5,000 rows: crash points after the first and the second,
# and once the observation index is dropped for the third (past importing.DEFER_INDEX_ROWS, 10,000)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "forecast_tracker", *args]


def _count(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return conn.execute("SELECT count(*) FROM observation").fetchone()[0]
    finally:
        conn.close()


def _indexes(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name").fetchall()
    finally:
        conn.close()


def _crash_at(point: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "FORECAST_TRACKER_CRASH_AT": point}
    return subprocess.run(_cli(*args), env=env, capture_output=True, text=True, timeout=300)


def test_killed_import_keeps_all_or_nothing(db, tmp_path):
    big = tmp_path / "big.csv"
    with open(big, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["indicator", "observed_on", "value", "source", "note"])
        for i in range(ROWS):
            writer.writerow(["widget-orders", f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}", i, "bulk", f"row {i}"])
    template = tmp_path / "template.db"
    shutil.copy(db, template)
    # killed with 5,000 and then 10,000 rows written but not committed, and with the observation index
    # dropped for the last chunk (past DEFER_INDEX_ROWS): the rows are gone and the index is back
    for k, point in enumerate(("import-chunk:1", "import-chunk:2", "import-index:1")):
        target = tmp_path / f"kill-{k}.db"
        shutil.copy(template, target)
        result = _crash_at(point, "--db", str(target), "import", str(big))
        assert result.returncode == -signal.SIGKILL, result.stderr  # it really died there
        assert _count(target) == 0 and _indexes(target) == _indexes(template)
        with Tracker(target) as t:  # and the database works normally afterwards
            t.update("gadget-ban", 0.3, date="2025-03-01", rationale="after the crash")
    done = subprocess.run(_cli("--db", str(db), "import", str(big)), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert _count(db) == ROWS and _indexes(db) == _indexes(template)  # the index was built again, as declared


def test_killed_report_leaves_each_file_old_or_new(db, tmp_path):
    months = ("2025-01", "2025-12")
    out = tmp_path / "reports"
    report = ("--db", str(db), "report", "--from", months[0], "--to", months[1], "--out")
    subprocess.run(_cli(*report, str(out)), check=True, capture_output=True)
    old = {p.name: p.read_bytes() for p in out.glob("2025-*")}
    with Tracker(db) as t:
        for m in range(1, 13):
            t.observe("gadget-bill", date=f"2025-{m:02d}-15", source=f"month {m}", apply=True)
    fresh = tmp_path / "fresh"
    subprocess.run(_cli(*report, str(fresh)), check=True, capture_output=True)
    new = {p.name: p.read_bytes() for p in fresh.glob("2025-*")}
    assert all(old[name] != new[name] for name in old if name.endswith(".md"))
    for month in (1, 6, 11):  # killed after the 1st, 6th and 11th month's files were written
        result = _crash_at(f"report-month:{month}", *report, str(out))
        assert result.returncode == -signal.SIGKILL, result.stderr
        for name, data in old.items():
            written = int(name[5:7]) <= month
            assert (out / name).read_bytes() == (new[name] if written else data), (month, name)
        # no half-written leftovers (the folder's lock is no file of the record)
        assert not list(out.glob("*.tmp")) and [p.name for p in out.glob(".*")] in ([], [".report.lock"])
        for name, data in old.items():
            (out / name).write_bytes(data)  # start the next round from the old files
