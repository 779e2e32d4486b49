"""`Tracker`: the public Python API. The CLI calls only this module, so a notebook can do everything
the command line can. The small helpers a caller needs to show results (`describe`, `icd203_term`,
`to_csv`, `choice`, `month_range`) are re-exported here so callers import one module."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import rules, store
from .catalog import polarity_warning
from .dates import (
    as_of_or_today,
    month_begun,
    month_end,
    month_range,
    parse_date,
    parse_month,
    previous_day,
    previous_month,
    today,
)
from .db import Database
from .errors import InputError, ValidationErrors
from .evidence import (
    Link,
    View,
    build_tracks,
    head_covers,
    pool_of,
    resolution_in_force,
    shown_probability,
    view_of,
)  # fmt: skip
from .formats import change_points as change_points  # re-exported for the CLI
from .formats import table_cell
from .probability import POOLS, counted_ratio, decibans, describe, icd203_term, parse_probability, shown_word
from .records import IndicatorRow, ObservationRow, PropositionRow, ResolutionRow, exported
from .scorecard.dataset import BATCH, cached_full, cached_heads, uncached, write_cached
from .scoring import SCORE_COLUMNS
from .validate import (
    OUTCOMES,
    RETRACT_TARGETS,
    check_name,
    check_text,
    choice,
    forecaster,
    lookalike,
    shown_path,
    unknown,
)

if TYPE_CHECKING:
    import pandas as pd

    from .io.importing import ImportReport, PeerReport
    from .scorecard.scores import ScoreResult

__all__ = [
    "SCORE_COLUMNS",
    "DemoResult",
    "ExtractResult",
    "ObserveResult",
    "Standing",
    "SyncReport",
    "Tracker",
    "choice",
    "decibans",
    "describe",
    "extract",
    "icd203_term",
    "month_range",
    "parse_probability",
    "report_months",
    "run_demo",
    "shown_word",
    "table_cell",
    "to_csv",
]


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    vanished: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)  # what each changed key does, one sentence each
    warnings: list[str] = field(default_factory=list)


@dataclass
class ObserveResult:
    """What an observation does to its proposition, on its own date, as the chain counts it."""

    observation_id: int
    indicator: str
    proposition: str
    observed_on: str
    link: Link | None  # None: context (dated before the proposition opened), or no ratio applies
    applied: bool = False  # with `dry_run`: whether it would be
    fired: bool = False
    context: bool = False
    dry_run: bool = False  # nothing was written (`observation_id` is 0)
    shared: list[ObserveResult] = field(default_factory=list)  # what it does for each proposition it bears on


@dataclass
class Standing:
    id: str
    statement: str
    status: str
    probability: float
    as_of: str
    resolve_by: str
    prior: float
    updated_on: str | None = None  # the last manual update or applied observation on or before as_of
    change: float | None = None  # since `since` (None when it opened after that date)
    since: str | None = None
    question: str = ""  # what the probability is of
    tags: tuple[str, ...] = ()


class Tracker:
    """Open a forecast database. `create=True` makes it (and its schema) when missing; `upgrade=False`
    opens an older database without applying its pending migrations (see `upgrade`)."""

    def __init__(self, db: str | os.PathLike | None = None, *, create: bool = False, upgrade: bool = True):
        self.db = Database(db, create=create, upgrade=upgrade)

    def upgrade(self) -> list[str]:
        """Apply pending schema migrations; returns their names."""
        return self.db.upgrade()

    def schema_version(self) -> str:
        return self.db.schema_version()

    def integrity_check(self) -> str:
        return self.db.integrity_check()

    # -- the derived cache of tracks ------------------------------------------------------------
    @contextlib.contextmanager
    def _write(self, bulk: bool = False) -> Iterator[Any]:
        """One write transaction, which also writes again, before it commits, the cached tracks its
        changes emptied (the triggers of `migrations.cache_triggers` empty them)."""
        with self.db.write(bulk=bulk) as conn:
            yield conn
            self._fill_cache(conn, uncached(conn))

    def _fill_cache(self, conn, ids: list[str]) -> int:
        """Derive the tracks of `ids` from the record and cache them, a batch at a time."""
        for k in range(0, len(ids), BATCH):
            write_cached(conn, self._derived(conn, ids[k : k + BATCH]))
        return len(ids)

    def rebuild_cache(self) -> int:
        """Derive every proposition's tracks from the record and cache them afresh (`db rebuild-cache`);
        how many were written."""
        with self.db.write() as conn:
            store.clear_states(conn)
            return self._fill_cache(conn, store.proposition_ids(conn))

    def _derived(
        self, conn, ids: list[str] | None, by: str | None = None, pool: str | None = None,
        extra: list[ObservationRow] | None = None, props: list[PropositionRow] | None = None,
    ) -> dict[str, View]:  # fmt: skip
        """The tracks of `ids` (None: every proposition) derived from their whole record: the team's
        (pooled as the catalog says, or by `pool`), or with `by` that forecaster's; `extra`
        observations count as if applied; `props`: their rows, when the caller has read them."""
        props = props if props is not None else store.all_propositions(conn, ids)
        indicators = {i.id: i for i in store.all_indicators(conn, ids)}
        versions, decays, pools = store.definition_versions(conn, indicators, ids)
        evidence = store.applied_evidence(conn, ids) + (extra or [])
        return build_tracks(props, indicators, store.manual_updates(conn, ids), evidence, by=by, versions=versions,
                            decays=decays, pools=pools, pool=pool)  # fmt: skip

    def _tracks(
        self, conn, ids: list[str], days: list[str], by: str | None = None, pool: str | None = None, every: bool = False,
        also: dict[str, list[str]] | None = None,
    ) -> dict[str, View]:  # fmt: skip
        """The team's tracks of `ids` (pooled by `pool` if given) from the cache, for a caller that asks
        them about `days` (and each proposition in `also` about its own days too): the cached head
        where it covers them, every cached anchor where it does not, derived where nothing is cached.
        One forecaster's (`by`) are always derived. `every`: `ids` are all the propositions."""
        which = None if every else ids
        if by is not None:
            return self._derived(conn, which, by=by)
        heads, out, deeper = cached_heads(conn, which), {}, []
        for pid in ids:
            if (head := heads.get(pid)) is not None:
                if all(head_covers(head, d) for d in [*days, *(also or {}).get(pid, ())]):
                    out[pid] = view_of(head, pool)
                else:
                    deeper.append(pid)
        out.update(cached_full(conn, deeper, pool))
        missing = [pid for pid in ids if pid not in out]
        if missing:
            out.update(self._derived(conn, None if every and len(missing) > BATCH else missing, pool=pool))
        return out

    def close(self) -> None:
        self.db.dispose()

    def __enter__(self) -> Tracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- definitions ------------------------------------------------------------------------
    def sync(self, catalog: str | os.PathLike = "indicators", restate: bool = False, reason: str | None = None) -> SyncReport:
        """Load new and changed definitions from a catalog folder; never deletes anything. A change of how
        evidence counts is a version from today (or the file's later `effective` day) on; a change that
        alters numbers already shown is a restatement, refused unless `restate` with a `reason`, then
        recorded (see `definitions`)."""
        if restate:
            if not (reason or "").strip():
                raise InputError("--restate needs a reason: say why the record is restated", "reason")
            reason = check_text(reason, "reason", required=True)
        elif reason is not None:
            raise InputError("--reason goes with --restate (it says why a restatement is made)", "reason")
        definitions = check_catalog(catalog)
        with self._write() as conn:
            result, plan = _sync_in(conn, definitions, restate, reason)
            retired = store.retired_indicators(conn)
        result["vanished"] = [v for v in result["vanished"] if v.removeprefix("indicator ") not in retired]
        back = sorted(i for i in retired if any(i == ind.id for d in definitions for ind in d.indicators))
        plan.warnings += [f"indicator {i} is retired but in the catalog again; it stays retired" for i in back]
        plan.warnings += [w for d in definitions if (w := polarity_warning(d)) is not None]
        drafts = sorted(Path(catalog, "drafts").glob("*.yaml"))
        waiting = [f"{len(drafts)} draft(s) in {Path(catalog, 'drafts')} are not synced: fill each TODO, then move it "
                   f"into {catalog}"] if drafts else []  # fmt: skip
        return SyncReport(**result, changes=[str(c) for c in plan.changes], warnings=[*plan.warnings, *waiting])

    # -- lookups ------------------------------------------------------------------------------
    def _proposition(self, conn, proposition_id: str) -> PropositionRow:
        row = store.get_proposition(conn, proposition_id) if isinstance(proposition_id, str) else None
        if row is None:
            raise unknown("proposition", proposition_id, store.proposition_ids(conn))
        return row

    def _indicator(self, conn, indicator_id: str) -> IndicatorRow:
        row = store.get_indicator(conn, indicator_id) if isinstance(indicator_id, str) else None
        if row is None:
            raise unknown("indicator", indicator_id, store.indicator_ids(conn))
        return row

    # -- state --------------------------------------------------------------------------------
    def _track(
        self, conn, prop: PropositionRow, extra: list[ObservationRow] | None = None, by: str | None = None,
        pool: str | None = None,
    ) -> View:  # fmt: skip
        """One proposition's track derived from its rows only (`_derived`)."""
        return self._derived(conn, [prop.id], by=by, pool=pool, extra=extra, props=[prop])[prop.id]

    def _forecaster(self, conn, by: str | None) -> str | None:
        """`by` as a known forecaster (someone with a live manual update), or None for the team."""
        if by is None:
            return None
        name = check_name(by, "by")
        known = store.forecasters(conn)
        if name not in known:
            error = unknown("forecaster", name, known)
            raise InputError(f"{error.message} (forecasters with updates: {', '.join(known) or 'none yet'})", "by")
        return name

    def review(self, as_of: str | None = None) -> list[dict[str, Any]]:
        """What needs a look on a date (default today): overdue, signposts fired but not applied,
        observations not applied, due within 30 days, stale. Each {proposition, reason, detail}; the
        same rules flag the scorecards."""
        from .scorecard.dataset import Dataset
        from .scorecard.review import ordered, review

        day = as_of_or_today(as_of)
        with self.db.read(batches=True) as conn:  # details name indicators and dates: no texts read
            found = []
            for ids in Dataset.plan(conn):  # the tracks from the cache; of the record, only what is not applied
                found += review(Dataset.pending(conn, ids, day, self._tracks(conn, ids, [day])), day)
        return [item.as_json() for item in ordered(found)]

    def digest(self, as_of: str | None = None) -> str:
        """The "This month" section of the scorecard of `as_of`'s month (default this month), as Markdown:
        what `review --notify URL --digest` sends."""
        import tempfile

        day = as_of_or_today(as_of)
        with tempfile.TemporaryDirectory() as tmp:
            written = self.report(day[:7], tmp, ("md",))
            page = next(p for p in written if p.name == f"{day[:7]}.md").read_text(encoding="utf-8")
        title, _, rest = page.partition("\n")
        section = rest.split("\n## This month", 1)[-1].split("\n## ", 1)[0]
        return f"{title}\n\n## This month{section}".rstrip() + "\n"

    def notify(
        self, url: str, as_of: str | None = None, digest: bool = False, items: list[dict[str, Any]] | None = None
    ) -> str:
        """Send the review queue of `as_of` (`items`, when the caller has it; with `digest`, the month's
        "This month" section too) to `url` (an Apprise URL: Slack, Teams, Discord, Matrix, e-mail...);
        returns what was sent."""
        from .io.notify import send

        day = as_of_or_today(as_of)
        items = self.review(day) if items is None else items
        lines = [f"- {i['proposition']}: {i['reason']}: {i['detail']}" for i in items] or ["- nothing needs a look"]
        body = f"What needs a look on {day} ({len(items)} item(s)):\n" + "\n".join(lines)
        if digest:
            body += "\n\n" + self.digest(day)
        send(url, f"forecast-tracker review, {day}", body, markdown=digest)
        return body

    def months(self) -> list[str]:
        """Every month from the first proposition's opening to this one (what `report` can render)."""
        with self.db.read() as conn:
            opened = [p.opened for p in store.all_propositions(conn)]
        last = today()[:7]
        first = min([o[:7] for o in opened if o[:7] <= last], default=last)
        return month_range(first, last)

    def forecasters(self) -> list[str]:
        """Everyone who has made a live manual update."""
        with self.db.read() as conn:
            return store.forecasters(conn)

    def _in_force(self, conn, day: str, proposition_id: str | None = None) -> dict[str, ResolutionRow]:
        """proposition -> the resolution in force on `day`."""
        return self._in_force_on(conn, [day], proposition_id)[day]

    def _in_force_on(self, conn, days: list[str], proposition_id: str | None = None) -> dict[str, dict[str, ResolutionRow]]:
        """day -> proposition -> the resolution in force on that day, for each of `days` (one query)."""
        live: dict[str, list[ResolutionRow]] = {}
        for r in store.resolutions(conn, proposition_id):
            if not r.retraction:
                live.setdefault(r.proposition_id, []).append(r)

        def on(d: str) -> dict[str, ResolutionRow]:
            return {pid: found for pid, rows in live.items() if (found := resolution_in_force(rows, d)) is not None}

        return {d: on(d) for d in days}

    def standing(
        self, as_of: str | None = None, status: str | None = None, by: str | None = None, since: str | None = None,
        pool: str | None = None, tags: Sequence[str] | None = None,
    ) -> list[Standing]:  # fmt: skip
        """Every opened proposition's probability and status as of a date (default today): the derived
        standing probability (the team's, pooled as the catalog says or by `pool`; with `by` that
        forecaster's), or, once resolved, its final forecast; with `since`, also the change from that
        date; with `tags`, only the propositions carrying any of them."""
        day = as_of_or_today(as_of)
        pool = _pool(pool)
        if since is not None:
            since = as_of_or_today(since, "since")
            if since > day:
                raise InputError(f"{since} is after the as-of date {day}", "since")
        if status is not None:
            status = choice(status, "status", ("open", *OUTCOMES))
        with self.db.read() as conn:
            by = self._forecaster(conn, by)
            props = store.all_propositions(conn)
            if tags:
                known = {t for p in props for t in p.tag_list}
                wanted = {str(t).strip() for t in tags}
                for t in sorted(wanted - known):
                    err = unknown("tag", t, known)
                    raise InputError(err.message, "tag")
                props = [p for p in props if wanted & set(p.tag_list)]
            in_force = self._in_force_on(conn, [day, since or day])
            resolved, resolved_then = in_force[day], in_force[since or day]
            finals = {pid: [previous_day(r.resolved_on)] for pid, r in [*resolved.items(), *resolved_then.items()]}
            tracks = self._tracks(conn, [p.id for p in props], [day, since or day], by=by, pool=pool, every=True, also=finals)
        out = []
        for p in props:
            track, resolution = tracks[p.id], resolved.get(p.id)
            state = resolution.outcome if resolution else "open"
            if p.opened > day or (status is not None and state != status):
                continue
            probability = shown_probability(track, resolution, day)
            change = None
            if since is not None and p.opened <= since:
                change = probability - shown_probability(track, resolved_then.get(p.id), since)
            shown_on = previous_day(resolution.resolved_on) if resolution else day  # the final forecast's day
            out.append(
                Standing(p.id, p.statement, state, probability, day, p.resolve_by, float(p.prior),
                         track.last_moved(shown_on), change, since, p.question, tuple(p.tag_list))
            )  # fmt: skip
        return out

    def standing_probability(self, proposition_id: str, as_of: str | None = None) -> float:
        day = as_of_or_today(as_of)
        with self.db.read() as conn:
            self._proposition(conn, proposition_id)
            resolution = self._in_force(conn, day, proposition_id).get(proposition_id)
            days = [day, previous_day(resolution.resolved_on)] if resolution else [day]
            return shown_probability(self._tracks(conn, [proposition_id], days)[proposition_id], resolution, day)

    def show(
        self, proposition_id: str, as_of: str | None = None, by: str | None = None, pool: str | None = None
    ) -> dict[str, Any]:
        """A proposition's definition, indicators, standing as of a date (the team's, pooled as the
        catalog says or by `pool`, or `by` one forecaster's; with each forecaster's number when several
        count), and its evidence so far."""
        day = as_of_or_today(as_of)
        pool = _pool(pool)
        with self.db.read() as conn:
            row = self._proposition(conn, proposition_id)
            by = self._forecaster(conn, by)
            resolution = self._in_force(conn, day, proposition_id).get(proposition_id)
            days = [day, previous_day(resolution.resolved_on)] if resolution else [day]
            track = self._tracks(conn, [row.id], days, by=by, pool=pool)[row.id]
            prop: dict[str, Any] = exported(row)
            prop["probability"] = shown_probability(track, resolution, day)
            shown_on = previous_day(resolution.resolved_on) if resolution else day
            prop["forecasters"] = track.members(shown_on)
            prop["pool"] = pool_of(track, shown_on)
            prop["status"] = resolution.outcome if resolution else "open" if day >= row.opened else "not yet open"
            prop["as_of"] = day
            retired = store.retired_indicators(conn)
            prop["indicators"] = [exported(i) for i in store.indicators_of(conn, proposition_id) if i.id not in retired]
            prop["observations"] = [exported(o) for o in store.observations(conn, proposition_id, until=day, shared=True)]
            prop["resolutions"] = [exported(r) for r in store.resolutions(conn, proposition_id)]
        return prop

    # -- evidence and judgements ------------------------------------------------------------
    def _snapshot(self, conn, prop: PropositionRow, indicators: tuple[IndicatorRow, ...] = ()) -> rules.Snapshot:
        """What the write rules read for a row of `prop` (and its `indicators`)."""
        resolution = store.current_resolution(conn, prop.id)
        return rules.Snapshot({prop.id: prop}, {i.id: i for i in indicators}, {prop.id: resolution} if resolution else {})

    def observe(
        self,
        indicator: str,
        *,
        value: object = None,
        date: str | None = None,
        source: str = "",
        note: str = "",
        apply: bool = False,
        by: str | None = None,
        dry_run: bool = False,
    ) -> ObserveResult:
        """Record an observation and say what it does on its date; with `apply`, it counts as evidence
        (when `rules.may_apply` allows: otherwise it is stored, not applied, and `applied` is False).
        An observation identical in all five fields to a stored one is refused as a duplicate.
        `dry_run`: every check and the full effect, in a read transaction: nothing is written."""
        with self.db.read() if dry_run else self._write() as conn:
            ind = self._indicator(conn, indicator)
            if (retired := store.retired_indicators(conn).get(ind.id)) is not None:
                raise InputError(f"indicator {ind.id} is retired: {retired}")
            prop = self._proposition(conn, ind.proposition_id)
            snap = self._snapshot(conn, prop, (ind,))
            row = _one_row(rules.observation, snap, indicator, date or "today", value, source, note)
            _one_row(rules.may_record, snap, prop.id, "observations")
            who = forecaster(by)
            self._refuse_duplicate(conn, row, prop.id)
            if dry_run:  # as if stored (id 0, which no row has) and, with `apply`, applied
                result = self._effect(conn, prop, ind, 0, row)
                result.applied, result.dry_run = apply and rules.may_apply(snap, row) is None, True
                for other in result.shared:
                    other.applied, other.dry_run = result.applied, True
                return result
            obs_id = store.insert_observation(conn, row._asdict())
            result = self._effect(conn, prop, ind, obs_id, row)
            if apply and rules.may_apply(snap, row) is None:
                store.insert_application(conn, obs_id, who)
                result.applied = True
        return result

    def retire(self, indicator: str, *, reason: str) -> str:
        """Take a signpost out of use (one gone from the catalog, say): it leaves `show` and the sync's
        "vanished" warning, new observations of it are refused, and its observations stay on record,
        counting as before (nothing shown for a past date changes). Returns its proposition."""
        reason = check_text(reason, "reason", required=True)
        with self._write() as conn:
            ind = self._indicator(conn, indicator)
            if ind.id in store.retired_indicators(conn):
                raise InputError(f"indicator {ind.id} is already retired", "id")
            store.insert_retirement(conn, ind.id, reason)
        return ind.proposition_id

    def _refuse_duplicate(self, conn, row: rules.NewObservation, proposition: str) -> None:
        same = store.identical_observation(conn, tuple(row))
        if same is None:
            return
        if store.is_retracted(conn, "observation", same):
            raise InputError(
                f"an identical observation of {row.indicator_id} on {row.observed_on} is stored as observation {same}, "
                f"retracted; to correct a row use 'amend observation ID'"
            )
        raise InputError(
            f"an identical observation of {row.indicator_id} on {row.observed_on} is already stored "
            f"(observation {same}; see 'show {proposition}')"
        )

    def amend(
        self,
        observation_id: int | str,
        *,
        reason: str,
        date: str | None = None,
        value: object = None,
        source: str | None = None,
        note: str | None = None,
        by: str | None = None,
    ) -> ObserveResult:
        """Correct a stored observation in one transaction: the old row is retracted (with `reason`),
        the corrected row (the old one with what is given changed) stored, linked to it (`amends`), and
        applied if the old one was and the rules allow. The chain is then exactly as if the corrected
        row had been entered in the first place."""
        obs_id = _row_id(observation_id)
        reason = check_text(reason, "reason", required=True)
        if date is None and value is None and source is None and note is None:
            raise InputError("say what to correct: --date, --value, --source or --note")
        who = forecaster(by)
        with self._write() as conn:
            old = store.get_observation(conn, obs_id)
            if old is None:
                raise InputError(f"unknown observation id {obs_id}", "id")
            if old.retraction is not None:
                later = store.amended_by(conn, obs_id)
                raise InputError(f"observation {obs_id} is retracted" + (f"; amend observation {later}" if later else ""), "id")
            ind = store.get_indicator(conn, old.indicator_id)
            assert ind is not None  # a foreign key
            prop = self._proposition(conn, ind.proposition_id)
            snap = self._snapshot(conn, prop, (ind,))
            row = _one_row(
                rules.observation, snap, old.indicator_id, old.observed_on if date is None else date,
                old.value if value is None else value, old.source if source is None else source,
                old.note if note is None else note,
            )  # fmt: skip
            if tuple(row) == (old.indicator_id, old.observed_on, old.value, old.source, old.note):
                raise InputError(f"the correction leaves observation {obs_id} as it is", "date" if date is not None else None)
            _one_row(rules.may_record, snap, prop.id, "observations")
            self._refuse_duplicate(conn, row, prop.id)
            self._retract_in(conn, "observation", obs_id, f"amended: {reason}")
            new_id = store.insert_observation(conn, {**row._asdict(), "amends": obs_id})
            result = self._effect(conn, prop, ind, new_id, row)
            if old.applied_by is not None and rules.may_apply(snap, row) is None:
                store.insert_application(conn, new_id, who)
                result.applied = True
        return result

    def _effect(
        self, conn, prop: PropositionRow, ind: IndicatorRow, obs_id: int, row: rules.NewObservation, shared: bool = True
    ) -> ObserveResult:
        """What observation `obs_id` does on its date, counted as if applied (repeats and groups included),
        for its proposition and (`shared`) each other one it bears on (`bears_on`), before it is applied."""
        if shared:
            result = self._effect(conn, prop, ind, obs_id, row, shared=False)
            for entry in store.entries_bearing(conn, ind.id):
                other = self._effect(conn, self._proposition(conn, entry.proposition_id), entry, obs_id, row, shared=False)
                result.shared.append(other)
            return result
        fired = counted_ratio(ind, row.value)[0]
        day = row.observed_on
        result = ObserveResult(obs_id, ind.id, prop.id, day, None, fired=fired, context=day < prop.opened)
        if result.context:
            return result
        extra = [ObservationRow(obs_id, ind.id, prop.id, day, row.value, "", "", "", None, "", None)]
        track = self._track(conn, prop, extra=extra)
        link = next((link for link in track.links if link.observation_id == obs_id), None)
        result.link = link if link is not None and link.likelihood_ratio is not None else None
        return result

    def apply(self, observation_id: int | str, *, by: str | None = None) -> ObserveResult:
        """Count a stored observation as evidence from its date on (refused where `rules.may_apply` says)."""
        return self.apply_many([observation_id], by=by)[0]

    def apply_many(self, observation_ids: Sequence[int | str], *, by: str | None = None) -> list[ObserveResult]:
        """Apply several stored observations in one transaction, in the order given: each effect counts
        those before it. Any id that may not be applied refuses them all (nothing is written)."""
        ids = [_row_id(i) for i in observation_ids]
        if not ids:
            raise InputError("name at least one observation id (or apply --pending)", "id")
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise InputError(f"observation {twice[0]} is named twice", "id")
        who = forecaster(by)
        with self._write() as conn:
            return [self._apply_in(conn, obs_id, who) for obs_id in ids]

    def apply_pending(
        self, *, indicator: str | None = None, before: str | None = None, by: str | None = None
    ) -> tuple[list[ObserveResult], list[str]]:
        """Apply, in one transaction and in date order, every live observation not yet applied (of one
        `indicator`, dated on or before `before`, default today) that can move anything; returns the
        effects and, for each one left as it was, why (`rules.may_apply`)."""
        who = forecaster(by)
        until = as_of_or_today(before, "before")
        with self._write() as conn:
            if indicator is not None:
                self._indicator(conn, indicator)
            waiting = [o for o in store.pending_observations(conn, until=until) if indicator in (None, o.indicator_id)]
            done, left = [], []
            for o in sorted(waiting, key=lambda o: (o.observed_on, o.id)):
                try:  # `_apply_in` writes nothing before it has checked the row
                    done.append(self._apply_in(conn, o.id, who))
                except InputError as exc:
                    why = exc.message.removeprefix(f"observation {o.id}: ")
                    left.append(f"observation {o.id} ({o.indicator_id} on {o.observed_on}) left as it was: {why}")
        return done, left

    def _apply_in(self, conn, obs_id: int, who: str) -> ObserveResult:
        """Apply one stored observation inside the caller's transaction, or raise naming it."""
        stored = store.get_observation(conn, obs_id)
        if stored is None:
            raise InputError(f"unknown observation id {obs_id}", "id")
        if stored.retraction is not None:
            raise InputError(f"observation {obs_id} is retracted", "id")
        if stored.applied_by is not None:
            raise InputError(f"observation {obs_id} is already applied", "id")
        ind = store.get_indicator(conn, stored.indicator_id)
        assert ind is not None  # a foreign key
        prop = self._proposition(conn, ind.proposition_id)
        snap = self._snapshot(conn, prop, (ind,))
        row = rules.NewObservation(stored.indicator_id, stored.observed_on, stored.value, stored.source, stored.note)
        refused = rules.may_apply(snap, row)
        if refused is not None:
            raise InputError(f"observation {obs_id}: {refused.message}", "id")
        result = self._effect(conn, prop, ind, obs_id, row)
        store.insert_application(conn, obs_id, who)
        result.applied = True
        return result

    def update(
        self,
        proposition: str,
        probability: str | float,
        *,
        date: str | None = None,
        rationale: str = "",
        by: str | None = None,
        require_rationale: bool = False,
        known_forecaster: bool = False,
    ) -> tuple[int, float, float]:
        """Record a forecaster's judgement: their probability for the proposition from `date` on (their
        track; the team shows the median). Returns (update id, the probability it replaces on their
        track on that date, the new probability). `known_forecaster`: `by` must name someone who has
        forecast here before (the CLI's `--by` without `--new-forecaster`: a typo would join the team)."""
        with self._write() as conn:
            prop = self._proposition(conn, proposition)
            who = forecaster(by)
            known = store.forecasters(conn)
            if who not in known and (twin := lookalike(who, known)) is not None:
                raise InputError(f"{who!r} looks like the forecaster {twin!r}: use that name, or one that reads differently", "by")
            if known_forecaster:
                if who not in known:
                    hint = unknown("forecaster", who, known).message.removeprefix("unknown forecaster ")
                    raise InputError(f"{hint} has never forecast here; the first time, add --new-forecaster", "by")
            snap = self._snapshot(conn, prop)
            _one_row(rules.may_record, snap, proposition, "updates")
            row = _one_row(rules.update, snap, proposition, date or "today", probability, rationale, who, require_rationale)
            before = self._track(conn, prop, by=who).at(row.as_of)
            update_id = store.insert_update(conn, {**row._asdict(), "method": "manual"})
        return update_id, before, row.probability

    def resolve(
        self, proposition: str, outcome: str, *, date: str | None = None, source: str = "", note: str = "", force: bool = False,
        require_source: bool = False,
    ) -> int:  # fmt: skip
        """Record the outcome. Resolving again needs `force`; the earlier resolution stays on record.
        `require_source`: an empty source is refused (the CLI asks for `--source` or `--no-source`)."""
        with self._write() as conn:
            prop = self._proposition(conn, proposition)
            snap = self._snapshot(conn, prop)
            row = _one_row(rules.resolution, snap, proposition, outcome, date or "today", source, note)
            _one_row(rules.may_resolve, snap, proposition, force)
            if require_source and not row.source:
                raise InputError("say where the outcome was seen (--source TEXT), or pass --no-source", "source")
            return store.insert_resolution(conn, row._asdict())

    def retract(self, kind: str, row_id: int | str, *, reason: str) -> list[tuple[str, int]]:
        """Mark a row as no longer counting. A retracted observation's evidence leaves every track, on
        every date (the chain is derived); indicator updates a first-release database stored for it are
        retracted with it."""
        kind = choice(kind, "kind", RETRACT_TARGETS)
        target_id = _row_id(row_id)
        reason = check_text(reason, "reason", required=True)
        with self._write() as conn:
            if not store.row_exists(conn, kind, target_id):
                raise InputError(f"unknown {kind} id {target_id}")
            if store.is_retracted(conn, kind, target_id):
                raise InputError(f"{kind} {target_id} is already retracted")
            return self._retract_in(conn, kind, target_id, reason)

    def _retract_in(self, conn, kind: str, target_id: int, reason: str) -> list[tuple[str, int]]:
        done = [(kind, target_id)]
        store.insert_retraction(conn, kind, target_id, reason)
        if kind == "observation":
            for update_id in store.updates_from_observation(conn, target_id):
                store.insert_retraction(conn, "update", update_id, f"observation {target_id} retracted: {reason}")
                done.append(("update", update_id))
        return done

    # -- tables for scripts and notebooks -------------------------------------------------------
    def history(
        self, proposition: str, as_of: str | None = None, by: str | None = None, pool: str | None = None
    ) -> list[dict[str, Any]]:
        """The chain that explains the probability as of a date (default today; a resolved proposition's
        up to its resolution): the prior, each manual update, each applied observation with the ratio
        it counted for, and each visible decay step. Retracted updates are listed, marked. The team's
        chain names each forecaster's number where the median changes; `by` gives one forecaster's."""
        day = as_of_or_today(as_of)
        pool = _pool(pool)
        with self.db.read() as conn:
            by = self._forecaster(conn, by)
            row = self._proposition(conn, proposition)
            if day < row.opened:
                raise InputError(f"{proposition} opened on {row.opened}: it has no history as of {day}", "as_of")
            track = self._track(conn, row, by=by, pool=pool)
            resolution = self._in_force(conn, day, proposition).get(proposition)
            retracted = [
                u for u in store.updates(conn, proposition)
                if u.retraction and u.method == "manual" and (by is None or u.forecaster == by)
            ]  # fmt: skip
            update_versions, applied_versions = store.criteria_versions(conn, proposition)
            restated = store.restatements(conn, proposition)  # every number shown reflects each of them
        end = previous_day(resolution.resolved_on) if resolution else day  # the final forecast, as scored
        rows = [
            {
                "as_of": link.on, "probability": link.after, "previous": link.before, "method": link.method,
                "rationale": link.rationale, "observation_id": link.observation_id, "indicator": link.indicator,
                "likelihood_ratio": link.likelihood_ratio, "counted_ratio": link.counted_ratio,
                "decibans": None if link.decibans is None else round(link.decibans, 3), "forecaster": link.forecaster,
                "id": link.update_id, "retracted": None,
                "criteria_version": update_versions.get(link.update_id or 0) if link.method == "manual"
                else applied_versions.get(link.observation_id or 0) if link.method == "indicator" else None,
            }
            for link in track.links_until(end)
        ]  # fmt: skip
        rows += [
            {**{k: None for k in rows[0]}, "as_of": u.as_of, "probability": u.probability, "method": "manual",
             "rationale": u.rationale, "forecaster": u.forecaster, "id": u.id, "retracted": u.retraction,
             "criteria_version": update_versions.get(u.id)}
            for u in retracted
        ]  # fmt: skip
        # a restatement is on the record from the day it was made: it names what changed the numbers above
        rows += [
            {**{k: None for k in rows[0]}, "as_of": r.recorded_at[:10], "method": "restatement",
             "rationale": f"restated {r.subject}: {r.key} {r.old or '(none)'} -> {r.new or '(none)'}"
                          + (f" from {r.effective}" if r.effective else "") + f" ({r.reason})",
             "id": r.id}
            for r in restated
        ]  # fmt: skip
        rows.sort(key=lambda r: str(r["as_of"]))  # stable: the chain's own order within a day is kept
        return rows

    def history_frame(self, proposition: str) -> pd.DataFrame:
        """`history` as a DataFrame, its dates as datetime64."""
        return _frame(self.history(proposition), ("as_of",))

    def observations_frame(self, proposition: str | None = None) -> pd.DataFrame:
        """Every observation (of one proposition), its dates as datetime64 (`recorded_at` in UTC)."""
        with self.db.read() as conn:
            rows = [exported(o) for o in store.observations(conn, proposition)]
        return _frame(rows, ("observed_on",), ("recorded_at", "applied_at"))

    def propositions_frame(self, as_of: str | None = None) -> pd.DataFrame:
        """`standing` as a DataFrame, its dates as datetime64."""
        return _frame([vars(s) for s in self.standing(as_of)], ("as_of", "resolve_by", "updated_on", "since"))

    def trajectory_frame(self, proposition: str, by: str | None = None, as_of: str | None = None,
                         pool: str | None = None) -> pd.DataFrame:  # fmt: skip
        """One row per day from the proposition's opening to `as_of` (default today) or the day before
        its resolution: `date` (datetime64) and `probability`, the team's (or `by` one forecaster's)."""
        import pandas as pd

        from .dates import days_between, next_day

        day = as_of_or_today(as_of)
        pool = _pool(pool)
        with self.db.read() as conn:
            prop = self._proposition(conn, proposition)
            by = self._forecaster(conn, by)
            resolution = self._in_force(conn, day, proposition).get(proposition)
            end = min(day, previous_day(resolution.resolved_on)) if resolution else day
            if end < prop.opened:
                return pd.DataFrame({"date": pd.Series([], dtype="datetime64[ns]"), "probability": pd.Series([], dtype=float)})
            days, d = [], prop.opened
            for _ in range(days_between(prop.opened, end) + 1):
                days.append(d)
                d = next_day(d)
            track = self._track(conn, prop, by=by, pool=pool)
            values = track.on_days([days_between(prop.opened, x) for x in days])
        return pd.DataFrame({"date": pd.to_datetime(days), "probability": values})

    # -- bulk ---------------------------------------------------------------------------------
    def import_csv(
        self,
        path: str | os.PathLike,
        *,
        apply: bool = False,
        by: str | None = None,
        excel_safe: bool = False,
        force: bool = False,
        require_rationale: bool = False,
        dry_run: bool = False,
    ) -> ImportReport:
        """Import an observations, updates or resolutions CSV, all rows or none (`excel_safe` undoes
        `export(..., excel_safe=True)`; `force` lets a resolutions row resolve a resolved proposition
        again, which an exported row marked with `supersedes` does by itself). `require_rationale`: a
        manual update row without a rationale is a problem (the CLI's default). `dry_run`: every check
        and the report, then rolled back: nothing is written."""
        from .io.importing import import_file

        who = forecaster(by)
        try:
            with self._write(bulk=True) as conn:
                report = import_file(conn, Path(path), apply=apply, forecaster=who, excel_safe=excel_safe, force=force,
                                     require_rationale=require_rationale)  # fmt: skip
                if dry_run:
                    raise _DryRun(report)  # the transaction rolls back
        except _DryRun as done:
            return done.report
        return report

    def import_peers(
        self, source: str, files: Sequence[str | os.PathLike], *, catalog: str | os.PathLike = "indicators", by: str | None = None
    ) -> PeerReport:
        """Bring a peer's binary record in (`io.peers` names each format): one catalog file per question
        in `catalog` (a file already there is kept as it is), synced, then every forecast and resolution
        through the rules, in one transaction. On any problem in any file nothing is written, neither rows
        nor catalog files. Importing the same files again adds nothing."""
        import yaml

        from .catalog import parse_proposition_file
        from .io import peers as peer_formats
        from .io.files import atomic_write
        from .io.importing import PeerReport, import_peer_rows

        who = forecaster(by)
        folder = Path(catalog)
        if not folder.parent.is_dir():
            raise InputError(f"folder {folder.parent} does not exist", "catalog")
        if folder.exists() and not folder.is_dir():
            raise InputError(f"{folder} is not a folder", "catalog")
        peers = peer_formats.read(source, [Path(f) for f in files], who)
        ids, texts, problems = {}, {}, []
        for key, q in peers.questions.items():
            entry = peer_formats.draft(q)
            pid = entry["proposition"]["id"]
            ids[key] = pid
            text = f"# Imported from {q.platform} ({q.where}).\n" + yaml.safe_dump(entry, sort_keys=False, allow_unicode=True, width=100)
            _definition, found = parse_proposition_file(text, f"{pid}.yaml")
            problems += [f"{q.where}: {p}" for p in found]
            texts[folder / f"{pid}.yaml"] = text
        if problems:
            raise ValidationErrors(f"{len(problems)} question(s) cannot become a proposition, nothing imported", problems)
        report = PeerReport(source, skipped=list(peers.skipped), benchmarks=peer_formats.crowd_names(peers))
        made_folder, written = not folder.exists(), []
        try:
            folder.mkdir(exist_ok=True)
            writable_folder(folder, "catalog")
            for path, text in texts.items():
                if not path.exists():
                    atomic_write(path, text)
                    written.append(path)
            definitions = check_catalog(folder)
            with self._write(bulk=True) as conn:
                _sync_in(conn, definitions, False, None)
                import_peer_rows(conn, peers, ids, report)
        except BaseException:
            for path in written:
                path.unlink(missing_ok=True)
            if made_folder and folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
            raise
        report.drafts = len(written)
        return report

    def resolution_record(self, proposition: str) -> list[dict[str, Any]]:
        """Every resolution of a proposition by id, retracted ones included, each with `supersedes` (the
        live one recorded before it) and `in_force` (the one that counts now), as `export resolutions`."""
        from .io.exporting import resolution_rows

        with self.db.read() as conn:
            self._proposition(conn, proposition)
            return resolution_rows(store.resolutions(conn, proposition))

    def resolution_owner(self, resolution_id: int | str) -> str:
        """The proposition a resolution id belongs to."""
        target = _row_id(resolution_id)
        with self.db.read() as conn:
            owner = store.resolution_proposition(conn, target)
        if owner is None:
            raise InputError(f"unknown resolution id {target}")
        return owner

    def export(self, what: str, fmt: str | None = None, excel_safe: bool = False) -> str:
        """One table as CSV or JSON text (`fmt` None: CSV, and JSON for `definitions`, the definitions
        over time that `import` replays); propositions carry their standing as of today. `excel_safe`
        writes formula-like text cells with a leading apostrophe (CSV only)."""
        from .io.exporting import export

        standing = {s.id: {"status": s.status, "probability": s.probability} for s in self.standing()}
        with self.db.read() as conn:
            return export(conn, what, fmt, standing, excel_safe)

    def calendar(self, as_of: str | None = None) -> bytes:
        """Each open proposition's resolve-by date and its review date (the day it turns stale: 90 days
        after its last update or applied observation, or `as_of` itself when it is stale already), as
        an iCalendar file (`export calendar`)."""
        import datetime as dt

        from .io.calendar import Entry, ics
        from .scorecard.review import STALE_DAYS

        day = as_of_or_today(as_of)
        with self.db.read() as conn:
            opened = {p.id: p.opened for p in store.all_propositions(conn)}
        entries = []
        for s in self.standing(day):
            if s.status != "open":
                continue
            last = s.updated_on or opened[s.id]
            review_on = max(day, (dt.date.fromisoformat(last) + dt.timedelta(days=STALE_DAYS)).isoformat())
            said = f"{s.id}: {describe(s.probability)} on {day}; last update {s.updated_on or 'none (opened ' + opened[s.id] + ')'}"
            entries.append(Entry(f"due-{s.id}@forecast-tracker", s.resolve_by, f"Due: {s.statement}",
                                 f"{said}. Resolve it: forecast-tracker resolve {s.id} yes|no --source TEXT"))  # fmt: skip
            entries.append(Entry(f"review-{s.id}@forecast-tracker", review_on, f"Review: {s.statement}",
                                 f"{said}. Stale after {STALE_DAYS} days without an update: forecast-tracker show {s.id}"))  # fmt: skip
        return ics(entries, dt.datetime.now(dt.UTC).replace(microsecond=0))

    def export_to(self, what: str, fmt: str | None, out: str | os.PathLike, excel_safe: bool = False) -> Path:
        """Write an export to a file atomically (the folder must exist)."""
        from .io.files import atomic_write

        target = Path(out)
        try:
            if target.is_dir():
                raise InputError(f"{target} is a folder; name a file", "out")
            if not target.parent.exists():
                raise InputError(f"folder {shown_path(target.parent)} does not exist", "out")
            target.exists()  # a name too long for the file system is refused here, before the export is made
        except OSError as exc:
            raise InputError(f"cannot write {shown_path(target)}: {exc.strerror or exc}", "out") from None
        writable_folder(target.parent, "out")
        atomic_write(target, self.calendar() if what == "calendar" else self.export(what, fmt, excel_safe))
        return target

    # -- scores and reports -------------------------------------------------------------------
    def scores(
        self, as_of: str | None = None, by: str | None = None, pool: str | None = None, early_yes: bool = True
    ) -> ScoreResult:
        """Scores of the team's tracks (pooled as the catalog says, or by `pool`; or `by` one
        forecaster's), with every forecaster side by side. `early_yes=False` leaves propositions resolved
        yes before their resolve_by out of the calibration tables and the decomposition (the headline
        keeps them: it is proper either way)."""
        from .scorecard.scores import compute_scores

        day = as_of_or_today(as_of)
        pool = _pool(pool)
        with self.db.read(batches=True) as conn:
            return compute_scores(conn, day, self._forecaster(conn, by), pool=pool, early_yes=bool(early_yes))

    def proposition_score(self, proposition: str, as_of: str | None = None) -> dict[str, Any] | None:
        """One proposition's score row as of a date (as in `score`), read from its own record only;
        None while it is not resolved by then."""
        from .scorecard.dataset import Dataset
        from .scorecard.scores import score_parts

        day = as_of_or_today(as_of)
        with self.db.read() as conn:
            self._proposition(conn, proposition)
            rows = score_parts(Dataset.load(conn, texts=False, propositions=[proposition]), day).rows
        return rows[0] if rows else None

    def matrix(self, as_of: str | None = None, tags: Sequence[str] | None = None) -> dict[str, Any]:
        """The evidence x propositions matrix (analysis of competing hypotheses): for each signpost, the
        decibans its applied observations counted in each proposition's chain by `as_of` (the team's
        track; repeats and groups per proposition), over the propositions with any of `tags` (default
        all). A signpost with `bears_on` entries has a cell in each proposition it bears on."""
        day = as_of_or_today(as_of)
        chosen = [s.id for s in self.standing(day, tags=tags)]
        with self.db.read(batches=True) as conn:
            source = {i.id: i.bears_of or i.id for i in store.all_indicators(conn, chosen)}
            owner = {i.id: i.proposition_id for i in store.all_indicators(conn) if not i.bears_of}
            cells: dict[str, dict[str, float]] = {}
            for start in range(0, len(chosen), BATCH):
                ids = chosen[start : start + BATCH]
                for pid, track in self._derived(conn, ids).items():
                    for link in track.links_until(day):
                        if link.method == "indicator" and link.indicator and link.decibans is not None:
                            row = cells.setdefault(source.get(link.indicator, link.indicator), {})
                            row[pid] = row.get(pid, 0.0) + link.decibans
        rows = [{"indicator": ind, "proposition": owner.get(ind), "decibans": dict(sorted(found.items()))}
                for ind, found in sorted(cells.items())]  # fmt: skip
        return {"as_of": day, "propositions": chosen, "rows": rows}

    def chart_svg(self, proposition: str, as_of: str | None = None) -> str:
        """The proposition's trajectory chart as of a date (up to its resolution), as on its scorecard card."""
        from .scorecard.charts import trajectory_svg
        from .scorecard.context import chart_data
        from .scorecard.dataset import Dataset

        day = as_of_or_today(as_of)
        with self.db.read() as conn:
            prop = self._proposition(conn, proposition)
            data = Dataset.load(conn, propositions=[proposition])
        return trajectory_svg(chart_data(data, prop, day))

    def compare_pools(self, as_of: str | None = None) -> list[dict[str, Any]]:
        """Every pooling method scored walk-forward on the resolved record (each day's pool from that
        day's tracks): its mean time-averaged Brier, the difference to the median's, and a 90%
        bootstrap interval of that difference over propositions."""
        from .scorecard.scores import compare_pools

        day = as_of_or_today(as_of)
        with self.db.read(batches=True) as conn:
            return compare_pools(conn, day)

    def report(
        self,
        months: list[str] | str,
        out: str | os.PathLike = "reports",
        formats: tuple[str, ...] | str = ("md", "html"),
        progress: Callable[[int, int], None] | None = None,
        by: str | None = None,
        pool: str | None = None,
    ) -> list[Path]:
        """Render the scorecards of `months` (and the index) into `out`: the team's, or `by` one forecaster's.
        A month that has not begun is refused; the current one is rendered as of today ("to date").
        `progress(done, total)` follows the work (each batch of propositions read, each month written)."""
        from .scorecard.render import render_reports

        if isinstance(months, str):
            months = [months]
        if isinstance(formats, str):  # "all", "md", "html", as the command line says it
            formats = ("md", "html") if formats.strip().lower() == "all" else (formats,)
        formats = tuple(choice(f, "format", ("md", "html")) for f in formats)
        for month in months:
            month_begun(month, "month")
        pool = _pool(pool)
        writable_folder(Path(out), "out", create=True)

        with self.db.read(batches=True) as conn:
            return render_reports(conn, months, Path(out), formats, progress=progress, by=self._forecaster(conn, by),
                                  pool=pool)  # fmt: skip


