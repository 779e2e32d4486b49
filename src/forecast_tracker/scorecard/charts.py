"""Charts as deterministic inline SVG, drawn with matplotlib (imported only when a report renders).

A trajectory chart is two layers. The background (axes, ticks, labels, grid) depends only on the
date range, so it is drawn once per range and reused; the data layer (the line and the markers) is
drawn on a transparent figure with no axes and overlaid as a nested <svg> with the same viewBox.
Tick layout was three quarters of the cost of a chart: this takes a chart from ~23 ms to ~6 ms.
Both figures are made once per process and reused. The legend is drawn once in the page (`LEGEND`).
No user text is drawn into a chart: ids and statements appear in the page around it, escaped there.
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
    import warnings

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
    import matplotlib.dates as mdates
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    # A proposition resolved days after it opened gives a range too short for a "nice" tick step;
    # the locator then falls back to a fine step, which is what we want, so its warning is noise.
    warnings.filterwarnings("ignore", message="AutoDateLocator was unable", category=UserWarning)
    back = Figure(figsize=FIGSIZE, dpi=72)
    back_ax = back.add_axes(AXES)
    back_ax.set_ylim(*YLIM)
    back_ax.set_yticks([0, 0.25, 0.5, 0.75, 1])
    back_ax.grid(axis="y", color="#d0d7de", linewidth=0.5)
    back_ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=6))
    back_ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    front = Figure(figsize=FIGSIZE, dpi=72)
    front.patch.set_visible(False)
    front_ax = front.add_axes(AXES)
    front_ax.set_axis_off()
    front_ax.patch.set_visible(False)
    front_ax.set_ylim(*YLIM)
    _STATE.update(back_ax=back_ax, back=FigureCanvasSVG(back), front_ax=front_ax, front=FigureCanvasSVG(front), Figure=Figure,
                  Canvas=FigureCanvasSVG)  # fmt: skip


FIGSIZE = (6.4, 2.0)
AXES = (0.07, 0.14, 0.91, 0.82)
YLIM = (-0.03, 1.03)


def _svg(canvas) -> str:
    buffer = io.StringIO()
    canvas.print_svg(buffer, metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]  # drop the XML prolog and doctype so it can sit inline in HTML
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)  # RDF boilerplate, no use inline
    return re.sub(r'(<svg[^>]*?) width="[^"]*" height="[^"]*"', r'\1 width="100%"', text, count=1)


_BACKGROUNDS: dict[tuple[str, str], str] = {}


def _background(start: dt.date, end: dt.date) -> str:
    """Axes, ticks, labels and grid for a date range: the same for every chart over that range."""
    key = (start.isoformat(), end.isoformat())
    if key not in _BACKGROUNDS:
        _STATE["back_ax"].set_xlim(start, end)
        _BACKGROUNDS[key] = _svg(_STATE["back"])
    return _BACKGROUNDS[key]


def _overlay(background: str, layer: str) -> str:
    # The layer has the background's viewBox, so a nested <svg> (default size 100%) lands exactly on
    # it. Its structural ids get a prefix; the ids it references (clip paths, markers) are content
    # hashes, so any it shares with the background name identical definitions.
    layer = re.sub(r'^<svg[^>]*?(viewBox="[^"]*")[^>]*>', r'<svg \1 overflow="visible">', layer, count=1)
    layer = re.sub(r'id="(figure|axes|patch|line2d)_', r'id="data-\1_', layer)
    cut = background.rindex("</svg>")
    return background[:cut] + layer + background[cut:]


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _one_per_week(points: list[tuple[dt.date, float]]) -> list[tuple[dt.date, float]]:
    """Markers of one direction in the same ISO week and at the same height are drawn once: at a
    chart's width a week is about three pixels, so the merged markers overlapped anyway."""
    seen, kept = set(), []
    for day, p in points:
        key = (day.isocalendar()[:2], round(p, 2))
        if key not in seen:
            seen.add(key)
            kept.append((day, p))
    return kept


def trajectory_svg(data: TrajectoryData) -> str:
    _setup()
    ax = _STATE["front_ax"]
    for artist in [*ax.lines, *ax.collections]:
        artist.remove()
    xs = [_day(d) for d, _ in data.steps] + [_day(data.end)]
    ys = [p for _, p in data.steps] + [data.steps[-1][1]]
    ax.step(xs, ys, where="post", color=LINE, linewidth=1.6)
    ax.axhline(data.prior, color=PRIOR, linestyle="--", linewidth=0.9)
    for direction in ("supports", "opposes", "neutral", "context"):
        points = _one_per_week([(_day(d), p) for d, p, kind in data.markers if kind == direction])
        if points:
            # a marker-styled line writes one <use> per point; scatter wrote a whole path per point
            xs, ys = [x for x, _ in points], [y for _, y in points]
            ax.plot(xs, ys, linestyle="none", marker=MARKERS[direction], markersize=5.5, color=COLOURS[direction], zorder=3)
    if data.resolution:
        ax.plot(
            [_day(data.resolution[0])],
            [data.resolution[1]],
            linestyle="none",
            marker="*",
            markersize=10,
            color=RESOLVED,
            zorder=4,
        )
    start, end = _day(data.start), _day(data.end) + dt.timedelta(days=2)
    ax.set_xlim(start, end)
    return _overlay(_background(start, end), _svg(_STATE["front"]))


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
