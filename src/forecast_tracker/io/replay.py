"""A definitions export read back (`import definitions.json`): every part checked, then replayed into a
database synced from the same catalog, before the propositions it names have any record.

A catalog holds only today's definitions; the versions in force on earlier days, the restatements and
the retirements live in the database. `export definitions` writes them, and this replays them, so an
exported record imports into a fresh database with every past number as it was. A proposition whose
stored definitions already equal the file's is left alone (importing twice adds nothing); one whose
definitions differ and that already has observations, updates or resolutions is refused, since
replacing its versions would move numbers already shown.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from .. import store
from ..catalog import CHOICES, KINDS, SLUG
from ..dates import parse_timestamp
from ..definitions import INDICATOR_VERSIONED, PROPOSITION_VERSIONED
from ..errors import InputError, ValidationErrors
from ..probability import check_ratio
from ..validate import joined_surrogates
from .exporting import DEFINITIONS_FORMAT

MAX_BYTES = 64 * 1024 * 1024  # a definitions file of 10,000 propositions is a few MB
ENTRY_KEYS = ("id", "criteria_version", *store.DEFINITION_PARTS)
MAX_LISTED = 200


def looks_like_definitions(path: Path) -> bool:
    """Whether a file to import is JSON (a definitions export) rather than CSV: its first non-blank byte is `{`."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError:
        return False  # the CSV reader says what is wrong with it
    return head.startswith(b"{")


def read(path: Path) -> dict[str, Any]:
    """The file as JSON, with one clear error for a file that is not a definitions export."""
    if path.stat().st_size > MAX_BYTES:
        raise InputError(f"{path.name}: larger than {MAX_BYTES // 2**20} MiB; not a definitions export")
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InputError(f"{path.name}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path.name}: line {exc.lineno}: not JSON ({exc.msg})") from None
    except RecursionError:
        raise InputError(f"{path.name}: nested too deeply to be a definitions export") from None
    if not isinstance(data, dict) or data.get("format") != DEFINITIONS_FORMAT:
        raise InputError(f'{path.name}: not a definitions export (expected "format": "{DEFINITIONS_FORMAT}")')
    if data.get("version") != 1:
        raise InputError(f"{path.name}: definitions format version {data.get('version')!r} is not 1 (a newer release wrote it?)")
    if not isinstance(data.get("propositions"), list):
        raise InputError(f'{path.name}: "propositions" must be a list')
    return data


