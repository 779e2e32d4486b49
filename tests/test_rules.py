"""One table of write-rule cases, each run through the one-row API (`observe --apply`, `update`,
`resolve`) and through `import --apply` of a one-row file: the same verdict, the same message, and
for observations the same answer to "does it count as evidence". Both paths call `rules`."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from forecast_tracker import rules
from forecast_tracker.api import Tracker
from forecast_tracker.errors import InputError

from conftest import indicator_row, proposition_row, snapshot

# (indicator, observed_on, value, source, note) -> the refusal's words, or None; and whether it counts
OBSERVATIONS = [
    (("widget-factory-built", "2025-02-01", "1", "s", ""), None, True),
    (("widget-factory-built", "2025-02-01", "", "s", ""), None, True),
    # an event that did not happen, with no likelihood_ratio_if_not_met, says nothing: stored, not applied
    # (observe --apply left it unapplied, import --apply marked it applied, apply refused it)
    (("widget-factory-built", "2025-02-01", "0", "s", ""), None, False),
    (("widget-orders", "2025-02-01", "10", "s", ""), None, True),  # below threshold, with if_not_met 0.5
    # below threshold, no if_not_met: a state signpost's reading still counts (it takes back the last one)
    (("gadget-sales", "2025-02-01", "10", "s", ""), None, True),
    (("widget-factory-built", "2024-12-01", "1", "s", ""), None, False),  # before it opened: context
    (("widget-factory-built", "2999-01-01", "1", "s", ""), "is in the future", None),
    (("widget-factory-built", "31/12/2025", "1", "s", ""), "is not an ISO date", None),
    (("widget-factory-built", "2025-02-01", "2", "s", ""), "an event takes 1", None),
    (("widget-orders", "2025-02-01", "-3", "s", ""), "a count is a whole number", None),
    (("widget-orders", "2025-02-01", "", "s", ""), "needs a number", None),
    (("widget-factory-built", "2025-02-01", "1", "", ""), "required and must not be empty", None),
    (("widget-factory-built", "2025-02-01", "1", "s", "nul\x00"), "contains a NUL character", None),
    (("widget-factroy-built", "2025-02-01", "1", "s", ""), "unknown indicator 'widget-factroy-built'", None),
    (("resolved-signpost", "2025-02-01", "1", "s", ""), "was resolved no on 2025-03-01: no new observations", None),
]

# (proposition, as_of, probability, rationale, forecaster) -> the refusal's words, or None
UPDATES = [
    (("widget-launch", "2025-02-01", "0.6", "why", "ana"), None),
    (("widget-launch", "2025-02-01", "likely", "why", "ana"), None),
    (("widget-launch", "2024-12-31", "0.6", "why", "ana"), "is before widget-launch opened (2025-01-01)"),
    (("widget-launch", "2025-02-01", "1.5", "why", "ana"), "is outside [0.001, 0.999]"),
    (("widget-launch", "2025-02-01", "0.6", "why", "ana\nbob"), "must not contain control characters"),
    (("widget-launch", "2999-01-01", "0.6", "why", "ana"), "is in the future"),
    (("widget-lunch", "2025-02-01", "0.6", "why", "ana"), "unknown proposition 'widget-lunch'"),
    (("resolved-thing", "2025-02-01", "0.6", "why", "ana"), "was resolved no on 2025-03-01: no new updates"),
]

# (proposition, outcome, resolved_on, source, note) -> the refusal's words, or None
RESOLUTIONS = [
    (("widget-launch", "yes", "2025-06-01", "s", ""), None),
    (("widget-launch", "maybe", "2025-06-01", "s", ""), "is not one of yes, no, annulled"),
    (("widget-launch", "yes", "2024-06-01", "s", ""), "is before widget-launch opened (2025-01-01)"),
    (("resolved-thing", "yes", "2025-06-01", "s", ""), "is already resolved no on 2025-03-01"),
]

RESOLVED = """\
proposition:
  id: resolved-thing
  statement: A thing happens.
  question: Will the thing happen by 2026-12-31?
  resolution_criteria: YES if it happens.
  opened: 2025-01-01
  resolve_by: 2026-12-31
  prior: 0.3
  source:
    title: Thing watch
indicators:
  - id: resolved-signpost
    description: A sign of the thing.
    kind: event
    likelihood_ratio: 2
