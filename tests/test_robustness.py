"""What the third outside pass broke (issue 22): each case failed before its fix."""

import datetime as dt
import os
import re
import sqlite3
from pathlib import Path

import pytest

from forecast_tracker.api import Tracker
from forecast_tracker.errors import InputError

from conftest import snapshot


def _one_line(result, *words):
    """Bad input: exit 2, one line on stderr, holding each of `words`."""
    assert result.code == 2, (result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.err
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


# -- where the database is ------------------------------------------------------------------------
def test_a_read_only_url_is_opened_read_only(cli, db):
    before, data = snapshot(db), db.read_bytes()
    url = f"sqlite:///{db}?mode=ro"
    assert cli("--db", url, "list", "--format", "json").code == 0  # reading works
    _one_line(cli("--db", url, "observe", "widget-factory-built", "--source", "s"), "read-only")
    assert snapshot(db) == before and db.read_bytes() == data


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_pipe_or_a_device_is_not_a_database(cli, tmp_path):
    fifo = tmp_path / "pipe.db"
    os.mkfifo(fifo)
    _one_line(cli("--db", fifo, "list"), "not a regular file")  # before: blocked for ever on the read
    if Path("/dev/null").exists():
        _one_line(cli("--db", "/dev/null", "list"), "not a regular file")


def test_a_driver_named_in_the_url_still_gets_wal(cli, catalog, tmp_path):
    path = tmp_path / "pysqlite.db"
    assert cli("--db", f"sqlite+pysqlite:///{path}", "init", "--catalog", catalog).code == 0
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_bad_catalog_leaves_no_new_database(cli, tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "x.yaml").write_text("proposition: [not, a, mapping]\n")
    target = tmp_path / "fresh.db"
    result = cli("--db", target, "init", "--catalog", folder)
    assert result.code == 2 and "x.yaml" in result.err
    assert not target.exists()


# -- settings from the environment -------------------------------------------------------------------
@pytest.mark.parametrize("value", ["abc", "\u00b2", "0", "2147483648", "-5"])
def test_a_bad_busy_timeout_is_named_not_ignored(cli, db, monkeypatch, value):
    monkeypatch.setenv("FORECAST_TRACKER_BUSY_TIMEOUT_MS", value)
    before = snapshot(db)
    _one_line(cli("observe", "widget-factory-built", "--source", "s"), "FORECAST_TRACKER_BUSY_TIMEOUT_MS")
    assert snapshot(db) == before


@pytest.mark.parametrize("value", ["abc", "0", "3", "\u00b2"])
def test_a_bad_jobs_count_is_named(cli, db, monkeypatch, tmp_path, value):
    monkeypatch.setenv("FORECAST_TRACKER_JOBS", value)
    _one_line(cli("report", "--month", "2025-03", "--out", tmp_path / "r"), "FORECAST_TRACKER_JOBS")


def test_today_is_the_users_date(cli, db, monkeypatch):
    from forecast_tracker.dates import today

    for zone, hours in (("Pacific/Kiritimati", 14), ("Etc/GMT+12", -12)):
        monkeypatch.setenv("FORECAST_TRACKER_TZ", zone)
        before = dt.datetime.now(dt.UTC)
        got = today()
        after = dt.datetime.now(dt.UTC)
        assert got in {(t + dt.timedelta(hours=hours)).date().isoformat() for t in (before, after)}
    monkeypatch.setenv("FORECAST_TRACKER_TZ", "UTC")
    assert today() == dt.datetime.now(dt.UTC).date().isoformat()
    monkeypatch.setenv("FORECAST_TRACKER_TZ", "Mars/Olympus_Mons")
    _one_line(cli("list"), "FORECAST_TRACKER_TZ", "not a time zone")


# -- dates at the edges ------------------------------------------------------------------------------
def test_dates_before_1900_are_refused_not_crashed(cli, db, tmp_path):
    before = snapshot(db)
    _one_line(cli("list", "--as-of", "0001-01-01"), "--as-of", "out of range")
    _one_line(cli("observe", "widget-factory-built", "--source", "s", "--date", "1899-12-31"), "--date")
    rows = tmp_path / "old.csv"
    rows.write_text(
        "indicator,observed_on,value,source,note,id,recorded_at\n"
        "widget-factory-built,2025-02-02,,src,n,,0001-01-01T00:00:00+01:00\n"
    )
    _one_line(cli("import", rows), "recorded_at", "out of range")  # before: OverflowError
    assert snapshot(db) == before


def test_history_and_show_before_a_proposition_opened(cli, db):
    _one_line(cli("history", "widget-launch", "--as-of", "2024-06-01"), "--as-of", "opened on 2025-01-01")
    shown = cli("show", "widget-launch", "--as-of", "2024-06-01", "--format", "json").json
    assert shown["status"] == "not yet open"
    assert cli("show", "widget-launch", "--as-of", "2025-01-01", "--format", "json").json["status"] == "open"


def test_the_last_update_of_a_resolved_proposition_is_at_most_its_final_forecast(cli, db):
    cli.ok("observe", "widget-factory-built", "--date", "2025-02-01", "--source", "s", "--apply")
    cli.ok("observe", "widget-recall", "--date", "2025-05-01", "--source", "s", "--apply")
    cli.ok("resolve", "widget-launch", "no", "--date", "2025-05-01", "--source", "s")
    row = next(r for r in cli("list", "--format", "json").json if r["id"] == "widget-launch")
    # the final forecast is 2025-04-30's; the recall on the resolution day is not part of it
    assert row["last_update"] == "2025-02-01"


# -- output folders ----------------------------------------------------------------------------------
def test_an_unwritable_output_folder_is_bad_input(cli, db, tmp_path):
    if not Path("/proc/self").is_dir():
        pytest.skip("needs /proc, a folder no one may write to")
    _one_line(cli("report", "--month", "2025-03", "--out", "/proc/self/reports"), "--out")
    _one_line(cli("export", "observations", "--out", "/proc/self/x.csv"), "--out", "cannot write")
    (tmp_path / "folder").mkdir()
    _one_line(cli("export", "observations", "--out", tmp_path / "folder"), "--out", "is a folder")


# -- the Python API takes what a caller may reasonably pass -----------------------------------------------
def test_the_python_api_names_wrong_types(db, tmp_path):
    with Tracker(str(db)) as tracker:
        for call in (lambda: tracker.show(5), lambda: tracker.history(None), lambda: tracker.observe(3.5, source="s")):
            with pytest.raises(InputError, match="unknown"):
                call()
        with pytest.raises(InputError, match="not one of md, html"):
            tracker.report(["2025-03"], tmp_path / "r", formats=("pdf",))
        with pytest.raises(InputError, match="not a folder path"):
            tracker.sync(42)
        written = tracker.report("2025-03", tmp_path / "all", formats="all")
        assert sorted(p.suffix for p in written if p.name.startswith("2025-03.")) == [".html", ".md"]


# -- a re-resolved record round-trips ------------------------------------------------------------------
def test_re_resolutions_and_retractions_round_trip_through_export(cli, db, catalog, tmp_path, monkeypatch):
    cli.ok("resolve", "widget-launch", "yes", "--date", "2025-03-01", "--source", "shop")
    cli.ok("resolve", "widget-launch", "no", "--date", "2025-04-01", "--source", "recall", "--force")
    cli.ok("resolve", "gadget-ban", "yes", "--date", "2025-05-01", "--source", "law")
    cli.ok("resolve", "gadget-ban", "no", "--date", "2025-05-02", "--source", "court", "--force")
    said = cli.ok("retract", "resolution", "4", "--reason", "the court ruling was misread").out
    assert "gadget-ban is resolved yes again, from resolution 3 of 2025-05-01" in said
    rows = cli.ok("export", "resolutions", "--format", "json").json
    assert [(r["id"], r["supersedes"], r["in_force"]) for r in rows] == [
        (1, None, False), (2, 1, True), (3, None, True), (4, 3, False),
    ]  # fmt: skip
    history = cli.ok("history", "gadget-ban").out
    assert "resolution 3: yes on 2025-05-01 (in force)" in history
    assert "resolution 4: no on 2025-05-02 (retracted: the court ruling was misread)" in history
    (tmp_path / "res.csv").write_text(cli.ok("export", "resolutions").out)

    fresh = tmp_path / "fresh.db"
    monkeypatch.setenv("FORECAST_TRACKER_DB", str(fresh))
    cli.ok("init", "--catalog", catalog)
    cli.ok("import", tmp_path / "res.csv")  # before: "line 3: already resolved (use 'resolve --force')"
    again = cli.ok("export", "resolutions", "--format", "json").json
    keep = ("proposition", "outcome", "resolved_on", "source", "supersedes", "in_force", "retracted", "recorded_at")
    assert [{k: r[k] for k in keep} for r in again] == [{k: r[k] for k in keep} for r in rows]
    assert {r["id"]: r["status"] for r in cli.ok("list", "--format", "json").json} == {"widget-launch": "no", "gadget-ban": "yes"}
    cli.ok("import", tmp_path / "res.csv")  # twice adds nothing
    assert len(cli.ok("export", "resolutions", "--format", "json").json) == 4


def test_a_hand_written_re_resolution_needs_force(cli, db, tmp_path):
    cli.ok("resolve", "widget-launch", "yes", "--date", "2025-03-01", "--source", "shop")
    rows = tmp_path / "mine.csv"
    rows.write_text("proposition,outcome,resolved_on,source,note\nwidget-launch,no,2025-04-01,recall,\n")
    before = snapshot(db)
    _one_line(cli("import", rows), "already resolved yes")
    assert snapshot(db) == before
    cli.ok("import", rows, "--force")
    assert {r["id"]: r["status"] for r in cli.ok("list", "--format", "json").json}["widget-launch"] == "no"
    said = cli.ok("retract", "resolution", "2", "--reason", "recall was of another model").out
    assert "widget-launch is resolved yes again, from resolution 1" in said
    said = cli.ok("retract", "resolution", "1", "--reason", "not on sale after all").out
    assert "widget-launch is open again" in said
    bad = tmp_path / "bad.csv"
    bad.write_text("proposition,outcome,resolved_on,source,note,supersedes\nwidget-launch,no,2025-04-01,r,,x\n")
    _one_line(cli("import", bad), "supersedes", "not a row id")


# -- text is read as text ---------------------------------------------------------------------------------
def test_catalog_text_is_kept_as_written_not_read_as_yaml_1_1(cli, tmp_path):
    folder = tmp_path / "cat"
    folder.mkdir()
    (folder / "t-yes.yaml").write_text(
        "proposition:\n  id: t-yes\n  statement: yes\n  question: Will it happen by 12:30?\n"
        "  resolution_criteria: 0x1F\n  opened: 2025-01-01\n  resolve_by: 2026-06-30\n  prior: 0.4\n"
        "  prior_phrase: on\n  source:\n    title: no\n"
        "indicators:\n  - id: t-a\n    description: off\n    kind: event\n    likelihood_ratio: 1e2\n"
    )
    cli.ok("init", "--catalog", folder)
    shown = cli.ok("show", "t-yes", "--format", "json").json
    assert (shown["statement"], shown["resolution_criteria"], shown["prior_phrase"]) == ("yes", "0x1F", "on")
    assert shown["indicators"][0]["description"] == "off" and shown["indicators"][0]["likelihood_ratio"] == 100
    before = snapshot(tmp_path / "test.db")
    for number in ("0x1F", "12:30"):  # text where a number goes: refused with its key path
        text = (folder / "t-yes.yaml").read_text()
        (folder / "t-yes.yaml").write_text(text.replace("likelihood_ratio: 1e2", f"likelihood_ratio: {number}"))
        _one_line(cli("sync", "--catalog", folder), "indicators[0].likelihood_ratio", repr(number))
        (folder / "t-yes.yaml").write_text(text)
    assert snapshot(tmp_path / "test.db") == before


def test_an_imported_forecaster_name_obeys_the_rules_of_by(cli, db, tmp_path):
    before = snapshot(db)
    for name in ("two\nlines", "\x1b[31mred", "x" * 5000):
        rows = tmp_path / "u.csv"
        import csv

        with rows.open("w", newline="") as fh:
            csv.writer(fh).writerows([("proposition", "as_of", "probability", "forecaster"), ("widget-launch", "2025-02-01", "0.5", name)])
        refused = cli("import", rows)
        assert refused.code == 2 and "line 2: forecaster:" in refused.err
    assert snapshot(db) == before


def test_bad_utf8_is_reported_at_its_own_line(cli, db, tmp_path):
    good = "widget-factory-built,2025-02-{:02d},,src,fine\n"
    body = "".join(good.format(1 + i % 28) for i in range(400)).encode()
    rows = tmp_path / "late.csv"
    rows.write_bytes(b"indicator,observed_on,value,source,note\n" + body + b"widget-factory-built,2025-03-01,,caf\xe9,\n")
    _one_line(cli("import", rows), "line 402", "not UTF-8")


def test_bidirectional_overrides_never_reach_a_page(cli, db, tmp_path):
    from forecast_tracker.formats import BIDI_CONTROLS

    sneaky = "rate \u202ecut\u202c and \u2067isolated\u2069"
    cli.ok("observe", "widget-factory-built", "--date", "2025-03-02", "--source", sneaky, "--note", sneaky, "--apply")
    cli.ok("update", "widget-launch", "0.7", "--date", "2025-03-05", "--rationale", sneaky)
    cli.ok("report", "--month", "2025-03", "--out", tmp_path / "r")
    pages = [p for p in (tmp_path / "r").rglob("*") if p.suffix in (".html", ".md")]
    assert len(pages) >= 4 and any("rate cut and isolated" in p.read_text() for p in pages)
    for page in pages:
        assert not set(page.read_text()) & set(BIDI_CONTROLS), page.name
    assert cli("history", "widget-launch", "--format", "json").json[-1]["rationale"] == sneaky  # the record keeps it


@pytest.fixture
def tiny_disk(tmp_path):
    """A 600 KiB file system (a tmpfs: root only), unmounted afterwards."""
    import shutil
    import subprocess

    folder = tmp_path / "tiny"
    folder.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", folder], capture_output=True).returncode:
        pytest.skip("this machine does not let us mount a tmpfs")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", folder], check=False)


def test_a_full_disk_during_import_is_named_and_writes_nothing(cli, catalog, tmp_path, tiny_disk):
    target = tiny_disk / "t.db"
    cli.ok("--db", target, "init", "--catalog", catalog)
    before = snapshot(target)
    rows = tmp_path / "rows.csv"
    with rows.open("w") as fh:
        fh.write("indicator,observed_on,value,source,note\n")
        fh.writelines(f"widget-orders,2025-0{1 + i % 5}-{1 + i % 28:02d},{i},source {i},{'n' * 100}\n" for i in range(3000))
    result = cli("--db", target, "import", rows)
    assert result.code == 1 and result.err.strip().count("\n") == 0, result.err  # before: PendingRollbackError
    assert "is full: nothing was written" in result.err
    assert snapshot(target) == before
    with sqlite3.connect(target) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_later_forecaster_does_not_change_an_earlier_chain(cli, db):
    """Item 6: a team's decay rows were dated the day before the next event, a track's on its day, so
    the chain of February changed (a row a day earlier, a day shorter) once a second forecaster's
    first update made the proposition a team's, in April."""
    cli.ok("update", "--new-forecaster", "gadget-ban", "0.3", "--date", "2025-01-10", "--by", "alice", "--rationale", "r")
    cli.ok("update", "--new-forecaster", "gadget-ban", "0.35", "--date", "2025-02-15", "--by", "alice", "--rationale", "r")
    shown = cli.ok("history", "gadget-ban", "--as-of", "2025-02-28", "--format", "json").json
    assert any(row["method"] == "decay" for row in shown)
    cli.ok("update", "--new-forecaster", "gadget-ban", "0.6", "--date", "2025-04-15", "--by", "bob", "--rationale", "r")
    assert cli.ok("history", "gadget-ban", "--as-of", "2025-02-28", "--format", "json").json == shown
    team = cli.ok("history", "gadget-ban", "--format", "json").json
    decay = [row for row in team if row["method"] == "decay"]
    events = {row["as_of"] for row in team if row["method"] in ("manual", "indicator")}
    assert decay and all(row["as_of"] in events or row is team[-1] for row in decay)  # each runs up to its event


def test_markdown_chart_names_never_collide(cli, catalog, tmp_path, monkeypatch):
    """Item 7: proposition `2025-03-widget-launch`'s page chart was month 2025-03's chart of
    `widget-launch`, and a proposition named `calibration` overwrote the month's calibration chart."""
    from forecast_tracker.scorecard import pages, render

    from conftest import WIDGET

    for new_id in ("2025-03-widget-launch", "calibration"):
        text = WIDGET.replace("id: widget-launch", "id: PROP").replace("id: widget-", f"id: {new_id}-")
        (catalog / f"{new_id}.yaml").write_text(text.replace("id: PROP", f"id: {new_id}"))
    cli.ok("init", "--catalog", catalog)
    out, written, real = tmp_path / "r", [], pages.put

    def spy(path, text):
        written.append(Path(path).relative_to(out).as_posix())
        real(path, text)

    monkeypatch.setenv("FORECAST_TRACKER_JOBS", "1")  # every page from this process, where the spy is
    monkeypatch.setattr(pages, "put", spy)
    monkeypatch.setattr(render, "put", spy)
    with Tracker(str(tmp_path / "test.db")) as tracker:
        tracker.report(["2025-03"], out, formats=("md",))
    charts = [name for name in written if name.startswith("charts/")]
    assert len(charts) == len(set(charts)) and len(charts) >= 9, charts  # no file written twice
    for page in [out / "2025-03.md", *(out / "propositions").glob("*.md")]:
        for name in re.findall(r"\]\(((?:\.\./)?charts/[^)]+)\)", page.read_text()):
            assert (page.parent / name).is_file(), name
