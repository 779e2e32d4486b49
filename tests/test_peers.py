"""A peer's record comes in (Fatebook, Metaculus, PredictionBook, Manifold), the crowd is a benchmark
beside the team, and reminders leave the tool: a calendar file and a notification.

The sample files in tests/data/peers are written in each platform's own export format; where each
column and field name comes from is said at the top of `forecast_tracker/io/peers.py` (Fatebook's
`lib/web/export.ts` and `lib/web/import_router.ts`, the README of a Metaculus question download,
PredictionBook's serializers and the predictionbook-extractor's CSV writer, Manifold's API docs).
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
import zipfile
from pathlib import Path

import pytest

from forecast_tracker.api import Tracker
from forecast_tracker.errors import InputError
from forecast_tracker.io import peers

DATA = Path(__file__).parent / "data" / "peers"


@pytest.fixture
def empty(cli, tmp_path: Path) -> Path:
    """An initialised database with an empty catalog folder."""
    (tmp_path / "indicators").mkdir()
    cli.ok("init", "--catalog", tmp_path / "indicators")
    return tmp_path / "test.db"


def state(tmp_path: Path) -> tuple[str, list[str]]:
    """A digest of the database file and the catalog's file names: what "nothing written" compares."""
    digest = hashlib.sha256((tmp_path / "test.db").read_bytes()).hexdigest()
    return digest, sorted(p.name for p in (tmp_path / "indicators").iterdir())


def stored(tracker: Tracker, pid: str, who: str | None = None) -> list[tuple]:
    """(as_of, probability, forecaster) of each stored update of `pid` (by `who`), as exported."""
    rows = [u for u in json.loads(tracker.export("updates", "json")) if u["proposition"] == pid]
    return [(u["as_of"], u["probability"], u["forecaster"]) for u in rows if who is None or u["forecaster"] == who]


def ids_by_title(tracker: Tracker) -> dict[str, str]:
    return {s.statement: s.id for s in tracker.standing("2026-12-01")}


# -- each source ------------------------------------------------------------------------------------
def test_fatebook_export_imports_forecasts_resolution_and_lists_what_it_skipped(cli, empty, tmp_path):
    r = cli("import", "--from", "fatebook", DATA / "fatebook.csv", "--catalog", tmp_path / "indicators")
    assert r.code == 0, r.err
    assert "'Which party wins?' is a multiple-choice question: skipped" in r.out
    assert r.out.count("Which party wins?") == 1  # one line for the question, not one per option
    assert "a forecast dated 2024-06-08, after" in r.out and "refused" in r.out
    with Tracker(empty) as t:
        ids = ids_by_title(t)
        ecb = ids["Will the ECB cut rates in June 2024?"]
        assert set(ids) == {"Will the ECB cut rates in June 2024?", "Will it snow in Paris this winter?"}
        # two forecasts by Alice on 2024-04-01: the day's last (0.8) is kept; Bob's 1 is clamped
        assert stored(t, ecb) == [("2024-03-01", 0.6, "Alice"), ("2024-04-01", 0.8, "Alice"), ("2024-04-02", 0.999, "Bob")]
        assert "recorded as 0.999" in [h for h in t.history(ecb) if h["method"] == "manual"][-1]["rationale"]
        record = t.resolution_record(ecb)
        assert [(r["outcome"], r["resolved_on"]) for r in record] == [("yes", "2024-06-06")]
        snow = ids["Will it snow in Paris this winter?"]
        assert t.show(snow)["prior"] == 0.001  # a 0% forecast is the first forecast, clamped
    text = (tmp_path / "indicators" / f"{ecb}.yaml").read_text()
    for expected in ("origin: analyst", "decay: none", "prior: 0.6", "publisher: Fatebook", "indicators: []"):
        assert expected in text


