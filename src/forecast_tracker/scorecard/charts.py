"""Charts as small, deterministic inline SVG, written directly from the numbers.

A trajectory chart is a probability axis (0 to 1), a date axis with month (or, for short ranges,
day) ticks, the standing probability as a step line, the prior as a dashed line, one marker per
observation and a star for the resolution. Writing the SVG ourselves (rather than through a plotting
library) makes a chart a few kilobytes, draws it in well under a millisecond, and gives the same
bytes for the same data on every machine and library version, which is what lets the published
record in reports/ be checked byte for byte. The legend is drawn once per page (`LEGEND`). No user
text is drawn into a chart: ids and statements appear in the page around it, escaped there.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

COLOURS = {"supports": "#1a7f37", "opposes": "#cf222e", "neutral": "#6e7781", "context": "#8c959f"}
LINE = "#0969da"
PRIOR = "#8250df"
RESOLVED = "#bf8700"
GRID = "#d0d7de"
INK = "#24292f"
# (colour, symbol, label) for the one key a page shows above its charts
LEGEND = (
    (LINE, "━", "standing probability"),
    (PRIOR, "┅", "prior (the commentary's, or the analyst's)"),
    (COLOURS["supports"], "▲", "observation supporting YES"),
    (COLOURS["opposes"], "▼", "observation against"),
    (COLOURS["neutral"], "●", "neutral or context"),
    (RESOLVED, "★", "resolution"),
)

WIDTH, HEIGHT = 460, 144
LEFT, RIGHT, TOP, BOTTOM = 34.0, 452.0, 6.0, 124.0
Y_LOW, Y_HIGH = -0.03, 1.03  # a little room so markers at 0 and 1 are not cut in half
FONT = 'font-family="sans-serif" font-size="8"'
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MAX_TICKS = 6


@dataclass(frozen=True)
class TrajectoryData:
    """Everything one trajectory chart draws; equal data gives a byte-identical SVG."""

    start: str
    end: str
    prior: float
    steps: tuple[tuple[str, float], ...]  # (date, probability) change points from `start`
    markers: tuple[tuple[str, float, str], ...]  # (date, probability, direction)
    resolution: tuple[str, float] | None  # (date, 1.0 or 0.0)


def _n(value: float) -> str:
    """A coordinate with one decimal and no trailing zero: short, and the same on every platform."""
    return f"{value:.1f}".removesuffix(".0")


def _y(p: float, top: float = TOP, bottom: float = BOTTOM) -> float:
    return bottom - (p - Y_LOW) / (Y_HIGH - Y_LOW) * (bottom - top)


class _Dates:
    """The date axis of one chart: a date to an x coordinate, and the ticks worth labelling."""

    def __init__(self, start: dt.date, end: dt.date):
        self.start, self.days = start, max((end - start).days, 1)
        self.end = end

    def x(self, day: dt.date) -> float:
        return LEFT + (day - self.start).days / self.days * (RIGHT - LEFT)

    def ticks(self) -> list[tuple[dt.date, str]]:
        """Month starts at a step of 1, 2, 3, 6, 12... months (at most six ticks); days for short ranges."""
        months = []
        day = dt.date(self.start.year, self.start.month, 1)
        while day <= self.end:
            if day >= self.start:
                months.append(day)
            day = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
        if len(months) >= 2:
            step = next(s for s in (1, 2, 3, 6, 12, 24, 60, 120, 10**6) if len(months[::s]) <= MAX_TICKS or s == 10**6)
            aligned = [m for m in months if (m.year * 12 + m.month - 1) % step == 0] or months[::step]
            return [(m, f"{MONTHS[m.month - 1]} {m.year}") for m in aligned[:MAX_TICKS]]
        step = next(s for s in (1, 2, 5, 7, 14, 28) if self.days // s + 1 <= MAX_TICKS)
        days = [self.start + dt.timedelta(days=k) for k in range(0, self.days + 1, step)]
        return [(d, f"{d.day} {MONTHS[d.month - 1]}") for d in days]


SHARED_ID = "ft-background"


def _background() -> str:
    """What every trajectory chart has in common: the probability grid, the axes and their labels."""
    parts = [f'<g stroke="{GRID}" stroke-width="0.5">']
    for p in (0, 0.25, 0.5, 0.75, 1):
        parts.append(f'<path d="M{_n(LEFT)} {_n(_y(p))}H{_n(RIGHT)}"/>')
    parts.append("</g>")
    parts.append(f'<path d="M{_n(LEFT)} {_n(TOP)}V{_n(BOTTOM)}H{_n(RIGHT)}" stroke="{INK}" stroke-width="0.8" fill="none"/>')
    parts.append(f'<g {FONT} fill="{INK}">')
    for p, label in ((0, "0"), (0.25, "0.25"), (0.5, "0.5"), (0.75, "0.75"), (1, "1")):
        parts.append(f'<text x="{_n(LEFT - 4)}" y="{_n(_y(p) + 3)}" text-anchor="end">{label}</text>')
    parts.append("</g>")
    return "".join(parts)


# Defined once per HTML page (hidden), used by each chart on it: a page of a thousand charts carries
# the background once instead of a thousand times. Charts saved as files carry their own.
SHARED_DEFS = (
    f'<svg xmlns="http://www.w3.org/2000/svg" width="0" height="0" style="position:absolute" aria-hidden="true">'
    f'<defs><g id="{SHARED_ID}">{_background()}</g></defs></svg>'
)


_USE_SHARED = f'<use href="#{SHARED_ID}"/>'
_BACKGROUND = _background()


def unshared(svg: str) -> str:
    """A chart drawn with `shared=True` as a self-contained SVG (for a file): the background drawn in."""
    return svg.replace(_USE_SHARED, _BACKGROUND, 1)


def _axes(dates: _Dates, shared: bool = False) -> list[str]:
    parts = [_USE_SHARED if shared else _BACKGROUND, f'<g {FONT} fill="{INK}">']
    ticks = []
    for day, label in dates.ticks():
        x = dates.x(day)
        half = len(label) * 2.3  # about half the label's width at this font size
        anchor = "start" if x - half < 0 else "end" if x + half > WIDTH else "middle"
        ticks.append(f'<path d="M{_n(x)} {_n(BOTTOM)}v3" stroke="{INK}" stroke-width="0.8"/>')
        parts.append(f'<text x="{_n(x)}" y="{_n(BOTTOM + 12)}" text-anchor="{anchor}">{label}</text>')
    parts.append("</g>")
    return parts + ticks


def _marker_path(kind: str, x: float, y: float) -> str:
    if kind == "supports":
        return f"M{_n(x)} {_n(y - 3.3)}l2.9 5h-5.8z"
    if kind == "opposes":
        return f"M{_n(x)} {_n(y + 3.3)}l2.9-5h-5.8z"
    return f"M{_n(x - 2.6)} {_n(y)}a2.6 2.6 0 1 0 5.2 0a2.6 2.6 0 1 0-5.2 0"


def _star(x: float, y: float, outer: float = 5.5, inner: float = 2.3) -> str:
    points = []
    for k in range(10):
        radius = outer if k % 2 == 0 else inner
        angle = math.pi / 2 + k * math.pi / 5
        points.append(f"{_n(x + radius * math.cos(angle))} {_n(y - radius * math.sin(angle))}")
    return "M" + "L".join(points) + "z"


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


def trajectory_svg(data: TrajectoryData, shared: bool = False) -> str:
    """The chart as SVG; `shared` refers to the page's SHARED_DEFS for the background instead of drawing it."""
    day = dt.date.fromisoformat
    dates = _Dates(day(data.start), day(data.end) + dt.timedelta(days=2))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 {WIDTH} {HEIGHT}">', *_axes(dates, shared)]
    prior_y = _n(_y(data.prior))
    parts.append(
        f'<path d="M{_n(LEFT)} {prior_y}H{_n(RIGHT)}" stroke="{PRIOR}" stroke-width="0.9" stroke-dasharray="4 2" fill="none"/>'
    )
    line = [f"M{_n(dates.x(day(data.steps[0][0])))} {_n(_y(data.steps[0][1]))}"]
    for when, p in data.steps[1:]:
        line.append(f"H{_n(dates.x(day(when)))}V{_n(_y(p))}")
    line.append(f"H{_n(dates.x(day(data.end)))}")
    parts.append(f'<path d="{"".join(line)}" stroke="{LINE}" stroke-width="1.6" fill="none" stroke-linejoin="round"/>')
    for direction in ("supports", "opposes", "neutral", "context"):
        points = _one_per_week([(day(d), p) for d, p, kind in data.markers if kind == direction])
        if points:
            d = "".join(_marker_path(direction, dates.x(when), _y(p)) for when, p in points)
            parts.append(f'<path d="{d}" fill="{COLOURS[direction]}"/>')
    if data.resolution:
        parts.append(f'<path d="{_star(dates.x(day(data.resolution[0])), _y(data.resolution[1]))}" fill="{RESOLVED}"/>')
    parts.append("</svg>")
    return "".join(parts)


