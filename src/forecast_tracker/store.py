"""Every query and write. Functions take an open connection; the caller owns the transaction.

Nothing here commits, prints or exits. Written against SQLAlchemy Core so it runs on SQLite and
PostgreSQL alike.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, func, insert, literal, select

from .dates import utc_now
from .definitions import CRITERIA, SyncPlan, indicator_version, proposition_version
from .models import METADATA
from .probability import DEFAULT_POOL
from .records import IndicatorRow, ObservationRow, PropositionRow, ResolutionRow, RestatementRow, UpdateRow

if TYPE_CHECKING:
    from .catalog import IndicatorDef, PropositionDef

T_SOURCE = METADATA.tables["source"]
T_PROPOSITION = METADATA.tables["proposition"]
T_INDICATOR = METADATA.tables["indicator"]
T_REVISION = METADATA.tables["definition_revision"]
T_OBSERVATION = METADATA.tables["observation"]
T_UPDATE = METADATA.tables["probability_update"]
T_RESOLUTION = METADATA.tables["resolution"]
T_RETRACTION = METADATA.tables["retraction"]
T_APPLICATION = METADATA.tables["application"]
T_VERSION = METADATA.tables["definition_version"]
T_RESTATEMENT = METADATA.tables["restatement"]
T_CACHE = METADATA.tables["track_cache"]
T_RETIREMENT = METADATA.tables["retirement"]

RETRACTABLE = {"observation": T_OBSERVATION, "update": T_UPDATE, "resolution": T_RESOLUTION}


Which = str | Sequence[str] | None  # one proposition, several, or every one
Rules = dict[str, list[tuple[str, str]]]  # proposition id -> [(effective, value)] of a versioned key


def _only(query: Any, column: Any, which: Which) -> Any:
    """`query` restricted to one proposition (a str) or several (a sequence of ids)."""
    if which is None:
        return query
    if isinstance(which, str):
        return query.where(column == which)
    return query.where(column.in_(list(which)))


def _rows(conn: Connection, record: Any, query: Any) -> list[Any]:
    """The query's rows as `record`s (a NamedTuple of `records`): the query selects the record's fields
    in its order, which `_check_columns` holds it to."""
    result = conn.execute(query)
    _check_columns(record, tuple(result.keys()))
    return list(map(record._make, result))


def _first(conn: Connection, record: Any, query: Any) -> Any:
    found = _rows(conn, record, query.limit(1))
    return found[0] if found else None


def _check_columns(record: Any, keys: tuple[str, ...]) -> None:
    if keys != record._fields:
        raise RuntimeError(f"{record.__name__}: the query gives {keys}, the record wants {record._fields}")


def _select(record: Any, **columns: Any) -> Any:
    """SELECT of `record`'s fields, each from `columns` by name (a column or a labelled expression)."""
    return select(*[columns[name].label(name) for name in record._fields])


def _new_id(result: Any) -> int:
    """The id an INSERT gave its row."""
    return int(result.inserted_primary_key[0])


def _not_retracted(target: str, id_column) -> Any:
    r = T_RETRACTION
    return ~select(r.c.id).where(r.c.target == target, r.c.target_id == id_column).exists()


# -- catalog ----------------------------------------------------------------------------------
def _source_id(conn: Connection, src: dict[str, Any]) -> int:
    cond = [getattr(T_SOURCE.c, k).is_(None) if v is None else getattr(T_SOURCE.c, k) == v for k, v in src.items()]
    found = conn.execute(select(T_SOURCE.c.id).where(*cond)).scalar()
    if found is not None:
        return int(found)
    return _new_id(conn.execute(insert(T_SOURCE).values(**src)))


def _proposition_row(source_id: Any, d: PropositionDef) -> dict[str, Any]:
    """The `proposition` row of a definition; `source_id(d)` gives its source's id."""
    return {
        "id": d.id,
        "statement": d.statement,
        "question": d.question,
        "resolution_criteria": d.resolution_criteria,
        "opened": d.opened,
        "resolve_by": d.resolve_by,
        "prior": d.prior,
        "prior_phrase": d.prior_phrase,
        "source_id": source_id(d),
        "quote": d.quote,
        "tags": json.dumps(d.tags),
        "file": d.file,
        "decay": d.decay,
        "team": d.team,
        "origin": d.origin,
        "fingerprint": d.fingerprint(),
    }


def _indicator_row(d: IndicatorDef) -> dict[str, Any]:
    row = d.row()
    row["fingerprint"] = d.fingerprint()
    return row


def sync_state(conn: Connection) -> tuple[dict[str, PropositionRow], dict[str, IndicatorRow], set[str]]:
    """What `definitions.plan_sync` compares a catalog with: the stored propositions and indicators, and
    the propositions with a record (a live manual update, an applied live observation, a live resolution)."""
    props = {p.id: p for p in all_propositions(conn)}
    inds = {i.id: i for i in all_indicators(conn)}
    u, r, o, i, a = T_UPDATE, T_RESOLUTION, T_OBSERVATION, T_INDICATOR, T_APPLICATION
    recorded = {row[0] for row in conn.execute(select(u.c.proposition_id).where(_not_retracted("update", u.c.id)).distinct())}
    recorded |= {row[0] for row in conn.execute(select(r.c.proposition_id).where(_not_retracted("resolution", r.c.id)).distinct())}
    applied = (
        select(i.c.proposition_id)
        .select_from(a.join(o, a.c.observation_id == o.c.id).join(i, o.c.indicator_id == i.c.id))
        .where(_not_retracted("observation", o.c.id))
        .distinct()
    )
    recorded |= {row[0] for row in conn.execute(applied)}
    return props, inds, recorded


