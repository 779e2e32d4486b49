"""forecast-tracker benchmark: speed and memory at scale, each against a baseline measured in the same run.

    python tests/benchmarks/bench.py                 # default scale, then a tenth of it
    python tests/benchmarks/bench.py --json          # the same figures for scripts
    python tests/benchmarks/bench.py --propositions 100 --observations 20000 --updates 5000   # quicker

Never part of the test suite. Every figure is the median of --repeat runs; ratios compare against a
baseline run on the same machine in the same invocation, so they travel between machines better than
absolute times. Needs the package installed in the running Python (pip install -e .).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import itertools
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

PY = sys.executable
KINDS = ("event", "count", "level")


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def peak_memory(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# Processes are timed as a user runs them: with bytecode caches. Some machines (this project's CI
# among them) set PYTHONDONTWRITEBYTECODE, which makes every start recompile the package from source
# while typer and sqlmodel keep the bytecode pip wrote: a 0.1 s handicap that no user has.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(cmd: list[str], env: dict | None = None) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env or ENV)


def cli(db: Path, *args: str) -> list[str]:
    return [PY, "-m", "forecast_tracker", "--db", str(db), *args]


# -- synthetic data ---------------------------------------------------------------------------------
def make_catalog(folder: Path, n_props: int, n_ind: int, start: dt.date, rnd: random.Random) -> list[tuple[str, str]]:
    folder.mkdir(parents=True)
    indicators = []
    for p in range(n_props):
        pid = f"prop-{p:05d}"
        lines = [
            "proposition:", f"  id: {pid}", f"  statement: Synthetic proposition {p}.", f"  question: Will synthetic event {p} happen?",
            "  resolution_criteria: YES if it happens.", f"  opened: {start.isoformat()}", "  resolve_by: 2027-12-31",
            f"  prior: {rnd.uniform(0.05, 0.95):.3f}", "  source:", "    title: Benchmark", "indicators:",
        ]  # fmt: skip
        for i in range(n_ind):
            kind = KINDS[i % 3]
            iid = f"{pid}-ind-{i}"
            ratio = rnd.choice([0.3, 0.5, 0.8, 1.5, 2.0, 3.0])
            lines += [
                f"  - id: {iid}",
                f"    description: Signpost {i} of {pid}.",
                f"    kind: {kind}",
                f"    likelihood_ratio: {ratio}",
            ]
            if kind != "event":
                lines += ["    threshold: 50", "    likelihood_ratio_if_not_met: 0.9"]
            indicators.append((iid, kind))
        (folder / f"{pid}.yaml").write_text("\n".join(lines) + "\n")
    return indicators


def make_observations(path: Path, indicators, n: int, start: dt.date, days: int, rnd: random.Random) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["indicator", "observed_on", "value", "source", "note"])
        for k in range(n):
            iid, kind = indicators[rnd.randrange(len(indicators))]
            day = (start + dt.timedelta(days=rnd.randrange(days))).isoformat()
            value = "" if kind == "event" else str(rnd.randrange(100))
            w.writerow([iid, day, value, f"source {k % 997}", f"synthetic observation {k}"])


def add_updates(
    db: Path, n_props: int, n: int, start: dt.date, days: int, rnd: random.Random, forecasters: tuple[str, ...] = ("bench",)
) -> None:
    """`n` manual updates by `forecasters` (one each at random), straight into the table; the triggers
    empty the cached tracks they change, which `rebuild_cache` then writes again."""
    conn = sqlite3.connect(db)
    now = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
    rows = [
        (f"prop-{rnd.randrange(n_props):05d}", (start + dt.timedelta(days=rnd.randrange(days))).isoformat(), round(rnd.uniform(0.01, 0.99), 3),
         "manual", "benchmark", rnd.choice(forecasters), now)
        for _ in range(n)
    ]  # fmt: skip
    with conn:
        conn.executemany(
            "INSERT INTO probability_update (proposition_id, as_of, probability, method, rationale, forecaster, recorded_at) VALUES (?,?,?,?,?,?,?)",
            rows,
        )
    conn.close()


def resolve_all(db: Path, n_props: int, day: str, rnd: random.Random) -> None:
    conn = sqlite3.connect(db)
    with conn:
        conn.executemany(
            "INSERT INTO resolution (proposition_id, outcome, resolved_on, source, note, recorded_at) VALUES (?,?,?,?,?,?)",
            [(f"prop-{p:05d}", rnd.choice(["yes", "no"]), day, "bench", "", "2026-01-01T00:00:00Z") for p in range(n_props)],
        )
    conn.close()


# -- baselines ----------------------------------------------------------------------------------------
def raw_import(db: Path, csv_path: Path, materialize: bool = False) -> None:
    """The floor for `import`: the CSV's rows straight into the same table with one executemany, in one
    transaction, no validation. `materialize` builds the list of row tuples first (the usual way, and
    the memory baseline); otherwise a generator streams them (the fastest way, the rate baseline)."""
    now = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
    conn = sqlite3.connect(db)
    with open(csv_path, newline="") as fh, conn:
        reader = csv.reader(fh)
        next(reader)
        rows = ((r[0], r[1], float(r[2]) if r[2] else None, r[3], r[4], now) for r in reader)
        if materialize:
            rows = list(rows)
        conn.executemany(
            "INSERT INTO observation (indicator_id, observed_on, value, source, note, recorded_at) VALUES (?,?,?,?,?,?)", rows
        )
    conn.close()


RAW_STANDING = """
SELECT p.id, COALESCE(u.probability, p.prior) FROM proposition p LEFT JOIN (
  SELECT proposition_id, probability, ROW_NUMBER() OVER (PARTITION BY proposition_id ORDER BY as_of DESC, id DESC) AS rn
  FROM probability_update WHERE as_of <= ?) u ON u.proposition_id = p.id AND u.rn = 1
