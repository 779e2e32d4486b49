"""CSV import: observations, updates or resolutions; validated whole, written all or nothing."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import store
from .db import utc_now
from .errors import InputError, ValidationErrors
from .updating import parse_probability
from .validate import OUTCOMES, check_text, choice, parse_date, parse_timestamp, parse_value, unknown

if TYPE_CHECKING:
    from .api import Tracker

KINDS: dict[str, tuple[str, ...]] = {
    "observations": ("indicator", "observed_on", "value", "source", "note"),
    "updates": ("proposition", "as_of", "probability"),
    "resolutions": ("proposition", "outcome", "resolved_on", "source", "note"),
}
MAX_PROBLEMS_LISTED = 200


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    imported: int = 0
    duplicates: int = 0
    updates_applied: int = 0
    retracted: int = 0
    ids: list[int] = field(default_factory=list)


class _Problems:
    def __init__(self, file: str):
        self.file = file
        self.items: list[str] = []

    def add(self, line: int, column: str, message: str) -> None:
        self.items.append(f"line {line}: {column}: {message}")

    def check(self, line: int, column: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """`fn(*args, **kwargs)`, or `_BAD` with the problem recorded against the line and column."""
        try:
            return fn(*args, **kwargs)
        except InputError as exc:
            self.add(line, column, str(exc).split(": ", 1)[-1])
            return _BAD


_BAD = object()


def read_csv(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and (line number, row) pairs; the header is line 1. Raises InputError on a malformed file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"FILE: {path} does not exist") from None
    except IsADirectoryError:
        raise InputError(f"FILE: {path} is a folder") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"{path.name}: line {line}: not UTF-8 text") from None
    if "\x00" in text:
        raise InputError(f"{path.name}: contains NUL bytes; not a CSV text file")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"{path.name}: the file is empty (expected a header line)") from None
    except csv.Error as exc:
        raise InputError(f"{path.name}: line 1: {exc}") from None
    header = [h.strip() for h in header]
    if len(set(header)) != len(header):
        raise InputError(f"{path.name}: line 1: duplicate column names")
    rows: list[tuple[int, dict[str, str]]] = []
    problems: list[str] = []
    start = 2
    try:
        for record in reader:
            if not record or all(not cell.strip() for cell in record):
                start = reader.line_num + 1
                continue
            if len(record) != len(header):
                problems.append(f"line {start}: expected {len(header)} columns, found {len(record)}")
            else:
                rows.append((start, dict(zip(header, record, strict=False))))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(f"{path.name}: line {start}: malformed CSV ({exc})") from None
    if problems:
        raise ValidationErrors(f"{path.name}: {len(problems)} bad row(s), nothing imported", problems)
    return header, rows


def detect_kind(header: list[str], name: str) -> str:
    for kind, columns in KINDS.items():
        if set(columns) <= set(header):
            return kind
    raise InputError(
        f"{name}: line 1: unrecognised header; expected the columns of observations "
        f"({','.join(KINDS['observations'])}), updates ({','.join(KINDS['updates'])}) "
        f"or resolutions ({','.join(KINDS['resolutions'])})"
    )


def import_file(tracker: Tracker, path: Path, *, apply: bool = False, by: str | None = None) -> ImportReport:
    from .api import default_forecaster

    header, rows = read_csv(path)
    kind = detect_kind(header, path.name)
    report = ImportReport(kind=kind, rows=len(rows))
    problems = _Problems(path.name)
    now = utc_now()
    with tracker.db.write() as conn:
        propositions = {p["id"]: p for p in store.all_propositions(conn)}
        resolved = {r["id"] for r in store.standing(conn, "9999-12-31") if r["status"] != "open"}
        if kind == "observations":
            valid = _validate_observations(conn, rows, problems, propositions, resolved, now, report)
        elif kind == "updates":
            valid = _validate_updates(conn, rows, problems, propositions, resolved, now, report, by or default_forecaster())
        else:
            valid = _validate_resolutions(conn, rows, problems, propositions, resolved, now, report)
        if problems.items:
            listed = problems.items[:MAX_PROBLEMS_LISTED]
            if len(problems.items) > MAX_PROBLEMS_LISTED:
                listed.append(f"... and {len(problems.items) - MAX_PROBLEMS_LISTED} more")
            raise ValidationErrors(f"{path.name}: {len(problems.items)} problem(s), nothing imported", listed)
        if kind == "observations" and apply:
            valid.sort(key=lambda r: r["observed_on"])  # back-dated evidence applies in date order (stable)
        reasons = [row.pop("_retracted") for row in valid]
        table_kind = {"observations": "observation", "updates": "update", "resolutions": "resolution"}[kind]
        before = store.max_id(conn, table_kind)
        if kind == "observations":
            store.insert_observations(conn, valid)
        else:
            insert = store.insert_update if kind == "updates" else store.insert_resolution
            for row in valid:
                insert(conn, row)
        ids = [
            r["id"]
            for r in store.raw(conn, f"SELECT id FROM {store.RETRACTABLE[table_kind].name} WHERE id > :b ORDER BY id", b=before)
        ]
        report.imported = len(ids)
        report.ids = ids
        for i, reason in enumerate(reasons):
            if reason:
                store.insert_retraction(conn, table_kind, ids[i], reason)
                report.retracted += 1
        if kind == "observations" and apply:
            live = [(row, obs_id) for row, obs_id, reason in zip(valid, ids, reasons, strict=False) if not reason]
            report.updates_applied = _apply_observations(conn, live, propositions, by)
    return report


def _extras(problems: _Problems, line: int, row: dict[str, str], now: str) -> tuple[str, str]:
    recorded = (row.get("recorded_at") or "").strip()
    recorded_at = problems.check(line, "recorded_at", parse_timestamp, recorded, "recorded_at") if recorded else now
    if recorded_at is not _BAD and recorded_at > now:
        problems.add(line, "recorded_at", f"{recorded_at} is in the future")
    retracted = (row.get("retracted") or "").strip()
    return recorded_at, retracted


def _validate_observations(conn, rows, problems, propositions, resolved, now, report) -> list[dict[str, Any]]:  # noqa: ANN001
    indicators = {i["id"]: i for i in store.all_indicators(conn)}
    seen = store.observation_keys(conn)
    valid: list[dict[str, Any]] = []
    for line, row in rows:
        ok = True
        ind_id = row["indicator"].strip()
        ind = indicators.get(ind_id)
        if ind is None:
            problems.add(line, "indicator", str(unknown("indicator", ind_id, indicators)))
            ok = False
        day = problems.check(line, "observed_on", parse_date, row["observed_on"], "observed_on")
        value = (
            problems.check(line, "value", parse_value, row["value"], ind["kind"] if ind else "level", "value") if ind else None
        )
        source = problems.check(line, "source", check_text, row["source"], "source", required=True)
        note = problems.check(line, "note", check_text, row["note"], "note")
        recorded_at, retracted = _extras(problems, line, row, now)
        if any(v is _BAD for v in (day, value, source, note, recorded_at)) or not ok:
            continue
        if not row["observed_on"].strip():
            problems.add(line, "observed_on", "required")
            continue
        key = (ind_id, day, value, source, note)
        if key in seen:  # checked first: a duplicate is not a new observation
            report.duplicates += 1
            continue
        if ind["proposition_id"] in resolved:
            problems.add(line, "indicator", f"its proposition {ind['proposition_id']} is resolved; no new observations")
            continue
        seen.add(key)
        valid.append(
            {
                "indicator_id": ind_id,
                "observed_on": day,
                "value": value,
                "source": source,
                "note": note,
                "recorded_at": recorded_at,
                "_retracted": retracted,
            }
        )
    return valid


def _validate_updates(conn, rows, problems, propositions, resolved, now, report, forecaster) -> list[dict[str, Any]]:  # noqa: ANN001
    seen = store.update_keys(conn)
    observation_owner = {o["id"]: (o["proposition"], o["indicator"]) for o in store.observations(conn)}
    valid: list[dict[str, Any]] = []
    for line, row in rows:
        pid = row["proposition"].strip()
        prop = propositions.get(pid)
        if prop is None:
            problems.add(line, "proposition", str(unknown("proposition", pid, propositions)))
            continue
        probability = problems.check(line, "probability", parse_probability, row["probability"])
        day = problems.check(line, "as_of", parse_date, row["as_of"], "as_of")
        method = problems.check(line, "method", choice, row.get("method") or "manual", "method", ("manual", "indicator"))
        rationale = problems.check(line, "rationale", check_text, row.get("rationale"), "rationale")
        by = problems.check(line, "forecaster", check_text, row.get("forecaster") or forecaster, "forecaster")
        recorded_at, retracted = _extras(problems, line, row, now)
        obs_raw = (row.get("observation_id") or "").strip()
        obs_id = None
        if obs_raw:
            try:
                obs_id = int(obs_raw)
            except ValueError:
                problems.add(line, "observation_id", f"{obs_raw[:20]!r} is not a whole number")
                continue
            owner = observation_owner.get(obs_id)
            if owner is None or owner[0] != pid:
                problems.add(
                    line, "observation_id", f"no observation {obs_id} of proposition {pid} (import the observations first)"
                )
                continue
        ratio_raw = (row.get("likelihood_ratio") or "").strip()
        ratio = None
        if ratio_raw:
            try:
                ratio = float(ratio_raw)
                assert ratio > 0
            except (ValueError, AssertionError):
                problems.add(line, "likelihood_ratio", f"{ratio_raw[:20]!r} is not a number > 0")
                continue
        if any(v is _BAD for v in (probability, day, method, rationale, by, recorded_at)):
            continue
        if not row["as_of"].strip():
            problems.add(line, "as_of", "required")
            continue
        if day < prop["opened"]:
            problems.add(line, "as_of", f"{day} is before {pid} opened ({prop['opened']})")
            continue
        key = (pid, day, probability, method, rationale, by)
        if key in seen:
            report.duplicates += 1
            continue
        if pid in resolved:
            problems.add(line, "proposition", f"{pid} is resolved; no new updates")
            continue
        seen.add(key)
        valid.append(
            {
                "proposition_id": pid,
                "as_of": day,
                "probability": probability,
                "method": method,
                "rationale": rationale,
                "observation_id": obs_id,
                "likelihood_ratio": ratio,
                "forecaster": by,
                "recorded_at": recorded_at,
                "_retracted": retracted,
            }
        )
    return valid


def _validate_resolutions(conn, rows, problems, propositions, resolved, now, report) -> list[dict[str, Any]]:  # noqa: ANN001
    seen = store.resolution_keys(conn)
    valid: list[dict[str, Any]] = []
    for line, row in rows:
        pid = row["proposition"].strip()
        prop = propositions.get(pid)
        if prop is None:
            problems.add(line, "proposition", str(unknown("proposition", pid, propositions)))
            continue
        outcome = problems.check(line, "outcome", choice, row["outcome"], "outcome", OUTCOMES)
        day = problems.check(line, "resolved_on", parse_date, row["resolved_on"], "resolved_on")
        source = problems.check(line, "source", check_text, row["source"], "source")
        note = problems.check(line, "note", check_text, row["note"], "note")
        recorded_at, retracted = _extras(problems, line, row, now)
        if any(v is _BAD for v in (outcome, day, source, note, recorded_at)):
            continue
        if not row["resolved_on"].strip():
            problems.add(line, "resolved_on", "required")
            continue
        if day < prop["opened"]:
            problems.add(line, "resolved_on", f"{day} is before {pid} opened ({prop['opened']})")
            continue
        key = (pid, outcome, day, source, note)
        if key in seen:
            report.duplicates += 1
            continue
        if pid in resolved:
            problems.add(line, "proposition", f"{pid} is already resolved (use 'resolve --force' to change it)")
            continue
        seen.add(key)
        valid.append(
            {
                "proposition_id": pid,
                "outcome": outcome,
                "resolved_on": day,
                "source": source,
                "note": note,
                "recorded_at": recorded_at,
                "_retracted": retracted,
            }
        )
    return valid


def _apply_observations(conn, rows, propositions, by) -> int:  # noqa: ANN001
    """Propose and record the Bayes update of each imported observation, in date order."""
    from .api import _indicator_update, _propose

    indicators = {i["id"]: i for i in store.all_indicators(conn)}
    applied = 0
    for row, obs_id in rows:
        ind = indicators[row["indicator_id"]]
        prop = propositions[ind["proposition_id"]]
        if row["observed_on"] < prop["opened"]:
            continue
        prior = store.standing_probability(conn, prop["id"], row["observed_on"])
        proposal = _propose(ind, prior, row["value"])
        if proposal.moves:
            store.insert_update(conn, _indicator_update(ind, prop["id"], row["observed_on"], obs_id, proposal, by))
            applied += 1
    return applied