def applied_since(conn: Connection, asked: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """For each (indicator, day) asked, how many applied, live observations of the indicator are dated
    on or after the day: one query per distinct day, not one per indicator."""
    o, a = T_OBSERVATION, T_APPLICATION
    counts: dict[tuple[str, str], int] = {pair: 0 for pair in asked}
    days: dict[str, list[str]] = {}
    for indicator, day in asked:
        days.setdefault(day, []).append(indicator)
    for day, indicators in days.items():
        for k in range(0, len(indicators), 500):  # bound the IN list
            query = (
                select(o.c.indicator_id, func.count())
                .select_from(o.join(a, a.c.observation_id == o.c.id))
                .where(o.c.indicator_id.in_(indicators[k : k + 500]), o.c.observed_on >= day, _not_retracted("observation", o.c.id))
                .group_by(o.c.indicator_id)
            )
            counts.update(((indicator, day), int(n)) for indicator, n in conn.execute(query))
    return counts


def apply_sync(conn: Connection, plan: SyncPlan, reason: str | None, today: str) -> dict[str, list[str]]:
    """Write a checked `SyncPlan`: new and changed rows (old ones kept as revisions), a version for each
    changed way of counting, a restatement row for each restated key (`reason` says why).

    Each kind of row goes in as one executemany, and the definitions' rows are worked out before the
    first write: a sync that changes every file of a 10,000-file catalog holds the write lock for the
    writes alone (one statement built per row made it most of a minute)."""
    now = utc_now()
    rows = _sync_rows(conn, plan, today, now)
    p, i, v = T_PROPOSITION, T_INDICATOR, T_VERSION
    _many(conn, insert(p), rows["added"])
    # an UPDATE's SET columns are the rows' keys (the `b_` ones are its WHERE); criteria versions count up
    bump = p.c.criteria_version + bindparam("bump")
    _many(conn, p.update().where(p.c.id == bindparam("b_id")).values(criteria_version=bump), rows["changed"])
    _many(conn, insert(i), rows["new_indicators"])
    _many(conn, i.update().where(i.c.id == bindparam("b_id")), rows["changed_indicators"])
    _many(conn, v.update().where(v.c.kind == bindparam("b_kind"), v.c.ref_id == bindparam("b_ref"),
                                 v.c.effective >= bindparam("b_effective"), v.c.withdrawn_at.is_(None)), rows["withdrawn"])  # fmt: skip
    _many(conn, insert(v), rows["versions"])
    _many(conn, insert(T_REVISION), rows["revisions"])
    for change in plan.restatements:
        insert_restatement(conn, change.proposition_id, change.subject, change.key, shown_full(change.old),
                           shown_full(change.new), change.effective if change.versioned else None, reason or "", now)  # fmt: skip
    return {
        "added": [f"proposition {d.id}" for d in plan.added] + [f"indicator {ind.id}" for ind in plan.new_indicators],
        "changed": [f"proposition {d.id}" for d in plan.changed] + [f"indicator {ind.id}" for ind in plan.changed_indicators],
        "unchanged": list(plan.unchanged),
        "vanished": plan.vanished,
    }


def _sync_rows(conn: Connection, plan: SyncPlan, today: str, now: str) -> dict[str, list[dict[str, Any]]]:
    """Every row a sync writes, by what it is, worked out before the first write: propositions and
    indicators added and changed, each one's revision, versions withdrawn and versions added."""
    out: dict[str, list[dict[str, Any]]] = {"revisions": [], "versions": []}

    def revision(kind: str, ref: str, fingerprint: str, content: dict[str, Any]) -> None:
        out["revisions"].append({"kind": kind, "ref_id": ref, "fingerprint": fingerprint,
                                 "content": json.dumps(content, sort_keys=True, default=str), "recorded_at": now})  # fmt: skip

    def version(kind: str, ref: str, proposition_id: str, effective: str, content: dict[str, Any]) -> None:
        out["versions"].append({"kind": kind, "ref_id": ref, "proposition_id": proposition_id, "effective": effective,
                                "content": json.dumps(content, sort_keys=True), "recorded_at": now})  # fmt: skip

    sources, opened = _SourceIds(conn), {d.id: d.opened for d in [*plan.added, *plan.changed]}
    out["added"] = [{**_proposition_row(sources, d), "created_at": now, "updated_at": now} for d in plan.added]
    for d, row in zip(plan.added, out["added"], strict=True):
        revision("proposition", d.id, row["fingerprint"], _content(d))
        version("proposition", d.id, d.id, d.opened, proposition_version(d))
    criteria = {c.proposition_id for c in plan.changes if c.kind == "proposition" and c.key in CRITERIA}
    out["changed"] = [{**_proposition_row(sources, d), "b_id": d.id, "bump": int(d.id in criteria), "updated_at": now}
                      for d in plan.changed]  # fmt: skip
    for d, row in zip(plan.changed, out["changed"], strict=True):
        revision("proposition", d.id, row["fingerprint"], _content(d))
    out["new_indicators"] = [{**_indicator_row(ind), "created_at": now, "updated_at": now} for ind in plan.new_indicators]
    for ind, row in zip(plan.new_indicators, out["new_indicators"], strict=True):
        revision("indicator", ind.id, row["fingerprint"], ind.row())
        version("indicator", ind.id, ind.proposition_id, opened.get(ind.proposition_id) or _opened(conn, ind.proposition_id),
                indicator_version(ind))  # fmt: skip
    out["changed_indicators"] = [{**_indicator_row(ind), "b_id": ind.id, "updated_at": now} for ind in plan.changed_indicators]
    for ind, row in zip(plan.changed_indicators, out["changed_indicators"], strict=True):
        revision("indicator", ind.id, row["fingerprint"], ind.row())
    by_id: dict[tuple[str, str], Any] = {("indicator", i.id): i for i in plan.changed_indicators}
    by_id.update((("proposition", d.id), d) for d in plan.changed)
    out["withdrawn"] = []
    for (kind, subject), change in {(c.kind, c.subject): c for c in plan.changes if c.versioned}.items():
        d = by_id[(kind, subject)]
        out["withdrawn"].append({"b_kind": kind, "b_ref": subject, "b_effective": change.effective or today, "withdrawn_at": now})
        version(kind, subject, change.proposition_id, change.effective or today,
                indicator_version(d) if kind == "indicator" else proposition_version(d))  # fmt: skip
    return out


def _many(conn: Connection, statement: Any, rows: list[dict[str, Any]]) -> None:
    """One statement for many rows (the driver's executemany); nothing for none."""
    if rows:
        conn.execute(statement, rows)


class _SourceIds:
    """Each distinct source of a sync's definitions, looked up (or added) once."""

    def __init__(self, conn: Connection):
        self.conn, self.known = conn, dict[tuple, int]()

    def __call__(self, definition: PropositionDef) -> int:
        src = asdict(definition.source)
        key = tuple(src.items())
        if key not in self.known:
            self.known[key] = _source_id(self.conn, src)
        return self.known[key]


def _content(d: PropositionDef) -> dict[str, Any]:
    return {k: v for k, v in d.fields().items() if k not in ("decay_given", "effective")}


def shown_full(value: Any) -> str:
    """A definition's value as a restatement row keeps it: whole, as text."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)


def _opened(conn: Connection, proposition_id: str) -> str:
    return str(conn.execute(select(T_PROPOSITION.c.opened).where(T_PROPOSITION.c.id == proposition_id)).scalar_one())


# -- versions and restatements -------------------------------------------------------------------
def versions(conn: Connection, propositions: Which = None) -> tuple[dict[str, list[tuple[str, dict]]], Rules, Rules]:
    """The live versions of every definition of `propositions` that has more than one: (indicator id ->
    [(effective, keys)], proposition id -> [(effective, decay)], proposition id -> [(effective, team
    pool)]), each by effective date. A definition with one version is what its row says on every day."""
    v = T_VERSION
    query = select(v.c.kind, v.c.ref_id, v.c.effective, v.c.content).where(v.c.withdrawn_at.is_(None))
    query = _only(query, v.c.proposition_id, propositions).order_by(v.c.kind, v.c.ref_id, v.c.effective, v.c.id)
    found: dict[tuple[str, str], dict[str, str]] = {}
    for kind, ref, effective, content in conn.execute(query):
        found.setdefault((kind, ref), {})[effective] = content  # a later one the same day replaces it
    # only a definition with more than one version is read (most have one: decoding every one was a
    # third of `review`)
    changed = {key: {day: json.loads(c) for day, c in days.items()} for key, days in found.items() if len(days) > 1}
    indicators = {ref: list(days.items()) for (kind, ref), days in changed.items() if kind == "indicator"}

    def rules(key: str, default: str | None = None) -> Rules:
        return {ref: [(day, c[key] if default is None else c.get(key, default)) for day, c in days.items()]
                for (kind, ref), days in changed.items()
                if kind == "proposition"}  # fmt: skip

    # a version written before the `team` key existed pooled by the median, the only method then
    return indicators, rules("decay"), rules("team", DEFAULT_POOL)


def definition_versions(
    conn: Connection, indicators: dict[str, IndicatorRow], propositions: Which = None
) -> tuple[dict[str, list[tuple[str, IndicatorRow]]], Rules, Rules]:
    """`versions` as the evidence model reads them: each changed indicator's versions as rows (its
    current row with the version's keys), each changed proposition's decay rules and team pools."""
    raw, decays, pools = versions(conn, propositions)
    signposts = {
        ref: [(day, indicators[ref]._replace(**content)) for day, content in found]
        for ref, found in raw.items() if ref in indicators
    }  # fmt: skip
    return signposts, decays, pools


def insert_restatement(
    conn: Connection, proposition_id: str, subject: str, key: str, old: str, new: str, effective: str | None,
    reason: str, now: str,
) -> None:  # fmt: skip
    conn.execute(
        insert(T_RESTATEMENT).values(
            proposition_id=proposition_id, subject=subject, key=key, old=old, new=new, effective=effective,
            reason=reason, recorded_at=now,
        )  # fmt: skip
    )


def restatements(conn: Connection, propositions: Which = None) -> list[RestatementRow]:
    """Every restatement of `propositions`, by id (the order they were made)."""
    r = T_RESTATEMENT
    query = _select(RestatementRow, **{c.name: c for c in r.c}).order_by(r.c.id)
    return _rows(conn, RestatementRow, _only(query, r.c.proposition_id, propositions))


def criteria_versions(conn: Connection, proposition_id: str) -> tuple[dict[int, int | None], dict[int, int | None]]:
    """(update id -> criteria version, observation id -> criteria version of its application)."""
    u, a, o, i = T_UPDATE, T_APPLICATION, T_OBSERVATION, T_INDICATOR
    updates = dict(conn.execute(select(u.c.id, u.c.criteria_version).where(u.c.proposition_id == proposition_id)).all())
    applied = select(a.c.observation_id, a.c.criteria_version).select_from(
        a.join(o, a.c.observation_id == o.c.id).join(i, o.c.indicator_id == i.c.id)
    ).where(i.c.proposition_id == proposition_id)
    return updates, dict(conn.execute(applied).all())


def observation_links(conn: Connection) -> dict[int, tuple[int | None, int | None]]:
    """What an observations export carries beyond the rows the chain reads: observation id -> (the
    observation it amends, its application's criteria version), for those with either."""
    o, a = T_OBSERVATION, T_APPLICATION
    linked = select(o.c.id, o.c.amends, a.c.criteria_version).select_from(o.outerjoin(a, a.c.observation_id == o.c.id))
    linked = linked.where((o.c.amends.is_not(None)) | (a.c.criteria_version.is_not(None)))
    return {oid: (amends, version) for oid, amends, version in conn.execute(linked)}


def update_criteria_versions(conn: Connection) -> dict[int, int | None]:
    """update id -> the criteria version it was made under (what an updates export carries)."""
    u = T_UPDATE
    return dict(conn.execute(select(u.c.id, u.c.criteria_version)).all())


# -- definitions over time, whole: `export definitions` and the replay of such a file ---------------
DEFINITION_PARTS = ("revisions", "versions", "restatements", "retirements")


def definition_record(conn: Connection, propositions: Which = None) -> dict[str, dict[str, Any]]:
    """proposition id -> its definitions over time, as `export definitions` writes them: its criteria
    version, every revision of it and of its indicators (the catalog text `sync` saw), every version
    (live and withdrawn), every restatement and every retirement, each part in the order written."""
    p, i = T_PROPOSITION, T_INDICATOR
    props = _only(select(p.c.id, p.c.criteria_version), p.c.id, propositions).order_by(p.c.id)
    out: dict[str, dict[str, Any]] = {
        pid: {"id": pid, "criteria_version": version, **{part: [] for part in DEFINITION_PARTS}}
        for pid, version in conn.execute(props)
    }
    owner = {iid: pid for iid, pid in conn.execute(select(i.c.id, i.c.proposition_id)) if pid in out}

    def whose(kind: str, ref: str) -> str | None:
        return ref if kind == "proposition" and ref in out else owner.get(ref) if kind == "indicator" else None

    r = T_REVISION
    for kind, ref, fingerprint, content, at in conn.execute(
        select(r.c.kind, r.c.ref_id, r.c.fingerprint, r.c.content, r.c.recorded_at).order_by(r.c.id)
    ):
        pid = whose(kind, ref)
        if pid is not None:
            out[pid]["revisions"].append(
                {"kind": kind, "id": ref, "fingerprint": fingerprint, "content": json.loads(content), "recorded_at": at}
            )
    v = T_VERSION
    query = select(v.c.kind, v.c.ref_id, v.c.proposition_id, v.c.effective, v.c.content, v.c.recorded_at, v.c.withdrawn_at)
    for kind, ref, pid, effective, content, at, withdrawn in conn.execute(query.order_by(v.c.id)):
        if pid in out:
            out[pid]["versions"].append({"kind": kind, "id": ref, "effective": effective, "content": json.loads(content),
                                         "recorded_at": at, "withdrawn_at": withdrawn})  # fmt: skip
    for row in restatements(conn, None if propositions is None else list(out)):
        out[row.proposition_id]["restatements"].append(
            {k: getattr(row, k) for k in ("subject", "key", "old", "new", "effective", "reason", "recorded_at")}
        )
    t = T_RETIREMENT
    for iid, reason, at in conn.execute(select(t.c.indicator_id, t.c.reason, t.c.recorded_at).order_by(t.c.recorded_at, t.c.indicator_id)):
        if iid in owner:
            out[owner[iid]]["retirements"].append({"indicator": iid, "reason": reason, "recorded_at": at})
    return out


def replace_definition_record(conn: Connection, entry: dict[str, Any], indicator_ids: Sequence[str]) -> None:
    """Put a proposition's definitions over time (`definition_record`'s shape, checked by the caller) in
    place of what the database holds for it and its `indicator_ids`: a replay into a database synced from
    the same catalog, before the proposition has any record."""
    pid, inds = entry["id"], list(indicator_ids)
    r, v, s, t = T_REVISION, T_VERSION, T_RESTATEMENT, T_RETIREMENT
    conn.execute(r.delete().where(((r.c.kind == "proposition") & (r.c.ref_id == pid)) | ((r.c.kind == "indicator") & r.c.ref_id.in_(inds))))
    conn.execute(v.delete().where(v.c.proposition_id == pid))
    conn.execute(s.delete().where(s.c.proposition_id == pid))
    conn.execute(t.delete().where(t.c.indicator_id.in_(inds)))
    for row in entry["revisions"]:
        conn.execute(insert(r).values(kind=row["kind"], ref_id=row["id"], fingerprint=row["fingerprint"],
                                      content=json.dumps(row["content"], sort_keys=True), recorded_at=row["recorded_at"]))  # fmt: skip
    for row in entry["versions"]:
        conn.execute(insert(v).values(kind=row["kind"], ref_id=row["id"], proposition_id=pid, effective=row["effective"],
                                      content=json.dumps(row["content"], sort_keys=True), recorded_at=row["recorded_at"],
                                      withdrawn_at=row["withdrawn_at"]))  # fmt: skip
    for row in entry["restatements"]:
        conn.execute(insert(s).values(proposition_id=pid, **row))
    for row in entry["retirements"]:
        conn.execute(insert(t).values(indicator_id=row["indicator"], reason=row["reason"], recorded_at=row["recorded_at"]))
    conn.execute(T_PROPOSITION.update().where(T_PROPOSITION.c.id == pid).values(criteria_version=entry["criteria_version"]))


def has_record(conn: Connection, proposition_id: str) -> bool:
    """Whether a proposition has any observation (of its signposts, or of one it counts by `bears_on`),
    update or resolution, retracted ones included."""
    o, i, u, r = T_OBSERVATION, T_INDICATOR, T_UPDATE, T_RESOLUTION
    own = select(i.c.id).where(i.c.proposition_id == proposition_id)
    shared = select(i.c.bears_of).where(i.c.proposition_id == proposition_id, i.c.bears_of.is_not(None))
    observed = select(o.c.id).where(o.c.indicator_id.in_(own) | o.c.indicator_id.in_(shared))
    for query in (observed, select(u.c.id).where(u.c.proposition_id == proposition_id),
                  select(r.c.id).where(r.c.proposition_id == proposition_id)):  # fmt: skip
        if conn.execute(query.limit(1)).first() is not None:
            return True
    return False


# -- lookups ------------------------------------------------------------------------------------
def proposition_ids(conn: Connection) -> list[str]:
    return list(conn.execute(select(T_PROPOSITION.c.id).order_by(T_PROPOSITION.c.id)).scalars())


def indicator_ids(conn: Connection) -> list[str]:
    return list(conn.execute(select(T_INDICATOR.c.id).order_by(T_INDICATOR.c.id)).scalars())


def _no_such_key(conn: Connection, key: str | int) -> bool:
    """A key no row can have in this database, found without asking it (PostgreSQL refuses a NUL in
    text and an integer beyond its 32-bit ids with an error; SQLite simply finds nothing; neither can
    be sent a lone UTF-16 surrogate, which an argument that was not UTF-8 arrives as)."""
    if isinstance(key, str):
        return "\x00" in key or not key.isascii() and any("\ud800" <= ch <= "\udfff" for ch in key)
    return conn.dialect.name == "postgresql" and not -(2**31) <= key < 2**31


def _propositions() -> Any:
    p, s = T_PROPOSITION, T_SOURCE
    sources = {f"source_{name}": s.c[name] for name in ("title", "author", "publisher", "published", "url")}
    columns = {**{c.name: c for c in p.c}, **sources}
    return _select(PropositionRow, **columns).select_from(p.outerjoin(s, p.c.source_id == s.c.id)).order_by(p.c.id)


def get_proposition(conn: Connection, proposition_id: str) -> PropositionRow | None:
    if _no_such_key(conn, proposition_id):
        return None
    return _first(conn, PropositionRow, _propositions().where(T_PROPOSITION.c.id == proposition_id))


def all_propositions(conn: Connection, propositions: Which = None) -> list[PropositionRow]:
    return _rows(conn, PropositionRow, _only(_propositions(), T_PROPOSITION.c.id, propositions))


def _indicators() -> Any:
    i = T_INDICATOR
    return _select(IndicatorRow, **{c.name: c for c in i.c}).order_by(i.c.id)


def get_indicator(conn: Connection, indicator_id: str) -> IndicatorRow | None:
    if _no_such_key(conn, indicator_id):
        return None
    return _first(conn, IndicatorRow, _indicators().where(T_INDICATOR.c.id == indicator_id))


def indicators_of(conn: Connection, proposition_id: str) -> list[IndicatorRow]:
    return all_indicators(conn, proposition_id)


def entries_bearing(conn: Connection, indicator_id: str) -> list[IndicatorRow]:
    """The `bears_on` entries of a signpost: the indicators of other propositions counting its observations."""
    return _rows(conn, IndicatorRow, _indicators().where(T_INDICATOR.c.bears_of == indicator_id))


def retired_indicators(conn: Connection) -> dict[str, str]:
    """indicator id -> why it was retired (`retire indicator`)."""
    r = T_RETIREMENT
    return {row[0]: row[1] for row in conn.execute(select(r.c.indicator_id, r.c.reason))}


def insert_retirement(conn: Connection, indicator_id: str, reason: str) -> None:
    conn.execute(insert(T_RETIREMENT).values(indicator_id=indicator_id, reason=reason, recorded_at=utc_now()))


def all_indicators(conn: Connection, propositions: Which = None) -> list[IndicatorRow]:
    return _rows(conn, IndicatorRow, _only(_indicators(), T_INDICATOR.c.proposition_id, propositions))


# -- what the evidence chain reads ---------------------------------------------------------------
def manual_updates(
    conn: Connection, proposition_id: Which = None, until: str | None = None, benchmarks: bool = False
) -> list[UpdateRow]:
    """Live (not retracted) manual updates, by date then id. Indicator updates of the first release are
    not judgements: their observations' applications carry that evidence now. `benchmarks`: only a
    crowd's (`records.is_benchmark`: a name with a colon)."""
    u = T_UPDATE
    none = literal(None)
    query = (
        _select(UpdateRow, **{c.name: c for c in u.c}, indicator_id=none, retraction=none)
        .where(u.c.method == "manual", _not_retracted("update", u.c.id))
        .order_by(u.c.as_of, u.c.id)
    )
    if until is not None:
        query = query.where(u.c.as_of <= until)
    if benchmarks:
        query = query.where(u.c.forecaster.contains(":", autoescape=True))
    return _rows(conn, UpdateRow, _only(query, u.c.proposition_id, proposition_id))


def forecasters(conn: Connection) -> list[str]:
    """Everyone who has made a live manual update, by name."""
    u = T_UPDATE
    query = select(u.c.forecaster).where(u.c.method == "manual", _not_retracted("update", u.c.id)).distinct()
    return sorted(r[0] for r in conn.execute(query) if r[0])


def applied_evidence(conn: Connection, proposition_id: Which = None) -> list[ObservationRow]:
    """Applied, non-retracted observations, by date then id (their texts left empty: the chain never
    reads them)."""
    query, proposition = _observations(texts=False, applied=True, shared=any_shared(conn))
    return _rows(conn, ObservationRow, _only(query, proposition, proposition_id))


def insert_application(conn: Connection, observation_id: int, forecaster: str) -> None:
    insert_applications(conn, [(observation_id, forecaster, utc_now())])


def current_resolutions(conn: Connection) -> dict[str, ResolutionRow]:
    """proposition -> its live resolution recorded last, whatever its date (as `current_resolution`)."""
    r = T_RESOLUTION
    rows = _rows(conn, ResolutionRow, _resolutions().where(_not_retracted("resolution", r.c.id)))
    return {row.proposition_id: row for row in rows}  # by id: the last recorded wins


def current_resolution(conn: Connection, proposition_id: str) -> ResolutionRow | None:
    """The live resolution recorded last, whatever its date (a forced re-resolution supersedes)."""
    r = T_RESOLUTION
    query = _resolutions().where(r.c.proposition_id == proposition_id, _not_retracted("resolution", r.c.id))
    return _first(conn, ResolutionRow, query.order_by(None).order_by(r.c.id.desc()))


# -- writes -------------------------------------------------------------------------------------
def insert_observation(conn: Connection, row: dict[str, Any]) -> int:
    values = {"note": "", **row}
    values.setdefault("recorded_at", utc_now())
    return _new_id(conn.execute(insert(T_OBSERVATION).values(**values)))


CHUNK = 5000
OBSERVATION_COLUMNS = ("indicator_id", "observed_on", "value", "source", "note", "recorded_at")
_PLACEHOLDER = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def insert_observations(conn: Connection, rows: list[tuple]) -> int:
    """Bulk insert of (indicator_id, observed_on, value, source, note, recorded_at) tuples."""
    return _insert_many(conn, T_OBSERVATION, OBSERVATION_COLUMNS, rows)


def insert_applications(conn: Connection, rows: list[tuple]) -> int:
    """Bulk insert of (observation_id, forecaster, recorded_at) tuples, each stamped with the criteria
    version of its proposition in force now, or of (..., criteria_version) tuples, where a None version
    is stamped so (an export's rows carry the version each was applied under)."""
    a, o, i, p = T_APPLICATION, T_OBSERVATION, T_INDICATOR, T_PROPOSITION
    after = max_id(conn, "application")
    rows = [r if len(r) == 4 else (*r, None) for r in rows]
    count = _insert_many(conn, a, ("observation_id", "forecaster", "recorded_at", "criteria_version"), rows)
    version = (
        select(p.c.criteria_version)
        .select_from(o.join(i, o.c.indicator_id == i.c.id).join(p, i.c.proposition_id == p.c.id))
        .where(o.c.id == a.c.observation_id)
        .scalar_subquery()
    )
    conn.execute(a.update().where(a.c.id > after, a.c.criteria_version.is_(None)).values(criteria_version=version))
    return count


def set_amends(conn: Connection, pairs: list[tuple[int, int]]) -> None:
    """Link each (corrected observation, the one it amends), as `amend` does, for rows an import wrote."""
    o = T_OBSERVATION
    for new, old in pairs:
        conn.execute(o.update().where(o.c.id == new).values(amends=old))


def insert_retractions(conn: Connection, target: str, rows: list[tuple]) -> int:
    """Bulk insert of (target_id, reason) tuples, all retracting rows of `target`."""
    now = utc_now()
    return _insert_many(
        conn, T_RETRACTION, ("target", "target_id", "reason", "recorded_at"), [(target, i, why, now) for i, why in rows]
    )


def _insert_many(conn: Connection, table: Any, columns: Sequence[str], rows: list[tuple]) -> int:
    """One executemany straight to the driver: SQLAlchemy's Core insert builds a parameter dict per
    row, which cost a third of an import's time. The placeholder follows the driver's paramstyle,
    so this stays portable (SQLite's qmark, psycopg's format); any other style uses Core."""
    if not rows:
        return 0
    mark = _PLACEHOLDER.get(conn.dialect.paramstyle)
    if mark is None:
        conn.execute(insert(table), [dict(zip(columns, r, strict=True)) for r in rows])
    else:
        conn.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})", rows)
    return len(rows)


