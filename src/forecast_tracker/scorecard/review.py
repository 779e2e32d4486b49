"""What needs a look as of a date: the one set of rules behind `review`, the scorecards' flags and their
"This month" section, so the terminal and the page never disagree."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .. import dates
from ..records import PropositionRow
from .dataset import Dataset

STALE_DAYS = 90  # no manual update and no applied observation for this long
DUE_SOON_DAYS = 30
# reasons in the order a reader should act on them, with the words a scorecard flag uses
REASONS = {
    "criterion-met": "criterion met, resolve it",
    "overdue": "past resolve_by but unresolved",
    "fired-unchanged": "signpost fired but probability unchanged",
    "unapplied-observation": "observation not applied",
    "due-soon": "due soon",
    "stale": "stale",
}


@dataclass(frozen=True)
class Item:
    proposition: str
    reason: str  # a key of REASONS
    detail: str
    observation_id: int | None = None  # the observation it is about (criterion met, not applied)

    @property
    def flag(self) -> str:
        return f"{REASONS[self.reason]}: {self.detail}"

    def as_json(self) -> dict[str, Any]:
        return {"proposition": self.proposition, "reason": self.reason, "detail": self.detail,
                "observation_id": self.observation_id}  # fmt: skip


def items_for(data: Dataset, p: PropositionRow, as_of: str) -> list[Item]:
    """Why an open proposition needs a look on `as_of` (a resolved one needs none)."""
    if p.opened > as_of or data.resolution(p.id, as_of) is not None:
        return []
    pid, found = p.id, []
    if (met := data.tracks[pid].criterion_met(as_of)) is not None:
        day, observation, held = met
        outcome = "yes" if held > 0.5 else "no"
        detail = f"observation {observation} on {day} decides it ({outcome}); record it: resolve {pid} {outcome} --date {day}"
        found.append(Item(pid, "criterion-met", detail, observation))
    if as_of > p.resolve_by:
        late = dates.days_between(p.resolve_by, as_of)
        found.append(Item(pid, "overdue", f"resolve_by {p.resolve_by} passed {late} day(s) ago; record the outcome"))
    for o in data.observations_by_prop.get(pid, ()):
        if o.retraction or o.id in data.applied or not p.opened <= o.observed_on <= as_of:
            continue
        fired, ratio = data.signal(o)
        if ratio in (None, 1):
            continue  # it would move nothing: leaving it unapplied loses nothing
        if fired:
            detail = f"{o.indicator_id} on {o.observed_on} fired (ratio {ratio:g}) but is not applied: apply {o.id}"
            found.append(Item(pid, "fired-unchanged", detail, o.id))
        else:
            detail = f"{o.indicator_id} on {o.observed_on} did not fire (ratio {ratio:g}) and is not applied: apply {o.id}"
            found.append(Item(pid, "unapplied-observation", detail, o.id))
    due = dates.days_between(as_of, p.resolve_by)
    if 0 <= due <= DUE_SOON_DAYS:
        found.append(Item(pid, "due-soon", f"resolve_by {p.resolve_by} is in {due} day(s)"))
    last = data.tracks[pid].last_moved(as_of) or p.opened
    quiet = dates.days_between(last, as_of)
    if quiet >= STALE_DAYS:
        found.append(Item(pid, "stale", f"no update for {quiet} days (last {last})"))
    return found


def review(data: Dataset, as_of: str) -> list[Item]:
    """Every item of `data`'s propositions, in `ordered`'s order."""
    return ordered(item for p in data.opened_by(as_of) for item in items_for(data, p, as_of))


def ordered(items: Iterable[Item]) -> list[Item]:
    """The most urgent reason first, then by proposition (items of several batches merge into one list)."""
    order = {reason: k for k, reason in enumerate(REASONS)}
    return sorted(items, key=lambda item: (order[item.reason], item.proposition))
