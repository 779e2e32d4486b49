"""Scores as of a date: per proposition, across propositions, and how diagnostic each signpost was."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from .. import scoring
from ..dates import days_between, previous_day
from ..evidence import pool_of
from ..probability import POOLS
from .dataset import Dataset

if TYPE_CHECKING:
    import pandas as pd


# -- scores -------------------------------------------------------------------------------------
@dataclass
class ScoreResult:
    """The scores as plain rows; `table` and `calibration` are the same as DataFrames, built only when
    a caller of the Python API asks (nothing inside the package reads them)."""

    as_of: str
    rows: list[dict[str, Any]]  # one per resolved proposition, `scoring.SCORE_COLUMNS` and origin
    summary: dict[str, Any]
    calibration_rows: list[dict[str, float]]
    murphy: dict[str, float] | None
    diagnostics: list[dict[str, Any]] = field(default_factory=list)
    forecasters: list[dict[str, Any]] = field(default_factory=list)
    benchmarks: list[dict[str, Any]] = field(default_factory=list)  # team vs crowd, on the crowd's days
    # the same days as the headline: each day of each resolved proposition weighs 1/L
    calibration_time_weighted: list[dict[str, Any]] = field(default_factory=list)
    murphy_time_weighted: dict[str, float] | None = None
    discrimination: dict[str, Any] = field(default_factory=dict)  # {"final": {...}, "time_weighted": {...}}
    by_tag: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_horizon: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_year: dict[str, dict[str, Any]] = field(default_factory=dict)
    pool: str = "median"  # the method that pooled the teams: `--pool`, the catalog's, or "per proposition"
    early_yes: bool = True  # whether propositions resolved yes before resolve_by are in the calibration

    @property
    def table(self) -> pd.DataFrame:
        return scoring.score_table(self.rows)

    @property
    def calibration(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.calibration_rows, columns=list(scoring.CALIBRATION_COLUMNS))

    def as_json(self) -> dict[str, Any]:
        def clean(value: Any) -> Any:
            if value is None or (isinstance(value, float) and math.isnan(value)):
                return None
            return value.item() if hasattr(value, "item") else value

        columns = [*scoring.SCORE_COLUMNS, "origin", "early_yes", "tags", "horizon", "pool"]
        props = [{k: clean(row.get(k)) for k in columns} for row in self.rows]
        return {
            "as_of": self.as_of,
            "propositions": props,
            "summary": {k: clean(v) for k, v in self.summary.items()},
            "pool": self.pool,
            "calibration_includes_early_yes": self.early_yes,
            "calibration": [{k: clean(v) for k, v in r.items()} for r in self.calibration_rows],
            "calibration_time_weighted": self.calibration_time_weighted,
            "murphy": self.murphy,
            "murphy_time_weighted": self.murphy_time_weighted,
            "discrimination": self.discrimination,
            "by_tag": self.by_tag,
            "by_horizon": self.by_horizon,
            "by_year": self.by_year,
            "indicator_diagnostics": self.diagnostics,
            "forecasters": self.forecasters,
            "benchmarks": self.benchmarks,
        }


@dataclass
class ScoreParts:
    """What one batch of propositions adds to the scores: a row per resolved proposition, a verdict per
    signpost, and each forecaster's score per proposition (`scoring.forecaster_item`)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    diagnostics: list[dict[str, Any]] = field(default_factory=list)
    forecasters: list[tuple[str, float, float, int, float]] = field(default_factory=list)
    benchmarks: list[tuple[str, float, float, int, float]] = field(default_factory=list)  # as `forecasters`
    days: list[tuple[int, int, float, float, float]] = field(default_factory=list)  # `scoring.daily_bins`
    early: list[tuple[int, int, float, float, float]] = field(default_factory=list)  # those of early yeses
    pools: set[str] = field(default_factory=set)