# The record's field names that a Tracker method takes under another name (its parameters, and so
# the CLI's flags): the rules name the field, the caller the argument.
_PARAMETERS = {"observed_on": "date", "as_of": "date", "resolved_on": "date", "forecaster": "by", "proposition_id": None,
               "indicator_id": None}  # fmt: skip


class _DryRun(Exception):
    """Raised inside a write transaction to roll it back once its report is known (`import --dry-run`)."""

    def __init__(self, report: Any):
        super().__init__("dry run")
        self.report = report


def _one_row(rule: Callable[..., Any], *args: Any) -> Any:
    """A row the write rules accept, or its first problem, named as the Tracker method's parameter."""
    try:
        return rule(*args)
    except InputError as exc:
        first = exc.problems[0] if isinstance(exc, rules.Rejected) else exc
        raise InputError(first.message, _PARAMETERS.get(first.field or "", first.field)) from None


def _pool(method: str | None) -> str | None:
    """A `--pool` as typed: one of `probability.POOLS`, or None for each proposition's catalog method."""
    return None if method is None else choice(method, "pool", POOLS)


def _row_id(value: int | str) -> int:
    """A row id typed by a user: a whole number that fits SQLite's 64-bit integer."""
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InputError(f"{str(value)[:20]!r} is not a whole number", "id") from None
    if not 0 < number < 2**63:
        raise InputError(f"{str(value)[:20]} is not a row id (1 to 2^63-1)", "id")
    return number


