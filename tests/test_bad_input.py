"""Bad input, every command: one clear line on stderr, exit code 2, and an unchanged database."""

from pathlib import Path

import pytest

from conftest import SNAPSHOTS, snapshot

HUGE = "x" * 20_000
FILES = {
    "latin1.csv": "indicator,observed_on,value,source,note\nwidget-factory-built,2025-02-01,,caf\xe9,\n".encode("latin-1"),
    "missing-columns.csv": b"indicator,observed_on\nwidget-factory-built,2025-02-01\n",
    "extra-cells.csv": b"indicator,observed_on,value,source,note\nwidget-factory-built,2025-02-01,,src,note,surplus\n",
    "bad-quote.csv": b'indicator,observed_on,value,source,note\nwidget-factory-built,2025-02-01,,"unterminated,\n',
    "empty.csv": b"",
    "binary.csv": b"\x00\x01\x02SQLite format 3\x00",
    "bad-resolution.csv": b"proposition,outcome,resolved_on,source,note\nwidget-launch,maybe,2025-02-01,,\n",
    "bad-update.csv": b"proposition,as_of,probability,rationale\nwidget-launch,2025-02-01,1.5,r\n",
    "future.csv": b"indicator,observed_on,value,source,note\nwidget-factory-built,2999-01-01,,src,\n",
    "long-retraction.csv": b"indicator,observed_on,value,source,note,retracted\nwidget-factory-built,2025-02-02,,src,n,"
    + b"r" * 100_000
    + b"\n",
    "long-applied-by.csv": b"indicator,observed_on,value,source,note,applied_by\nwidget-factory-built,2025-02-02,,src,n,"
    + b"b" * 1_000
    + b"\n",
    "bad-supersedes.csv": b"proposition,outcome,resolved_on,source,note,supersedes\nwidget-launch,yes,2025-02-01,s,,first\n",
    "outlook.txt": b"Growth is likely to slow next year.\n",
    "no-rationale.csv": b"proposition,as_of,probability\nwidget-launch,2025-02-01,0.5\n",
    "retracted-update.csv": b"proposition,as_of,probability,rationale,retracted\nwidget-launch,2025-02-01,0.5,r," + b"r" * 20_000
    + b"\n",
    # the links an export carries (this round): an amendment of a row the file does not hold, a criteria
    # version on a row that was not applied
    "bad-amends.csv": b"indicator,observed_on,value,source,note,id,amends\nwidget-orders,2025-02-01,1500,s,,4,3\n",
    "bad-criteria-version.csv": b"indicator,observed_on,value,source,note,criteria_version\nwidget-orders,2025-02-01,1500,s,,1\n",
    # definitions files (`export definitions`): not JSON, not ours, a version that would overflow the odds
    "broken.json": b'{"format": "forecast-tracker definitions", "version": 1, "propositions": [',
    "not-ours.json": b'{"format": "something else"}',
    "overflowing.json": b'{"format": "forecast-tracker definitions", "version": 1, "propositions": [{"id": "widget-launch", '
    b'"criteria_version": 1, "revisions": [], "restatements": [], "retirements": [], "versions": [{"kind": "indicator", '
    b'"id": "widget-recall", "effective": "2025-01-01", "recorded_at": "2025-01-01T00:00:00Z", "withdrawn_at": null, '
    b'"content": {"kind": "event", "threshold": null, "likelihood_ratio": 1e308, "likelihood_ratio_if_not_met": null, '
    b'"repeats": null, "group_name": null, "fires_when": null, "decides": null}}]}]}',
}

