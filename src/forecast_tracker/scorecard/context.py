"""The typed context a scorecard template receives (one dataclass per thing shown), built from the
point-in-time dataset. No formatting here: that is the filters' job."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .. import dates, scoring
from ..evidence import MODEL, Link, decay_sentence, pool_of
from ..probability import decibans, direction, odds
from ..records import IndicatorRow, ObservationRow, PropositionRow
from . import charts, review
from .dataset import Dataset
from .scores import ScoreParts, combine, score_parts


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
    decibans: float | None  # the weight its signpost states
    retracted: str | None
    counted: float | None = None  # the weight the chain counted (repeats, groups); None: it counts for nothing


@dataclass
class UpdateRow:
    """One link of the chain dated in the month: a judgement, an observation's counted ratio, or decay."""

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
    chart_svg: str  # trusted: written by scorecard.charts from numbers only; self-contained (a file for Markdown)
    chart_file: str  # relative path of the same chart for Markdown
    evidence: list[EvidenceRow]
    updates: list[UpdateRow]
    fired: list[str]
    quiet: list[str]
    flags: list[str]
    spread: tuple[float, float] | None = None  # lowest and highest forecaster, when several count
    pool: str | None = None  # how the forecasters pool into the number shown (None: one track, nothing pooled)
    chart_inline: str = ""  # the same chart for an HTML page that carries charts.SHARED_DEFS
    members: dict[str, float] = field(default_factory=dict)  # each counted forecaster's probability
    restated: list[Restated] = field(default_factory=list)  # changes on the record that moved its past numbers
    crowd: dict[str, float] = field(default_factory=dict)  # each benchmark's number (beside the team, never in it)
    origin: str = "commentary"  # whose prior it is: the commentary's, or an analyst's (`origin: analyst`)
    resolution_source: str = ""  # where the outcome in force was seen, and its note
    resolution_note: str = ""


@dataclass(frozen=True)
class Restated:
    """A restatement on the record: a published number of this proposition changed, and why."""

    proposition: str
    subject: str
    key: str
    old: str
    new: str
    effective: str | None
    reason: str
    recorded_on: str


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
    prior_time_averaged_brier: float | None
    origin: str
    early_yes: bool = False  # resolved yes before resolve_by (a "by D" question's calibration leans yes)


SCORED_FIELDS = frozenset(ScoredRow.__dataclass_fields__)


@dataclass
class TrackRecord:
    summary: dict[str, Any]
    scored: list[ScoredRow]
    calibration: list[dict[str, Any]]
    calibration_svg: str
    murphy: dict[str, float] | None
    diagnostics: list[dict[str, Any]]
    min_for_decomposition: int
    forecasters: list[dict[str, Any]] = field(default_factory=list)  # side by side, against the team
    calibration_time_weighted: list[dict[str, Any]] = field(default_factory=list)  # the headline's days, 1/L each
    murphy_time_weighted: dict[str, float] | None = None
    discrimination: dict[str, Any] = field(default_factory=dict)
    breakdowns: list[tuple[str, dict[str, dict[str, Any]]]] = field(default_factory=list)  # (by what, {group: summary})
    pool: str = "median"
    early_yes: int = 0  # how many resolved yes before resolve_by (marked in the table)


@dataclass
class Move:
    """A proposition whose probability moved this month, and the step that moved it most."""

    id: str
    statement: str
    before: float
    after: float
    reason: str  # the rationale of the month's largest step
    method: str


@dataclass
class Fired:
    """A signpost that fired this month and was applied as evidence."""

    observed_on: str
    indicator: str
    proposition: str
    direction: str