def score_parts(data: Dataset, as_of: str) -> ScoreParts:
    """Everything the scores need from `data`'s propositions; the daily series are reduced here, so
    nothing of a batch's size outlives it."""
    part, daily = ScoreParts(), {}
    for p in data.opened_by(as_of):
        r = data.resolution(p.id, as_of)
        if r is None:
            continue
        track = data.tracks[p.id]
        daily[p.id] = track.daily(r.resolved_on)  # computed once: the table and the forecasters use it
        life = scoring.life_days(p.opened, p.resolve_by, r.resolved_on)
        row = scoring.score_row({
            "id": p.id, "origin": p.origin or "commentary", "prior": p.prior, "outcome": r.outcome,
            "resolved_on": r.resolved_on, "daily": daily[p.id], "final": track.before(r.resolved_on), "life": life,
            "opened": p.opened, "resolve_by": p.resolve_by, "tags": p.tag_list,
        })  # fmt: skip
        row["pool"] = pool_of(track, previous_day(r.resolved_on))
        if row["pool"]:
            part.pools.add(row["pool"])
        part.rows.append(row)
        if r.outcome in ("yes", "no"):
            days = scoring.daily_bins(daily[p.id], 1 if r.outcome == "yes" else 0, life)
            (part.early if row["early_yes"] else part.days).extend(days)
    reduced = filter(None, map(scoring.forecaster_item, forecaster_items(data, as_of, daily)))
    part.diagnostics, part.forecasters = indicator_diagnostics(data, as_of), list(reduced)
    part.benchmarks = list(filter(None, map(scoring.forecaster_item, benchmark_items(data, as_of, daily))))
    return part


def benchmark_items(data: Dataset, as_of: str, daily: dict[str, list[float]]) -> Iterator[dict[str, Any]]:
    """Each benchmark (a crowd) on each resolved yes/no proposition it forecast, with the team on the
    same days: from the crowd's first number to the day before the resolution."""
    for pid, crowds in data.benchmarks.items():
        r = data.resolution(pid, as_of)
        if r is None or r.outcome not in ("yes", "no"):
            continue
        p = data.by_id[pid]
        team_days = daily.get(pid) or data.tracks[pid].daily(r.resolved_on)
        for name, track in crowds.items():
            first = track.joined
            offset = days_between(p.opened, first) if first else len(team_days)
            if offset >= len(team_days):
                continue
            own = track.daily(r.resolved_on)[offset:]
            yield {"forecaster": name, "outcome": r.outcome, "mine": own, "team": team_days[offset:], "peer": 0.0}


def combine(as_of: str, parts: Iterable[ScoreParts], pool: str | None = None, early_yes: bool = True) -> ScoreResult:
    """The scores across every batch: the table, the summary, calibration (final day and time-weighted)
    and Murphy's decomposition, the breakdowns, the forecasters side by side, over all of them.
    `early_yes=False`: propositions resolved yes before resolve_by stay out of the calibration."""
    part = ScoreParts()
    for each in parts:
        part.rows += each.rows
        part.diagnostics += each.diagnostics
        part.forecasters += each.forecasters
        part.benchmarks += each.benchmarks
        part.days += each.days
        part.early += each.early
        part.pools |= each.pools
    rows = part.rows
    scored = [r for r in rows if r["outcome"] in ("yes", "no") and (early_yes or not r["early_yes"])]
    p = [float(r["final_probability"]) for r in scored]
    o = [1 if r["outcome"] == "yes" else 0 for r in scored]
    calibration = scoring.calibration_rows(p, o)
    enough = len(p) >= scoring.MIN_FOR_DECOMPOSITION
    murphy = scoring.murphy_decomposition(p, o) if enough else None
    days = part.days + (part.early if early_yes else [])
    result = ScoreResult(
        as_of, rows, scoring.summarise(rows), calibration, murphy, part.diagnostics, scoring.forecaster_table(part.forecasters)
    )
    result.benchmarks = [
        {"benchmark": row["forecaster"], "n_resolved": row["n_resolved"], "days": row["forecast_days"],
         "mean_time_averaged_brier": row["mean_time_averaged_brier"],
         "team_mean_time_averaged_brier": row["mean_time_averaged_brier"] - row["mean_relative_brier"],
         "team_minus_benchmark": -row["mean_relative_brier"]}
        for row in scoring.forecaster_table(part.benchmarks)
    ]  # fmt: skip
    result.calibration_time_weighted = scoring.weighted_calibration(days)
    result.murphy_time_weighted = scoring.weighted_murphy(days, len(p)) if enough else None
    result.discrimination = {
        "final": scoring.discrimination((oi, 1.0, pi) for pi, oi in zip(p, o, strict=True)),
        "time_weighted": scoring.discrimination((o_, w, wp) for _b, o_, w, wp, _wb in days),
    }
    result.by_tag = scoring.breakdown(rows, lambda r: r["tags"])
    result.by_horizon = scoring.breakdown(rows, lambda r: [r["horizon"]] if r["horizon"] else [])
    result.by_year = scoring.breakdown(rows, lambda r: [r["resolved_on"][:4]])
    result.pool = pool or (next(iter(part.pools)) if len(part.pools) == 1 else "per proposition" if part.pools else "median")
    result.early_yes = early_yes
    return result


