"""SQLModel tables: the one definition of the schema. A new database is created from these; the
migrations in `migrations.py` bring an older database to the same shape, and a test checks that an
upgraded first-release database and a fresh one agree column for column.

Dates are ISO `YYYY-MM-DD` text and times ISO 8601 UTC text (`...Z`): text keeps bulk imports fast
(no per-row conversion), sorts correctly, and round-trips exactly through CSV.
"""

from __future__ import annotations

from typing import Any, Optional

from sqlalchemy import Float, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def _text(**kwargs: Any) -> Any:  # Any: SQLModel reads the field, mypy the annotation beside it
    return Field(sa_type=Text, **kwargs)


def _real(**kwargs: Any) -> Any:
    # Float is 8 bytes on both backends (SQLite REAL, PostgreSQL double precision): no lost digits.
    return Field(sa_type=Float, **kwargs)


class Source(SQLModel, table=True):
    __tablename__ = "source"
    id: Optional[int] = Field(default=None, primary_key=True)
    title: str = _text()
    author: Optional[str] = _text(default=None)
    publisher: Optional[str] = _text(default=None)
    published: Optional[str] = _text(default=None)
    url: Optional[str] = _text(default=None)


class Proposition(SQLModel, table=True):
    __tablename__ = "proposition"
    id: str = _text(primary_key=True)
    statement: str = _text()
    question: str = _text()
    resolution_criteria: str = _text()
    opened: str = _text()
    resolve_by: str = _text()
    prior: float = _real()
    prior_phrase: Optional[str] = _text(default=None)
    source_id: Optional[int] = Field(default=None, foreign_key="source.id")
    quote: Optional[str] = _text(default=None)
    tags: str = _text(default="[]")  # JSON list
    file: Optional[str] = _text(default=None)
    fingerprint: str = _text()
    created_at: str = _text()
    updated_at: str = _text()
    decay: str = _text(default="hazard", sa_column_kwargs={"server_default": "hazard"})  # hazard | none
    origin: str = _text(default="commentary", sa_column_kwargs={"server_default": "commentary"})  # commentary | analyst
    # the version of `question` and `resolution_criteria` in force: 1, then one more for each change
    criteria_version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    team: str = _text(default="median", sa_column_kwargs={"server_default": "median"})  # a team's pool (probability.POOLS)


class Indicator(SQLModel, table=True):
    __tablename__ = "indicator"
    # the second: the cache's triggers find a signpost's `bears_on` entries by it, once per applied row
    __table_args__ = (Index("ix_indicator_proposition", "proposition_id"), Index("ix_indicator_bears_of", "bears_of"))
    id: str = _text(primary_key=True)
    proposition_id: str = _text(foreign_key="proposition.id")
    description: str = _text()
    kind: str = _text()
    threshold: Optional[float] = _real(default=None)
    likelihood_ratio: float = _real()
    likelihood_ratio_if_not_met: Optional[float] = _real(default=None)
    rationale: Optional[str] = _text(default=None)
    fingerprint: str = _text()
    created_at: str = _text()
    updated_at: str = _text()
    repeats: Optional[str] = _text(default=None)  # once | diminishing | independent; None: the default
    group_name: Optional[str] = _text(default=None)  # the catalog's `group`
    fires_when: Optional[str] = _text(default=None)  # above | below (count and level)
    decides: Optional[str] = _text(default=None)  # yes | no: its firing meets (rules out) the criterion
    range_low: Optional[float] = _real(default=None)  # `range: [lo, hi]`: a value outside it is refused
    range_high: Optional[float] = _real(default=None)
    bears_of: Optional[str] = _text(default=None)  # `bears_on`: the signpost whose observations count here too


class DefinitionRevision(SQLModel, table=True):
    """Every version of a definition that `sync` has seen: changing a file never loses the old one."""

    __tablename__ = "definition_revision"
    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = _text()  # proposition | indicator
    ref_id: str = _text()
    fingerprint: str = _text()
    content: str = _text()  # JSON
    recorded_at: str = _text()