@dataclass
class ThisMonth:
    """The first screen: what moved and why, what fired, what resolved, what needs a look."""

    moves: list[Move]
    fired: list[Fired]
    needs_look: list[review.Item]


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
    this_month: ThisMonth | None = None
    to_date: bool = False  # the current month, shown as of today
    compact: list[PropositionCard] = field(default_factory=list)  # beyond FULL_CARDS: one row each, linked
    restated: list[Restated] = field(default_factory=list)  # every restatement of its propositions on record
    shared_defs: str = ""  # the charts' shared background, defined once on the page
    matrix: list[MatrixRow] = field(default_factory=list)  # each signpost counted for several propositions
    matrix_columns: list[str] = field(default_factory=list)  # the propositions those rows count for


@dataclass(frozen=True)
class MatrixRow:
    """One signpost that bears on several propositions: the decibans it counted in each chain so far."""

    signpost: str
    cells: dict[str, float]  # proposition -> counted decibans


@dataclass
class PropositionPage:
    """One proposition's whole record on one page, linked from every month."""

    title: str
    as_of: str
    card: PropositionCard
    months: list[str]  # the months whose scorecards show it
    shared_defs: str
    legend: tuple[tuple[str, str, str], ...] = charts.LEGEND


# -- building the context -------------------------------------------------------------------------
MOVES_SHOWN = 5
MOVED_FROM = 0.05  # a change of at least five points is a move worth a line in "This month"


def build_scorecard(data: Dataset, month: str, today: str | None = None) -> Scorecard:
    """Month M's scorecard of the propositions in `data` (see `MonthBuilder`)."""
    builder = MonthBuilder(month, today)
    builder.add(data)
    return builder.finish()


@dataclass
class _Entry:
    """A card while the month is being built, with the key that orders it."""

    key: tuple
    card: PropositionCard