def _observation_index() -> Any:
    return next(ix for ix in T_OBSERVATION.indexes if ix.name == "ix_observation_indicator_date")


def may_defer_indexes(conn: Connection) -> bool:
    """Whether a bulk writer may drop an index inside its transaction and build it again before the
    commit. `db.Database.write(bulk=True)` says so on SQLite only: there the drop stays inside the
    transaction (a rollback or a crash brings the index back) and readers keep their snapshot, index
    included. PostgreSQL would lock every reader out of the table until the commit."""
    return bool(conn.get_execution_options().get("may_defer_indexes"))


def drop_observation_index(conn: Connection) -> None:
    """Drop the (indicator, date) index for a bulk load; `create_observation_index` builds it again.
    Only inside a write transaction, and only where `may_defer_indexes` says so."""
    _observation_index().drop(conn)


def create_observation_index(conn: Connection) -> None:
    """The (indicator, date) index exactly as the model declares it."""
    _observation_index().create(conn)


def insert_update(conn: Connection, row: dict[str, Any]) -> int:
    """One update, stamped with its proposition's criteria version in force now (unless `row` names the
    one it was made under, as an exported row does)."""
    values = {"rationale": "", "forecaster": "", **row}
    values.setdefault("recorded_at", utc_now())
    p = T_PROPOSITION
    if values.get("criteria_version") is None:
        values["criteria_version"] = conn.execute(select(p.c.criteria_version).where(p.c.id == row["proposition_id"])).scalar()
    return _new_id(conn.execute(insert(T_UPDATE).values(**values)))


