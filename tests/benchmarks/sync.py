"""How long `sync` holds the write lock when a catalog change touches every file.

    python tests/benchmarks/sync.py                      # 10,000 propositions, 3 signposts each
    python tests/benchmarks/sync.py --propositions 1000  # quicker

Builds a catalog, `init`s it, imports applied observations (so every proposition has a record to
derive), then changes every file two ways, in turn: a plain edit (each statement) and a version (each
first signpost's likelihood ratio, from today). For each it times the whole `sync` process and how long
the write lock was held (the time a concurrent `observe` would wait), and compares the lock with the
same rows written by raw `sqlite3` (one UPDATE per changed proposition and indicator, one INSERT per
revision and version) in one transaction. Never part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def catalog_file(n: int, ratio: float, statement: str) -> str:
    pid = f"p-{n}"
    return (
        f"proposition:\n  id: {pid}\n  statement: {statement} {n}.\n  question: Will thing {n} happen by 2027-06-30?\n"
        f"  resolution_criteria: YES if thing {n} happens.\n  opened: 2024-01-01\n  resolve_by: 2027-06-30\n  prior: 0.3\n"
        f"  source: {{title: Outlook}}\nindicators:\n"
        f"  - id: {pid}-a\n    description: Signpost a.\n    kind: event\n    likelihood_ratio: {ratio}\n"
        f"  - id: {pid}-b\n    description: Signpost b.\n    kind: event\n    likelihood_ratio: 0.5\n"
        f"  - id: {pid}-c\n    description: Level c.\n    kind: level\n    threshold: 50\n    likelihood_ratio: 1.5\n"
    )


def write_catalog(folder: Path, count: int, ratio: float, statement: str) -> None:
    folder.mkdir(exist_ok=True)
    for n in range(count):
        (folder / f"p-{n}.yaml").write_text(catalog_file(n, ratio, statement))


def cli(db: Path, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run([PY, "-m", "forecast_tracker", "--db", str(db), *args], check=True, env=ENV, capture_output=True)
    return time.perf_counter() - start


def lock_held(db: Path, catalog: Path) -> float:
    """The write transaction of one sync, timed inside the process (the lock is held exactly that long)."""
    code = (
        "import time, sys\n"
        "from forecast_tracker.api import Tracker\n"
        "from forecast_tracker import db as dbm\n"
        "original = dbm.Database.write\n"
        "held = []\n"
        "from contextlib import contextmanager\n"
        "@contextmanager\n"
        "def timed(self, *a, **k):\n"
        "    with original(self, *a, **k) as conn:\n"
        "        start = time.perf_counter()\n"
        "        yield conn\n"
        "    held.append(time.perf_counter() - start)\n"
        "dbm.Database.write = timed\n"
        f"with Tracker({str(db)!r}) as t:\n"
        f"    t.sync({str(catalog)!r})\n"
        "print(sum(held))\n"
    )
    out = subprocess.run([PY, "-c", code], check=True, env=ENV, capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


def raw_rows(db: Path, count: int) -> float:
    """The same number of row writes a sync of `count` changed files makes, by raw sqlite3, in one transaction."""
    conn = sqlite3.connect(db, isolation_level=None)
    start = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    now = "2026-12-06T00:00:00.000000Z"
    for n in range(count):
        conn.execute("UPDATE proposition SET statement = ?, updated_at = ? WHERE id = ?", (f"Raw {n}.", now, f"p-{n}"))
        conn.execute("INSERT INTO definition_revision (kind, ref_id, fingerprint, content, recorded_at) VALUES (?,?,?,?,?)",
                     ("proposition", f"p-{n}", "x" * 16, json.dumps({"statement": f"Raw {n}."}), now))  # fmt: skip
    conn.execute("ROLLBACK")
    conn.close()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--propositions", type=int, default=10_000)
    parser.add_argument("--observations", type=int, default=5, help="applied observations per proposition")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ft-sync-"))
    try:
        catalog, db = work / "indicators", work / "t.db"
        write_catalog(catalog, args.propositions, 2.0, "Thing")
        cli(db, "init", "--catalog", str(catalog))
        rng = random.Random(7)
        with open(work / "obs.csv", "w") as fh:
            fh.write("indicator,observed_on,value,source,note\n")
            for n in range(args.propositions):
                for k in range(args.observations):
                    sign = rng.choice("abc")
                    value = rng.randint(0, 100) if sign == "c" else ""
                    fh.write(f"p-{n}-{sign},2024-{1 + k % 12:02d}-{1 + k:02d},{value},src,\n")
        cli(db, "import", str(work / "obs.csv"), "--apply")
        rows = {}
        for label, ratio, statement in (("plain edit (every statement)", 2.0, "Another thing"),
                                        ("version (every first ratio, from today)", 3.0, "Another thing")):  # fmt: skip
            write_catalog(catalog, args.propositions, ratio, statement)
            shutil.copy(db, work / "before.db")
            wall = cli(db, "sync", "--catalog", str(catalog))
            shutil.copy(work / "before.db", db)
            held = lock_held(db, catalog)
            raw = raw_rows(work / "before.db", args.propositions)
            rows[label] = (wall, held, raw)
        print(f"sync of {args.propositions:,} changed files ({args.propositions * args.observations:,} applied observations):")
        print(f"{'change':45} {'sync, whole process':>20} {'write lock held':>16} {'raw sqlite3 rows':>17} {'lock / raw':>11}")
        for label, (wall, held, raw) in rows.items():
            print(f"{label:45} {wall:19.2f}s {held:15.2f}s {raw:16.2f}s {held / raw:10.1f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