class MonthBuilder:
    """Month M's scorecard as of its last day (the current month, `today` within it, as of today),
    built one batch of propositions at a time (`add`), so only the month's summaries and the cards
    shown in full stay in memory: what matters first (moved most this month, then due soonest; those
    resolved before the month last) is kept in full, charts drawn, up to FULL_CARDS; the rest become
    one-line rows."""

    def __init__(self, month: str, today: str | None = None):
        as_of = dates.month_end(month)
        self.month = month
        self.by: str | None = None  # whose forecasts: the datasets say (`Dataset.by`)
        self.to_date = today is not None and today[:7] == month and today < as_of
        self.as_of = today if self.to_date and today is not None else as_of
        self.first = f"{month}-01"
        self.prev_end = dates.month_end(dates.previous_month(month))
        self.parts: list[ScoreParts] = []
        self.needs: list[review.Item] = []
        self.full: list[_Entry] = []
        self.compact: list[_Entry] = []
        self.moves: list[Move] = []
        self.fired: list[Fired] = []
        self.counts = {"open": 0, "resolved": 0, "observations": 0, "updates": 0}
        self.restated: list[Restated] = []
        self.titles: set[str] = set()
        self.counted: dict[str, dict[str, float]] = {}  # signpost -> proposition -> decibans (the matrix)

    def add(self, data: Dataset) -> None:
        """Everything the month needs from `data`'s propositions."""
        self.by = data.by
        self.parts.append(score_parts(data, self.as_of))
        needs = review.review(data, self.as_of)  # once: the cards' flags and "Needs a look" are the same items
        self.needs += needs
        flags: dict[str, list[str]] = {}
        for item in needs:
            flags.setdefault(item.proposition, []).append(item.flag)
        new = []
        for p in data.opened_by(self.as_of):
            self._count(data, p)
            card = _card(data, p, self.month, self.first, self.as_of, self.prev_end, flags.get(p.id, []))
            self._summarise(card)
            if p.source_title:
                self.titles.add(p.source_title)
            resolved_before = card.resolved_on is not None and card.resolved_on < self.first
            new.append(_Entry((resolved_before, -abs(card.change or 0.0), card.days_to_resolve_by, card.id), card))
        ranked = sorted(self.full + new, key=lambda e: e.key)
        self.full, demoted = ranked[:FULL_CARDS], ranked[FULL_CARDS:]
        for entry in self.full:  # the compact rows carry no chart: their own pages do
            if not entry.card.chart_inline:  # drawn in an earlier batch, if it entered the top then
                _draw(entry.card, chart_data(data, data.by_id[entry.card.id], self.as_of))
        for entry in demoted:  # a row shows no evidence or steps: drop them
            entry.card.evidence, entry.card.updates, entry.card.chart_svg, entry.card.chart_inline = [], [], "", ""
        self.compact += demoted

    def _count(self, data: Dataset, p: PropositionRow) -> None:
        """Each signpost's counted decibans in `p`'s chain so far, under its source's id (`bears_on`
        entries under the signpost they share), for the matrix: merged across batches by key."""
        resolution = data.resolution(p.id, self.as_of)
        for link in data.tracks[p.id].links_until(dates.previous_day(resolution.resolved_on) if resolution else self.as_of):
            if link.method == "indicator" and link.indicator and link.decibans is not None:
                ind = data.indicators.get(link.indicator)
                source = (ind.bears_of if ind is not None else None) or link.indicator
                row = self.counted.setdefault(source, {})
                row[p.id] = row.get(p.id, 0.0) + link.decibans

    def _summarise(self, card: PropositionCard) -> None:
        """What the month's header and "This month" need from a card, before it may become a row."""
        self.counts["open" if card.status == "open" else "resolved"] += 1
        self.restated += card.restated
        self.counts["observations"] += len(card.evidence)
        self.counts["updates"] += sum(1 for u in card.updates if u.method == "manual")
        if (move := _move(card, self.first)) is not None:
            self.moves.append(move)
        self.fired += [
            Fired(e.observed_on, e.indicator, card.id, e.direction)
            for e in card.evidence
            if not e.retracted and e.direction in ("supports", "opposes")
        ]

    def finish(self) -> Scorecard:
        scores = combine(self.as_of, self.parts)
        texts = ("id", "outcome", "resolved_on", "origin", "early_yes")
        scored = [
            ScoredRow(**{str(k): v if k in texts else _num(v) for k, v in row.items() if k in SCORED_FIELDS})  # type: ignore[arg-type]
            for row in scores.rows
        ]
        resolved_now = [s for s in scored if self.first <= s.resolved_on <= self.as_of]
        yes_no = [s for s in scored if s.outcome in ("yes", "no")]
        tracker_points = [(r["mean_forecast"], r["observed_frequency"], int(r["count"])) for r in scores.calibration_rows]
        prior_cal = scoring.calibration_rows([s.prior for s in yes_no], [1 if s.outcome == "yes" else 0 for s in yes_no])
        prior_points = [(r["mean_forecast"], r["observed_frequency"], int(r["count"])) for r in prior_cal]
        track = TrackRecord(
            summary=scores.summary,
            scored=scored,
            calibration=scores.calibration_rows,
            calibration_svg=_trusted(
                charts.calibration_svg([("tracker (final)", tracker_points), ("commentary's prior", prior_points)])
            ),
            murphy=scores.murphy,
            diagnostics=scores.diagnostics,
            min_for_decomposition=scoring.MIN_FOR_DECOMPOSITION,
            forecasters=scores.forecasters,
            calibration_time_weighted=scores.calibration_time_weighted,
            murphy_time_weighted=scores.murphy_time_weighted,
            discrimination=scores.discrimination,
            breakdowns=[("tag", scores.by_tag), ("horizon", scores.by_horizon), ("year resolved", scores.by_year)],
            pool=scores.pool,
            early_yes=sum(1 for s in yes_no if s.early_yes),
        )
        whose = f" ({self.by}'s forecasts)" if self.by else ""
        title = f"Forecast scorecard, {dates.month_name(self.month)}{' (to date)' if self.to_date else ''}{whose}"
        cards = [e.card for e in self.full]
        card = Scorecard(self.month, self.as_of, title, sorted(self.titles), cards, resolved_now, track, dict(self.counts),
                         to_date=self.to_date)  # fmt: skip
        card.compact = [e.card for e in sorted(self.compact, key=lambda e: e.key)]
        card.restated = sorted(self.restated, key=lambda r: (r.recorded_on, r.proposition, r.subject, r.key))
        card.shared_defs = _trusted(charts.SHARED_DEFS)
        moves = sorted(self.moves, key=lambda m: -abs(m.after - m.before))[:MOVES_SHOWN]
        fired = sorted(self.fired, key=lambda f: (f.observed_on, f.indicator))
        card.this_month = ThisMonth(moves, fired, review.ordered(self.needs))
        card.matrix = [MatrixRow(s, dict(sorted(cells.items()))) for s, cells in sorted(self.counted.items()) if len(cells) > 1]
        card.matrix_columns = sorted({pid for row in card.matrix for pid in row.cells})
        return card


