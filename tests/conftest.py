"""Every test gets its own database (through FORECAST_TRACKER_DB) and its own working folder."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import textwrap
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from forecast_tracker.cli import app
from forecast_tracker.records import IndicatorRow, ObservationRow, PropositionRow, UpdateRow

WIDGET = textwrap.dedent(
    """\
    proposition:
      id: widget-launch
      statement: The widget launches.
      question: Will the widget go on sale by 2026-06-30?
      resolution_criteria: YES if the widget is on sale on or before 2026-06-30.
      opened: 2025-01-01
      resolve_by: 2026-06-30
      prior: likely
      decay: none
      prior_phrase: "is likely to launch"
      source:
        title: Widget outlook
        author: A. Writer
        published: 2025-01-01
        quote: "the widget is likely to launch"
      tags: [widgets]
    indicators:
      - id: widget-factory-built
        description: The factory is built.
        kind: event
        likelihood_ratio: 3
        rationale: Factories are built for products that launch.
      - id: widget-orders
        description: Pre-orders reach 1000.
        kind: count
        threshold: 1000
        likelihood_ratio: 2
        likelihood_ratio_if_not_met: 0.5
      - id: widget-recall
        description: A safety recall is announced.
        kind: event
        likelihood_ratio: 0.25
    """
)

GADGET = textwrap.dedent(
    """\
    proposition:
      id: gadget-ban
      statement: The gadget is banned.
      question: Will the gadget be banned by 2026-12-31?
      resolution_criteria: YES if a national ban on the gadget takes effect on or before 2026-12-31.
      opened: 2025-01-01
      resolve_by: 2026-12-31
      prior: 0.2
      source:
        title: Gadget watch
    indicators:
      - id: gadget-bill
        description: A bill to ban the gadget is introduced.
        kind: event
        likelihood_ratio: 2
      - id: gadget-sales
        description: Monthly gadget sales, thousands.
        kind: level
        threshold: 50
        likelihood_ratio: 0.5
    """
)


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def json(self):
        return json.loads(self.out)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FORECAST_TRACKER_DB", str(tmp_path / "test.db"))
    monkeypatch.setenv("FORECAST_TRACKER_USER", "tester")
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path


@pytest.fixture
def cli():
    """Run the CLI in-process through typer's test runner; stdout and stderr kept apart."""
    runner = CliRunner()

    def run(*args: str) -> Result:
        result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
        return Result(result.exit_code, result.stdout, result.stderr)

    def ok(*args: str) -> Result:
        """A setup step: it must succeed, or the test fails here rather than later and obscurely."""
        result = run(*args)
        assert result.code == 0, (args, result.err)
        return result

    run.ok = ok
    return run


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    folder = tmp_path / "indicators"
    folder.mkdir()
    (folder / "widget-launch.yaml").write_text(WIDGET)
    (folder / "gadget-ban.yaml").write_text(GADGET)
    return folder


@pytest.fixture
def db(cli, catalog: Path, tmp_path: Path) -> Path:
    """An initialised database holding the two test propositions."""
    result = cli("init", "--catalog", catalog)
    assert result.code == 0, result.err
    return tmp_path / "test.db"


# -- the same suites on PostgreSQL ---------------------------------------------------------------
PG_ADMIN = os.environ.get("FORECAST_TRACKER_TEST_PG")  # a server's maintenance database; .ci/run sets it
BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(not PG_ADMIN, reason="FORECAST_TRACKER_TEST_PG is not set")),
]


class PgDatabase(str):
    """A PostgreSQL database URL made for one test (a str, so it goes wherever a --db value goes)."""


