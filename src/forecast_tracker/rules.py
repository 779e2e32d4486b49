"""The rules for what may be written: one home for every check on a new observation, application,
update or resolution. `Tracker` calls them for one row and raises the first problem; the importers
call them for each row of a file and collect every problem with its line. Both read the record
through a `Snapshot`, so the one-row path and the file path cannot disagree.

Pure: the snapshot is filled by the caller (from the database, or from what a file has written so
far); nothing here reads a database or a file. Problems name the record's own field (`observed_on`,
`as_of`, `resolved_on`...), which the caller maps to its flag or column.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import NamedTuple

from .dates import parse_date
from .errors import InputError
from .probability import counted_ratio, parse_probability, repeats_of
from .records import IndicatorRow, PropositionRow, ResolutionRow
from .validate import OUTCOMES, check_name, check_text, choice, parse_value, unknown


class Rejected(InputError):
    """A row that may not be written, with every problem found (the first is its message)."""

    def __init__(self, problems: list[InputError]):
        first = problems[0]
        super().__init__(first.message, first.field)
        self.problems = problems


@dataclass
class Snapshot:
    """What the rules read of the record: the propositions and indicators a row may name, and the
    resolution in force per proposition. An importer adds to `resolved` as it accepts rows, so a
    second resolution in the same file is a re-resolution too."""

    propositions: Mapping[str, PropositionRow]
    indicators: Mapping[str, IndicatorRow]
    resolved: MutableMapping[str, ResolutionRow] = field(default_factory=dict)
    today: str | None = None  # the latest date a row may carry (default: today, as `dates.parse_date` says)


class NewObservation(NamedTuple):
    indicator_id: str
    observed_on: str
    value: float | None
    source: str
    note: str


class NewUpdate(NamedTuple):
    proposition_id: str
    as_of: str
    probability: float
    rationale: str
    forecaster: str


class NewResolution(NamedTuple):
    proposition_id: str
    outcome: str
    resolved_on: str
    source: str
    note: str


def _collect(*checks) -> list[InputError]:
    """Run each (function, args...) and gather what it refuses."""
    problems = []
    for fn, *args in checks:
        try:
            fn(*args)
        except InputError as exc:
            problems.append(exc)
    return problems


def _proposition(snap: Snapshot, proposition_id: str) -> PropositionRow:
    found = snap.propositions.get(proposition_id)
    if found is None:
        raise InputError(unknown("proposition", proposition_id, snap.propositions).message, "proposition_id")
    return found


def _indicator(snap: Snapshot, indicator_id: str) -> IndicatorRow:
    found = snap.indicators.get(indicator_id)
    if found is None:
        raise InputError(unknown("indicator", indicator_id, snap.indicators).message, "indicator_id")
    return found


def _not_resolved(snap: Snapshot, proposition_id: str, what: str) -> None:
    resolution = snap.resolved.get(proposition_id)
    if resolution is not None:
        raise InputError(
            f"{proposition_id} was resolved {resolution.outcome} on {resolution.resolved_on}: no new {what} "
            "(retract the resolution first if it was a mistake)",
            "proposition_id",
        )


def _not_before_opened(day: str, prop: PropositionRow, field_name: str) -> None:
    if day < prop.opened:
        raise InputError(f"{day} is before {prop.id} opened ({prop.opened})", field_name)


def _not_shared(ind: IndicatorRow | None) -> None:
    if ind is not None and ind.bears_of:
        raise InputError(f"{ind.id} counts {ind.bears_of}'s observations for {ind.proposition_id}: observe {ind.bears_of}",
                         "indicator_id")  # fmt: skip


def _value(value: object, ind: IndicatorRow) -> float | None:
    """The observation's value for its indicator, inside the indicator's `range` when it declares one."""
    number = parse_value(value, ind.kind, "value")
    low, high = ind.range_low, ind.range_high
    if number is not None and low is not None and high is not None and not low <= number <= high:
        raise InputError(f"{number:g} is outside {ind.id}'s plausible range [{low:g}, {high:g}] (the catalog's range: a typo?)",
                         "value")  # fmt: skip
    return number


def observation(
    snap: Snapshot, indicator_id: str, observed_on: object, value: object, source: object, note: object
) -> NewObservation:
    """A new observation, or `Rejected` with every problem (see also `may_record`). One may be dated
    before its proposition opened: it is context, never evidence (`may_apply`)."""
    ind = snap.indicators.get(indicator_id)
    try:  # the fast path: a good row raises nothing (an import runs this for every row)
        if ind is None or ind.bears_of:
            raise InputError("unknown indicator", "indicator_id")
        return NewObservation(
            indicator_id,
            _date(observed_on, "observed_on", snap),
            _value(value, ind),
            _source(source),
            check_text(_text(note), "note"),
        )
    except InputError:
        pass
    problems = _collect(
        (_indicator, snap, indicator_id),
        (_not_shared, ind),
        (_date, observed_on, "observed_on", snap),
        *([(_value, value, ind)] if ind is not None else []),
        (_source, source),
        (check_text, _text(note), "note"),
    )
    raise Rejected(problems)


def may_record(snap: Snapshot, proposition_id: str, what: str) -> None:
    """Refuse new `what` (observations, updates) for a resolved proposition. Apart from the field
    checks because an import skips a row already stored before it asks this: a file exported from a
    database imports back into it, resolved propositions and all."""
    _not_resolved(snap, proposition_id, what)


def may_resolve(snap: Snapshot, proposition_id: str, force: bool = False) -> None:
    """Refuse to resolve an already resolved proposition without `force` (the earlier resolution stays
    on record; the new one is in force). Apart from the field checks for the reason `may_record` is."""
    previous = snap.resolved.get(proposition_id)
    if previous is not None and not force:
        raise InputError(
            f"{proposition_id} is already resolved {previous.outcome} on {previous.resolved_on}; resolve again "
            "with force (--force) to record a new resolution; the earlier one stays on record",
            "proposition_id",
        )


def may_apply(snap: Snapshot, row: NewObservation) -> InputError | None:
    """Why observation `row` may not count as evidence, or None: it may. The one rule behind `apply`,
    `observe --apply` and `import --apply`: evidence for a resolved proposition is refused; one dated
    before its proposition opened is context (the prior already reflects it); one whose signpost says
    nothing either way (an event that did not happen, a reading below its threshold, with no
    `likelihood_ratio_if_not_met`) moves nothing and is left unapplied. A reading of a state signpost
    (`repeats: latest`) always counts: one that does not fire takes back what the previous one counted."""
    ind = snap.indicators[row.indicator_id]
    prop = snap.propositions[ind.proposition_id]
    try:
        _not_resolved(snap, prop.id, "evidence")
    except InputError as exc:
        return exc
    if row.observed_on < prop.opened:
        return InputError(f"it moves nothing: it is dated before {prop.id} opened ({prop.opened})", "id")
    if counted_ratio(ind, row.value)[1] is None and repeats_of(ind) != "latest":
        return InputError(f"it moves nothing: {ind.id} did not fire and has no likelihood_ratio_if_not_met", "id")
    return None


class _Checks:
    """One row's checks: each value kept or its problem collected, so a row reports every problem."""

    def __init__(self, snap: Snapshot, proposition_id: str):
        self.problems: list[InputError] = []
        self.values: dict[str, object] = {}
        self.prop = self.run(_proposition, snap, proposition_id)

    def run(self, fn, *args) -> object:
        try:
            return fn(*args)
        except InputError as exc:
            self.problems.append(exc)
            return None

    def keep(self, name: str, fn, *args) -> None:
        try:
            self.values[name] = fn(*args)
        except InputError as exc:
            self.problems.append(exc)

    def dated(self, name: str, value: object, snap: Snapshot) -> None:
        """A judgement's date: valid, and not before its proposition opened."""
        self.keep(name, _date, value, name, snap)
        if self.prop is not None and name in self.values:
            self.run(_not_before_opened, self.values[name], self.prop, name)

    def row(self, record, proposition_id: str):
        if self.problems:
            raise Rejected(self.problems)
        return record(proposition_id, **self.values)