def test_fatebook_spreadsheet_reads_percentages_and_keeps_a_question_with_no_forecast(cli, empty, tmp_path):
    cli.ok("import", "--from", "fatebook-sheet", DATA / "fatebook-sheet.csv", "--catalog", tmp_path / "indicators")
    with Tracker(empty) as t:
        ids = ids_by_title(t)
        draft = ids["Will I finish the draft by Friday?"]
        assert stored(t, draft) == [("2024-05-01", 0.7, "tester"), ("2024-05-02", 0.4, "tester")]  # "40" is 40%
        assert json.loads(t.show(draft)["tags"]) == ["fatebook", "writing", "work"]
        marathon = ids["Will I run a marathon this year?"]
        shown = t.show(marathon)
        assert shown["prior"] == 0.5 and "no forecast" in shown["prior_phrase"]
        assert stored(t, marathon) == []


def test_metaculus_download_loose_or_zipped_gives_the_same_record(cli, empty, tmp_path):
    bundle = tmp_path / "metaculus.zip"
    with zipfile.ZipFile(bundle, "w") as z:
        z.write(DATA / "question_data.csv", "question_data.csv")
        z.write(DATA / "forecast_data.csv", "forecast_data.csv")
        z.writestr("README.md", "not read")
    r = cli("import", "--from", "metaculus", bundle, "--catalog", tmp_path / "indicators")
    assert r.code == 0, r.err
    assert "question 40349 ('Which party wins?') is multiple_choice: skipped" in r.out
    with Tracker(empty) as t:
        [pid] = ids_by_title(t).values()
        mine, crowd = stored(t, pid, "alice"), stored(t, pid, "metaculus:cp")
        shown = [(h["as_of"], h["probability"]) for h in t.history(pid, by="metaculus:cp") if h["method"] == "manual"]
    assert mine == [("2025-11-22", 0.4, "alice"), ("2026-01-22", 0.8, "alice")]
    assert crowd == [("2025-11-21", 0.69, "metaculus:cp"), ("2025-12-21", 0.5, "metaculus:cp")]
    assert shown == [(d, p) for d, p, _ in crowd]  # the crowd's own track: its numbers as they were
    again = cli("import", "--from", "metaculus", DATA / "forecast_data.csv", DATA / "question_data.csv",
                "--catalog", tmp_path / "indicators")  # fmt: skip
    assert again.code == 0 and "0 forecast(s)" in again.out and "5 already stored" in again.out


def test_predictionbook_json_and_extractor_csv(cli, empty, tmp_path):
    cli.ok("import", "--from", "predictionbook", DATA / "predictionbook.json", DATA / "predictionbook-extractor.csv",
           "--catalog", tmp_path / "indicators")  # fmt: skip
    with Tracker(empty) as t:
        ids = ids_by_title(t)
        euro = ids["The Euro 2024 final goes to penalties"]
        assert stored(t, euro) == [("2024-06-01", 0.25, "dee"), ("2024-06-03", 0.001, "dee")]  # a comment is no forecast
        assert [r["outcome"] for r in t.resolution_record(euro)] == ["no"]
        btc = t.show(ids["Bitcoin above 50k at end of 2024"])
        assert btc["prior"] == 0.7 and "holds no dated forecast" in btc["prior_phrase"]
        assert btc["source_url"] == "https://predictionbook.com/predictions/201"


def test_manifold_market_price_is_the_crowd_and_its_prior_is_the_price_before_the_first_bet(cli, empty, tmp_path):
    cli.ok("import", "--from", "manifold", DATA / "manifold-bets.json", DATA / "manifold-market.json",
           "--catalog", tmp_path / "indicators")  # fmt: skip
    with Tracker(empty) as t:
        [pid] = ids_by_title(t).values()
        shown = t.show(pid)
        assert shown["prior"] == 0.5  # bet b1 (the earlier, listed second) moved 0.5 -> 0.6
        assert stored(t, pid) == [("2024-01-02", 0.6, "manifold:market"), ("2024-02-01", 0.55, "manifold:market")]
        assert [r["outcome"] for r in t.resolution_record(pid)] == ["yes"]


