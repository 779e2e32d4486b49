"""The bundled case study: valid catalog, sourced observations, known references, deterministic replay."""

import csv
import re
from pathlib import Path

import pytest

from forecast_tracker.api import build_case_study
from forecast_tracker.catalog import load_catalog
from forecast_tracker.demo import case_study_dir

from conftest import snapshot

CASE = Path(__file__).parents[1] / "indicators"
# the commentary the case study starts from, kept beside the tests so the verbatim check always runs
SEED = Path(__file__).parent / "fixtures" / "commentary.txt"


def _plain(text: str) -> str:
    for curly, straight in (("“", '"'), ("”", '"'), ("’", "'"), ("‘", "'")):
        text = text.replace(curly, straight)
    return " ".join(text.split())


REQUIRED = [
    "armenia-western-shift",
    "armenia-csto-exit",
    "armenia-social-unrest",
    "azerbaijan-reconstruction",
    "refugee-influx",
    "artsakh-dissolution",
]


@pytest.fixture(scope="module")
def definitions():
    found, problems = load_catalog(CASE)
    assert problems == []
    return {d.id: d for d in found}


def test_catalog_validates_with_required_propositions(definitions):
    assert set(REQUIRED) <= set(definitions)
    assert case_study_dir().resolve() == CASE.resolve()


def test_each_proposition_is_well_formed(definitions):
    for d in definitions.values():
        assert 3 <= len(d.indicators) <= 6, d.id
        assert any(i.likelihood_ratio < 1 or (i.likelihood_ratio_if_not_met or 1) < 1 for i in d.indicators), d.id
        assert all(i.rationale for i in d.indicators), d.id
        assert d.prior_phrase and d.quote and d.resolve_by > d.opened
        # every "will X happen by D" question decays while quiet; only the two states checked on D do not
        assert (d.decay == "none") == (d.id in {"artsakh-dissolution", "refugee-influx"}), d.id
        # the quoted words are the commentary's own, verbatim
        assert _plain(d.quote) in _plain(SEED.read_text(encoding="utf-8")), d.id


def test_the_social_security_forecast_is_the_commentarys_own_sentence(definitions):
    strain = definitions["displaced-social-strain"]
    sentence = "This situation is likely to result in issues spanning social security, housing, and employment."
    assert _plain(strain.quote) == sentence and sentence in _plain(SEED.read_text(encoding="utf-8"))
    assert strain.origin == "commentary" and strain.prior == pytest.approx(0.675)  # "likely", the ICD 203 midpoint


ANALYST = {"armenia-csto-exit", "armenia-eaeu-exit", "pashinyan-ousted", "armenia-azerbaijan-peace-treaty"}


def test_the_analysts_additions_are_marked_and_kept_out_of_the_commentarys_score(definitions, tmp_path):
    assert {d.id for d in definitions.values() if d.origin == "analyst"} == ANALYST
    tracker = build_case_study(tmp_path / "case.db")
    try:
        # resolve one analyst question: it is scored, but skill vs the commentary must not move
        before = tracker.scores(as_of="2026-11-29").as_json()
        tracker.resolve("pashinyan-ousted", "no", date="2026-11-01", source="test")
        after = tracker.scores(as_of="2026-11-29").as_json()
    finally:
        tracker.close()
    assert "pashinyan-ousted" in {row["id"] for row in after["propositions"]}
    assert after["summary"]["n_resolved"] == before["summary"]["n_resolved"] + 1
    assert after["summary"]["n_commentary"] == before["summary"]["n_commentary"]
    assert after["summary"]["skill_vs_prior"] == pytest.approx(before["summary"]["skill_vs_prior"])


def _earliest_date_in(source: str) -> str | None:
    dates = re.findall(r"\b(\d{4}-\d{2}-\d{2})\b", source)
    return min(dates) if dates else None


