"""The record of a batch of propositions, loaded once and viewed at any date in memory: what scores,
scorecards and `review` read.

Everything a scorecard for month M shows is computed from data effective by the end of M. One derived
track per proposition serves every date: a link dated after D never changes the probability on D.
Each proposition's view needs only its own rows, so callers read the record in batches of
propositions (`Dataset.batches`) and keep what they compute: memory is bounded by a batch, not by
the whole history.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Connection

from .. import store
from ..evidence import (
    CACHE_VERSION,
    View,
    benchmark_tracks,
    build_tracks,
    in_force,
    resolution_in_force,
    shown_probability,
    state_of,
    view_of,
)
from ..probability import counted_ratio
from ..records import IndicatorRow, ObservationRow, PropositionRow, ResolutionRow, RestatementRow, UpdateRow

BATCH = 250  # propositions loaded at once: about 0.1 GB for the benchmark's histories (~250 rows each)


@dataclass
class Dataset:
    """Rows indexed by proposition and indicator on load, so each view costs time in proportion to one
    proposition's history, not to the whole database."""

    propositions: list[PropositionRow]
    indicators: dict[str, IndicatorRow]
    observations: list[ObservationRow]
    updates: list[UpdateRow]  # live manual updates
    resolutions: list[ResolutionRow]
    by: str | None = None  # one forecaster's tracks instead of the team's
    # the versions of each indicator and `decay` that changed over time (`definitions`), by effective date
    versions: dict[str, list[tuple[str, IndicatorRow]]] = field(default_factory=dict)
    decays: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    pools: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # the versions of each changed `team`
    pool: str | None = None  # one pooling method for every team on every day (`--pool`), else the catalog's
    restatements: list[RestatementRow] = field(default_factory=list)
    cached: dict[str, View] | None = None  # tracks already made (from the cache): not derived again here
    crowd: list[UpdateRow] = field(default_factory=list)  # a benchmark's updates (`records.is_benchmark`)
    tracks: dict[str, View] = field(init=False)  # the team's, or with `by` that forecaster's: chosen once, here
    evidence: list[ObservationRow] = field(init=False)  # applied, live observations: the same row objects

    def __post_init__(self) -> None:
        self.evidence = [o for o in self.observations if o.applied_by is not None and not o.retraction]
        cached = self.cached or {}
        rest = [p for p in self.propositions if p.id not in cached]  # derived here: the cache holds the others
        ids = {p.id for p in rest}
        evidence = self.evidence if not cached else [e for e in self.evidence if e.proposition_id in ids]
        built = build_tracks(rest, self.indicators, self.updates, evidence, by=self.by, versions=self.versions,
                             decays=self.decays, pools=self.pools, pool=self.pool) if rest else {}  # fmt: skip
        self.tracks = {**built, **cached}
        self.benchmarks = benchmark_tracks(self.propositions, self.crowd)  # beside the team, never in it
        self.applied = {e.id for e in self.evidence}
        self.by_id = {p.id: p for p in self.propositions}
        self.indicators_by_prop: dict[str, list[IndicatorRow]] = defaultdict(list)
        for ind in self.indicators.values():
            self.indicators_by_prop[ind.proposition_id].append(ind)
        self.observations_by_prop: dict[str, list[ObservationRow]] = defaultdict(list)
        self.observations_by_indicator: dict[str, list[ObservationRow]] = defaultdict(list)
        for o in self.observations:
            self.observations_by_prop[o.proposition_id].append(o)
            self.observations_by_indicator[o.indicator_id].append(o)
        self.updates_by_prop: dict[str, list[UpdateRow]] = defaultdict(list)
        for u in self.updates:
            self.updates_by_prop[u.proposition_id].append(u)
        self.resolutions_by_prop: dict[str, list[ResolutionRow]] = defaultdict(list)
        for r in self.resolutions:
            if not r.retraction:
                self.resolutions_by_prop[r.proposition_id].append(r)
        self.restatements_by_prop: dict[str, list[RestatementRow]] = defaultdict(list)
        for s in self.restatements:
            self.restatements_by_prop[s.proposition_id].append(s)

    @classmethod
    def load(
        cls,
        conn: Connection,
        by: str | None = None,
        texts: bool = True,
        propositions: Sequence[str] | None = None,
        until: str | None = None,
        pool: str | None = None,
        cache: bool = False,
    ) -> Dataset:
        """The rows of `propositions` (default: every one). `texts=False` leaves out each observation's
        source and note (scores never show them); `until` leaves out observations and updates dated
        after it (no view as of `until` or earlier depends on them). `cache`: the team's tracks of the
        propositions whose every event is dated by `until` come from the cache's anchors (the same
        tracks, since nothing after `until` is in them), and their updates are not read."""
        indicators = {i.id: i for i in store.all_indicators(conn, propositions)}
        versions, decays, pools = store.definition_versions(conn, indicators, propositions)
        props = store.all_propositions(conn, propositions)
        cached = cached_views(conn, [p.id for p in props], until, pool) if cache and by is None and until else None
        rest = [p.id for p in props if p.id not in (cached or {})]
        return cls(
            propositions=props,
            cached=cached,
            indicators=indicators,
            versions=versions,
            decays=decays,
            pools=pools,
            pool=pool,
            restatements=store.restatements(conn, propositions),
            observations=store.observations(conn, propositions, until=until, texts=texts, shared=True),
            updates=store.manual_updates(conn, rest if cached else propositions, until=until),
            crowd=store.manual_updates(conn, propositions, until=until, benchmarks=True) if by is None else [],
            resolutions=store.resolutions(conn, propositions),
            by=by,
        )

    @classmethod
    def pending(cls, conn: Connection, propositions: Sequence[str], until: str, tracks: dict[str, View]) -> Dataset:
        """What `review` reads of `propositions` besides their `tracks`: the definitions, resolutions and
        the observations not applied (live, dated up to `until`); no history of updates or evidence."""
        indicators = {i.id: i for i in store.all_indicators(conn, propositions)}
        versions, decays, pools = store.definition_versions(conn, indicators, propositions)
        return cls(
            propositions=store.all_propositions(conn, propositions), indicators=indicators, versions=versions,
            decays=decays, pools=pools, observations=store.pending_observations(conn, propositions, until, shared=True), updates=[],
            resolutions=store.resolutions(conn, propositions), cached=tracks,
        )  # fmt: skip

    @staticmethod
    def plan(conn: Connection, size: int | None = None) -> list[list[str]]:
        """The proposition ids of each batch, `size` (default BATCH) at a time by id: at least one
        batch, empty if there are no propositions."""
        ids, size = store.proposition_ids(conn), size or BATCH
        return [ids[k : k + size] for k in range(0, max(len(ids), 1), size)]

    @classmethod
    def batches(
        cls,
        conn: Connection,
        by: str | None = None,
        texts: bool = True,
        until: str | None = None,
        plan: list[list[str]] | None = None,
        pool: str | None = None,
        cache: bool = False,
    ) -> Iterator[Dataset]:
        """The record a batch of propositions at a time (`plan`, default `Dataset.plan(conn)`), each
        loaded only when the previous one has been used."""
        for ids in plan if plan is not None else cls.plan(conn):
            # Loading makes a million objects and no garbage: the cyclic collector would walk the whole
            # heap again and again for nothing (a fifth of `score`'s time); it runs after each batch.
            with collector_paused():
                data = cls.load(conn, by, texts, ids, until, pool, cache)
            yield data

    def resolution(self, proposition: str, as_of: str) -> ResolutionRow | None:
        """The resolution in force on `as_of` (one rule: `evidence.resolution_in_force`)."""
        return resolution_in_force(self.resolutions_by_prop.get(proposition, ()), as_of)

    def shown(self, proposition: str, as_of: str) -> float:
        """The probability every view shows on `as_of` (final forecast once resolved)."""
        return shown_probability(self.tracks[proposition], self.resolution(proposition, as_of), as_of)

    def opened_by(self, as_of: str) -> list[PropositionRow]:
        return [p for p in self.propositions if p.opened <= as_of]

    def signal(self, observation: ObservationRow) -> tuple[bool, float | None]:
        """(fired, the indicator's own ratio) of an observation, by the one rule in `probability.counted_ratio`
        (what it *counted* for, after repeats and groups, is on its link in the track)."""
        return counted_ratio(self.signpost(observation.indicator_id, observation.observed_on), observation.value)

    def signpost(self, indicator_id: str, day: str) -> IndicatorRow:
        """The indicator's definition in force on `day` (its row, unless it has changed)."""
        own = self.versions.get(indicator_id)
        return in_force(own, day) if own else self.indicators[indicator_id]


