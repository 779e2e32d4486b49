"""The evidence model: a track's standing probability is derived, never stored as a running product.

On a date d it is the latest manual update dated <= d (else the prior at `opened`), then every applied,
non-retracted observation dated after it and <= d, each with its *counted* ratio, and the time decay
between them, in date order. Every probability the tool shows is `Track.at(d)`, and `Track.links`
explains it step by step (prior or manual update, each observation's counted ratio, decay).

Counted ratios (the catalog decides, per indicator, in the version in force on the observation's date):
- `repeats`: how the 2nd, 3rd... reading of one indicator counts. `latest` (the default for a count or
  level, a series of readings of one quantity): the signpost weighs as its latest reading, so each
  reading counts ratio(new state) / ratio(previous state): one that still fires adds nothing, one that
  stops firing takes the earlier ratio back (and applies `likelihood_ratio_if_not_met` if given).
  `once` (the default for an event): only the first firing; `diminishing`: the k-th counts 1/2^(k-1) of
  the first one's weight of evidence, so the total stays below twice one firing's; `independent`: every
  firing in full (the naive chain). Readings that do not fire follow the same rule as a stream of their own.
- `group`: indicators of a proposition that report one development. The group's weight is that of its
  strongest member for plus its strongest member against, and each observation adds only what it changes.
Repeats and groups are counted over all evidence since `opened`, also before a manual update: a
restatement after my judgement is still a restatement.
- `decides: yes | no`: an applied firing meets (rules out) the resolution criterion. From its date on
  the probability is held at the upper (lower) clamp, with no decay: the criterion is met, the question
  waits only for `resolve` to record it.

Definitions change over time (`definitions.py`): an indicator's counting keys and a proposition's
`decay` each come as versions with the day they take effect, and each observation counts by the version
in force on its date, each day decays by the `decay` in force on it. So a change counts from its day on
and every earlier number stays as it was shown.

Decay (`decay: hazard`, the default) reads a question as "will it happen by the end of resolve_by R" with
a constant hazard: with no news, p at day t becomes 1 - (1 - p)^((R + 1 - t') / (R + 1 - t)) at day
t' <= R. Decaying t -> t1 -> t2 equals t -> t2, so the steps compose exactly. An event on R itself still
counts, and after R an unresolved question holds its last probability (`review` flags it overdue)
instead of sliding to the floor. `decay: none` is for a state checked on R, or a vote on a fixed date.

Pure: plain values in, plain values out; no database, no files.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .dates import month_end, next_month, ordinal, previous_day
from .probability import (
    DEFAULT_POOL,
    P_MAX,
    P_MIN,
    Signpost,
    apply_likelihood_ratio,
    clamp,
    counted_ratio,
    decibans,
    describe,
    odds,
    pool,
    repeats_of,
)  # fmt: skip
from .records import ObservationRow, PropositionRow, ResolutionRow, UpdateRow, is_benchmark

DECAYS = ("hazard", "none")
DEFAULT_DECAY = "hazard"
DECAY_SHOWN_FROM = 0.005  # a decay step smaller than half a point is not listed as its own link


@dataclass(frozen=True)
class Evidence:
    """An applied, non-retracted observation of one of the proposition's indicators."""

    observation_id: int
    observed_on: str
    indicator: Signpost
    value: float | None
    applied_by: str = ""


@dataclass(frozen=True)
class Judgement:
    """A manual update: a forecaster's probability from `as_of` on."""

    as_of: str
    update_id: int
    probability: float
    rationale: str = ""
    forecaster: str = ""


class Link:
    """One step of the chain: what happened on `on`, and the probability before and after it.

    `rationale` may be given as (a function, its arguments...): the sentence is then written when first
    read. A record has hundreds of thousands of links and most views read few of their sentences."""

    __slots__ = ("on", "method", "before", "after", "_rationale", "observation_id", "indicator", "likelihood_ratio",
                 "counted_ratio", "update_id", "forecaster", "began")  # fmt: skip

    def __init__(
        self,
        on: str,
        method: str,  # prior | manual | indicator | decay
        before: float,
        after: float,
        rationale: str | tuple,  # the text, or (a function that writes it, its arguments...)
        observation_id: int | None = None,
        indicator: str | None = None,
        likelihood_ratio: float | None = None,  # the indicator's own ratio
        counted_ratio: float | None = None,  # what this observation counted for (repeats, groups)
        update_id: int | None = None,
        forecaster: str = "",
        began: str | None = None,  # a decay link: the day its quiet spell began
    ):
        self.on, self.method, self.before, self.after, self._rationale = on, method, before, after, rationale
        self.observation_id, self.indicator, self.likelihood_ratio = observation_id, indicator, likelihood_ratio
        self.counted_ratio, self.update_id, self.forecaster = counted_ratio, update_id, forecaster
        self.began = began

    @property
    def rationale(self) -> str:
        if isinstance(self._rationale, str):
            return self._rationale
        write, *args = self._rationale
        text: str = write(*args)
        self._rationale = text
        return text

    def _fields(self) -> tuple:
        return (self.on, self.method, self.before, self.after, self.rationale, self.observation_id, self.indicator,
                self.likelihood_ratio, self.counted_ratio, self.update_id, self.forecaster)  # fmt: skip

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Link) and self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # mutable cache inside: compared by value, never hashed

    def __repr__(self) -> str:
        return f"Link{self._fields()!r}"

    @property
    def decay_began(self) -> str | None:
        """For a decay link, the day its quiet spell began (the day before, nothing moved it); else None."""
        return self.began if self.method == "decay" else None

    @property
    def decibans(self) -> float | None:
        if self.method == "indicator" and self.counted_ratio:
            return decibans(self.counted_ratio)
        if self.method == "decay" and 0 < self.before < 1 and 0 < self.after < 1:
            return decibans(odds(self.after) / odds(self.before))
        return None