"""


# -- one scale --------------------------------------------------------------------------------------
def measure(scale: dict, work: Path, repeat: int, profile: bool) -> dict:
    from forecast_tracker.api import Tracker

    rnd = random.Random(20231001)
    start, days = dt.date(2023, 7, 1), scale["months"] * 30
    n_props = scale["propositions"]
    indicators = make_catalog(work / "indicators", n_props, scale["indicators"], start, rnd)
    obs_csv = work / "observations.csv"
    make_observations(obs_csv, indicators, scale["observations"], start, days, rnd)
    template = work / "template.db"
    with Tracker(template, create=True) as t:
        t.sync(work / "indicators")
    figures: dict[str, dict] = {}

    # import: ours against raw executemany, each into a fresh copy of the synced database
    def fresh(name: str) -> Path:
        path = work / name
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        shutil.copy(template, path)
        return path

    def ours_import():
        with Tracker(fresh("import.db")) as t:
            return t.import_csv(obs_csv).imported

    t_ours, imported = timed(ours_import, repeat)
    assert imported == scale["observations"], imported
    t_raw, _ = timed(lambda: raw_import(fresh("raw.db"), obs_csv), repeat)
    t_raw_list, _ = timed(lambda: raw_import(fresh("raw.db"), obs_csv, materialize=True), repeat)
    t_raw = min(t_raw, t_raw_list)
    mem_ours = peak_memory(ours_import)
    mem_raw = peak_memory(lambda: raw_import(fresh("raw.db"), obs_csv, materialize=True))
    n = scale["observations"]
    figures["import"] = {"seconds": t_ours, "rows_per_second": n / t_ours, "baseline_seconds": t_raw, "baseline_rows_per_second": n / t_raw,
                         "rate_ratio": t_raw / t_ours, "peak_bytes": mem_ours, "baseline_peak_bytes": mem_raw,
                         "memory_ratio": mem_ours / mem_raw, "goal": "rate >= 0.5x raw, memory < 2x raw"}  # fmt: skip
    figures["import"]["ok"] = figures["import"]["rate_ratio"] >= 0.5 and figures["import"]["memory_ratio"] < 2

    # The record the other figures read: the observations applied as analysts apply them, but for the
    # last 1% (which `review` lists), and the updates of one forecaster (`full`) or of a team of three
    # (`team`: 20,000 updates at the same density, the case in issue 24).
    applied_csv, pending_csv = work / "applied.csv", work / "pending.csv"
    rows = obs_csv.read_text().splitlines(keepends=True)
    cut = 1 + (len(rows) - 1) * 99 // 100
    applied_csv.write_text("".join(rows[:cut]))
    pending_csv.write_text(rows[0] + "".join(rows[cut:]))

    def record(name: str, n_updates: int, forecasters: tuple[str, ...]) -> Path:
        path = fresh(name)
        with Tracker(path) as t:
            t.import_csv(applied_csv, apply=True)
            t.import_csv(pending_csv)
        add_updates(path, n_props, n_updates, start, days, rnd, forecasters)
        with Tracker(path) as t:
            t.rebuild_cache()
        return path

    full = record("full.db", scale["updates"], ("bench",))
    team = record("team.db", max(1, scale["updates"] * 2 // 5), ("ana", "ben", "cy"))

    # whole-process commands against the stack's own start-up floor
    t_floor, _ = timed(lambda: run([PY, "-c", "import typer, sqlmodel"]), repeat)
    t_pass, _ = timed(lambda: run([PY, "-c", "pass"]), repeat)
    iid = indicators[0][0]
    runs = itertools.count()  # each run logs a different observation: an identical one is refused as a duplicate
    t_observe, _ = timed(
        lambda: run(
            cli(full, "observe", iid, "--source", "bench", "--note", f"run {next(runs)}", "--date", "2025-06-01", "--apply")
        ),
        repeat,
    )
    probe = (
        "import sys; from forecast_tracker.cli import main; "
        f"main(['--db', {str(full)!r}, 'observe', {iid!r}, '--source', 'bench', '--note', 'probe', '--date', '2025-06-01', '--apply']); "
        "print('HEAVY:' + ','.join(m for m in ('pandas', 'jinja2', 'matplotlib', 'numpy') if m in sys.modules))"
    )
    probe_out = subprocess.run([PY, "-c", probe], capture_output=True, text=True, check=True, env=ENV).stdout
    heavy = probe_out.rsplit("HEAVY:", 1)[1].strip()
    figures["observe --apply"] = {"seconds": t_observe, "baseline_seconds": t_floor, "ratio": t_observe / t_floor, "python_pass_seconds": t_pass,
                                  "heavy_modules_imported": heavy, "goal": "<= 1.5x floor; no pandas/jinja2/matplotlib"}  # fmt: skip
    figures["observe --apply"]["ok"] = figures["observe --apply"]["ratio"] <= 1.5 and not heavy
    for db, who in ((full, ""), (team, "team ")):
        for name, args, goal in (("list", ("list",), 1.5), ("show", ("show", "prop-00000"), 1.5),
                                 ("history", ("history", "prop-00000"), 1.5), ("review", ("review",), 2.0)):  # fmt: skip
            t_cmd, _ = timed(lambda args=args, db=db: run(cli(db, *args)), repeat)
            figures[who + name] = {"seconds": t_cmd, "baseline_seconds": t_floor, "ratio": t_cmd / t_floor,
                                   "goal": f"<= {goal:g}x floor", "ok": t_cmd / t_floor <= goal}  # fmt: skip

        # standing probability of every proposition: the derived chain (manual updates, applied evidence,
        # counted ratios, decay; see evidence.py, read from its cache) against one raw window query that
        # only reads stored numbers
        with Tracker(db) as t:
            t_stand, rows = timed(lambda t=t: t.standing("2025-06-30"), repeat)
            raw = sqlite3.connect(db)
            t_rawq, raw_rows = timed(lambda raw=raw: raw.execute(RAW_STANDING, ("2025-06-30",)).fetchall(), repeat)
            raw.close()
        assert len(rows) == len(raw_rows) == n_props
        figures[who + "standing as of"] = {"seconds": t_stand, "baseline_seconds": t_rawq, "ratio": t_stand / t_rawq,
                                           "goal": "<= 2x one SQL query (derived, not stored)", "ok": t_stand / t_rawq <= 2}  # fmt: skip

        # score and report on a copy where every proposition is resolved
        scored_db = work / f"{who.strip() or 'full'}-scored.db"
        shutil.copy(db, scored_db)
        resolve_all(scored_db, n_props, "2026-03-15", rnd)
        t_score, _ = timed(lambda scored_db=scored_db: run(cli(scored_db, "score", "--format", "json")), repeat)
        figures[who + "score"] = {"seconds": t_score, "propositions": n_props, "goal": "< 5 s at 1,000 propositions",
                                  "ok": t_score < 5 * max(1, n_props / 1000)}  # fmt: skip
        out = work / f"{who.strip() or 'full'}-reports"
        t_report, _ = timed(lambda db=db, out=out: run(cli(db, "report", "--month", "2025-06", "--out", str(out))), repeat)
        figures[who + "report one month"] = {"seconds": t_report, "per_proposition_ms": 1000 * t_report / n_props,
                                             "goal": "< 30 s at 1,000 propositions", "ok": t_report < 30 * max(1, n_props / 1000)}  # fmt: skip
    if profile:
        figures["report one month"]["profile"] = profile_report(full, work)
    return figures


def profile_report(db: Path, work: Path) -> list[str]:
    """Where a one-month report spends its time, in one process (pages not forked) so the profile sees
    everything; buckets overlap (charts and templates are inside pages and the month)."""
    prof = work / "report.prof"
    env = {**ENV, "FORECAST_TRACKER_JOBS": "1"}
    run([PY, "-m", "cProfile", "-o", str(prof), "-m", "forecast_tracker", "--db", str(db), "report", "--month", "2025-06", "--out",
         str(work / "profiled")], env=env)  # fmt: skip
    import pstats

    stats = pstats.Stats(str(prof))
    total = stats.total_tt
    buckets = {  # label: (file, function); cumulative time
        "reading the record (SQL, tracks)": ("forecast_tracker/scorecard/dataset.py", "load"),
        "month scorecard": ("forecast_tracker/scorecard/context.py", "add"),
        "proposition pages": ("forecast_tracker/scorecard/render.py", "_write"),
        "charts": ("forecast_tracker/scorecard/charts.py", "trajectory_svg"),
        "templates (jinja2)": ("jinja2/environment.py", "render"),
        "writing files": ("forecast_tracker/io/files.py", "atomic_write"),
    }
    lines = []
    for label, (path, function) in buckets.items():
        cum = sum(v[3] for k, v in stats.stats.items() if k[0].endswith(path) and k[2] == function)
        lines.append(f"{label}: {cum:.1f} s")
    return [*lines, f"(whole profiled run {total:.1f} s)"]


def demo_time(work: Path, repeat: int) -> dict:
    env = ENV
    t_demo, _ = timed(lambda: run([PY, "-m", "forecast_tracker", "demo", "--out", str(work / "demo")], env=env), repeat)
    return {"seconds": t_demo, "goal": "< 60 s", "ok": t_demo < 60}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--propositions", type=int, default=1000)
    parser.add_argument("--indicators", type=int, default=5)
    parser.add_argument("--observations", type=int, default=200_000)
    parser.add_argument("--updates", type=int, default=50_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-tenth", action="store_true", help="skip the run at a tenth of the scale")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--keep", type=Path, help="keep the generated data in this folder")
    args = parser.parse_args()
    scale = {k: getattr(args, k) for k in ("propositions", "indicators", "observations", "updates", "months")}
    tenth = {**scale, **{k: max(1, scale[k] // 10) for k in ("propositions", "observations", "updates")}}
    import forecast_tracker

    run([PY, "-m", "compileall", "-q", str(Path(forecast_tracker.__file__).parent)])
    base = args.keep or Path(tempfile.mkdtemp(prefix="ft-bench-"))
    started = time.perf_counter()
    try:
        full = measure(scale, base / "full", args.repeat, profile=True)
        small = None if args.no_tenth else measure(tenth, base / "tenth", args.repeat, profile=False)
        demo = demo_time(base, args.repeat)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    report = {
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
                    "sqlite": sqlite3.sqlite_version, "date": dt.date.today().isoformat()},
        "scale": scale, "figures": full, "tenth_scale": small, "demo": demo,
        "growth_10x": {k: full[k]["seconds"] / small[k]["seconds"] for k in full if small} if small else None,
        "bench_seconds": time.perf_counter() - started,
    }  # fmt: skip
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return
    print_table(report)


def print_table(r: dict) -> None:
    m = r["machine"]
    print(
        f"forecast-tracker benchmark, {m['date']}: Python {m['python']}, SQLite {m['sqlite']}, {m['cpus']} CPUs, {m['platform']}"
    )
    print(f"scale: {r['scale']}")
    print(f"{'figure':<25} {'ours':>10} {'baseline':>10} {'ratio':>7}  {'10x data':>9}  goal")
    for name, f in r["figures"].items():
        base = f.get("baseline_seconds")
        ratio = f.get("ratio") or (1 / f["rate_ratio"] if "rate_ratio" in f else None)
        growth = (r["growth_10x"] or {}).get(name)
        print(
            f"{name:<25} {f['seconds']:>9.3f}s {(f'{base:.3f}s' if base else '-'):>10} {(f'{ratio:.2f}x' if ratio else '-'):>7}  "
            f"{(f'{growth:.1f}x' if growth else '-'):>9}  {f['goal']}  [{'ok' if f['ok'] else 'MISSED'}]"
        )
    imp = r["figures"]["import"]
    print(f"  import: {imp['rows_per_second']:,.0f} rows/s vs raw {imp['baseline_rows_per_second']:,.0f} rows/s "
          f"(rate {imp['rate_ratio']:.2f}x of raw); peak Python memory {imp['peak_bytes'] / 2**20:.1f} MiB vs raw "
          f"{imp['baseline_peak_bytes'] / 2**20:.1f} MiB ({imp['memory_ratio']:.2f}x)")  # fmt: skip
    obs = r["figures"]["observe --apply"]
    print(
        f"  start-up floor: python -c pass {obs['python_pass_seconds']:.3f}s; heavy modules imported by observe: {obs['heavy_modules_imported'] or 'none'}"
    )
    rep = r["figures"]["report one month"]
    print(
        f"  report: {rep['per_proposition_ms']:.1f} ms per proposition; profile (one process): "
        + "; ".join(rep.get("profile", []))
    )
    d = r["demo"]
    print(f"demo end to end: {d['seconds']:.1f}s (goal {d['goal']}) [{'ok' if d['ok'] else 'MISSED'}]")
    print(f"benchmark took {r['bench_seconds']:.0f}s")


if __name__ == "__main__":
    main()
