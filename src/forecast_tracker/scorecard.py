"""Point-in-time views of the whole record and the typed context a scorecard template receives.

Everything a scorecard for month M shows is computed here from data effective by the end of M.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import scoring, store
from .updating import decibans, fires
from .validate import parse_date, today

if TYPE_CHECKING:
    import pandas as pd

    from .api import Tracker

STALE_DAYS = 90


def month_end(month: str) -> str:
    year, mon = map(int, month.split("-"))
    return dt.date(year, mon, calendar.monthrange(year, mon)[1]).isoformat()


def previous_month(month: str) -> str:
    year, mon = map(int, month.split("-"))
    return f"{year - 1}-12" if mon == 1 else f"{year}-{mon - 1:02d}"


@dataclass
class Dataset:
    """The whole record, loaded once (a handful of queries) and viewed at any date in memory.

    Rows are indexed by proposition and indicator on load, so each view costs time in proportion to
    one proposition's history, not to the whole database.
    """

    propositions: list[dict[str, Any]]
    indicators: dict[str, dict[str, Any]]
    observations: list[dict[str, Any]]
    updates: list[dict[str, Any]]
    resolutions: list[dict[str, Any]]

    def __post_init__(self) -> None:
        from collections import defaultdict

        self.indicators_by_prop: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for ind in self.indicators.values():
            self.indicators_by_prop[ind["proposition_id"]].append(ind)
        self.observations_by_prop: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.observations_by_indicator: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for o in self.observations:
            self.observations_by_prop[o["proposition"]].append(o)
            self.observations_by_indicator[o["indicator"]].append(o)
        self.updates_by_prop: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for u in sorted(self.updates, key=lambda u: (u["as_of"], u["id"])):
            if not u["retracted"]:
                self.updates_by_prop[u["proposition"]].append(u)
        self.resolutions_by_prop: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in self.resolutions:
            if not r["retracted"]:
                self.resolutions_by_prop[r["proposition"]].append(r)

    @classmethod
    def load(cls, tracker: Tracker) -> Dataset:
        with tracker.db.read() as conn:
            return cls(
                propositions=store.all_propositions(conn),
                indicators={i["id"]: i for i in store.all_indicators(conn)},
                observations=store.observations(conn),
                updates=store.updates(conn),
                resolutions=store.resolutions(conn),
            )

    def trajectory(self, prop: dict[str, Any], until: str) -> scoring.Trajectory:
        return scoring.Trajectory(
            float(prop["prior"]),
            prop["opened"],
            [(u["as_of"], u["id"], float(u["probability"])) for u in self.live_updates(prop["id"], until)],
        )

    def live_updates(self, proposition: str, until: str) -> list[dict[str, Any]]:
        """Updates not retracted and effective by `until`, oldest first."""
        return [u for u in self.updates_by_prop.get(proposition, ()) if u["as_of"] <= until]

    def resolution(self, proposition: str, as_of: str) -> dict[str, Any] | None:
        """The latest recorded resolution effective by `as_of` (a forced re-resolution wins)."""
        found = [r for r in self.resolutions_by_prop.get(proposition, ()) if r["resolved_on"] <= as_of]
        return found[-1] if found else None

    def opened_by(self, as_of: str) -> list[dict[str, Any]]:
        return [p for p in self.propositions if p["opened"] <= as_of]

    def effective_ratio(self, observation: dict[str, Any]) -> float | None:
        ind = self.indicators[observation["indicator"]]
        fired = fires(ind["kind"], observation["value"], ind["threshold"])
        return ind["likelihood_ratio"] if fired else ind["likelihood_ratio_if_not_met"]


# -- scores -------------------------------------------------------------------------------------
@dataclass
class ScoreResult:
    as_of: str
    table: pd.DataFrame
    summary: dict[str, Any]
    calibration: pd.DataFrame
    murphy: dict[str, float] | None
    diagnostics: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        def clean(value: Any) -> Any:
            if value is None or (isinstance(value, float) and math.isnan(value)):
                return None
            return value.item() if hasattr(value, "item") else value

        props = [{k: clean(v) for k, v in row.items()} for row in self.table.to_dict(orient="records")]
        return {
            "as_of": self.as_of,
            "propositions": props,
            "summary": {k: clean(v) for k, v in self.summary.items()},
            "calibration": [{k: clean(v) for k, v in r.items()} for r in self.calibration.to_dict(orient="records")],
            "murphy": self.murphy,
            "indicator_diagnostics": self.diagnostics,
        }


def scores_as_of(data: Dataset, as_of: str) -> ScoreResult:
    import pandas as pd

    resolved = []
    for p in data.opened_by(as_of):
        r = data.resolution(p["id"], as_of)
        if r is not None:
            resolved.append(
                {
                    "id": p["id"],
                    "prior": p["prior"],
                    "opened": p["opened"],
                    "outcome": r["outcome"],
                    "resolved_on": r["resolved_on"],
                }
            )
    resolved_frame = pd.DataFrame(resolved, columns=["id", "prior", "opened", "outcome", "resolved_on"])
    updates = pd.DataFrame(
        [u for pid in resolved_frame["id"] for u in data.live_updates(pid, as_of)],
        columns=["proposition", "as_of", "id", "probability"],
    )
    table = scoring.score_propositions(resolved_frame, updates)
    scored = table[table["outcome"].isin(["yes", "no"])]
    p = scored["final_probability"].astype(float).tolist()
    o = [1 if x == "yes" else 0 for x in scored["outcome"]]
    calibration = scoring.calibration_table(p, o)
    murphy = scoring.murphy_decomposition(p, o) if len(p) >= scoring.MIN_FOR_DECOMPOSITION else None
    return ScoreResult(as_of, table, scoring.summarise(table), calibration, murphy, indicator_diagnostics(data, as_of))


def compute_scores(tracker: Tracker, as_of: str | None = None) -> ScoreResult:
    day = parse_date(as_of, "--as-of", allow_future=True) if as_of else today()
    return scores_as_of(Dataset.load(tracker), day)


def indicator_diagnostics(data: Dataset, as_of: str) -> list[dict[str, Any]]:
    """For each indicator of a proposition resolved yes/no: did it fire, and did its ratio point the right way?"""
    out = []
    for p in data.propositions:
        r = data.resolution(p["id"], as_of)
        if r is None or r["outcome"] not in ("yes", "no"):
            continue
        for ind in sorted(data.indicators_by_prop.get(p["id"], ()), key=lambda i: i["id"]):
            obs = [
                o
                for o in data.observations_by_indicator.get(ind["id"], ())
                # context observed before the proposition opened proposed nothing, so it is not evidence here
                if not o["retracted"] and p["opened"] <= o["observed_on"] <= as_of
            ]
            fired = sum(1 for o in obs if fires(ind["kind"], o["value"], ind["threshold"]))
            ratio = ind["likelihood_ratio"]
            points_yes = ratio > 1
            if fired:
                verdict = "diagnostic" if points_yes == (r["outcome"] == "yes") else "misleading"
            else:
                verdict = "quiet"
            weight = sum(decibans(x) for x in (data.effective_ratio(o) for o in obs) if x)
            out.append(
                {
                    "indicator": ind["id"],
                    "proposition": p["id"],
                    "outcome": r["outcome"],
                    "likelihood_ratio": ratio,
                    "observations": len(obs),
                    "fired": fired,
                    "decibans": round(weight, 2),
                    "verdict": verdict,
                }
            )
    return out
