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
from .models import (
    Application,
    DefinitionRevision,
    Indicator,
    Observation,
    Proposition,
    Resolution,
    Retraction,
    Source,
    Update,
)

if TYPE_CHECKING:
    from .catalog import IndicatorDef, PropositionDef

T_SOURCE = Source.__table__
T_PROPOSITION = Proposition.__table__
T_INDICATOR = Indicator.__table__
T_REVISION = DefinitionRevision.__table__
T_OBSERVATION = Observation.__table__
T_UPDATE = Update.__table__
T_RESOLUTION = Resolution.__table__
T_RETRACTION = Retraction.__table__
T_APPLICATION = Application.__table__

RETRACTABLE = {"observation": T_OBSERVATION, "update": T_UPDATE, "resolution": T_RESOLUTION}


Which = str | Sequence[str] | None  # one proposition, several, or every one


def _only(query: Any, column: Any, which: Which) -> Any:
    """`query` restricted to one proposition (a str) or several (a sequence of ids)."""
    if which is None:
        return query
    if isinstance(which, str):
        return query.where(column == which)
    return query.where(column.in_(list(which)))


def _dicts(result: Any) -> list[dict[str, Any]]:
    """Rows as plain dicts (zipping tuples with the column names: several times faster than mappings)."""
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result]


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
    return int(conn.execute(insert(T_SOURCE).values(**src)).inserted_primary_key[0])


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
    existing_p = dict(conn.execute(select(T_PROPOSITION.c.id, T_PROPOSITION.c.fingerprint)).all())
    existing_i = dict(conn.execute(select(T_INDICATOR.c.id, T_INDICATOR.c.fingerprint)).all())
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