# The Markdown files' charts share one folder. A slug holds no dot, so a dotted suffix keeps the
# three kinds apart: before, proposition `2024-05-x`'s page chart (`charts/2024-05-x.svg`) was month
# 2024-05's chart of proposition `x`, and a proposition named `calibration` overwrote the month's
# calibration chart.
def month_chart(month: str, proposition_id: str) -> str:
    return f"charts/{month}-{proposition_id}.svg"


def page_chart(proposition_id: str) -> str:
    return f"charts/{proposition_id}.page.svg"


def calibration_chart(month: str) -> str:
    return f"charts/{month}.calibration.svg"


def build_proposition_page(data: Dataset, p: PropositionRow, as_of: str, months: list[str]) -> PropositionPage:
    """One proposition's whole record as of `as_of`: every observation since before it opened, every
    link of its chain, its whole trajectory."""
    prev_end = dates.month_end(dates.previous_month(as_of[:7]))
    card = _card(data, p, "all", "0001-01-01", as_of, prev_end)
    card.chart_file = page_chart(p.id)
    _draw(card, chart_data(data, p, as_of))
    shown = [m for m in months if dates.month_end(m) >= p.opened]
    return PropositionPage(f"{p.statement} ({p.id})", as_of, card, shown, _trusted(charts.SHARED_DEFS))


def _move(c: PropositionCard, first: str) -> Move | None:
    """The card's line under "Biggest moves", if it moved by MOVED_FROM or more this month (from its
    prior, in the month it opened)."""
    if c.resolved_on is not None and c.resolved_on < first:
        return None
    change = c.change if c.change is not None else c.probability - c.prior  # None: it opened this month
    if abs(change) < MOVED_FROM:
        return None
    steps = [u for u in c.updates if u.method != "decay"] or c.updates
    biggest = max(steps, key=lambda u: abs(u.probability - u.previous)) if steps else None
    reason = biggest.rationale if biggest else "time passing with no decisive news (decay)"
    return Move(c.id, c.question, c.probability - change, c.probability, reason, biggest.method if biggest else "decay")


