"""Template filters: all formatting a scorecard does, registered on the Jinja2 environment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..formats import change_points, format_number
from ..probability import icd203_term


def _prob(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f} ({icd203_term(value)})"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def _change(value: float | None) -> str:
    return change_points(value, none="new")


def _score(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _db(value: float | None) -> str:
    return "" if value is None else f"{value:+.1f} dB"


def _value(value: float | None) -> str:
    return format_number(value, "plain")


MARKDOWN_SPECIALS = "\\`*_[]#|!<>&~"


def _md(text: Any) -> str:
    """Text for a Markdown table cell or line: one line, every mark Markdown (or raw HTML inside
    Markdown) would act on escaped with a backslash, so `<script>` is shown, never run, and `'` stays
    an apostrophe for someone reading the file itself (HTML entities would show as `&#39;` there).
    Only the Markdown scorecard uses this filter; the HTML one relies on autoescaping."""
    import markupsafe

    raw = " ".join(str(text).split())
    for ch in MARKDOWN_SPECIALS:
        raw = raw.replace(ch, "\\" + ch)
    return markupsafe.Markup(raw)


FILTERS: dict[str, Callable[..., Any]] = {
    "prob": _prob,
    "pct": _pct,
    "change": _change,
    "score": _score,
    "db": _db,
    "value": _value,
    "md": _md,
}