def get_proposition(conn: Connection, proposition_id: str) -> dict[str, Any] | None:
    if _no_such_key(conn, proposition_id):
        return None
    p, s = T_PROPOSITION, T_SOURCE
    row = (
        conn.execute(
            select(
                p,
                s.c.title.label("source_title"),
                s.c.author.label("source_author"),
                s.c.publisher.label("source_publisher"),
                s.c.published.label("source_published"),
                s.c.url.label("source_url"),
            )
            .select_from(p.outerjoin(s, p.c.source_id == s.c.id))
            .where(p.c.id == proposition_id)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def get_indicator(conn: Connection, indicator_id: str) -> dict[str, Any] | None:
    if _no_such_key(conn, indicator_id):
        return None
    row = conn.execute(select(T_INDICATOR).where(T_INDICATOR.c.id == indicator_id)).mappings().first()
    return dict(row) if row else None


def indicators_of(conn: Connection, proposition_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(select(T_INDICATOR).where(T_INDICATOR.c.proposition_id == proposition_id).order_by(T_INDICATOR.c.id))
    return [dict(r) for r in rows.mappings()]


def all_indicators(conn: Connection, propositions: Which = None) -> list[dict[str, Any]]:
    i = T_INDICATOR
    return _dicts(conn.execute(_only(select(i).order_by(i.c.id), i.c.proposition_id, propositions)))


def all_propositions(conn: Connection, propositions: Which = None) -> list[dict[str, Any]]:
    p, s = T_PROPOSITION, T_SOURCE
    query = (
        select(p, s.c.title.label("source_title"), s.c.author.label("source_author"))
        .select_from(p.outerjoin(s, p.c.source_id == s.c.id))
        .order_by(p.c.id)
    )
    return _dicts(conn.execute(_only(query, p.c.id, propositions)))


# -- what the evidence chain reads ---------------------------------------------------------------
def manual_updates(conn: Connection, proposition_id: Which = None, until: str | None = None) -> list[dict[str, Any]]:
    """Live (not retracted) manual updates, by date then id. Indicator updates of the first release are
    not judgements: their observations' applications carry that evidence now."""
    u = T_UPDATE
    query = (
        select(u.c.id, u.c.proposition_id, u.c.as_of, u.c.probability, u.c.rationale, u.c.forecaster)
        .where(u.c.method == "manual", _not_retracted("update", u.c.id))
        .order_by(u.c.as_of, u.c.id)
    )
    if until is not None:
        query = query.where(u.c.as_of <= until)
    return _dicts(conn.execute(_only(query, u.c.proposition_id, proposition_id)))


def forecasters(conn: Connection) -> list[str]:
    """Everyone who has made a live manual update, by name."""
    u = T_UPDATE
    query = select(u.c.forecaster).where(u.c.method == "manual", _not_retracted("update", u.c.id)).distinct()
    return sorted(r[0] for r in conn.execute(query) if r[0])


def applied_evidence(conn: Connection, proposition_id: Which = None) -> list[dict[str, Any]]:
    """Applied, non-retracted observations with their proposition, by date then id."""
    o, a, i = T_OBSERVATION, T_APPLICATION, T_INDICATOR
    query = (
        select(o.c.id, o.c.indicator_id, i.c.proposition_id, o.c.observed_on, o.c.value, a.c.forecaster.label("applied_by"))
        .select_from(o.join(a, a.c.observation_id == o.c.id).join(i, o.c.indicator_id == i.c.id))
        .where(_not_retracted("observation", o.c.id))
        .order_by(o.c.observed_on, o.c.id)
    )
    return _dicts(conn.execute(_only(query, i.c.proposition_id, proposition_id)))


def insert_application(conn: Connection, observation_id: int, forecaster: str) -> None:
    insert_applications(conn, [(observation_id, forecaster, utc_now())])


def application_of(conn: Connection, observation_id: int) -> dict[str, Any] | None:
    a = T_APPLICATION
    row = conn.execute(select(a).where(a.c.observation_id == observation_id)).mappings().first()
    return dict(row) if row else None


def resolved_propositions(conn: Connection) -> set[str]:
    """Propositions with a live (not retracted) resolution, whatever its date."""
    r = T_RESOLUTION
    return set(conn.execute(select(r.c.proposition_id).where(_not_retracted("resolution", r.c.id)).distinct()).scalars())


def current_resolution(conn: Connection, proposition_id: str) -> dict[str, Any] | None:
    r = T_RESOLUTION
    row = (
        conn.execute(
            select(r)
            .where(r.c.proposition_id == proposition_id, _not_retracted("resolution", r.c.id))
            .order_by(r.c.id.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


# -- writes -------------------------------------------------------------------------------------
def insert_observation(conn: Connection, row: dict[str, Any]) -> int:
    values = {"note": "", **row}
    values.setdefault("recorded_at", utc_now())
    return int(conn.execute(insert(T_OBSERVATION).values(**values)).inserted_primary_key[0])


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
    return int(conn.execute(insert(T_UPDATE).values(**values)).inserted_primary_key[0])


def insert_resolution(conn: Connection, row: dict[str, Any]) -> int:
    values = {"source": "", "note": "", **row}
    values.setdefault("recorded_at", utc_now())
    return int(conn.execute(insert(T_RESOLUTION).values(**values)).inserted_primary_key[0])


def insert_retraction(conn: Connection, target: str, target_id: int, reason: str) -> None:
    insert_retractions(conn, target, [(target_id, reason)])


def get_row(conn: Connection, target: str, row_id: int) -> dict[str, Any] | None:
    if _no_such_key(conn, row_id):
        return None
    table = RETRACTABLE[target]
    row = conn.execute(select(table).where(table.c.id == row_id)).mappings().first()
    return dict(row) if row else None


def retraction_of(conn: Connection, target: str, row_id: int) -> dict[str, Any] | None:
    r = T_RETRACTION
    row = conn.execute(select(r).where(r.c.target == target, r.c.target_id == row_id)).mappings().first()
    return dict(row) if row else None


def updates_from_observation(conn: Connection, observation_id: int) -> list[int]:
    u = T_UPDATE
    return list(
        conn.execute(select(u.c.id).where(u.c.observation_id == observation_id, _not_retracted("update", u.c.id))).scalars()
    )


def max_id(conn: Connection, target: str) -> int:
    table = RETRACTABLE[target]
    return int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar())


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


def observations(
    conn: Connection, proposition_id: Which = None, until: str | None = None, texts: bool = True
) -> list[dict[str, Any]]:
    """Observations with their proposition, retraction and application; `texts=False` leaves out the
    source and note (empty strings instead), for callers that only count and weigh."""
    o, i = T_OBSERVATION, T_INDICATOR
    text_columns = (o.c.source, o.c.note) if texts else (literal("").label("source"), literal("").label("note"))
    query = (
        select(
            o.c.id,
            o.c.indicator_id.label("indicator"),
            i.c.proposition_id.label("proposition"),
            o.c.observed_on,
            o.c.value,
            *text_columns,
            o.c.recorded_at,
            _retraction_reason("observation", o.c.id).label("retracted"),
            T_APPLICATION.c.forecaster.label("applied_by"),
            T_APPLICATION.c.recorded_at.label("applied_at"),
        )
        .select_from(o.join(i, o.c.indicator_id == i.c.id).outerjoin(T_APPLICATION, T_APPLICATION.c.observation_id == o.c.id))
        .order_by(o.c.id)
    )
    if until is not None:
        query = query.where(o.c.observed_on <= until)
    return _dicts(conn.execute(_only(query, i.c.proposition_id, proposition_id)))


def updates(conn: Connection, proposition_id: Which = None, until: str | None = None) -> list[dict[str, Any]]:
    u, o = T_UPDATE, T_OBSERVATION
    query = (
        select(
            u.c.id,
            u.c.proposition_id.label("proposition"),
            u.c.as_of,
            u.c.probability,
            u.c.method,
            u.c.rationale,
            u.c.observation_id,
            o.c.indicator_id.label("indicator"),
            u.c.likelihood_ratio,
            u.c.forecaster,
            u.c.recorded_at,
            _retraction_reason("update", u.c.id).label("retracted"),
        )
        .select_from(u.outerjoin(o, u.c.observation_id == o.c.id))
        .order_by(u.c.id)
    )
    if until is not None:
        query = query.where(u.c.as_of <= until)
    return _dicts(conn.execute(_only(query, u.c.proposition_id, proposition_id)))


def resolutions(conn: Connection, proposition_id: Which = None) -> list[dict[str, Any]]:
    r = T_RESOLUTION
    query = select(
        r.c.id,
        r.c.proposition_id.label("proposition"),
        r.c.outcome,
        r.c.resolved_on,
        r.c.source,
        r.c.note,
        r.c.recorded_at,
        _retraction_reason("resolution", r.c.id).label("retracted"),
    ).order_by(r.c.id)
    return _dicts(conn.execute(_only(query, r.c.proposition_id, proposition_id)))