# -- the cache of tracks (models.TrackCache): the one place that reads and writes it -------------------
def uncached(conn: Connection) -> list[str]:
    """The propositions the cache does not hold in this version of the model."""
    return store.uncached(conn, CACHE_VERSION)


def write_cached(conn: Connection, views: dict[str, View]) -> None:
    """Cache each view's head and every anchor (`evidence.state_of`)."""
    import json

    def text(state: dict) -> str:
        return json.dumps(state, separators=(",", ":"))

    store.write_states(conn, CACHE_VERSION, {pid: (text(state_of(v, thin=True)), text(state_of(v))) for pid, v in views.items()})


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a reader builds many objects that are not garbage (a batch
    of the record, every cached head): it would walk them again and again for nothing."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def cached_heads(conn: Connection, ids: Sequence[str] | None) -> dict[str, dict]:
    """proposition id -> its cached head (`evidence.state_of(..., thin=True)`), for `ids` (None: all)
    that the cache holds in this version of the model. Read by orjson: the same values as `json`
    (`test_cache.py` compares them), 2.6x as fast on the benchmark's team heads, which was most of
    every standing probability's time."""
    from orjson import loads

    with collector_paused():
        return {pid: loads(head) for pid, head in store.cached_states(conn, CACHE_VERSION, ids).items()}


def cached_full(conn: Connection, ids: Sequence[str], pool: str | None = None) -> dict[str, View]:
    """The team's tracks of `ids` (pooled by `pool` if given) from every cached anchor."""
    from orjson import loads

    found = store.cached_states(conn, CACHE_VERSION, ids, anchors=True) if ids else {}
    with collector_paused():
        return {pid: view_of(loads(state), pool) for pid, state in found.items()}


def cached_views(conn: Connection, ids: Sequence[str], until: str, pool: str | None = None) -> dict[str, View]:
    """The team's tracks (every anchor) of those of `ids` whose cached head says no event is dated
    after `until`: for them, the record up to `until` is the whole record."""
    return cached_full(conn, [pid for pid, head in cached_heads(conn, ids).items() if head["last"] <= until], pool)
