"""Named, append-only schema migrations, each applied in the same transaction as its record.

Never edit a migration that has shipped: add a new one. Written in SQL that SQLite and PostgreSQL
both accept.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, text


def _run(conn: Connection, script: str) -> None:
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(text(statement))


def m0001_initial(conn: Connection) -> None:
    _run(
        conn,
        """
        CREATE TABLE source (
            id INTEGER PRIMARY KEY, title TEXT NOT NULL, author TEXT, publisher TEXT,
            published TEXT, url TEXT);
        CREATE TABLE proposition (
            id TEXT PRIMARY KEY, statement TEXT NOT NULL, question TEXT NOT NULL,
            resolution_criteria TEXT NOT NULL, opened TEXT NOT NULL, resolve_by TEXT NOT NULL,
            prior REAL NOT NULL, prior_phrase TEXT, source_id INTEGER REFERENCES source(id),
            quote TEXT, tags TEXT NOT NULL, file TEXT, fingerprint TEXT NOT NULL,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
        CREATE TABLE indicator (
            id TEXT PRIMARY KEY, proposition_id TEXT NOT NULL REFERENCES proposition(id),
            description TEXT NOT NULL, kind TEXT NOT NULL, threshold REAL,
            likelihood_ratio REAL NOT NULL, likelihood_ratio_if_not_met REAL, rationale TEXT,
            fingerprint TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
        CREATE TABLE definition_revision (
            id INTEGER PRIMARY KEY, kind TEXT NOT NULL, ref_id TEXT NOT NULL,
            fingerprint TEXT NOT NULL, content TEXT NOT NULL, recorded_at TEXT NOT NULL);
        CREATE TABLE observation (
            id INTEGER PRIMARY KEY, indicator_id TEXT NOT NULL REFERENCES indicator(id),
            observed_on TEXT NOT NULL, value REAL, source TEXT NOT NULL, note TEXT NOT NULL,
            recorded_at TEXT NOT NULL);
        CREATE TABLE probability_update (
            id INTEGER PRIMARY KEY, proposition_id TEXT NOT NULL REFERENCES proposition(id),
            as_of TEXT NOT NULL, probability REAL NOT NULL, method TEXT NOT NULL,
            rationale TEXT NOT NULL, observation_id INTEGER REFERENCES observation(id),
            likelihood_ratio REAL, forecaster TEXT NOT NULL, recorded_at TEXT NOT NULL);
        CREATE TABLE resolution (
            id INTEGER PRIMARY KEY, proposition_id TEXT NOT NULL REFERENCES proposition(id),
            outcome TEXT NOT NULL, resolved_on TEXT NOT NULL, source TEXT NOT NULL,
            note TEXT NOT NULL, recorded_at TEXT NOT NULL);
        CREATE TABLE retraction (
            id INTEGER PRIMARY KEY, target TEXT NOT NULL, target_id INTEGER NOT NULL,
            reason TEXT NOT NULL, recorded_at TEXT NOT NULL, UNIQUE (target, target_id))
        """,
    )


def m0002_lookup_indexes(conn: Connection) -> None:
    # The as-of query ("latest update on or before D") and duplicate detection on import both
    # read these in index order instead of scanning.
    _run(
        conn,
        """
        CREATE INDEX ix_update_proposition_as_of ON probability_update (proposition_id, as_of, id);
        CREATE INDEX ix_observation_indicator_date ON observation (indicator_id, observed_on);
        CREATE INDEX ix_indicator_proposition ON indicator (proposition_id);
        CREATE INDEX ix_resolution_proposition ON resolution (proposition_id, id)
        """,
    )


MIGRATIONS: list[tuple[str, Callable[[Connection], None]]] = [
    ("0001_initial", m0001_initial),
    ("0002_lookup_indexes", m0002_lookup_indexes),
]