def in_force(versions: Sequence[tuple[str, Any]], day: str) -> Any:
    """Of (effective, value) pairs sorted by effective, the value in force on `day`: the latest that took
    effect on or before it, else the first (a date before every version is before the definition
    existed, and only a restated `opened` can ask for one)."""
    i = bisect.bisect_right(versions, day, key=lambda v: v[0])
    return versions[max(i - 1, 0)][1]


def _hazard(p: float, t: int, t2: int, r: int) -> float:
    """The decay rule on day numbers: p at t, seen at t2, for a question that closes at the end of day
    r; from r on it holds."""
    t2 = min(t2, r)
    if t2 <= t:
        return p
    return clamp(1.0 - (1.0 - p) ** ((r + 1 - t2) / (r + 1 - t)))


def decayed(p: float, start: str, end: str, resolve_by: str) -> float:
    """Constant-hazard decay of `p` from `start` to `end` for a question that closes on `resolve_by`."""
    return _hazard(p, ordinal(start), ordinal(end), ordinal(resolve_by))


def _decay_link(p: float, after: float, start: str, end: str, who: str = "") -> Link | None:
    """A decay step as its own link, when it moves the probability visibly (`who`: the team's members)."""
    if abs(after - p) < DECAY_SHOWN_FROM:
        return None
    return Link(end, "decay", p, after, (_decay_rationale, ordinal(end) - ordinal(start), p, after, who), began=start)


def _decay_rationale(days: int, p: float, after: float, who: str = "") -> str:
    """The one decay sentence, for a track's chain, the team's and a period's share of a quiet spell."""
    return f"no decisive news for {days} days: {describe(p)} → {describe(after)}{who}"


decay_sentence = _decay_rationale  # what a scorecard writes for the part of a quiet spell in its period


def counted_ratios(evidence: Sequence[Evidence]) -> dict[int, float]:
    """observation id -> the ratio it counts for, given every earlier observation (date, then id order)."""
    streams: dict[tuple[str, bool], int] = defaultdict(int)  # (indicator, fired) -> firings so far
    state_db: dict[str, float] = defaultdict(float)  # `latest`: indicator -> the weight of its last reading
    member_db: dict[str, float] = defaultdict(float)  # indicator -> its counted weight so far
    group_db: dict[str, float] = defaultdict(float)
    members: dict[str, set[str]] = defaultdict(set)
    for e in evidence:
        if e.indicator.group_name:
            members[e.indicator.group_name].add(e.indicator.id)
    counted: dict[int, float] = {}
    for e in sorted(evidence, key=lambda e: (e.observed_on, e.observation_id)):
        fired, ratio = counted_ratio(e.indicator, e.value)
        ind_id, repeats = e.indicator.id, repeats_of(e.indicator)
        if repeats == "latest":  # a state: this reading replaces the previous one
            state = decibans(ratio) if ratio is not None else 0.0
            weight, state_db[ind_id] = state - state_db[ind_id], state
        elif ratio is None:
            counted[e.observation_id] = 1.0
            continue
        else:
            weight = decibans(ratio)
        k = streams[(ind_id, fired)]
        streams[(ind_id, fired)] = k + 1
        if repeats == "once":
            weight = weight if k == 0 else 0.0
        elif repeats == "diminishing":
            weight = weight / 2**k
        group = e.indicator.group_name
        if not group:
            counted[e.observation_id] = 10 ** (weight / 10)
            continue
        member_db[ind_id] += weight
        weights = [member_db[i] for i in members[group]]
        total = max([w for w in weights if w > 0], default=0.0) + min([w for w in weights if w < 0], default=0.0)
        counted[e.observation_id] = 10 ** ((total - group_db[group]) / 10)
        group_db[group] = total
    return counted


