"""The whole record round-trips: export every part (the definitions over time included), import it into a
fresh database synced from the same catalog, and every number, chain, score and page is as it was; the
files exported again are byte for byte the first ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import snapshot

PARTS = ("definitions", "observations", "updates", "resolutions")


def edit(catalog: Path, name: str, old: str, new: str) -> None:
    path = catalog / name
    text = path.read_text()
    assert old in text, (name, old)
    path.write_text(text.replace(old, new, 1))


def _observe(cli, *args: str) -> int:
    cli.ok("observe", *args)
    return max(o["id"] for o in cli.ok("export", "observations", "--format", "json").json)


def build(cli, catalog: Path) -> None:
    """A record with every kind of row that is more than a row: an amendment, a back-dated version and a
    restatement of the criteria (criteria version 2, an update under each), a retirement, a forced
    re-resolution and a retracted resolution."""
    cli.ok("observe", "widget-factory-built", "--date", "2025-02-03", "--source", "press", "--apply", "--by", "ana")
    wrong = _observe(cli, "widget-orders", "--value", "500", "--date", "2025-03-01", "--source", "shop", "--apply", "--by", "ana")
    cli.ok("amend", "observation", str(wrong), "--value", "1500", "--reason", "misread the counter")
    cli.ok("observe", "gadget-bill", "--date", "2025-03-10", "--source", "parliament", "--apply", "--by", "ana")
    cli.ok("observe", "gadget-sales", "--value", "80", "--date", "2025-03-12", "--source", "stats", "--apply", "--by", "ana")
    cli.ok("update", "--new-forecaster", "gadget-ban", "0.3", "--date", "2025-04-01", "--rationale", "bill in committee", "--by", "ana")
    # a back-dated ratio (a version and a restatement) and a changed question (criteria version 2)
    edit(catalog, "gadget-ban.yaml", "likelihood_ratio: 2", "likelihood_ratio: 4\n    effective: 2025-03-01")
    edit(catalog, "gadget-ban.yaml", "question: Will the gadget be banned by 2026-12-31?",
         "question: Will the gadget be banned nationwide by 2026-12-31?")  # fmt: skip
    cli.ok("sync", "--catalog", catalog, "--restate", "--reason", "the bill's sponsor counts double")
    cli.ok("update", "gadget-ban", "0.45", "--date", "2025-05-01", "--rationale", "after the restated question", "--by", "ana")
    cli.ok("retire", "indicator", "widget-recall", "--reason", "no recall regime any more")
    cli.ok("resolve", "widget-launch", "yes", "--date", "2025-06-02", "--source", "shop")
    cli.ok("resolve", "widget-launch", "no", "--date", "2025-06-20", "--source", "recall", "--force")
    cli.ok("retract", "resolution", "2", "--reason", "the recall was of another model")


def seen(cli, out: Path) -> dict[str, str]:
    """Everything a reader can see of the record: chains, standings, scores and one month's pages."""
    shown = {f"history {p}": cli.ok("history", p, "--format", "json").out for p in ("widget-launch", "gadget-ban")}
    for day in ("2025-03-31", "2025-04-30", "2025-12-31"):
        shown[f"list {day}"] = cli.ok("list", "--as-of", day, "--format", "json").out
    shown["score"] = cli.ok("score", "--as-of", "2025-12-31", "--format", "json").out
    shown["show"] = cli.ok("show", "gadget-ban", "--format", "json").out
    cli.ok("report", "--month", "2025-03", "--out", out)
    for page in sorted(out.rglob("*")):
        if page.is_file() and page.suffix in (".html", ".md"):
            shown[str(page.relative_to(out))] = page.read_text()
    return shown


def export_all(cli, folder: Path) -> dict[str, bytes]:
    folder.mkdir()
    files = {}
    for what in PARTS:
        target = folder / (f"{what}.json" if what == "definitions" else f"{what}.csv")
        cli.ok("export", what, "--out", target)
        files[what] = target.read_bytes()
    return files


