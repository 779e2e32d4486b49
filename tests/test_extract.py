"""`extract`: estimative sentences found, their words read through a scale, drafts refused by sync
until filled, and the labelled set's recall, precision and bands right (README "Extract")."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
import yaml

from forecast_tracker import api
from forecast_tracker.extract import lexicon
from forecast_tracker.extract.reading import DRAFTED, classify, read
from forecast_tracker.extract.sentences import Sentence, split

DATA = Path(__file__).parent / "data" / "extract"
SEED = DATA / "seed-commentary.txt"


def one(text: str):
    return classify(Sentence(text, 1, 1))


# -- the seed commentary ---------------------------------------------------------------------------
# (the sentence's opening words, the verdict, the prior on the ICD 203 scale or None for TODO)
SEED_FORECASTS = [
    ("This announcement signals the anticipated resolution", "forecast", 0.675),  # Artsakh dissolves
    ("Conversely, if Armenia were to relinquish", "modal", None),
    ("Given these circumstances, and considering", "forecast", 0.875),  # the pro-Western shift
    ("In the near future, it is anticipated", "forecast", 0.675),  # reconstruction
    ("However, within Armenia, there is a growing resentment", "trend", None),
    ("This sentiment has fueled new protests.", "trend", None),  # the protests
    ("Furthermore, it is projected that up to 120,000", "forecast", 0.675),  # the refugee burden
    ("This situation is likely to result in issues spanning social security", "forecast", 0.675),
    ("Given that residents of Nagorno-Karabakh are regarded", "forecast", 0.5),  # social unrest
]


def test_the_seed_commentarys_forecasts_are_found_with_verbatim_quotes_and_icd203_priors(tmp_path):
    result = api.extract(SEED, tmp_path / "drafts", published="2023-10-01", source_title="Emerging Developments")
    drafted = [row for row in result.sentences if row["draft"]]
    assert [(row["verdict"], row["probability"]) for row in drafted] == [(v, p) for _s, v, p in SEED_FORECASTS]
    flat = " ".join(SEED.read_text(encoding="utf-8").split())
    for row, (start, _verdict, _prior) in zip(drafted, SEED_FORECASTS, strict=True):
        assert row["text"].startswith(start)
        draft = yaml.safe_load((tmp_path / "drafts" / f"{row['draft']}.yaml").read_text(encoding="utf-8"))
        quote = draft["proposition"]["source"]["quote"]
        assert quote == row["text"] and quote in flat  # the whole sentence, as the author wrote it
        assert draft["proposition"]["origin"] == "commentary"
        assert str(draft["proposition"]["opened"]) == "2023-10-01"
    shift = next(r for r in drafted if r["text"].startswith("Given these circumstances"))
    assert shift["words"] == ["highly probable"] and shift["band"] == "very likely"
    assert shift["statement"].startswith("The decision to relinquish Nagorno-Karabakh will be followed by a swift shift")
    unrest = next(r for r in drafted if r["text"].startswith("Given that residents"))
    assert unrest["statement"] == "A heightened risk of social unrest in Armenia is foreseeable in the future."


def test_none_of_the_seeds_dated_facts_is_drafted():
    readings = read(split(SEED.read_text(encoding="utf-8")))
    dated = [r for r in readings if re.search(r"\b(?:On|on) (?:September|January) \d|\b20(?:20|22|23)\b", r.sentence.text)]
    assert len(dated) >= 6
    assert not [r.sentence.text for r in dated if r.drafted]
    speculated = next(r for r in readings if "it was speculated" in r.sentence.text)
    assert speculated.verdict == "fact" and not speculated.drafted


# -- the labelled set: recall, precision, bands right ------------------------------------------------
def _labelled(folder: Path):
    for labels in sorted(folder.glob("*.labels.tsv")):
        stem = labels.name.removesuffix(".labels.tsv")
        text = next(p for p in folder.glob(f"{stem}.*") if p.suffix in (".txt", ".md")).read_text(encoding="utf-8")
        with labels.open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
        yield stem, text, rows


def measure(folder: Path) -> dict[str, float]:
    """Recall and precision of estimative sentences, and the share of bands right among those found,
    against the labels (a band is an ICD 203 term, a number, or TODO)."""
    tp = fp = fn = right = 0
    for _stem, text, rows in _labelled(folder):
        labels = {row["sentence"]: row for row in rows}
        for reading in read(split(text)):
            label = labels[reading.sentence.text]
            estimative = label["label"] != "no"
            tp += reading.drafted and estimative
            fp += reading.drafted and not estimative
            fn += estimative and not reading.drafted
            if reading.drafted and estimative:
                if reading.number is not None:
                    right += label["band"][0].isdigit() and abs(float(label["band"]) - reading.number) < 0.005
                elif reading.level is not None:
                    right += lexicon.band("icd203", reading.level)[0] == label["band"]
                else:
                    right += label["band"] == "TODO"
    return {"recall": tp / (tp + fn), "precision": tp / (tp + fp), "bands": right / tp, "estimative": tp + fn}


@pytest.mark.parametrize("folder", [DATA, DATA / "held-out"], ids=["development", "held-out"])
def test_the_labelled_sets_sentences_split_as_labelled(folder):
    for stem, text, rows in _labelled(folder):
        assert [s.text for s in split(text)] == [row["sentence"] for row in rows], stem


@pytest.mark.parametrize("folder", [DATA, DATA / "held-out"], ids=["development", "held-out"])
def test_recall_precision_and_bands_meet_the_goals(folder):
    figures = measure(folder)
    assert figures["recall"] >= 0.9 and figures["precision"] >= 0.8 and figures["bands"] >= 0.85, figures


def test_the_readme_quotes_the_measured_figures():
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    for name, folder in (("development", DATA), ("held-out", DATA / "held-out")):
        f = measure(folder)
        line = f"| {name} | {f['estimative']} | {f['recall']:.2f} | {f['precision']:.2f} | {f['bands']:.2f} |"
        assert line in readme, line


# -- the rules, one by one ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "verdict", "level", "number"),
    [
        ("Growth is not likely to recover.", "forecast", 3, None),
        ("A deal is not unlikely this year.", "forecast", 5, None),
        ("Prices probably won't return to their peak.", "forecast", 3, None),
        ("Further hikes should not be needed.", "forecast", 3, None),
        ("A settlement is not very likely before June.", "forecast", 3, None),
        ("We judge it almost certain that the plant closes.", "forecast", 7, None),
        ("There is a remote chance of a coup.", "forecast", 1, None),
        ("We put a seventy-five percent chance on a cut.", "forecast", None, 0.75),
        ("Markets see a 30-40% chance of a recession.", "forecast", None, 0.35),
        ("A strike has a one in ten chance.", "forecast", None, 0.1),
        ("The probability of default is about 15%.", "forecast", None, 0.15),
        ("Unemployment fell to 4% in May.", "fact", None, None),  # a percentage, not a probability
        ("The vote is set for May 12.", "fact", None, None),  # the month, not the modal
        ('He said: "It will likely pass."', "fact", None, None),  # someone else's words
        ("If the talks were likely to fail, the envoy would leave.", "fact", None, None),  # a condition
        ("Officials expected a deal by June.", "past-judgement", None, None),
        ("A deal was likely until the talks broke down.", "past-judgement", None, None),
        ("The firm has said it will build a plant.", "reported", None, None),
        ("Will the coalition survive?", "question", None, None),
        ("The terminal will reopen on 15 January.", "future", None, None),
        ("The coalition could fall.", "modal", None, None),
        ("A shutdown cannot be ruled out.", "modal", None, None),
        ("There is a mounting backlash against the plan.", "trend", None, None),
        ("The will of the people is clear.", "fact", None, None),
    ],
)
def test_each_rule_by_value(text, verdict, level, number):
    reading = one(text)
    assert (reading.verdict, reading.level, reading.number) == (verdict, level, number), reading


def test_both_scales_by_value():
    assert [lexicon.band("icd203", k)[3] for k in range(1, 8)] == [0.03, 0.125, 0.325, 0.5, 0.675, 0.875, 0.97]
    assert [lexicon.band("phia", k)[3] for k in range(1, 8)] == [0.025, 0.15, 0.3, 0.45, 0.65, 0.85, 0.975]
    assert [lexicon.band("phia", k)[0] for k in (4, 6)] == ["realistic possibility", "highly likely"]
    assert api.parse_probability(lexicon.band("icd203", 6)[0]) == lexicon.band("icd203", 6)[3]  # the catalog agrees


def test_phia_scale_through_the_command(cli, tmp_path):
    text = tmp_path / "note.txt"
    text.write_text("We judge it highly likely that the grid copes. A strike is a realistic possibility.\n")
    out = json.loads(cli.ok("extract", text, "--scale", "phia", "--format", "json").out)
    assert [(r["band"], r["probability"]) for r in out] == [("highly likely", 0.85), ("realistic possibility", 0.45)]
    assert not (tmp_path / "indicators").exists()  # json writes nothing


def test_splitting_survives_abbreviations_initials_decimals_quotes_and_markdown():
    text = (
        "# Outlook\n\n- Dr. A. B. Smith of the U.S. Treasury said growth was 2.5% in Jan. last year. "
        'He added: "Rates will fall." The next meeting is on Nov. 4 at 10 a.m. in the capital.\n'
        "* **Bold** claim with a [link](http://x.test) here.\n\nA wait... then more. End!\n"
    )
    assert [(s.text, s.line) for s in split(text)] == [
        ("Outlook", 1),
        ("Dr. A. B. Smith of the U.S. Treasury said growth was 2.5% in Jan. last year.", 3),
        ('He added: "Rates will fall."', 3),
        ("The next meeting is on Nov. 4 at 10 a.m. in the capital.", 3),
        ("Bold claim with a link here.", 4),
        ("A wait... then more.", 6),
        ("End!", 6),
    ]


# -- drafts and sync ----------------------------------------------------------------------------
def _fill(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r'question: "TODO[^"]*"', 'question: "Will it happen by 2026-12-31?"', text)
    text = re.sub(r'resolution_criteria: "TODO[^"]*"', 'resolution_criteria: "YES if it happens by 2026-12-31."', text)
    text = re.sub(r'resolve_by: "TODO[^"]*"', "resolve_by: 2026-12-31", text)
    text = re.sub(r'prior: "TODO[^"]*"', "prior: 0.4", text)
    path.write_text(text, encoding="utf-8")


def test_drafts_are_refused_by_sync_with_one_line_each_until_filled(cli, tmp_path):
    drafts = tmp_path / "drafts"
    cli.ok("extract", SEED, "--out", drafts, "--published", "2023-10-01", "--source-title", "Emerging Developments")
    files = sorted(drafts.glob("*.yaml"))
    assert len(files) == len(SEED_FORECASTS)
    refused = cli("--db", tmp_path / "x.db", "init", "--catalog", drafts)
    assert refused.code == 2 and not (tmp_path / "x.db").exists()
    lines = [line for line in refused.err.splitlines() if "a draft: fill" in line]
    assert len(lines) == len(files)
    assert any("prior" in line for line in lines) and all("resolve_by" in line for line in lines)
    for path in files:
        _fill(path)
    accepted = cli("--db", tmp_path / "x.db", "init", "--catalog", drafts)
    assert accepted.code == 0, accepted.err
    assert f"{len(files)} added" in accepted.out
    shown = cli.ok("--db", tmp_path / "x.db", "show", "decision-relinquish-nagorno-karabakh-followed-swift").out
    assert "0.875" in shown or "0.88" in shown


def test_sync_of_the_catalog_names_drafts_waiting_beside_it(cli, catalog, tmp_path):
    cli.ok("extract", SEED, "--out", catalog / "drafts")
    result = cli.ok("init", "--catalog", catalog)
    assert f"{len(SEED_FORECASTS)} draft(s) in {catalog / 'drafts'} are not synced" in result.err


def test_a_second_run_changes_nothing_and_never_overwrites_an_edited_draft(cli, tmp_path):
    drafts = tmp_path / "drafts"
    cli.ok("extract", SEED, "--out", drafts)
    edited = sorted(drafts.glob("*.yaml"))[0]
    edited.write_text(edited.read_text(encoding="utf-8").replace("TODO: the deadline", "TODO: by end of 2026"))
    before = {p.name: p.read_bytes() for p in drafts.glob("*.yaml")}
    again = cli.ok("extract", SEED, "--out", drafts).out
    assert f"0 written to {drafts}, {len(before) - 1} unchanged, 1 kept as they are (edited since): {edited.name}" in again
    assert {p.name: p.read_bytes() for p in drafts.glob("*.yaml")} == before


def test_a_draft_reads_back_whatever_the_sentence_holds(tmp_path):
    (tmp_path / "odd.txt").write_text('It is likely that "quotes", colons: # hashes and \\ backslashes stay.\n')
    result = api.extract(tmp_path / "odd.txt", tmp_path / "d")
    draft = yaml.safe_load((tmp_path / "d" / f"{result.drafts[0]}.yaml").read_text(encoding="utf-8"))
    assert draft["proposition"]["source"]["quote"] == result.sentences[0]["text"]
    assert draft["proposition"]["statement"] == '"Quotes", colons: # hashes and \\ backslashes stay.'


def test_json_lists_every_sentence_with_its_verdict_and_reason(cli):
    rows = json.loads(cli.ok("extract", SEED, "--format", "json").out)
    assert len(rows) == len(split(SEED.read_text(encoding="utf-8")))
    assert {r["verdict"] for r in rows} >= {"forecast", "modal", "trend", "fact"}
    assert all(r["reason"] and (r["draft"] is not None) == (r["verdict"] in DRAFTED) for r in rows)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "x.txt is empty: there is nothing to extract"),
        (b"  \n\n", "x.txt is empty: there is nothing to extract"),
        (b"\x7fELF\x02\x01\x00\x00", "x.txt: not a text file (a NUL byte at offset 6)"),
        (b"Fine line.\nA caf\xe9 line.\n", "x.txt: line 2: not UTF-8 text (byte 16)"),
    ],
)
def test_bad_files_are_one_line_and_exit_2(cli, tmp_path, content, message):
    (tmp_path / "x.txt").write_bytes(content)
    result = cli("extract", tmp_path / "x.txt", "--out", tmp_path / "d")
    assert result.code == 2 and result.err.strip() == f"error: FILE: {message}"
    assert not (tmp_path / "d").exists()


def test_the_docs_yardstick_is_the_lexicon():
    docs = (Path(__file__).parents[1] / "docs" / "extract.md").read_text(encoding="utf-8")
    for level, phrases in lexicon.LEVEL_PHRASES.items():
        icd, phia = lexicon.band("icd203", level), lexicon.band("phia", level)
        row = (f"| {level} | {icd[0]} ({icd[1]:.0%}-{icd[2]:.0%}), {icd[3]:g} | "
               f"{phia[0]} ({phia[1]:.0%}-{phia[2]:.0%}), {phia[3]:g} | {', '.join(phrases)} |")  # fmt: skip
        assert row in docs, row


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"file": 123}, "file"), ({"scale": 5}, "scale"), ({"published": 20231001}, "published"), ({"author": ["x"]}, "author")],
)
def test_the_python_api_refuses_wrong_types_naming_the_parameter(tmp_path, kwargs, field):
    from forecast_tracker.errors import InputError

    args = {"file": SEED, "out": tmp_path / "d", **kwargs}
    with pytest.raises(InputError) as caught:
        api.extract(**args)
    assert caught.value.field == field
    assert not (tmp_path / "d").exists()
