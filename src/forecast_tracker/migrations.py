"""Named, append-only schema migrations, registered with `@migration`, each applied in the same
transaction as its record.

A new database is created from the tables in `models.py` and every migration is recorded as applied
(it already has their result). An older database runs the migrations it lacks, in order. Never edit a
migration that has shipped: register a new one. Each is written so SQLite and PostgreSQL both run it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection

from .models import METADATA, TABLES

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
    # in index order instead of scanning. The index definitions live with their tables.
    for table in ("probability_update", "observation", "indicator", "resolution"):
        for index in TABLES[table].indexes:
            index.create(conn, checkfirst=True)
