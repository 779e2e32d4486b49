"""Dates people act on as an iCalendar file (RFC 5545, written by the `icalendar` package): any
calendar that imports it reminds its owner, with no server of ours."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import NamedTuple


class Entry(NamedTuple):
    uid: str  # stable across exports, so a calendar that imports the file again updates the event
    day: str  # YYYY-MM-DD: an all-day event
    summary: str
    description: str


def ics(entries: Iterable[Entry], stamp: dt.datetime) -> bytes:
    """The calendar of `entries`, each an all-day event; `stamp` (UTC) is when it was written."""
    from icalendar import Calendar, Event  # only `export calendar` needs it

    cal = Calendar()
    cal.add("prodid", "-//forecast-tracker//calendar//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "forecast-tracker")
    for e in entries:
        event = Event()
        start = dt.date.fromisoformat(e.day)
        event.add("uid", e.uid)
        event.add("dtstamp", stamp)
        event.add("dtstart", start)
        event.add("dtend", start + dt.timedelta(days=1))
        event.add("summary", e.summary)
        event.add("description", e.description)
        cal.add_component(event)
    return cal.to_ical()