@pytest.mark.parametrize("anydb", ["sqlite", "postgresql"], indirect=True)
def test_the_whole_record_round_trips_with_its_definitions_over_time(cli, anydb, catalog, tmp_path, monkeypatch):
    build(cli, catalog)
    definitions = cli.ok("export", "definitions").json  # JSON by default
    gadget = next(p for p in definitions["propositions"] if p["id"] == "gadget-ban")
    assert gadget["criteria_version"] == 2
    assert [(v["id"], v["effective"], v["content"]["likelihood_ratio"]) for v in gadget["versions"] if v["id"] == "gadget-bill"
            and v["withdrawn_at"] is None] == [("gadget-bill", "2025-01-01", 2.0), ("gadget-bill", "2025-03-01", 4.0)]  # fmt: skip
    assert {r["key"] for r in gadget["restatements"]} >= {"likelihood_ratio", "question"}
    widget = next(p for p in definitions["propositions"] if p["id"] == "widget-launch")
    assert [r["indicator"] for r in widget["retirements"]] == ["widget-recall"]
    before = seen(cli, tmp_path / "before")
    files = export_all(cli, tmp_path / "first")
    observations = cli.ok("export", "observations", "--format", "json").json
    assert [(r["id"], r["amends"]) for r in observations if r["amends"]] == [(3, 2)]
    assert {r["criteria_version"] for r in cli.ok("export", "updates", "--format", "json").json} == {1, 2}

    monkeypatch.setenv("FORECAST_TRACKER_DB", str(tmp_path / "fresh.db"))
    cli.ok("init", "--catalog", catalog)  # the same catalog, as edited: only today's definitions
    for what in PARTS:
        said = cli.ok("import", tmp_path / "first" / (f"{what}.json" if what == "definitions" else f"{what}.csv")).out
        if what == "definitions":
            assert "replayed the definitions over time of 2 proposition(s)" in said
    assert seen(cli, tmp_path / "after") == before
    assert export_all(cli, tmp_path / "second") == files  # byte for byte
    amended = cli("amend", "observation", "2", "--value", "1600", "--reason", "again")
    assert amended.code == 2 and "observation 2 is retracted; amend observation 3" in amended.err  # the link came back
    # importing every file again adds nothing
    unchanged = snapshot(tmp_path / "fresh.db")
    for what in PARTS:
        cli.ok("import", tmp_path / "first" / (f"{what}.json" if what == "definitions" else f"{what}.csv"))
    assert snapshot(tmp_path / "fresh.db") == unchanged


def test_definitions_replay_only_before_the_record_and_from_the_same_catalog(cli, db, catalog, tmp_path, monkeypatch):
    edit(catalog, "gadget-ban.yaml", "likelihood_ratio: 2", "likelihood_ratio: 4\n    effective: 2025-03-01")
    cli.ok("sync", "--catalog", catalog, "--restate", "--reason", "counts double")
    exported = tmp_path / "definitions.json"
    cli.ok("export", "definitions", "--out", exported)
    # a database with a record of its own: replaying would move numbers already shown
    monkeypatch.setenv("FORECAST_TRACKER_DB", str(tmp_path / "other.db"))
    cli.ok("init", "--catalog", catalog)
    cli.ok("observe", "gadget-bill", "--date", "2025-03-10", "--source", "parliament", "--apply")
    before = snapshot(tmp_path / "other.db")
    refused = cli("import", exported)
    assert refused.code == 2 and "gadget-ban: its stored definitions differ from the file's and it already has" in refused.err
    assert snapshot(tmp_path / "other.db") == before
    # a database synced from another catalog
    monkeypatch.setenv("FORECAST_TRACKER_DB", str(tmp_path / "third.db"))
    edit(catalog, "widget-launch.yaml", "likelihood_ratio: 3", "likelihood_ratio: 5")
    cli.ok("init", "--catalog", catalog)
    before = snapshot(tmp_path / "third.db")
    refused = cli("import", exported)
    assert refused.code == 2 and "widget-launch: the database's definition of indicator widget-factory-built is not the file's latest" in refused.err
    assert snapshot(tmp_path / "third.db") == before
    # --dry-run says what it would do and writes nothing
    monkeypatch.setenv("FORECAST_TRACKER_DB", str(tmp_path / "fourth.db"))
    edit(catalog, "widget-launch.yaml", "likelihood_ratio: 5", "likelihood_ratio: 3")
    cli.ok("init", "--catalog", catalog)
    before = snapshot(tmp_path / "fourth.db")
    said = cli.ok("import", exported, "--dry-run").out
    assert "would replay the definitions over time of 2 proposition(s)" in said and "0 already as the file has them" in said
    assert snapshot(tmp_path / "fourth.db") == before


