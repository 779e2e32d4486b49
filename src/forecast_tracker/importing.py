"""CSV import: observations, updates or resolutions; validated whole, written all or nothing."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from . import store
from .db import utc_now
from .errors import InputError, ValidationErrors
from .updating import parse_probability
from .validate import OUTCOMES, check_text, choice, parse_date, parse_timestamp, parse_value, today, unknown

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


class _Problems:
    def __init__(self, file: str):
        self.file = file
        self.items: list[str] = []

    def raise_if_any(self) -> None:
        if self.items:
            listed = self.items[:MAX_PROBLEMS_LISTED]
            if len(self.items) > MAX_PROBLEMS_LISTED:
                listed.append(f"... and {len(self.items) - MAX_PROBLEMS_LISTED} more")
            raise ValidationErrors(f"{self.file}: {len(self.items)} problem(s), nothing imported", listed)

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


def open_csv(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]], TextIO]:
    """Header, a stream of (line number, cells) and the open file. The header is line 1.

    Rows are read as they are needed, so an import never holds the whole file in memory. Blank
    lines are skipped. A file that is not UTF-8 or not CSV raises InputError naming the line.
    """
    try:
        fh = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed by the caller
    except FileNotFoundError:
        raise InputError(f"FILE: {path} does not exist") from None
    except IsADirectoryError:
        raise InputError(f"FILE: {path} is a folder") from None
    reader = csv.reader(fh, strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        fh.close()
        raise InputError(f"{path.name}: the file is empty (expected a header line)") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        fh.close()
        raise InputError(f"{path.name}: line 1: {_why(exc)}") from None
    if len(set(header)) != len(header):
        fh.close()
        raise InputError(f"{path.name}: line 1: duplicate column names")

    def rows() -> Iterator[tuple[int, list[str]]]:
        start = 2
        try:
            for record in reader:
                if any(record):  # a blank line is skipped
                    yield start, record
                start = reader.line_num + 1
        except (csv.Error, UnicodeDecodeError) as exc:
            raise InputError(f"{path.name}: line {start}: {_why(exc)}") from None

    return header, rows(), fh


def _why(exc: Exception) -> str:
    return "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else f"malformed CSV ({exc})"


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
    """Validate every row and write all of them, or none (one transaction, rolled back on any problem)."""
    from .api import default_forecaster

    header, rows, fh = open_csv(path)
    try:
        kind = detect_kind(header, path.name)
        report = ImportReport(kind=kind)
        problems = _Problems(path.name)
        with tracker.db.write() as conn:
            propositions = {p["id"]: p for p in store.all_propositions(conn)}
            resolved = {r["id"] for r in store.standing(conn, "9999-12-31") if r["status"] != "open"}
            if kind == "observations":
                _import_observations(conn, header, rows, problems, resolved, report, apply=apply, by=by)
            else:
                records = _records(header, rows, problems, report)
                if kind == "updates":
                    valid = _validate_updates(
                        conn, records, problems, propositions, resolved, utc_now(), report, by or default_forecaster()
                    )
                else:
                    valid = _validate_resolutions(conn, records, problems, propositions, resolved, utc_now(), report)
                problems.raise_if_any()
                _insert_rows(conn, kind, valid, report)
    finally:
        fh.close()
    return report


def _records(header: list[str], rows, problems: _Problems, report: ImportReport) -> list[tuple[int, dict[str, str]]]:  # noqa: ANN001
    out = []
    for line, cells in rows:
        report.rows += 1
        if len(cells) != len(header):
            problems.add(line, "row", f"expected {len(header)} columns, found {len(cells)}")
        else:
            out.append((line, dict(zip(header, cells, strict=True))))
    return out


def _insert_rows(conn, kind: str, valid: list[dict[str, Any]], report: ImportReport) -> None:  # noqa: ANN001
    target = "update" if kind == "updates" else "resolution"
    insert = store.insert_update if kind == "updates" else store.insert_resolution
    for row in valid:
        reason = row.pop("_retracted")
        row_id = insert(conn, row)
        report.imported += 1
        if reason:
            store.insert_retraction(conn, target, row_id, reason)
            report.retracted += 1


def _import_observations(conn, header, rows, problems: _Problems, resolved: set[str], report: ImportReport, *,  # noqa: ANN001
                         apply: bool, by: str | None) -> None:  # fmt: skip
    """The hot path of a bulk import: validate and insert in chunks, streaming, inside one transaction.

    Duplicates are found by a set of hashes of the five fields; a hash that matches is confirmed by
    an exact lookup, so a hash collision can never drop a row.
    """
    indicators = {i["id"]: i for i in store.all_indicators(conn)}
    seen = store.observation_key_hashes(conn)
    width = len(header)
    col = {name: header.index(name) for name in header}
    i_ind, i_day, i_val, i_src, i_note = (col[c] for c in KINDS["observations"])
    i_rec, i_ret = col.get("recorded_at"), col.get("retracted")
    now, latest = utc_now(), today()
    before = store.max_id(conn, "observation")
    batch: list[tuple] = []
    retract: list[tuple[int, str]] = []  # (position in the import, reason)
    written = 0

    def flush() -> None:
        nonlocal written
        if batch and not problems.items:
            store.insert_observations(conn, batch)
            written += len(batch)
        batch.clear()

    for line, cells in rows:
        report.rows += 1
        if len(cells) != width:
            problems.add(line, "row", f"expected {width} columns, found {len(cells)}")
            continue
        ind_id = cells[i_ind].strip()
        ind = indicators.get(ind_id)
        try:  # the fast path: a good row raises nothing
            if ind is None:
                raise InputError("indicator")
            day = parse_date(cells[i_day], "observed_on", required=True, latest=latest)
            value = parse_value(cells[i_val], ind["kind"], "value")
            source = check_text(cells[i_src], "source", required=True)
            note = check_text(cells[i_note], "note")
            recorded_at = _recorded_at(problems, line, cells[i_rec], now) if i_rec is not None else now
        except InputError:  # the slow path names every problem of the row
            _observation_problems(problems, line, cells, ind, ind_id, indicators, (i_day, i_val, i_src, i_note), latest)
            continue
        if recorded_at is _BAD:
            continue
        key = (ind_id, day, value, source, note)
        digest = hash(key)
        if digest in seen:
            flush()  # an identical row earlier in this file must be in the table to be found
            if store.observation_exists(conn, key):
                report.duplicates += 1
                continue
        seen.add(digest)
        if ind["proposition_id"] in resolved:
            problems.add(line, "indicator", f"its proposition {ind['proposition_id']} is resolved; no new observations")
            continue
        if problems.items:
            continue  # nothing more will be written; keep reading to report every bad row
        if i_ret is not None and cells[i_ret].strip():
            retract.append((written + len(batch), cells[i_ret].strip()))
        batch.append((ind_id, day, value, source, note, recorded_at))
        if len(batch) >= store.CHUNK:
            flush()
    problems.raise_if_any()
    flush()
    report.imported = written
    if retract:
        ids = store.new_ids(conn, "observation", before)
        for position, reason in retract:
            store.insert_retraction(conn, "observation", ids[position], reason)
        report.retracted = len(retract)
    if apply:
        report.updates_applied = _apply_observations(conn, before, indicators, by)


def _observation_problems(problems, line, cells, ind, ind_id, indicators, columns, latest) -> None:  # noqa: ANN001
    i_day, i_val, i_src, i_note = columns
    if ind is None:
        problems.add(line, "indicator", str(unknown("indicator", ind_id, indicators)))
    problems.check(line, "observed_on", parse_date, cells[i_day], "observed_on", required=True, latest=latest)
    if ind is not None:
        problems.check(line, "value", parse_value, cells[i_val], ind["kind"], "value")
    problems.check(line, "source", check_text, cells[i_src], "source", required=True)
    problems.check(line, "note", check_text, cells[i_note], "note")


def _recorded_at(problems: _Problems, line: int, raw: str, now: str) -> Any:
    """An exported `recorded_at` is kept (so a round trip is exact); otherwise the import's own time."""
    raw = raw.strip()
    if not raw:
        return now
    recorded_at = problems.check(line, "recorded_at", parse_timestamp, raw, "recorded_at")
    if recorded_at is not _BAD and recorded_at > now:
        problems.add(line, "recorded_at", f"{recorded_at} is in the future")
        return _BAD
    return recorded_at