def insert_resolution(conn: Connection, row: dict[str, Any]) -> int:
    values = {"source": "", "note": "", **row}
    values.setdefault("recorded_at", utc_now())
    return _new_id(conn.execute(insert(T_RESOLUTION).values(**values)))


def insert_retraction(conn: Connection, target: str, target_id: int, reason: str) -> None:
    insert_retractions(conn, target, [(target_id, reason)])


def row_exists(conn: Connection, target: str, row_id: int) -> bool:
    if _no_such_key(conn, row_id):
        return False
    table = RETRACTABLE[target]
    return conn.execute(select(table.c.id).where(table.c.id == row_id)).first() is not None


def get_observation(conn: Connection, observation_id: int) -> ObservationRow | None:
    """One observation, with its retraction and application."""
    if _no_such_key(conn, observation_id):
        return None
    return _first(conn, ObservationRow, _observations(True)[0].where(T_OBSERVATION.c.id == observation_id))


def is_retracted(conn: Connection, target: str, row_id: int) -> bool:
    r = T_RETRACTION
    return conn.execute(select(r.c.id).where(r.c.target == target, r.c.target_id == row_id)).first() is not None


def updates_from_observation(conn: Connection, observation_id: int) -> list[int]:
    u = T_UPDATE
    return list(
        conn.execute(select(u.c.id).where(u.c.observation_id == observation_id, _not_retracted("update", u.c.id))).scalars()
    )