def forecaster_items(data: Dataset, as_of: str, daily: dict[str, list[float]] | None = None) -> Iterator[dict[str, Any]]:
    """Each forecaster on each resolved (yes/no) proposition they forecast, with the team on the same
    days and their peer score there (reduced by `scoring.forecaster_item`); `daily` holds team series
    already computed. None when the dataset shows one forecaster's tracks (`--by`)."""
    for p in data.opened_by(as_of):
        r = data.resolution(p.id, as_of)
        team = data.tracks[p.id]
        if r is None or r.outcome not in ("yes", "no"):
            continue
        team_days = (daily or {}).get(p.id) or team.daily(r.resolved_on)
        mine: dict[str, tuple[int, list[float]]] = {}
        for name, (track, joined) in team.side_by_side().items():
            offset = days_between(p.opened, joined)
            if offset >= len(team_days):
                continue  # their first forecast came on or after the resolution
            own = team_days if track is team else track.daily(r.resolved_on)  # alone, they are the team
            mine[name] = (offset, own[offset:])
        life = scoring.life_days(p.opened, p.resolve_by, r.resolved_on)
        peers = scoring.peer_scores(mine, 1 if r.outcome == "yes" else 0, life)
        for name, (offset, own) in mine.items():
            yield {"forecaster": name, "outcome": r.outcome, "mine": own, "team": team_days[offset:], "peer": peers[name]}


def compute_scores(
    conn: Connection, as_of: str, by: str | None = None, pool: str | None = None, early_yes: bool = True
) -> ScoreResult:
    """The scores as of `as_of`, reading the record a batch of propositions at a time (scores never
    show a note or source, and nothing dated after `as_of` changes them)."""
    batches = Dataset.batches(conn, by, texts=False, until=as_of, pool=pool, cache=True)
    return combine(as_of, (score_parts(data, as_of) for data in batches), pool=pool, early_yes=early_yes)


def compare_pools(conn: Connection, as_of: str) -> list[dict[str, Any]]:
    """Every pooling method scored walk-forward on the resolved record: each day of each resolved
    proposition pooled from that day's tracks by the method, scored as the headline is, compared with
    the median on the same propositions (`scoring.pool_comparison`)."""
    per = []
    for data in Dataset.batches(conn, None, texts=False, until=as_of, cache=True):
        for p in data.opened_by(as_of):
            r = data.resolution(p.id, as_of)
            if r is None or r.outcome not in ("yes", "no"):
                continue
            track, o = data.tracks[p.id], 1 if r.outcome == "yes" else 0
            life = scoring.life_days(p.opened, p.resolve_by, r.resolved_on)
            per.append({m: scoring.time_average(track.daily(r.resolved_on, m), o, life, scoring.brier) for m in POOLS})
    return scoring.pool_comparison(per, POOLS)


def indicator_diagnostics(data: Dataset, as_of: str) -> list[dict[str, Any]]:
    """For each indicator of a proposition resolved yes/no: did it fire, and did the weight it counted
    (applied evidence, repeats and groups included) point the right way?"""
    out = []
    for p in data.propositions:
        r = data.resolution(p.id, as_of)
        if r is None or r.outcome not in ("yes", "no"):
            continue
        counted: dict[str, float] = {}
        for indicator, steps in data.tracks[p.id].counted().items():
            for on, weight in steps:
                if on <= as_of:
                    counted[indicator] = counted.get(indicator, 0.0) + weight
        for ind in sorted(data.indicators_by_prop.get(p.id, ()), key=lambda i: i.id):
            obs = [
                o
                for o in data.observations_by_indicator.get(ind.id, ())
                # context observed before the proposition opened, and evidence never applied, counted for nothing
                if not o.retraction and o.id in data.applied and p.opened <= o.observed_on <= as_of
            ]
            fired = sum(1 for o in obs if data.signal(o)[0])
            weight = counted.get(ind.id, 0.0)
            verdict = "quiet" if abs(weight) < 1e-9 else ("diagnostic" if (weight > 0) == (r.outcome == "yes") else "misleading")
            out.append(
                {
                    "indicator": ind.id, "proposition": p.id, "outcome": r.outcome,
                    "likelihood_ratio": data.signpost(ind.id, as_of).likelihood_ratio, "observations": len(obs), "fired": fired,
                    "decibans": round(weight, 2), "verdict": verdict,
                }
            )  # fmt: skip
    return out