def _extras(problems: _Problems, line: int, row: dict[str, str], now: str) -> tuple[Any, str]:
    return _recorded_at(problems, line, row.get("recorded_at") or "", now), (row.get("retracted") or "").strip()


def _validate_updates(conn, rows, problems, propositions, resolved, now, report, forecaster) -> list[dict[str, Any]]:  # noqa: ANN001
    seen = store.update_keys(conn)
    observation_owner = store.observation_owners(conn)
    valid: list[dict[str, Any]] = []
    for line, row in rows:
        pid = row["proposition"].strip()
        prop = propositions.get(pid)
        if prop is None:
            problems.add(line, "proposition", str(unknown("proposition", pid, propositions)))
            continue
        probability = problems.check(line, "probability", parse_probability, row["probability"])
        day = problems.check(line, "as_of", parse_date, row["as_of"], "as_of", required=True)
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
        day = problems.check(line, "resolved_on", parse_date, row["resolved_on"], "resolved_on", required=True)
        source = problems.check(line, "source", check_text, row["source"], "source")
        note = problems.check(line, "note", check_text, row["note"], "note")
        recorded_at, retracted = _extras(problems, line, row, now)
        if any(v is _BAD for v in (outcome, day, source, note, recorded_at)):
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


def _apply_observations(conn, before: int, indicators: dict[str, dict[str, Any]], by: str | None) -> int:  # noqa: ANN001
    """Propose and record the Bayes update of each observation just imported, in date order
    (then file order), skipping retracted ones and those dated before their proposition opened."""
    from .api import indicator_proposal, indicator_update_row

    opened = {p["id"]: p["opened"] for p in store.all_propositions(conn)}
    applied = 0
    for row in store.new_observations_by_date(conn, before):
        ind = indicators[row["indicator_id"]]
        pid = ind["proposition_id"]
        if row["observed_on"] < opened[pid]:
            continue
        proposal = indicator_proposal(ind, store.standing_probability(conn, pid, row["observed_on"]), row["value"])
        if proposal.moves:
            store.insert_update(conn, indicator_update_row(ind, pid, row["observed_on"], row["id"], proposal, by))
            applied += 1
    return applied
