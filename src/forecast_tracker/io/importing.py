"""CSV import: observations, updates or resolutions; validated whole, written all or nothing."""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Connection

from .. import store
from ..dates import parse_date, parse_timestamp, today, utc_now
from ..errors import InputError, ValidationErrors
from ..faults import crash_point
from ..probability import parse_probability
from ..validate import OUTCOMES, check_name, check_text, choice, not_before_opened, parse_value, unknown
from .exporting import excel_unsafe_cell

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
    applied: int = 0  # observations applied as evidence
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
            self.add(line, column, exc.message)
            return _BAD


_BAD = object()


def open_csv(path: Path, excel_safe: bool = False) -> tuple[list[str], Iterator[tuple[int, list[str]]], TextIO]:
    """Header, a stream of (line number, cells) and the open file. The header is line 1.

    Rows are read as they are needed, so an import never holds the whole file in memory. Blank
    lines are skipped. A file that is not UTF-8 or not CSV raises InputError naming the line.
    `excel_safe` undoes `export --excel-safe` (one apostrophe before a formula-like cell).
    """
    try:
        fh = open(path, encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise InputError(f"{path} does not exist", "file") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a folder", "file") from None
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
                    yield start, [excel_unsafe_cell(cell) for cell in record] if excel_safe else record
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


def import_file(conn: Connection, path: Path, *, forecaster: str, apply: bool = False, excel_safe: bool = False) -> ImportReport:
    """Validate every row and write all of them, or none: the caller's transaction is rolled back on
    any problem. `forecaster` is who applied updates are credited to (and updates without one)."""
    header, rows, fh = open_csv(path, excel_safe)
    try:
        kind = detect_kind(header, path.name)
        report = ImportReport(kind=kind)
        problems = _Problems(path.name)
        propositions = {p["id"]: p for p in store.all_propositions(conn)}
        resolved = store.resolved_propositions(conn)
        if kind == "observations":
            _import_observations(conn, header, rows, problems, propositions, resolved, report, apply=apply, by=forecaster)
        else:
            records = _records(header, rows, problems, report)
            if kind == "updates":
                valid = _validate_updates(conn, records, problems, propositions, resolved, utc_now(), report, forecaster)
            else:
                valid = _validate_resolutions(conn, records, problems, propositions, resolved, utc_now(), report)
            problems.raise_if_any()
            _insert_rows(conn, kind, valid, report)
    finally:
        fh.close()
    return report


def _records(header: list[str], rows, problems: _Problems, report: ImportReport) -> list[tuple[int, dict[str, str]]]:
    out = []
    for line, cells in rows:
        report.rows += 1
        if len(cells) != len(header):
            problems.add(line, "row", f"expected {len(header)} columns, found {len(cells)}")
        else:
            out.append((line, dict(zip(header, cells, strict=True))))
    return out


def _insert_rows(conn, kind: str, valid: list[dict[str, Any]], report: ImportReport) -> None:
    target = "update" if kind == "updates" else "resolution"
    insert = store.insert_update if kind == "updates" else store.insert_resolution
    for row in valid:
        reason = row.pop("_retracted")
        row_id = insert(conn, row)
        report.imported += 1
        if reason:
            store.insert_retraction(conn, target, row_id, reason)
            report.retracted += 1


DEFER_INDEX_ROWS = 10_000  # an import that writes more rows than this, and than the table held, defers the index


class _DeferredIndex:
    """The observation (indicator, date) index, dropped while a large import writes and built again
    once at the end, where the database allows it (`store.may_defer_indexes`: SQLite).

    Rows reach that index in random order, one B-tree descent each; building it in one sorted pass
    is cheaper: 2 million rows went in 4.6 s and the index took 2.9 s, against 10.7 s written with the
    index in place. It is deferred only once an import has written more rows than the table held
    before and more than DEFER_INDEX_ROWS, so rebuilding never costs more than twice the import's
    own rows. The duplicate check needs the index: a possible duplicate builds it at once."""

    def __init__(self, conn: Connection, stored: int):
        self.conn, self.stored = conn, stored
        self.state = "kept" if store.may_defer_indexes(conn) else "never"

    def before_writing(self, written: int) -> None:
        if self.state == "kept" and written > max(self.stored, DEFER_INDEX_ROWS):
            store.drop_observation_index(self.conn)
            self.state = "dropped"
            crash_point("import-index")  # index dropped, transaction not yet committed

    def restore(self) -> None:
        if self.state == "dropped":
            store.create_observation_index(self.conn)
            self.state = "never"  # not dropped twice in one import


class _ObservationBatch:
    """Rows waiting to be written in chunks. Each chunk goes in with what belongs to its rows: the
    retractions and applications the file names (an export's `retracted`, `applied_by`, `applied_at`)
    and, with --apply, an application of every other live row dated on or after its proposition opened.

    Deciding here which rows to apply, rather than in one `INSERT ... SELECT` over the whole import,
    saves joining each new row to its indicator and proposition: that join grew 19x from 1x to 10x
    data, as the tables it looks into outgrew the CPU's caches."""

    def __init__(self, conn: Connection, problems: _Problems, after: int, by: str):
        self.conn, self.problems, self.after, self.by = conn, problems, after, by
        self.now = utc_now()
        # rows are never deleted, so the largest id is at least the number already stored
        self.index = _DeferredIndex(conn, stored=after)
        self.rows: list[tuple] = []
        self.retract: list[tuple[int, str]] = []  # (position in the chunk, reason)
        self.apply: list[tuple[int, str, str]] = []  # (position in the chunk, by, at)
        self.written = self.retracted = self.applied = 0

    def add(self, row: tuple, retracted: str, applied: tuple[str, str] | None) -> None:
        """`applied`: (by, at) as the file says (empty for the import's own), or None: not applied."""
        if retracted:
            self.retract.append((len(self.rows), retracted))
        if applied:
            self.apply.append((len(self.rows), applied[0] or self.by, applied[1] or self.now))
        self.rows.append(row)
        if len(self.rows) >= store.CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.rows and not self.problems.items:
            self.index.before_writing(self.written + len(self.rows))
            store.insert_observations(self.conn, self.rows)
            if self.retract or self.apply:
                # the chunk's ids, in the order written (the write transaction keeps anyone else out)
                ids = store.new_ids(self.conn, "observation", self.after)
                if len(ids) != len(self.rows):
                    raise RuntimeError(f"wrote {len(self.rows)} observations but found {len(ids)} new ids")
                store.insert_retractions(self.conn, "observation", [(ids[k], why) for k, why in self.retract])
                store.insert_applications(self.conn, [(ids[k], who, at) for k, who, at in self.apply])
                self.after = ids[-1]
            else:
                self.after = store.max_id(self.conn, "observation")
            self.written += len(self.rows)
            self.retracted += len(self.retract)
            self.applied += len(self.apply)
            crash_point("import-chunk")  # rows written, transaction not yet committed
        self.rows.clear()
        self.retract.clear()
        self.apply.clear()


def _import_observations(conn, header, rows, problems: _Problems, propositions: dict[str, dict], resolved: set[str],
                         report: ImportReport, *, apply: bool, by: str) -> None:  # fmt: skip
    """The hot path of a bulk import: validate and insert in chunks, streaming, inside one transaction.

    Duplicates are found by a set of hashes of the five fields; a hash that matches is confirmed by
    an exact lookup, so a hash collision can never drop a row.
    """
    # one small record per indicator, found once per row: (kind, proposition, opened, resolved). At 10x
    # the benchmark's data the indicators' whole rows no longer fit the CPU's caches, and three lookups
    # per row into them grew 20x where the rest grew 10x.
    signposts = {
        i["id"]: (i["kind"], i["proposition_id"], propositions[i["proposition_id"]]["opened"], i["proposition_id"] in resolved)
        for i in store.all_indicators(conn)
    }
    seen = store.observation_key_hashes(conn)
    col = {name: header.index(name) for name in header}
    columns = tuple(col[c] for c in KINDS["observations"])
    i_ret, i_by, i_at = col.get("retracted"), col.get("applied_by"), col.get("applied_at")
    batch = _ObservationBatch(conn, problems, store.max_id(conn, "observation"), by)
    parse = _ObservationParser(signposts, columns, col.get("recorded_at"), problems)
    for line, cells in rows:
        report.rows += 1
        if len(cells) != len(header):
            problems.add(line, "row", f"expected {len(header)} columns, found {len(cells)}")
            continue
        parsed = parse(line, cells)
        if parsed is None:
            continue
        row, (_kind, proposition, opened, is_resolved) = parsed
        key = row[:5]
        digest = hash(key)
        if digest in seen:
            batch.flush()  # an identical row earlier in this file must be in the table to be found
            batch.index.restore()
            if store.observation_exists(conn, key):
                report.duplicates += 1
                continue
        seen.add(digest)
        if is_resolved:
            problems.add(line, "indicator", f"its proposition {proposition} is resolved; no new observations")
            continue
        retracted = cells[i_ret].strip() if i_ret is not None else ""
        if retracted and problems.check(line, "retracted", check_text, retracted, "retracted") is _BAD:
            continue
        applied_by = cells[i_by].strip() if i_by is not None else ""
        if applied_by and problems.check(line, "applied_by", check_name, applied_by, "applied_by") is _BAD:
            continue
        if not problems.items:  # else nothing more will be written; keep reading to report every bad row
            if applied_by:  # what an exported file says was applied, with who and when
                applied = (applied_by, cells[i_at].strip() if i_at is not None else "")
            elif apply and not retracted and row[1] >= opened:
                applied = ("", "")  # earlier ones are context, never evidence
            else:
                applied = None
            batch.add(row, retracted, applied)
    problems.raise_if_any()
    batch.flush()
    batch.index.restore()
    report.imported, report.retracted, report.applied = batch.written, batch.retracted, batch.applied


class _ObservationParser:
    """One CSV row -> ((indicator, observed_on, value, source, note, recorded_at), its indicator's
    record), or None with its problems recorded. A good row takes the fast path and raises nothing."""

    def __init__(self, signposts: dict[str, tuple], columns: tuple[int, ...], i_rec: int | None, problems: _Problems):
        self.signposts, self.columns, self.i_rec, self.problems = signposts, columns, i_rec, problems
        self.now, self.latest = utc_now(), today()

    def __call__(self, line: int, cells: list[str]) -> tuple[tuple, tuple] | None:
        i_ind, i_day, i_val, i_src, i_note = self.columns
        ind_id = cells[i_ind].strip()
        ind = self.signposts.get(ind_id)
        try:
            if ind is None:
                raise InputError("indicator")
            day = parse_date(cells[i_day], "observed_on", required=True, latest=self.latest)
            value = parse_value(cells[i_val], ind[0], "value")
            source = check_text(cells[i_src], "source", required=True)
            note = check_text(cells[i_note], "note")
        except InputError:  # the slow path names every problem of the row
            _observation_problems(self.problems, line, cells, ind, ind_id, self.signposts, self.columns[1:], self.latest)
            return None
        recorded_at = _recorded_at(self.problems, line, cells[self.i_rec], self.now) if self.i_rec is not None else self.now
        return None if recorded_at is _BAD else ((ind_id, day, value, source, note, recorded_at), ind)


def _observation_problems(problems, line, cells, ind, ind_id, indicators, columns, latest) -> None:
    i_day, i_val, i_src, i_note = columns
    if ind is None:
        problems.add(line, "indicator", str(unknown("indicator", ind_id, indicators)))
    problems.check(line, "observed_on", parse_date, cells[i_day], "observed_on", required=True, latest=latest)
    if ind is not None:
        problems.check(line, "value", parse_value, cells[i_val], ind[0], "value")
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
    retracted = (row.get("retracted") or "").strip()
    if retracted and problems.check(line, "retracted", check_text, retracted, "retracted") is _BAD:
        retracted = ""
    return _recorded_at(problems, line, row.get("recorded_at") or "", now), retracted


def _validate_updates(conn, rows, problems, propositions, resolved, now, report, forecaster) -> list[dict[str, Any]]:
    seen = store.update_keys(conn)
    observation_owner = store.observation_owners(conn)
    valid: list[dict[str, Any]] = []
    for line, row in rows:
        prop = _proposition_of(problems, line, row, propositions)
        if prop is None:
            continue
        pid = prop["id"]
        probability = problems.check(line, "probability", parse_probability, row["probability"])
        day = problems.check(line, "as_of", parse_date, row["as_of"], "as_of", required=True)
        method = problems.check(line, "method", choice, row.get("method") or "manual", "method", ("manual", "indicator"))
        rationale = problems.check(line, "rationale", check_text, row.get("rationale"), "rationale")
        by = problems.check(line, "forecaster", check_text, row.get("forecaster") or forecaster, "forecaster")
        recorded_at, retracted = _extras(problems, line, row, now)
        obs_id = problems.check(line, "observation_id", _observation_link, row.get("observation_id"), pid, observation_owner)
        ratio = problems.check(line, "likelihood_ratio", _ratio, row.get("likelihood_ratio"))
        if any(v is _BAD for v in (probability, day, method, rationale, by, recorded_at, obs_id, ratio)):
            continue
        key = (pid, day, probability, method, rationale, by)
        if not _accept(problems, line, report, seen, key, prop, day, "as_of", resolved, f"{pid} is resolved; no new updates"):
            continue
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


def _proposition_of(problems: _Problems, line: int, row: dict[str, str], propositions: dict[str, dict]) -> dict | None:
    pid = row["proposition"].strip()
    if pid not in propositions:
        problems.add(line, "proposition", str(unknown("proposition", pid, propositions)))
    return propositions.get(pid)


def _accept(problems: _Problems, line: int, report: ImportReport, seen: set, key: tuple, prop: dict, day: str, column: str,
            resolved: set[str], refused: str) -> bool:  # fmt: skip
    """The checks every dated judgement row ends with: not before its proposition opened, not a
    duplicate (skipped and counted), not for a resolved proposition. True: the row is to be written."""
    if problems.check(line, column, not_before_opened, day, prop, column) is _BAD:
        return False
    if key in seen:
        report.duplicates += 1
        return False
    if prop["id"] in resolved:
        problems.add(line, "proposition", refused)
        return False
    seen.add(key)
    return True


def _observation_link(raw: str | None, proposition: str, owners: dict[int, tuple[str, str]]) -> int | None:
    """An updates row's `observation_id`: empty, or an observation of the same proposition."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        obs_id = int(text)
    except ValueError:
        raise InputError(f"{text[:20]!r} is not a whole number") from None
    owner = owners.get(obs_id)
    if owner is None or owner[0] != proposition:
        raise InputError(f"no observation {obs_id} of proposition {proposition} (import the observations first)")
    return obs_id


def _ratio(raw: str | None) -> float | None:
    """An optional likelihood ratio: empty, or a finite number > 0 (never `inf`, which JSON cannot hold)."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        ratio = float(text)
    except ValueError:
        ratio = math.nan
    if not (0 < ratio < math.inf):
        raise InputError(f"{text[:20]!r} is not a finite number > 0")
    return ratio


def _validate_resolutions(conn, rows, problems, propositions, resolved, now, report) -> list[dict[str, Any]]:
    seen = store.resolution_keys(conn)
    valid: list[dict[str, Any]] = []
    for line, row in rows:
        prop = _proposition_of(problems, line, row, propositions)
        if prop is None:
            continue
        pid = prop["id"]
        outcome = problems.check(line, "outcome", choice, row["outcome"], "outcome", OUTCOMES)
        day = problems.check(line, "resolved_on", parse_date, row["resolved_on"], "resolved_on", required=True)
        source = problems.check(line, "source", check_text, row["source"], "source")
        note = problems.check(line, "note", check_text, row["note"], "note")
        recorded_at, retracted = _extras(problems, line, row, now)
        if any(v is _BAD for v in (outcome, day, source, note, recorded_at)):
            continue
        key = (pid, outcome, day, source, note)
        refused = f"{pid} is already resolved (use 'resolve --force' to change it)"
        if not _accept(problems, line, report, seen, key, prop, day, "resolved_on", resolved, refused):
            continue
        resolved.add(pid)  # a second row for the same proposition in this file is a re-resolution too
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
