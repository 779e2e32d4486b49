"""Generated arguments and file contents thrown at the CLI.

Runs 300 argument lists, 120 CSV files and 80 catalog files (hypothesis examples, fixed counts and a
fixed seed so CI time is bounded). After every call: no traceback reached the user, the exit code is
0, 1 or 2, and no error was an unexpected one; at the end, PRAGMA integrity_check is ok.
"""

import sqlite3

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from forecast_tracker.catalog import INDICATOR_KEYS, PROPOSITION_KEYS, SOURCE_KEYS

pytestmark = pytest.mark.slow  # hypothesis runs hundreds of commands


COMMANDS = [
    "init",
    "sync",
    "list",
    "show",
    "observe",
    "update",
    "resolve",
    "retract",
    "history",
    "import",
    "export",
    "score",
    "report",
    "db",
    "upgrade",
    "check",
]
WORDS = [
    "widget-launch",
    "gadget-ban",
    "widget-factory-built",
    "widget-orders",
    "gadget-sales",
    "observation",
    "update",
    "resolution",
    "yes",
    "no",
    "annulled",
    "observations",
    "updates",
    "json",
    "csv",
    "table",
    "md",
    "html",
    "all",
    "0.5",
    "70%",
    "likely",
    "1",
    "0",
    "-1",
    "2025-02-01",
    "2025-13-45",
    "2999-01-01",
    "today",
    "--apply",
    "--force",
    "--date",
    "--value",
    "--source",
    "--note",
    "--rationale",
    "--by",
    "--format",
    "--as-of",
    "--status",
    "--reason",
    "--month",
    "--from",
    "--to",
    "--out",
    "--catalog",
    "--help",
    "file.csv",
    "indicators",
    "",
]
token = st.one_of(
    st.sampled_from(WORDS), st.text(max_size=12), st.from_regex(r"20[0-9]{2}-[01][0-9](-[0-3][0-9])?", fullmatch=True)
)
FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _check(result):
    assert result.code in (0, 1, 2), result
    assert "Traceback" not in result.err and "Traceback" not in result.out
    assert not result.err.startswith("error: unexpected"), result.err


def _integrity(path):
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@seed(20231001)
@FUZZ
@given(st.sampled_from(COMMANDS), st.lists(token, max_size=7))
def test_fuzz_arguments(cli, db, tmp_path, command, args):
    if command in ("report",) and "--out" not in args:
        args = [*args, "--out", str(tmp_path / "fuzz-reports")]
    if command == "export" and "--out" in args:
        args = [a for a in args if a != "--out"]
    _check(cli(command, *args))
    _integrity(db)


CSV_HEADERS = [
    "indicator,observed_on,value,source,note",
    "proposition,outcome,resolved_on,source,note",
    "proposition,as_of,probability",
    "indicator,observed_on",
    "",
]
cell = st.one_of(st.sampled_from(WORDS), st.text(max_size=10), st.just('"'), st.just(","), st.just("\n"))


@seed(4)
@settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(CSV_HEADERS), st.lists(st.lists(cell, min_size=0, max_size=6), max_size=5), st.binary(max_size=8))
def test_fuzz_csv_files(cli, db, tmp_path, header, rows, noise):
    path = tmp_path / "file.csv"
    body = header + "\n" + "\n".join(",".join(r) for r in rows)
    path.write_bytes(body.encode("utf-8", "surrogatepass") + noise)
    _check(cli("import", path))
    _check(cli("import", path, "--apply"))
    _integrity(db)


yaml_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=8), st.sampled_from(WORDS)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            # every key the catalog knows, so a key added to the catalog is fuzzed without editing this list
            st.sampled_from(sorted({"proposition", "indicators", *PROPOSITION_KEYS, *SOURCE_KEYS, *INDICATOR_KEYS})),
            inner,
            max_size=5,
        ),
    ),
    max_leaves=12,
)


@seed(7)
@settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(yaml_value)
def test_fuzz_catalog_files(cli, db, catalog, value):
    import yaml

    (catalog / "fuzz.yaml").write_text(yaml.safe_dump(value, allow_unicode=True))
    _check(cli("sync", "--catalog", catalog))
    _integrity(db)