def calibration_svg(series: Sequence[tuple[str, Sequence[tuple[float, float, int]]]]) -> str:
    """Observed frequency against mean forecast per bin, one series per forecaster (point area grows with count)."""
    width, height = 230, 216
    left, right, top, bottom = 36.0, 222.0, 8.0, 180.0

    def x(p: float) -> float:
        return left + p * (right - left)

    def y(p: float) -> float:
        return _y(p, top, bottom)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 {width} {height}">']
    parts.append(f'<g stroke="{GRID}" stroke-width="0.5">')
    for p in (0, 0.25, 0.5, 0.75, 1):
        parts.append(f'<path d="M{_n(left)} {_n(y(p))}H{_n(right)}"/>')
    parts.append("</g>")
    parts.append(f'<path d="M{_n(left)} {_n(top)}V{_n(bottom)}H{_n(right)}" stroke="{INK}" stroke-width="0.8" fill="none"/>')
    parts.append(
        f'<path d="M{_n(x(0))} {_n(y(0))}L{_n(x(1))} {_n(y(1))}" stroke="#8c959f" stroke-width="0.8" stroke-dasharray="1 2"/>'
    )
    parts.append(f'<g {FONT} fill="{INK}">')
    for p, label in ((0, "0"), (0.25, "0.25"), (0.5, "0.5"), (0.75, "0.75"), (1, "1")):
        parts.append(f'<text x="{_n(left - 4)}" y="{_n(y(p) + 3)}" text-anchor="end">{label}</text>')
        parts.append(f'<text x="{_n(x(p))}" y="{_n(bottom + 11)}" text-anchor="middle">{label}</text>')
    parts.append(f'<text x="{_n((left + right) / 2)}" y="{_n(bottom + 24)}" text-anchor="middle">forecast probability</text>')
    mid = _n((top + bottom) / 2)
    parts.append(f'<text x="10" y="{mid}" text-anchor="middle" transform="rotate(-90 10 {mid})">observed frequency</text>')
    # the key sits bottom right, below the diagonal, where calibrated points are rarest
    legend_x, legend_y = right - 96, bottom - 18
    for (label, _points), colour, square in zip(series, (LINE, PRIOR), (False, True), strict=False):
        marker = (
            f'<rect x="{_n(legend_x)}" y="{_n(legend_y - 6)}" width="6" height="6"'
            if square
            else (f'<circle cx="{_n(legend_x + 3)}" cy="{_n(legend_y - 3)}" r="3"')
        )
        parts.append(f'{marker} fill="{colour}" fill-opacity="0.8"/>')
        parts.append(f'<text x="{_n(legend_x + 10)}" y="{_n(legend_y)}">{escape(label)}</text>')
        legend_y += 11
    parts.append("</g>")
    for (_label, points), colour, square in zip(series, (LINE, PRIOR), (False, True), strict=False):
        shapes = []
        for forecast, observed, count in points:
            r = math.sqrt(20 + 12 * count) / 2  # the area grows with the number of forecasts in the bin
            cx, cy = x(forecast), y(observed)
            if square:
                shapes.append(f"M{_n(cx - r)} {_n(cy - r)}h{_n(2 * r)}v{_n(2 * r)}h{_n(-2 * r)}z")
            else:
                shapes.append(f"M{_n(cx - r)} {_n(cy)}a{_n(r)} {_n(r)} 0 1 0 {_n(2 * r)} 0a{_n(r)} {_n(r)} 0 1 0 {_n(-2 * r)} 0")
        if shapes:
            parts.append(f'<path d="{"".join(shapes)}" fill="{colour}" fill-opacity="0.8"/>')
    parts.append("</svg>")
    return "".join(parts)
