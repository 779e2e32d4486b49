"""Every query and write. Functions take an open connection; the caller owns the transaction.

Nothing here commits, prints or exits. Written against SQLAlchemy Core so it runs on SQLite and
PostgreSQL alike.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, insert, literal, select

from .dates import utc_now
from .models import METADATA
from .records import IndicatorRow, ObservationRow, PropositionRow, ResolutionRow, UpdateRow

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

RETRACTABLE = {"observation": T_OBSERVATION, "update": T_UPDATE, "resolution": T_RESOLUTION}


Which = str | Sequence[str] | None  # one proposition, several, or every one


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
def _source_id(conn: Connection, definition: PropositionDef) -> int:
    src = asdict(definition.source)
    cond = [getattr(T_SOURCE.c, k).is_(None) if v is None else getattr(T_SOURCE.c, k) == v for k, v in src.items()]
    found = conn.execute(select(T_SOURCE.c.id).where(*cond)).scalar()
    if found is not None:
        return int(found)
    return _new_id(conn.execute(insert(T_SOURCE).values(**src)))


def _proposition_row(conn: Connection, d: PropositionDef) -> dict[str, Any]:
    return {
        "id": d.id,
        "statement": d.statement,
        "question": d.question,
        "resolution_criteria": d.resolution_criteria,
        "opened": d.opened,
        "resolve_by": d.resolve_by,
        "prior": d.prior,
        "prior_phrase": d.prior_phrase,
        "source_id": _source_id(conn, d),
        "quote": d.quote,
        "tags": json.dumps(d.tags),
        "file": d.file,
        "decay": d.decay,
        "origin": d.origin,
        "fingerprint": d.fingerprint(),
    }


def _indicator_row(d: IndicatorDef) -> dict[str, Any]:
    row = asdict(d)
    row["fingerprint"] = d.fingerprint()
    return row


def _record_revision(conn: Connection, kind: str, ref_id: str, fingerprint: str, content: dict, now: str) -> None:
    conn.execute(
        insert(T_REVISION).values(
            kind=kind,
            ref_id=ref_id,
            fingerprint=fingerprint,
            content=json.dumps(content, sort_keys=True, default=str),
            recorded_at=now,
        )
    )


def sync_definitions(conn: Connection, definitions: Sequence[PropositionDef]) -> dict[str, list[str]]:
    """Add new definitions, update changed ones (old versions kept as revisions), report vanished ones."""
    now = utc_now()
    result: dict[str, list[str]] = {"added": [], "changed": [], "unchanged": [], "vanished": []}
    existing_p: dict[str, str] = {k: v for k, v in conn.execute(select(T_PROPOSITION.c.id, T_PROPOSITION.c.fingerprint))}
    existing_i: dict[str, str] = {k: v for k, v in conn.execute(select(T_INDICATOR.c.id, T_INDICATOR.c.fingerprint))}
    seen_p, seen_i = set(), set()
    for d in definitions:
        seen_p.add(d.id)
        fp = d.fingerprint()
        content = {k: v for k, v in asdict(d).items() if k != "indicators"}
        if d.id not in existing_p:
            conn.execute(insert(T_PROPOSITION).values(**_proposition_row(conn, d), created_at=now, updated_at=now))
            _record_revision(conn, "proposition", d.id, fp, content, now)
            result["added"].append(f"proposition {d.id}")
        elif existing_p[d.id] != fp:
            conn.execute(
                T_PROPOSITION.update().where(T_PROPOSITION.c.id == d.id).values(**_proposition_row(conn, d), updated_at=now)
            )
            _record_revision(conn, "proposition", d.id, fp, content, now)
            result["changed"].append(f"proposition {d.id}")
        else:
            result["unchanged"].append(f"proposition {d.id}")
        for ind in d.indicators:
            seen_i.add(ind.id)
            row = _indicator_row(ind)
            if ind.id not in existing_i:
                conn.execute(insert(T_INDICATOR).values(**row, created_at=now, updated_at=now))
                _record_revision(conn, "indicator", ind.id, row["fingerprint"], asdict(ind), now)
                result["added"].append(f"indicator {ind.id}")
            elif existing_i[ind.id] != row["fingerprint"]:
                conn.execute(T_INDICATOR.update().where(T_INDICATOR.c.id == ind.id).values(**row, updated_at=now))
                _record_revision(conn, "indicator", ind.id, row["fingerprint"], asdict(ind), now)
                result["changed"].append(f"indicator {ind.id}")
            else:
                result["unchanged"].append(f"indicator {ind.id}")
    result["vanished"] = [f"proposition {p}" for p in sorted(set(existing_p) - seen_p)] + [
        f"indicator {i}" for i in sorted(set(existing_i) - seen_i)
    ]
    return result


# -- lookups ------------------------------------------------------------------------------------
def proposition_ids(conn: Connection) -> list[str]:
    return list(conn.execute(select(T_PROPOSITION.c.id).order_by(T_PROPOSITION.c.id)).scalars())


def indicator_ids(conn: Connection) -> list[str]:
    return list(conn.execute(select(T_INDICATOR.c.id).order_by(T_INDICATOR.c.id)).scalars())


def _no_such_key(conn: Connection, key: str | int) -> bool:
    """A key no row can have in this database, found without asking it (PostgreSQL refuses a NUL in
    text and an integer beyond its 32-bit ids with an error; SQLite simply finds nothing)."""
    if isinstance(key, str):
        return "\x00" in key
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


def all_indicators(conn: Connection, propositions: Which = None) -> list[IndicatorRow]:
    return _rows(conn, IndicatorRow, _only(_indicators(), T_INDICATOR.c.proposition_id, propositions))


# -- what the evidence chain reads ---------------------------------------------------------------
def manual_updates(conn: Connection, proposition_id: Which = None, until: str | None = None) -> list[UpdateRow]:
    """Live (not retracted) manual updates, by date then id. Indicator updates of the first release are
    not judgements: their observations' applications carry that evidence now."""
    u = T_UPDATE
    none = literal(None)
    query = (
        _select(UpdateRow, **{c.name: c for c in u.c}, indicator_id=none, retraction=none)
        .where(u.c.method == "manual", _not_retracted("update", u.c.id))
        .order_by(u.c.as_of, u.c.id)
    )
    if until is not None:
        query = query.where(u.c.as_of <= until)
    return _rows(conn, UpdateRow, _only(query, u.c.proposition_id, proposition_id))