# -- all or nothing ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "source, name, content, says",
    [
        ("fatebook-sheet", "bad.csv", b"questionTitle,forecast,qCreatedAt,resolution\n\xff\xfeQ,70,2024-01-01,\n", "not UTF-8"),
        ("predictionbook", "cut.json", (DATA / "predictionbook.json").read_bytes()[:300], "not valid JSON"),
        ("fatebook", "cut.csv", (DATA / "fatebook.csv").read_bytes()[:700], "a truncated file?"),
        ("metaculus", "only.csv", (DATA / "forecast_data.csv").read_bytes(), "no question '40348' in question_data.csv"),
        ("manifold", "bets.json", (DATA / "manifold-bets.json").read_bytes(), "no market 'abc123' among the files"),
        ("metaculus", "x.zip", b"PK\x03\x04 not really a zip", "not a readable zip file"),
        ("fatebook-sheet", "future.csv", b"questionTitle,forecast,qCreatedAt,resolution\nQ,70,2999-01-01,\n", "2999-01-01"),
        ("fatebook-sheet", "pct.csv", b"questionTitle,forecast,qCreatedAt,resolution\nQ,170,2024-01-01,\n", "outside 0-100%"),
        ("fatebook", "res.csv", (DATA / "fatebook.csv").read_bytes().replace(b'"YES"', b'"MAYBE"'), "'maybe' is not a resolution"),
    ],
)
def test_a_bad_file_writes_nothing_neither_rows_nor_catalog_files(cli, empty, tmp_path, source, name, content, says):
    bad = tmp_path / name
    bad.write_bytes(content)
    good = DATA / ("fatebook.csv" if source.startswith("fatebook") else "question_data.csv")
    before = state(tmp_path)
    files = [good, bad] if source == "fatebook" else [bad]
    r = cli("import", "--from", source, *files, "--catalog", tmp_path / "indicators")
    assert r.code == 2, r.out
    assert says in r.err, r.err
    assert r.err.startswith("error: ") and "Traceback" not in r.err
    assert state(tmp_path) == before


def test_a_problem_found_by_the_rules_after_the_drafts_were_written_removes_them(cli, empty, tmp_path, monkeypatch):
    """The rows are checked in the transaction after the drafts are written and synced: a refusal there
    rolls the rows back and takes the new files away again."""
    from forecast_tracker import rules

    def refuse(*args, **kwargs):
        raise InputError("refused for the test", "as_of")

    monkeypatch.setattr(rules, "update", refuse)
    before = state(tmp_path)
    r = cli("import", "--from", "fatebook", DATA / "fatebook.csv", "--catalog", tmp_path / "indicators")
    assert r.code == 2 and "refused for the test" in r.err
    assert state(tmp_path) == before


def test_a_file_the_analyst_edited_is_kept_and_importing_again_adds_nothing(cli, empty, tmp_path):
    folder = tmp_path / "indicators"
    cli.ok("import", "--from", "fatebook", DATA / "fatebook.csv", "--catalog", folder)
    [ecb] = folder.glob("will-the-ecb-*.yaml")
    ecb.write_text(ecb.read_text().replace("tags:\n  - fatebook", "tags:\n  - fatebook\n  - rates"))
    cli.ok("sync", "--catalog", folder)
    before = hashlib.sha256((tmp_path / "test.db").read_bytes()).hexdigest()
    again = cli("import", "--from", "fatebook", DATA / "fatebook.csv", "--catalog", folder)
    assert again.code == 0, again.err
    assert "0 new catalog file(s)" in again.out and "0 forecast(s)" in again.out and "0 resolution(s)" in again.out
    assert "rates" in ecb.read_text()
    with Tracker(tmp_path / "test.db") as t:
        assert "rates" in t.show(ecb.stem)["tags"]
    assert hashlib.sha256((tmp_path / "test.db").read_bytes()).hexdigest() == before