def _file(tmp_path: Path, data) -> Path:
    path = tmp_path / "defs.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda d: "{not json", "line 1: not JSON"),
        (lambda d: {**d, "format": "something else"}, "not a definitions export"),
        (lambda d: {**d, "version": 2}, "definitions format version 2 is not 1"),
        (lambda d: {**d, "propositions": {}}, '"propositions" must be a list'),
        (lambda d: {**d, "propositions": [{**d["propositions"][0], "id": "nope"}]}, "unknown proposition 'nope'"),
        (lambda d: {**d, "propositions": [{**d["propositions"][0], "criteria_version": "2"}]}, "criteria_version: must be a whole number"),
        (lambda d: {**d, "propositions": [d["propositions"][0], d["propositions"][0]]}, "appears twice"),
        (lambda d: _versions(d, likelihood_ratio=1e308), "likelihood_ratio: 1e+308 is outside"),
        (lambda d: _versions(d, likelihood_ratio=True), "expected a number, got true"),
        (lambda d: _versions(d, kind="weather"), '"weather" is not one of event, count, level'),
        (lambda d: _versions(d, repeats="sometimes"), '"sometimes" is not one of'),
        (lambda d: _versions(d, surprise=1), "expected the keys kind, threshold"),
        (lambda d: _version_field(d, "effective", "2025-13-01"), "'2025-13-01' is not an ISO date"),
        (lambda d: _version_field(d, "recorded_at", "yesterday"), "'yesterday' is not an ISO 8601 time"),
        (lambda d: _version_field(d, "id", "gadget-bill"), "'gadget-bill' is not an indicator of widget-launch"),
        (lambda d: _version_field(d, "kind", "model"), "'model' is not one of proposition, indicator"),
        (lambda d: _part(d, "restatements", {"subject": "x", "key": "k", "old": "", "new": "", "effective": None, "reason": "r",
                                              "recorded_at": "2025-01-01T00:00:00Z"}), "'x' is neither widget-launch"),  # fmt: skip
        (lambda d: _part(d, "retirements", {"indicator": "widget-orders", "reason": "x\x00", "recorded_at": "2025-01-01T00:00:00Z"}),
         "contains a NUL character"),  # fmt: skip
        (lambda d: _part(d, "retirements", {"indicator": "widget-orders"}), "expected the keys indicator, reason, recorded_at"),
    ],
)
def test_a_bad_definitions_file_is_one_clear_refusal_and_writes_nothing(cli, db, tmp_path, change, words):
    exported = cli.ok("export", "definitions").json
    exported["propositions"] = [p for p in exported["propositions"] if p["id"] == "widget-launch"]
    path = _file(tmp_path, change(exported))
    before = snapshot(db)
    result = cli("import", path)
    assert result.code == 2, result.err
    assert words in result.err, result.err
    assert snapshot(db) == before


def _edited(d, edit):
    """The export with its first indicator version edited by `edit(version)`."""
    entry = json.loads(json.dumps(d["propositions"][0]))
    edit(next(v for v in entry["versions"] if v["kind"] == "indicator"))
    return {**d, "propositions": [entry]}


def _versions(d, **keys):
    return _edited(d, lambda version: version["content"].update(keys))


def _version_field(d, key, value):
    return _edited(d, lambda version: version.__setitem__(key, value))


def _part(d, part, row):
    entry = json.loads(json.dumps(d["propositions"][0]))
    entry[part].append(row)
    return {**d, "propositions": [entry]}


def test_an_amends_link_must_name_an_earlier_row_of_the_file(cli, db, tmp_path):
    path = tmp_path / "obs.csv"
    path.write_text("indicator,observed_on,value,source,note,id,amends\n"
                    "widget-orders,2025-03-01,1500,shop,,7,9\n")  # fmt: skip
    before = snapshot(db)
    result = cli("import", path)
    assert result.code == 2 and "line 2: amends: no row with id 9 earlier in this file" in result.err
    path.write_text("indicator,observed_on,value,source,note,applied_by,criteria_version\n"
                    "widget-orders,2025-03-01,1500,shop,,ana,3\n")  # fmt: skip
    result = cli("import", path)
    assert result.code == 2 and "criteria_version: widget-launch has criteria version 1, not 3" in result.err
    assert snapshot(db) == before


def test_a_definitions_file_with_times_written_another_way_imports_twice_adding_nothing(cli, db, catalog, tmp_path, monkeypatch):
    """Times are compared as stored (UTC, `Z`): a file whose times say `+00:00` is the same record."""
    edit(catalog, "gadget-ban.yaml", "likelihood_ratio: 2", "likelihood_ratio: 4\n    effective: 2025-03-01")
    cli.ok("sync", "--catalog", catalog, "--restate", "--reason", "counts double")
    exported = cli.ok("export", "definitions").out.replace("Z\"", "+00:00\"")
    assert "+00:00" in exported
    path = tmp_path / "definitions.json"
    path.write_text(exported)
    monkeypatch.setenv("FORECAST_TRACKER_DB", str(tmp_path / "fresh.db"))
    cli.ok("init", "--catalog", catalog)
    cli.ok("import", path)
    cli.ok("observe", "gadget-bill", "--date", "2025-03-10", "--source", "parliament", "--apply")
    again = cli.ok("import", path).out  # the record exists now: only an equal file may come in
    assert "replayed the definitions over time of 0 proposition(s)" in again and "2 already as the file has them" in again