def test_no_observation_or_resolution_is_dated_before_the_source_it_cites():
    """Evidence counts from the day it was public: never before the first dated source it names."""
    for name, date_column in (("observations.csv", "observed_on"), ("resolutions.csv", "resolved_on")):
        with open(CASE / name, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                earliest = _earliest_date_in(row["source"])
                assert earliest is None or row[date_column] >= earliest, row


def test_observations_refer_to_known_indicators_and_carry_a_source(definitions):
    indicators = {i.id: i for d in definitions.values() for i in d.indicators}
    with open(CASE / "observations.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 55
    for row in rows:
        assert row["indicator"] in indicators, row
        assert row["source"].strip(), row
        assert row["note"].strip(), row


# Timeline rows the record leaves out or dates differently, each with its reason (docs/case-study.md, "Errata").
NOT_LOGGED = {
    ("2023-10-27", "hindi.sputniknews.in; azatutyun.am/amp/32417740"): "a shipment being considered is no contract",
    ("2025-03-14", "azatutyun.am/a/33348158"): "a phone call is not a Russia-led summit",
    ("2025-07-03", "commonspace.eu"): "an SCO application is not an EAEU deferral",
    ("2025-09-04", "oc-media.org; theins.ru"): "a projection of trade is not a level",
}
REDATED = {  # timeline date -> the date of the first dated source it cites
    ("2023-09-19", "en.wikipedia.org/wiki/2023_Armenian_protests; mirrorspectator.com 2023-09-21"): "2023-09-21",
    ("2025-07-01", "zartonkmedia.com 2025-09-01"): "2025-09-01",
    ("2025-12-10", "news.az 2025-12-11"): "2025-12-11",
    ("2026-05-04", "vestikavkaza.ru; en.aravot.am 2026-06-03"): "2026-06-03",
    ("2026-06-07", "bne IntelliNews 2026-06-08; elect.am"): "2026-06-08",
}


def test_observations_cover_every_timeline_row():
    timeline = Path(__file__).parents[2] / "shared/reference/timeline.csv"
    if not timeline.exists():
        pytest.skip("shared/reference/timeline.csv is not beside the repository")
    with open(CASE / "observations.csv", newline="", encoding="utf-8") as fh:
        observed = {(r["observed_on"], r["source"]) for r in csv.DictReader(fh)}
    with open(timeline, newline="", encoding="utf-8") as fh:
        for event in csv.DictReader(fh):
            key = (event["date"], event["source"])
            if key in NOT_LOGGED:
                assert key not in observed, event["event"]
                continue
            assert (REDATED.get(key, event["date"]), event["source"]) in observed, event["event"]


def test_approximate_dates_are_said_so_in_the_note():
    with open(CASE / "observations.csv", newline="", encoding="utf-8") as fh:
        rows = {(r["observed_on"], r["indicator"]): r["note"] for r in csv.DictReader(fh)}
    for key in [
        ("2024-09-15", "csto-participation-frozen"),
        ("2024-12-31", "russia-trade-level"),
        ("2026-06-03", "west-ties-deepen"),
    ]:
        assert "only the" in rows[key], key


def test_resolutions_refer_to_known_propositions(definitions):
    with open(CASE / "resolutions.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and all(r["proposition"] in definitions and r["source"] for r in rows)
    assert "armenia-csto-exit" not in {r["proposition"] for r in rows}  # no formal withdrawal by June 2026
    # criterion (b), the government's EU-accession bill, came five days before the US charter
    assert {r["proposition"]: r["resolved_on"] for r in rows}["armenia-western-shift"] == "2025-01-09"


def test_replay_is_deterministic(tmp_path):
    first = build_case_study(tmp_path / "a.db")
    second = build_case_study(tmp_path / "b.db")
    first.close()
    second.close()

    def stable(path):
        tables = snapshot(path)
        # recorded_at and created_at are wall-clock times; everything else must match
        return {
            t: [tuple(v for v in row if not (isinstance(v, str) and v.endswith("Z") and "T" in v)) for row in rows]
            for t, rows in tables.items()
            if t != "schema_migration"
        }

    assert stable(tmp_path / "a.db") == stable(tmp_path / "b.db")
    assert len(snapshot(tmp_path / "a.db")["application"]) > 40 and snapshot(tmp_path / "a.db")["probability_update"] == []


def test_demo_renders_every_month_and_leaves_other_databases_alone(cli, tmp_path):
    import datetime as dt

    from forecast_tracker.api import Tracker

    with Tracker(tmp_path / "forecast.db", create=True):
        pass
    existing = (tmp_path / "forecast.db").read_bytes()
    result = cli("demo", "--out", tmp_path / "demo")
    assert result.code == 0, result.err
    assert (tmp_path / "forecast.db").read_bytes() == existing
    today = dt.date.today()
    months = (today.year - 2023) * 12 + today.month - 10 + 1
    reports = tmp_path / "demo" / "reports"
    assert len(list(reports.glob("20*.html"))) == months and len(list(reports.glob("20*.md"))) == months
    assert str(reports / "index.html") in result.out
    for pid in REQUIRED:
        assert pid in result.out
    # social unrest resolved, with its time-averaged Brier score
    assert re.search(r"armenia-social-unrest .* yes +0\.\d{3}\n", result.out), result.out
    index = (reports / "index.html").read_text()
    assert "2023-10.html" in index and f"{today:%Y-%m}.html" in index
    # running it again replaces the demo's own database, and only that
    assert cli("demo", "--out", tmp_path / "demo").code == 0
    assert sorted(p.name for p in (tmp_path / "demo").iterdir()) == ["case-study.db", "reports"]


README = Path(__file__).parents[1] / "docs" / "case-study.md"  # the case study, out of the README
README_DAY = "2026-11-29"  # the date the README's case-study figures are given for


@pytest.fixture(scope="module")
def case_study(tmp_path_factory):
    tracker = build_case_study(tmp_path_factory.mktemp("case") / "case.db")
    yield tracker
    tracker.close()


def test_readme_worked_example_is_the_chain_the_tool_computes(case_study):
    links = case_study.history("armenia-csto-exit", as_of=README_DAY)
    by = {(h["as_of"], h["method"]): h for h in links}
    r = lambda x: round(x, 3)  # noqa: E731 - the README quotes three decimals
    boycott = by[("2023-11-23", "indicator")]
    assert (r(boycott["previous"]), r(boycott["probability"]), boycott["counted_ratio"]) == (0.337, 0.433, 1.5)
    assert "53 days" in by[("2023-11-23", "decay")]["rationale"]
    freeze = by[("2024-02-22", "indicator")]  # same group as the boycott: adds 2 / 1.5
    assert (r(freeze["previous"]), r(freeze["probability"]), r(freeze["counted_ratio"])) == (0.407, 0.477, 1.333)
    for day in ("2024-06-10", "2024-06-12", "2024-09-15"):  # dues, "we will leave", the freeze restated
        assert by[(day, "indicator")]["counted_ratio"] == pytest.approx(1.0), day
    notice = by[("2025-06-05", "indicator")]
    assert (r(notice["previous"]), r(notice["probability"])) == (0.301, 0.256)
    last = links[-1]
    assert last["method"] == "decay" and "542 days" in last["rationale"] and round(last["probability"], 2) == 0.02


def test_readme_case_study_table_matches_the_record(case_study):
    """Every row of the README's case-study table, recomputed: docs that cannot drift."""
    text = README.read_text(encoding="utf-8")
    table = text[text.index("| proposition | prior | now (final if resolved)") :].split("\n\n")[0].splitlines()[2:]
    standing = {s.id: s for s in case_study.standing(as_of=README_DAY)}
    scored = {row["id"]: row for row in case_study.scores(as_of=README_DAY).as_json()["propositions"]}
    assert len(table) == len(standing)
    for line in table:
        cells = [c.strip() for c in line.strip("|").split("|")]
        pid = cells[0].strip("`")
        s = standing[pid]
        assert cells[1].startswith(f"{s.prior:.2f}") and cells[2].startswith(f"{s.probability:.2f}"), line
        assert cells[3].removeprefix("**").startswith(s.status), line
        if pid in scored:
            assert cells[4] == f"{scored[pid]['time_averaged_brier']:.3f}", line
            assert cells[5] == f"{scored[pid]['prior_time_averaged_brier']:.3f}", line
        else:
            assert cells[4] == cells[5] == "–", line
    summary = case_study.scores(as_of=README_DAY).as_json()["summary"]
    assert f"skill {summary['skill_vs_prior']:+.2f}".replace("-", "−") in text
    assert (
        f"time-averaged Brier {summary['mean_time_averaged_brier']:.3f} against {summary['mean_prior_time_averaged_brier']:.3f}"
        in text
    )


PUBLISHED = Path(__file__).parents[1] / "reports"
PUBLISHED_TO = "2026-10"  # the last complete month when the record was published; fixed so the test never goes stale


def test_published_reports_are_what_the_documented_command_renders(cli, tmp_path):
    """reports/ holds the record as `forecast-tracker demo --to 2026-10 --reports reports` renders it."""
    result = cli("demo", "--out", tmp_path / "demo", "--to", PUBLISHED_TO, "--reports", tmp_path / "reports")
    assert result.code == 0, result.err
    # the page writer's ledger is its cache (it names the code that wrote each page), not published
    ledger = Path("propositions", "fingerprints.json")
    fresh = {p.relative_to(tmp_path / "reports"): p for p in (tmp_path / "reports").rglob("*") if p.is_file()}
    committed = {p.relative_to(PUBLISHED): p for p in PUBLISHED.rglob("*") if p.is_file()}
    lock = Path(".report.lock")  # the folder's lock while a report writes it, not published either
    for name in (ledger, lock):
        fresh.pop(name, None), committed.pop(name, None)
    assert sorted(map(str, committed)) == sorted(map(str, fresh)), "regenerate reports/ (README, Case study)"
    stale = [str(name) for name, path in fresh.items() if path.read_bytes() != committed[name].read_bytes()]
    assert stale == [], f"reports/ differs from a fresh render; regenerate it (README, Case study): {stale[:5]}"
    months = sorted(p.stem for p in PUBLISHED.glob("20*.html"))
    assert months[0] == "2023-10" and months[-1] == PUBLISHED_TO and len(months) == 37


def test_reading_the_record_in_batches_changes_no_byte_or_number(case_study, tmp_path, monkeypatch):
    """Scores, review and scorecards read the record a batch of propositions at a time; the batch size
    (one proposition, three, all), which batch a shown-in-full card came from, and whether the pages
    are written by this process or a forked one change nothing."""
    from forecast_tracker.scorecard import context, dataset

    monkeypatch.setattr(context, "FULL_CARDS", 4)  # cards compete across batches for the full places
    months = ["2023-12", "2024-06", "2025-03", "2026-05"]
    seen = {}
    for size, jobs in ((1, "1"), (1, ""), (3, ""), (1000, "1"), (1000, "")):  # pages in this process, or forked
        monkeypatch.setattr(dataset, "BATCH", size)
        monkeypatch.setenv("FORECAST_TRACKER_JOBS", jobs)
        out = tmp_path / f"batch-{size}-{jobs}"
        case_study.report(months, out, ("md", "html"))
        files = {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
        seen[size, jobs] = (files, case_study.scores("2026-06-30").as_json(), case_study.review("2025-03-31"))
    assert all(result == seen[1000, "1"] for result in seen.values())
    files, scores, review = seen[1000, "1"]
    assert len(files) > 40 and len(scores["propositions"]) >= 5 and scores["indicator_diagnostics"] and review
    # the full cards really came from different batches: the month shows 4 in full and the rest as rows
    html = files["2024-06.html"].decode()
    assert html.count('<section class="card"') == 4 and "The other " in html
