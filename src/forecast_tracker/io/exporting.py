"""Exports as CSV or JSON. A CSV export of observations, updates or resolutions imports back unchanged."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from sqlalchemy import Connection

from .. import store
from ..errors import InputError
from ..formats import format_number
from ..records import exported
from ..validate import choice

COLUMNS: dict[str, tuple[str, ...]] = {
    "observations": (
        "indicator",
        "observed_on",
        "value",
        "source",
        "note",
        "id",
        "proposition",
        "recorded_at",
        "retracted",
        "applied_by",
        "applied_at",
        "amends",
        "criteria_version",
    ),
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
        "criteria_version",
    ),
    "resolutions": (
        "proposition",
        "outcome",
        "resolved_on",
        "source",
        "note",
        "id",
        "recorded_at",
        "retracted",
        "supersedes",
        "in_force",
    ),
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
        "origin",
        "decay",
        "team",
        "source_publisher",
        "source_published",
        "source_url",
        "criteria_version",
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
        "repeats",
        "group",
        "fires_when",
        "decides",
        "range_low",
        "range_high",
        "bears_of",
    ),
}  # every catalog key a row holds, under the catalog's names
NUMERIC = {"value", "probability", "prior", "threshold", "likelihood_ratio", "likelihood_ratio_if_not_met"}


def rows_for(conn: Connection, what: str, standing: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of one export; `propositions` carry their `standing` (id -> status, probability)."""
    if what == "observations":
        linked = store.observation_links(conn)
        rows = [
            {**exported(r), "amends": link[0], "criteria_version": link[1]} if (link := linked.get(r.id)) else exported(r)
            for r in store.observations(conn)
        ]
    elif what == "updates":
        versions = store.update_criteria_versions(conn)
        rows = [{**exported(r), "criteria_version": versions.get(r.id)} for r in store.updates(conn)]
    elif what == "resolutions":
        rows = resolution_rows(store.resolutions(conn))
    elif what == "indicators":
        rows = [{**exported(r), "group": r.group_name} for r in store.all_indicators(conn)]
    else:
        rows = [
            {**exported(p), "status": "open", "probability": p.prior, **standing.get(p.id, {}), "tags": p.tag_list}
            for p in store.all_propositions(conn)
        ]
    return [{col: row.get(col) for col in COLUMNS[what]} for row in rows]


def resolution_rows(resolutions: list) -> list[dict[str, Any]]:
    """Each resolution (by id) with `supersedes`, the live resolution of the same proposition recorded
    before it (the one a forced re-resolution replaced; empty for a first one), and `in_force`, whether
    it is the one that counts now (the live one recorded last). `import` replays a row with
    `supersedes` as a forced re-resolution, so the record round-trips."""
    rows: list[dict[str, Any]] = []
    live: dict[str, int] = {}
    for r in resolutions:  # by id
        earlier = live.get(r.proposition_id)
        rows.append({**exported(r), "supersedes": earlier, "in_force": False})
        if r.retraction is None:
            live[r.proposition_id] = r.id
    current = set(live.values())
    for row in rows:
        row["in_force"] = row["id"] in current
    return rows


DEFINITIONS_FORMAT = "forecast-tracker definitions"


def definitions(conn: Connection) -> dict[str, Any]:
    """`export definitions`: every proposition's definitions over time (`store.definition_record`), the
    part of the record a catalog cannot carry. `import` replays such a file into a database synced from
    the same catalog, before its observations, updates and resolutions."""
    return {"format": DEFINITIONS_FORMAT, "version": 1, "propositions": list(store.definition_record(conn).values())}


def export(
    conn: Connection, what: str, fmt: str | None, standing: dict[str, dict[str, Any]], excel_safe: bool = False
) -> str:
    """One table as CSV or JSON text (`fmt` None: CSV, or JSON for definitions)."""
    what = choice(what, "what", (*COLUMNS, "definitions"))
    fmt = choice(fmt or ("json" if what == "definitions" else "csv"), "format", ("csv", "json"))
    if excel_safe and fmt != "csv":
        raise InputError("--excel-safe applies to CSV only", "format")
    if what == "definitions":
        if fmt != "json":
            raise InputError("definitions export as JSON only (--format json): each version holds a nested definition", "format")
        return json.dumps(definitions(conn), indent=2, ensure_ascii=False) + "\n"
    rows = rows_for(conn, what, standing)
    if fmt == "json":
        return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
    return to_csv(rows, COLUMNS[what], excel_safe=excel_safe)


# A spreadsheet runs a cell that starts with = + - @ (or a tab or carriage return before one) as a
# formula ("CSV injection"). `--excel-safe` writes such text cells with a leading apostrophe, which
# spreadsheets show as text; cells that already start with apostrophes before one of these get one
# more, so `import --excel-safe` can remove exactly one and the round trip stays exact.
FORMULA_START = re.compile(r"'*[=+\-@\t\r]")


def excel_safe_cell(text: str) -> str:
    return "'" + text if FORMULA_START.match(text) else text


def excel_unsafe_cell(text: str) -> str:
    """The inverse of `excel_safe_cell`."""
    return text[1:] if text.startswith("'") and FORMULA_START.match(text, 1) else text


def to_csv(rows: list[dict[str, Any]], columns: tuple[str, ...], excel_safe: bool = False) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    # The csv module quotes a cell holding a character of the line terminator ("\n"), not one holding a
    # bare carriage return, which every reader (ours included) takes as the end of a line: such a row
    # is written with every cell quoted, so the file still reads back as it was.
    quoted = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(columns)
    for row in rows:
        cells = [_cell(col, row.get(col)) for col in columns]
        if excel_safe:
            cells = [cell if col in NUMERIC else excel_safe_cell(cell) for col, cell in zip(columns, cells, strict=True)]
        (quoted if any("\r" in cell for cell in cells) else writer).writerow(cells)
    return buffer.getvalue()


def _cell(column: str, value: Any) -> str:
    if value is None:
        return ""
    if column in NUMERIC or isinstance(value, float):
        return format_number(float(value))
    if isinstance(value, list):
        return ";".join(map(str, value))
    return str(value)