def writable_folder(folder: Path, field: str, create: bool = False) -> None:
    """Bad input, not a crash, when files cannot be written into `folder` (creating it if `create`):
    tried by writing a probe file, since permissions alone do not tell (root, /proc, read-only mounts)."""
    import tempfile

    try:
        if folder.exists() and not folder.is_dir():
            raise InputError(f"{folder} is not a folder", field)
        if create:
            folder.mkdir(parents=True, exist_ok=True)
        if not folder.is_dir():
            raise InputError(f"{folder} is not a folder", field)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise InputError(f"cannot write to {shown_path(folder)}: {exc.strerror or exc}", field) from None


def _sync_in(conn, definitions: list[Any], restate: bool, reason: str | None) -> tuple[dict[str, Any], Any]:
    """`sync` inside the caller's transaction: the plan of what the definitions change, refused
    whole when it restates the record without `restate`, then written."""
    from dataclasses import replace

    from .definitions import plan_sync

    day = today()
    plan = plan_sync(definitions, *store.sync_state(conn), day)
    plan.changes += _new_shared_signposts(conn, definitions, plan)
    if plan.restatements and not restate:
        refused = [c.refusal() for c in plan.restatements]
        raise ValidationErrors(f"sync refused {len(refused)} restatement(s), nothing written", refused)
    counted = store.applied_since(conn, [(c.subject, c.effective or day) for c in plan.changes if c.kind == "indicator" and c.versioned])
    plan.changes = [
        replace(c, so_far=counted[(c.subject, c.effective or day)]) if c.kind == "indicator" and c.versioned else c
        for c in plan.changes
    ]
    return store.apply_sync(conn, plan, reason, day), plan


