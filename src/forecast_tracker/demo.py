"""`demo`: build a fresh database from the bundled case study and render every month's scorecard."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import TrackerError
from .updating import describe

FIRST_MONTH = "2023-10"


@dataclass
class DemoResult:
    database: Path
    index: Path
    summary: list[dict[str, Any]]


def case_study_dir() -> Path:
    """The bundled catalog and data: inside the installed package, or the repository's `indicators/`."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "case_study", here.parents[1] / "indicators"):
        if (candidate / "observations.csv").is_file():
            return candidate
    raise TrackerError("the bundled case study is missing from this installation")


def build_case_study(path: Path, catalog: Path | None = None):  # noqa: ANN201
    """Create a database at `path` from the case study: sync, observations (applied in date order), resolutions."""
    from .api import Tracker

    folder = catalog or case_study_dir()
    tracker = Tracker(path, create=True)
    tracker.sync(folder)
    tracker.import_csv(folder / "observations.csv", apply=True, by="case-study")
    tracker.import_csv(folder / "resolutions.csv")
    return tracker


def run_demo(out: Path, progress_console=None, until_month: str | None = None) -> DemoResult:  # noqa: ANN001
    """Build `out/case-study.db` afresh (atomically replacing an earlier demo's) and render `out/reports/`."""
    from .report import month_range
    from .validate import today

    out.mkdir(parents=True, exist_ok=True)
    target = out / "case-study.db"
    fd, tmp_name = tempfile.mkstemp(dir=out, prefix=".case-study.", suffix=".db")
    os.close(fd)
    os.unlink(tmp_name)  # Tracker(create=True) makes the file itself
    tmp = Path(tmp_name)
    try:
        tracker = build_case_study(tmp)
        tracker.close()
        for suffix in ("-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        os.replace(tmp, target)
    finally:
        for leftover in (tmp, Path(str(tmp) + "-wal"), Path(str(tmp) + "-shm")):
            leftover.unlink(missing_ok=True)
    from .api import Tracker

    tracker = Tracker(target)
    months = month_range(FIRST_MONTH, until_month or today()[:7])
    reports = out / "reports"
    if progress_console is not None:
        from rich.progress import Progress

        with Progress(console=progress_console, transient=True) as progress:
            task = progress.add_task("rendering scorecards", total=len(months))
            tracker.report(months, reports, ("md", "html"), progress=lambda _m: progress.advance(task))
    else:
        tracker.report(months, reports, ("md", "html"))
    summary = demo_summary(tracker)
    tracker.close()
    return DemoResult(target, reports / "index.html", summary)


def demo_summary(tracker) -> list[dict[str, Any]]:  # noqa: ANN001
    scores = {row["id"]: row for row in tracker.scores().as_json()["propositions"]}
    rows = []
    for state in tracker.standing():
        scored = scores.get(state.id)
        now = scored["final_probability"] if scored and scored["final_probability"] is not None else state.probability
        rows.append(
            {
                "id": state.id,
                "prior": describe(state.prior),
                "now": describe(now),
                "outcome": state.status,
                "brier": "" if not scored or scored["brier"] is None else f"{scored['brier']:.3f}",
            }
        )
    return rows