def test_usage_errors(cli, empty, tmp_path):
    r = cli("import", "--from", "gjopen", DATA / "fatebook.csv")
    assert r.code == 2 and "'gjopen' is not a source" in r.err and "--from" in r.err
    r = cli("import", "--from", "fatebook", DATA / "fatebook.csv", "--apply")
    assert r.code == 2 and "not a peer's record" in r.err
    r = cli("import", DATA / "fatebook.csv", DATA / "fatebook-sheet.csv")
    assert r.code == 2 and "one CSV at a time" in r.err
    r = cli("import", "--from", "fatebook", tmp_path / "missing.csv")
    assert r.code == 2 and "does not exist" in r.err
    r = cli("import", "--from", "fatebook", DATA / "fatebook.csv", "--catalog", tmp_path / "no" / "such")
    assert r.code == 2 and "does not exist" in r.err


def test_ids_are_stable_and_tell_two_questions_with_one_title_apart():
    import datetime as dt

    when = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    a = peers.Question("fatebook", "Same?\n2024-01-01T00:00:00+00:00", "Same?", when, "x")
    b = peers.Question("fatebook", "Same?\n2024-02-01T00:00:00+00:00", "Same?", when, "x")
    assert peers.proposition_id(a) == peers.proposition_id(a) != peers.proposition_id(b)
    assert peers.proposition_id(a).startswith("same-")


# -- the crowd is a benchmark -----------------------------------------------------------------------
def test_the_crowd_is_never_pooled_into_the_team_and_is_scored_beside_it(cli, empty, tmp_path):
    cli.ok("import", "--from", "metaculus", DATA / "question_data.csv", DATA / "forecast_data.csv",
           "--catalog", tmp_path / "indicators")  # fmt: skip
    with Tracker(empty) as t:
        [pid] = ids_by_title(t).values()
        # alice is the only forecaster: the team is her track (0.8), not a median with the crowd (0.5)
        assert t.standing("2026-02-01")[0].probability == 0.8
        assert t.forecasters() == ["alice", "metaculus:cp"]
        scores = t.scores("2026-12-01").as_json()
    assert [f["forecaster"] for f in scores["forecasters"]] == ["alice"]
    [bench] = scores["benchmarks"]
    # by hand: opened 2025-11-21, resolved yes 2026-03-01, 100 days. The crowd: 0.69 for 30 days, then
    # 0.5 for 70. The team: the prior 0.4 on 11-21 and alice's 0.4 to 01-21 (62 days), 0.8 for 38.
    crowd = (30 * 0.31**2 + 70 * 0.5**2) / 100
    team = (62 * 0.6**2 + 38 * 0.2**2) / 100
    assert bench["benchmark"] == "metaculus:cp" and bench["n_resolved"] == 1 and bench["days"] == 100
    assert bench["mean_time_averaged_brier"] == pytest.approx(crowd, abs=1e-12)
    assert bench["team_mean_time_averaged_brier"] == pytest.approx(team, abs=1e-12)
    assert bench["team_minus_benchmark"] == pytest.approx(team - crowd, abs=1e-12)
    table = cli("score", "--as-of", "2026-12-01")
    assert "team vs crowd" in table.out and "metaculus:cp" in table.out


def test_the_crowd_track_is_the_same_from_the_cache_and_derived(cli, empty, tmp_path):
    cli.ok("import", "--from", "manifold", DATA / "manifold-market.json", DATA / "manifold-bets.json",
           "--catalog", tmp_path / "indicators")  # fmt: skip
    with Tracker(empty) as t:
        cached = t.scores("2026-12-01").as_json()["benchmarks"]
        t.rebuild_cache()
        with t.db.write() as conn:
            conn.exec_driver_sql("DELETE FROM track_cache")
        derived = t.scores("2026-12-01").as_json()["benchmarks"]
    assert cached == derived and cached[0]["benchmark"] == "manifold:market"


