"""The whole record loaded once and viewed at any date in memory: what scores and scorecards read.

Everything a scorecard for month M shows is computed from data effective by the end of M.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from .. import scoring, store
from ..probability import counted_ratio


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
    def load(cls, conn: Connection) -> Dataset:
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

    def counted_ratio(self, observation: dict[str, Any]) -> tuple[bool, float | None]:
        """(fired, ratio) of an observation, by the one rule in `probability.counted_ratio`."""
        return counted_ratio(self.indicators[observation["indicator"]], observation["value"])
