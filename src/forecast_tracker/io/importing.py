"""CSV import: observations, updates or resolutions; validated whole, written all or nothing."""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Connection

from .. import rules, store
from ..dates import parse_timestamp, today, utc_now
from ..errors import InputError, ValidationErrors
from ..faults import crash_point
from ..probability import P_MAX, P_MIN
from ..records import ResolutionRow, is_benchmark
from ..validate import check_name, check_text, choice, shown_path
from . import replay
from .exporting import excel_unsafe_cell
from .peers import Forecast, Peers, Question, daily_last

KINDS: dict[str, tuple[str, ...]] = {
    "observations": ("indicator", "observed_on", "value", "source", "note"),
    "updates": ("proposition", "as_of", "probability"),
    "resolutions": ("proposition", "outcome", "resolved_on", "source", "note"),
}
MAX_PROBLEMS_LISTED = 200
# the file's column for a field the rules name (the rest have the field's own name)
COLUMN_OF = {"indicator_id": "indicator", "proposition_id": "proposition"}


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

    def rejected(self, line: int, exc: InputError) -> None:
        """Every problem of a row the rules refused, each under its column."""
        for problem in exc.problems if isinstance(exc, rules.Rejected) else [exc]:
            self.add(line, COLUMN_OF.get(problem.field or "", problem.field or "row"), problem.message)

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
    except OSError as exc:  # a name too long, a permission, a FIFO that is not a file
        raise InputError(f"cannot read {shown_path(path)}: {exc.strerror or exc}", "file") from None
    reader = csv.reader(fh, strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        fh.close()
        raise InputError(f"{path.name}: the file is empty (expected a header line)") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        fh.close()
        line = (_first_bad_utf8_line(path) or 1) if isinstance(exc, UnicodeDecodeError) else 1
        raise InputError(f"{path.name}: line {line}: {_why(exc)}") from None
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
        except UnicodeDecodeError as exc:  # text is decoded a block ahead of the row being read
            raise InputError(f"{path.name}: line {_first_bad_utf8_line(path) or start}: {_why(exc)}") from None
        except csv.Error as exc:
            raise InputError(f"{path.name}: line {start}: {_why(exc)}") from None

    return header, rows(), fh


def _first_bad_utf8_line(path: Path) -> int | None:
    """The first line of the file (as an editor counts them) that is not UTF-8: the decoder reads a
    block ahead of the CSV reader, so the row being read when it fails is not where the bad byte is."""
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, 1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return None


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


@dataclass
class ImportContext:
    """What every row of one import reads and adds to: the connection, the rules' snapshot of the
    record (added to as rows are accepted), the problems found so far and the counts reported."""

    conn: Connection
    snapshot: rules.Snapshot
    problems: _Problems
    report: ImportReport
    forecaster: str  # who the import's own applications and updates without a forecaster are credited to
    apply: bool = False
    now: str = ""
    force: bool = False  # a second resolution of a resolved proposition is a forced re-resolution
    require_rationale: bool = False  # a manual update row with no rationale is refused (`import --no-rationale` lifts it)

    @classmethod
    def open(cls, conn: Connection, kind: str, name: str, forecaster: str, apply: bool, force: bool = False) -> ImportContext:
        snapshot = rules.Snapshot(
            {p.id: p for p in store.all_propositions(conn)},
            {i.id: i for i in store.all_indicators(conn)},
            store.current_resolutions(conn),
            today(),
        )
        return cls(conn, snapshot, _Problems(name), ImportReport(kind=kind), forecaster, apply, utc_now(), force)


def import_file(
    conn: Connection, path: Path, *, forecaster: str, apply: bool = False, excel_safe: bool = False, force: bool = False,
    require_rationale: bool = False,
) -> ImportReport:  # fmt: skip
    """Validate every row and write all of them, or none: the caller's transaction is rolled back on
    any problem. `forecaster` is who applied updates are credited to (and updates without one);
    `force` lets a resolutions file resolve an already resolved proposition again (as `resolve --force`).
    A JSON file is a definitions export (`io.replay`), replayed as it is."""
    if replay.looks_like_definitions(path):
        if apply or excel_safe or force:
            raise InputError(f"{path.name}: a definitions file is replayed as it is; --apply, --excel-safe and --force are for CSV")
        replayed, unchanged = replay.replay(conn, path)
        return ImportReport(kind="definitions", rows=replayed + unchanged, imported=replayed, duplicates=unchanged)
    header, rows, fh = open_csv(path, excel_safe)
    try:
        kind = detect_kind(header, path.name)
        ctx = ImportContext.open(conn, kind, path.name, forecaster, apply, force)
        ctx.require_rationale = require_rationale
        if kind == "observations":
            _import_observations(ctx, header, rows)
        else:
            records = _records(header, rows, ctx)
            valid = _validate_updates(ctx, records) if kind == "updates" else _validate_resolutions(ctx, records)
            ctx.problems.raise_if_any()
            _insert_rows(conn, kind, valid, ctx.report)
    finally:
        fh.close()
    return ctx.report


def _records(header: list[str], rows, ctx: ImportContext) -> list[tuple[int, dict[str, str]]]:
    out = []
    for line, cells in rows:
        ctx.report.rows += 1
        if len(cells) != len(header):
            ctx.problems.add(line, "row", f"expected {len(header)} columns, found {len(cells)}")
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

    def __init__(self, conn: Connection, problems: _Problems, after: int, by: str, links: tuple[int | None, int | None]):
        """`links`: the file's `id` and `amends` columns (None where it has none)."""
        self.conn, self.problems, self.after, self.by = conn, problems, after, by
        self.i_id, self.i_amends = links
        self.earlier_ids: set[int] = set()  # the file's `id`s of the rows read so far (what an `amends` may name)
        self.now = utc_now()
        # rows are never deleted, so the largest id is at least the number already stored
        self.index = _DeferredIndex(conn, stored=after)
        self.rows: list[tuple] = []
        self.retract: list[tuple[int, str]] = []  # (position in the chunk, reason)
        self.apply: list[tuple[int, str, str, int | None]] = []  # (position in the chunk, by, at, criteria version)
        self.written = self.retracted = self.applied = 0
        # an export's `amends` names another row by its `id` in the file: file id -> the id stored
        self.stored_as: dict[int, int] | None = None if self.i_amends is None else {}
        self.file_ids: list[int | None] = []
        self.amends: list[tuple[int, int]] = []  # (position in the chunk, the file id it amends)

    def links_of(self, line: int, cells: list[str]) -> Any:
        """(the row's `id` in the file, the earlier row of the file it `amends`), or `_BAD` with the problem
        recorded. Links are by the file's ids, so they hold whatever ids the rows are stored under."""
        if self.i_amends is None:
            return None, None
        raw = cells[self.i_id].strip() if self.i_id is not None else ""
        own = int(raw) if raw.isascii() and raw.isdigit() else None
        if own is not None:
            self.earlier_ids.add(own)
        amends = self.problems.check(line, "amends", _optional_id, cells[self.i_amends])
        if amends is _BAD:
            return _BAD
        if amends is not None and (amends == own or amends not in self.earlier_ids):
            self.problems.add(line, "amends", f"no row with id {amends} earlier in this file (an amended row comes before its correction)")
            return _BAD
        return own, amends

    def stored_under(self, file_id: int | None, stored: int) -> None:
        """A row of the file that is stored already (a duplicate), under id `stored`."""
        if self.stored_as is not None and file_id is not None:
            self.stored_as[file_id] = stored

    def add(self, row: tuple, retracted: str, applied: tuple[str, str, int | None] | None, file_id: int | None = None,
            amends: int | None = None) -> None:  # fmt: skip
        """`applied`: (by, at, criteria version) as the file says (empty for the import's own), or None:
        not applied. `file_id`, `amends`: the row's `id` and `amends` in the file, when it links rows."""
        if retracted:
            self.retract.append((len(self.rows), retracted))
        if applied:
            self.apply.append((len(self.rows), applied[0] or self.by, applied[1] or self.now, applied[2]))
        if amends is not None:
            self.amends.append((len(self.rows), amends))
        if self.stored_as is not None:
            self.file_ids.append(file_id)
        self.rows.append(row)
        if len(self.rows) >= store.CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.rows and not self.problems.items:
            self.index.before_writing(self.written + len(self.rows))
            store.insert_observations(self.conn, self.rows)
            if self.retract or self.apply or self.stored_as is not None:
                # the chunk's ids, in the order written (the write transaction keeps anyone else out)
                ids = store.new_ids(self.conn, "observation", self.after)
                if len(ids) != len(self.rows):
                    raise RuntimeError(f"wrote {len(self.rows)} observations but found {len(ids)} new ids")
                store.insert_retractions(self.conn, "observation", [(ids[k], why) for k, why in self.retract])
                store.insert_applications(self.conn, [(ids[k], who, at, v) for k, who, at, v in self.apply])
                if self.stored_as is not None:
                    self.stored_as.update((f, ids[k]) for k, f in enumerate(self.file_ids) if f is not None)
                    store.set_amends(self.conn, [(ids[k], self.stored_as[f]) for k, f in self.amends])
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
        self.file_ids.clear()
        self.amends.clear()


def _import_observations(ctx: ImportContext, header: list[str], rows) -> None:
    """The hot path of a bulk import: validate and insert in chunks, streaming, inside one transaction.

    Duplicates are found by a set of hashes of the five fields; a hash that matches is confirmed by
    an exact lookup, so a hash collision can never drop a row.
    """
    conn, problems, report, snap = ctx.conn, ctx.problems, ctx.report, ctx.snapshot
    seen = store.observation_key_hashes(conn)
    col = {name: header.index(name) for name in header}
    i_ind, i_day, i_val, i_src, i_note = (col[c] for c in KINDS["observations"])
    i_rec, i_id, i_amends = col.get("recorded_at"), col.get("id"), col.get("amends")
    batch = _ObservationBatch(conn, problems, store.max_id(conn, "observation"), ctx.forecaster, (i_id, i_amends))
    observation, may_record, may_apply = rules.observation, rules.may_record, rules.may_apply
    for line, cells in rows:
        report.rows += 1
        if len(cells) != len(header):
            problems.add(line, "row", f"expected {len(header)} columns, found {len(cells)}")
            continue
        try:
            row = observation(snap, cells[i_ind].strip(), cells[i_day], cells[i_val], cells[i_src], cells[i_note])
        except InputError as exc:
            problems.rejected(line, exc)
            continue
        recorded_at = _recorded_at(problems, line, cells[i_rec], ctx.now) if i_rec is not None else ctx.now
        if recorded_at is _BAD:
            continue
        if (file_id := batch.links_of(line, cells)) is _BAD:
            continue
        digest = hash(row)
        if digest in seen:
            batch.flush()  # an identical row earlier in this file must be in the table to be found
            batch.index.restore()
            if (same := store.identical_observation(conn, row)) is not None:
                report.duplicates += 1
                batch.stored_under(file_id[0], same)
                continue
        seen.add(digest)
        proposition = snap.indicators[row.indicator_id].proposition_id
        try:
            may_record(snap, proposition, "observations")
        except InputError as exc:
            problems.rejected(line, exc)
            continue
        said = _what_the_file_says(problems, line, cells, col, snap.propositions[proposition])
        if said is _BAD:
            continue
        retracted, applied_by, applied_at, version = said
        if not problems.items:  # else nothing more will be written; keep reading to report every bad row
            if applied_by:  # what an exported file says was applied, with who and when: the record as it stood
                applied = (applied_by, applied_at, version)
            elif ctx.apply and not retracted and may_apply(snap, row) is None:
                applied = ("", "", None)
            else:
                applied = None
            batch.add((*row, recorded_at), retracted, applied, *file_id)
    problems.raise_if_any()
    batch.flush()
    batch.index.restore()
    report.imported, report.retracted, report.applied = batch.written, batch.retracted, batch.applied


def _what_the_file_says(problems: _Problems, line: int, cells: list[str], col: dict[str, int], proposition: Any) -> Any:
    """An exported row's `retracted`, `applied_by`, `applied_at` and `criteria_version` (empty where the
    file has no such column), or `_BAD` with the problem recorded."""

    def cell(name: str) -> str:
        return cells[col[name]].strip() if name in col else ""

    retracted, applied_by, version = cell("retracted"), cell("applied_by"), cell("criteria_version")
    if retracted and problems.check(line, "retracted", check_text, retracted, "retracted") is _BAD:
        return _BAD
    if applied_by and problems.check(line, "applied_by", check_name, applied_by, "applied_by") is _BAD:
        return _BAD
    number = problems.check(line, "criteria_version", _criteria_version, version, proposition, bool(applied_by)) if version else None
    return _BAD if number is _BAD else (retracted, applied_by, cell("applied_at"), number)


def _criteria_version(raw: str, proposition: Any, applied: bool) -> int:
    """An exported application's criteria version: a whole number no later than its proposition's."""
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise InputError(f"{text[:20]!r} is not a whole number >= 1")
    if not applied:
        raise InputError("only an applied row (one with applied_by) carries a criteria version")
    version = int(text)
    if version > proposition.criteria_version:
        raise InputError(f"{proposition.id} has criteria version {proposition.criteria_version}, not {version} "
                         "(import its definitions first)")  # fmt: skip
    return version


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


def _validate_updates(ctx: ImportContext, rows: list[tuple[int, dict[str, str]]]) -> list[dict[str, Any]]:
    """Each row through `rules.update`, with what an export adds (method, the observation behind a
    first-release indicator update, its ratio, recorded_at, retracted)."""
    problems, snap = ctx.problems, ctx.snapshot
    seen = store.update_keys(ctx.conn)
    observation_owner = store.observation_owners(ctx.conn)
    valid: list[dict[str, Any]] = []
    for line, row in rows:
        pid = row["proposition"].strip()
        manual = (row.get("method") or "manual").strip().lower() == "manual"
        try:
            new = rules.update(
                snap, pid, row["as_of"], row["probability"], row.get("rationale"), row.get("forecaster") or ctx.forecaster,
                ctx.require_rationale and manual,
            )
        except InputError as exc:
            problems.rejected(line, exc)
            new = None
        method = problems.check(line, "method", choice, row.get("method") or "manual", "method", ("manual", "indicator"))
        recorded_at, retracted = _extras(problems, line, row, ctx.now)
        obs_id = problems.check(line, "observation_id", _observation_link, row.get("observation_id"), pid, observation_owner)
        ratio = problems.check(line, "likelihood_ratio", _ratio, row.get("likelihood_ratio"))
        version = None
        if (row.get("criteria_version") or "").strip() and pid in snap.propositions:
            version = problems.check(line, "criteria_version", _criteria_version, row["criteria_version"], snap.propositions[pid], True)
        if new is None or any(v is _BAD for v in (method, recorded_at, obs_id, ratio, version)):
            continue
        key = (pid, new.as_of, new.probability, method, new.rationale, new.forecaster)
        if not _accept(ctx, line, seen, key, rules.may_record, snap, pid, "updates"):
            continue
        valid.append(
            {**new._asdict(), "method": method, "observation_id": obs_id, "likelihood_ratio": ratio, "recorded_at": recorded_at,
             "_retracted": retracted, **({"criteria_version": version} if version is not None else {})}
        )  # fmt: skip
    return valid


def _accept(ctx: ImportContext, line: int, seen: set, key: tuple, rule: Callable[..., None], *args: Any) -> bool:
    """The end of every dated judgement row: a duplicate of a stored row is skipped and counted (so an
    export imports back), then `rule(*args)` may still refuse it. True: the row is to be written."""
    if key in seen:
        ctx.report.duplicates += 1
        return False
    try:
        rule(*args)
    except InputError as exc:
        ctx.problems.rejected(line, exc)
        return False
    seen.add(key)
    return True


def _optional_id(raw: str | None) -> int | None:
    """An optional row id (a resolutions row's `supersedes`): empty, or a whole number >= 1."""
    text = (raw or "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise InputError(f"{text[:20]!r} is not a row id")
    return int(text)


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


def _validate_resolutions(ctx: ImportContext, rows: list[tuple[int, dict[str, str]]]) -> list[dict[str, Any]]:
    """Each row through `rules.resolution` and `rules.may_resolve`; a second row for the same
    proposition in one file is a re-resolution too. A row whose `supersedes` names a resolution (as an
    export writes it) replays a forced re-resolution; without it, one needs `force` (`import --force`)."""
    problems, snap = ctx.problems, ctx.snapshot
    seen = store.resolution_keys(ctx.conn)
    valid: list[dict[str, Any]] = []
    for line, row in rows:
        pid = row["proposition"].strip()
        try:
            new = rules.resolution(snap, pid, row["outcome"], row["resolved_on"], row["source"], row["note"])
        except InputError as exc:
            problems.rejected(line, exc)
            new = None
        recorded_at, retracted = _extras(problems, line, row, ctx.now)
        supersedes = problems.check(line, "supersedes", _optional_id, row.get("supersedes"))
        if new is None or recorded_at is _BAD or supersedes is _BAD:
            continue
        force = ctx.force or supersedes is not None
        if not _accept(ctx, line, seen, tuple(new), rules.may_resolve, snap, pid, force):
            continue
        if not retracted:  # in force for the rows after it
            snap.resolved[pid] = ResolutionRow(0, *new, recorded_at, None)
        valid.append({**new._asdict(), "recorded_at": recorded_at, "_retracted": retracted})
    return valid


# -- a peer's record (`io.peers`) -----------------------------------------------------------------------
@dataclass
class PeerReport:
    source: str
    questions: int = 0
    drafts: int = 0  # catalog files written (a file already there is kept as the analyst left it)
    updates: int = 0
    crowd: int = 0  # of which a platform's aggregate (a benchmark track)
    resolutions: int = 0
    duplicates: int = 0
    clamped: int = 0
    skipped: list[str] = field(default_factory=list)
    benchmarks: list[str] = field(default_factory=list)


def import_peer_rows(conn: Connection, peers: Peers, ids: dict[tuple[str, str], str], report: PeerReport) -> None:
    """Every question's forecasts (one per forecaster per day, the day's last, clamped to what a
    probability may be) and its resolution, each through the rules; the propositions were synced by
    the caller in this transaction. A forecast dated after its question resolved is refused and
    listed; any other problem refuses the whole import (`ValidationErrors`, every problem listed)."""
    rows = _PeerRows(conn, report)
    for (source, key), q in peers.questions.items():
        report.questions += 1
        rows.question(q, ids[(source, key)])
    if rows.problems:
        problems = rows.problems
        listed = problems[:MAX_PROBLEMS_LISTED] + ([f"... and {len(problems) - MAX_PROBLEMS_LISTED} more"]
                                                   if len(problems) > MAX_PROBLEMS_LISTED else [])  # fmt: skip
        raise ValidationErrors(f"{len(problems)} problem(s), nothing imported", listed)
    for row in rows.updates:
        store.insert_update(conn, row)
    for row in rows.resolutions:
        store.insert_resolution(conn, row)
    report.updates, report.resolutions = len(rows.updates), len(rows.resolutions)


class _PeerRows:
    """The rows a peer's questions make, checked by the rules against the record (and one another)."""

    def __init__(self, conn: Connection, report: PeerReport):
        self.snap = rules.Snapshot({p.id: p for p in store.all_propositions(conn)}, {}, store.current_resolutions(conn), today())
        self.seen_updates, self.seen_resolutions = store.update_keys(conn), store.resolution_keys(conn)
        self.report, self.now = report, utc_now()
        self.problems: list[str] = []
        self.updates: list[dict[str, Any]] = []
        self.resolutions: list[dict[str, Any]] = []

    def refused(self, where: str, exc: InputError) -> None:
        for problem in exc.problems if isinstance(exc, rules.Rejected) else [exc]:
            self.problems.append(f"{where}: {problem.field or 'row'}: {problem.message}")

    def question(self, q: Question, pid: str) -> None:
        ended = q.resolved_at.date().isoformat() if q.resolution and q.resolved_at else None
        for f in daily_last(q):
            self.forecast(q, pid, f, ended)
        if q.resolution is not None and ended is not None:
            self.resolution(q, pid, ended)

    def forecast(self, q: Question, pid: str, f: Forecast, ended: str | None) -> None:
        day, report = f.at.date().isoformat(), self.report
        if ended is not None and day > ended:
            report.skipped.append(f"{f.where}: a forecast dated {day}, after {pid} resolved on {ended}: refused "
                                  f"(no update on a resolved proposition)")  # fmt: skip
            return
        p = min(max(f.probability, P_MIN), P_MAX)
        rationale = f"{q.platform} forecast at {f.at.isoformat(timespec='seconds').replace('+00:00', 'Z')}"
        if p != f.probability:
            rationale += f" ({f.probability:g} there, recorded as {p:g}: certainty is recorded with a resolution)"
        try:
            new = rules.update(self.snap, pid, day, p, rationale, f.forecaster)
            if (pid, new.as_of, new.probability, "manual", new.rationale, new.forecaster) in self.seen_updates:
                report.duplicates += 1
                return
            rules.may_record(self.snap, pid, "updates")
        except InputError as exc:
            self.refused(f.where, exc)
            return
        self.updates.append({**new._asdict(), "method": "manual", "recorded_at": self.now})
        report.crowd += is_benchmark(new.forecaster)
        report.clamped += p != f.probability

    def resolution(self, q: Question, pid: str, ended: str) -> None:
        where = f"{q.where} ({q.title[:40]!r})"
        try:
            new = rules.resolution(self.snap, pid, q.resolution, ended, f"{q.platform}: {q.url or q.title}",
                                   f"imported from {q.platform}")  # fmt: skip
            if tuple(new) in self.seen_resolutions:
                self.report.duplicates += 1
                return
            rules.may_resolve(self.snap, pid)
        except InputError as exc:
            self.refused(where, exc)
            return
        self.resolutions.append({**new._asdict(), "recorded_at": self.now})
