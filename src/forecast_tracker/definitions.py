"""Definitions over time: what a catalog change does to the record, decided before anything is written.

A synced change is one of three things:
- a **version**: a key that says how evidence counts (an indicator's ratios, threshold, `fires_when`,
  `repeats`, `group`, `decides`, `kind`; a proposition's `decay` and `team`). The new value counts from the day it
  is synced, or from a later day the file names with `effective:`; every earlier day keeps the version
  it had, so no number already shown moves.
- a **restatement**: a change that alters what the record already said: a back-dated `effective`, or
  `prior`, `prior_phrase`, `opened`, `resolve_by`, `question`, `resolution_criteria` or `origin` of a
  proposition that has a record (updates, applied observations, a resolution), and `prior`, `opened`
  or `resolve_by` of one whose first day has passed (its probability was shown for those days). `sync`
  refuses it unless told `--restate --reason TEXT`, and then it is a row of its own that every later
  view names.
- a plain edit: words that change no number (a statement, a description, tags, a source's title).

Pure: definitions and stored rows in, a `SyncPlan` out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .catalog import IndicatorDef, PropositionDef
from .records import IndicatorRow, PropositionRow

INDICATOR_VERSIONED = (
    "kind", "threshold", "likelihood_ratio", "likelihood_ratio_if_not_met", "repeats", "group_name", "fires_when", "decides",
)  # fmt: skip
PROPOSITION_VERSIONED = ("decay", "team")
RESTATED_IF_RECORDED = ("question", "resolution_criteria", "prior_phrase", "origin")
RESTATED_IF_SHOWN = ("prior", "opened", "resolve_by")  # a number was shown for every day since `opened`
CRITERIA = ("question", "resolution_criteria")
PLAIN_PROPOSITION = ("statement", "quote", "tags", "source")
PLAIN_INDICATOR = ("description", "rationale", "range_low", "range_high")
LABELS = {"likelihood_ratio": "likelihood ratio", "likelihood_ratio_if_not_met": "likelihood ratio if not met",
          "group_name": "group", "resolution_criteria": "resolution criteria", "prior_phrase": "prior phrase",
          "resolve_by": "resolve_by", "fires_when": "fires_when"}  # fmt: skip
# A question that names a scheduled event is decided on its date, not by a hazard that runs out.
SCHEDULED_WORDS = ("vote", "referendum", "election", "meeting", "summit", "ballot", "decision on", " on 20")


@dataclass(frozen=True)
class Change:
    """One changed key of one definition."""

    file: str
    proposition_id: str
    subject: str  # the proposition's id, or the indicator's
    kind: str  # proposition | indicator
    key: str
    old: Any
    new: Any
    effective: str | None = None  # a versioned key: the first day the new value counts
    restated: bool = False
    why: str = ""  # why it is a restatement
    so_far: int = 0  # a versioned indicator key: applied observations on or after `effective` (filled in by the caller)

    @property
    def label(self) -> str:
        return LABELS.get(self.key, self.key)

    @property
    def versioned(self) -> bool:
        return self.effective is not None

    def values(self) -> str:
        return f"{shown(self.old)} -> {shown(self.new)}"

    def __str__(self) -> str:
        if self.kind == "indicator" and self.versioned:
            when = f"from {self.effective}; counts for observations on or after that day ({self.so_far} so far)"
        elif self.versioned and self.key == "team":
            when = f"from {self.effective}; the forecasters pool by it from then on"
        elif self.versioned:
            when = f"from {self.effective}; days from then on decay by it"
        else:
            when = ""
        text = f"{self.subject}: {self.label} {self.values()}" + (f" {when}" if when else "")
        return text + (" (restated)" if self.restated else "")

    def refusal(self) -> str:
        """The one line `sync` prints when it refuses this change without `--restate`."""
        where = "proposition" if self.kind == "proposition" else f"indicators.{self.subject}"
        return (f"{self.file}: {where}.{self.key}: {self.values()}: {self.why}; to restate it on the record run "
                f"sync --restate --reason TEXT")  # fmt: skip


def shown(value: Any) -> str:
    """A definition's value in one short line."""
    if value is None:
        return "(none)"
    if isinstance(value, float):
        return f"{value:g}"
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass
class SyncPlan:
    added: list[PropositionDef] = field(default_factory=list)
    changed: list[PropositionDef] = field(default_factory=list)  # whose stored rows are rewritten
    new_indicators: list[IndicatorDef] = field(default_factory=list)
    changed_indicators: list[IndicatorDef] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    vanished: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def restatements(self) -> list[Change]:
        return [c for c in self.changes if c.restated]

    def criteria_changed(self, proposition_id: str) -> bool:
        return any(c.proposition_id == proposition_id and c.kind == "proposition" and c.key in CRITERIA for c in self.changes)


def indicator_version(d: IndicatorDef | IndicatorRow) -> dict[str, Any]:
    """The keys of an indicator that a version holds."""
    return {key: getattr(d, key) for key in INDICATOR_VERSIONED}