def max_id(conn: Connection, target: str) -> int:
    table = T_APPLICATION if target == "application" else RETRACTABLE[target]
    return int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one())


def observation_key_hashes(conn: Connection) -> set[int]:
    """Hashes of (indicator, observed_on, value, source, note) of every stored observation.

    Hashes, not the tuples: a set of ints holds a 200,000-row table in a few MB. A hit is confirmed
    with `observation_exists` before anything is skipped.
    """
    o = T_OBSERVATION
    rows = conn.execute(select(o.c.indicator_id, o.c.observed_on, o.c.value, o.c.source, o.c.note))
    return {hash((i, d, None if v is None else float(v), s, n)) for i, d, v, s, n in rows}


def observation_exists(conn: Connection, key: tuple) -> bool:
    return identical_observation(conn, key) is not None


def identical_observation(conn: Connection, key: tuple) -> int | None:
    """The id of a stored observation equal to `key` (indicator, observed_on, value, source, note), if any."""
    o = T_OBSERVATION
    indicator, day, value, source, note = key
    query = select(o.c.id).where(
        o.c.indicator_id == indicator, o.c.observed_on == day, o.c.value.is_not_distinct_from(value), o.c.source == source,
        o.c.note == note,
    )  # fmt: skip
    found = conn.execute(query.order_by(o.c.id).limit(1)).first()
    return None if found is None else int(found[0])


