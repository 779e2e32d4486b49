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
SEED = Path(__file__).parents[2] / "shared/seed/commentary.txt"


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
        if SEED.exists():  # the quoted words are the commentary's own, verbatim
            assert _plain(d.quote) in _plain(SEED.read_text(encoding="utf-8")), d.id


def test_observations_refer_to_known_indicators_and_carry_a_source(definitions):
    indicators = {i.id: i for d in definitions.values() for i in d.indicators}
    with open(CASE / "observations.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 55
    for row in rows:
        assert row["indicator"] in indicators, row
        assert row["source"].strip(), row
        assert row["note"].strip(), row


def test_observations_cover_every_timeline_row():
    timeline = Path(__file__).parents[2] / "shared/reference/timeline.csv"
    if not timeline.exists():
        pytest.skip("shared/reference/timeline.csv is not beside the repository")
    with open(CASE / "observations.csv", newline="", encoding="utf-8") as fh:
        observed = {(r["observed_on"], r["source"]) for r in csv.DictReader(fh)}
    with open(timeline, newline="", encoding="utf-8") as fh:
        for event in csv.DictReader(fh):
            assert (event["date"], event["source"]) in observed, event["event"]


def test_approximate_dates_are_said_so_in_the_note():
    with open(CASE / "observations.csv", newline="", encoding="utf-8") as fh:
        rows = {(r["observed_on"], r["indicator"]): r["note"] for r in csv.DictReader(fh)}
    for key in [
        ("2024-09-15", "csto-participation-frozen"),
        ("2024-12-31", "russia-trade-level"),
        ("2026-05-04", "west-ties-deepen"),
    ]:
        assert "only the" in rows[key], key


def test_resolutions_refer_to_known_propositions(definitions):
    with open(CASE / "resolutions.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and all(r["proposition"] in definitions and r["source"] for r in rows)
    assert "armenia-csto-exit" not in {r["proposition"] for r in rows}  # no formal withdrawal by June 2026


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


README = Path(__file__).parents[1] / "README.md"
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
    freeze = by[("2024-02-22", "indicator")]
    assert (r(freeze["previous"]), r(freeze["probability"])) == (0.407, 0.578)
    assert r(by[("2024-06-12", "indicator")]["probability"]) == 0.777
    assert by[("2024-09-15", "indicator")]["counted_ratio"] == pytest.approx(1.0)  # the restated freeze counts for nothing
    notice = by[("2025-06-05", "indicator")]
    assert (r(notice["previous"]), r(notice["probability"])) == (0.603, 0.549)
    last = links[-1]
    assert last["method"] == "decay" and "542 days" in last["rationale"] and round(last["probability"], 2) == 0.04


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