def update(
    snap: Snapshot, proposition_id: str, as_of: object, probability: object, rationale: object, forecaster: object,
    require_rationale: bool = False,
) -> NewUpdate:  # fmt: skip
    """A forecaster's new probability, or `Rejected` with every problem (see also `may_record`)."""
    checks = _Checks(snap, proposition_id)
    checks.dated("as_of", as_of, snap)
    checks.keep("probability", parse_probability, probability)
    checks.keep("rationale", check_text, _text(rationale), "rationale")
    checks.keep("forecaster", check_name, _text(forecaster), "forecaster")
    if require_rationale and checks.values.get("rationale") == "":
        checks.problems.append(
            InputError("say why the probability changed (a rationale), or pass --no-rationale", "rationale")
        )
    return checks.row(NewUpdate, proposition_id)


def resolution(
    snap: Snapshot, proposition_id: str, outcome: object, resolved_on: object, source: object, note: object
) -> NewResolution:
    """A proposition's outcome, or `Rejected` with every problem (see also `may_resolve`)."""
    checks = _Checks(snap, proposition_id)
    checks.keep("outcome", choice, _text(outcome), "outcome", OUTCOMES)
    checks.dated("resolved_on", resolved_on, snap)
    checks.keep("source", check_text, _text(source), "source")
    checks.keep("note", check_text, _text(note), "note")
    return checks.row(NewResolution, proposition_id)


def _date(value: object, name: str, snap: Snapshot) -> str:
    """A row's date: required, ISO, not after the snapshot's today (`today` itself is accepted)."""
    return parse_date(value, name, required=True, latest=snap.today)


def _source(value: object) -> str:
    return check_text(_text(value), "source", required=True)


def _text(value: object) -> str:
    return "" if value is None else str(value)