class _Checker:
    """Every problem of one entry, under its path in the file (`propositions[2].versions[0].effective`)."""

    def __init__(self, problems: list[str]):
        self.problems = problems

    def add(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def fields(self, row: Any, where: str, keys: tuple[str, ...]) -> bool:
        if not isinstance(row, dict):
            self.add(where, "must be an object")
            return False
        if set(row) != set(keys):
            self.add(where, f"expected the keys {', '.join(keys)}")
            return False
        return True

    def text(self, value: Any, where: str, required: bool = True, limit: int = 10_000) -> None:
        if not isinstance(value, str) or (required and not value.strip()):
            self.add(where, "must be text" + (" (not empty)" if required else ""))
        elif len(value) > limit:
            self.add(where, f"{len(value)} characters is longer than the {limit} allowed")
        elif "\x00" in value:
            self.add(where, "contains a NUL character")
        elif joined_surrogates(value) != value:
            self.add(where, "holds a UTF-16 surrogate (\\ud800-\\udfff), which is not text")

    def day(self, value: Any, where: str, optional: bool = False) -> None:
        if value is None and optional:
            return
        import datetime as dt

        try:
            if not isinstance(value, str) or len(value) != 10:
                raise ValueError
            dt.date.fromisoformat(value)
        except ValueError:
            self.add(where, f"{str(value)[:40]!r} is not an ISO date (YYYY-MM-DD)")

    def time(self, value: Any, where: str, optional: bool = False) -> None:
        if value is None and optional:
            return
        try:
            if not isinstance(value, str):
                raise InputError("must be an ISO 8601 time")
            parse_timestamp(value, "recorded_at")
        except InputError as exc:
            self.add(where, exc.message)

    def content(self, kind: str, content: Any, where: str) -> None:
        """A version's keys: what the catalog would accept for them."""
        keys = INDICATOR_VERSIONED if kind == "indicator" else PROPOSITION_VERSIONED
        if not isinstance(content, dict) or not set(content) <= set(keys) or (kind == "indicator" and set(content) != set(keys)):
            self.add(where, f"expected the keys {', '.join(keys)}")
            return
        for key, value in content.items():
            at = f"{where}.{key}"
            if key in ("likelihood_ratio", "likelihood_ratio_if_not_met", "threshold"):
                if value is None and key != "likelihood_ratio":
                    continue
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                    self.add(at, f"expected a number, got {_shown(value)}")
                elif key != "threshold":
                    try:
                        check_ratio(value, key)
                    except InputError as exc:
                        self.add(at, exc.message)
            elif key == "kind":
                if value not in KINDS:
                    self.add(at, f"{_shown(value)} is not one of {', '.join(KINDS)}")
            elif key == "group_name":
                if value is not None and (not isinstance(value, str) or not SLUG.match(value)):
                    self.add(at, f"{_shown(value)} is not a slug")
            elif value is not None or key in PROPOSITION_VERSIONED:
                if value not in CHOICES[key]:
                    self.add(at, f"{_shown(value)} is not one of {', '.join(CHOICES[key])}")


def _shown(value: Any) -> str:
    """A value of the file as JSON writes it (`true`, `"weather"`), cut short."""
    return json.dumps(value, default=str)[:40]


def _check_entry(c: _Checker, entry: Any, where: str, known: dict[str, set[str]]) -> bool:
    """Whether an entry is well formed, every problem recorded. `known`: proposition -> its indicators."""
    if not c.fields(entry, where, ENTRY_KEYS):
        return False
    pid = entry["id"]
    if not isinstance(pid, str) or pid not in known:
        c.add(f"{where}.id", f"unknown proposition {str(pid)[:80]!r} (sync the catalog the export was made from first)")
        return False
    before = len(c.problems)
    version = entry["criteria_version"]
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= 1_000_000:
        c.add(f"{where}.criteria_version", "must be a whole number >= 1")
    for part in store.DEFINITION_PARTS:
        if not isinstance(entry[part], list):
            c.add(f"{where}.{part}", "must be a list")
            continue
        for n, row in enumerate(entry[part]):
            _check_row(c, part, row, f"{where}.{part}[{n}]", pid, known[pid])
    return len(c.problems) == before


ROW_KEYS = {
    "revisions": ("kind", "id", "fingerprint", "content", "recorded_at"),
    "versions": ("kind", "id", "effective", "content", "recorded_at", "withdrawn_at"),
    "restatements": ("subject", "key", "old", "new", "effective", "reason", "recorded_at"),
    "retirements": ("indicator", "reason", "recorded_at"),
}


def _check_row(c: _Checker, part: str, row: Any, at: str, pid: str, indicators: set[str]) -> None:
    """One row of an entry's part, every problem recorded under `at`."""
    if not c.fields(row, at, ROW_KEYS[part]):
        return
    if part in ("revisions", "versions"):
        kind, ref = row["kind"], row["id"]
        if not isinstance(kind, str) or not isinstance(ref, str):
            c.add(at, "kind and id must be text")
            return
        if kind not in ("proposition", "indicator"):
            c.add(f"{at}.kind", f"{kind[:40]!r} is not one of proposition, indicator")
            return
        if (kind == "proposition" and ref != pid) or (kind == "indicator" and ref not in indicators):
            c.add(f"{at}.id", f"{ref[:80]!r} is not {'this proposition' if kind == 'proposition' else f'an indicator of {pid}'}")
            return
    if part == "revisions":
        if not isinstance(row["fingerprint"], str) or not re.fullmatch(r"[0-9a-f]{1,64}", row["fingerprint"]):
            c.add(f"{at}.fingerprint", "must be up to 64 hexadecimal digits")
        if not isinstance(row["content"], dict):
            c.add(f"{at}.content", "must be an object")
    elif part == "versions":
        c.day(row["effective"], f"{at}.effective")
        c.content(row["kind"], row["content"], f"{at}.content")
        c.time(row["withdrawn_at"], f"{at}.withdrawn_at", optional=True)
    elif part == "restatements":
        if not isinstance(row["subject"], str) or row["subject"] not in ({pid, "model"} | indicators):
            c.add(f"{at}.subject", f"{str(row['subject'])[:80]!r} is neither {pid}, one of its indicators nor model")
        c.text(row["key"], f"{at}.key")
        c.text(row["old"], f"{at}.old", required=False, limit=100_000)
        c.text(row["new"], f"{at}.new", required=False, limit=100_000)
        c.day(row["effective"], f"{at}.effective", optional=True)
        c.text(row["reason"], f"{at}.reason", required=False)
    else:
        if not isinstance(row["indicator"], str) or row["indicator"] not in indicators:
            c.add(f"{at}.indicator", f"{str(row['indicator'])[:80]!r} is not an indicator of {pid}")
        c.text(row["reason"], f"{at}.reason")
    c.time(row["recorded_at"], f"{at}.recorded_at")


def _latest_fingerprints(revisions: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    return {(r["kind"], r["id"]): r["fingerprint"] for r in revisions}  # later revisions replace earlier ones


def replay(conn: Connection, path: Path) -> tuple[int, int]:
    """Check a definitions file whole, then replay it: (propositions replayed, propositions already as
    the file has them). On any problem nothing is written (the caller's transaction rolls back)."""
    data = read(path)
    known: dict[str, set[str]] = {pid: set() for pid in store.proposition_ids(conn)}
    for ind in store.all_indicators(conn):
        known[ind.proposition_id].add(ind.id)
    problems: list[str] = []
    c = _Checker(problems)
    valid, seen = [], set()
    for n, entry in enumerate(data["propositions"]):
        where = f"propositions[{n}]"
        if _check_entry(c, entry, where, known):
            if entry["id"] in seen:
                c.add(f"{where}.id", f"{entry['id']} appears twice")
                continue
            seen.add(entry["id"])
            valid.append((where, entry))
    stored = store.definition_record(conn, [entry["id"] for _, entry in valid]) if valid else {}
    to_write, unchanged = [], 0
    for where, entry in valid:
        pid, mine = entry["id"], stored[entry["id"]]
        entry = {**entry, **_times(entry)}  # times as the database stores them, so an equal entry compares equal
        if _normal(entry) == _normal(mine):
            unchanged += 1
            continue
        theirs, ours = _latest_fingerprints(entry["revisions"]), _latest_fingerprints(mine["revisions"])
        differs = sorted(f"{kind} {ref}" for kind, ref in set(theirs) | set(ours) if theirs.get((kind, ref)) != ours.get((kind, ref)))
        if differs:
            c.add(where, f"{pid}: the database's definition of {', '.join(differs[:5])} is not the file's latest "
                         "(sync the catalog the export was made from)")  # fmt: skip
        elif store.has_record(conn, pid):
            c.add(where, f"{pid}: its stored definitions differ from the file's and it already has observations, updates "
                         "or resolutions; replay definitions before the rest of the record")  # fmt: skip
        else:
            to_write.append(entry)
    if problems:
        listed = problems[:MAX_LISTED] + ([f"... and {len(problems) - MAX_LISTED} more"] if len(problems) > MAX_LISTED else [])
        raise ValidationErrors(f"{path.name}: {len(problems)} problem(s), nothing imported", listed)
    for entry in to_write:
        store.replace_definition_record(conn, entry, sorted(known[entry["id"]]))
    return len(to_write), unchanged


def _normal(entry: dict[str, Any]) -> str:
    return json.dumps({k: entry[k] for k in ENTRY_KEYS}, sort_keys=True)


def _times(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry's parts with every time as stored (UTC, ISO 8601)."""
    out: dict[str, Any] = {}
    for part in store.DEFINITION_PARTS:
        rows = []
        for row in entry[part]:
            row = {**row, "recorded_at": parse_timestamp(row["recorded_at"], "recorded_at")}
            if row.get("withdrawn_at") is not None:
                row["withdrawn_at"] = parse_timestamp(row["withdrawn_at"], "withdrawn_at")
            rows.append(row)
        out[part] = rows
    return out