def amended_by(conn: Connection, observation_id: int) -> int | None:
    """The observation that corrected `observation_id` (`amend`), if one did."""
    o = T_OBSERVATION
    found = conn.execute(select(o.c.id).where(o.c.amends == observation_id).limit(1)).first()
    return None if found is None else int(found[0])


def observation_owners(conn: Connection) -> dict[int, tuple[str, str]]:
    """observation id -> (proposition, indicator), for checking the links in an updates CSV."""
    o, i = T_OBSERVATION, T_INDICATOR
    rows = conn.execute(select(o.c.id, i.c.proposition_id, o.c.indicator_id).select_from(o.join(i, o.c.indicator_id == i.c.id)))
    return {oid: (pid, iid) for oid, pid, iid in rows}


def new_ids(conn: Connection, target: str, after: int) -> list[int]:
    table = RETRACTABLE[target]
    return list(conn.execute(select(table.c.id).where(table.c.id > after).order_by(table.c.id)).scalars())


def update_keys(conn: Connection) -> set[tuple]:
    u = T_UPDATE
    rows = conn.execute(select(u.c.proposition_id, u.c.as_of, u.c.probability, u.c.method, u.c.rationale, u.c.forecaster))
    return {(p, a, float(pr), m, r, f) for p, a, pr, m, r, f in rows}


