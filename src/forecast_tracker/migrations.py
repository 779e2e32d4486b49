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

from sqlalchemy import Column, Connection, ForeignKey, Integer, MetaData, Table, Text, text

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
    """Create every table and index of `models.py` in an empty database."""
    METADATA.create_all(conn)


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
