"""Small pure checks shared by the API and the CSV importer: dates, ids, values."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

from .errors import InputError

OUTCOMES = ("yes", "no", "annulled")
RETRACT_TARGETS = ("observation", "update", "resolution")
MAX_TEXT = 10_000


def today() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()


def parse_date(
    value: object, field: str, *, allow_future: bool = False, required: bool = False, latest: str | None = None
) -> str:
    """An ISO `YYYY-MM-DD` date as text; `today` (or nothing, unless required) means today; dates
    after `latest` (default today) are refused unless `allow_future`. Only the extended form:
    `20250201` and week dates are refused."""
    raw = "" if value is None else str(value).strip()
    if raw == "" and required:
        raise InputError(f"{field}: required (YYYY-MM-DD)")
    if raw in ("", "today"):
        return today()
    if len(raw) != 10 or raw[4] != "-" or raw[7] != "-":
        raise InputError(f"{field}: {raw[:40]!r} is not an ISO date (YYYY-MM-DD)")
    try:
        dt.date.fromisoformat(raw)
    except ValueError:
        raise InputError(f"{field}: {raw[:40]!r} is not an ISO date (YYYY-MM-DD)") from None
    if not allow_future and raw > (latest or today()):
        raise InputError(f"{field}: {raw} is in the future (today is {latest or today()} UTC)")
    return raw


def parse_month(value: str, field: str = "--month") -> str:
    raw = (value or "").strip()
    try:
        dt.date.fromisoformat(raw + "-01")
    except ValueError:
        raise InputError(f"{field}: {raw[:20]!r} is not a month (YYYY-MM)") from None
    if len(raw) != 7:
        raise InputError(f"{field}: {raw[:20]!r} is not a month (YYYY-MM)")
    return raw


def parse_timestamp(value: str, field: str) -> str:
    raw = value.strip()
    try:
        parsed = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{field}: {raw[:40]!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_value(raw: object, kind: str, field: str = "value") -> float | None:
    """An observation's value: empty, 1 (or 0) for an event; a number for a count or level."""
    text = "" if raw is None else str(raw).strip()
    if text == "":
        if kind == "event":
            return None
        raise InputError(f"{field}: a {kind} indicator needs a number")
    try:
        number = float(text)
    except ValueError:
        raise InputError(f"{field}: {text[:40]!r} is not a number") from None
    if math.isnan(number) or math.isinf(number):
        raise InputError(f"{field}: {text[:40]!r} is not a finite number")
    if kind == "event" and number not in (0.0, 1.0):
        raise InputError(f"{field}: an event takes 1 (it happened), 0 (it did not) or nothing, not {text[:40]!r}")
    if kind == "count" and (number < 0 or number != int(number)):
        raise InputError(f"{field}: a count is a whole number >= 0, not {text[:40]!r}")
    return number


def check_text(value: str | None, field: str, *, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InputError(f"{field}: required and must not be empty")
    if len(text) > MAX_TEXT:
        raise InputError(f"{field}: {len(text)} characters is longer than the {MAX_TEXT} allowed")
    if "\x00" in text:
        raise InputError(f"{field}: contains a NUL character")
    return text


def unknown(kind: str, name: str, known: Iterable[str]) -> InputError:
    """An 'unknown id' error that suggests the closest known id."""
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.5)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return InputError(f"unknown {kind} {name[:80]!r}{hint}")


def choice(value: str, field: str, allowed: Iterable[str]) -> str:
    allowed = tuple(allowed)
    text = (value or "").strip().lower()
    if text not in allowed:
        raise InputError(f"{field}: {value[:40]!r} is not one of {', '.join(allowed)}")
    return text


def format_number(value: float | None) -> str:
    """Numbers as exports show them: no trailing `.0`, full precision otherwise."""
    if value is None:
        return ""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))