def resolution_keys(conn: Connection) -> set[tuple]:
    r = T_RESOLUTION
    return set(conn.execute(select(r.c.proposition_id, r.c.outcome, r.c.resolved_on, r.c.source, r.c.note)).all())


# -- history and exports ---------------------------------------------------------------------
def _retraction_reason(target: str, id_column):
    r = T_RETRACTION
    return select(r.c.reason).where(r.c.target == target, r.c.target_id == id_column).limit(1).scalar_subquery()


def _observations(texts: bool, applied: bool = False, live: bool = False, shared: bool = False) -> tuple[Any, Any]:
    """Observations with their proposition, retraction and application, and the column that names the
    proposition (to filter on); `applied`: only those applied and not retracted, by date (what the
    chain counts), without the per-row retraction lookup; `live`: the caller keeps only those not
    retracted, so none needs the lookup either. `shared`: an observation of a signpost with `bears_on`
    entries comes once more for each, as an observation of the entry (`SOURCE@PROPOSITION`)."""
    o, i, a = T_OBSERVATION, T_INDICATOR, T_APPLICATION
    if shared:  # indicator id -> itself and each entry bearing it: (source, target, proposition)
        itself = select(i.c.id.label("source"), i.c.id.label("target"), i.c.proposition_id.label("proposition_id"))
        entries = select(i.c.bears_of, i.c.id, i.c.proposition_id).where(i.c.bears_of.is_not(None), i.c.bears_of != "")
        m = itself.where(i.c.bears_of.is_(None)).union_all(entries).subquery("counted_for")
        target, proposition, on = m.c.target, m.c.proposition_id, m.c.source == o.c.indicator_id
        table: Any = m
    else:
        target, proposition, on, table = o.c.indicator_id, i.c.proposition_id, o.c.indicator_id == i.c.id, i
    text_columns = {"source": o.c.source, "note": o.c.note} if texts else {"source": literal(""), "note": literal("")}
    retraction = literal(None) if applied or live else _retraction_reason("observation", o.c.id)
    query = _select(
        ObservationRow, id=o.c.id, indicator_id=target, proposition_id=proposition,
        observed_on=o.c.observed_on, value=o.c.value, **text_columns, recorded_at=o.c.recorded_at,
        retraction=retraction, applied_by=a.c.forecaster, applied_at=a.c.recorded_at,
    )  # fmt: skip
    if applied:
        joined = o.join(a, a.c.observation_id == o.c.id).join(table, on)
        query = query.select_from(joined).where(_not_retracted("observation", o.c.id)).order_by(o.c.observed_on, o.c.id)
        return query, proposition
    joined = o.join(table, on).outerjoin(a, a.c.observation_id == o.c.id)
    return query.select_from(joined).order_by(o.c.id), proposition


