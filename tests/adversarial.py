"""The adversarial pass: every command's every argument, every import column, every catalog key and every
web form field, each given every hostile value, checked against what a user is promised.

    python tests/adversarial.py              # the whole pass on SQLite, and on PostgreSQL when
                                             # FORECAST_TRACKER_TEST_PG names a server; prints the figures
    python tests/adversarial.py --sample 4   # four hostile values per slot (what the test suite runs)

An attack is one call. It fails when: a traceback or an exception reaches the caller; the exit code is
neither 0 nor 2 (1 is "anything else": a crash the code did not recognise as bad input); an exit 2
does not start its first line with "error: ", has a line longer than 500 characters, or leaves the
database different from before (every row of every table compared); a table printed for a terminal
holds an escape sequence or a bidirectional override; a web request gets a 5xx, or a 4xx that changed
the database. Counted by attack, with the first failures listed. Bounded by count, never by time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from conftest import GADGET, WIDGET  # noqa: E402

HOSTILE: list[str] = [
    "", " ", "\x00", "a\x00b", "two\nlines", "\r", "\t", "\x1b[31mred\x1b[0m", "\u202eevil\u202c", "\u200b", "x" * 20_000,
    "-1", "0", "1e308", "-1e308", "nan", "inf", "-inf", "1e-320", "9223372036854775808", "9" * 40, "0x1F", "1_000",
    "\u0661\u0662", "\u00b2", "\u00bd", "\uff11", "0001-01-01", "9999-12-31", "2025-02-29", "2025-W05-1", "20250201",
    "+2025-01-01", "2025-01-01T25:00", "'; DROP TABLE observation; --", "../../../etc/passwd", "%s%s%n", "{{7*7}}",
    "<script>alert(1)</script>", "${HOME}", "-", "--", "\ufeffbom", "e\u0301", "\U0001f642", "\ud800", "yes", "NULL", "[]", "{}",
]  # fmt: skip
SAFE_PATHS = ["", "\x00", "x" * 5_000, "a\nb", "empty.csv", ".", "no/such/folder/x", "-"]  # for output paths: never outside the folder

BASE_ROWS = [
    ("observe", "widget-factory-built", "--date", "2025-02-03", "--source", "press", "--apply"),
    ("observe", "widget-orders", "--value", "500", "--date", "2025-03-01", "--source", "shop"),
    ("observe", "gadget-sales", "--value", "80", "--date", "2025-03-12", "--source", "stats", "--apply"),
    ("update", "gadget-ban", "0.3", "--date", "2025-04-01", "--rationale", "in committee"),
]

# Each template has one slot, `{}`: the argument the attack replaces. `P` marks an output path.
TEMPLATES: list[tuple[str, ...]] = [
    ("observe", "{}", "--source", "s"),
    ("observe", "widget-orders", "--value", "{}", "--source", "s"),
    ("observe", "widget-factory-built", "--source", "{}"),
    ("observe", "widget-factory-built", "--source", "s", "--note", "{}"),
    ("observe", "widget-factory-built", "--source", "s", "--date", "{}"),
    ("observe", "widget-factory-built", "--source", "s", "--apply", "--by", "{}"),
    ("observe", "widget-orders", "--value", "{}", "--source", "s", "--dry-run"),
    ("update", "widget-launch", "{}", "--rationale", "r"),
    ("update", "{}", "0.5", "--rationale", "r"),
    ("update", "widget-launch", "0.5", "--rationale", "{}"),
    ("update", "widget-launch", "0.5", "--rationale", "r", "--date", "{}"),
    ("update", "widget-launch", "0.5", "--rationale", "r", "--new-forecaster", "--by", "{}"),
    ("resolve", "widget-launch", "{}", "--source", "s"),
    ("resolve", "{}", "yes", "--source", "s"),
    ("resolve", "widget-launch", "yes", "--source", "{}"),
    ("resolve", "widget-launch", "yes", "--source", "s", "--date", "{}"),
    ("resolve", "widget-launch", "yes", "--source", "s", "--note", "{}"),
    ("retract", "observation", "{}", "--reason", "r"),
    ("retract", "{}", "1", "--reason", "r"),
    ("retract", "observation", "1", "--reason", "{}"),
    ("amend", "observation", "{}", "--date", "2025-03-02", "--reason", "r"),
    ("amend", "observation", "2", "--value", "{}", "--reason", "r"),
    ("amend", "observation", "2", "--date", "{}", "--reason", "r"),
    ("amend", "observation", "2", "--source", "{}", "--reason", "r"),
    ("amend", "observation", "2", "--note", "x", "--reason", "{}"),
    ("apply", "{}"),
    ("apply", "--pending", "--before", "{}"),
    ("apply", "--pending", "--indicator", "{}"),
    ("retire", "indicator", "{}", "--reason", "r"),
    ("retire", "indicator", "widget-recall", "--reason", "{}"),
    ("list", "--as-of", "{}"),
    ("list", "--since", "{}"),
    ("list", "--status", "{}"),
    ("list", "--tag", "{}"),
    ("list", "--by", "{}"),
    ("list", "--pool", "{}"),
    ("list", "--format", "{}"),
    ("show", "{}"),
    ("show", "widget-launch", "--as-of", "{}"),
    ("show", "widget-launch", "--pool", "{}"),
    ("show", "--matrix", "--tag", "{}"),
    ("history", "{}"),
    ("history", "gadget-ban", "--as-of", "{}"),
    ("history", "gadget-ban", "--by", "{}"),
    ("review", "--as-of", "{}"),
    ("review", "--format", "{}"),
    ("score", "--as-of", "{}"),
    ("score", "--by", "{}"),
    ("score", "--pool", "{}"),
    ("score", "--format", "{}"),
    ("report", "--month", "{}", "--out", "r"),
    ("report", "--from", "{}", "--to", "2025-03", "--out", "r"),
    ("report", "--month", "2025-03", "--out", "P{}"),
    ("report", "--month", "2025-03", "--by", "{}", "--out", "r"),
    ("export", "{}"),
    ("export", "observations", "--format", "{}"),
    ("export", "observations", "--out", "P{}"),
    ("export", "definitions", "--out", "P{}"),
    ("extract", "outlook.txt", "--author", "{}"),
    ("extract", "outlook.txt", "--published", "{}"),
    ("extract", "outlook.txt", "--scale", "{}"),
    ("extract", "outlook.txt", "--out", "P{}"),
    ("sync", "--catalog", "P{}"),
    ("sync", "--restate", "--reason", "{}"),
    ("db", "rebuild-cache", "{}"),
    ("{}",),
]

# An import file per (kind, column): the column's cell replaced by the hostile value.
IMPORT_ROWS = {
    "observations": ("indicator,observed_on,value,source,note", ["widget-orders", "2025-03-05", "1200", "src", "n"]),
    "updates": ("proposition,as_of,probability,rationale,forecaster", ["widget-launch", "2025-03-05", "0.6", "r", "ana"]),
    "resolutions": ("proposition,outcome,resolved_on,source,note", ["gadget-ban", "no", "2025-06-01", "court", "n"]),
    "exported": (
        "indicator,observed_on,value,source,note,id,recorded_at,retracted,applied_by,applied_at,amends,criteria_version",
        ["widget-orders", "2025-03-05", "1200", "src", "n", "9", "2025-03-05T00:00:00Z", "", "ana", "2025-03-05T00:00:00Z", "", "1"],
    ),
    "resolutions-supersedes": (
        "proposition,outcome,resolved_on,source,note,supersedes",
        ["gadget-ban", "no", "2025-06-01", "court", "n", "1"],
    ),
}
CATALOG_KEYS = [  # (text in WIDGET to replace, a template of what replaces it)
    ("statement: The widget launches.", "statement: {}"),
    ("prior: likely", "prior: {}"),
    ("opened: 2025-01-01", "opened: {}"),
    ("resolve_by: 2026-06-30", "resolve_by: {}"),
    ("likelihood_ratio: 3", "likelihood_ratio: {}"),
    ("threshold: 1000", "threshold: {}"),
    ("kind: count", "kind: {}"),
    ("decay: none", "decay: {}"),
    ("id: widget-orders", "id: {}"),
    ("tags: [widgets]", "tags: [{}]"),
]
WEB_FIELDS = [  # (path, the form's fields, the field attacked)
    ("/propositions/widget-launch/observe", {"indicator": "widget-orders", "date": "2025-03-05", "value": "1200", "source": "s", "note": ""}),
    ("/propositions/widget-launch/update", {"probability": "0.6", "date": "2025-03-05", "rationale": "r"}),
    ("/propositions/gadget-ban/resolve", {"outcome": "no", "date": "2025-06-01", "source": "court", "note": ""}),
    ("/propositions/widget-launch/retract", {"kind": "observation", "id": "1", "reason": "r"}),
    ("/propositions/widget-launch/amend", {"id": "2", "value": "1300", "date": "", "source": "", "note": "", "reason": "r"}),
]


@dataclass
class Tally:
    attacks: int = 0
    failures: list[str] = field(default_factory=list)
    by_face: dict[str, int] = field(default_factory=dict)

    def count(self, face: str) -> None:
        self.attacks += 1
        self.by_face[face] = self.by_face.get(face, 0) + 1

    def fail(self, what: str, why: str) -> None:
        self.failures.append(f"{what[:160]!r}: {why[:300]}")


def values(sample: int | None, slot: int) -> list[str]:
    """Every hostile value, or `sample` of them, a different few for each slot (a fixed rotation)."""
    if sample is None:
        return HOSTILE
    start = (slot * 7) % len(HOSTILE)
    return [HOSTILE[(start + k * 5) % len(HOSTILE)] for k in range(sample)]


class Backend:
    """A database to attack and a way to read every row of it."""

    def __init__(self, url: str, folder: Path):
        self.url, self.folder = url, folder
        self.engine = None  # one engine for every comparison of a PostgreSQL database (made at first use)

    def rows(self) -> dict[str, list[str]]:
        if "://" not in self.url:  # a SQLite file
            conn = sqlite3.connect(f"file:{self.url}?mode=ro", uri=True)
            try:
                names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
                return {n: sorted(map(repr, conn.execute(f'SELECT * FROM "{n}"'))) for n in names if n != "track_cache"}
            finally:
                conn.close()
        from sqlalchemy import create_engine, inspect, text
        from sqlalchemy.pool import NullPool  # no connection stays open to block the database's drop

        if self.engine is None:
            self.engine = create_engine(self.url, poolclass=NullPool)
        with self.engine.connect() as conn:
            names = sorted(n for n in inspect(conn).get_table_names() if n != "track_cache")
            return {n: sorted(map(repr, conn.execute(text(f'SELECT * FROM "{n}"')))) for n in names}  # type: ignore[misc]


def _cli_runner():
    from typer.testing import CliRunner

    from forecast_tracker.cli import app

    runner = CliRunner()

    def run(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
        result = runner.invoke(app, args, env=env, catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    return run


def _judge(tally: Tally, what: str, code: int, out: str, err: str, changed: bool, terminal: bool) -> None:
    if code not in (0, 2):
        tally.fail(what, f"exit {code}: {err.strip()[:200]}")
    elif code == 2:
        lines = err.strip().splitlines()
        if not lines or not lines[0].startswith("error: "):
            tally.fail(what, f"exit 2 without an 'error: ' line: {err[:200]!r}")
        elif any(len(line) > 500 for line in lines):
            tally.fail(what, "an error line longer than 500 characters")
        elif changed:
            tally.fail(what, "exit 2 but the database changed")
    if "Traceback" in err:
        tally.fail(what, "a traceback reached the user")
    if code == 0 and terminal and ("\x1b" in out or "\u202e" in out):
        tally.fail(what, "an escape sequence or a bidirectional override reached the terminal")


def _attack(tally: Tally, face: str, what: str, backend: Backend, call: Callable[[], tuple[int, str, str]], terminal: bool) -> int | None:
    """One attack: `call()` judged against the promises, the database compared before and after. The
    exit code, or None when the call raised."""
    before = backend.rows()
    tally.count(face)
    try:
        code, out, err = call()
    except BaseException as exc:  # noqa: BLE001 - a crash is what the pass looks for
        tally.fail(what, f"{type(exc).__name__}: {exc}")
        return None
    _judge(tally, what, code, out, err, code == 2 and backend.rows() != before, terminal)
    return code


def attack_cli(tally: Tally, backend: Backend, sample: int | None) -> None:
    run = _cli_runner()
    env = {"FORECAST_TRACKER_DB": backend.url, "FORECAST_TRACKER_USER": "tester", "COLUMNS": "200"}
    for slot, template in enumerate(TEMPLATES):
        hostile = values(sample, slot)
        for value in hostile:
            args = []
            for part in template:
                if part == "P{}":
                    args.append(SAFE_PATHS[hash(value) % len(SAFE_PATHS)] if value not in SAFE_PATHS else value)
                else:
                    args.append(part.replace("{}", value))
            terminal = "json" not in args and "csv" not in args and template[0] not in ("export", "extract")
            _attack(tally, "cli", " ".join(args), backend, lambda args=args: run(args, env), terminal)


def attack_imports(tally: Tally, backend: Backend, sample: int | None) -> None:
    run = _cli_runner()
    env = {"FORECAST_TRACKER_DB": backend.url, "FORECAST_TRACKER_USER": "tester"}
    slot = 100
    for kind, (header, row) in IMPORT_ROWS.items():
        for column in range(len(row)):
            slot += 1
            for n, value in enumerate(values(sample, slot)):
                cells = list(row)
                cells[column] = value
                path = backend.folder / f"attack-{kind}-{column}-{n}.csv"
                quoted = ['"' + c.replace('"', '""') + '"' for c in cells]
                path.write_text(header + "\n" + ",".join(quoted) + "\n", encoding="utf-8", errors="surrogatepass")
                what = f"import {kind} {header.split(',')[column]}={value}"
                _attack(tally, "import", what, backend, lambda path=path: run(["import", str(path)], env), False)
    # definitions files: each part's each field
    code, out, _ = run(["export", "definitions"], env)
    exported = json.loads(out)
    entry = next(p for p in exported["propositions"] if p["id"] == "widget-launch")
    version = next(v for v in entry["versions"] if v["kind"] == "indicator")
    for key in [*version["content"], "effective", "recorded_at", "kind", "id"]:
        slot += 1
        for n, value in enumerate(values(sample, slot)):
            copy = json.loads(json.dumps(exported))
            target = next(v for v in next(p for p in copy["propositions"] if p["id"] == "widget-launch")["versions"] if v["kind"] == "indicator")
            for attempt in (value, _number(value)):
                (target["content"] if key in version["content"] else target)[key] = attempt
                path = backend.folder / f"attack-definitions-{key}-{n}.json"
                path.write_text(json.dumps(copy))
                what = f"import definitions {key}={attempt!r}"
                _attack(tally, "import", what, backend, lambda path=path: run(["import", str(path)], env), False)


def _number(value: str):
    """The hostile value as JSON would carry a number, where it reads as one."""
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        return value


def attack_catalog(tally: Tally, backend: Backend, sample: int | None) -> None:
    run = _cli_runner()
    env = {"FORECAST_TRACKER_DB": backend.url, "FORECAST_TRACKER_USER": "tester"}
    slot = 300
    for old, new in CATALOG_KEYS:
        slot += 1
        for n, value in enumerate(values(sample, slot)):
            folder = backend.folder / f"catalog-{slot}-{n}"
            folder.mkdir()
            scalar = json.dumps(value)  # a YAML double-quoted scalar: every value is representable
            assert old in WIDGET
            (folder / "widget-launch.yaml").write_text(WIDGET.replace(old, new.format(scalar), 1), encoding="utf-8")
            (folder / "gadget-ban.yaml").write_text(GADGET, encoding="utf-8")
            code = _attack(tally, "catalog", f"sync {new.format(scalar)}", backend,
                           lambda folder=folder: run(["sync", "--catalog", str(folder)], env), True)  # fmt: skip
            shutil.rmtree(folder)
            if code == 0:  # put the catalog back as it was, so the next attack meets the same record
                restore = backend.folder / "catalog"
                run(["sync", "--catalog", str(restore), "--restate", "--reason", "the adversarial pass put it back"], env)


def _sendable(value: str) -> bool:
    """Whether a client can send `value` at all: a lone surrogate has no UTF-8, so no request holds one."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def attack_web(tally: Tally, backend: Backend, sample: int | None) -> None:
    try:
        from fastapi.testclient import TestClient
    except ImportError:
        return
    from forecast_tracker.web.app import create_app
    from forecast_tracker.web.security import parse_auth

    app = create_app(backend.url, parse_auth(None), backend.folder / "scorecards")
    slot = 400
    with TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False) as client:
        page = client.get("/propositions/widget-launch")
        token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0] if 'name="csrf" value="' in page.text else ""
        for path, form in WEB_FIELDS:
            for name in form:
                slot += 1
                for value in values(sample, slot):
                    if not _sendable(value):
                        continue
                    data = {**form, name: value, "csrf": token}
                    before = backend.rows()
                    what = f"POST {path} {name}={value}"
                    try:
                        response = client.post(path, data=data)
                    except BaseException as exc:  # noqa: BLE001
                        tally.count("web")
                        tally.fail(what, f"{type(exc).__name__}: {exc}")
                        continue
                    tally.count("web")
                    if response.status_code >= 500:
                        tally.fail(what, f"HTTP {response.status_code}")
                    elif 400 <= response.status_code < 500 and backend.rows() != before:
                        tally.fail(what, f"HTTP {response.status_code} but the database changed")
            for value in filter(_sendable, values(sample, slot + 50)):
                slot += 1
                body = {"proposition": "widget-launch", "probability": value, "rationale": "r"}
                tally.count("web")
                response = client.post("/api/updates", json=body)
                if response.status_code >= 500:
                    tally.fail(f"POST /api/updates probability={value}", f"HTTP {response.status_code}")