class DefinitionVersion(SQLModel, table=True):
    """A version of what a definition says about counting evidence (an indicator's ratios, threshold,
    `fires_when`, `repeats`, `group`, `decides`; a proposition's `decay`), in force from `effective` on.
    The version in force on day d is the live one with the latest `effective` <= d (the first one
    before that). A version that had not come into force when a later sync replaced it is withdrawn."""

    __tablename__ = "definition_version"
    __table_args__ = (Index("ix_definition_version_ref", "kind", "ref_id", "effective"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = _text()  # proposition | indicator
    ref_id: str = _text()
    proposition_id: str = _text()  # whose evidence it counts (the indicator's proposition)
    effective: str = _text()  # YYYY-MM-DD
    content: str = _text()  # JSON of the versioned keys
    recorded_at: str = _text()
    withdrawn_at: Optional[str] = _text(default=None)


class Restatement(SQLModel, table=True):
    """A change on the record that alters numbers already shown for past dates: what changed, from what,
    to what, and why. `history`, the proposition page and every scorecard rendered after it show it."""

    __tablename__ = "restatement"
    __table_args__ = (Index("ix_restatement_proposition", "proposition_id", "id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    proposition_id: str = _text()
    subject: str = _text()  # the proposition's id, an indicator's id, or "model" (a change of the rules)
    key: str = _text()
    old: str = _text()
    new: str = _text()
    effective: Optional[str] = _text(default=None)  # a back-dated version's first day
    reason: str = _text()
    recorded_at: str = _text()


class Observation(SQLModel, table=True):
    __tablename__ = "observation"
    __table_args__ = (Index("ix_observation_indicator_date", "indicator_id", "observed_on"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    indicator_id: str = _text(foreign_key="indicator.id")
    observed_on: str = _text()
    value: Optional[float] = _real(default=None)
    source: str = _text()
    note: str = _text(default="")
    recorded_at: str = _text()
    amends: Optional[int] = Field(default=None, foreign_key="observation.id")  # the row `amend` corrected


class Update(SQLModel, table=True):
    __tablename__ = "probability_update"
    __table_args__ = (Index("ix_update_proposition_as_of", "proposition_id", "as_of", "id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    proposition_id: str = _text(foreign_key="proposition.id")
    as_of: str = _text()
    probability: float = _real()
    method: str = _text()  # manual | indicator
    rationale: str = _text(default="")
    observation_id: Optional[int] = Field(default=None, foreign_key="observation.id")
    likelihood_ratio: Optional[float] = _real(default=None)
    forecaster: str = _text(default="")
    recorded_at: str = _text()
    criteria_version: Optional[int] = Field(default=None)  # the proposition's criteria version in force


class Application(SQLModel, table=True):
    """An observation applied as evidence: from its date on it counts in every track of its proposition.
    Appended, never edited; retracting the observation removes its evidence."""

    __tablename__ = "application"
    id: Optional[int] = Field(default=None, primary_key=True)
    observation_id: int = Field(foreign_key="observation.id", unique=True)
    forecaster: str = _text(default="")
    recorded_at: str = _text()
    criteria_version: Optional[int] = Field(default=None)  # the proposition's criteria version in force


class Resolution(SQLModel, table=True):
    __tablename__ = "resolution"
    __table_args__ = (Index("ix_resolution_proposition", "proposition_id", "id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    proposition_id: str = _text(foreign_key="proposition.id")
    outcome: str = _text()  # yes | no | annulled
    resolved_on: str = _text()
    source: str = _text(default="")
    note: str = _text(default="")
    recorded_at: str = _text()


class Retraction(SQLModel, table=True):
    """A row that says another row no longer counts. The retracted row itself is never touched."""

    __tablename__ = "retraction"
    __table_args__ = (UniqueConstraint("target", "target_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    target: str = _text()  # observation | update | resolution
    target_id: int
    reason: str = _text()
    recorded_at: str = _text()


class Retirement(SQLModel, table=True):
    """A signpost taken out of use (`retire indicator`): it leaves `show` and the sync's warnings; its
    observations stay on record and count as before."""

    __tablename__ = "retirement"
    indicator_id: str = Field(primary_key=True, foreign_key="indicator.id")
    reason: str = _text()
    recorded_at: str = _text()


class TrackCache(SQLModel, table=True):
    """Derived, never the truth: each proposition's tracks as anchors (`evidence.state_of`), so a
    standing probability needs none of its history. Triggers (`migrations.cache_triggers`) delete a
    proposition's row in the same statement as any row that changes its tracks; the API writes it again
    before the transaction commits, and `db rebuild-cache` writes every row afresh."""

    __tablename__ = "track_cache"
    proposition_id: str = _text(primary_key=True)
    version: str = _text()  # evidence.CACHE_VERSION when it was written: another version is derived again
    content: str = _text()  # JSON: the head (`evidence.state_of(..., thin=True)`), what today's reads need
    anchors: str = _text()  # JSON: every anchor, read only for a day the head does not cover


class SchemaMigration(SQLModel, table=True):
    __tablename__ = "schema_migration"
    name: str = _text(primary_key=True)
    applied_at: str = _text()


TABLES = {model.__tablename__: model.__table__ for model in SQLModel.__subclasses__() if hasattr(model, "__table__")}
METADATA = SQLModel.metadata
