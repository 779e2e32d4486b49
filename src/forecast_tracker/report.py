"""Monthly scorecards: a typed context per month -> Jinja2 templates -> files written atomically."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import charts
from .errors import InputError
from .files import atomic_write
from .scorecard import STALE_DAYS, Dataset, month_end, previous_month, scores_as_of
from .updating import decibans, fires, icd203_term
from .validate import parse_month

if TYPE_CHECKING:
    from .api import Tracker


def month_range(first: str, last: str) -> list[str]:
    first, last = parse_month(first, "--from"), parse_month(last, "--to")
    if last < first:
        raise InputError(f"--to: {last} is before --from {first}")
    months, current = [], first
    while current <= last:
        months.append(current)
        year, mon = map(int, current.split("-"))
        current = f"{year + 1}-01" if mon == 12 else f"{year}-{mon + 1:02d}"
    if len(months) > 600:
        raise InputError("--from/--to: at most 600 months at once")
    return months


# -- the typed context ----------------------------------------------------------------------------
@dataclass
class EvidenceRow:
    """One observation dated in the month."""

    observation_id: int
    observed_on: str
    indicator: str
    description: str
    value: float | None
    source: str
    note: str
    direction: str  # supports | opposes | neutral | context
    likelihood_ratio: float | None
    decibans: float | None
    retracted: str | None


@dataclass
class UpdateRow:
    """One probability change dated in the month, with what caused it."""

    as_of: str
    probability: float
    previous: float
    method: str
    rationale: str
    indicator: str | None
    observation_id: int | None
    decibans: float | None
    forecaster: str


@dataclass
class PropositionCard:
    id: str
    statement: str
    question: str
    status: str
    prior: float
    prior_phrase: str
    probability: float
    change: float | None  # since the end of the previous month; None if it opened this month
    resolve_by: str
    days_to_resolve_by: int
    resolved_on: str | None
    chart_svg: str  # trusted: made by matplotlib from numbers only
    chart_file: str  # relative path of the same chart for Markdown
    evidence: list[EvidenceRow]
    updates: list[UpdateRow]
    fired: list[str]
    quiet: list[str]
    flags: list[str]


@dataclass
class ScoredRow:
    id: str
    outcome: str
    resolved_on: str
    prior: float
    final_probability: float | None
    brier: float | None
    brier_2: float | None
    log_loss: float | None
    time_averaged_brier: float | None
    baseline_score: float | None
    prior_brier: float | None


@dataclass
class TrackRecord:
    summary: dict[str, Any]
    scored: list[ScoredRow]
    calibration: list[dict[str, Any]]
    calibration_svg: str
    murphy: dict[str, float] | None
    diagnostics: list[dict[str, Any]]
    min_for_decomposition: int


@dataclass
class Scorecard:
    month: str
    as_of: str
    title: str
    source_titles: list[str]
    propositions: list[PropositionCard]
    resolved_this_month: list[ScoredRow]
    track: TrackRecord
    counts: dict[str, int] = field(default_factory=dict)
    legend: tuple[tuple[str, str, str], ...] = charts.LEGEND  # (colour, symbol, label) of the chart key


@dataclass
class IndexRow:
    month: str
    open: int
    resolved: int
    observations: int
    mean_brier: float | None
    skill_vs_prior: float | None
    has_html: bool
    has_md: bool


# -- building the context -------------------------------------------------------------------------
def _direction(ratio: float | None) -> str:
    if ratio is None or ratio == 1:
        return "neutral"
    return "supports" if ratio > 1 else "opposes"


def build_scorecard(data: Dataset, month: str) -> Scorecard:
    as_of = month_end(month)
    first = f"{month}-01"
    prev_end = month_end(previous_month(month))
    scores = scores_as_of(data, as_of)
    built = [_card(data, p, month, first, as_of, prev_end) for p in data.opened_by(as_of)]
    cards = [card for card, _ in built]
    for card, svg in zip(cards, _draw_charts([chart for _, chart in built]), strict=True):
        card.chart_svg = svg
    scored = [
        ScoredRow(**{k: _num(v) if k not in ("id", "outcome", "resolved_on") else v for k, v in row.items()})
        for row in scores.table.to_dict(orient="records")
    ]
    resolved_now = [s for s in scored if first <= s.resolved_on <= as_of]
    yes_no = [s for s in scored if s.outcome in ("yes", "no")]
    tracker_points = [
        (r["mean_forecast"], r["observed_frequency"], int(r["count"])) for r in scores.calibration.to_dict("records")
    ]
    from .scoring import MIN_FOR_DECOMPOSITION, calibration_table

    prior_cal = calibration_table([s.prior for s in yes_no], [1 if s.outcome == "yes" else 0 for s in yes_no])
    prior_points = [(r["mean_forecast"], r["observed_frequency"], int(r["count"])) for r in prior_cal.to_dict("records")]
    track = TrackRecord(
        summary=scores.summary,
        scored=scored,
        calibration=scores.calibration.to_dict("records"),
        calibration_svg=_trusted(
            charts.calibration_svg([("tracker (final)", tracker_points), ("commentary's prior", prior_points)])
        ),
        murphy=scores.murphy,
        diagnostics=scores.diagnostics,
        min_for_decomposition=MIN_FOR_DECOMPOSITION,
    )
    titles = sorted({p["source_title"] for p in data.opened_by(as_of) if p.get("source_title")})
    counts = {
        "open": sum(1 for c in cards if c.status == "open"),
        "resolved": sum(1 for c in cards if c.status != "open"),
        "observations": sum(len(c.evidence) for c in cards),
        "updates": sum(len(c.updates) for c in cards),
    }
    return Scorecard(month, as_of, f"Forecast scorecard, {_month_name(month)}", titles, cards, resolved_now, track, counts)


def _num(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else number


def _month_name(month: str) -> str:
    return dt.date.fromisoformat(month + "-01").strftime("%B %Y")


def _card(data: Dataset, p: dict[str, Any], month: str, first: str, as_of: str, prev_end: str):  # noqa: ANN202
    """One proposition's card for the month, and the data of its chart (drawn later, in one batch)."""
    resolution = data.resolution(p["id"], as_of)
    end = resolution["resolved_on"] if resolution else as_of
    path = data.trajectory(p, end)
    probability = path.at(end) if not resolution else path.before(end)
    change = None if p["opened"] > prev_end else probability - data.trajectory(p, prev_end).at(prev_end)
    indicators = {i["id"]: i for i in data.indicators_by_prop.get(p["id"], ())}
    live_obs = [o for o in data.observations_by_prop.get(p["id"], ()) if o["observed_on"] <= as_of]
    evidence = []
    for o in live_obs:
        if first <= o["observed_on"]:
            ratio = data.effective_ratio(o)
            evidence.append(
                EvidenceRow(
                    o["id"], o["observed_on"], o["indicator"], indicators[o["indicator"]]["description"], o["value"], o["source"],
                    o["note"] or "", _direction_of(data, p, o), ratio, decibans(ratio) if ratio else None, o["retracted"],
                )
            )  # fmt: skip
    ups = data.live_updates(p["id"], as_of)
    updates, standing = [], float(p["prior"])
    for u in ups:
        previous, standing = standing, float(u["probability"])
        if first <= u["as_of"]:
            ratio = u["likelihood_ratio"]
            updates.append(
                UpdateRow(
                    u["as_of"], standing, previous, u["method"], u["rationale"] or "", u["indicator"], u["observation_id"],
                    decibans(ratio) if ratio else None, u["forecaster"] or "",
                )
            )  # fmt: skip
    fired_ids = {
        o["indicator"]
        for o in live_obs
        if not o["retracted"]
        and o["observed_on"] >= p["opened"]
        and fires(indicators[o["indicator"]]["kind"], o["value"], indicators[o["indicator"]]["threshold"])
    }
    steps = tuple((start, prob) for start, _days, prob in path.segments(_next_day(end))) or ((p["opened"], float(p["prior"])),)
    markers = tuple(
        (max(o["observed_on"], p["opened"]), path.at(o["observed_on"]), _direction_of(data, p, o))
        for o in live_obs
        if not o["retracted"] and o["observed_on"] <= end
    )
    outcome_point = None
    if resolution and resolution["outcome"] != "annulled":
        outcome_point = (resolution["resolved_on"], 1.0 if resolution["outcome"] == "yes" else 0.0)
    chart = charts.TrajectoryData(p["opened"], end, float(p["prior"]), steps, markers, outcome_point)
    card = PropositionCard(
        id=p["id"],
        statement=p["statement"],
        question=p["question"],
        status=resolution["outcome"] if resolution else "open",
        prior=float(p["prior"]),
        prior_phrase=p["prior_phrase"] or "",
        probability=probability,
        change=change,
        resolve_by=p["resolve_by"],
        days_to_resolve_by=(dt.date.fromisoformat(p["resolve_by"]) - dt.date.fromisoformat(as_of)).days,
        resolved_on=resolution["resolved_on"] if resolution else None,
        chart_svg="",
        chart_file=f"charts/{month}-{p['id']}.svg",
        evidence=evidence,
        updates=updates,
        fired=sorted(fired_ids),
        quiet=sorted(set(indicators) - fired_ids),
        flags=_flags(p, resolution, ups, evidence, as_of),
    )
    return card, chart