class Track:
    """One track's probability over time: anchors where something happened, decay in between."""

    def __init__(
        self,
        *,
        prior: float,
        opened: str,
        resolve_by: str,
        decay: str | Sequence[tuple[str, str]] = DEFAULT_DECAY,  # one rule, or (effective, rule) versions
        judgements: Iterable[Judgement] = (),
        evidence: Iterable[Evidence] = (),
        prior_rationale: str = "prior",
        name: str = "",
        team_of_one: bool = False,
    ):
        self.prior, self.opened, self.resolve_by = float(prior), opened, resolve_by
        self.decays: list[tuple[str, str]] = [("", decay)] if isinstance(decay, str) else sorted(decay)
        self.decay = self.decays[-1][1]  # the rule in force from the last version on
        judgements = list(judgements)
        # whose track this is (MODEL: nobody's), from when they count, and whether it is the whole team
        self.name = name or MODEL
        self.joined = min((j.as_of for j in judgements if j.as_of >= opened), default=None)
        self.team_of_one = team_of_one
        self.held: tuple[str, int, float] | None = None  # (from, observation, probability): criterion met
        evidence = [e for e in evidence if e.observed_on >= opened]
        counted = counted_ratios(evidence)
        # Evidence on the day of a judgement comes first: the judgement was made knowing it.
        events: list[tuple[str, int, int, Any]] = [(e.observed_on, 0, e.observation_id, e) for e in evidence]
        events += [(j.as_of, 1, j.update_id, j) for j in judgements if j.as_of >= opened]
        events.sort(key=lambda x: x[:3])
        p, on = self.prior, opened
        self.links: list[Link] = [Link(opened, "prior", self.prior, self.prior, prior_rationale)]
        for day, _order, _id, event in events:
            before = self.decayed(p, on, day)
            if (step := _decay_link(p, before, on, day)) is not None:
                self.links.append(step)
            p = self._event(day, before, event, counted)
            on = day
        self.dates = [link.on for link in self.links if link.method != "decay"]
        self.values = [link.after for link in self.links if link.method != "decay"]
        self.moved = [link.on for link in self.links if link.method in ("manual", "indicator")]
        self._by_day: dict[str, list[tuple[tuple[int, int], float]]] | None = None
        self._daily: tuple[str, list[float]] | None = None
        self._counted: dict[str, list[tuple[str, float]]] | None = None

    def _event(self, day: str, before: float, event: Judgement | Evidence, counted: Mapping[int, float]) -> float:
        """Append the link of one event; the probability after it."""
        held = f"; held at {describe(before)}: criterion met by observation {self.held[1]}" if self.held else ""
        if isinstance(event, Judgement):
            p = before if self.held else event.probability
            self.links.append(Link(day, "manual", before, p, event.rationale + held, update_id=event.update_id,
                                   forecaster=event.forecaster))  # fmt: skip
            return p
        ratio = counted[event.observation_id]
        fired, own = counted_ratio(event.indicator, event.value)
        decides = event.indicator.decides
        why: tuple[Any, ...]  # (the function that writes the rationale, its arguments...)
        if self.held:
            p, why = before, (_held_rationale, event, own, ratio, held)
        elif decides and fired:
            p = P_MAX if decides == "yes" else P_MIN
            self.held = (day, event.observation_id, p)
            ratio, why = odds(p) / odds(before), (_decisive_rationale, event)
        else:
            p, why = apply_likelihood_ratio(before, ratio), (_evidence_rationale, event, own, ratio)
        self.links.append(Link(day, "indicator", before, p, why, event.observation_id, event.indicator.id, own, ratio,
                               forecaster=event.applied_by))  # fmt: skip
        return p

    def decayed(self, p: float, start: str, end: str) -> float:
        """`p` at `start` seen at `end` with no news: decay by the rule in force on each day between
        (none once the criterion is met)."""
        if end <= start or (self.held is not None and start >= self.held[0]):
            return p
        if len(self.decays) == 1:
            return decayed(p, start, end, self.resolve_by) if self.decay == "hazard" else p
        day = start
        for k, (_effective, rule) in enumerate(self.decays):
            until = self.decays[k + 1][0] if k + 1 < len(self.decays) else end
            if until <= day:
                continue
            upto = min(until, end)
            if rule == "hazard":
                p = decayed(p, day, upto, self.resolve_by)
            day = upto
            if day >= end:
                break
        return p

    def _simple(self) -> bool:
        """One decay rule throughout and no criterion met: the day-by-day loops may take the fast path."""
        return len(self.decays) == 1 and self.held is None

    def at(self, day: str) -> float:
        """The standing probability on `day` (after everything dated that day)."""
        i = bisect.bisect_right(self.dates, day)
        if i == 0:
            return self.prior
        return self.decayed(self.values[i - 1], self.dates[i - 1], day)

    def before(self, day: str) -> float:
        """The standing probability on the day before `day`."""
        return self.at(previous_day(day))

    def on_days(self, offsets: Sequence[int]) -> list[float]:
        """`at` on each day `offsets` (ascending) days after `opened`, in one pass over the anchors."""
        if not self._simple():
            first_day = _date(self.opened)
            return [self.at((first_day + dt.timedelta(days=k)).isoformat()) for k in offsets]
        first, r = ordinal(self.opened), ordinal(self.resolve_by)
        starts = [ordinal(day) for day in self.dates]
        hazard, out, i = self.decay == "hazard", [], 0
        for k in offsets:
            d = first + k
            while i < len(starts) and starts[i] <= d:
                i += 1
            if i == 0:
                out.append(self.prior)
            else:
                out.append(_hazard(self.values[i - 1], starts[i - 1], d, r) if hazard else self.values[i - 1])
        return out

    def last_moved(self, day: str) -> str | None:
        """The date of the last manual update or applied observation on or before `day`."""
        i = bisect.bisect_right(self.moved, day)
        return self.moved[i - 1] if i else None

    def members(self, day: str) -> dict[str, float]:
        """Who stands where on `day`: this track's forecaster (the model before their first update)."""
        counts = self.name != MODEL and (self.joined is None or self.joined <= day)
        return {self.name if counts else MODEL: self.at(day)}

    def spread(self, day: str) -> tuple[float, float] | None:
        return None  # one forecaster

    def counted(self) -> dict[str, list[tuple[str, float]]]:
        """indicator -> (the day, the decibans counted) of each of its observations this track applied,
        in chain order: what the signpost diagnostics sum."""
        if self._counted is None:
            self._counted = {}
            for link in self.links:
                if link.method == "indicator" and link.indicator is not None:
                    self._counted.setdefault(link.indicator, []).append((link.on, link.decibans or 0.0))
        return self._counted

    def criterion_met(self, day: str) -> tuple[str, int, float] | None:
        """(the day, the observation, the held probability) when a decisive signpost's firing applied
        on or before `day` met (or ruled out) the resolution criterion, else None."""
        return self.held if self.held is not None and self.held[0] <= day else None

    def side_by_side(self) -> dict[str, tuple[Track, str]]:
        """The forecasters a score compares with this view: the one forecaster who is the whole team
        (alone, they are the team), else nobody (the model, or one forecaster's view with `--by`)."""
        return {self.name: (self, self.joined)} if self.team_of_one and self.joined else {}

    def links_until(self, day: str) -> list[Link]:
        """The chain that explains `at(day)`: every link dated <= day, then the decay on to `day`."""
        # a decay link always precedes the event on its own date, so the last link kept is an event
        links = [link for link in self.links if link.on <= day]
        last = links[-1]
        step = _decay_link(last.after, self.decayed(last.after, last.on, day), last.on, day)
        return [*links, step] if step is not None else links

    def before_events(self, day: str) -> float:
        """The probability on `day` before any of that day's events: the last earlier event's value
        decayed on to `day`, with the same arithmetic as this track's own decay link to it."""
        i = bisect.bisect_left(self.dates, day) - 1
        return self.prior if i < 0 else self.decayed(self.values[i], self.dates[i], day)

    def after_event(self, day: str, key: tuple[int, int]) -> float:
        """The probability on `day` just after its event `key` ((0, observation id) or (1, update id)),
        counting the events of that day up to it: what a team's chain reads for each of a day's events."""
        value = self.before_events(day) if day > self.opened else self.prior
        for own, after in self._events_on().get(day, ()):
            if own <= key:
                value = after
        return value

    def _events_on(self) -> dict[str, list[tuple[tuple[int, int], float]]]:
        """day -> that day's events in chain order, each (its key, the value after it): built once, so
        a team's chain reads each member's day in a lookup instead of a pass over every link."""
        if self._by_day is None:
            self._by_day = {}
            for link in self.links:
                if link.method in ("manual", "indicator"):
                    own = (1, link.update_id or 0) if link.method == "manual" else (0, link.observation_id or 0)
                    self._by_day.setdefault(link.on, []).append((own, link.after))
        return self._by_day

    def daily(self, end: str, method: str | None = None) -> list[float]:
        """The probability on each day from `opened` to the day before `end` (one track: no pool, so
        `method` changes nothing). The last series is kept: a team and the scores of its forecasters
        ask each member for the same one (callers do not change it)."""
        if self._daily is not None and self._daily[0] == end:
            return self._daily[1]
        out = self._series(end)
        self._daily = (end, out)
        return out

    def _series(self, end: str) -> list[float]:
        first, last, r = ordinal(self.opened), ordinal(end), ordinal(self.resolve_by)
        if not self._simple():
            first_day = _date(self.opened)
            return [self.at((first_day + dt.timedelta(days=k)).isoformat()) for k in range(max(last - first, 0))]
        starts = [ordinal(day) for day in self.dates] + [last]
        out: list[float] = []
        for k, p in enumerate(self.values):
            a, b = max(starts[k], first), min(starts[k + 1], last)
            if b <= a:
                continue
            if self.decay != "hazard" or a >= r:
                out.extend([p] * (b - a))
                continue
            # `_hazard(p, a, d, r)` for each day d, written out (this loop runs for every day of every
            # scored proposition): up to r the value is at most p, so only the lower clamp can act;
            # after r it holds the value of r
            q, span, upto = 1.0 - p, r + 1 - a, min(b, r + 1)
            out.append(p)
            out.extend(max(P_MIN, 1.0 - q ** ((r + 1 - d) / span)) for d in range(a + 1, upto))
            out.extend([max(P_MIN, 1.0 - q ** (1 / span))] * (b - upto))
        return out