# -- reminders that reach people --------------------------------------------------------------------
def test_calendar_parses_back_with_each_open_propositions_due_and_review_dates(cli, db, tmp_path):
    from icalendar import Calendar

    cli.ok("update", "widget-launch", "0.7", "--date", "2026-10-01", "--rationale", "checked")
    cli.ok("resolve", "gadget-ban", "no", "--date", "2026-11-01", "--source", "gazette")
    out = tmp_path / "due.ics"
    r = cli("export", "calendar", "--out", out)
    assert r.code == 0, r.err
    events = {str(e["uid"]): e for e in Calendar.from_ical(out.read_bytes()).walk("VEVENT")}
    assert set(events) == {"due-widget-launch@forecast-tracker", "review-widget-launch@forecast-tracker"}  # resolved: none
    due, review = events["due-widget-launch@forecast-tracker"], events["review-widget-launch@forecast-tracker"]
    assert due.decoded("dtstart").isoformat() == "2026-06-30"
    assert str(due["summary"]) == "Due: The widget launches."
    # last moved 2026-10-01: stale 90 days later, on 2026-12-30 (today is earlier)
    assert review.decoded("dtstart").isoformat() == "2026-12-30"
    assert "forecast-tracker show widget-launch" in str(review["description"])
    assert cli("export", "calendar", "--format", "json").code == 2


def test_calendar_text_is_escaped_not_interpreted(cli, tmp_path):
    from icalendar import Calendar

    (tmp_path / "indicators").mkdir()
    nasty = "Semi; colon, comma\\ back END:VCALENDAR BEGIN:VEVENT"
    (tmp_path / "indicators" / "x.yaml").write_text(
        "proposition:\n  id: x\n  statement: " + json.dumps(nasty) + "\n  question: Q?\n  resolution_criteria: C\n"
        "  opened: 2026-01-01\n  resolve_by: 2027-01-01\n  prior: 0.5\n  source:\n    title: T\nindicators: []\n"
    )
    cli.ok("init", "--catalog", tmp_path / "indicators")
    cli.ok("export", "calendar", "--out", tmp_path / "c.ics")
    [due] = [e for e in Calendar.from_ical((tmp_path / "c.ics").read_bytes()).walk("VEVENT") if "due-" in str(e["uid"])]
    assert str(due["summary"]) == "Due: " + nasty
    assert len(list(Calendar.from_ical((tmp_path / "c.ics").read_bytes()).walk("VEVENT"))) == 2


class _Hook(http.server.BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):  # noqa: N802 (the standard library's name)
        length = int(self.headers.get("Content-Length", 0))
        type(self).received.append(self.rfile.read(length))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def hook():
    """A local HTTP endpoint on 127.0.0.1 for one test, stopped when the test ends."""
    _Hook.received = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"json://127.0.0.1:{server.server_address[1]}/hook", _Hook.received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_review_notify_sends_the_queue_and_the_digest_to_a_local_endpoint(cli, db, hook):
    url, received = hook
    cli.ok("observe", "widget-factory-built", "--date", "2025-03-01", "--source", "press")
    r = cli("review", "--as-of", "2025-06-15", "--notify", url, "--digest")
    assert r.code == 0, r.err
    assert "fired-unchanged" in r.out  # the terminal still shows the queue
    [body] = received
    message = json.loads(body)
    assert message["title"] == "forecast-tracker review, 2025-06-15"
    assert "widget-launch: fired-unchanged: widget-factory-built on 2025-03-01 fired" in message["message"]
    assert "## This month" in message["message"] and "June 2025" in message["message"]


def test_nothing_is_sent_without_notify_and_a_bad_url_is_bad_input(cli, db, hook):
    url, received = hook
    assert cli("review", "--as-of", "2025-06-15").code == 0
    bad = cli("review", "--notify", "not a url")
    assert bad.code == 2 and "not a notification URL" in bad.err
    unknown = cli("review", "--notify", "nosuchservice://x")
    assert unknown.code == 2 and "Apprise" in unknown.err
    assert cli("review", "--digest").code == 2
    assert received == []


