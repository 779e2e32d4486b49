"""Dates and months as ISO text: parsing, "today", month arithmetic. The one home for all of it.

Dates are `YYYY-MM-DD` text, months `YYYY-MM`, times ISO 8601 UTC with a `Z`. "Today" is the date
where the user is: in the time zone `FORECAST_TRACKER_TZ` names (an IANA name such as
`Pacific/Auckland`, or `UTC`), else the machine's local time zone. Stored times stay UTC.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools

from .errors import InputError

MAX_MONTHS = 600


def today() -> str:
    """The user's date: in `FORECAST_TRACKER_TZ`, else the local time zone (see the module's note)."""
    return dt.datetime.now(user_zone()).date().isoformat()


def user_zone() -> dt.tzinfo | None:
    """The time zone "today" is taken in: `FORECAST_TRACKER_TZ`, else None (the local zone)."""
    import os

    name = os.environ.get("FORECAST_TRACKER_TZ", "").strip()
    return _zone(name) if name else None


@functools.lru_cache(maxsize=8)
def _zone(name: str) -> dt.tzinfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if name.upper() == "UTC":
        return dt.UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InputError(f"{name[:40]!r} is not a time zone (an IANA name such as Europe/Paris, or UTC)",
                         "FORECAST_TRACKER_TZ") from None  # fmt: skip


def utc_now() -> str:
    """The current time as ISO 8601 UTC text, as every `recorded_at` is stored."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_date(
    value: object, field: str, *, allow_future: bool = False, required: bool = False, latest: str | None = None
) -> str:
    """An ISO `YYYY-MM-DD` date as text; `today` (or nothing, unless required) means today; dates
    after `latest` (default today) are refused unless `allow_future`. Only the extended form:
    `20250201` and week dates are refused."""
    raw = "" if value is None else str(value).strip()
    if raw == "" and required:
        raise InputError("required (YYYY-MM-DD)", field)
    if raw in ("", "today"):
        return today()
    if len(raw) != 10 or raw[4] != "-" or raw[7] != "-":
        raise InputError(f"{raw[:40]!r} is not an ISO date (YYYY-MM-DD)", field)
    try:
        dt.date.fromisoformat(raw)
    except ValueError:
        raise InputError(f"{raw[:40]!r} is not an ISO date (YYYY-MM-DD)", field) from None
    if not allow_future and raw > (latest or today()):
        raise InputError(f"{raw} is in the future (today is {latest or today()})", field)
    if raw < EARLIEST_DATE:
        raise InputError(f"{raw} is out of range (dates from {EARLIEST_DATE} on)", field)
    return raw


def as_of_or_today(value: object, field: str = "as_of") -> str:
    """The date a point-in-time view is taken at: the given date (future allowed), a month `YYYY-MM`
    (its last day), else today."""
    raw = "" if value is None else str(value).strip()
    if len(raw) == 7 and raw[4] == "-" and raw[:4].isdigit() and raw[5:].isdigit():
        return month_end(parse_month(raw, field))
    return parse_date(value, field, allow_future=True) if value else today()


EARLIEST_MONTH = "1900-01"  # the earliest month a report or range accepts: the month before it must exist
EARLIEST_DATE = EARLIEST_MONTH + "-01"  # and the earliest date anything is dated or viewed at


def parse_month(value: str, field: str = "month") -> str:
    raw = (value or "").strip()
    try:
        dt.date.fromisoformat(raw + "-01")
    except ValueError:
        raise InputError(f"{raw[:20]!r} is not a month (YYYY-MM)", field) from None
    if len(raw) != 7:
        raise InputError(f"{raw[:20]!r} is not a month (YYYY-MM)", field)
    if raw < EARLIEST_MONTH:
        raise InputError(f"{raw} is out of range (months from {EARLIEST_MONTH} on)", field)
    return raw


def parse_timestamp(value: str, field: str) -> str:
    raw = value.strip()
    try:
        parsed = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{raw[:40]!r} is not an ISO 8601 time", field) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    if parsed.year < int(EARLIEST_DATE[:4]) or parsed.year > 9998:  # converting 0001-01-01+01:00 to UTC overflows
        raise InputError(f"{raw[:40]!r} is out of range (times from {EARLIEST_DATE} on)", field)
    return parsed.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def month_begun(month: str, field: str = "month") -> str:
    """`month` (YYYY-MM), refused when it has not begun yet: the one rule for every report and demo."""
    month = parse_month(month, field)
    if month > today()[:7]:
        raise InputError(f"{month} has not begun yet (today is {today()})", field)
    return month


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@functools.lru_cache(maxsize=1 << 16)  # a record spans a few thousand distinct days, each asked often
def ordinal(day: str) -> int:
    """The day number of an ISO date (as `date.toordinal`)."""
    return dt.date.fromisoformat(day).toordinal()


def days_between(start: str, end: str) -> int:
    """Whole days from `start` to `end` (negative when `end` is earlier)."""
    return ordinal(end) - ordinal(start)


def next_day(text: str) -> str:
    return (dt.date.fromisoformat(text) + dt.timedelta(days=1)).isoformat()


def month_end(month: str) -> str:
    year, mon = map(int, month.split("-"))
    return dt.date(year, mon, calendar.monthrange(year, mon)[1]).isoformat()


def previous_month(month: str) -> str:
    year, mon = map(int, month.split("-"))
    return f"{year - 1}-12" if mon == 1 else f"{year}-{mon - 1:02d}"


def next_month(month: str) -> str:
    year, mon = map(int, month.split("-"))
    return f"{year + 1}-01" if mon == 12 else f"{year}-{mon + 1:02d}"


def month_name(month: str) -> str:
    return dt.date.fromisoformat(month + "-01").strftime("%B %Y")


def month_range(first: str, last: str) -> list[str]:
    """Every month from `first` to `last`, both included (at most `MAX_MONTHS`)."""
    first, last = parse_month(first, "from"), parse_month(last, "to")
    if last < first:
        raise InputError(f"{last} is before the first month {first}", "to")
    index = lambda month: int(month[:4]) * 12 + int(month[5:]) - 1  # noqa: E731
    count = index(last) - index(first) + 1
    if count > MAX_MONTHS:
        raise InputError(f"at most {MAX_MONTHS} months at once ({first} to {last} is {count})", "from")
    return [f"{k // 12:04d}-{k % 12 + 1:02d}" for k in range(index(first), index(last) + 1)]


def previous_day(text: str) -> str:
    return (dt.date.fromisoformat(text) - dt.timedelta(days=1)).isoformat()
