"""SQLModel tables. Dates are ISO `YYYY-MM-DD` text and times ISO 8601 UTC text (`...Z`).

Dates as text keep bulk imports fast (no per-row conversion), sort correctly, and round-trip exactly
through CSV. The DDL that creates these tables lives in `migrations.py`; a test checks they agree.
"""

from __future__ import annotations

from typing import Optional

from sqlmodel import Field, SQLModel


class Source(SQLModel, table=True):
    __tablename__ = "source"
    id: Optional[int] = Field(default=None, primary_key=True)
    title: str
    author: Optional[str] = None
    publisher: Optional[str] = None
    published: Optional[str] = None
    url: Optional[str] = None


class Proposition(SQLModel, table=True):
    __tablename__ = "proposition"
    id: str = Field(primary_key=True)
    statement: str
    question: str
    resolution_criteria: str
    opened: str
    resolve_by: str
    prior: float
    prior_phrase: Optional[str] = None
    source_id: Optional[int] = Field(default=None, foreign_key="source.id")
    quote: Optional[str] = None
    tags: str = "[]"  # JSON list
    file: Optional[str] = None
    fingerprint: str
    created_at: str
    updated_at: str


class Indicator(SQLModel, table=True):
    __tablename__ = "indicator"
    id: str = Field(primary_key=True)
    proposition_id: str = Field(foreign_key="proposition.id")
    description: str
    kind: str
    threshold: Optional[float] = None
    likelihood_ratio: float
    likelihood_ratio_if_not_met: Optional[float] = None
    rationale: Optional[str] = None
    fingerprint: str
    created_at: str
    updated_at: str


class DefinitionRevision(SQLModel, table=True):
    """Every version of a definition that `sync` has seen: changing a file never loses the old one."""

    __tablename__ = "definition_revision"
    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str  # proposition | indicator
    ref_id: str
    fingerprint: str
    content: str  # JSON
    recorded_at: str


class Observation(SQLModel, table=True):
    __tablename__ = "observation"
    id: Optional[int] = Field(default=None, primary_key=True)
    indicator_id: str = Field(foreign_key="indicator.id")
    observed_on: str
    value: Optional[float] = None
    source: str
    note: str = ""
    recorded_at: str


class Update(SQLModel, table=True):
    __tablename__ = "probability_update"
    id: Optional[int] = Field(default=None, primary_key=True)
    proposition_id: str = Field(foreign_key="proposition.id")
    as_of: str
    probability: float
    method: str  # manual | indicator
    rationale: str = ""
    observation_id: Optional[int] = Field(default=None, foreign_key="observation.id")
    likelihood_ratio: Optional[float] = None
    forecaster: str = ""
    recorded_at: str


class Resolution(SQLModel, table=True):
    __tablename__ = "resolution"
    id: Optional[int] = Field(default=None, primary_key=True)
    proposition_id: str = Field(foreign_key="proposition.id")
    outcome: str  # yes | no | annulled
    resolved_on: str
    source: str = ""
    note: str = ""
    recorded_at: str


class Retraction(SQLModel, table=True):
    """A row that says another row no longer counts. The retracted row itself is never touched."""

    __tablename__ = "retraction"
    id: Optional[int] = Field(default=None, primary_key=True)
    target: str  # observation | update | resolution
    target_id: int
    reason: str
    recorded_at: str


class SchemaMigration(SQLModel, table=True):
    __tablename__ = "schema_migration"
    name: str = Field(primary_key=True)
    applied_at: str
