"""`serve` at 1,000 propositions: the propositions page and /api/propositions (median of 20 requests
each, in-process through the ASGI test client), side by side with `list --format json` in-process on
the same database (the same Tracker call and JSON dump the CLI makes). Prints the figures and ratios.

    python tests/benchmarks/web.py                    # 1,000 propositions, 20,000 observations
    python tests/benchmarks/web.py --propositions 200 --observations 4000 --requests 10

Never part of the test suite; needs the web extra (pip install -e '.[test]').
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench import make_catalog, make_observations  # noqa: E402


def medians_ms(fns: dict, n: int) -> dict[str, float]:
    """Each function's median over `n` rounds, run in turn within each round, so that whatever else the
    machine does meanwhile falls on all of them alike."""
    for fn in fns.values():
        fn()  # warm: templates compiled, the cache of tracks filled
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(n):
        for name, fn in fns.items():
            gc.collect()  # each starts from a collected heap: a full collection set off by the previous one's garbage
            start = time.perf_counter()  # (60 ms at this scale) would otherwise land on whichever runs next
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) * 1000 for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--propositions", type=int, default=1000)
    parser.add_argument("--observations", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from forecast_tracker import api
    from forecast_tracker.web.app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rnd = random.Random(7)
        start = dt.date(2024, 1, 1)
        indicators = make_catalog(work / "indicators", args.propositions, 3, start, rnd)
        make_observations(work / "obs.csv", indicators, args.observations, start, 700, rnd)
        db = work / "bench.db"
        with api.Tracker(db, create=True) as t:
            t.sync(work / "indicators")
            t.import_csv(work / "obs.csv", apply=True)
        tracker = api.Tracker(db)

        def cli_list() -> str:  # what `list --format json` does once the command is parsed
            rows = api.standing_rows(tracker.standing(None, None, since=api.end_of_last_month()))
            return json.dumps(rows, indent=2, ensure_ascii=False)

        client = TestClient(create_app(str(db)), base_url="http://127.0.0.1:8000")

        def get(path: str):
            def call() -> None:
                response = client.get(path)
                assert response.status_code == 200, response.text[:200]

            return call

        m = medians_ms({"cli": cli_list, "api": get("/api/propositions"), "page": get("/"), "rows": get("/fragments/rows")},
                       args.requests)  # fmt: skip
        baseline, page, api_list, rows = m["cli"], m["page"], m["api"], m["rows"]
        assert json.loads(client.get("/api/propositions").text) == json.loads(cli_list())
        print(f"serve at {args.propositions} propositions, {args.observations} observations "
              f"(median of {args.requests} requests, Python {sys.version.split()[0]})")  # fmt: skip
        print(f"  list --format json, in-process  {baseline:8.1f} ms  1.00x")
        print(f"  GET /api/propositions           {api_list:8.1f} ms  {api_list / baseline:.2f}x")
        print(f"  GET / (the propositions page)   {page:8.1f} ms  {page / baseline:.2f}x  (goal: within 1.5x)")
        print(f"  GET /fragments/rows (+ flags)   {rows:8.1f} ms  {rows / baseline:.2f}x  (the flags, swapped in after the page)")
        tracker.close()


if __name__ == "__main__":
    main()
