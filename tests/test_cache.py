"""The derived cache of tracks (`track_cache`): never the truth, always equal to deriving the record.

Every cached row is compared with a fresh derivation on every proposition and many dates, after
randomized records built through the API (bounded by count), after raw SQL that bypasses the API, and
after a write that fails part-way."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast_tracker import store
from forecast_tracker.api import Tracker
from forecast_tracker.dates import month_end
from forecast_tracker.errors import InputError
from forecast_tracker.evidence import CACHE_VERSION, head_covers, view_of

KINDS = ("event", "count", "level")


def _catalog(folder: Path, n: int, rnd: random.Random, team: str = "median") -> list[tuple[str, str]]:
    folder.mkdir(exist_ok=True)
    indicators = []
    for k in range(n):
        pid = f"p{k}"
        lines = [
            f"proposition:\n  id: {pid}\n  statement: S{k}.\n  question: Will {k} happen?\n  resolution_criteria: YES if so.",
            f"  opened: 2024-01-01\n  resolve_by: 2025-{rnd.randint(1, 12):02d}-28\n  prior: {rnd.uniform(0.05, 0.95):.3f}",
            f"  decay: {rnd.choice(['hazard', 'none'])}\n  team: {team}\n  source:\n    title: T\nindicators:",
        ]
        for i in range(3):
            kind, iid = KINDS[i], f"{pid}-s{i}"
            lines.append(f"  - id: {iid}\n    description: D.\n    kind: {kind}\n    likelihood_ratio: {rnd.choice([0.3, 2, 4])}")
            if kind != "event":
                lines.append("    threshold: 50\n    likelihood_ratio_if_not_met: 0.6")
            if i == 0 and rnd.random() < 0.3:
                lines.append("    decides: yes")
            indicators.append((iid, kind))
        (folder / f"{pid}.yaml").write_text("\n".join(lines) + "\n")
    return indicators


DAYS = ["2023-12-31", "2024-01-01", "2024-01-02", "2024-02-15", "2024-03-31", "2024-06-30", "2024-09-01", "2024-12-31",
        "2025-03-01", "2025-12-31", "2027-01-01"]  # fmt: skip
EVERY_MONTH_END = [month_end(f"{y}-{m:02d}") for y in (2023, 2024, 2025) for m in range(1, 13)]


def assert_cache_is_the_record(t: Tracker) -> int:
    """Every cached row, read back (every anchor, and the head on the days it covers), answers as the
    derivation does on every date, and the head refuses the days it does not cover; how many rows."""
    with t.db.read() as conn:
        ids = store.proposition_ids(conn)
        cached = store.cached_states(conn, CACHE_VERSION, anchors=True)
        heads = store.cached_states(conn, CACHE_VERSION)
        derived = t._derived(conn, None)
    for pid in ids:
        if pid not in cached:
            continue  # emptied by raw SQL: derived until the next write (checked by the callers)
        head_state = json.loads(heads[pid])
        head, truth = view_of(head_state), derived[pid]
        for day in DAYS + EVERY_MONTH_END:
            if head_covers(head_state, day):
                assert (head.at(day), head.last_moved(day), head.members(day)) == (
                    truth.at(day), truth.last_moved(day), truth.members(day)), (pid, day)  # fmt: skip
            else:
                with pytest.raises(RuntimeError):
                    head.at(day)
        assert json.loads(heads[pid])["last"] >= max(link.on for link in truth.links)
        view = view_of(json.loads(cached[pid]))
        for day in DAYS:
            assert view.at(day) == truth.at(day), (pid, day)
            assert view.before(day) == truth.before(day), (pid, day)
            assert view.last_moved(day) == truth.last_moved(day), (pid, day)
            assert view.members(day) == truth.members(day), (pid, day)
            assert view.spread(day) == truth.spread(day), (pid, day)
            assert view.criterion_met(day) == truth.criterion_met(day), (pid, day)
        assert view.daily("2025-06-01") == truth.daily("2025-06-01"), pid
        assert {k: v[1] for k, v in view.side_by_side().items()} == {k: v[1] for k, v in truth.side_by_side().items()}
    return len(cached)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_cache_equals_the_derivation_on_randomized_records(tmp_path, seed):
    rnd = random.Random(seed)
    indicators = _catalog(tmp_path / "cat", 6, rnd, team=rnd.choice(["median", "geo-odds", "mean", "trimmed"]))
    t = Tracker(tmp_path / "r.db", create=True)
    t.sync(tmp_path / "cat")
    assert assert_cache_is_the_record(t) == 6  # written by the sync that created them
    observed: list[int] = []
    for step in range(80):  # bounded by count
        action = rnd.random()
        day = f"2024-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
        try:
            if action < 0.5:
                iid, kind = rnd.choice(indicators)
                value = None if kind == "event" else rnd.randrange(100)
                result = t.observe(iid, date=day, value=value, source=f"s{step}", apply=rnd.random() < 0.8)
                observed.append(result.observation_id)
            elif action < 0.8:
                who = rnd.choice(["ana", "ben", "cy"])
                t.update(f"p{rnd.randrange(6)}", round(rnd.uniform(0.05, 0.95), 2), date=day, rationale="r", by=who)
            elif action < 0.9 and observed:
                t.retract("observation", rnd.choice(observed), reason="wrong")
            elif observed:
                t.apply(rnd.choice(observed))
        except InputError:
            pass  # a refused write (already retracted, already applied, a duplicate) changes nothing
        if step % 10 == 9:
            assert assert_cache_is_the_record(t) == 6
    t.close()


def test_raw_sql_that_bypasses_the_api_empties_the_rows_it_changes(tmp_path):
    rnd = random.Random(7)
    indicators = _catalog(tmp_path / "cat", 3, rnd)
    db = tmp_path / "r.db"
    t = Tracker(db, create=True)
    t.sync(tmp_path / "cat")
    t.observe(indicators[0][0], date="2024-02-01", source="x", apply=True)
    t.update("p1", 0.7, date="2024-03-01", rationale="r", by="ana")
    before = {r.id: r.probability for r in t.standing("2024-12-31")}
    with sqlite3.connect(db) as conn:  # as the benchmark adds its updates
        conn.execute("INSERT INTO probability_update (proposition_id, as_of, probability, method, rationale, forecaster, "
                     "recorded_at) VALUES ('p2', '2024-04-01', 0.9, 'manual', 'raw', 'bob', '2026-01-01T00:00:00Z')")  # fmt: skip
        obs = conn.execute("SELECT id FROM observation").fetchone()[0]
        conn.execute("INSERT INTO retraction (target, target_id, reason, recorded_at) VALUES ('observation', ?, 'raw', 'x')", (obs,))
        left = {row[0] for row in conn.execute("SELECT proposition_id FROM track_cache")}
    conn.close()
    assert left == {"p1"}  # p0 (its observation retracted) and p2 (a new update) emptied
    after = {r.id: r.probability for r in t.standing("2024-12-31")}
    assert after["p2"] == pytest.approx(0.9) and after["p1"] == before["p1"] and after["p0"] != before["p0"]
    t.update("p1", 0.6, date="2024-05-01", rationale="r", by="ana")  # the next write fills every empty row
    assert assert_cache_is_the_record(t) == 3
    final = {r.id: r.probability for r in t.standing("2024-12-31")}
    assert final["p0"] == after["p0"] and final["p2"] == after["p2"] and final["p1"] != after["p1"]
    t.close()


def test_a_write_that_fails_while_filling_the_cache_writes_nothing(tmp_path, monkeypatch):
    rnd = random.Random(8)
    indicators = _catalog(tmp_path / "cat", 2, rnd)
    t = Tracker(tmp_path / "r.db", create=True)
    t.sync(tmp_path / "cat")

    def broken(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(store, "write_states", broken)
    with pytest.raises(RuntimeError):
        t.observe(indicators[0][0], date="2024-02-01", source="x", apply=True)
    monkeypatch.undo()
    with t.db.read() as conn:
        assert store.observations(conn) == []  # the observation went with the cache row: one transaction
        assert sorted(store.cached_states(conn, CACHE_VERSION)) == ["p0", "p1"]
    assert assert_cache_is_the_record(t) == 2
    t.close()


def test_rows_of_another_version_are_derived_and_rebuild_cache_writes_every_row(tmp_path, cli):
    rnd = random.Random(9)
    _catalog(tmp_path / "cat", 3, rnd)
    db = tmp_path / "r.db"
    cli.ok("--db", db, "init", "--catalog", tmp_path / "cat")
    cli.ok("--db", db, "update", "--new-forecaster", "p0", "0.8", "--date", "2024-02-01", "--rationale", "r", "--by", "ana")
    shown = cli.ok("--db", db, "list", "--as-of", "2024-06-30", "--format", "json").out
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE track_cache SET version = 'an older model'")
    conn.close()
    assert cli.ok("--db", db, "list", "--as-of", "2024-06-30", "--format", "json").out == shown  # derived, the same
    done = cli.ok("--db", db, "db", "rebuild-cache")
    assert "3 proposition(s)" in done.out
    with sqlite3.connect(db) as conn:
        assert {v for (v,) in conn.execute("SELECT version FROM track_cache")} == {CACHE_VERSION}
    conn.close()
    assert cli.ok("--db", db, "list", "--as-of", "2024-06-30", "--format", "json").out == shown


def test_an_old_database_gains_the_cache_on_upgrade(tmp_path):
    # a database of the release before: no track_cache table, no triggers; opening it migrates, and
    # the first write fills every row
    rnd = random.Random(10)
    _catalog(tmp_path / "cat", 2, rnd)
    db = tmp_path / "old.db"
    with Tracker(db, create=True) as t:
        t.sync(tmp_path / "cat")
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TABLE track_cache")
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute("DELETE FROM schema_migration WHERE name = '0006_track_cache'")
    conn.close()
    with Tracker(db) as t:
        assert [r.id for r in t.standing("2024-06-30")] == ["p0", "p1"]
        t.update("p0", 0.3, date="2024-02-01", rationale="r", by="ana")
        assert assert_cache_is_the_record(t) == 2



def test_the_cache_and_its_triggers_on_each_backend(cli, anydb):
    from sqlalchemy import create_engine, text

    cli.ok("observe", "widget-factory-built", "--date", "2025-02-01", "--source", "s", "--apply")
    cli.ok("observe", "widget-orders", "--value", "1200", "--date", "2025-03-01", "--source", "s", "--apply")
    for who, p, day in (("ana", "0.7", "2025-02-10"), ("ben", "0.4", "2025-02-20"), ("cy", "0.9", "2025-04-01")):
        cli.ok("update", "--new-forecaster", "widget-launch", p, "--date", day, "--rationale", "r", "--by", who)
    cli.ok("update", "--new-forecaster", "gadget-ban", "0.3", "--date", "2025-02-01", "--rationale", "r", "--by", "ana")
    t = Tracker(anydb)
    assert assert_cache_is_the_record(t) == 2
    url = anydb if "://" in str(anydb) else f"sqlite:///{anydb}"
    engine = create_engine(url)
    with engine.begin() as conn:  # an update typed by hand empties its proposition's row on this backend too
        conn.execute(text("INSERT INTO probability_update (proposition_id, as_of, probability, method, rationale, "
                          "forecaster, recorded_at) VALUES ('gadget-ban', '2025-05-01', 0.8, 'manual', 'raw', 'ben', 'x')"))  # fmt: skip
        left = sorted(row[0] for row in conn.execute(text("SELECT proposition_id FROM track_cache")))
    engine.dispose()
    assert left == ["widget-launch"]
    shown = {r.id: r.probability for r in t.standing("2025-06-30")}
    cli.ok("retract", "observation", "1", "--reason", "wrong")  # a write: every emptied row is filled again
    assert assert_cache_is_the_record(t) == 2
    assert {r.id: r.probability for r in t.standing("2025-06-30")}["gadget-ban"] == shown["gadget-ban"]
    t.close()


@pytest.mark.parametrize("seed", [4, 5])
def test_scores_from_the_cache_are_the_scores_of_the_record(tmp_path, seed):
    # `score` reads the cached anchors of every proposition whose events are all dated by its as-of
    # date, and derives the others; the JSON must be the same bytes as deriving all of them
    rnd = random.Random(seed)
    indicators = _catalog(tmp_path / "cat", 6, rnd)
    db = tmp_path / "r.db"
    t = Tracker(db, create=True)
    t.sync(tmp_path / "cat")
    for step in range(60):
        day = f"2024-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
        try:
            if rnd.random() < 0.6:
                iid, kind = rnd.choice(indicators)
                t.observe(iid, date=day, value=None if kind == "event" else rnd.randrange(100), source=f"s{step}", apply=True)
            else:
                t.update(f"p{rnd.randrange(6)}", round(rnd.uniform(0.05, 0.95), 2), date=day, rationale="r",
                         by=rnd.choice(["ana", "ben", "cy"]))  # fmt: skip
        except InputError:
            pass
    for k in range(6):
        try:
            t.resolve(f"p{k}", rnd.choice(["yes", "no"]), date=f"2025-0{rnd.randint(1, 6)}-15", source="news")
        except InputError:
            pass
    days = ["2024-06-30", "2024-12-31", "2025-03-31", "2025-12-31"]
    cached = {day: json.dumps(t.scores(day).as_json(), sort_keys=True) for day in days}
    pools = json.dumps(t.compare_pools("2025-12-31"), sort_keys=True)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE track_cache SET version = 'none'")  # every track derived from the record
    conn.close()
    assert {day: json.dumps(t.scores(day).as_json(), sort_keys=True) for day in days} == cached
    assert json.dumps(t.compare_pools("2025-12-31"), sort_keys=True) == pools
    t.close()


def test_score_reads_the_cache_when_the_record_ends_by_its_date(cli, db, monkeypatch):
    from forecast_tracker.scorecard import dataset

    cli.ok("observe", "widget-factory-built", "--date", "2025-02-01", "--source", "s", "--apply")
    cli.ok("update", "--new-forecaster", "widget-launch", "0.7", "--date", "2025-03-01", "--rationale", "r", "--by", "ana")
    cli.ok("resolve", "widget-launch", "yes", "--date", "2025-04-01", "--source", "s")
    used: list[list[str]] = []
    real = dataset.cached_views
    monkeypatch.setattr(dataset, "cached_views", lambda conn, ids, until, pool=None: used.append(
        sorted(found := real(conn, ids, until, pool))) or found)  # fmt: skip
    cli.ok("score", "--as-of", "2025-04-30")
    cli.ok("score", "--as-of", "2025-02-15")
    assert used == [["gadget-ban", "widget-launch"], ["gadget-ban"]]  # widget-launch has an update after 02-15


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12) | st.none(), max_size=20))
def test_the_cache_is_read_back_exactly_as_it_was_written(values):
    """The cache is written by `json` and read by `orjson` (2.6x faster): every float comes back to
    the last bit, and text and nulls as they were."""
    import orjson

    written = json.dumps({"values": values, "nested": [values]}, sort_keys=True)
    assert orjson.loads(written) == json.loads(written)
    assert [repr(v) for v in orjson.loads(written)["values"]] == [repr(v) for v in values]
