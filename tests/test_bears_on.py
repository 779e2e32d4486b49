"""Signposts that bear on several propositions (issue 23): one observation counts for each proposition
a signpost's `bears_on` names, with that proposition's ratio; repeats and groups per proposition;
retracted once for all; the evidence x propositions matrix."""

from __future__ import annotations

import json
import sqlite3

import pytest

from forecast_tracker.api import Tracker
from forecast_tracker.probability import apply_likelihood_ratio

from conftest import snapshot

SHARED = """    rationale: Factories are built for products that launch.
    bears_on:
      - proposition: gadget-ban
        likelihood_ratio: 0.5
        rationale: a widget factory means the gadget's market moves on
"""


def share(catalog) -> None:
    path = catalog / "widget-launch.yaml"
    text = path.read_text()
    shared = text.replace("    rationale: Factories are built for products that launch.\n", SHARED)
    assert shared != text
    path.write_text(shared)


@pytest.fixture
def shared_db(cli, catalog, tmp_path):
    share(catalog)
    cli.ok("init", "--catalog", catalog)
    return tmp_path / "test.db"


def _observe(cli, *args: str) -> int:
    cli.ok("observe", *args)
    return max(o["id"] for o in json.loads(cli.ok("export", "observations", "--format", "json").out))


def link_of(cli, proposition: str, obs: int) -> dict:
    rows = cli.ok("history", proposition, "--as-of", "2025-06-30", "--format", "json").json
    [link] = [r for r in rows if r["observation_id"] == obs and r["method"] == "indicator"]
    return link


def test_one_observation_counts_for_each_proposition_with_its_own_ratio(cli, shared_db):
    r = cli("observe", "widget-factory-built", "--date", "2025-03-02", "--source", "s", "--apply")
    assert r.code == 0, r.err
    assert "widget-launch:" in r.out and "gadget-ban:" in r.out and "shared: widget-factory-built@gadget-ban" in r.out
    obs = 1
    widget, gadget = link_of(cli, "widget-launch", obs), link_of(cli, "gadget-ban", obs)
    assert widget["counted_ratio"] == 3 and gadget["counted_ratio"] == 0.5
    assert gadget["indicator"] == "widget-factory-built@gadget-ban"
    assert gadget["probability"] == pytest.approx(apply_likelihood_ratio(gadget["previous"], 0.5), abs=1e-12)
    assert widget["probability"] == pytest.approx(apply_likelihood_ratio(widget["previous"], 3), abs=1e-12)
    # the standing numbers (read from the cache) are the chain's (derived)
    with Tracker(shared_db) as t:
        cached = {s.id: s.probability for s in t.standing("2025-06-30")}
        t.rebuild_cache()
        assert cached == {s.id: s.probability for s in t.standing("2025-06-30")}


def test_repeats_count_per_proposition_and_one_retraction_removes_it_from_both(cli, shared_db):
    first = _observe(cli, "widget-factory-built", "--date", "2025-03-02", "--source", "a", "--apply")
    second = _observe(cli, "widget-factory-built", "--date", "2025-04-02", "--source", "b", "--apply")
    for proposition in ("widget-launch", "gadget-ban"):
        assert link_of(cli, proposition, second)["counted_ratio"] == 1  # an event counts once, in each chain
    cli.ok("retract", "observation", str(first), "--reason", "wrong factory")
    after = {r["id"]: r["probability"] for r in cli.ok("list", "--as-of", "2025-06-30", "--format", "json").json}
    assert link_of(cli, "widget-launch", second)["counted_ratio"] == 3  # now the first firing, in each chain
    assert link_of(cli, "gadget-ban", second)["counted_ratio"] == 0.5
    for proposition in ("widget-launch", "gadget-ban"):  # the retracted one left both chains
        rows = cli.ok("history", proposition, "--as-of", "2025-06-30", "--format", "json").json
        assert first not in [r["observation_id"] for r in rows if not r["retracted"]]
    with Tracker(shared_db) as t:
        t.rebuild_cache()
        assert after == {s.id: s.probability for s in t.standing("2025-06-30")}


def test_a_hand_made_application_empties_every_proposition_it_counts_for(cli, shared_db):
    obs = _observe(cli, "widget-factory-built", "--date", "2025-03-02", "--source", "s")
    cli.ok("list")  # fills the cache
    with sqlite3.connect(shared_db) as conn:
        assert conn.execute("SELECT count(*) FROM track_cache").fetchone()[0] == 2
        conn.execute("INSERT INTO application (observation_id, forecaster, recorded_at) VALUES (?, 'x', '2025-03-03T00:00:00+00:00')",
                     (obs,))  # fmt: skip
        assert conn.execute("SELECT count(*) FROM track_cache").fetchone()[0] == 0


def test_show_lists_it_under_each_and_the_matrix_holds_both_cells(cli, shared_db):
    obs = _observe(cli, "widget-factory-built", "--date", "2025-03-02", "--source", "s", "--apply")
    gadget = cli.ok("show", "gadget-ban", "--format", "json").json
    assert "widget-factory-built@gadget-ban" in [i["id"] for i in gadget["indicators"]]
    assert [o["id"] for o in gadget["observations"]] == [obs]
    assert [o["id"] for o in cli.ok("export", "observations", "--format", "json").json] == [obs]  # once in a file
    m = cli.ok("show", "--matrix", "--as-of", "2025-06-30", "--format", "json").json
    [row] = [r for r in m["rows"] if r["indicator"] == "widget-factory-built"]
    assert row["proposition"] == "widget-launch"
    assert row["decibans"]["widget-launch"] == pytest.approx(10 * __import__("math").log10(3))
    assert row["decibans"]["gadget-ban"] == pytest.approx(10 * __import__("math").log10(0.5))
    table = cli.ok("show", "--matrix", "--as-of", "2025-06-30").out
    assert "widget-factory-built" in table and "+4.8" in table and "-3.0" in table
    only = cli.ok("show", "--matrix", "--tag", "widgets", "--as-of", "2025-06-30", "--format", "json").json
    assert only["propositions"] == ["widget-launch"] and "gadget-ban" not in only["rows"][0]["decibans"]
    assert cli("show", "widget-launch", "--matrix").code == 2


