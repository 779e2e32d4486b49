"""Small pure checks shared by the API and the CSV importer: text, choices, values, ids."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable

from .errors import InputError

OUTCOMES = ("yes", "no", "annulled")
RETRACT_TARGETS = ("observation", "update", "resolution")
MAX_TEXT = 10_000
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")  # thousands separated by commas


def parse_value(raw: object, kind: str, field: str = "value") -> float | None:
    """An observation's value: empty, 1 (or 0) for an event; a number for a count or level."""
    text = "" if raw is None else str(raw).strip()
    if text == "":
        if kind == "event":
            return None
        raise InputError(f"a {kind} indicator needs a number", field)
    if _GROUPED.match(text):  # "255,750", as the tool prints numbers
        text = text.replace(",", "")
    try:
        number = float(text)
    except ValueError:
        raise InputError(f"{text[:40]!r} is not a number", field) from None
    if math.isnan(number) or math.isinf(number):
        raise InputError(f"{text[:40]!r} is not a finite number", field)
    if kind == "event" and number not in (0.0, 1.0):
        raise InputError(f"an event takes 1 (it happened), 0 (it did not) or nothing, not {text[:40]!r}", field)
    if kind == "count" and (number < 0 or number != int(number)):
        raise InputError(f"a count is a whole number >= 0, not {text[:40]!r}", field)
    return number


def shown_path(path: object) -> str:
    """A path as an error names it: whole, or its start when it is too long to be one."""
    text = str(path)
    return text if len(text) <= 120 else f"{text[:60]}... ({len(text):,} characters)"


def joined_surrogates(text: str) -> str | None:
    """`text` with each UTF-16 surrogate pair joined into its character (YAML and JSON escape an emoji
    as two `\\u` halves), or None when a half stands alone (an argument that was not UTF-8 arrives
    so): no encoding can store it."""
    if not any("\ud800" <= ch <= "\udfff" for ch in text):
        return text
    try:
        return text.encode("utf-16", "surrogatepass").decode("utf-16")
    except UnicodeDecodeError:
        return None


def _text_of(value: str, field: str) -> str:
    text = joined_surrogates(value.strip())
    if text is None:
        raise InputError("is not UTF-8 text (a lone UTF-16 surrogate)", field)
    return text


def check_text(value: str | None, field: str, *, required: bool = False) -> str:
    if value is not None and not isinstance(value, str):
        raise InputError(f"expected text, got {type(value).__name__}", field)
    text = _text_of(value or "", field)
    if required and not text:
        raise InputError("required and must not be empty", field)
    if len(text) > MAX_TEXT:
        raise InputError(f"{len(text)} characters is longer than the {MAX_TEXT} allowed", field)
    if "\x00" in text:
        raise InputError("contains a NUL character", field)
    return text


def unknown(kind: str, name: str, known: Iterable[str]) -> InputError:
    """An 'unknown id' error that suggests the closest known id."""
    import difflib

    name = str(name)  # an id from Python may be anything; it is named, not trusted
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.5)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return InputError(f"unknown {kind} {name[:80]!r}{hint}")


def choice(value: str, field: str, allowed: Iterable[str]) -> str:
    allowed = tuple(allowed)
    raw = "" if value is None else str(value)
    text = raw.strip().lower()
    if text not in allowed:
        raise InputError(f"{raw[:40]!r} is not one of {', '.join(allowed)}", field)
    return text


MAX_NAME = 200


def check_name(value: str | None, field: str = "by") -> str:
    """A forecaster's name: not empty, one line, at most MAX_NAME characters."""
    name = _text_of(value or "", field)
    if not name:
        raise InputError("a forecaster's name must not be empty", field)
    if len(name) > MAX_NAME:
        raise InputError(f"{len(name)} characters is longer than the {MAX_NAME} a name may have", field)
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in name):
        raise InputError("a forecaster's name must not contain control characters or line breaks", field)
    return name


# Letters of other scripts that render like Latin ones (the usual confusables in names), and the
# characters that render as nothing: a name that differs from a known one only by these is a lookalike.
_CONFUSABLE = str.maketrans({
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "һ": "h",
    "ԁ": "d", "ɡ": "g", "ո": "n", "α": "a", "ο": "o", "ν": "v", "ι": "i", "κ": "k", "τ": "t", "ѵ": "v",
})  # fmt: skip
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))


def _skeleton(name: str) -> str:
    import unicodedata

    text = unicodedata.normalize("NFKC", name).translate(_INVISIBLE).casefold()
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(text.translate(_CONFUSABLE).split())


def lookalike(name: str, known: Iterable[str]) -> str | None:
    """A known name that `name` is not but reads as (case, width, accents, another script's letters,
    invisible characters), or None: two forecasters must never look like one."""
    mine = _skeleton(name)
    return next((k for k in sorted(known) if k != name and _skeleton(k) == mine), None)


def forecaster(by: str | None, field: str = "by") -> str:
    """Who made a judgement: `by`, else `FORECAST_TRACKER_USER`, else the login name."""
    if by is not None:
        return check_name(by, field)
    import getpass
    import os

    name = os.environ.get("FORECAST_TRACKER_USER")
    if name:
        return check_name(name, "FORECAST_TRACKER_USER")
    try:
        return check_name(getpass.getuser(), field)
    except Exception:
        return "unknown"


def env_int(name: str, default: int, low: int, high: int) -> int:
    """A whole number from the environment variable `name` within [low, high], else `default` when it
    is unset or empty; anything else (`abc`, `²`, `0` where 0 is not allowed) is bad input naming it."""
    raw = os.environ.get(name, "").strip()
    if raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise InputError(f"{raw[:20]!r} is not a whole number from {low} to {high}", name)
    return int(raw)