def _new_shared_signposts(conn, definitions: list[Any], plan: Any) -> list[Any]:
    """A new `bears_on` entry brings its signpost's applied observations into another proposition's
    chain from their dates: where there are any since it opened, numbers already shown for it change,
    so that is a restatement (refused unless `--restate --reason`, then on the record)."""
    from .definitions import Change

    opened = {d.id: d.opened for d in definitions}
    file_of = {ind.id: d.file for d in definitions for ind in d.indicators}
    out = []
    entries = [ind for ind in plan.new_indicators if ind.bears_of]
    counted = store.applied_since(conn, [(ind.bears_of, opened.get(ind.proposition_id, "0000-01-01")) for ind in entries])
    for ind in entries:
        if count := counted[(ind.bears_of, opened.get(ind.proposition_id, "0000-01-01"))]:
            why = (f"{count} applied observation(s) of {ind.bears_of} would count for {ind.proposition_id} from their "
                   f"dates, changing numbers already shown")  # fmt: skip
            out.append(Change(file_of[ind.id], ind.proposition_id, ind.id, "indicator", "bears_on", None,
                              f"likelihood ratio {ind.likelihood_ratio:g}", restated=True, why=why))  # fmt: skip
    return out


def check_catalog(catalog: str | os.PathLike) -> list[Any]:
    """The definitions of a catalog folder, or every problem of every file (ValidationErrors): what
    `sync` reads, checked before anything (even a new database) is written."""
    from .catalog import load_catalog  # YAML parsing is only needed here

    if not isinstance(catalog, str | os.PathLike):
        raise InputError(f"{str(catalog)[:40]!r} is not a folder path", "catalog")
    definitions, problems = load_catalog(Path(catalog))
    if problems:
        raise ValidationErrors(f"catalog {catalog}: {len(problems)} problem(s)", [str(p) for p in problems])
    return definitions


