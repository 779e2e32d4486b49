"""Exports as CSV or JSON. A CSV export of observations, updates or resolutions imports back unchanged."""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

from . import store
from .errors import InputError
from .validate import choice, format_number, today

if TYPE_CHECKING:
    from .api import Tracker

COLUMNS: dict[str, tuple[str, ...]] = {
    "observations": ("indicator", "observed_on", "value", "source", "note", "id", "proposition", "recorded_at", "retracted"),
    "updates": (
        "proposition",
        "as_of",
        "probability",
        "method",
        "rationale",
        "forecaster",
        "observation_id",
        "indicator",
        "likelihood_ratio",
        "id",
        "recorded_at",
        "retracted",
    ),
    "resolutions": ("proposition", "outcome", "resolved_on", "source", "note", "id", "recorded_at", "retracted"),
    "propositions": (
        "id",
        "statement",
        "question",
        "resolution_criteria",
        "opened",
        "resolve_by",
        "prior",
        "prior_phrase",
        "status",
        "probability",
        "source_title",
        "source_author",
        "quote",
        "tags",
    ),
    "indicators": (
        "id",
        "proposition",
        "description",
        "kind",
        "threshold",
        "likelihood_ratio",
        "likelihood_ratio_if_not_met",
        "rationale",
    ),
}
NUMERIC = {"value", "probability", "prior", "threshold", "likelihood_ratio", "likelihood_ratio_if_not_met"}


def rows_for(tracker: Tracker, what: str) -> list[dict[str, Any]]:
    with tracker.db.read() as conn:
        if what == "observations":
            rows = store.observations(conn)
        elif what == "updates":
            rows = store.updates(conn)
        elif what == "resolutions":
            rows = store.resolutions(conn)
        elif what == "indicators":
            rows = [{**r, "proposition": r["proposition_id"]} for r in store.all_indicators(conn)]
        else:
            state = {r["id"]: r for r in store.standing(conn, today())}
            rows = []
            for p in store.all_propositions(conn):
                rows.append(
                    {
                        **p,
                        "status": state[p["id"]]["status"],
                        "probability": float(state[p["id"]]["probability"]),
                        "tags": json.loads(p["tags"]),
                    }
                )
    return [{col: row.get(col) for col in COLUMNS[what]} for row in rows]


def export(tracker: Tracker, what: str, fmt: str = "csv") -> str:
    what = choice(what, "WHAT", COLUMNS)
    fmt = choice(fmt, "--format", ("csv", "json"))
    rows = rows_for(tracker, what)
    if fmt == "json":
        return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
    return to_csv(rows, COLUMNS[what])


def to_csv(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(col, row.get(col)) for col in columns])
    return buffer.getvalue()


def _cell(column: str, value: Any) -> str:
    if value is None:
        return ""
    if column in NUMERIC or isinstance(value, float):
        return format_number(float(value))
    if isinstance(value, list):
        return ";".join(map(str, value))
    return str(value)


__all__ = ["COLUMNS", "export", "to_csv", "InputError"]
