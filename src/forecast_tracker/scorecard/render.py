"""Rendering: the typed context of each month through the Jinja2 templates into files, written
atomically, and the index of every month rendered so far."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from ..dates import today
from ..errors import InputError
from ..faults import crash_point
from ..formats import shown_text
from ..io.files import atomic_write, flush_to_disk
from .context import MonthBuilder, Scorecard, calibration_chart
from .dataset import Dataset
from .filters import FILTERS
from .pages import Pages, put


@dataclass
class IndexRow:
    month: str
    open: int
    resolved: int
    observations: int
    mean_time_averaged_brier: float | None
    skill_vs_prior: float | None
    has_html: bool
    has_md: bool


def _environment(markdown: bool):
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("forecast_tracker.scorecard", "templates"),
        # HTML is autoescaped. Markdown is not HTML: entities would show as `&#39;` to a reader of the
        # file, so there every text a user typed goes through the `md` filter (backslash escapes), and
        # the rest is ours (ids and indicator ids are slugs, dates are ISO, labels are constants).
        autoescape=not markdown,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=shown_text,  # every {{ value }}, before it is escaped: no bidirectional overrides
    )
    env.filters.update(FILTERS)
    env.globals["calibration_chart"] = calibration_chart
    return env


def render_reports(
    conn: Connection,
    months: list[str],
    out: Path,
    formats: tuple[str, ...],
    progress: Callable[[int, int], None] | None = None,
    by: str | None = None,
    pool: str | None = None,
) -> list[Path]:
    """Render each month's scorecard (the team's, pooled as the catalog says or by `pool`; or `by` one
    forecaster's), the page of every
    proposition, and refresh `index.html`. The record is read a batch of propositions at a time; each
    batch adds to every month and writes its propositions' pages. Every file is written atomically.
    `progress(done, total)` is told of each batch read and each month written."""
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} is not a folder", "out")
    with _folder_lock(out):
        return _render(conn, months, out, formats, progress, by, pool)


@contextlib.contextmanager
def _folder_lock(out: Path) -> Iterator[None]:
    """One `report` at a time per folder: a second waits for the first. Two at once each read the
    ledger and the index before the other wrote them, and the later save could leave a page stale
    for good. (An advisory lock on `out/.report.lock`, released when the process ends, however it ends.)"""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on Windows: no lock there
        yield
        return
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".report.lock", "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _render(
    conn: Connection, months: list[str], out: Path, formats: tuple[str, ...], progress: Callable[[int, int], None] | None,
    by: str | None, pool: str | None,
) -> list[Path]:  # fmt: skip
    """`render_reports` inside the folder's lock."""
    html_env = _environment(markdown=False) if "html" in formats else None
    md_env = _environment(markdown=True) if "md" in formats else None
    index = _read_index(out)
    pages = Pages(out, sorted(set(index) | set(months)), html_env, md_env)
    builders = [MonthBuilder(month, today()) for month in months]
    until = max([pages.as_of, *(b.as_of for b in builders)])
    plan = Dataset.plan(conn)
    total, done = len(plan) + len(months), 0
    written: list[Path] = []
    try:
        for data in Dataset.batches(conn, by, until=until, plan=plan, pool=pool):
            written += pages.write(data)  # first: with a second process, the pages are written meanwhile
            for builder in builders:
                builder.add(data)
            done += 1
            if progress is not None:
                progress(done, total)
        written += pages.save()
    finally:
        pages.close()
    for builder in builders:
        written += _write_month(builder.finish(), out, html_env, md_env, index)
        crash_point("report-month")  # this month's files written, the next month's not begun
        done += 1
        if progress is not None:
            progress(done, total)
    flush_to_disk()  # the month's files, before the index that lists them
    rows = [IndexRow(**index[m]) for m in sorted(index, reverse=True)]
    atomic_write(out / "index.json", json.dumps(index, indent=2, sort_keys=True) + "\n")
    index_env = html_env or _environment(markdown=False)
    pages_written = sorted(f.stem for f in (out / "propositions").glob("*.html")) if (out / "propositions").is_dir() else []
    atomic_write(out / "index.html", index_env.get_template("index.html.j2").render(rows=rows, propositions=pages_written))
    written.append(out / "index.html")
    return written


def _write_month(card: Scorecard, out: Path, html_env, md_env, index: dict[str, Any]) -> list[Path]:
    """A month's files (and its row of the index)."""
    month, written = card.month, []
    for ext, env in (("html", html_env), ("md", md_env)):  # a format not rendered now would be stale: it goes
        if env is None:
            (out / f"{month}.{ext}").unlink(missing_ok=True)
    if html_env is not None:
        path = out / f"{month}.html"
        put(path, html_env.get_template("scorecard.html.j2").render(card=card))
        written.append(path)
    if md_env is not None:
        for p in card.propositions:
            put(out / p.chart_file, p.chart_svg)
        put(out / calibration_chart(month), card.track.calibration_svg)
        path = out / f"{month}.md"
        put(path, md_env.get_template("scorecard.md.j2").render(card=card))
        written.append(path)
    summary = card.track.summary
    index[month] = asdict(
        IndexRow(
            month,
            card.counts["open"],
            card.counts["resolved"],
            card.counts["observations"],
            summary["mean_time_averaged_brier"],
            summary["skill_vs_prior"],
            (out / f"{month}.html").exists(),
            (out / f"{month}.md").exists(),
        )
    )
    return written


def _read_index(out: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads((out / "index.json").read_text(encoding="utf-8"))
        return {m: row for m, row in data.items() if set(row) == set(IndexRow.__dataclass_fields__)}
    except (OSError, ValueError, AttributeError):
        return {}