def _decisive_rationale(e: Evidence) -> str:
    met = "met" if getattr(e.indicator, "decides", None) == "yes" else "ruled out"
    return (f"criterion {met} by observation {e.observation_id}: {e.indicator.id} fired (decides: "
            f"{e.indicator.decides}); held at {describe(P_MAX if met == 'met' else P_MIN)} until resolved")  # fmt: skip


def _held_rationale(e: Evidence, own: float | None, counted: float, held: str) -> str:
    return _evidence_rationale(e, own, counted) + held


def _evidence_rationale(e: Evidence, own: float | None, counted: float) -> str:
    state = "fired" if counted_ratio(e.indicator, e.value)[0] else "did not fire"
    reading = f" (reading {e.value:g})" if e.value is not None and e.indicator.kind != "event" else ""
    text = f"{e.indicator.id} {state}{reading}"
    if own:
        text += f": likelihood ratio {own:g} ({decibans(own):+.1f} dB)"
    if abs(decibans(counted) - decibans(own or 1.0)) > 1e-9:
        text += f"{',' if own else ':'} counted {decibans(counted):+.1f} dB ({_why_less(e)})"
    return text


def _why_less(e: Evidence) -> str:
    if e.indicator.group_name:
        return f"group {e.indicator.group_name}: one development counted once"
    repeats = repeats_of(e.indicator)
    if repeats == "latest":
        return "repeats: latest: the change from its previous reading"
    return f"repeats: {repeats}"


