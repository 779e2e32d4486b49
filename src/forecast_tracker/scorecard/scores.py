"""Scores as of a date: per proposition, across propositions, and how diagnostic each signpost was."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from .. import scoring
from ..dates import days_between
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

        columns = [*scoring.SCORE_COLUMNS, "origin"]
        props = [{k: clean(row.get(k)) for k in columns} for row in self.rows]
        return {
            "as_of": self.as_of,
            "propositions": props,
            "summary": {k: clean(v) for k, v in self.summary.items()},
            "calibration": [{k: clean(v) for k, v in r.items()} for r in self.calibration_rows],
            "murphy": self.murphy,
            "indicator_diagnostics": self.diagnostics,
            "forecasters": self.forecasters,
        }


@dataclass
class ScoreParts:
    """What one batch of propositions adds to the scores: a row per resolved proposition, a verdict per
    signpost, and each forecaster's score per proposition (`scoring.forecaster_item`)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    diagnostics: list[dict[str, Any]] = field(default_factory=list)
    forecasters: list[tuple[str, float, float, int]] = field(default_factory=list)


def score_parts(data: Dataset, as_of: str) -> ScoreParts:
    """Everything the scores need from `data`'s propositions; the daily series are reduced here, so
    nothing of a batch's size outlives it."""
    rows, daily = [], {}
    for p in data.opened_by(as_of):
        r = data.resolution(p.id, as_of)
        if r is None:
            continue
        track = data.tracks[p.id]
        daily[p.id] = track.daily(r.resolved_on)  # computed once: the table and the forecasters use it
        rows.append(
            scoring.score_row({
                "id": p.id, "origin": p.origin or "commentary", "prior": p.prior, "outcome": r.outcome,
                "resolved_on": r.resolved_on, "daily": daily[p.id], "final": track.before(r.resolved_on),
                "life": scoring.life_days(p.opened, p.resolve_by, r.resolved_on),
            })
        )  # fmt: skip
    reduced = filter(None, map(scoring.forecaster_item, forecaster_items(data, as_of, daily)))
    return ScoreParts(rows, indicator_diagnostics(data, as_of), list(reduced))


def combine(as_of: str, parts: Iterable[ScoreParts]) -> ScoreResult:
    """The scores across every batch: the table, the summary, calibration and Murphy's decomposition
    over all of them."""
    rows: list[dict[str, Any]] = []
    diagnostics: list[dict[str, Any]] = []
    forecasters: list[tuple[str, float, float, int]] = []
    for part in parts:
        rows += part.rows
        diagnostics += part.diagnostics
        forecasters += part.forecasters
    scored = [r for r in rows if r["outcome"] in ("yes", "no")]
    p = [float(r["final_probability"]) for r in scored]
    o = [1 if r["outcome"] == "yes" else 0 for r in scored]
    calibration = scoring.calibration_rows(p, o)
    murphy = scoring.murphy_decomposition(p, o) if len(p) >= scoring.MIN_FOR_DECOMPOSITION else None
    return ScoreResult(
        as_of, rows, scoring.summarise(rows), calibration, murphy, diagnostics, scoring.forecaster_table(forecasters)
    )


def forecaster_items(data: Dataset, as_of: str, daily: dict[str, list[float]] | None = None) -> Iterator[dict[str, Any]]:
    """Each forecaster on each resolved (yes/no) proposition they forecast, with the team median on
    the same days (reduced by `scoring.forecaster_item`); `daily` holds team series already
    computed. None when the dataset shows one forecaster's tracks (`--by`)."""
    for p in data.opened_by(as_of):
        r = data.resolution(p.id, as_of)
        team = data.tracks[p.id]
        if r is None or r.outcome not in ("yes", "no"):
            continue
        team_days = (daily or {}).get(p.id) or team.daily(r.resolved_on)
        for name, (track, joined) in team.side_by_side().items():
            offset = days_between(p.opened, joined)
            if offset >= len(team_days):
                continue  # their first forecast came on or after the resolution
            mine = team_days if track is team else track.daily(r.resolved_on)  # alone, they are the team
            yield {"forecaster": name, "outcome": r.outcome, "mine": mine[offset:], "team": team_days[offset:]}


def compute_scores(conn: Connection, as_of: str, by: str | None = None) -> ScoreResult:
    """The scores as of `as_of`, reading the record a batch of propositions at a time (scores never
    show a note or source, and nothing dated after `as_of` changes them)."""
    return combine(as_of, (score_parts(data, as_of) for data in Dataset.batches(conn, by, texts=False, until=as_of)))


def indicator_diagnostics(data: Dataset, as_of: str) -> list[dict[str, Any]]:
    """For each indicator of a proposition resolved yes/no: did it fire, and did the weight it counted
    (applied evidence, repeats and groups included) point the right way?"""
    out = []
    for p in data.propositions:
        r = data.resolution(p.id, as_of)
        if r is None or r.outcome not in ("yes", "no"):
            continue
        counted: dict[str, float] = {}
        for link in data.tracks[p.id].links:
            if link.method == "indicator" and link.on <= as_of and link.indicator is not None:
                counted[link.indicator] = counted.get(link.indicator, 0.0) + (link.decibans or 0.0)
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
