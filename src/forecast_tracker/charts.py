"""Charts as deterministic inline SVG, drawn with matplotlib (imported only when a report renders).

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


@dataclass(frozen=True)
class TrajectoryData:
    """Everything one trajectory chart draws; equal data gives a byte-identical SVG."""

    start: str
    end: str
    prior: float
    steps: tuple[tuple[str, float], ...]  # (date, probability) change points from `start`
    markers: tuple[tuple[str, float, str], ...]  # (date, probability, direction)
    resolution: tuple[str, float] | None  # (date, 1.0 or 0.0)


def _setup():  # noqa: ANN202
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
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    return Figure, FigureCanvasSVG


def _svg(fig, canvas_cls) -> str:  # noqa: ANN001
    buffer = io.StringIO()
    canvas_cls(fig).print_svg(buffer, metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]  # drop the XML prolog and doctype so it can sit inline in HTML
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)  # RDF boilerplate, no use inline
    return re.sub(r'(<svg[^>]*?) width="[^"]*" height="[^"]*"', r'\1 width="100%"', text, count=1)


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def trajectory_svg(data: TrajectoryData) -> str:
    Figure, Canvas = _setup()
    import matplotlib.dates as mdates

    fig = Figure(figsize=(6.4, 2.1), dpi=72)
    ax = fig.add_axes((0.08, 0.17, 0.9, 0.78))
    xs = [_day(d) for d, _ in data.steps] + [_day(data.end)]
    ys = [p for _, p in data.steps] + [data.steps[-1][1]]
    ax.step(xs, ys, where="post", color="#0969da", linewidth=1.6, label="standing probability")
    ax.axhline(data.prior, color="#8250df", linestyle="--", linewidth=0.9, label="commentary's prior")
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
                label=f"observation ({direction})",
            )
    if data.resolution:
        ax.scatter(
            [_day(data.resolution[0])], [data.resolution[1]], marker="*", s=90, color="#bf8700", zorder=4, label="resolved"
        )
    ax.set_ylim(-0.03, 1.03)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1])
    ax.set_xlim(_day(data.start), _day(data.end) + dt.timedelta(days=2))
    locator = mdates.AutoDateLocator(minticks=3, maxticks=7)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.grid(axis="y", color="#d0d7de", linewidth=0.5)
    ax.legend(loc="upper left", fontsize=6, frameon=False, ncols=3)
    return _svg(fig, Canvas)


def calibration_svg(series: Sequence[tuple[str, Sequence[tuple[float, float, int]]]]) -> str:
    """Observed frequency against mean forecast per bin, one series per forecaster (point size = count)."""
    Figure, Canvas = _setup()
    fig = Figure(figsize=(3.2, 3.0), dpi=72)
    ax = fig.add_axes((0.16, 0.14, 0.8, 0.8))
    ax.plot([0, 1], [0, 1], color="#8c959f", linewidth=0.8, linestyle=":", label="perfect calibration")
    for (label, points), colour, marker in zip(series, ("#0969da", "#8250df"), ("o", "s"), strict=False):
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
    return _svg(fig, Canvas)
