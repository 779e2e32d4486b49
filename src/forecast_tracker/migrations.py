"""Named, append-only schema migrations, registered with `@migration`, each applied in the same
transaction as its record.

Each migration states its own DDL, as the schema stood when it shipped: building from today's models
would make an old database's upgrade depend on columns added later (a migration that adds a column to
`application` would find it already there). Only `0001_initial`, which only an empty database ever
runs, creates from the models.

A new database is created from the tables in `models.py` and every migration is recorded as applied
(it already has their result). An older database runs the migrations it lacks, in order. Never edit a
migration that has shipped: register a new one. Each is written so SQLite and PostgreSQL both run it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Column, Connection, ForeignKey, Index, Integer, MetaData, Table, Text, text

from .models import METADATA

Migration = Callable[[Connection], None]
MIGRATIONS: list[tuple[str, Migration]] = []


def migration(name: str) -> Callable[[Migration], Migration]:
    """Register `fn` as the migration `name`; names sort in the order they must run."""

    def register(fn: Migration) -> Migration:
        if MIGRATIONS and name <= MIGRATIONS[-1][0]:
            raise ValueError(f"migration {name} must sort after {MIGRATIONS[-1][0]}")
        MIGRATIONS.append((name, fn))
        return fn

    return register


def create_schema(conn: Connection) -> None:
    """Create every table and index of `models.py` in an empty database, and the cache's triggers."""
    METADATA.create_all(conn)
    cache_triggers(conn)


# What changes a proposition's tracks, and so deletes its cached row (`track_cache`): a manual update,
# an application, a retraction of an observation or an update, a definition version (new or
# withdrawn), a restatement, a change of the proposition's row or of an indicator's.
_OBSERVATION_OF = "(SELECT i.proposition_id FROM observation o JOIN indicator i ON i.id = o.indicator_id WHERE o.id = {})"
# and every proposition a `bears_on` entry counts it for (a target starting "IN" is a set, not one row)
_SHARED_OF = "IN (SELECT i.proposition_id FROM observation o JOIN indicator i ON i.bears_of = o.indicator_id WHERE o.id = {})"
_CACHE_TRIGGERS = {  # name: (table, event, the propositions whose row goes)
    "tc_update": ("probability_update", "INSERT", ["NEW.proposition_id"]),
    "tc_application": ("application", "INSERT", [_OBSERVATION_OF.format("NEW.observation_id"),
                                                  _SHARED_OF.format("NEW.observation_id")]),
    "tc_retraction": ("retraction", "INSERT", [
        _OBSERVATION_OF.format("NEW.target_id") + " AND NEW.target = 'observation'",
        _SHARED_OF.format("NEW.target_id") + " AND NEW.target = 'observation'",
        "(SELECT u.proposition_id FROM probability_update u WHERE u.id = NEW.target_id AND NEW.target = 'update')",
    ]),
    "tc_version_new": ("definition_version", "INSERT", ["NEW.proposition_id"]),
    "tc_version_withdrawn": ("definition_version", "UPDATE", ["NEW.proposition_id"]),
    "tc_restatement": ("restatement", "INSERT", ["NEW.proposition_id"]),
    "tc_proposition": ("proposition", "UPDATE", ["NEW.id"]),
    "tc_indicator": ("indicator", "UPDATE", ["OLD.proposition_id", "NEW.proposition_id"]),
}  # fmt: skip


def drop_cache_triggers(conn: Connection) -> None:
    """Drop the cache's triggers (a migration then creates them as they are now)."""
    postgres = conn.dialect.name == "postgresql"
    for name, (table, _event, _targets) in _CACHE_TRIGGERS.items():
        conn.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {table}" if postgres else f"DROP TRIGGER IF EXISTS {name}"))


