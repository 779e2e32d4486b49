"""A peer's record -> questions: Fatebook, Metaculus, PredictionBook and Manifold exports, read whole.

Each reader turns one platform's files into `Question`s (binary only: any other type is listed in
`Peers.skipped`, never half-read) and lists every problem with its file and line (CSV) or key path
(JSON). Nothing here writes anything: `draft` turns a question into the text of a catalog file, and
`Tracker.import_peers` syncs the drafts and writes the rows through the rules, all or nothing.

Where each format comes from (the field names are the platforms' own):
- `fatebook`: the CSV that Fatebook's "Export" writes, one row per forecast (Fatebook's
  `lib/web/export.ts`, `questionsToCsv`): "Question title", "Forecast created by",
  "Forecast (scale = 0-1)", "Forecast created at", "Question created at", "Question resolve by",
  "Resolution", "Resolved at", "Multiple choice option", "Question notes".
- `fatebook-sheet`: the spreadsheet Fatebook itself imports (its `lib/web/import_router.ts`,
  `importFromCsv`): questionTitle, forecast (a percentage), qCreatedAt, resolution, resolvedAt,
  resolveBy, fCreatedAt, tags, notes. A question is its title and qCreatedAt, as Fatebook keys it.
- `metaculus`: the question download (`question_data.csv` and `forecast_data.csv`, loose or in the
  zip), columns as the download's own README names them ("Question ID", "Question Type", "Open Time",
  "Scheduled Close Time", "Resolution", "Resolution Known Time"; "Forecaster ID", "Forecaster Username",
  "Start Time", "Probability Yes"). Rows with no "Forecaster ID" are the site's aggregates.
- `predictionbook`: the JSON of `api/my_predictions` (PredictionBook's `PredictionSerializer` and
  `ResponseSerializer`: id, description, deadline, created_at, updated_at, outcome, withdrawn,
  responses[confidence, created_at, user_label]), one page or a list of pages; or the CSV of the
  predictionbook-extractor (no header: id, created, deadline as Unix times, mean confidence, wagers,
  outcome 0 unknown / 1 right / 2 wrong, creator, title), which holds no dated forecast.
- `manifold`: a market as `GET /v0/market/[id]` returns it (id, question, url, outcomeType,
  createdTime, closeTime, isResolved, resolution, resolutionTime, textDescription) and its bets as
  `GET /v0/bets` returns them (contractId, createdTime, probBefore, probAfter).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError, ValidationErrors
from ..records import is_benchmark

SOURCES = ("fatebook", "fatebook-sheet", "metaculus", "predictionbook", "manifold")
PLATFORM = {
    "fatebook": "Fatebook", "fatebook-sheet": "Fatebook", "metaculus": "Metaculus", "predictionbook": "PredictionBook",
    "manifold": "Manifold",
}  # fmt: skip
# the crowd each platform publishes, as a benchmark forecaster (never in the team's pool)
CROWD = {"metaculus": "metaculus:cp", "manifold": "manifold:market"}
MAX_PROBLEMS_LISTED = 200
MAX_FILE_BYTES = 512 * 1024 * 1024  # a zip member larger than this is refused (a zip bomb is not a record)


@dataclass
class Forecast:
    at: dt.datetime  # UTC
    probability: float  # as the platform gave it, 0..1 (clamped when written)
    forecaster: str
    where: str  # "file: line 7" or "file: predictions[0].responses[2]"


@dataclass
class Question:
    source: str  # one of SOURCES
    key: str  # the platform's id, or (Fatebook) title + created at
    title: str
    created: dt.datetime
    where: str
    resolve_by: str | None = None  # YYYY-MM-DD
    resolution: str | None = None  # yes | no | annulled | None (open)
    resolved_at: dt.datetime | None = None
    url: str | None = None
    tags: list[str] = field(default_factory=list)
    notes: str = ""
    forecasts: list[Forecast] = field(default_factory=list)
    prior_note: str | None = None  # why the prior is not a dated first forecast (PredictionBook's CSV)
    prior: float | None = None

    @property
    def platform(self) -> str:
        return PLATFORM[self.source]


@dataclass
class Peers:
    """What a set of files holds: the questions, what was skipped (and why), every problem."""

    questions: dict[tuple[str, str], Question] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    skipped_keys: set[str] = field(default_factory=set)  # the keys of questions skipped (their other rows too)
    # rows that name a question read from another file (Metaculus forecasts, Manifold bets): linked at the end
    pending: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (where, row)

    def skip(self, key: str, note: str) -> None:
        """Leave a question out, saying why once (a question spans many rows)."""
        if key not in self.skipped_keys:
            self.skipped_keys.add(key)
            self.skipped.append(note)

    def question(self, q: Question) -> Question:
        """The question already read under the same key (its forecasts are added to it), else `q`."""
        return self.questions.setdefault((q.source, q.key), q)

    def raise_if_any(self, files: list[str]) -> None:
        if self.problems:
            listed = self.problems[:MAX_PROBLEMS_LISTED]
            if len(self.problems) > MAX_PROBLEMS_LISTED:
                listed.append(f"... and {len(self.problems) - MAX_PROBLEMS_LISTED} more")
            raise ValidationErrors(f"{', '.join(files)}: {len(self.problems)} problem(s), nothing imported", listed)


class _Bad(Exception):
    """One value that could not be read (its message names why); collected, never raised out."""


def read(source: str, paths: Iterable[Path], who: str) -> Peers:
    """Every question in `paths`, exported by `source`; `who` is the forecaster of a file that names
    none (Fatebook's spreadsheet). Raises `ValidationErrors` listing every problem of every file."""
    if source not in SOURCES:
        raise InputError(f"{source!r} is not a source: one of {', '.join(SOURCES)}", "from")
    files = list(paths)
    if not files:
        raise InputError("name at least one file to import", "file")
    peers = Peers()
    members: list[tuple[str, bytes]] = []
    for path in files:
        members += _open(path)
    reader = READERS[source]
    for name, data in members:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            peers.problems.append(f"{name}: line {line}: not UTF-8 text")
            continue
        reader(peers, name, text, who)
    if source == "metaculus":
        _metaculus_link(peers)
    if source == "manifold":
        _manifold_link(peers)
    if not peers.questions and not peers.skipped and not peers.problems:
        peers.problems.append(f"no {PLATFORM[source]} question in {', '.join(p.name for p in files)} (is it the right --from?)")
    peers.raise_if_any([p.name for p in files])
    for q in peers.questions.values():
        q.forecasts.sort(key=lambda f: f.at)
    return peers


def _open(path: Path) -> list[tuple[str, bytes]]:
    """The (name, bytes) of a file, or of each CSV or JSON file in a zip."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path} does not exist", "file") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a folder", "file") from None
    if not data.startswith(b"PK\x03\x04"):
        return [(path.name, data)]
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            out = []
            for info in archive.infolist():
                if info.is_dir() or not info.filename.lower().endswith((".csv", ".json")):
                    continue
                if info.file_size > MAX_FILE_BYTES:
                    raise InputError(f"{path.name}: {info.filename} is larger than {MAX_FILE_BYTES >> 20} MB unpacked", "file")
                out.append((f"{path.name}/{info.filename}", archive.read(info)))
            return out
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise InputError(f"{path.name}: not a readable zip file ({exc})", "file") from None


# -- values -------------------------------------------------------------------------------------------
def _time(raw: Any, what: str) -> dt.datetime:
    """An ISO 8601 time (space or T, with or without a zone: UTC if none), a date, or a Unix time in
    seconds or (Manifold) milliseconds; always UTC."""
    if isinstance(raw, bool) or raw is None or raw == "":
        raise _Bad(f"{what} is missing")
    if isinstance(raw, (int, float)):
        seconds = raw / 1000 if raw > 1e11 else raw
        try:
            return dt.datetime.fromtimestamp(seconds, dt.UTC)
        except (OverflowError, OSError, ValueError):
            raise _Bad(f"{raw!r} is not a time ({what})") from None
    text = str(raw).strip()
    if text.isdigit():
        return _time(int(text), what)
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _Bad(f"{text[:40]!r} is not an ISO 8601 time ({what})") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    if parsed.year < 1900 or parsed.year > 9998:
        raise _Bad(f"{text[:40]!r} is out of range ({what})")
    return parsed.astimezone(dt.UTC)


def _optional_time(raw: Any, what: str) -> dt.datetime | None:
    return None if raw is None or (isinstance(raw, str) and not raw.strip()) else _time(raw, what)


def _probability(raw: Any, what: str, percent: bool = False) -> float:
    if isinstance(raw, bool) or raw is None:
        raise _Bad(f"{what} is missing")
    text = str(raw).strip()
    percent = percent or text.endswith("%")
    try:
        value = float(text.rstrip("%").strip())
    except ValueError:
        raise _Bad(f"{text[:40]!r} is not a probability ({what})") from None
    value = value / 100 if percent else value
    if not 0 <= value <= 1:
        raise _Bad(f"{text[:40]!r} is outside 0-{'100%' if percent else '1'} ({what})")
    return value


_OUTCOMES = {"yes": "yes", "no": "no", "ambiguous": "annulled", "annulled": "annulled", "mkt": "annulled", "cancel": "annulled"}


def _outcome(raw: Any, what: str = "resolution") -> str | None:
    text = "" if raw is None else str(raw).strip().lower()
    if not text:
        return None
    if text not in _OUTCOMES:
        raise _Bad(f"{text[:40]!r} is not a resolution (yes, no, ambiguous or annulled) ({what})")
    return _OUTCOMES[text]


def _text(raw: Any, what: str) -> str:
    text = "" if raw is None else str(raw).strip()
    if not text:
        raise _Bad(f"{what} is missing")
    return text


def _day(value: dt.datetime | None) -> str | None:
    return value.date().isoformat() if value is not None else None


class _Rows:
    """A CSV's rows as dicts with their line numbers; a row with the wrong number of cells is a problem."""

    def __init__(self, peers: Peers, name: str, text: str, header: bool = True, ragged: bool = False):
        self.peers, self.name = peers, name
        self.rows: list[tuple[int, dict[str, str] | list[str]]] = []
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        self.header: list[str] = []
        try:
            line = 1
            for cells in reader:
                if not any(c.strip() for c in cells):
                    line = reader.line_num + 1
                    continue
                if header and not self.header:
                    self.header = [c.strip() for c in cells]
                elif not header:
                    self.rows.append((line, cells))
                elif ragged and len(cells) < len(self.header):  # Metaculus leaves off empty trailing cells
                    self.rows.append((line, dict(zip(self.header, cells + [""] * (len(self.header) - len(cells)), strict=True))))
                elif len(cells) != len(self.header):
                    self.problem(line, "row", f"expected {len(self.header)} columns, found {len(cells)} (a truncated file?)")
                else:
                    self.rows.append((line, dict(zip(self.header, cells, strict=True))))
                line = reader.line_num + 1
        except csv.Error as exc:
            self.problem(reader.line_num, "row", f"malformed CSV ({exc})")

    def problem(self, line: int, column: str, message: str) -> None:
        self.peers.problems.append(f"{self.name}: line {line}: {column}: {message}")

    def need(self, columns: Iterable[str]) -> bool:
        missing = [c for c in columns if c not in self.header]
        if missing:
            self.problem(1, "header", "missing column(s) " + ", ".join(repr(c) for c in missing))
        return not missing

    def read(self, line: int, column: str, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except _Bad as exc:
            self.problem(line, column, str(exc))
            return _BAD


_BAD: Any = object()


# -- Fatebook -----------------------------------------------------------------------------------------
FATEBOOK = ("Question title", "Forecast created by", "Forecast (scale = 0-1)", "Forecast created at", "Question created at",
            "Question resolve by", "Resolution", "Resolved at")  # fmt: skip


def _questions(rows: _Rows, columns: tuple[str, ...], title: str, created: str) -> Iterator[tuple[int, dict, str, dt.datetime]]:
    """Each row of a file with `columns` (a missing one is a problem) whose question's `title` and
    `created` time can be read: (line, row, title, created)."""
    if not rows.need(columns):
        return
    for line, row in rows.rows:
        assert isinstance(row, dict)
        named = rows.read(line, title, _text, row[title], "the question's title")
        when = rows.read(line, created, _time, row[created], "when the question was created")
        if named is not _BAD and when is not _BAD:
            yield line, row, named, when


def _fatebook(peers: Peers, name: str, text: str, who: str) -> None:
    rows = _Rows(peers, name, text)
    for line, row, title, created in _questions(rows, FATEBOOK, "Question title", "Question created at"):
        key = f"{title}\n{created.isoformat()}"
        if (row.get("Multiple choice option") or "").strip():
            peers.skip(key, f"{name}: line {line}: {title[:60]!r} is a multiple-choice question: skipped")
            peers.questions.pop(("fatebook", key), None)
            continue
        if key in peers.skipped_keys:
            continue
        q = peers.question(Question("fatebook", key, title, created, f"{name}: line {line}"))
        _question_fields(rows, line, q, row["Question resolve by"], row["Resolution"], row["Resolved at"],
                         row.get("Question notes"), None)  # fmt: skip
        forecaster = row["Forecast created by"].strip() or who  # a forecaster with no name there is the importer
        p = rows.read(line, "Forecast (scale = 0-1)", _probability, row["Forecast (scale = 0-1)"], "the forecast")
        at = rows.read(line, "Forecast created at", _time, row["Forecast created at"], "when the forecast was made")
        if _BAD not in (forecaster, p, at):
            q.forecasts.append(Forecast(at, p, forecaster, f"{name}: line {line}"))


def _question_fields(rows: _Rows, line: int, q: Question, resolve_by: Any, resolution: Any, resolved_at: Any,
                     notes: Any, tags: Any) -> None:  # fmt: skip
    """The fields a question repeats on each of its rows: read from the first row that has them."""
    by = rows.read(line, "resolve by", _optional_time, resolve_by, "the resolve-by date")
    if by not in (_BAD, None) and q.resolve_by is None:
        q.resolve_by = _day(by)
    outcome = rows.read(line, "resolution", _outcome, resolution)
    when = rows.read(line, "resolved at", _optional_time, resolved_at, "when it was resolved")
    if outcome not in (_BAD, None):
        q.resolution = outcome
        if when is None:
            rows.problem(line, "resolved at", "a resolved question needs the time it was resolved")
        elif when is not _BAD:
            q.resolved_at = when
    if notes and str(notes).strip() and not q.notes:
        q.notes = str(notes).strip()
    if tags and str(tags).strip() and not q.tags:
        q.tags = [t.strip() for t in str(tags).split(",") if t.strip()]


SHEET = ("questionTitle", "forecast", "qCreatedAt", "resolution")


def _fatebook_sheet(peers: Peers, name: str, text: str, who: str) -> None:
    rows = _Rows(peers, name, text)
    for line, row, title, created in _questions(rows, SHEET, "questionTitle", "qCreatedAt"):
        # Fatebook keys a spreadsheet's question by its title and qCreatedAt as written
        q = peers.question(Question("fatebook-sheet", f"{title}\n{row['qCreatedAt'].strip()}", title, created, f"{name}: line {line}"))
        _question_fields(rows, line, q, row.get("resolveBy"), row["resolution"], row.get("resolvedAt"), row.get("notes"),
                         row.get("tags"))  # fmt: skip
        if not row["forecast"].strip():
            continue  # a question with no forecast yet
        # a spreadsheet's forecast is a percentage ("70" or "70%"), as Fatebook reads it
        p = rows.read(line, "forecast", _probability, row["forecast"], "the forecast", True)
        at = rows.read(line, "fCreatedAt", _time, (row.get("fCreatedAt") or "").strip() or row["qCreatedAt"], "fCreatedAt")
        if p is not _BAD and at is not _BAD:
            q.forecasts.append(Forecast(at, p, who, f"{name}: line {line}"))


# -- Metaculus ----------------------------------------------------------------------------------------
M_QUESTIONS = ("Question ID", "Question URL", "Question Title", "Question Type", "Open Time", "Scheduled Close Time",
               "Resolution", "Resolution Known Time")  # fmt: skip
M_FORECASTS = ("Question ID", "Forecaster ID", "Forecaster Username", "Start Time", "Probability Yes")


def _metaculus(peers: Peers, name: str, text: str, who: str) -> None:
    # the download writes a row short of its header when its last cells are empty: required cells are
    # checked one by one, so a truncated row is still caught by the first one it lacks
    rows = _Rows(peers, name, text, ragged=True)
    if set(M_FORECASTS) <= set(rows.header) and "Question Type" not in rows.header:
        peers.pending.extend((f"{name}: line {line}", row) for line, row in rows.rows if isinstance(row, dict))
        return
    if not rows.need(M_QUESTIONS):
        return
    for line, row in rows.rows:
        assert isinstance(row, dict)
        qid = rows.read(line, "Question ID", _text, row["Question ID"], "the question's id")
        title = rows.read(line, "Question Title", _text, row["Question Title"], "the question's title")
        kind = row["Question Type"].strip().lower()
        if qid is _BAD or title is _BAD:
            continue
        if kind != "binary":
            peers.skip(qid, f"{name}: line {line}: question {qid} ({title[:60]!r}) is {kind or 'of no type'}: skipped")
            continue
        opened = rows.read(line, "Open Time", _time, row["Open Time"] or row.get("Post Published Time"), "the open time")
        if opened is _BAD:
            continue
        q = peers.question(Question("metaculus", qid, title, opened, f"{name}: line {line}", url=row["Question URL"].strip() or None))
        close = row["Scheduled Close Time"]
        known = row["Resolution Known Time"].strip() or row.get("Actual Close Time", "").strip()
        _question_fields(rows, line, q, close, row["Resolution"], known, None, None)
        q.tags = [t for t in _listed(row.get("Categories", ""))]


def _listed(raw: str) -> list[str]:
    """A Python-style list as the download writes it (`['Politics', 'Economy']`), as words."""
    return [t.strip().strip("'\"") for t in raw.strip().strip("[]").split(",") if t.strip().strip("'\"")]


def _metaculus_link(peers: Peers) -> None:
    """Each forecast row to its question (the two files may come in either order)."""
    for where, row in peers.pending:
        qid = row["Question ID"].strip()
        q = peers.questions.get(("metaculus", qid))
        if q is None:
            if qid not in peers.skipped_keys:
                peers.problems.append(f"{where}: Question ID: no question {qid!r} in question_data.csv")
            continue
        try:
            at = _time(row["Start Time"], "the forecast's start time")
            p = _probability(row["Probability Yes"], "Probability Yes")
        except _Bad as exc:
            peers.problems.append(f"{where}: {exc}")
            continue
        user = row["Forecaster ID"].strip()
        username = row["Forecaster Username"].strip()
        if user:
            forecaster = username or f"metaculus-user-{user}"
        else:  # an aggregate: the community prediction (recency-weighted) is the crowd
            forecaster = CROWD["metaculus"] if username in ("recency_weighted", "") else f"metaculus:{username}"
        q.forecasts.append(Forecast(at, p, forecaster, where))
    if peers.pending and not peers.questions and not peers.skipped:
        peers.problems.append("no question_data.csv among the files (the Metaculus download has two)")


# -- PredictionBook -----------------------------------------------------------------------------------
def _predictionbook(peers: Peers, name: str, text: str, who: str) -> None:
    stripped = text.lstrip()
    if not stripped.startswith(("{", "[")):
        _predictionbook_csv(peers, name, text)
        return
    doc = _json(peers, name, text)
    if doc is None:
        return
    pages = doc if isinstance(doc, list) else [doc]
    for k, page in enumerate(pages):
        path = f"[{k}]" if isinstance(doc, list) else ""
        if not isinstance(page, dict) or not isinstance(page.get("predictions"), list):
            peers.problems.append(f"{name}: {path or 'top level'}: expected an object with a 'predictions' list (api/my_predictions)")
            continue
        for i, item in enumerate(page["predictions"]):
            _pb_prediction(peers, name, f"{path}predictions[{i}]", item)


def _pb_prediction(peers: Peers, name: str, path: str, item: Any) -> None:
    def bad(key: str, message: str) -> None:
        peers.problems.append(f"{name}: {path}.{key}: {message}")

    if not isinstance(item, dict):
        peers.problems.append(f"{name}: {path}: expected an object")
        return
    try:
        qid = _text(item.get("id"), "id")
        title = _text(item.get("description"), "description")
        created = _time(item.get("created_at"), "created_at")
    except _Bad as exc:
        bad("", str(exc))
        return
    q = peers.question(Question("predictionbook", qid, title, created, f"{name}: {path}",
                                url=f"https://predictionbook.com/predictions/{qid}"))  # fmt: skip
    try:
        q.resolve_by = _day(_optional_time(item.get("deadline"), "deadline"))
    except _Bad as exc:
        bad("deadline", str(exc))
    outcome = item.get("outcome")
    if item.get("withdrawn") is True:
        q.resolution = "annulled"
    elif outcome is not None:
        if not isinstance(outcome, bool):
            bad("outcome", f"{outcome!r} is not true, false or null")
        else:
            q.resolution = "yes" if outcome else "no"
    if q.resolution is not None:
        try:  # PredictionBook records no judgement time in this API: its last change stands for it
            q.resolved_at = _time(item.get("updated_at"), "updated_at")
        except _Bad as exc:
            bad("updated_at", str(exc))
    responses = item.get("responses") or []
    if not isinstance(responses, list):
        bad("responses", "expected a list")
        return
    for j, r in enumerate(responses):
        where = f"{path}.responses[{j}]"
        if not isinstance(r, dict):
            peers.problems.append(f"{name}: {where}: expected an object")
            continue
        if r.get("confidence") is None:
            continue  # a comment, not a forecast
        try:
            at = _time(r.get("created_at"), "created_at")
            p = _probability(r.get("confidence"), "confidence", True)
            who = _text(r.get("user_label") or r.get("user_id"), "user_label")
        except _Bad as exc:
            peers.problems.append(f"{name}: {where}: {exc}")
            continue
        q.forecasts.append(Forecast(at, p, who, f"{name}: {where}"))


def _predictionbook_csv(peers: Peers, name: str, text: str) -> None:
    rows = _Rows(peers, name, text, header=False)
    for line, cells in rows.rows:
        assert isinstance(cells, list)
        if len(cells) != 8:
            rows.problem(line, "row", f"expected 8 columns (id, created, deadline, mean confidence, wagers, outcome, creator, "
                                      f"title), found {len(cells)}")  # fmt: skip
            continue
        qid, created_raw, deadline, mean, wagers, outcome, _creator, title = (c.strip() for c in cells)
        created = rows.read(line, "created", _time, created_raw, "created")
        due = rows.read(line, "deadline", _time, deadline, "deadline")
        p = rows.read(line, "mean confidence", _probability, mean, "mean confidence")
        if outcome not in ("0", "1", "2"):
            rows.problem(line, "outcome", f"{outcome[:20]!r} is not 0 (unknown), 1 (right) or 2 (wrong)")
            continue
        if not qid or not title:
            rows.problem(line, "row", "the id and the title are required")
            continue
        if _BAD in (created, due, p):
            continue
        q = peers.question(Question("predictionbook", qid, title, created, f"{name}: line {line}", resolve_by=_day(due),
                                    url=f"https://predictionbook.com/predictions/{qid}"))  # fmt: skip
        q.prior = p
        q.prior_note = (f"the mean confidence of its {wagers} wager(s) when the CSV was made (the CSV holds no dated "
                        f"forecast; import the JSON of api/my_predictions for every response)")  # fmt: skip
        if outcome != "0":
            q.resolution = "yes" if outcome == "1" else "no"
            q.resolved_at = due  # the CSV has no judgement time: the deadline stands for it


# -- Manifold -----------------------------------------------------------------------------------------


def _manifold(peers: Peers, name: str, text: str, who: str) -> None:
    doc = _json(peers, name, text)
    if doc is None:
        return
    items = doc if isinstance(doc, list) else [doc]
    for i, item in enumerate(items):
        path = f"[{i}]" if isinstance(doc, list) else "top level"
        if isinstance(item, dict) and "contractId" in item:
            peers.pending.append((f"{name}: {path}", item))
        elif isinstance(item, dict) and "outcomeType" in item:
            _manifold_market(peers, name, path, item)
        else:
            peers.problems.append(f"{name}: {path}: neither a market (outcomeType) nor a bet (contractId)")


def _manifold_market(peers: Peers, name: str, path: str, item: dict) -> None:
    try:
        mid = _text(item.get("id"), "id")
        title = _text(item.get("question"), "question")
        created = _time(item.get("createdTime"), "createdTime")
    except _Bad as exc:
        peers.problems.append(f"{name}: {path}: {exc}")
        return
    kind = str(item.get("outcomeType") or "")
    if kind != "BINARY":
        peers.skip(mid, f"{name}: {path}: market {mid} ({title[:60]!r}) is {kind or 'of no type'}: skipped")
        return
    q = peers.question(Question("manifold", mid, title, created, f"{name}: {path}", url=item.get("url") or None))
    q.notes = str(item.get("textDescription") or "").strip()
    q.tags = [str(t) for t in item.get("groupSlugs") or [] if isinstance(t, str)]
    try:
        q.resolve_by = _day(_optional_time(item.get("closeTime"), "closeTime"))
        if item.get("isResolved"):
            q.resolution = _outcome(item.get("resolution"), "resolution")
            q.resolved_at = _time(item.get("resolutionTime"), "resolutionTime")
    except _Bad as exc:
        peers.problems.append(f"{name}: {path}: {exc}")
    initial = item.get("initialProbability")
    if isinstance(initial, (int, float)) and not isinstance(initial, bool) and 0 <= initial <= 1:
        q.prior = float(initial)
        q.prior_note = "the market's opening price"


def _manifold_link(peers: Peers) -> None:
    """Each bet to its market: the price after it is the crowd's forecast at that time."""
    first: dict[str, tuple[dt.datetime, float]] = {}
    for where, bet in peers.pending:
        q = peers.questions.get(("manifold", str(bet.get("contractId"))))
        if q is None:
            if str(bet.get("contractId")) not in peers.skipped_keys:
                peers.problems.append(f"{where}: contractId: no market {bet.get('contractId')!r} among the files")
            continue
        try:
            at = _time(bet.get("createdTime"), "createdTime")
            p = _probability(bet.get("probAfter"), "probAfter")
            before = _probability(bet.get("probBefore"), "probBefore")
        except _Bad as exc:
            peers.problems.append(f"{where}: {exc}")
            continue
        if q.key not in first or at < first[q.key][0]:
            first[q.key] = (at, before)
        q.forecasts.append(Forecast(at, p, CROWD["manifold"], where))
    for key, (_at, before) in first.items():
        q = peers.questions[("manifold", key)]
        if q.prior is None:
            q.prior, q.prior_note = before, "the market's price before its first bet"


def _json(peers: Peers, name: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        peers.problems.append(f"{name}: line {exc.lineno}: not valid JSON ({exc.msg}; a truncated file?)")
        return None


READERS: dict[str, Callable[[Peers, str, str, str], None]] = {
    "fatebook": _fatebook, "fatebook-sheet": _fatebook_sheet, "metaculus": _metaculus, "predictionbook": _predictionbook,
    "manifold": _manifold,
}  # fmt: skip


# -- questions -> drafts and rows ---------------------------------------------------------------------
def proposition_id(q: Question) -> str:
    """A readable, stable id: the title as a slug, then six hex digits of the platform and key (so two
    questions with one title stay apart, and importing again finds the same id)."""
    ascii_title = unicodedata.normalize("NFKD", q.title).encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+", ascii_title)
    slug = ""
    for w in words:
        if len(slug) + len(w) + 1 > 48:
            break
        slug = f"{slug}-{w}" if slug else w
    digest = hashlib.sha256(f"{q.platform}\n{q.key}".encode()).hexdigest()[:6]
    return f"{slug or 'question'}-{digest}"


def opened(q: Question) -> str:
    """The question's first day: when it was created (or its first forecast, if that came earlier)."""
    first = min([q.created, *(f.at for f in q.forecasts)])
    return first.date().isoformat()


def resolve_by(q: Question) -> str:
    """Its resolve-by date; failing that, the day it resolved; always after it opened (a question
    created and due on one day is due the next)."""
    start = opened(q)
    due = q.resolve_by or _day(q.resolved_at) or start
    return due if due > start else (dt.date.fromisoformat(start) + dt.timedelta(days=1)).isoformat()


def prior(q: Question) -> tuple[float, str]:
    """(the prior, where it comes from): the first forecast (an analyst's before the crowd's)."""
    if q.prior is not None:
        return q.prior, q.prior_note or "the platform's first price"
    own = [f for f in q.forecasts if not is_benchmark(f.forecaster)] or q.forecasts
    if not own:
        return 0.5, f"no forecast on {q.platform}: an even chance"
    first = own[0]
    return first.probability, f"the first forecast on {q.platform} ({first.forecaster}, {first.at.date().isoformat()})"


def draft(q: Question) -> dict[str, Any]:
    """The catalog entry of a question (`origin: analyst`, `decay: none`: a peer's forecast holds
    until its forecaster changes it, as on the platform)."""
    p, note = prior(q)
    criteria = f"As the question resolves on {q.platform}" + (f" ({q.url})" if q.url else "") + "."
    if q.notes:
        criteria += f" Its notes there: {q.notes}"
    source: dict[str, Any] = {"title": f"{q.platform}: {q.title}", "publisher": q.platform, "published": q.created.date().isoformat()}
    if q.url:
        source["url"] = q.url
    tags = [q.source.split("-")[0], *(t for t in q.tags if t)]
    return {
        "proposition": {
            "id": proposition_id(q),
            "statement": q.title,
            "question": q.title,
            "resolution_criteria": criteria,
            "opened": opened(q),
            "resolve_by": resolve_by(q),
            "origin": "analyst",
            "prior": round(min(max(p, 0.001), 0.999), 6),
            "prior_phrase": note,
            "decay": "none",
            "source": source,
            "tags": list(dict.fromkeys(tags)),
        },
        "indicators": [],
    }


def daily_last(q: Question) -> list[Forecast]:
    """One forecast per forecaster per day (UTC): the day's last, in time order."""
    last: dict[tuple[str, str], Forecast] = {}
    for f in sorted(q.forecasts, key=lambda f: f.at):
        last[(f.forecaster, f.at.date().isoformat())] = f
    return sorted(last.values(), key=lambda f: (f.at, f.forecaster))


def crowd_names(peers: Peers) -> list[str]:
    """The benchmarks (crowds) whose numbers the files hold."""
    return sorted({f.forecaster for q in peers.questions.values() for f in q.forecasts if is_benchmark(f.forecaster)})