def any_shared(conn: Connection) -> bool:
    """Whether any signpost counts for another proposition (`bears_on`): only then do the queries of
    the chain take the longer path."""
    i = T_INDICATOR
    return conn.execute(select(i.c.id).where(i.c.bears_of.is_not(None)).limit(1)).first() is not None


def observations(
    conn: Connection, proposition_id: Which = None, until: str | None = None, texts: bool = True, shared: bool = False
) -> list[ObservationRow]:
    """Observations with their proposition, retraction and application; `texts=False` leaves out the
    source and note (empty strings instead), for callers that only count and weigh; `shared`: also as
    each `bears_on` entry's (under the entry's proposition)."""
    query, proposition = _observations(texts, shared=shared and any_shared(conn))
    if until is not None:
        query = query.where(T_OBSERVATION.c.observed_on <= until)
    return _rows(conn, ObservationRow, _only(query, proposition, proposition_id))


def pending_observations(
    conn: Connection, proposition_id: Which = None, until: str | None = None, shared: bool = False
) -> list[ObservationRow]:
    """Live observations that are not applied (what `review` asks about), without their texts."""
    query, proposition = _observations(texts=False, live=True, shared=shared and any_shared(conn))
    query = query.where(T_APPLICATION.c.id.is_(None), _not_retracted("observation", T_OBSERVATION.c.id))
    if until is not None:
        query = query.where(T_OBSERVATION.c.observed_on <= until)
    return _rows(conn, ObservationRow, _only(query, proposition, proposition_id))


def updates(conn: Connection, proposition_id: Which = None, until: str | None = None) -> list[UpdateRow]:
    """Every update, retracted ones included (with their reason), by id."""
    u, o = T_UPDATE, T_OBSERVATION
    query = (
        _select(
            UpdateRow, **{c.name: c for c in u.c}, indicator_id=o.c.indicator_id, retraction=_retraction_reason("update", u.c.id)
        )  # fmt: skip
        .select_from(u.outerjoin(o, u.c.observation_id == o.c.id))
        .order_by(u.c.id)
    )
    if until is not None:
        query = query.where(u.c.as_of <= until)
    return _rows(conn, UpdateRow, _only(query, u.c.proposition_id, proposition_id))


def _resolutions() -> Any:
    r = T_RESOLUTION
    return _select(ResolutionRow, **{c.name: c for c in r.c}, retraction=_retraction_reason("resolution", r.c.id)).order_by(
        r.c.id
    )


def resolution_proposition(conn: Connection, resolution_id: int) -> str | None:
    """The proposition a resolution id belongs to, or None for an unknown id."""
    if _no_such_key(conn, resolution_id):
        return None
    r = T_RESOLUTION
    return conn.execute(select(r.c.proposition_id).where(r.c.id == resolution_id)).scalar()


def resolutions(conn: Connection, proposition_id: Which = None) -> list[ResolutionRow]:
    """Every resolution, retracted ones included (with their reason), by id."""
    return _rows(conn, ResolutionRow, _only(_resolutions(), T_RESOLUTION.c.proposition_id, proposition_id))


# -- the derived cache of tracks (models.TrackCache) -------------------------------------------------
def cached_states(conn: Connection, version: str, propositions: Which = None, anchors: bool = False) -> dict[str, str]:
    """proposition id -> its cached tracks (JSON: the head, or with `anchors` every anchor), for the rows
    written by `version` of the model."""
    c = T_CACHE
    column = c.c.anchors if anchors else c.c.content
    query = _only(select(c.c.proposition_id, column).where(c.c.version == version), c.c.proposition_id, propositions)
    return {pid: content for pid, content in conn.execute(query)}


def uncached(conn: Connection, version: str) -> list[str]:
    """The propositions with no cached row of `version` (new, changed since, or written by another version)."""
    p, c = T_PROPOSITION, T_CACHE
    fresh = select(c.c.proposition_id).where(c.c.version == version)
    return list(conn.execute(select(p.c.id).where(p.c.id.not_in(fresh)).order_by(p.c.id)).scalars())


def write_states(conn: Connection, version: str, states: dict[str, tuple[str, str]]) -> None:
    """Replace the cached rows of `states` (proposition id -> (head JSON, every anchor JSON))."""
    if not states:
        return
    c = T_CACHE
    conn.execute(c.delete().where(c.c.proposition_id.in_(list(states))))
    rows = [{"proposition_id": pid, "version": version, "content": head, "anchors": full} for pid, (head, full) in states.items()]
    conn.execute(insert(c), rows)


def clear_states(conn: Connection) -> int:
    """Delete every cached row; how many there were."""
    return int(conn.execute(T_CACHE.delete()).rowcount or 0)
