"""Readings -> draft catalog files: one proposition per drafted sentence, its TODOs marked.

A draft is a catalog file (`indicators/*.yaml` format) whose unknowns say `TODO`: `sync` refuses it
with one line until none is left (see `catalog.draft_todos`). Strings are written as JSON strings,
which YAML reads back exactly, so a quote holding colons, quotes or `#` survives.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..io.files import atomic_write
from ..validate import shown_path
from . import lexicon
from .reading import Reading

TODO = "TODO"
_STOPWORDS = frozenset(
    """a an the of to in on at by for from with and or but if that this these those it its is are was were be been
    being will would shall should could may might can must there their they them we our us his her he she which who
    whom what when where while as than then so such up out into over under about after before also not no more most
    very highly almost nearly likely unlikely probable probably possible possibly expected anticipated projected
    foreseeable risk chance realistic possibility remains remain need needs have has had do does did future near
    however furthermore moreover conversely given considering""".split()
)
_MAX_ID_WORDS = 6
SCALE_NAMES = {"icd203": "ICD 203", "phia": "PHIA"}


@dataclass(frozen=True)
class Source:
    file: str  # the commentary's file name, named in each draft's header
    title: str | None = None
    author: str | None = None
    publisher: str | None = None
    published: str | None = None  # ISO date
    url: str | None = None


def slug_of(statement: str) -> str:
    """A catalog id from a statement's content words: `azerbaijan-spearhead-reconstruction-nagorno-karabakh`."""
    ascii_text = unicodedata.normalize("NFKD", statement).encode("ascii", "ignore").decode().lower()
    words = [w for w in re.findall(r"[a-z0-9]+", ascii_text) if w not in _STOPWORDS]
    return "-".join(words[:_MAX_ID_WORDS]) or "draft"


def unique_ids(readings: list[Reading]) -> list[str]:
    """One id per drafted reading, in order; a repeated id gets -2, -3..."""
    seen: dict[str, int] = {}
    ids = []
    for reading in readings:
        base = slug_of(reading.statement or reading.sentence.text)
        seen[base] = seen.get(base, 0) + 1
        ids.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return ids


def prior_of(reading: Reading, scale: str) -> tuple[float | None, str]:
    """The draft's prior and the comment that says where it came from (or why it is TODO)."""
    words = reading.words[0] if reading.words else ""
    if reading.number is not None:
        return reading.number, f"the text gives the number ({words!r})"
    if reading.level is not None:
        term, low, high, mid = lexicon.band(scale, reading.level)
        return mid, f"{words!r} is {term!r} on the {SCALE_NAMES[scale]} scale ({low:.0%}-{high:.0%}); the prior is its midpoint"
    why = {
        "modal": f"{words!r} says it may happen, not how likely",
        "trend": f"{words!r} describes a development under way; it gives no probability that it continues",
        "future": f"{words!r} states the future as fact; the words give no probability",
    }[reading.verdict]
    return None, why


def _q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def draft_text(reading: Reading, draft_id: str, source: Source, scale: str) -> str:
    """The YAML of one draft."""
    prior, why = prior_of(reading, scale)
    s = reading.sentence
    lines = [
        f"# Drafted by `forecast-tracker extract` from {source.file}, sentence {s.number} (line {s.line}).",
        f"# Verdict: {reading.verdict}, from the words: {', '.join(repr(w) for w in reading.words)}.",
        "# Fill every TODO (sync refuses this file until none is left), name the signposts under",
        "# `indicators`, then move the file into the catalog folder and run `forecast-tracker sync`.",
        "proposition:",
        f"  id: {draft_id}",
        f"  statement: {_q(reading.statement or s.text)}",
        f"  question: {_q('TODO: a yes/no question with its deadline, e.g. Will ... by YYYY-MM-DD?')}",
        f"  resolution_criteria: {_q('TODO: what counts as YES, what as NO, and the source that decides')}",
        f"  opened: {source.published or _q('TODO: the date the commentary was published (YYYY-MM-DD)')}",
        f"  resolve_by: {_q('TODO: the deadline the question names (YYYY-MM-DD)')}",
        f"  prior: {prior:g}   # {why}" if prior is not None else f"  prior: {_q('TODO: ' + why + '; choose one')}",
        f"  prior_phrase: {_q(reading.words[0] if reading.words else s.text)}",
        "  origin: commentary",
        "  source:",
        f"    title: {_q(source.title or 'TODO: the commentary title')}",
    ]
    for key in ("author", "publisher", "published", "url"):
        value = getattr(source, key)
        if value:
            lines.append(f"    {key}: {value if key == 'published' else _q(value)}")
    lines += [f"    quote: {_q(s.text)}", "indicators: []   # TODO: the signposts that would move it"]
    return "\n".join(lines) + "\n"


MAX_BYTES = 20_000_000  # a commentary, not a corpus: larger is refused before it is read


def load_text(path: Path) -> str:
    """A commentary's text, or bad input naming what is wrong: a folder, a missing, empty or binary
    file, or one that is not UTF-8 (with the line of the first bad byte)."""
    try:
        if path.is_dir():
            raise InputError(f"{path} is a folder, not a text file", "file")
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise InputError(f"{path.name}: {size:,} bytes is more than a commentary ({MAX_BYTES:,} at most)", "file")
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {shown_path(path)}: {exc.strerror or exc}", "file") from None
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(f"{path.name}: not a text file (a NUL byte at offset {nul})", "file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"{path.name}: line {line}: not UTF-8 text (byte {exc.start})", "file") from None
    if not text.strip():
        raise InputError(f"{path.name} is empty: there is nothing to extract", "file")
    return text


@dataclass
class Written:
    """What `write_drafts` did with each draft file."""

    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # a file of that name already differs: never overwritten


def write_drafts(drafts: list[tuple[str, str]], out: Path) -> Written:
    """Write each (id, text) as `out/ID.yaml`, atomically. An existing file that says something else
    (an analyst may have filled it) is kept as it is and named, never overwritten."""
    result = Written()
    for draft_id, text in drafts:
        target = out / f"{draft_id}.yaml"
        if target.exists():
            try:
                same = target.read_text(encoding="utf-8") == text
            except (OSError, UnicodeDecodeError):
                same = False
            (result.unchanged if same else result.kept).append(target.name)
            continue
        atomic_write(target, text)
        result.written.append(target.name)
    return result