# -- the team ------------------------------------------------------------------------------------------
MODEL = "model"  # the name of the track with no manual update: prior + evidence + decay


class Team:
    """A proposition's team probability when two or more forecasters have made a manual update: on each
    day, the pool (`probability.pool`: the median unless the catalog's `team` or `--pool` says another)
    of the standing probabilities of those who have forecast by then, each on their own track (their
    updates, the shared evidence and decay); the model's track before anyone has. It answers what a
    `Track` answers (the `View` protocol), so every view shows either without asking which it has.

    `pools`: one method, or (effective, method) versions of the catalog's `team` key, each in force
    from its day, so a changed method pools the days from then on and no earlier number moves."""

    def __init__(self, tracks: Mapping[str, Track], model: Track, pools: str | Sequence[tuple[str, str]] = DEFAULT_POOL):
        self.tracks, self.model = dict(tracks), model
        self.pools: list[tuple[str, str]] = [("", pools)] if isinstance(pools, str) else sorted(pools)
        self.joined = {name: t.joined for name, t in self.tracks.items() if t.joined is not None}
        self.prior, self.opened, self.resolve_by, self.decay = model.prior, model.opened, model.resolve_by, model.decay
        self._chain: list[Link] | None = None

    @property
    def links(self) -> list[Link]:
        """The team's chain, built the first time a view asks for it (a standing probability, a
        member's number or the last move need none of it)."""
        if self._chain is None:
            self._chain = self._links()
        return self._chain

    def forecasters(self, day: str) -> list[str]:
        """Who counts on `day`: everyone whose first manual update is dated on or before it."""
        return sorted(name for name, first in self.joined.items() if first <= day)

    def members(self, day: str) -> dict[str, float]:
        """Each counted forecaster's standing probability on `day` (the model's if nobody counts)."""
        names = self.forecasters(day)
        return {name: self.tracks[name].at(day) for name in names} if names else {MODEL: self.model.at(day)}

    def side_by_side(self) -> dict[str, tuple[Track, str]]:
        return {name: (self.tracks[name], first) for name, first in self.joined.items()}

    def pool_on(self, day: str) -> str:
        """The pooling method in force on `day`."""
        return self.pools[0][1] if len(self.pools) == 1 else in_force(self.pools, day)

    def at(self, day: str) -> float:
        return pool(list(self.members(day).values()), self.pool_on(day))

    def before(self, day: str) -> float:
        return self.at(previous_day(day))

    def on_days(self, offsets: Sequence[int]) -> list[float]:
        first = _date(self.opened)
        return [self.at((first + dt.timedelta(days=k)).isoformat()) for k in offsets]

    def last_moved(self, day: str) -> str | None:
        # the team's chain holds every track's updates and the shared evidence, so its last move is theirs
        moved = [d for t in self.tracks.values() if (d := t.last_moved(day)) is not None]
        return max(moved) if moved else None

    def counted(self) -> dict[str, list[tuple[str, float]]]:
        # the evidence is shared: the team's chain shows each observation as the first track counts it
        return self.model.counted()

    def criterion_met(self, day: str) -> tuple[str, int, float] | None:
        return self.model.criterion_met(day)  # the evidence is shared: every track holds from the same day

    def spread(self, day: str) -> tuple[float, float] | None:
        """(lowest, highest) of the forecasters' probabilities on `day`, when more than one counts."""
        values = list(self.members(day).values())
        return (min(values), max(values)) if len(values) > 1 else None

    def daily(self, end: str, method: str | None = None) -> list[float]:
        """The team probability on each day from `opened` to the day before `end`, pooled by the method
        in force on each day, or by `method` on every day (what `score --compare-pools` scores)."""
        start = ordinal(self.opened)
        series = {MODEL: self.model.daily(end), **{n: t.daily(end) for n, t in self.tracks.items()}}
        joined = {n: ordinal(first) - start for n, first in self.joined.items()}
        methods = self._methods(len(series[MODEL])) if method is None else None
        out = []
        for k, model_p in enumerate(series[MODEL]):
            active = [series[n][k] for n in self.tracks if joined[n] <= k]
            out.append(pool(active, method or methods[k]) if active else model_p)  # type: ignore[index]
        return out

    def _methods(self, days: int) -> list[str]:
        """The method in force on each of `days` days from `opened`."""
        if len(self.pools) == 1:
            return [self.pools[0][1]] * days
        first = _date(self.opened)
        return [self.pool_on((first + dt.timedelta(days=k)).isoformat()) for k in range(days)]

    def links_until(self, day: str) -> list[Link]:
        links = [link for link in self.links if link.on <= day]
        last = links[-1]
        step = _decay_link(last.after, self.at(day), last.on, day, self._who(day)) if day > last.on else None
        return [*links, step] if step is not None else links

    def _after_event(self, day: str, key: tuple[int, int]) -> float:
        """The team's probability on `day` just after its event `key`: a day with two events shows each
        one's own step, and the last one ends at `at(day)`."""
        names = self.forecasters(day)
        if not names:
            return self.model.after_event(day, key)
        return pool([self.tracks[name].after_event(day, key) for name in names], self.pool_on(day))

    def _before_events(self, day: str) -> float:
        """The team's probability on `day` before any of that day's events: each member of the day
        before, decayed on to `day` (the model's when nobody had forecast yet)."""
        names = self.forecasters(previous_day(day))
        if not names:
            return self.model.before_events(day)
        return pool([self.tracks[name].before_events(day) for name in names], self.pool_on(previous_day(day)))

    def _who(self, day: str) -> str:
        members = self.members(day)
        if len(members) < 2:
            return ""
        method = self.pool_on(day)
        named = "team median" if method == "median" else f"team {method} pool"
        return f"; {named} of " + ", ".join(f"{name} {p:.2f}" for name, p in sorted(members.items()))

    def _links(self) -> list[Link]:
        """The chain of the team number: each event (a forecaster's update, an observation counted on
        every track, a new pooling method taking effect) is one link whose before and after are team
        pools, and whose rationale names each forecaster's number."""
        events: dict[tuple[str, str, int], Link] = {}
        for k in range(1, len(self.pools)):
            (effective, method), previous = self.pools[k], self.pools[k - 1][1]
            if effective > self.opened and method != previous:
                events[(effective, "pool", k)] = Link(effective, "pool", 0.0, 0.0, f"team pool {previous} -> {method} (catalog `team`)")
        for track in [self.model, *self.tracks.values()]:
            for link in track.links:
                if link.method == "manual":
                    events[(link.on, "manual", link.update_id or 0)] = link
                elif link.method == "indicator":
                    events.setdefault((link.on, "indicator", link.observation_id or 0), link)
        links = [self.model.links[0]]
        on = self.opened
        order = {"pool": 0, "indicator": 1, "manual": 2}  # a method in force from a day pools all of it
        for (day, _method, _id), link in sorted(events.items(), key=lambda item: (item[0][0], order[item[0][1]], item[0][2])):
            before = self._before_events(day) if day > self.opened else self.prior
            # dated on the event's day, as a track dates it: the decay runs up to the event. Dated the
            # day before, a row's date and length moved when a later forecaster joined the team.
            if day > on and (step := _decay_link(links[-1].after, before, on, day)) is not None:
                links.append(step)
            if link.method == "pool":
                names = self.forecasters(previous_day(day))
                after = pool([self.tracks[n].before_events(day) for n in names], self.pool_on(day)) if names else before
                if after != before:
                    links.append(Link(day, "pool", before, after, link.rationale + self._who(day)))
                    on = day
                continue
            after = self._after_event(day, (0 if link.method == "indicator" else 1, _id))
            same_day = links[-1].on == day and links[-1].method != "decay"
            links.append(
                Link(day, link.method, links[-1].after if same_day else before, after, link.rationale + self._who(day),
                     link.observation_id, link.indicator, link.likelihood_ratio, link.counted_ratio, link.update_id,
                     link.forecaster)
            )  # fmt: skip
            on = day
        return links