def standing_rows(standings: list[Standing]) -> list[dict[str, Any]]:
    """`list --format json` (and `/api/propositions`): one dict per standing, with these field names."""
    return [
        {"id": s.id, "statement": s.statement, "status": s.status, "probability": s.probability, "as_of": s.as_of,
         "resolve_by": s.resolve_by, "change": s.change, "since": s.since, "last_update": s.updated_on,
         "question": s.question}
        for s in standings
    ]  # fmt: skip


def report_months(month: str | None = None, first: str | None = None, last: str | None = None) -> list[str]:
    """The months a `report` call asks for: one `month`, a range `first`..`last`, or this month."""
    if month and (first or last):
        raise InputError("give either a month or a range, not both", "month")
    if first is None and last is not None:
        raise InputError("give the first month of the range too (--from YYYY-MM)", "from")
    if first is not None and last is None:
        last = today()[:7]  # a range from a month runs to this one
    if first is not None and last is not None:
        months = month_range(first, last)
        field = "to"
    else:
        months, field = [parse_month(month, "month") if month else today()[:7]], "month"
    month_begun(months[-1], field)
    return months


def end_of_last_month(as_of: str | None = None) -> str:
    """The last day of the month before `as_of`'s (default today's): `list --since`'s default."""
    return month_end(previous_month(as_of_or_today(as_of)[:7]))


