"""How numbers are written: one home for the three ways the tool shows a number.

- `exact`: exports and JSON-like cells; no trailing `.0`, full precision otherwise (round-trips).
- `table`: terminal tables; three decimals at most, thousands grouped for large values.
- `plain`: scorecards; `g` form for fractions, whole numbers with thousands separators.
"""

from __future__ import annotations

from typing import Any

# Unicode's bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069): kept raw, one in a
# note reverses the text after it on the page, so "rate cut" can be made to read as anything
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_NO_BIDI = str.maketrans("", "", BIDI_CONTROLS)


def shown_text(value: Any) -> Any:
    """What a page shows of a value: text without bidirectional controls (of the same type, so markup
    our own filters made stays markup); anything else as it is. Looked for first: almost no text holds
    one, and `translate` over every value (whole tables of rows among them) was a sixth of a report."""
    if isinstance(value, str) and any(control in value for control in BIDI_CONTROLS):
        return type(value)(str.translate(value, _NO_BIDI))
    return value


def format_number(value: float | None, style: str = "exact") -> str:
    if value is None:
        return ""
    number = float(value)
    if style == "table":
        return f"{number:.3f}".rstrip("0").rstrip(".") if abs(number) < 1000 else f"{number:,.0f}"
    if style == "plain":
        return f"{number:g}" if number != int(number) else f"{int(number):,}"
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


def table_cell(value: Any) -> str:
    """A value as a terminal table shows it: numbers short, text on one line."""
    if value is None:
        return ""
    if isinstance(value, float):
        return format_number(value, "table")
    return " ".join(str(value).split())


def change_points(change: float | None, none: str = "") -> str:
    """A change in probability in points: '+12 pts', '±0 pts', or `none` when there is no change to show."""
    if change is None:
        return none
    points = round(change * 100)
    return "±0 pts" if points == 0 else f"{points:+d} pts"
