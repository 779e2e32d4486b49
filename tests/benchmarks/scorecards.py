"""Scorecards at scale, side by side: one month's report and `score`, this checkout against another
installation (an earlier release) on the same database, at the default data and at ten times it.

    python tests/benchmarks/scorecards.py --before /path/to/earlier/venv/bin/python
    python tests/benchmarks/scorecards.py --before ... --scales 1 --json figures.json

Whole processes are timed (wall clock) and their peak resident memory read from the kernel (wait4),
so both installations are measured the same way whatever they do inside. Never part of the test
suite. The data is the main benchmark's (tests/benchmarks/bench.py): 1,000 propositions of five
indicators, 200,000 observations imported and applied, 50,000 manual updates, at scale 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import bench  # noqa: E402 - the data generators are the main benchmark's

MONTH = "2025-06"
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(python: str, *args: str, out=subprocess.DEVNULL, env: dict | None = None) -> tuple[float, int, float]:
    """(wall seconds, peak resident bytes, CPU seconds) of one whole process, with any process it forked
    (the kernel's figures for the process and its waited-for children: peak RSS is the largest of
    them, CPU time their sum)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [python, "-m", "forecast_tracker", *args], stdout=out, stderr=subprocess.PIPE, env={**ENV, **(env or {})}
    )
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{python} {' '.join(args)} failed: {proc.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime


def build(work: Path, scale: int, repeat: int = 1) -> tuple[Path, tuple[float, int], int]:
    """The benchmark's data at `scale`; returns the database, the import's (wall time, peak RSS) (the
    median time and the largest peak of `repeat` imports, each into a fresh copy of the catalog-only
    database) and the number of propositions."""
    rnd = random.Random(20231001)
    start, days = dt.date(2023, 7, 1), 36 * 30
    n_props = 1000 * scale
    indicators = bench.make_catalog(work / "indicators", n_props, 5, start, rnd)
    obs = work / "observations.csv"
    bench.make_observations(obs, indicators, 200_000 * scale, start, days, rnd)
    empty, db = work / "catalog.db", work / "bench.db"
    run(sys.executable, "--db", str(empty), "init", "--catalog", str(work / "indicators"))
    imports = []
    for _ in range(repeat):
        for leftover in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            leftover.unlink(missing_ok=True)
        shutil.copy(empty, db)
        imports.append(run(sys.executable, "--db", str(db), "import", str(obs), "--apply"))
    t_import = (sorted(w for w, _, _ in imports)[len(imports) // 2], max(m for _, m, _ in imports))
    bench.add_updates(db, n_props, 50_000 * scale, start, days, rnd)
    bench.resolve_all(db, n_props, "2026-05-01", rnd)
    return db, t_import, n_props


def measure(python: str, db: Path, out: Path, n_props: int, repeat: int, one_process: bool = False) -> dict:
    """Each run renders into a new folder: a first render, every proposition page written."""
    reports, scores, serial = [], [], []
    for k in range(repeat):
        reports.append(run(python, "--db", str(db), "report", "--month", MONTH, "--out", str(out / f"r{k}")))
        if one_process:
            serial.append(run(python, "--db", str(db), "report", "--month", MONTH, "--out", str(out / f"s{k}"),
                              env={"FORECAST_TRACKER_JOBS": "1"}))  # fmt: skip
        scores.append(run(python, "--db", str(db), "score", "--format", "json"))
    html = (out / "r0" / f"{MONTH}.html").stat().st_size
    median = lambda values: sorted(values)[len(values) // 2]  # noqa: E731
    row = {
        "report_seconds": median([w for w, _, _ in reports]), "report_peak_bytes": max(m for _, m, _ in reports),
        "report_cpu_seconds": median([c for _, _, c in reports]),
        "score_seconds": median([w for w, _, _ in scores]), "score_peak_bytes": max(m for _, m, _ in scores),
        "html_bytes": html, "html_bytes_per_proposition": html / n_props,
    }  # fmt: skip
    if serial:
        row["report_one_process_seconds"] = median([w for w, _, _ in serial])
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", help="python of the installation to compare with (e.g. an earlier release's venv)")
    parser.add_argument("--scales", default="1,10", help="comma-separated multiples of the default data (default 1,10)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each figure (import included); medians are shown")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON to FILE")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="ft-scorecards-"))
    results: dict[str, dict] = {}
    try:
        for scale in [int(s) for s in args.scales.split(",")]:
            work = base / f"x{scale}"
            db, t_import, n_props = build(work, scale, args.repeat)
            row = {
                "propositions": n_props,
                "import_seconds": t_import[0],
                "import_peak_bytes": t_import[1],
                "now": measure(sys.executable, db, work / "now", n_props, args.repeat, one_process=True),
            }
            if args.before:
                row["before"] = measure(args.before, db, work / "before", n_props, args.repeat)
            results[str(scale)] = row
            shutil.rmtree(work, ignore_errors=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    mib = 2**20
    for scale, row in results.items():
        now, before = row["now"], row.get("before")
        print(f"scale {scale}x ({row['propositions']} propositions), import {row['import_seconds']:.1f} s, "
              f"peak RSS {row['import_peak_bytes'] / mib:.0f} MiB")  # fmt: skip
        for key, label, unit in (("report_seconds", "report one month", "s"), ("report_cpu_seconds", "report CPU time", "s"),
                                 ("report_one_process_seconds", "report, one process", "s"), ("score_seconds", "score", "s"),
                                 ("report_peak_bytes", "report peak RSS", "MiB"), ("score_peak_bytes", "score peak RSS", "MiB"),
                                 ("html_bytes_per_proposition", "HTML per proposition", "KB")):  # fmt: skip
            div = mib if unit == "MiB" else 1000 if unit == "KB" else 1
            if key not in now:
                continue
            line = f"  {label:22} now {now[key] / div:9.1f} {unit}"
            base = "report_seconds" if key == "report_one_process_seconds" else key  # against the same work before
            if before and base in before:
                line += f"   before {before[base] / div:9.1f} {unit}   ratio {now[key] / before[base]:.2f}x"
            print(line)
    if "1" in results and "10" in results:
        a, b = results["1"], results["10"]
        print("growth 1x -> 10x (now): import {:.1f}x, score {:.1f}x, report {:.1f}x".format(
            b["import_seconds"] / a["import_seconds"], b["now"]["score_seconds"] / a["now"]["score_seconds"],
            b["now"]["report_seconds"] / a["now"]["report_seconds"]))  # fmt: skip


if __name__ == "__main__":
    main()