class View(Protocol):
    """What every view asks of a proposition's probability, whoever's it is: a `Track` (the model's,
    one forecaster's, or a team of one) or a `Team`."""

    prior: float
    opened: str
    resolve_by: str

    @property
    def links(self) -> list[Link]: ...
    def at(self, day: str) -> float: ...
    def before(self, day: str) -> float: ...
    def on_days(self, offsets: Sequence[int]) -> list[float]: ...
    def daily(self, end: str, method: str | None = None) -> list[float]: ...
    def links_until(self, day: str) -> list[Link]: ...
    def last_moved(self, day: str) -> str | None: ...
    def members(self, day: str) -> dict[str, float]: ...
    def spread(self, day: str) -> tuple[float, float] | None: ...
    def criterion_met(self, day: str) -> tuple[str, int, float] | None: ...
    def counted(self) -> dict[str, list[tuple[str, float]]]: ...
    def side_by_side(self) -> dict[str, tuple[Track, str]]: ...


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# -- from stored rows ---------------------------------------------------------------------------------
def build_tracks(
    propositions: Iterable[PropositionRow],
    indicators: Mapping[str, Signpost],
    updates: Iterable[UpdateRow],
    evidence: Iterable[ObservationRow],
    by: str | None = None,
    versions: Mapping[str, Sequence[tuple[str, Signpost]]] | None = None,
    decays: Mapping[str, Sequence[tuple[str, str]]] | None = None,
    pools: Mapping[str, Sequence[tuple[str, str]]] | None = None,
    pool: str | None = None,
) -> dict[str, View]:
    """The team's track per proposition (or, with `by`, that forecaster's; the model's where they made
    no update) from stored rows: live manual `updates` and applied `evidence`. `versions` holds the
    (effective, definition) versions of each indicator that has changed (`indicators` holds the
    others), `decays` the (effective, rule) versions of each proposition whose `decay` has, `pools`
    those of its `team` method; `pool` pools every team by one method on every day instead."""
    pools = pools or {}
    versions, decays = versions or {}, decays or {}
    judgements: dict[str, dict[str, list[Judgement]]] = defaultdict(lambda: defaultdict(list))
    for u in updates:
        j = Judgement(u.as_of, u.id, float(u.probability), u.rationale or "", u.forecaster or "")
        judgements[u.proposition_id][j.forecaster].append(j)
    seen: dict[str, list[Evidence]] = defaultdict(list)
    for e in evidence:
        kept = versions.get(e.indicator_id)
        signpost = in_force(kept, e.observed_on) if kept else indicators[e.indicator_id]
        seen[e.proposition_id].append(Evidence(e.id, e.observed_on, signpost, e.value, e.applied_by or ""))
    out: dict[str, View] = {}
    for p in propositions:

        def track(own: Iterable[Judgement], name: str = "", alone: bool = False, p: PropositionRow = p) -> Track:
            return Track(
                prior=float(p.prior),
                opened=p.opened,
                resolve_by=p.resolve_by,
                decay=decays.get(p.id) or p.decay or DEFAULT_DECAY,
                judgements=own,
                evidence=seen.get(p.id, ()),
                prior_rationale=f"{'analyst' if p.origin == 'analyst' else 'commentary'}: {p.prior_phrase!r}" if p.prior_phrase else "prior",
                name=name,
                team_of_one=alone,
            )

        people = {name: js for name, js in judgements.get(p.id, {}).items()
                  if any(j.as_of >= p.opened for j in js) and not is_benchmark(name)}  # fmt: skip
        if by is not None and is_benchmark(by):
            out[p.id] = _crowd_track(p, judgements.get(p.id, {}).get(by, ()), by)
        elif by is not None:
            out[p.id] = track(people.get(by, ()), by)
        elif len(people) <= 1:  # nobody (the model's track) or one forecaster, who is the team
            name, own = next(iter(people.items()), ("", []))
            out[p.id] = track(own, name, alone=True)
        else:
            tracks = {name: track(js, name) for name, js in people.items()}
            # Before their first update a forecaster's track is the model's (prior, evidence, decay), so
            # any of them stands in for the model.
            method = pool or pools.get(p.id) or getattr(p, "team", None) or DEFAULT_POOL
            out[p.id] = Team(tracks, next(iter(tracks.values())), method)
    return out