CASES = [
    # update: probabilities out of range or not numbers, unknown ids, bad dates
    *[("update", "widget-launch", p) for p in ("-0.1", "1.5", "0", "1", "NaN", "abc", "", "inf", "200%")],
    ("update", "no-such-proposition", "0.5"),
    ("update", "widget-launch", "0.5", "--date", "2025-02-30"),
    ("update", "widget-launch", "0.5", "--date", "yesterday"),
    ("update", "widget-launch", "0.5", "--date", "2999-01-01"),
    ("update", "widget-launch", "0.5", "--date", "2024-12-31"),
    ("update", "widget-launch", "0.5", "--rationale", HUGE),
    ("update", "widget-launch", "0.5", "--by", HUGE),
    ("update", "widget-launch"),
    ("update", "widget-launch", "0.5", "--no-such-option"),
    ("update", "widget-launch", "0.5"),  # no reason given
    ("update", "widget-launch", "0.5", "--rationale", "r", "--no-rationale"),
    ("update", "widget-launch", "0.5", "--rationale", "   "),
    ("list", "--by", "nobody"),
    ("score", "--by", "widget"),
    ("history", "widget-launch", "--by", ""),
    ("report", "--month", "2025-03", "--by", "ghost"),
    # observe
    ("observe", "no-such-indicator", "--source", "s"),
    ("observe", "widget-factory-built"),  # no source
    ("observe", "widget-factory-built", "--source", ""),
    ("observe", "widget-factory-built", "--source", HUGE),
    ("observe", "widget-factory-built", "--source", "s", "--value", "2"),
    ("observe", "widget-orders", "--source", "s"),  # a count needs a number
    ("observe", "widget-orders", "--source", "s", "--value", "lots"),
    ("observe", "widget-orders", "--source", "s", "--value", "-3"),
    ("observe", "widget-orders", "--source", "s", "--value", "1.5"),
    ("observe", "gadget-sales", "--source", "s", "--value", "nan"),
    ("observe", "widget-factory-built", "--source", "s", "--date", "2999-12-31"),
    ("observe", "widget-factory-built", "--source", "s", "--date", "31/12/2025"),
    ("observe", "widget-factory-built", "--source", "s", "--note", "nul\x00byte"),
    # resolve
    ("resolve", "widget-launch", "maybe"),
    ("resolve", "no-such", "yes"),
    ("resolve", "widget-launch", "yes", "--date", "2999-01-01"),
    ("resolve", "widget-launch", "yes", "--date", "2024-01-01"),
    ("resolve", "widget-launch"),
    # retract
    ("retract", "observation", "999", "--reason", "r"),
    ("retract", "observation", "abc", "--reason", "r"),
    ("retract", "comment", "1", "--reason", "r"),
    ("retract", "observation", "1"),  # no reason
    # lookups
    ("show", "no-such"),
    ("show", "widget-launch", "--as-of", "not-a-date"),
    ("show", "widget-launch", "--format", "xml"),
    ("history", "no-such"),
    ("history", "widget-launch", "--format", "yaml"),
    ("list", "--as-of", "2025-02-31"),
    ("list", "--status", "pending"),
    ("list", "--format", "xml"),
    ("export", "everything"),
    ("export", "observations", "--format", "xml"),
    ("export", "observations", "--out", "no/such/folder/x.csv"),
    ("score", "--as-of", "soon"),
    ("score", "--format", "xml"),
    ("score", "--pool", "vote"),
    ("score", "--compare-pools", "--by", "tester"),
    ("score", "--compare-pools", "--pool", "mean"),
    ("list", "--pool", "Median!"),
    ("show", "widget-launch", "--pool", ""),
    ("history", "widget-launch", "--pool", "geo"),
    ("report", "--month", "2025-03", "--pool", "max"),
    ("report", "--month", "2025-13"),
    ("report", "--month", "March"),
    ("report", "--from", "2025-05", "--to", "2025-01"),
    ("report", "--to", "2025-01"),  # a range needs its first month (--from alone runs to this month)
    ("report", "--month", "2025-01", "--from", "2025-01", "--to", "2025-02"),
    ("report", "--month", "2025-01", "--format", "pdf"),
    ("report", "--from", "0001-01", "--to", "0001-02"),
    ("report", "--from", "9999-12", "--to", "9999-12"),
    ("report", "--month", "9999-12"),
    ("report", "--from", "1900-01", "--to", "2025-01"),  # more than 600 months
    ("retract", "observation", "99999999999999999999999", "--reason", "r"),
    # beyond PostgreSQL's 32-bit integer ids, and NUL bytes where ids and names go
    ("retract", "observation", "3000000000", "--reason", "r"),
    ("apply", "9223372036854775807"),
    ("show", "widget\x00launch"),
    ("update", "widget\x00launch", "0.5", "--rationale", "r"),
    ("observe", "widget-factory\x00built", "--source", "s"),
    ("resolve", "widget-launch", "yes", "--source", "s\x00"),
    ("retract", "observation", "1", "--reason", "r\x00"),
    ("observe", "widget-factory-built", "--source", "s", "--apply", "--by", ""),
    ("observe", "widget-factory-built", "--source", "s", "--apply", "--by", "x" * 100_000),
    ("observe", "widget-factory-built", "--source", "s", "--by", "two\nlines"),
    ("update", "widget-launch", "0.5", "--by", " "),
    ("--db", "mysql://x/y", "list"),
    *[("demo", "--out", "demo-out", "--to", month) for month in ("2999-01", "2023-09", "October", "2025-13")],
    ("demo", "--out", "empty.csv"),  # a file, not a folder
    ("report", "--month", "2025-03", "--out", "empty.csv"),
    ("sync", "--catalog", "no-such-folder"),
    ("sync", "--reason", "typo"),  # a reason without --restate
    ("sync", "--restate"),  # a restatement without a reason
    ("sync", "--restate", "--reason", " "),
    ("init", "--catalog", "no-such-folder"),
    # dates at the edges (issue 22): before 1900, before a proposition opened
    ("list", "--as-of", "0001-01-01"),
    ("history", "widget-launch", "--as-of", "2024-06-01"),
    ("no-such-command",),
    # files
    *[("import", name) for name in FILES],
    ("import", "does-not-exist.csv"),
    ("import", "."),
    ("import", "not-ours.json", "--apply"),
    ("export", "definitions", "--format", "csv"),
    ("export", "definitions", "--excel-safe"),
    # extract (issue 28): files that are not commentaries, and every option's wrong values
    *[("extract", name) for name in ("binary.csv", "empty.csv", "latin1.csv", "does-not-exist.txt", ".")],
    ("extract", "outlook.txt", "--scale", "nato"),
    ("extract", "outlook.txt", "--published", "2023-13-01"),
    ("extract", "outlook.txt", "--published", "2999-01-01"),
    ("extract", "outlook.txt", "--format", "xml"),
    ("extract", "outlook.txt", "--out", "empty.csv"),
    ("extract", "outlook.txt", "--author", "nul\x00byte"),
    ("extract", "outlook.txt", "--source-title", HUGE),
    ("extract",),
    # a peer's record, the calendar, notifications (issue 27)
    ("import", "--from", "fatebook", "latin1.csv"),
    ("import", "--from", "metaculus", "empty.csv"),
    ("import", "--from", "predictionbook", "empty.csv"),
    ("import", "--from", "manifold", "binary.csv"),
    ("import", "--from", "manifold", "outlook.txt"),
    ("import", "--from", "fatebook-sheet", "missing-columns.csv"),
    ("import", "--from", "gjopen", "empty.csv"),
    ("import", "--from", "fatebook", "does-not-exist.csv"),
    ("import", "--from", "fatebook", "."),
    ("import", "--from", "fatebook", "latin1.csv", "--apply"),
    ("import", "--from", "fatebook", "latin1.csv", "--catalog", "no/such/folder"),
    ("import", "latin1.csv", "empty.csv"),
    ("export", "calendar", "--format", "json"),
    ("export", "calendar", "--out", "no/such/folder/x.ics"),
    ("review", "--notify", "not a url"),
    ("review", "--notify", "nosuchservice://x"),
    ("review", "--digest"),
    # applying many at once (issue 23)
    ("apply",),
    ("apply", "1", "--pending"),
    ("apply", "1", "999"),
    ("apply", "2", "2"),
    ("apply", "--pending", "--indicator", "nope"),
    ("apply", "--pending", "--before", "2025-13-01"),
    ("apply", "1", "--before", "2025-01-01"),
    ("resolve", "widget-launch", "yes"),  # no source, and no --no-source
    ("resolve", "widget-launch", "yes", "--source", "s", "--no-source"),
    ("observe", "widget-factory-built", "--dry-run"),  # a preview is checked as a real row is
    ("observe", "widget-factory-built", "--date", "2025-02-01", "--source", "seed", "--dry-run"),  # a duplicate
    ("amend", "observation", "999", "--date", "2025-03-02", "--reason", "r"),
    ("import", "no-rationale.csv"),  # a manual update row without a rationale, and no --no-rationale
    ("import", "obs.csv", "--from", "fatebook", "--dry-run"),
    ("update", "widget-launch", "0.5", "--rationale", "r", "--by", "carol"),  # a name never seen: --new-forecaster
    ("retire", "indicator", "no-such-indicator", "--reason", "r"),
    ("retire", "indicator", "widget-recall"),  # no reason
    ("list", "--tag", "no-such-tag"),
    ("list", "--as-of", "2025-13"),
    ("show",),  # no proposition and no --matrix
    ("show", "widget-launch", "--matrix"),
    ("show", "--tag", "widgets"),  # --tag goes with --matrix
    ("show", "--matrix", "--tag", "no-such-tag"),
    ("observe", "widget-factory-built@gadget-ban", "--source", "s"),  # no such entry here: an unknown indicator
    ("amend", "observation", "1", "--reason", "r"),  # nothing to correct
    ("amend", "observation", "1", "--date", "2025-03-02"),  # no reason
    ("amend", "observation", "1", "--value", "lots", "--reason", "r"),
    ("amend", "update", "1", "--date", "2025-03-02", "--reason", "r"),
    ("serve", "--host", "0.0.0.0"),  # a public address without auth
    ("serve", "--port", "0"),
    ("serve", "--port", "http"),
    ("serve", "--auth", "kerberos:x"),
    ("serve", "--auth", "tokens:no-such-file"),
    ("serve", "--auth", "header:X User"),
    ("serve", "--new-token", "ana"),
]


