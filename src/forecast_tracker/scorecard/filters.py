"""Template filters: all formatting a scorecard does, registered on the Jinja2 environment."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..formats import change_points, format_number
from ..probability import describe


def _prob(value: float | None) -> str:
    return "–" if value is None else describe(value)


def _pct(value: float | None) -> str:
    if value is None:
        return "–"
    return "<1%" if value < 0.01 else ">99%" if value > 0.99 else f"{value * 100:.0f}%"


def _change(value: float | None) -> str:
    return change_points(value, none="new")


def _score(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _db(value: float | None) -> str:
    return "" if value is None else f"{value:+.1f} dB"


def _value(value: float | None) -> str:
    return format_number(value, "plain")


MARKDOWN_SPECIALS = "\\`*_[]#|!<>&~"
_MARKDOWN_SPECIAL = re.compile("[" + re.escape(MARKDOWN_SPECIALS) + "]")


def _md_text(text: Any) -> str:
    line = " ".join(str(text).split())
    return _MARKDOWN_SPECIAL.sub(r"\\\g<0>", line) if _MARKDOWN_SPECIAL.search(line) else line


def _md(text: Any) -> str:
    """Text for a Markdown table cell or line: one line, every mark Markdown (or raw HTML inside
    Markdown) would act on escaped with a backslash, so `<script>` is shown, never run, and `'` stays
    an apostrophe for someone reading the file itself (HTML entities would show as `&#39;` there).
    Only the Markdown scorecard uses this filter; the HTML one relies on autoescaping."""
    import markupsafe

    return markupsafe.Markup(_md_text(text))


# -- table rows -------------------------------------------------------------------------------------
# A proposition's page has hundreds of rows; a row written by one Python expression costs a fraction
# of the same row through the template engine. They write what the templates would, byte for byte:
# in HTML every text that came from a user or a file is escaped as autoescaping escapes it (`_h`:
# markupsafe's five replacements); dates, numbers formatted here and the tool's own words (a step's
# method, an observation's direction) hold none of those characters. In Markdown every text a user
# typed goes through `_md_text`.
_HTML_SPECIAL = re.compile("[&<>'\"]")
_RETRACTED = ' class="retracted"'


def _h(value: Any) -> str:
    text = str(value)
    if not _HTML_SPECIAL.search(text):
        return text
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;").replace('"', "&#34;")


def _weight(e: Any) -> str:
    """An observation's weight: what its signpost states and, where it differs, what the chain counted."""
    stated = _db(e.decibans)
    if e.retracted or e.decibans is None:
        return stated
    if e.counted is None:
        return f"{stated}, not counted"
    return stated if abs(e.counted - e.decibans) < 0.05 else f"{stated}, counted {_db(e.counted)}"


def _evidence_rows_html(rows: list[Any]) -> Any:
    from markupsafe import Markup

    return Markup("".join(
        f'<tr{_RETRACTED if e.retracted else ""}><td class="nowrap">{e.observed_on}</td>'
        f'<td>{_h(e.indicator)}</td><td class="nowrap">{_value(e.value)}</td>'
        f'<td class="{e.direction}">{e.direction}</td><td class="nowrap">{_weight(e)}</td>'
        f'<td>{_h(e.note)}{f" (retracted: {_h(e.retracted)})" if e.retracted else ""}</td>'
        f"<td>{_h(e.source)}</td></tr>\n"
        for e in rows
    ))  # fmt: skip


def _step_rows_html(rows: list[Any]) -> Any:
    from markupsafe import Markup

    return Markup("".join(
        f'<tr><td class="nowrap">{u.as_of}</td><td class="nowrap">{_pct(u.previous)} &rarr; '
        f'{_pct(u.probability)}</td><td>{u.method}</td><td class="nowrap">{_db(u.decibans)}</td>'
        f"<td>{_h(u.rationale)}</td><td>{_h(u.forecaster)}</td></tr>\n"
        for u in rows
    ))  # fmt: skip


def _evidence_rows_md(rows: list[Any]) -> str:
    return "".join(
        f"| {e.observed_on} | {e.indicator} | {_value(e.value)} | {e.direction} | {_weight(e)} | "
        + (_struck(e.note) + f"(retracted: {_md_text(e.retracted)})" if e.retracted else _md_text(e.note))
        + f" | {_md_text(e.source)} |\n"
        for e in rows
    )


def _struck(note: str) -> str:
    """A retracted note struck through, and a space; nothing at all for an empty note (never `~~~~`)."""
    text = _md_text(note)
    return f"~~{text}~~ " if text.strip() else ""


def _step_rows_md(rows: list[Any]) -> str:
    return "".join(
        f"| {u.as_of} | {_pct(u.previous)} → {_pct(u.probability)} | {u.method} | {_db(u.decibans)} | "
        f"{_md_text(u.rationale)} | {_md_text(u.forecaster)} |\n"
        for u in rows
    )


FILTERS: dict[str, Callable[..., Any]] = {
    "prob": _prob,
    "pct": _pct,
    "change": _change,
    "score": _score,
    "db": _db,
    "value": _value,
    "md": _md,
    "evidence_rows_html": _evidence_rows_html,
    "step_rows_html": _step_rows_html,
    "evidence_rows_md": _evidence_rows_md,
    "step_rows_md": _step_rows_md,
}