def cache_triggers(conn: Connection) -> None:
    """The triggers that keep `track_cache` from ever holding a row the record has moved past: in the
    same statement as the change, so no crash can leave one stale."""
    postgres = conn.dialect.name == "postgresql"
    for name, (table, event, targets) in _CACHE_TRIGGERS.items():
        deletes = " ".join(f"DELETE FROM track_cache WHERE proposition_id {t if t.startswith('IN ') else '= ' + t};"
                           for t in targets)  # fmt: skip
        if postgres:
            conn.execute(text(f"CREATE OR REPLACE FUNCTION {name}_fn() RETURNS trigger LANGUAGE plpgsql AS $$ "
                              f"BEGIN {deletes} RETURN NULL; END $$"))  # fmt: skip
            conn.execute(text(f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}_fn()"))
        else:
            conn.execute(text(f"CREATE TRIGGER IF NOT EXISTS {name} AFTER {event} ON {table} BEGIN {deletes} END"))


@migration("0001_initial")
def m0001_initial(conn: Connection) -> None:
    # Only an empty database reaches this (every database of the first release has it recorded), and
    # an empty database is created whole from the models.
    create_schema(conn)


@migration("0002_lookup_indexes")
def m0002_lookup_indexes(conn: Connection) -> None:
    # The as-of query ("latest update on or before D") and duplicate detection on import read these
    # in index order instead of scanning.
    for name, table, columns in (
        ("ix_update_proposition_as_of", "probability_update", "proposition_id, as_of, id"),
        ("ix_observation_indicator_date", "observation", "indicator_id, observed_on"),
        ("ix_indicator_proposition", "indicator", "proposition_id"),
        ("ix_resolution_proposition", "resolution", "proposition_id, id"),
    ):
        conn.execute(text(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})"))


@migration("0003_evidence_model")
def m0003_evidence_model(conn: Connection) -> None:
    # The standing probability became derived (evidence.py). Definitions gain the keys that say how
    # evidence counts; applied observations are recorded in `application`. Indicator updates stored by
    # the first release become applications of their observations: their numbers are recomputed by
    # the chain, and the old rows stay on record (history is append-only) without counting.
    for table, column, default in (
        ("proposition", "decay", "'hazard'"),
        ("proposition", "origin", "'commentary'"),
        ("indicator", "repeats", None),
        ("indicator", "group_name", None),
        ("indicator", "fires_when", None),
    ):
        extra = f" NOT NULL DEFAULT {default}" if default else ""
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} TEXT{extra}"))
    # `application` as it shipped here (a Table of its own, so each backend gets its own DDL: SQLite's
    # INTEGER PRIMARY KEY, PostgreSQL's SERIAL).
    shipped = MetaData()
    Table("observation", shipped, Column("id", Integer, primary_key=True))  # the key it refers to
    Table(
        "application",
        shipped,
        Column("id", Integer, primary_key=True),
        Column("observation_id", Integer, ForeignKey("observation.id"), nullable=False, unique=True),
        Column("forecaster", Text, nullable=False),
        Column("recorded_at", Text, nullable=False),
    ).create(conn)
    conn.execute(
        text(
            """
            INSERT INTO application (observation_id, forecaster, recorded_at)
            SELECT u.observation_id, MIN(u.forecaster), MIN(u.recorded_at) FROM probability_update u
            WHERE u.method = 'indicator' AND u.observation_id IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM retraction r WHERE r.target = 'update' AND r.target_id = u.id)
              AND NOT EXISTS (SELECT 1 FROM retraction r WHERE r.target = 'observation' AND r.target_id = u.observation_id)
            GROUP BY u.observation_id
            """
        )
    )


@migration("0004_definitions_over_time")
def m0004_definitions_over_time(conn: Connection) -> None:
    # Definitions gained versions (each in force from a day on) and restatements (changes on the
    # record); updates and applications record the criteria version they were made under; indicators
    # may decide their proposition. Today's definitions become the first version of each, in force
    # from its proposition's `opened`, and every update and application so far was made under version 1.
    import datetime as dt
    import json

    for table, column, kind, default in (
        ("indicator", "decides", "TEXT", None),
        ("proposition", "criteria_version", "INTEGER", "1"),
        ("probability_update", "criteria_version", "INTEGER", None),
        ("application", "criteria_version", "INTEGER", None),
    ):
        extra = f" NOT NULL DEFAULT {default}" if default else ""
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {kind}{extra}"))
    for table in ("probability_update", "application"):
        conn.execute(text(f"UPDATE {table} SET criteria_version = 1"))
    version, restatement = _m0004_tables(conn)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    keys = ("kind", "threshold", "likelihood_ratio", "likelihood_ratio_if_not_met", "repeats", "group_name", "fires_when", "decides")
    props = {pid: (opened, decay) for pid, opened, decay in conn.execute(text("SELECT id, opened, decay FROM proposition"))}
    rows = [
        {"kind": "proposition", "ref_id": pid, "proposition_id": pid, "effective": opened,
         "content": json.dumps({"decay": decay}), "recorded_at": now}
        for pid, (opened, decay) in props.items()
    ]  # fmt: skip
    for row in conn.execute(text(f"SELECT id, proposition_id, {', '.join(keys)} FROM indicator")).mappings():
        content = json.dumps({key: row[key] for key in keys}, sort_keys=True)
        rows.append({"kind": "indicator", "ref_id": row["id"], "proposition_id": row["proposition_id"],
                     "effective": props[row["proposition_id"]][0], "content": content, "recorded_at": now})  # fmt: skip
    if rows:
        conn.execute(version.insert(), rows)
    _m0004_model_restatements(conn, restatement, props, now)