def _frame(rows: list[dict[str, Any]], days: tuple[str, ...] = (), times: tuple[str, ...] = ()) -> pd.DataFrame:
    """Rows as a DataFrame: ISO dates as datetime64, UTC timestamps as tz-aware datetime64."""
    import pandas as pd

    frame = pd.DataFrame(rows)
    for column in days:
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], format="%Y-%m-%d")
    for column in times:
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    return frame


def to_csv(rows: list[dict[str, Any]], columns: tuple[str, ...] | list[str]) -> str:
    from .io.exporting import to_csv as write

    return write(rows, tuple(columns))


# -- the bundled case study ---------------------------------------------------------------------
FIRST_MONTH = "2023-10"


@dataclass
class DemoResult:
    database: Path
    index: Path
    summary: list[dict[str, Any]]


def build_case_study(path: str | os.PathLike, catalog: Path | None = None) -> Tracker:
    """Create a database at `path` from the case study: sync, observations (applied in date order), resolutions."""
    from .demo import case_study_dir

    folder = catalog or case_study_dir()
    tracker = Tracker(path, create=True)
    tracker.sync(folder)
    tracker.import_csv(folder / "observations.csv", apply=True, by="case-study")
    tracker.import_csv(folder / "resolutions.csv")
    return tracker


def run_demo(
    out: Path,
    progress: Callable[[int, int], None] | None = None,
    until_month: str | None = None,
    reports: Path | None = None,
) -> DemoResult:
    """Build `out/case-study.db` afresh (atomically replacing an earlier demo's) and render the scorecards
    from 2023-10 to `until_month` (default this month) into `reports` (default `out/reports/`).

    `progress(done, total)` follows the rendering (see `Tracker.report`)."""
    from .demo import replace_atomically

    last = parse_month(until_month, "to") if until_month else today()[:7]
    if last < FIRST_MONTH:
        raise InputError(f"the case study starts in {FIRST_MONTH}; {last} is before it", "to")
    month_begun(last, "to")
    months = month_range(FIRST_MONTH, last)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} is not a folder", "out")
    out.mkdir(parents=True, exist_ok=True)
    target = replace_atomically(out / "case-study.db", lambda tmp: build_case_study(tmp).close())
    reports = reports if reports is not None else out / "reports"
    with Tracker(target) as tracker:
        tracker.report(months, reports, ("md", "html"), progress=progress)
        summary = demo_summary(tracker)
    return DemoResult(target, reports / "index.html", summary)