"""


@pytest.fixture
def record(cli, catalog: Path, tmp_path: Path) -> Path:
    (catalog / "resolved-thing.yaml").write_text(RESOLVED)
    cli.ok("init", "--catalog", catalog)
    cli.ok("resolve", "resolved-thing", "no", "--date", "2025-03-01", "--source", "s")
    return tmp_path / "test.db"


def _csv(header: tuple[str, ...], cells: tuple[str, ...], path: Path) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows([header, cells])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def _api_verdict(call) -> str | None:
    try:
        call()
    except InputError as exc:
        return exc.message
    return None


def _import_verdict(tracker: Tracker, path: Path, apply: bool = False) -> str | None:
    from forecast_tracker.errors import ValidationErrors

    try:
        tracker.import_csv(path, apply=apply, by="ana")
    except ValidationErrors as exc:
        assert len(exc.problems) == 1, exc.problems
        return exc.problems[0].split(": ", 2)[2]  # "line 2: column: message"
    return None


def _applied(db: Path) -> list[tuple]:
    return snapshot(db)["application"]


def _both_paths(record: Path, tmp_path: Path, call, header: tuple[str, ...], fields: tuple[str, ...], apply: bool = False):
    """The verdict of `call(tracker)` on the record, and of importing `fields` as a one-row file into
    a copy of it: (said, imported, the copy)."""
    copy = tmp_path / "copy.db"
    copy.write_bytes(record.read_bytes())
    with Tracker(record) as t:
        said = _api_verdict(lambda: call(t))
    with Tracker(copy) as t:
        imported = _import_verdict(t, _csv(header, fields, tmp_path / "row.csv"), apply=apply)
    return said, imported, copy


def _same_verdict(said: str | None, imported: str | None, refused: str | None) -> None:
    assert said == imported  # the same words from both paths
    assert (said is None) == (refused is None) and (refused is None or refused in said)


@pytest.mark.parametrize(("fields", "refused", "counts"), OBSERVATIONS, ids=lambda v: repr(v)[:60])
def test_an_observation_gets_the_same_verdict_from_observe_and_from_import(record, tmp_path, fields, refused, counts):
    indicator, day, value, source, note = fields
    said, imported, copy = _both_paths(
        record, tmp_path, lambda t: t.observe(indicator, value=value, date=day, source=source, note=note, apply=True, by="ana"),
        ("indicator", "observed_on", "value", "source", "note"), fields, apply=True,
    )  # fmt: skip
    _same_verdict(said, imported, refused)
    if refused is None:
        assert len(_applied(record)) == len(_applied(copy)) == (1 if counts else 0)
        with Tracker(record) as t:  # and `apply` agrees: it refuses exactly what the others left unapplied
            with pytest.raises(InputError, match="already applied" if counts else "moves nothing"):
                t.apply(1)


@pytest.mark.parametrize(("fields", "refused"), UPDATES, ids=lambda v: repr(v)[:60])
def test_an_update_gets_the_same_verdict_from_update_and_from_import(record, tmp_path, fields, refused):
    proposition, day, probability, rationale, who = fields
    said, imported, copy = _both_paths(
        record, tmp_path, lambda t: t.update(proposition, probability, date=day, rationale=rationale, by=who),
        ("proposition", "as_of", "probability", "rationale", "forecaster"), fields,
    )  # fmt: skip
    _same_verdict(said, imported, refused)
    written = 0 if refused else 1
    assert len(snapshot(record)["probability_update"]) == len(snapshot(copy)["probability_update"]) == written


@pytest.mark.parametrize(("fields", "refused"), RESOLUTIONS, ids=lambda v: repr(v)[:60])
def test_a_resolution_gets_the_same_verdict_from_resolve_and_from_import(record, tmp_path, fields, refused):
    proposition, outcome, day, source, note = fields
    before = len(snapshot(record)["resolution"])
    said, imported, copy = _both_paths(
        record, tmp_path, lambda t: t.resolve(proposition, outcome, date=day, source=source, note=note),
        ("proposition", "outcome", "resolved_on", "source", "note"), fields,
    )  # fmt: skip
    _same_verdict(said, imported, refused)
    written = before if refused else before + 1
    assert len(snapshot(record)["resolution"]) == len(snapshot(copy)["resolution"]) == written


def test_the_rules_are_pure_and_collect_every_problem_of_a_row():
    snap = rules.Snapshot({"p": proposition_row()}, {"a": indicator_row(kind="count", threshold=5)}, today="2025-06-01")
    with pytest.raises(rules.Rejected) as caught:
        rules.observation(snap, "a", "2025-07-01", "-1", "", "x\x00")
    assert [(p.field, p.message.split(" ")[-1]) for p in caught.value.problems] == [
        ("observed_on", "2025-06-01)"), ("value", "'-1'"), ("source", "empty"), ("note", "character"),
    ]  # fmt: skip
    row = rules.observation(snap, "a", "2025-05-01", "7", "s", "")
    assert row == rules.NewObservation("a", "2025-05-01", 7.0, "s", "")
    assert rules.may_apply(snap, row) is None
    assert rules.may_apply(snap, row._replace(value=1.0)) is None  # below 5: a state, it replaces the last reading
    once = rules.Snapshot({"p": proposition_row()}, {"a": indicator_row(kind="count", threshold=5, repeats="once")},
                          today="2025-06-01")  # fmt: skip
    assert "moves nothing" in rules.may_apply(once, row._replace(value=1.0)).message  # below 5, no if_not_met
    assert "before p opened" in rules.may_apply(snap, row._replace(observed_on="2024-01-01")).message