def prepare(folder: Path, url: str | None) -> Backend:
    """A database holding the test catalog and a few rows (so ids 1-3 exist), and the files attacks name."""
    from forecast_tracker.api import Tracker

    catalog = folder / "catalog"
    catalog.mkdir()
    (catalog / "widget-launch.yaml").write_text(WIDGET)
    (catalog / "gadget-ban.yaml").write_text(GADGET)
    (folder / "empty.csv").write_text("")
    (folder / "outlook.txt").write_text("Growth is likely to slow next year.\nA deal is unlikely before 2027.\n")
    url = url or str(folder / "attack.db")
    with Tracker(url, create=True) as tracker:
        tracker.sync(catalog)
    run = _cli_runner()
    env = {"FORECAST_TRACKER_DB": url, "FORECAST_TRACKER_USER": "tester"}
    for args in BASE_ROWS:
        code, _, err = run([*args[:1], *(["--new-forecaster"] if args[0] == "update" else []), *args[1:]], env)
        assert code == 0, (args, err)
    return Backend(url, folder)


FACES: list[Callable[[Tally, Backend, int | None], None]] = [attack_cli, attack_imports, attack_catalog, attack_web]


def run_pass(url: str | None = None, sample: int | None = None) -> Tally:
    """One whole pass on one database (`url`: a PostgreSQL database; None: a new SQLite file)."""
    tally = Tally()
    folder = Path(tempfile.mkdtemp(prefix="ft-adversarial-"))
    cwd = os.getcwd()
    try:
        os.chdir(folder)
        backend = prepare(folder, url)
        for face in FACES:
            face(tally, backend, sample)
        if url is None:
            check = sqlite3.connect(folder / "attack.db").execute("PRAGMA integrity_check").fetchone()[0]
            if check != "ok":
                tally.fail("integrity_check", check)
    finally:
        os.chdir(cwd)
        shutil.rmtree(folder, ignore_errors=True)
    return tally


def _postgres_database() -> Iterator[str]:
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin_url = os.environ["FORECAST_TRACKER_TEST_PG"]
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"ft_adversarial_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=None, help="hostile values per slot (default: every one)")
    args = parser.parse_args()
    results = {"sqlite": run_pass(None, args.sample)}
    if os.environ.get("FORECAST_TRACKER_TEST_PG"):
        for url in _postgres_database():
            results["postgresql"] = run_pass(url, args.sample)
    for name, tally in results.items():
        faces = ", ".join(f"{face} {n:,}" for face, n in tally.by_face.items())
        print(f"{name}: {tally.attacks:,} attacks ({faces}), {len(tally.failures)} failure(s)")
        for line in tally.failures[:40]:
            print(f"  {line}")
    total = sum(t.attacks for t in results.values())
    print(f"all: {total:,} attacks, {sum(len(t.failures) for t in results.values())} failure(s), "
          f"{len(HOSTILE)} hostile values")  # fmt: skip


if __name__ == "__main__":
    main()