def _crowd_track(p: PropositionRow, own: Iterable[Judgement], name: str) -> Track:
    """A benchmark's track (a crowd's published numbers, `records.is_benchmark`): its own updates only,
    with none of our evidence and no decay, since its number holds until the platform publishes another."""
    return Track(prior=float(p.prior), opened=p.opened, resolve_by=p.resolve_by, decay="none", judgements=own, name=name)


def benchmark_tracks(propositions: Iterable[PropositionRow], updates: Iterable[UpdateRow]) -> dict[str, dict[str, Track]]:
    """proposition -> each benchmark's track there: beside the team, never in it."""
    mine: dict[str, dict[str, list[Judgement]]] = defaultdict(lambda: defaultdict(list))
    for u in updates:
        if is_benchmark(u.forecaster or ""):
            mine[u.proposition_id][u.forecaster].append(Judgement(u.as_of, u.id, float(u.probability), u.rationale or "", u.forecaster))
    return {p.id: {name: _crowd_track(p, js, name) for name, js in sorted(mine[p.id].items())}
            for p in propositions if p.id in mine}  # fmt: skip


def resolution_in_force(resolutions: Sequence[ResolutionRow], as_of: str) -> ResolutionRow | None:
    """The one rule for a proposition's outcome as of a date: the latest recorded live resolution
    (a forced re-resolution supersedes the earlier ones), once its `resolved_on` has come."""
    if not resolutions:
        return None
    latest = max(resolutions, key=lambda r: r.id)
    return latest if latest.resolved_on <= as_of else None


def shown_probability(track: View, resolution: ResolutionRow | None, day: str) -> float:
    """What every view shows as the probability on `day`: the standing probability, or, once resolved,
    the final forecast (the standing probability on the day before `resolved_on`)."""
    if resolution is not None:
        return track.before(resolution.resolved_on)
    return track.at(day)


def pool_of(track: View, day: str) -> str | None:
    """The method that pools the number a view shows on `day`: a team's method in force then, or None
    for one track (nothing is pooled)."""
    return track.pool_on(day) if isinstance(track, Team) else None


# -- the anchors a standing probability needs, kept between commands ------------------------------------
# A derived cache, never the truth. `Track.at(d)` reads only the latest anchor (an event's date and the
# value after it) on or before d, then decays it to d. So a track keeps, for the cache, two lists of
# anchors (`state_of`): all of them, and a thin one (`thin=True`, the head): the anchor in force at each
# month's end and the last one. The thin one answers exactly on every month-end and on every day from the last
# anchor on (what `list`, `review` and `show` ask as of today), and refuses any other day rather than
# answer wrongly (`Thin`). Bump the version whenever the arithmetic of a track changes: every cached
# track is then derived afresh.
CACHE_VERSION = "1"


