"""Charts as deterministic inline SVG, drawn with matplotlib (imported only when a report renders).

One figure per process is reused for every trajectory: only the data artists are replaced, so axes,
ticks and fonts are not rebuilt each time (45 ms a chart down to under 20 ms). The legend is drawn
once in the page (see `LEGEND`), not in every chart. No user text is drawn into a chart: ids and
statements appear in the page around it, escaped there.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

COLOURS = {"supports": "#1a7f37", "opposes": "#cf222e", "neutral": "#6e7781", "context": "#8c959f"}
MARKERS = {"supports": "^", "opposes": "v", "neutral": "o", "context": "o"}
LINE = "#0969da"
PRIOR = "#8250df"
RESOLVED = "#bf8700"
# (colour, symbol, label) for the one key a page shows above its charts
LEGEND = (
    (LINE, "━", "standing probability"),
    (PRIOR, "┅", "commentary's prior"),
    (COLOURS["supports"], "▲", "observation supporting YES"),
    (COLOURS["opposes"], "▼", "observation against"),
    (COLOURS["neutral"], "●", "neutral or context"),
    (RESOLVED, "★", "resolution"),
)
PARALLEL_FROM = 120  # charts; below this a worker pool costs more to start than it saves


@dataclass(frozen=True)
class TrajectoryData:
    """Everything one trajectory chart draws; equal data gives a byte-identical SVG."""

    start: str
    end: str
    prior: float
    steps: tuple[tuple[str, float], ...]  # (date, probability) change points from `start`
    markers: tuple[tuple[str, float, str], ...]  # (date, probability, direction)
    resolution: tuple[str, float] | None  # (date, 1.0 or 0.0)


_STATE: dict[str, object] = {}


def _setup() -> None:
    if _STATE:
        return
    import matplotlib

    matplotlib.use("svg", force=True)
    matplotlib.rcParams.update(
        {
            "svg.hashsalt": "forecast-tracker",  # stable element ids: same data, same bytes
            "svg.fonttype": "none",  # text stays text: smaller files, no glyph paths
            "font.size": 8,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )
    import warnings

    import matplotlib.dates as mdates
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    # A proposition resolved days after it opened gives a range too short for a "nice" tick step;
    # the locator then falls back to a fine step, which is what we want, so its warning is noise.
    warnings.filterwarnings("ignore", message="AutoDateLocator was unable", category=UserWarning)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 2.0), dpi=72)
    ax = fig.add_axes((0.07, 0.14, 0.91, 0.82))
    ax.set_ylim(-0.03, 1.03)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1])
    ax.grid(axis="y", color="#d0d7de", linewidth=0.5)
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=6))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    _STATE.update(fig=fig, ax=ax, canvas=FigureCanvasSVG(fig), Figure=Figure, Canvas=FigureCanvasSVG)


def _svg(canvas) -> str:  # noqa: ANN001
    buffer = io.StringIO()
    canvas.print_svg(buffer, metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]  # drop the XML prolog and doctype so it can sit inline in HTML
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)  # RDF boilerplate, no use inline
    return re.sub(r'(<svg[^>]*?) width="[^"]*" height="[^"]*"', r'\1 width="100%"', text, count=1)


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def trajectory_svg(data: TrajectoryData) -> str:
    _setup()
    ax = _STATE["ax"]
    for artist in [*ax.lines, *ax.collections]:
        artist.remove()
    xs = [_day(d) for d, _ in data.steps] + [_day(data.end)]
    ys = [p for _, p in data.steps] + [data.steps[-1][1]]
    ax.step(xs, ys, where="post", color=LINE, linewidth=1.6)
    ax.axhline(data.prior, color=PRIOR, linestyle="--", linewidth=0.9)
    for direction in ("supports", "opposes", "neutral", "context"):
        points = [(_day(d), p) for d, p, kind in data.markers if kind == direction]
        if points:
            ax.scatter(
                [x for x, _ in points],
                [y for _, y in points],
                marker=MARKERS[direction],
                s=28,
                color=COLOURS[direction],
                zorder=3,
            )
    if data.resolution:
        ax.scatter([_day(data.resolution[0])], [data.resolution[1]], marker="*", s=90, color=RESOLVED, zorder=4)
    ax.set_xlim(_day(data.start), _day(data.end) + dt.timedelta(days=2))
    return _svg(_STATE["canvas"])


def trajectories_svg(charts: Sequence[TrajectoryData], parallel: bool = True) -> list[str]:
    """Render many charts; from `PARALLEL_FROM` charts on, split across the machine's cores."""
    import os

    # FORECAST_TRACKER_WORKERS=1 draws in this process (for profiling, or a machine that forbids fork)
    workers = int(os.environ.get("FORECAST_TRACKER_WORKERS") or min(os.cpu_count() or 1, 4))
    if not parallel or workers < 2 or len(charts) < PARALLEL_FROM:
        return [trajectory_svg(c) for c in charts]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method)) as pool:
        return list(pool.map(trajectory_svg, charts, chunksize=max(1, len(charts) // (workers * 4))))


def calibration_svg(series: Sequence[tuple[str, Sequence[tuple[float, float, int]]]]) -> str:
    """Observed frequency against mean forecast per bin, one series per forecaster (point size = count)."""
    _setup()
    fig = _STATE["Figure"](figsize=(3.2, 3.0), dpi=72)
    ax = fig.add_axes((0.16, 0.14, 0.8, 0.8))
    ax.plot([0, 1], [0, 1], color="#8c959f", linewidth=0.8, linestyle=":", label="perfect calibration")
    for (label, points), colour, marker in zip(series, (LINE, PRIOR), ("o", "s"), strict=False):
        if points:
            ax.scatter(
                [p[0] for p in points],
                [p[1] for p in points],
                s=[20 + 12 * p[2] for p in points],
                color=colour,
                marker=marker,
                alpha=0.8,
                label=label,
            )
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("forecast probability")
    ax.set_ylabel("observed frequency")
    ax.legend(loc="upper left", fontsize=6, frameon=False)
    return _svg(_STATE["Canvas"](fig))