def _num(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else number


def _card(data: Dataset, p: PropositionRow, month: str, first: str, as_of: str, prev_end: str, flags: list[str] | None = None):
    """One proposition's card for the month, its chart not yet drawn (`_draw`). `flags`: what needs a
    look, when the caller has already asked `review` (else it is asked here)."""
    resolution = data.resolution(p.id, as_of)
    end = resolution.resolved_on if resolution else as_of
    track = data.tracks[p.id]
    probability = data.shown(p.id, as_of)
    resolved_before = resolution is not None and resolution.resolved_on < first
    change = None if p.opened > prev_end or resolved_before else probability - data.shown(p.id, prev_end)
    indicators = {i.id: i for i in data.indicators_by_prop.get(p.id, ())}
    live_obs = [o for o in data.observations_by_prop.get(p.id, ()) if o.observed_on <= as_of]
    links = track.links_until(dates.previous_day(end) if resolution else end)
    counted = {link.observation_id: link.decibans for link in links if link.method == "indicator"}
    evidence = _evidence_rows(data, p, indicators, [o for o in live_obs if first <= o.observed_on], counted)
    fired_ids = {  # fired, and counted for something: a repeat or a group member that added nothing is not listed
        o.indicator_id
        for o in live_obs
        if not o.retraction and o.id in data.applied and o.observed_on >= p.opened and data.signal(o)[0]
        and abs(counted.get(o.id) or 0.0) > 1e-9
    }
    card = PropositionCard(
        id=p.id,
        statement=p.statement,
        question=p.question,
        status=resolution.outcome if resolution else "open",
        prior=float(p.prior),
        prior_phrase=p.prior_phrase or "",
        origin=p.origin,
        resolution_source=resolution.source if resolution else "",
        resolution_note=resolution.note if resolution else "",
        probability=probability,
        change=change,
        resolve_by=p.resolve_by,
        days_to_resolve_by=dates.days_between(as_of, p.resolve_by),
        resolved_on=resolution.resolved_on if resolution else None,
        chart_svg="",
        chart_file=month_chart(month, p.id),
        evidence=evidence,
        updates=_update_rows(links, first, prev_end, track),
        fired=sorted(fired_ids),
        quiet=sorted(set(indicators) - fired_ids),
        flags=flags if flags is not None else [item.flag for item in review.items_for(data, p, as_of)],
    )
    shown_on = dates.previous_day(end) if resolution else as_of  # who stands where, and how far apart
    card.members = {name: p for name, p in track.members(shown_on).items() if name != MODEL}
    card.spread = track.spread(shown_on)
    card.pool = pool_of(track, shown_on)
    card.crowd = {name: t.at(shown_on) for name, t in data.benchmarks.get(p.id, {}).items() if t.joined and t.joined <= shown_on}
    card.restated = [
        Restated(r.proposition_id, r.subject, r.key, _short(r.old), _short(r.new), r.effective, r.reason, r.recorded_at[:10])
        for r in data.restatements_by_prop.get(p.id, ())
    ]
    return card


def _short(text: str, limit: int = 80) -> str:
    """A restated value in one line of at most `limit` characters."""
    line = " ".join(text.split()) or "(none)"
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _evidence_rows(
    data: Dataset, p: PropositionRow, indicators: dict[str, IndicatorRow], observations: list[ObservationRow],
    counted: dict[int | None, float | None],
) -> list[EvidenceRow]:  # fmt: skip
    """The observations in date order (then entry order), each with the weight its signpost states
    and the weight the chain counted for it."""
    rows = []
    for o in sorted(observations, key=lambda o: (o.observed_on, o.id)):
        ratio = data.signal(o)[1]
        applied = o.id in data.applied
        rows.append(
            EvidenceRow(
                o.id, o.observed_on, o.indicator_id, indicators[o.indicator_id].description, o.value, o.source,
                o.note or "", _row_direction(data, p, o, counted.get(o.id) if applied else None), ratio,
                decibans(ratio) if ratio else None, o.retraction, counted.get(o.id) if applied and not o.retraction else None,
            )
        )  # fmt: skip
    return rows


def _row_direction(data: Dataset, p: PropositionRow, o: ObservationRow, counted_db: float | None) -> str:
    """Which way an observation's row points: as the chain counted it (a firing that added nothing, a
    repeat or a weaker member of its group, is neutral), as its signpost says when the chain holds no
    weight for it (retracted, or context), or "not applied"."""
    if o.retraction is None and counted_db is not None:
        return direction(10 ** (counted_db / 10))
    return _direction_of(data, p, o) if o.id in data.applied or o.retraction else "not applied"


def _update_rows(links: list[Link], first: str, prev_end: str, track: Any) -> list[UpdateRow]:
    """The chain's links dated from `first` on. A decay link that began before `first` (a quiet spell
    running into the period) shows only the decay within the period: from the value on `prev_end`."""
    rows = []
    for link in links:
        if link.on < first or link.method == "prior":
            continue
        row = _update_row(link)
        began = link.decay_began
        if began is not None and began < first and prev_end >= began:
            before = track.at(prev_end)
            days = dates.days_between(prev_end, link.on)
            weight = decibans(odds(link.after) / odds(before)) if 0 < before < 1 and 0 < link.after < 1 else None
            why = decay_sentence(days, before, link.after) + f" (this period's part of {dates.days_between(began, link.on)} quiet days)"
            row = UpdateRow(link.on, link.after, before, link.method, why, link.indicator, link.observation_id, weight,
                            link.forecaster)  # fmt: skip
        rows.append(row)
    return rows


def _update_row(link: Link) -> UpdateRow:
    """A link of the chain dated in the month: a judgement, an observation's counted ratio, or decay."""
    return UpdateRow(link.on, link.after, link.before, link.method, link.rationale, link.indicator, link.observation_id,
                     link.decibans, link.forecaster)  # fmt: skip


CHART_SAMPLE_DAYS = 7  # a decaying line is drawn as weekly steps: about two pixels each at the chart's width


def chart_data(data: Dataset, p: PropositionRow, as_of: str) -> charts.TrajectoryData:
    """The numbers of a proposition's trajectory chart as of `as_of` (up to its resolution)."""
    resolution = data.resolution(p.id, as_of)
    end = resolution.resolved_on if resolution else as_of
    track = data.tracks[p.id]
    live_obs = data.observations_by_prop.get(p.id, ())
    # the line is drawn through every day something happened and through one day a week in between
    # (about two pixels at the chart's width): the probability is read only on those days and on the
    # days of the markers, in one pass over the track
    first, span = dates.day(p.opened), dates.days_between(p.opened, end)
    keep = {dates.days_between(p.opened, link.on) for link in track.links if link.on <= end}
    days = [k for k in sorted(keep | set(range(0, span + 1, CHART_SAMPLE_DAYS))) if 0 <= k <= span]
    shown = [o for o in live_obs if not o.retraction and o.id in data.applied and o.observed_on <= end]
    marked = [dates.days_between(p.opened, o.observed_on) for o in shown]
    wanted = sorted(set(days) | set(marked))
    at = dict(zip(wanted, track.on_days(wanted), strict=True))
    steps = tuple(((first + dt.timedelta(days=k)).isoformat(), at[k]) for k in days) or ((p.opened, float(p.prior)),)
    # a marker shows what the reading counted for (a repeat that added nothing is neutral, a state
    # signpost's reading that stopped firing opposes), not what its signpost says on its own
    counted = {link.observation_id: link.counted_ratio for link in track.links if link.method == "indicator"}
    markers = tuple(
        (max(o.observed_on, p.opened), at[k], direction(counted[o.id]) if o.id in counted else _direction_of(data, p, o))
        for o, k in zip(shown, marked, strict=True)
    )
    outcome_point = None
    if resolution and resolution.outcome != "annulled":
        outcome_point = (resolution.resolved_on, 1.0 if resolution.outcome == "yes" else 0.0)
    return charts.TrajectoryData(p.opened, end, float(p.prior), steps, markers, outcome_point)


def _direction_of(data: Dataset, p: PropositionRow, observation: ObservationRow) -> str:
    if observation.observed_on < p.opened:
        return "context"
    return direction(data.signal(observation)[1])


FULL_CARDS = 50  # a month shows this many cards in full (the ones that matter most); the rest as rows


def _draw(card: PropositionCard, chart: charts.TrajectoryData) -> None:
    """The card's chart twice: self-contained (for Markdown's chart files) and for an HTML page that
    defines the shared background once. Each takes well under a millisecond, so nothing is cached."""
    inline = charts.trajectory_svg(chart, shared=True)
    card.chart_svg, card.chart_inline = _trusted(charts.unshared(inline)), _trusted(inline)


def _trusted(svg: str) -> str:
    """SVG written by scorecard.charts from numbers only (no user text), so the HTML template inlines it as is."""
    import markupsafe

    return markupsafe.Markup(svg)