def proposition_version(d: PropositionDef | PropositionRow) -> dict[str, Any]:
    return {key: getattr(d, key) for key in PROPOSITION_VERSIONED}


def _proposition_values(d: PropositionDef | PropositionRow) -> dict[str, Any]:
    if isinstance(d, PropositionRow):
        source = {k: getattr(d, f"source_{k}") for k in ("title", "author", "publisher", "published", "url")}
        tags = d.tag_list
    else:
        source, tags = {k: getattr(d.source, k) for k in ("title", "author", "publisher", "published", "url")}, d.tags
    keys = (*RESTATED_IF_RECORDED, *RESTATED_IF_SHOWN, *PROPOSITION_VERSIONED, "statement", "quote")
    return {**{key: getattr(d, key) for key in keys}, "tags": tags, "source": source}


def plan_sync(
    definitions: Sequence[PropositionDef],
    propositions: Mapping[str, PropositionRow],
    indicators: Mapping[str, IndicatorRow],
    recorded: set[str],
    today: str,
) -> SyncPlan:
    """What syncing `definitions` over the stored `propositions` and `indicators` does. `recorded`: the
    propositions with a record (live updates, applied observations or a resolution)."""
    plan = SyncPlan()
    seen_p, seen_i = set(), set()
    for d in definitions:
        seen_p.add(d.id)
        named = [word.strip().replace("on 20", "on a date") for word in SCHEDULED_WORDS if word in f" {d.question.lower()}"]
        if not d.decay_given and named:
            plan.warnings.append(
                f"{d.file}: proposition.decay: the question names a scheduled event ({named[0]!r}); a question decided on a fixed "
                f"date needs 'decay: none' (the default, hazard, lets quiet days lower it); say 'decay: hazard' to keep it"
            )
        stored = propositions.get(d.id)
        if stored is None:
            plan.added.append(d)
        else:
            found = _proposition_changes(d, stored, d.id in recorded, today)
            if found:
                plan.changed.append(d)
                plan.changes += found
            else:
                plan.unchanged.append(f"proposition {d.id}")
        for ind in d.indicators:
            seen_i.add(ind.id)
            old = indicators.get(ind.id)
            if old is None:
                plan.new_indicators.append(ind)
                continue
            recorded_here = bool({d.id, old.proposition_id} & recorded)
            found = _indicator_changes(d, ind, old, recorded_here, today)
            if found:
                plan.changed_indicators.append(ind)
                plan.changes += found
            else:
                plan.unchanged.append(f"indicator {ind.id}")
    plan.vanished = [f"proposition {p}" for p in sorted(set(propositions) - seen_p)] + [
        f"indicator {i}" for i in sorted(set(indicators) - seen_i)
    ]
    return plan


def _proposition_changes(d: PropositionDef, stored: PropositionRow, recorded: bool, today: str) -> list[Change]:
    old, new = _proposition_values(stored), _proposition_values(d)
    shown_before = min(stored.opened, d.opened) < today
    effective = d.effective or today
    out = []
    for key in new:
        if old[key] == new[key]:
            continue
        change = Change(d.file, d.id, d.id, "proposition", key, old[key], new[key])
        if key in PROPOSITION_VERSIONED:
            change = _versioned(change, effective, today, shown_before)
        elif key in RESTATED_IF_SHOWN and (recorded or shown_before):
            why = "it changes numbers already shown" + (" and scored" if recorded else "") + f" since {min(stored.opened, d.opened)}"
            change = replace(change, restated=True, why=why)
        elif key in RESTATED_IF_RECORDED and recorded:
            why = "the proposition has updates, applied observations or a resolution made against it"
            change = replace(change, restated=True, why=why)
        out.append(change)
    return out


def _indicator_changes(d: PropositionDef, ind: IndicatorDef, old: IndicatorRow, recorded: bool, today: str) -> list[Change]:
    out = []
    if old.proposition_id != ind.proposition_id:
        change = Change(d.file, d.id, ind.id, "indicator", "proposition", old.proposition_id, ind.proposition_id)
        if recorded:
            change = replace(change, restated=True, why="its evidence would move to another proposition")
        out.append(change)
    effective = ind.effective or today
    for key in (*INDICATOR_VERSIONED, *PLAIN_INDICATOR):
        before, after = getattr(old, key), getattr(ind, key)
        if before == after:
            continue
        change = Change(d.file, d.id, ind.id, "indicator", key, before, after)
        out.append(_versioned(change, effective, today, True) if key in INDICATOR_VERSIONED else change)
    return out


def _versioned(change: Change, effective: str, today: str, shown_before: bool) -> Change:
    """A versioned change from `effective`: a restatement when that day has passed."""
    restated = effective < today and shown_before
    why = f"effective {effective} is before today ({today}): a back-dated change alters numbers already shown"
    return replace(change, effective=effective, restated=restated, why=why if restated else "")
