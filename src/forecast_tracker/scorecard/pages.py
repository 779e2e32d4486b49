"""The proposition pages: one page per proposition with its whole record, the ledger of what each
page was written from, and the process that writes them.

A page is written again only when something it is written from has changed: its rows, the date, the
months it links to, the formats, or any code or template of the package (`code_digest`). The last is
deliberately coarse: the sentences on a page are written by `evidence`, `probability`, `formats` and
the scorecard modules alike, and a page left with old wording beside a month page with new wording is
worse than rendering every page once after an upgrade.
"""

from __future__ import annotations

import functools
import json
import operator
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from .. import dates
from ..dates import today
from ..io.files import atomic_write, flush_to_disk
from ..records import PropositionRow
from ..validate import env_int
from .context import build_proposition_page
from .dataset import Dataset


def put(path: Path, text: str) -> None:
    """One of a run's many files: atomic, flushed to disk with the rest (`flush_to_disk`) before the
    ledger and the index that list them are written."""
    atomic_write(path, text, durable=False)


# With two processes, the forked one writes most of a batch's pages and this one the last quarter,
# then reads the next batch: reading is about half the work of writing, so the two end closer together
# (a first render at 1,000 propositions: 15.4 s -> 9.3 s with the bidi check; a third or a half measured
# the same or slower).
MAIN_SHARE = 4


def page_processes() -> int:
    """How many processes write proposition pages: 2 on Linux with a second CPU (a forked process
    writes one batch's pages while the next batch is read), else 1. `FORECAST_TRACKER_JOBS=1` keeps
    everything in one process (1 and 2 are the values it takes)."""
    if env_int("FORECAST_TRACKER_JOBS", 2, 1, 2) == 1 or not sys.platform.startswith("linux"):
        return 1
    return 2 if (os.cpu_count() or 1) > 1 else 1


class Pages:
    """A page per proposition with its whole record, as of the latest month the folder holds, linked
    from every month's card (`propositions/ID.html` and `.md`). A page whose inputs (the proposition's
    rows, the date, the months, the templates) are unchanged since it was written is not written again:
    `propositions/fingerprints.json` holds what each page was written from.

    With two processes (`page_processes`), each batch's pages are written by a forked copy of this
    process, which reports back through a pipe; it touches no database connection and ends with
    `os._exit`. Only one such process runs at a time."""

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
        self.seen: set[str] = set()  # the propositions with a page as of `as_of`: any other page is an orphan
        self.forked = page_processes() > 1
        self.child: tuple[int, int] | None = None  # (pid, read end of its pipe)

    def write(self, data: Dataset) -> list[Path]:
        """Write the pages of `data`'s propositions whose inputs changed (or start a process that does);
        returns the pages known to be written by now."""
        self.seen |= {p.id for p in data.opened_by(self.as_of)}
        if not self.forked:
            return self._record(*self._write(data))
        written = self._collect()
        props = data.opened_by(self.as_of)
        cut = len(props) - len(props) // MAIN_SHARE  # the child's pages; this process writes the rest
        read, write = os.pipe()
        report: dict[str, Any]
        pid = os.fork()
        if pid == 0:  # the child: write, report, and leave without running any of the parent's cleanup
            code, report = 1, {"error": "no report"}
            try:
                os.close(read)
                fingerprints, paths = self._write(data, props[:cut])
                code, report = 0, {"fingerprints": fingerprints, "written": [str(p) for p in paths]}
            except BaseException as error:  # noqa: BLE001 - reported to the parent, which raises it
                report = {"error": f"{type(error).__name__}: {error}"}
            finally:
                try:
                    with os.fdopen(write, "w", encoding="utf-8") as fh:
                        json.dump(report, fh)
                finally:
                    os._exit(code)
        os.close(write)
        self.child = (pid, read)
        return written + self._record(*self._write(data, props[cut:]))

    def _write(self, data: Dataset, props: list[PropositionRow] | None = None) -> tuple[dict[str, str], list[Path]]:
        """The pages of `props` (default: every proposition of `data` opened by the as-of day) whose
        inputs changed: (proposition -> the stamp of what its page was written from, the files)."""
        fingerprints, written = {}, []
        for p in data.opened_by(self.as_of) if props is None else props:
            fingerprint = _page_fingerprint(data, p, self.as_of, self.months, self.formats)
            files = [self.out / "propositions" / f"{p.id}.{ext}" for ext in self.formats]
            stamp = _stamp(fingerprint, files)
            if stamp is not None and self.ledger.get(p.id) == stamp:  # a truncated or missing page is written again
                continue
            page = build_proposition_page(data, p, self.as_of, self.months)
            if self.html_env is not None:
                path = self.out / "propositions" / f"{p.id}.html"
                put(path, self.html_env.get_template("proposition.html.j2").render(page=page))
                written.append(path)
            if self.md_env is not None:
                put(self.out / page.card.chart_file, page.card.chart_svg)
                path = self.out / "propositions" / f"{p.id}.md"
                put(path, self.md_env.get_template("proposition.md.j2").render(page=page))
                written.append(path)
            stamp = _stamp(fingerprint, files)
            assert stamp is not None  # just written
            fingerprints[p.id] = stamp
        return fingerprints, written

    def _record(self, fingerprints: dict[str, str], written: list[Path]) -> list[Path]:
        self.ledger.update(fingerprints)
        self.changed = self.changed or bool(fingerprints)
        return written

    def _collect(self) -> list[Path]:
        """Wait for the running child, if any, and take in what it wrote."""
        if self.child is None:
            return []
        pid, read = self.child
        self.child = None
        with os.fdopen(read, encoding="utf-8") as fh:
            text = fh.read()
        _pid, status = os.waitpid(pid, 0)
        try:
            report = json.loads(text)
        except ValueError:
            report = {"error": f"the page writer ended without a report (status {status})"}
        if "error" in report or os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"writing proposition pages failed: {report.get('error', status)}")
        return self._record(report["fingerprints"], [Path(p) for p in report["written"]])

    def save(self) -> list[Path]:
        """Wait for the last pages, then record what every page was written from."""
        written = self._collect()
        self._remove_orphans()
        if self.changed:
            flush_to_disk()  # the pages, before the ledger that says they are written
            atomic_write(self.ledger_path, json.dumps(self.ledger, indent=1, sort_keys=True) + "\n")
        return written

    def _remove_orphans(self) -> None:
        """Pages (and page charts) of no proposition this record shows as of `as_of`: another
        database's, rendered into the same folder. They would be linked from nowhere and say what is
        not on this record."""
        folder = self.out / "propositions"
        found = [*folder.glob("*.html"), *folder.glob("*.md"), *(self.out / "charts").glob("*.page.svg")]
        for path in found:
            if path.name.removesuffix(".page.svg").rsplit(".", 1)[0] not in self.seen:
                path.unlink(missing_ok=True)
        for pid in [pid for pid in self.ledger if pid not in self.seen]:
            del self.ledger[pid]
            self.changed = True

    def close(self) -> None:
        """Leave no child behind (after an error elsewhere: its pages stand, unrecorded, and are written
        again next time)."""
        if self.child is not None:
            pid, read = self.child
            self.child = None
            os.close(read)
            os.waitpid(pid, 0)


