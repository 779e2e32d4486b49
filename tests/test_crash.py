"""Processes really killed with SIGKILL: the database keeps all of an import or none; reports stay whole."""

import csv
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from forecast_tracker.api import Tracker

ROWS = 60_000


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "forecast_tracker", *args]


def _count(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return conn.execute("SELECT count(*) FROM observation").fetchone()[0]
    finally:
        conn.close()


def _kill_after(cmd: list[str], delay: float) -> bool:
    """Run `cmd`, SIGKILL it after `delay` seconds; True if it was still running when killed."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    running = proc.poll() is None
    if running:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    return running


@pytest.mark.slow
def test_killed_import_keeps_all_or_nothing(db, tmp_path):
    big = tmp_path / "big.csv"
    with open(big, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["indicator", "observed_on", "value", "source", "note"])
        for i in range(ROWS):
            writer.writerow(["widget-orders", f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}", i, "bulk", f"row {i}"])
    template = tmp_path / "template.db"
    shutil.copy(db, template)
    started = time.perf_counter()
    subprocess.run(_cli("--db", str(db), "import", str(big)), check=True, capture_output=True)
    full = time.perf_counter() - started
    assert _count(db) == ROWS
    killed_mid_way = 0
    for fraction in (0.35, 0.6, 0.8, 0.95):
        target = tmp_path / f"kill-{fraction}.db"
        shutil.copy(template, target)
        killed_mid_way += _kill_after(_cli("--db", str(target), "import", str(big)), full * fraction)
        assert _count(target) in (0, ROWS)
        # and the database still works normally afterwards
        with Tracker(target) as t:
            t.update("gadget-ban", 0.3, date="2025-03-01")
    assert killed_mid_way >= 2


@pytest.mark.slow
def test_killed_report_leaves_previous_files_intact(db, tmp_path):
    months = ("2025-01", "2025-12")
    out = tmp_path / "reports"
    subprocess.run(
        _cli("--db", str(db), "report", "--from", months[0], "--to", months[1], "--out", str(out)),
        check=True,
        capture_output=True,
    )
    old = {p.name: p.read_bytes() for p in out.glob("2025-*")}
    with Tracker(db) as t:
        for m in range(1, 13):
            t.observe("gadget-bill", date=f"2025-{m:02d}-15", source=f"month {m}", apply=True)
    fresh = tmp_path / "fresh"
    started = time.perf_counter()
    subprocess.run(
        _cli("--db", str(db), "report", "--from", months[0], "--to", months[1], "--out", str(fresh)),
        check=True,
        capture_output=True,
    )
    full = time.perf_counter() - started
    new = {p.name: p.read_bytes() for p in fresh.glob("2025-*")}
    assert all(old[name] != new[name] for name in old if name.endswith(".md"))
    killed_mid_way = 0
    for fraction in (0.5, 0.7, 0.9):
        killed_mid_way += _kill_after(
            _cli("--db", str(db), "report", "--from", months[0], "--to", months[1], "--out", str(out)), full * fraction
        )
        for name, data in old.items():
            assert (out / name).read_bytes() in (data, new[name]), name
        for name in list(old):
            (out / name).write_bytes(old[name])  # start the next round from the old files
    assert killed_mid_way >= 1
