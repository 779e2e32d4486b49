"""Bad input, every command: one clear line on stderr, exit code 2, and an unchanged database."""

from pathlib import Path

import pytest

from conftest import snapshot

HUGE = "x" * 20_000
FILES = {
    "latin1.csv": "indicator,observed_on,value,source,note\nwidget-factory-built,2025-02-01,,caf\xe9,\n".encode("latin-1"),
    "missing-columns.csv": b"indicator,observed_on\nwidget-factory-built,2025-02-01\n",
    "extra-cells.csv": b"indicator,observed_on,value,source,note\nwidget-factory-built,2025-02-01,,src,note,surplus\n",
    "bad-quote.csv": b'indicator,observed_on,value,source,note\nwidget-factory-built,2025-02-01,,"unterminated,\n',
    "empty.csv": b"",
    "binary.csv": b"\x00\x01\x02SQLite format 3\x00",
    "bad-resolution.csv": b"proposition,outcome,resolved_on,source,note\nwidget-launch,maybe,2025-02-01,,\n",
    "bad-update.csv": b"proposition,as_of,probability\nwidget-launch,2025-02-01,1.5\n",
    "future.csv": b"indicator,observed_on,value,source,note\nwidget-factory-built,2999-01-01,,src,\n",
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
    ("score", "--format", "csv"),
    ("report", "--month", "2025-13"),
    ("report", "--month", "March"),
    ("report", "--from", "2025-05", "--to", "2025-01"),
    ("report", "--from", "2025-01"),
    ("report", "--month", "2025-01", "--from", "2025-01", "--to", "2025-02"),
    ("report", "--month", "2025-01", "--format", "pdf"),
    *[("demo", "--out", "demo-out", "--to", month) for month in ("2999-01", "2023-09", "October", "2025-13")],
    ("sync", "--catalog", "no-such-folder"),
    ("init", "--catalog", "no-such-folder"),
    ("no-such-command",),
    # files
    *[("import", name) for name in FILES],
    ("import", "does-not-exist.csv"),
    ("import", "."),
]


@pytest.mark.parametrize("args", CASES, ids=lambda a: " ".join(x[:25] for x in a)[:60])
def test_bad_input_exits_2_with_one_line_and_changes_nothing(cli, db, tmp_path, args):
    for name, data in FILES.items():
        (tmp_path / name).write_bytes(data)
    cli.ok("observe", "widget-factory-built", "--date", "2025-02-01", "--source", "seed", "--apply")
    before = snapshot(db)
    result = cli(*args)
    assert result.code == 2, (result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("error: ") and 10 < len(lines[0]) < 600
    assert "Traceback" not in result.err
    assert snapshot(db) == before


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
