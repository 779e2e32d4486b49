"""How fast `extract` reads a long commentary, against a bare interpreter measured in the same run.

    python tests/benchmarks/extract.py            # a 10,000-word report (the labelled texts, repeated)
    python tests/benchmarks/extract.py --words 100000

Never part of the test suite. Prints the in-process time of judging every sentence (no files written),
the whole process (`forecast-tracker extract FILE --format json`) and the start-up floor
(`python -c pass`, and the imports every command pays today), each the median of --repeat runs, and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "extract"


def report_text(words: int) -> str:
    texts = [p.read_text(encoding="utf-8") for p in sorted(DATA.glob("*.txt")) + sorted(DATA.glob("*.md"))]
    out, count, i = [], 0, 0
    while count < words:
        text = texts[i % len(texts)]
        out.append(text)
        count += len(text.split())
        i += 1
    return "\n\n".join(out)


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--words", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from forecast_tracker import api

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.txt"
        path.write_text(report_text(args.words), encoding="utf-8")
        words = len(path.read_text(encoding="utf-8").split())
        result = api.extract(path, None)
        inproc = median_time(lambda: api.extract(path, None), args.repeat)
        cmd = [sys.executable, "-m", "forecast_tracker", "extract", str(path), "--format", "json"]
        whole = median_time(lambda: subprocess.run(cmd, check=True, capture_output=True), args.repeat)
        floor = median_time(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), args.repeat)
        imports = [sys.executable, "-c", "import typer, sqlmodel"]  # what every command imports today
        cli_floor = median_time(lambda: subprocess.run(imports, check=True), args.repeat)
    drafted = sum(1 for row in result.sentences if row["draft"])
    print(f"report: {words:,} words, {len(result.sentences):,} sentences, {drafted:,} drafted")
    print(f"{'figure':<44}{'median s':>10}")
    print(f"{'extract in-process (read, split, judge)':<44}{inproc:>10.3f}")
    print(f"{'extract --format json, whole process':<44}{whole:>10.3f}")
    print(f"{'python -c pass (start-up floor)':<44}{floor:>10.3f}")
    label = 'python -c "import typer, sqlmodel"'
    print(f"{label:<44}{cli_floor:>10.3f}")
    print(f"whole process / import typer, sqlmodel: {whole / cli_floor:.2f}x; in-process words per second: {words / inproc:,.0f}")


if __name__ == "__main__":
    main()