def test_an_entry_is_not_observed_directly(cli, shared_db):
    before = snapshot(shared_db)
    r = cli("observe", "widget-factory-built@gadget-ban", "--source", "s")
    assert r.code == 2 and "observe widget-factory-built" in r.err
    assert snapshot(shared_db) == before


def test_adding_bears_on_after_the_fact_is_a_restatement(cli, db, catalog):
    _observe(cli, "widget-factory-built", "--date", "2025-03-02", "--source", "s", "--apply")
    gadget_before = cli.ok("list", "--as-of", "2025-06-30", "--format", "json").json
    share(catalog)
    before = snapshot(db)
    refused = cli("sync", "--catalog", catalog)
    assert refused.code == 2 and "would count for gadget-ban" in refused.err and "--restate" in refused.err
    assert snapshot(db) == before
    cli.ok("sync", "--catalog", catalog, "--restate", "--reason", "the factory bears on the gadget too")
    after = {r["id"]: r["probability"] for r in cli.ok("list", "--as-of", "2025-06-30", "--format", "json").json}
    assert after["gadget-ban"] != {r["id"]: r["probability"] for r in gadget_before}["gadget-ban"]
    history = cli.ok("history", "gadget-ban", "--format", "json").json
    assert any(r["method"] == "restatement" or "restate" in (r["rationale"] or "") for r in history)


def test_a_bears_on_entry_added_before_any_observation_needs_no_restatement(cli, db, catalog):
    share(catalog)
    assert cli("sync", "--catalog", catalog).code == 0


@pytest.mark.parametrize(
    ("entry", "said"),
    [
        ("      - proposition: no-such\n        likelihood_ratio: 2\n", "no proposition 'no-such'"),
        ("      - proposition: widget-launch\n        likelihood_ratio: 2\n", "already counts for its own"),
        ("      - proposition: gadget-ban\n        likelihood_ratio: 0\n", "must be > 0"),
        ("      - proposition: gadget-ban\n        likelihood_ratio: 2\n"
         "      - proposition: gadget-ban\n        likelihood_ratio: 3\n", "listed twice"),
        ("      - proposition: gadget-ban\n        ratio: 2\n", "ratio"),
    ],
)
def test_bad_bears_on_entries_are_refused_with_their_path(cli, tmp_path, catalog, entry, said):
    path = catalog / "widget-launch.yaml"
    path.write_text(path.read_text().replace("    rationale: Factories are built for products that launch.\n",
                                             "    rationale: Factories are built.\n    bears_on:\n" + entry))  # fmt: skip
    r = cli("init", "--catalog", catalog)
    assert r.code == 2 and said in r.err and "bears_on" in r.err


def test_shared_signposts_on_either_backend(cli, anydb, catalog):
    share(catalog)
    cli.ok("sync", "--catalog", catalog)
    obs = _observe(cli, "widget-factory-built", "--date", "2025-03-02", "--source", "s", "--apply")
    assert link_of(cli, "gadget-ban", obs)["counted_ratio"] == 0.5
    cached = {r["id"]: r["probability"] for r in cli.ok("list", "--as-of", "2025-06-30", "--format", "json").json}
    cli.ok("retract", "observation", str(obs), "--reason", "r")  # the triggers empty both propositions' rows
    retracted = {r["id"]: r["probability"] for r in cli.ok("list", "--as-of", "2025-06-30", "--format", "json").json}
    assert retracted["gadget-ban"] > cached["gadget-ban"] and retracted["widget-launch"] < cached["widget-launch"]
    cli.ok("db", "rebuild-cache")
    assert retracted == {r["id"]: r["probability"] for r in cli.ok("list", "--as-of", "2025-06-30", "--format", "json").json}


def test_the_scorecard_shows_the_shared_signposts_matrix(cli, shared_db, tmp_path):
    _observe(cli, "widget-factory-built", "--date", "2025-03-02", "--source", "s", "--apply")
    _observe(cli, "gadget-bill", "--date", "2025-03-04", "--source", "s", "--apply")  # not shared: not in the matrix
    with Tracker(shared_db) as t:
        t.report(["2025-03"], tmp_path / "r", ("md", "html"))
    md = (tmp_path / "r" / "2025-03.md").read_text()
    section = md[md.index("## Shared signposts") :]
    assert "| widget-factory-built | -3.0 dB | +4.8 dB |" in section and "gadget-bill" not in section.split("##")[1]
    assert '<section id="matrix">' in (tmp_path / "r" / "2025-03.html").read_text()
    with Tracker(shared_db) as t:  # read a proposition at a time, the matrix is the same
        import forecast_tracker.scorecard.dataset as dataset

        old, dataset.BATCH = dataset.BATCH, 1
        try:
            t.report(["2025-03"], tmp_path / "one", ("md",))
        finally:
            dataset.BATCH = old
    assert (tmp_path / "one" / "2025-03.md").read_text() == md