def demo_summary(tracker: Tracker) -> list[dict[str, Any]]:
    scores = {row["id"]: row for row in tracker.scores().as_json()["propositions"]}
    rows = []
    for state in tracker.standing():
        scored = scores.get(state.id)
        tab = None if not scored else scored["time_averaged_brier"]
        rows.append(
            {
                "id": state.id,
                "prior": describe(state.prior),
                "now": describe(state.probability),
                "outcome": state.status,
                "time_avg_brier": "" if tab is None else f"{tab:.3f}",
            }
        )
    return rows


# -- extract: draft propositions from a commentary ------------------------------------------------
SCALES = ("icd203", "phia")


@dataclass
class ExtractResult:
    file: Path
    scale: str
    sentences: list[dict[str, Any]]  # every sentence with its verdict (see `extract`)
    drafts: list[str]  # the id of each draft, in the text's order
    out: Path | None  # None when nothing was to be written
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def extract(
    file: str | os.PathLike,
    out: str | os.PathLike | None = "indicators/drafts",
    scale: str = "icd203",
    source_title: str | None = None,
    author: str | None = None,
    publisher: str | None = None,
    published: str | None = None,
    url: str | None = None,
) -> ExtractResult:
    """Read a commentary (plain text or Markdown, UTF-8), judge every sentence, and write one draft
    proposition per estimative sentence into `out` (None: write nothing, only judge). No database is
    opened. Each sentence comes back as `{sentence, line, text, verdict, words, probability, band,
    reason, draft, statement}`; `probability` is the draft's prior (None when the words give none)."""
    from .extract import drafts as drafting
    from .extract.lexicon import band
    from .extract.reading import REASONS, read
    from .extract.sentences import split

    if not isinstance(file, str | os.PathLike):
        raise InputError(f"{str(file)[:40]!r} is not a file path", "file")
    scale = choice(str(scale), "scale", SCALES)
    published_on = parse_date(published, "published") if published not in (None, "") else None
    meta = {k: check_text(v, k) or None for k, v in
            (("source_title", source_title), ("author", author), ("publisher", publisher), ("url", url))}  # fmt: skip
    path = Path(file)
    readings = read(split(drafting.load_text(path)))
    drafted = [r for r in readings if r.drafted]
    ids = dict(zip((id(r) for r in drafted), drafting.unique_ids(drafted), strict=True))
    source = drafting.Source(path.name, meta["source_title"], meta["author"], meta["publisher"], published_on, meta["url"])
    rows = []
    for r in readings:
        prior, _why = drafting.prior_of(r, scale) if r.drafted else (None, "")
        rows.append({
            "sentence": r.sentence.number, "line": r.sentence.line, "text": r.sentence.text, "verdict": r.verdict,
            "words": list(r.words), "reason": REASONS[r.verdict], "probability": prior,
            "band": band(scale, r.level)[0] if r.level else None,
            "draft": ids.get(id(r)), "statement": r.statement if r.drafted else None,
        })  # fmt: skip
    result = ExtractResult(path, scale, rows, list(ids.values()), None if out is None else Path(out))
    if result.out is not None and drafted:
        writable_folder(result.out, "out", create=True)
        texts = [(ids[id(r)], drafting.draft_text(r, ids[id(r)], source, scale)) for r in drafted]
        done = drafting.write_drafts(texts, result.out)
        result.written, result.unchanged, result.kept = done.written, done.unchanged, done.kept
    return result