def _month_ends(first: str, last: str) -> list[str]:
    """Every month's last day from `first`'s month to `last`'s (no limit: not a user's range)."""
    out, month = [], first[:7]
    while month <= last[:7]:
        out.append(month_end(month))
        month = next_month(month)
    return out


def _thinned(dates: Sequence[str], keep_days: Sequence[str]) -> list[int]:
    """The indices of `dates` (sorted) in force on each of `keep_days`, and the last one."""
    kept = {i - 1 for day in keep_days if (i := bisect.bisect_right(dates, day)) > 0}
    if dates:
        kept.add(len(dates) - 1)
    return sorted(kept)


def _track_state(t: Track, thin: bool) -> dict[str, Any]:
    state: dict[str, Any] = {"name": t.name, "joined": t.joined, "team_of_one": t.team_of_one,
                             "held": list(t.held) if t.held else None}  # fmt: skip
    dates, values, moved = t.dates, t.values, t.moved  # `moved` is a subset of `dates`: both end by dates[-1]
    if thin:
        ends = _month_ends(t.opened, dates[-1])
        keep = _thinned(dates, ends)
        dates, values = [dates[i] for i in keep], [values[i] for i in keep]
        moved = [moved[i] for i in _thinned(moved, ends)]
    return {**state, "dates": dates, "values": values, "moved": moved}


def state_of(view: View, thin: bool = False) -> dict[str, Any]:
    """What `view_of` needs to answer every standing question as `view` does, as plain JSON values:
    every anchor, or with `thin` the head (see above), which also records its last day."""
    tracks: list[Track] = list(view.tracks.values()) if isinstance(view, Team) else [view]  # type: ignore[list-item]
    common: dict[str, Any] = {"prior": view.prior, "opened": view.opened, "resolve_by": view.resolve_by,
                              "decays": tracks[0].decays}  # fmt: skip
    if thin:
        common["last"] = max(t.dates[-1] for t in tracks)
    else:
        common["counted"] = view.counted()
    if isinstance(view, Team):
        model = next(name for name, t in view.tracks.items() if t is view.model)
        return {**common, "pools": view.pools, "model": model, "tracks": [_track_state(t, thin) for t in tracks]}
    assert isinstance(view, Track)
    return {**common, "track": _track_state(view, thin)}


def head_covers(state: Mapping[str, Any], day: str) -> bool:
    """Whether a thin state (`state_of(..., thin=True)`) answers for `day` exactly."""
    return day >= state["last"] or day < state["opened"] or (day[8:] >= "28" and _is_month_end(day))


@functools.lru_cache(maxsize=256)
def _is_month_end(day: str) -> bool:
    return month_end(day[:7]) == day


class Thin(Track):
    """A track rebuilt from a thin state: exact on the days `head_covers`, an error on any other (a
    caller that needs those derives the track, or reads every anchor)."""

    head: Mapping[str, Any]

    def _covered(self, day: str) -> str:
        if not head_covers(self.head, day):
            raise RuntimeError(f"the cached head of a track does not cover {day}: read every anchor")
        return day

    def at(self, day: str) -> float:
        return super().at(self._covered(day))

    def before_events(self, day: str) -> float:
        raise RuntimeError("a cached head has no day-by-day anchors")

    def last_moved(self, day: str) -> str | None:
        return super().last_moved(self._covered(day))

    def on_days(self, offsets: Sequence[int]) -> list[float]:
        raise RuntimeError("a cached head has no day-by-day anchors")

    def daily(self, end: str, method: str | None = None) -> list[float]:
        raise RuntimeError("a cached head has no day-by-day anchors")


class _NoChain(list):
    """The `links` of a track rebuilt from its anchors: asking for the chain is a bug, not an empty one."""

    def __iter__(self):
        raise RuntimeError("a track read from the cache has no chain: derive it (build_tracks) to explain it")

    __len__ = __getitem__ = __iter__  # type: ignore[assignment]


def view_of(state: Mapping[str, Any], pool: str | None = None) -> View:
    """The view `state_of` described: a track, or a team of tracks (pooled by `pool` if given), that
    answers `at`, `before`, `daily`, `members`, `last_moved` and `criterion_met` exactly as the derived
    one does (a thin state: on the days it covers), with no chain."""
    decays = [tuple(d) for d in state["decays"]]
    kind = Thin if "last" in state else Track

    def track(s: Mapping[str, Any]) -> Track:
        t = kind.__new__(kind)
        t.prior, t.opened, t.resolve_by = state["prior"], state["opened"], state["resolve_by"]
        t.decays, t.decay = decays, decays[-1][1]
        t.name, t.joined, t.team_of_one = s["name"], s["joined"], s["team_of_one"]
        t.held = tuple(s["held"]) if s["held"] else None
        t.dates, t.values, t.moved = s["dates"], s["values"], s["moved"]
        t.links, t._by_day, t._daily = _NoChain(), None, None
        t._counted = {k: [(on, db) for on, db in v] for k, v in state["counted"].items()} if "counted" in state else None
        if isinstance(t, Thin):
            t.head = state
        return t

    if "track" in state:
        return track(state["track"])
    tracks = {s["name"]: track(s) for s in state["tracks"]}
    return Team(tracks, tracks[state["model"]], pool or [(p[0], p[1]) for p in state["pools"]])