def _m0004_model_restatements(conn: Connection, restatement: Table, props: dict, now: str) -> None:
    # This release changed two rules of the model, and says so on the record of every proposition whose
    # numbers they move: count and level readings weigh as their latest reading (they counted once), and
    # the hazard runs to the end of resolve_by and holds after it (it reached the floor on resolve_by).
    why = "forecast-tracker 0.3.0 changed the evidence model"
    state = conn.execute(
        text(
            "SELECT DISTINCT i.proposition_id FROM indicator i JOIN observation o ON o.indicator_id = i.id "
            "JOIN application a ON a.observation_id = o.id WHERE i.kind IN ('count', 'level') AND i.repeats IS NULL"
        )
    )
    restated = [
        {"proposition_id": pid, "subject": "model", "key": "repeats of count and level indicators", "old": "once",
         "new": "latest (each reading counts what it changes)", "effective": None, "reason": why, "recorded_at": now}
        for (pid,) in state
    ]  # fmt: skip
    restated += [
        {"proposition_id": pid, "subject": "model", "key": "hazard decay", "old": "to the start of resolve_by, then the floor",
         "new": "to the end of resolve_by, then held", "effective": None, "reason": why, "recorded_at": now}
        for pid, (_opened, decay) in sorted(props.items()) if decay == "hazard"
    ]  # fmt: skip
    if restated:
        conn.execute(restatement.insert(), restated)


def _m0004_tables(conn: Connection) -> tuple[Table, Table]:
    """`definition_version` and `restatement` as they shipped in 0004."""
    shipped = MetaData()
    version = Table(
        "definition_version",
        shipped,
        Column("id", Integer, primary_key=True),
        *[Column(name, Text, nullable=False) for name in ("kind", "ref_id", "proposition_id", "effective", "content", "recorded_at")],
        Column("withdrawn_at", Text),
    )
    restatement = Table(
        "restatement",
        shipped,
        Column("id", Integer, primary_key=True),
        *[Column(name, Text, nullable=False) for name in ("proposition_id", "subject", "key", "old", "new")],
        Column("effective", Text),
        *[Column(name, Text, nullable=False) for name in ("reason", "recorded_at")],
    )
    Index("ix_definition_version_ref", version.c.kind, version.c.ref_id, version.c.effective)
    Index("ix_restatement_proposition", restatement.c.proposition_id, restatement.c.id)
    shipped.create_all(conn)
    return version, restatement


@migration("0005_team_pool")
def m0005_team_pool(conn: Connection) -> None:
    # The catalog's `team` key: how a proposition's forecasters pool (median, the only method before).
    # Its first version is the median from `opened` on, which is what every number shown so far used.
    conn.execute(text("ALTER TABLE proposition ADD COLUMN team TEXT NOT NULL DEFAULT 'median'"))


@migration("0006_track_cache")
def m0006_track_cache(conn: Connection) -> None:
    # A derived cache of each proposition's anchors (models.TrackCache), empty until the API or
    # `db rebuild-cache` fills it, and the triggers that empty a row whenever its record changes.
    conn.execute(text("CREATE TABLE track_cache (proposition_id TEXT NOT NULL PRIMARY KEY, version TEXT NOT NULL, "
                      "content TEXT NOT NULL, anchors TEXT NOT NULL)"))  # fmt: skip
    cache_triggers(conn)


@migration("0007_observation_amends")
def m0007_observation_amends(conn: Connection) -> None:
    # `amend observation`: the corrected row names the row it replaces (which is retracted with it).
    conn.execute(text("ALTER TABLE observation ADD COLUMN amends INTEGER REFERENCES observation(id)"))


@migration("0008_retirement_ranges_bears_on")
def m0008_retirement_ranges_bears_on(conn: Connection) -> None:
    # `retire indicator`: a signpost gone from the catalog leaves `show` and the sync's warnings; an
    # indicator's `range: [lo, hi]` refuses values outside it (a plain edit: it changes no number).
    conn.execute(text("CREATE TABLE retirement (indicator_id TEXT NOT NULL PRIMARY KEY REFERENCES indicator(id), "
                      "reason TEXT NOT NULL, recorded_at TEXT NOT NULL)"))  # fmt: skip
    for column in ("range_low", "range_high"):
        conn.execute(text(f"ALTER TABLE indicator ADD COLUMN {column} REAL"))
    # `bears_on`: an entry is an indicator of another proposition counting the source's observations;
    # the triggers then empty the cached tracks of every proposition an observation counts for
    conn.execute(text("ALTER TABLE indicator ADD COLUMN bears_of TEXT"))
    conn.execute(text("CREATE INDEX ix_indicator_bears_of ON indicator (bears_of)"))  # the triggers' lookup
    drop_cache_triggers(conn)
    cache_triggers(conn)
