"""The rows of the record as they travel from `store` upward: one named, immutable type per table,
one name per field everywhere (the database column's), renamed only where an export writes its
columns (`proposition_id` is written `proposition`, `retraction` is written `retracted`).

NamedTuples, not dicts: built straight from a query's tuples (the read of 200,000 observations costs
no more than it did as dicts), and a misspelt field is an error where it is read, not a silent `None`.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple


def is_benchmark(forecaster: str) -> bool:
    """A forecaster named `platform:aggregate` (`metaculus:cp`, `manifold:market`) is a benchmark: a
    crowd's published number, shown and scored beside the team and never pooled into it."""
    return ":" in forecaster


class PropositionRow(NamedTuple):
    id: str
    statement: str
    question: str
    resolution_criteria: str
    opened: str
    resolve_by: str
    prior: float
    prior_phrase: str | None
    quote: str | None
    tags: str  # a JSON list, as stored (`tag_list` reads it)
    file: str | None
    decay: str  # hazard | none
    origin: str  # commentary | analyst
    criteria_version: int  # 1, then one more for each change of question or resolution_criteria
    source_title: str | None
    source_author: str | None
    source_publisher: str | None
    source_published: str | None
    source_url: str | None
    team: str = "median"  # how a team's tracks pool: median | geo-odds | mean | trimmed

    @property
    def tag_list(self) -> list[str]:
        return list(json.loads(self.tags or "[]"))


class IndicatorRow(NamedTuple):
    id: str
    proposition_id: str
    description: str
    kind: str  # event | count | level
    threshold: float | None
    likelihood_ratio: float
    likelihood_ratio_if_not_met: float | None
    rationale: str | None
    repeats: str | None  # None: the default
    group_name: str | None  # the catalog's `group`
    fires_when: str | None  # above | below; None: above
    decides: str | None  # yes | no: its firing meets (rules out) the resolution criterion; None: it does not
    range_low: float | None = None  # the catalog's `range: [lo, hi]`: values outside it are refused
    range_high: float | None = None
    bears_of: str | None = None  # a `bears_on` entry: the signpost whose observations count here too


class RestatementRow(NamedTuple):
    id: int
    proposition_id: str
    subject: str  # the proposition, an indicator, or "model"
    key: str
    old: str
    new: str
    effective: str | None
    reason: str
    recorded_at: str


class ObservationRow(NamedTuple):
    id: int
    indicator_id: str
    proposition_id: str
    observed_on: str
    value: float | None
    source: str
    note: str
    recorded_at: str
    retraction: str | None  # the reason it was retracted, or None while it counts
    applied_by: str | None  # who applied it as evidence, or None: not applied
    applied_at: str | None


class UpdateRow(NamedTuple):
    id: int
    proposition_id: str
    as_of: str
    probability: float
    method: str  # manual | indicator (the first release's stored Bayes updates)
    rationale: str
    observation_id: int | None
    indicator_id: str | None
    likelihood_ratio: float | None
    forecaster: str
    recorded_at: str
    retraction: str | None


class ResolutionRow(NamedTuple):
    id: int
    proposition_id: str
    outcome: str  # yes | no | annulled
    resolved_on: str
    source: str
    note: str
    recorded_at: str
    retraction: str | None


# The names exports (CSV, JSON) give a field where they differ from the row's: the file formats
# predate the rows and are read back by `import`.
EXPORTED_NAMES = {"proposition_id": "proposition", "indicator_id": "indicator", "retraction": "retracted"}


def exported(row: Any) -> dict[str, Any]:
    """A row as an export writes it: a dict under the exported names."""
    return {EXPORTED_NAMES.get(name, name): value for name, value in zip(row._fields, row, strict=True)}