def _stamp(fingerprint: str, files: list[Path]) -> str | None:
    """What the ledger records of a page: its fingerprint and each file's size (None: a file is missing)."""
    try:
        return fingerprint + "|" + "-".join(str(f.stat().st_size) for f in files)
    except FileNotFoundError:
        return None


def _page_fingerprint(data: Dataset, p: PropositionRow, as_of: str, months: list[str], formats: tuple[str, ...]) -> str:
    """What a proposition's page is written from: its rows (catalog and its versions, observations and
    whether each is applied, updates, resolutions, restatements), the date, the months it links to, the formats, and the code and
    templates that write it (`code_digest`)."""
    import hashlib

    pid = p.id
    observations = data.observations_by_prop.get(pid, ())
    parts = (
        as_of, [m for m in months if dates.month_end(m) >= p.opened], formats, data.by, _values([p]),
        _values(data.indicators_by_prop.get(pid, ())), _values(observations),
        [o.id for o in observations if o.id in data.applied], _values(data.updates_by_prop.get(pid, ())),
        _values(data.resolutions_by_prop.get(pid, ())), code_digest(),
        [data.versions.get(i.id) for i in data.indicators_by_prop.get(pid, ())], data.decays.get(pid),
        [tuple(r) for r in data.restatements_by_prop.get(pid, ())], data.pools.get(pid), data.pool,
    )  # fmt: skip
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:24]


def _values(rows: Iterable[NamedTuple]) -> list[tuple]:
    """Rows (`records`) as tuples of their values, without the wall-clock times (recorded_at,
    applied_at), which change no page."""
    rows = list(rows)
    if not rows:
        return []
    keep = [k for k, name in enumerate(rows[0]._fields) if not name.endswith("_at")]
    if len(keep) == 1:
        return [(r[keep[0]],) for r in rows]
    pick = operator.itemgetter(*keep)
    return [pick(r) for r in rows]


@functools.cache
def code_digest() -> str:
    """Every source file and template of the package, hashed (the version is written in `__init__.py`,
    so a new release counts too): any change of code or wording renders every page again."""
    import hashlib

    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".j2") and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