def forecasters(conn: Connection) -> list[str]:
    """Everyone who has made a live manual update, by name."""
    u = T_UPDATE
    query = select(u.c.forecaster).where(u.c.method == "manual", _not_retracted("update", u.c.id)).distinct()
    return sorted(r[0] for r in conn.execute(query) if r[0])


def applied_evidence(conn: Connection, proposition_id: Which = None) -> list[ObservationRow]:
    """Applied, non-retracted observations, by date then id (their texts left empty: the chain never
    reads them)."""
    query = _observations(texts=False, applied=True)
    return _rows(conn, ObservationRow, _only(query, T_INDICATOR.c.proposition_id, proposition_id))


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
    """Bulk insert of (observation_id, forecaster, recorded_at) tuples."""
    return _insert_many(conn, T_APPLICATION, ("observation_id", "forecaster", "recorded_at"), rows)


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
    values = {"rationale": "", "forecaster": "", **row}
    values.setdefault("recorded_at", utc_now())
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
    return _first(conn, ObservationRow, _observations(True).where(T_OBSERVATION.c.id == observation_id))


def is_retracted(conn: Connection, target: str, row_id: int) -> bool:
    r = T_RETRACTION
    return conn.execute(select(r.c.id).where(r.c.target == target, r.c.target_id == row_id)).first() is not None


def updates_from_observation(conn: Connection, observation_id: int) -> list[int]:
    u = T_UPDATE
    return list(
        conn.execute(select(u.c.id).where(u.c.observation_id == observation_id, _not_retracted("update", u.c.id))).scalars()
    )


def max_id(conn: Connection, target: str) -> int:
    table = RETRACTABLE[target]
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
    o = T_OBSERVATION
    indicator, day, value, source, note = key
    query = select(o.c.id).where(
        o.c.indicator_id == indicator, o.c.observed_on == day, o.c.value.is_not_distinct_from(value), o.c.source == source,
        o.c.note == note,
    )  # fmt: skip
    return conn.execute(query.limit(1)).first() is not None


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


def _observations(texts: bool, applied: bool = False) -> Any:
    """Observations with their proposition, retraction and application; `applied`: only those applied
    and not retracted, by date (what the chain counts), without the per-row retraction lookup."""
    o, i, a = T_OBSERVATION, T_INDICATOR, T_APPLICATION
    text_columns = {"source": o.c.source, "note": o.c.note} if texts else {"source": literal(""), "note": literal("")}
    retraction = literal(None) if applied else _retraction_reason("observation", o.c.id)
    query = _select(
        ObservationRow, id=o.c.id, indicator_id=o.c.indicator_id, proposition_id=i.c.proposition_id,
        observed_on=o.c.observed_on, value=o.c.value, **text_columns, recorded_at=o.c.recorded_at,
        retraction=retraction, applied_by=a.c.forecaster, applied_at=a.c.recorded_at,
    )  # fmt: skip
    if applied:
        joined = o.join(a, a.c.observation_id == o.c.id).join(i, o.c.indicator_id == i.c.id)
        return query.select_from(joined).where(_not_retracted("observation", o.c.id)).order_by(o.c.observed_on, o.c.id)
    joined = o.join(i, o.c.indicator_id == i.c.id).outerjoin(a, a.c.observation_id == o.c.id)
    return query.select_from(joined).order_by(o.c.id)


def observations(
    conn: Connection, proposition_id: Which = None, until: str | None = None, texts: bool = True
) -> list[ObservationRow]:
    """Observations with their proposition, retraction and application; `texts=False` leaves out the
    source and note (empty strings instead), for callers that only count and weigh."""
    query = _observations(texts)
    if until is not None:
        query = query.where(T_OBSERVATION.c.observed_on <= until)
    return _rows(conn, ObservationRow, _only(query, T_INDICATOR.c.proposition_id, proposition_id))


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


def resolutions(conn: Connection, proposition_id: Which = None) -> list[ResolutionRow]:
    """Every resolution, retracted ones included (with their reason), by id."""
    return _rows(conn, ResolutionRow, _only(_resolutions(), T_RESOLUTION.c.proposition_id, proposition_id))