@pytest.fixture(scope="session")
def pg_server():
    """The admin engine and a template database holding the test catalog, made once per session;
    each test's database is a copy of it (CREATE DATABASE ... TEMPLATE), so a test costs ~0.1 s."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from forecast_tracker.api import Tracker

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    template = f"ft_template_{uuid.uuid4().hex[:8]}"
    url = lambda name: make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)  # noqa: E731
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {template}"))
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "widget-launch.yaml").write_text(WIDGET)
        (Path(folder) / "gadget-ban.yaml").write_text(GADGET)
        with Tracker(url(template), create=True) as tracker:
            tracker.sync(Path(folder))
    try:
        yield admin, template, url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {template} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture
def pg_database(request):
    """A fresh PostgreSQL database holding the two test propositions, dropped after the test."""
    import uuid

    from sqlalchemy import text

    admin, template, url = request.getfixturevalue("pg_server")
    name = f"ft_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {template}"))
    try:
        yield PgDatabase(url(name))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture(params=BACKENDS)
def anydb(request, monkeypatch: pytest.MonkeyPatch):
    """The `db` fixture on each backend: SQLite, and PostgreSQL when a server is configured. Commands
    without --db use it (FORECAST_TRACKER_DB); `snapshot(anydb)` works on both."""
    if request.param == "sqlite":
        return request.getfixturevalue("db")
    database = request.getfixturevalue("pg_database")
    monkeypatch.setenv("FORECAST_TRACKER_DB", database)
    return database


SNAPSHOTS = Path(__file__).parent / "snapshots"


def pytest_addoption(parser):
    parser.addoption(
        "--update-snapshots",
        action="store_true",
        help="rewrite tests/snapshots/ from this run (review the diff before committing); without it a "
        "snapshot that is missing or differs fails",
    )


@pytest.fixture
def expect_snapshot(request):
    """`expect_snapshot(name, text)`: text must equal tests/snapshots/NAME. Only `--update-snapshots`
    writes, and a test that wrote is reported as skipped, never as passed, so regenerating can never
    compare a file with itself."""
    update = request.config.getoption("--update-snapshots")

    def check(name: str, text: str) -> None:
        path = SNAPSHOTS / name
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8")
                pytest.skip(f"snapshot {name} written: review the diff, then commit it")
            return
        assert path.exists(), f"no snapshot {name}: run pytest --update-snapshots once and review it"
        expected = path.read_text(encoding="utf-8")
        if text != expected:
            import difflib

            diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True), "snapshot", "now", n=1))
            pytest.fail(f"{name} differs from its snapshot (pytest --update-snapshots to accept):\n{diff[:4000]}")

    return check


def snapshot(path: Path | PgDatabase) -> dict[str, list[tuple]]:
    """Every row of every table, to prove a failed command changed nothing."""
    if isinstance(path, PgDatabase):
        from sqlalchemy import create_engine, inspect, text

        engine = create_engine(path)
        try:
            with engine.connect() as conn:
                tables = sorted(inspect(conn).get_table_names())
                return {t: [tuple(r) for r in conn.execute(text(f'SELECT * FROM "{t}" ORDER BY 1'))] for t in tables}
        finally:
            engine.dispose()
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in tables}
    finally:
        conn.close()


# -- rows for the pure tests: the record's own types, with defaults --------------------------------
def indicator_row(id="a", ratio=4.0, repeats=None, group=None, kind="event", threshold=None, fires_when=None,
                  if_not_met=None, proposition="p", decides=None) -> IndicatorRow:  # fmt: skip
    return IndicatorRow(id, proposition, f"signpost {id}", kind, threshold, ratio, if_not_met, None, repeats, group, fires_when,
                        decides)  # fmt: skip


def proposition_row(
    id="p", prior=0.2, opened="2025-01-01", resolve_by="2026-01-01", decay="hazard", prior_phrase=""
) -> PropositionRow:
    return PropositionRow(id, f"statement {id}", f"question {id}?", "criteria", opened, resolve_by, prior, prior_phrase,
                          None, "[]", None, decay, "commentary", 1, None, None, None, None, None)  # fmt: skip


def update_row(id, as_of, probability, forecaster="", rationale="", proposition="p") -> UpdateRow:
    return UpdateRow(id, proposition, as_of, probability, "manual", rationale, None, None, None, forecaster, "", None)


def observation_row(id, indicator, observed_on, value=None, proposition="p", applied_by="") -> ObservationRow:
    return ObservationRow(id, indicator, proposition, observed_on, value, "", "", "", None, applied_by, None)


# -- `serve` under a real server (tests/test_web*.py) --------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(anydb):
    """The app under uvicorn on 127.0.0.1 in a thread; stopped when the test ends."""
    import uvicorn

    from forecast_tracker.web.app import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(str(anydb)), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}", anydb
    server.should_exit = True
    thread.join(timeout=10)
