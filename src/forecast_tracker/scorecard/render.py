"""Rendering: the typed context of each month through the Jinja2 templates into files, written
atomically, and the index of every month rendered so far."""

from __future__ import annotations

import functools
import json
import operator
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from .. import dates
from ..dates import today
from ..errors import InputError
from ..faults import crash_point
from ..io.files import atomic_write
from .context import MonthBuilder, Scorecard, build_proposition_page
from .dataset import Dataset
from .filters import FILTERS


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
    )
    env.filters.update(FILTERS)
    return env


def render_reports(
    conn: Connection,
    months: list[str],
    out: Path,
    formats: tuple[str, ...],
    progress: Callable[[int, int], None] | None = None,
    by: str | None = None,
) -> list[Path]:
    """Render each month's scorecard (the team's, or `by` one forecaster's), the page of every
    proposition, and refresh `index.html`. The record is read a batch of propositions at a time; each
    batch adds to every month and writes its propositions' pages. Every file is written atomically.
    `progress(done, total)` is told of each batch read and each month written."""
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} is not a folder", "out")
    html_env = _environment(markdown=False) if "html" in formats else None
    md_env = _environment(markdown=True) if "md" in formats else None
    index = _read_index(out)
    pages = _Pages(out, sorted(set(index) | set(months)), html_env, md_env)
    builders = [MonthBuilder(month, today(), by) for month in months]
    until = max([pages.as_of, *(b.as_of for b in builders)])
    plan = Dataset.plan(conn)
    total, done = len(plan) + len(months), 0
    written: list[Path] = []
    for data in Dataset.batches(conn, by, until=until, plan=plan):
        for builder in builders:
            builder.add(data)
        written += pages.write(data)
        done += 1
        if progress is not None:
            progress(done, total)
    pages.save()
    for builder in builders:
        written += _write_month(builder.finish(), out, html_env, md_env, index)
        crash_point("report-month")  # this month's files written, the next month's not begun
        done += 1
        if progress is not None:
            progress(done, total)
    rows = [IndexRow(**index[m]) for m in sorted(index, reverse=True)]
    atomic_write(out / "index.json", json.dumps(index, indent=2, sort_keys=True) + "\n")
    index_env = html_env or _environment(markdown=False)
    atomic_write(out / "index.html", index_env.get_template("index.html.j2").render(rows=rows))
    written.append(out / "index.html")
    return written


def _write_month(card: Scorecard, out: Path, html_env, md_env, index: dict[str, Any]) -> list[Path]:
    """A month's files (and its row of the index)."""
    month, written = card.month, []
    if html_env is not None:
        path = out / f"{month}.html"
        atomic_write(path, html_env.get_template("scorecard.html.j2").render(card=card))
        written.append(path)
    if md_env is not None:
        for p in card.propositions:
            atomic_write(out / p.chart_file, p.chart_svg)
        atomic_write(out / "charts" / f"{month}-calibration.svg", card.track.calibration_svg)
        path = out / f"{month}.md"
        atomic_write(path, md_env.get_template("scorecard.md.j2").render(card=card))
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


class _Pages:
    """A page per proposition with its whole record, as of the latest month the folder holds, linked
    from every month's card (`propositions/ID.html` and `.md`). A page whose inputs (the proposition's
    rows, the date, the months, the templates) are unchanged since it was written is not written again:
    `propositions/fingerprints.json` holds what each page was written from."""

    def __init__(self, out: Path, months: list[str], html_env, md_env):
        self.out, self.months, self.html_env, self.md_env = out, months, html_env, md_env
        last = months[-1]
        self.as_of = min(dates.month_end(last), today()) if last == today()[:7] else dates.month_end(last)
        self.formats = tuple(name for name, env in (("html", html_env), ("md", md_env)) if env is not None)
        self.ledger_path = out / "propositions" / "fingerprints.json"
        try:
            self.ledger = json.loads(self.ledger_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.ledger = {}
        self.changed = False

    def write(self, data: Dataset) -> list[Path]:
        """The pages of `data`'s propositions whose inputs changed."""
        written = []
        for p in data.opened_by(self.as_of):
            fingerprint = _page_fingerprint(data, p, self.as_of, self.months, self.formats)
            files = [self.out / "propositions" / f"{p['id']}.{ext}" for ext in self.formats]
            if self.ledger.get(p["id"]) == fingerprint and all(f.exists() for f in files):
                continue
            page = build_proposition_page(data, p, self.as_of, self.months)
            if self.html_env is not None:
                path = self.out / "propositions" / f"{p['id']}.html"
                atomic_write(path, self.html_env.get_template("proposition.html.j2").render(page=page))
                written.append(path)
            if self.md_env is not None:
                atomic_write(self.out / page.card.chart_file, page.card.chart_svg)
                path = self.out / "propositions" / f"{p['id']}.md"
                atomic_write(path, self.md_env.get_template("proposition.md.j2").render(page=page))
                written.append(path)
            self.ledger[p["id"]] = fingerprint
            self.changed = True
        return written

    def save(self) -> None:
        if self.changed:
            atomic_write(self.ledger_path, json.dumps(self.ledger, indent=1, sort_keys=True) + "\n")


def _page_fingerprint(data: Dataset, p: dict[str, Any], as_of: str, months: list[str], formats: tuple[str, ...]) -> str:
    """What a proposition's page is written from: its rows (catalog, observations and whether each is
    applied, updates, resolutions), the date, the months it links to, the formats and the templates."""
    import hashlib

    pid = p["id"]
    observations = data.observations_by_prop.get(pid, ())
    parts = (
        as_of, [m for m in months if dates.month_end(m) >= p["opened"]], formats, data.by, _values([p]),
        _values(data.indicators_by_prop.get(pid, ())), _values(observations),
        [o["id"] for o in observations if o["id"] in data.applied], _values(data.updates_by_prop.get(pid, ())),
        _values(data.resolutions_by_prop.get(pid, ())), _templates_digest(),
    )  # fmt: skip
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:24]


def _values(rows: Any) -> list[tuple]:
    """Rows of one query as tuples of their values, without the wall-clock times (recorded_at,
    created_at...), which change no page."""
    rows = list(rows)
    if not rows:
        return []
    keep = [k for k in rows[0] if not k.endswith("_at")]
    if len(keep) == 1:
        return [(r[keep[0]],) for r in rows]
    pick = operator.itemgetter(*keep)
    return [pick(r) for r in rows]


@functools.cache
def _templates_digest() -> str:
    """The templates and the code that fills them: a change to any renders every page again."""
    import hashlib
    from importlib import resources

    package = resources.files("forecast_tracker.scorecard")
    digest = hashlib.sha256()
    for entry in sorted(package.joinpath("templates").iterdir(), key=lambda e: e.name):
        digest.update(entry.name.encode() + entry.read_bytes())
    for module in ("context.py", "charts.py", "filters.py"):
        digest.update(package.joinpath(module).read_bytes())
    return digest.hexdigest()


def _read_index(out: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads((out / "index.json").read_text(encoding="utf-8"))
        return {m: row for m, row in data.items() if set(row) == set(IndexRow.__dataclass_fields__)}
    except (OSError, ValueError, AttributeError):
        return {}