def _case_id(args: tuple[str, ...]) -> str:
    return " ".join(repr(x[:25]) if not x.isprintable() else x[:25] for x in args)[:80]


MESSAGES = SNAPSHOTS / "bad-input.tsv"  # case id <TAB> the one line it must print, reviewed


def _expected_messages() -> dict[str, str]:
    if not MESSAGES.exists():
        return {}
    return dict(line.split("\t", 1) for line in MESSAGES.read_text(encoding="utf-8").splitlines() if line)


@pytest.mark.parametrize("args", CASES, ids=_case_id)
def test_bad_input_exits_2_with_one_line_and_changes_nothing(cli, anydb, tmp_path, args, request):
    for name, data in FILES.items():
        (tmp_path / name).write_bytes(data)
    cli.ok("observe", "widget-factory-built", "--date", "2025-02-01", "--source", "seed", "--apply")
    before = snapshot(anydb)
    result = cli(*args)
    assert result.code == 2, (result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("error: ") and 10 < len(lines[0]) <= 500
    assert "Traceback" not in result.err
    assert snapshot(anydb) == before
    # the message itself, against the reviewed list (pytest --update-snapshots rewrites that list)
    from forecast_tracker.dates import today

    key, message = _case_id(args), lines[0].replace(str(tmp_path), "TMP").replace(today(), "TODAY")
    expected = _expected_messages()
    if request.config.getoption("--update-snapshots"):
        expected[key] = message
        MESSAGES.write_text("".join(f"{k}\t{v}\n" for k, v in sorted(expected.items())), encoding="utf-8")
        return
    assert key in expected, f"no reviewed message for {key!r}: run pytest --update-snapshots and review the diff"
    assert message == expected[key]


def test_every_bad_row_is_listed(cli, db, tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text(
        "indicator,observed_on,value,source,note\n"
        "widget-orders,2025-02-01,many,src,\n"
        "widget-factory-built,2025-02-01,,src,fine\n"
        "no-such,2025-13-01,,,\n"
        '"widget-orders",2025-02-02,"12",,"multi\nline note"\n'
    )
    before = snapshot(db)
    result = cli("import", path)
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert lines[0] == "error: rows.csv: 5 problem(s), nothing imported"
    assert "line 2: value: 'many' is not a number" in result.err
    assert "line 4: indicator: unknown indicator 'no-such'" in result.err
    assert "line 4: observed_on: '2025-13-01' is not an ISO date" in result.err
    assert "line 4: source: required" in result.err
    assert "line 5: source: required" in result.err
    assert snapshot(db) == before


def test_bad_catalog_shapes(cli, db, catalog):
    before = snapshot(db)
    (catalog / "shapes.yaml").write_text("proposition:\n  - a list\nindicators: 7\n")
    result = cli("sync", "--catalog", catalog)
    assert result.code == 2
    assert "shapes.yaml: proposition: must be a mapping" in result.err
    assert snapshot(db) == before


def test_database_location_errors(cli, tmp_path):
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("hello, this is not a database at all")
    cases = {
        ("--db", str(tmp_path / "missing-folder" / "x.db"), "init"): "does not exist",
        ("--db", str(not_sqlite), "list"): "is not a SQLite database",
        ("--db", str(tmp_path / "absent.db"), "list"): "run 'forecast-tracker init' first",
        ("--db", str(tmp_path), "list"): "is a folder",
    }
    for args, message in cases.items():
        result = cli(*args)
        assert result.code == 2 and message in result.err and len(result.err.strip().splitlines()) == 1, (args, result.err)
    assert not_sqlite.read_text().startswith("hello")
    assert not (Path(tmp_path) / "absent.db").exists()


def test_files_that_are_not_ours_are_never_written(cli, tmp_path):
    import sqlite3

    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.execute("INSERT INTO notes VALUES ('mine')")
    foreign_bytes = foreign.read_bytes()
    cases = {
        ("--db", str(empty), "list"): "is empty, not a forecast-tracker database (run 'forecast-tracker init')",
        ("--db", str(empty), "score"): "is empty, not a forecast-tracker database",
        ("--db", str(foreign), "init"): "is a database but not a forecast-tracker one (it has other tables)",
        ("--db", str(foreign), "list"): "is a database but not a forecast-tracker one",
    }
    for args, message in cases.items():
        result = cli(*args)
        assert result.code == 2 and message in result.err and len(result.err.strip().splitlines()) == 1, (args, result.err)
    assert empty.read_bytes() == b"" and not Path(str(empty) + "-wal").exists()  # reading never writes
    assert foreign.read_bytes() == foreign_bytes
    assert cli("--db", str(empty), "init", "--catalog", tmp_path / "no-catalog").code == 2  # init may use an empty file...
    result = cli("--db", str(empty), "init", "--catalog", Path(__file__).parents[1] / "indicators")
    assert result.code == 0, result.err  # ...and makes it ours


def test_a_damaged_database_is_reported_as_such(cli, db):
    import sqlite3

    cli.ok("observe", "widget-factory-built", "--date", "2025-02-01", "--source", "seed", "--apply")
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'observation'").fetchone()[0]
    conn.close()
    with open(db, "r+b") as fh:  # overwrite the header of the observation table's first page
        fh.seek((root - 1) * page_size)
        fh.write(b"\xff" * 64)
    # `list` reads the cached tracks and no observation, so it still answers; the rest read the table
    assert "widget-launch" in cli.ok("list").out
    for args in (("show", "widget-launch"), ("db", "check"), ("score",), ("history", "widget-launch")):
        result = cli(*args)
        assert result.code == 2, (args, result.out, result.err)
        assert "is damaged" in result.err and "restore it from a backup" in result.err, result.err
        assert "sqlalche.me" not in result.err and len(result.err.strip().splitlines()) == 1


def test_catalog_files_that_attack(cli, db, catalog):
    """An alias bomb, two files for one id, and a 3 MB statement: refused fast, in short lines."""
    import time

    before = snapshot(db)
    bomb = catalog / "bomb.yaml"
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for k in "bcdefghi":
        prev = chr(ord(k) - 1)
        lines.append(f"{k}: &{k} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]")
    bomb.write_text("proposition:\n  id: bomb\n  statement: *i\n" + "\n".join(lines) + "\n")
    started = time.perf_counter()
    result = cli("sync", "--catalog", catalog)
    assert time.perf_counter() - started < 10  # expanded, this file is 387 million strings
    assert result.code == 2 and "aliases (*name) are not allowed in a catalog" in result.err, result.err[:500]
    assert all(len(line) <= 500 for line in result.err.splitlines())
    bomb.unlink()

    (catalog / "widget-launch.yml").write_text((catalog / "widget-launch.yaml").read_text())
    result = cli("sync", "--catalog", catalog)
    assert result.code == 2 and "'widget-launch' is also defined by widget-launch.yaml; keep one file" in result.err
    (catalog / "widget-launch.yml").unlink()

    text = (catalog / "widget-launch.yaml").read_text()
    (catalog / "widget-launch.yaml").write_text(text.replace("statement: The widget launches.", "statement: " + "w" * 3_000_000))
    result = cli("sync", "--catalog", catalog)
    assert result.code == 2 and "3000000 characters is longer than the 10000 allowed" in result.err
    assert all(len(line) <= 500 for line in result.err.splitlines())
    assert snapshot(db) == before


def test_terminal_output_drops_control_characters_and_json_keeps_them(cli, db):
    hostile = "Ground \x1b[2J\x1b]0;pwned\x07broken\r\u202eevil"
    cli.ok("observe", "widget-factory-built", "--date", "2025-02-01", "--source", "s\x1b[31m", "--note", hostile)
    shown = cli.ok("show", "widget-launch").out
    assert "\x1b" not in shown and "\x07" not in shown and "\r" not in shown and "\u202e" not in shown
    assert "Ground broken" in shown or "Ground" in shown
    as_json = cli.ok("show", "widget-launch", "--format", "json").out
    import json

    notes = [o["note"] for o in json.loads(as_json)["observations"]]
    assert hostile in notes  # data stays exact; only the terminal rendering is cleaned


def test_excel_safe_export_defuses_formulas_and_still_round_trips(cli, db, tmp_path):
    hostile = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "'=already quoted", "plain"]
    for i, note in enumerate(hostile):
        cli.ok("observe", "widget-factory-built", "--date", f"2025-02-0{i + 1}", "--source", note, "--note", note)
    exact = cli.ok("export", "observations").out
    safe = cli.ok("export", "observations", "--excel-safe").out
    import csv
    import io

    def cells(text):
        rows = list(csv.DictReader(io.StringIO(text)))
        return [(r["source"], r["note"]) for r in rows]

    assert [n for n, _ in cells(exact)] == hostile  # the default is exact
    for source, note in cells(safe):  # nothing a spreadsheet would run
        assert not source.startswith(("=", "+", "-", "@", "\t")) and not note.startswith(("=", "+", "-", "@", "\t"))
    assert ('\'=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")') in cells(safe)
    assert ("plain", "plain") in cells(safe)
    # both files import back into a fresh database as the same rows
    for name, text, flags in (("exact.csv", exact, ()), ("safe.csv", safe, ("--excel-safe",))):
        fresh = tmp_path / f"{name}.db"
        cli.ok("--db", fresh, "init", "--catalog", tmp_path / "indicators")
        (tmp_path / name).write_text(text)
        cli.ok("--db", fresh, "import", tmp_path / name, *flags)
        assert cells(cli.ok("--db", fresh, "export", "observations").out) == cells(exact), name
    assert cli("export", "observations", "--format", "json", "--excel-safe").code == 2


def test_the_readme_counts_these_cases_and_every_case_has_a_reviewed_message():
    readme = (Path(__file__).parents[1] / "docs" / "guarantees.md").read_text(encoding="utf-8")
    assert f"`test_bad_input.py`, {len(CASES)} cases on each backend" in readme
    assert set(_expected_messages()) == {_case_id(args) for args in CASES}  # none missing, none stale