def test_a_delivery_that_fails_is_a_failure_not_bad_input(cli, db):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = cli("review", "--notify", f"json://127.0.0.1:{port}/x")
    assert r.code == 1 and "could not deliver" in r.err


def test_sample_files_are_the_platforms_shapes():
    """The samples keep the columns each platform writes (a changed sample would test another format)."""
    header = (DATA / "fatebook.csv").read_text().splitlines()[0]
    assert header.startswith('"Question title","Multiple choice option","Forecast created by","Forecast (scale = 0-1)"')
    assert (DATA / "forecast_data.csv").read_text().splitlines()[0].split(",")[:8] == [
        "Question ID", "Forecaster ID", "Forecaster Username", "Is Bot", "Start Time", "End Time", "Forecaster Count",
        "Probability Yes",
    ]  # fmt: skip


def test_the_scorecard_shows_the_crowd_beside_the_team(cli, empty, tmp_path):
    cli.ok("import", "--from", "metaculus", DATA / "question_data.csv", DATA / "forecast_data.csv",
           "--catalog", tmp_path / "indicators")  # fmt: skip
    cli.ok("report", "--month", "2026-01", "--out", tmp_path / "reports", "--format", "all")
    md = (tmp_path / "reports" / "2026-01.md").read_text()
    html = (tmp_path / "reports" / "2026-01.html").read_text()
    # on 2026-01-31 the crowd stands at 0.5 (since 2025-12-21); the team (alice) at 0.8
    assert "Beside the team, never pooled into it: metaculus:cp 50%" in md
    assert "never pooled into it: metaculus:cp 50%" in html
    cli.ok("report", "--month", "2025-11", "--out", tmp_path / "reports", "--format", "md")
    assert "metaculus:cp 69%" in (tmp_path / "reports" / "2025-11.md").read_text()


def test_a_peer_import_on_each_backend_scores_the_crowd_and_imports_once(cli, anydb, tmp_path):
    from conftest import snapshot

    folder = tmp_path / "from-metaculus"
    r = cli("import", "--from", "metaculus", DATA / "question_data.csv", DATA / "forecast_data.csv", "--catalog", folder)
    assert r.code == 0, r.err
    assert "4 forecast(s) (2 by the crowd" in r.out and "1 resolution(s)" in r.out
    scores = cli.ok("score", "--as-of", "2026-12-01", "--format", "json").json
    assert [b["benchmark"] for b in scores["benchmarks"]] == ["metaculus:cp"]
    before = snapshot(anydb)
    again = cli("import", "--from", "metaculus", DATA / "question_data.csv", DATA / "forecast_data.csv", "--catalog", folder)
    assert again.code == 0 and "0 forecast(s)" in again.out
    assert snapshot(anydb) == before


def test_a_market_of_another_type_is_listed_and_skipped(cli, empty, tmp_path):
    market = json.loads((DATA / "manifold-market.json").read_text())
    other = {**market, "id": "mc1", "outcomeType": "MULTIPLE_CHOICE", "question": "Which rocket flies first?"}
    (tmp_path / "markets.json").write_text(json.dumps([market, other]))
    bets = json.loads((DATA / "manifold-bets.json").read_text()) + [{**json.loads((DATA / "manifold-bets.json").read_text())[0],
                                                                     "id": "b9", "contractId": "mc1"}]  # fmt: skip
    (tmp_path / "bets.json").write_text(json.dumps(bets))
    r = cli("import", "--from", "manifold", tmp_path / "markets.json", tmp_path / "bets.json", "--catalog", tmp_path / "indicators")
    assert r.code == 0, r.err
    assert "market mc1 ('Which rocket flies first?') is MULTIPLE_CHOICE: skipped" in r.out
    assert "imported 1 question(s)" in r.out and "2 forecast(s)" in r.out  # the other market's bet is not read