def _direction_of(data: Dataset, p: dict[str, Any], observation: dict[str, Any]) -> str:
    if observation["observed_on"] < p["opened"]:
        return "context"
    return _direction(data.effective_ratio(observation))


def _next_day(day: str) -> str:
    return (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()


def _flags(p, resolution, ups, evidence, as_of) -> list[str]:  # noqa: ANN001
    flags = []
    if resolution is None:
        last = ups[-1]["as_of"] if ups else p["opened"]
        quiet_days = (dt.date.fromisoformat(as_of) - dt.date.fromisoformat(last)).days
        if quiet_days >= STALE_DAYS:
            flags.append(f"stale: no update for {quiet_days} days")
        if as_of > p["resolve_by"]:
            flags.append(f"past resolve_by ({p['resolve_by']}) but unresolved")
    caused = {u["observation_id"] for u in ups if u["observation_id"]}
    for e in evidence:
        if not e.retracted and e.direction in ("supports", "opposes") and e.observation_id not in caused:
            flags.append(f"signpost fired but probability unchanged: {e.indicator} on {e.observed_on}")
    return flags


_CHART_CACHE: dict[charts.TrajectoryData, str] = {}


def _draw_charts(datas: list[charts.TrajectoryData]) -> list[str]:
    """SVG for each chart. A chart whose data did not change (a resolved proposition, a quiet month,
    a month rendered again) is drawn once per process; the rest are drawn in one batch."""
    missing = list(dict.fromkeys(d for d in datas if d not in _CHART_CACHE))
    for data, svg in zip(missing, charts.trajectories_svg(missing), strict=True):
        _CHART_CACHE[data] = _trusted(svg)
    return [_CHART_CACHE[d] for d in datas]


def _trusted(svg: str) -> str:
    """SVG drawn by matplotlib from numbers only (no user text), so the HTML template inlines it as is."""
    import markupsafe

    return markupsafe.Markup(svg)


# -- templates ------------------------------------------------------------------------------------
def _environment(markdown: bool):  # noqa: ANN202
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("forecast_tracker", "templates"),
        autoescape=True,  # HTML-escaping is right for Markdown too: renderers pass entities through
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    return env


def _prob(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f} ({icd203_term(value)})"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def _change(value: float | None) -> str:
    if value is None:
        return "new"
    points = round(value * 100)
    return "±0 pts" if points == 0 else f"{points:+d} pts"


def _score(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _db(value: float | None) -> str:
    return "" if value is None else f"{value:+.1f} dB"


def _value(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:g}" if value != int(value) else f"{int(value):,}"


def _md(text: Any) -> str:
    """Text for a Markdown table cell or line: no line breaks, pipes and Markdown marks escaped."""
    import markupsafe

    raw = " ".join(str(text).split())
    for ch in "\\`*_[]#|!<>":
        raw = raw.replace(ch, "\\" + ch)
    return markupsafe.Markup(markupsafe.escape(raw))


FILTERS: dict[str, Callable[..., Any]] = {
    "prob": _prob,
    "pct": _pct,
    "change": _change,
    "score": _score,
    "db": _db,
    "value": _value,
    "md": _md,
}


# -- writing --------------------------------------------------------------------------------------
def render_reports(
    tracker: Tracker, months: list[str], out: Path, formats: tuple[str, ...], progress: Callable[[str], None] | None = None
) -> list[Path]:
    """Render each month's scorecard and refresh `index.html`. Every file is written atomically."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out: {out} is not a folder")
    data = Dataset.load(tracker)
    html_env = _environment(markdown=False) if "html" in formats else None
    md_env = _environment(markdown=True) if "md" in formats else None
    written: list[Path] = []
    index = _read_index(out)
    for month in months:
        card = build_scorecard(data, month)
        if html_env is not None:
            path = out / f"{month}.html"
            atomic_write(path, html_env.get_template("scorecard.html.j2").render(card=card))
            written.append(path)
        if md_env is not None:
            for p in card.propositions:
                atomic_write(out / p.chart_file, p.chart_svg)
            atomic_write(out / "charts" / f"{month}-calibration.svg", card.track.calibration_svg)
            path = out / f"{month}.md"
            atomic_write(path, md_env.get_template("scorecard.md.j2").render(card=card))
            written.append(path)
        summary = card.track.summary
        index[month] = asdict(
            IndexRow(
                month,
                card.counts["open"],
                card.counts["resolved"],
                card.counts["observations"],
                summary["mean_brier"],
                summary["skill_vs_prior"],
                (out / f"{month}.html").exists(),
                (out / f"{month}.md").exists(),
            )
        )
        if progress is not None:
            progress(month)
    rows = [IndexRow(**index[m]) for m in sorted(index, reverse=True)]
    atomic_write(out / "index.json", json.dumps(index, indent=2, sort_keys=True) + "\n")
    index_env = html_env or _environment(markdown=False)
    atomic_write(out / "index.html", index_env.get_template("index.html.j2").render(rows=rows))
    written.append(out / "index.html")
    return written


def _read_index(out: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads((out / "index.json").read_text(encoding="utf-8"))
        return {m: row for m, row in data.items() if set(row) == set(IndexRow.__dataclass_fields__)}
    except (OSError, ValueError, AttributeError):
        return {}
