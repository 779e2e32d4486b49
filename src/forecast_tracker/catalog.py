"""Parse and validate `indicators/*.yaml` into definitions, collecting every error.

Like beancount's loader, problems are data: `load_catalog` returns the definitions it could read and
a list of `CatalogProblem`s (file, key path, message), so one run reports every mistake.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass, field
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Any

from .errors import InputError
from .evidence import DECAYS, DEFAULT_DECAY
from .probability import DEFAULT_POOL, POOLS, REPEATS, check_ratio, parse_probability
from .validate import MAX_TEXT, joined_surrogates, shown_path

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
KINDS = ("event", "count", "level")
# Files in the catalog folder that hold data, not definitions.
DATA_FILES = ("observations.csv", "resolutions.csv", "updates.csv")

PROPOSITION_KEYS = {
    "id": True,
    "statement": True,
    "question": True,
    "resolution_criteria": True,
    "opened": True,
    "resolve_by": True,
    "prior": True,
    "prior_phrase": False,
    "source": True,
    "tags": False,
    "decay": False,
    "team": False,
    "origin": False,
    "effective": False,
}
SOURCE_KEYS = {"title": True, "author": False, "publisher": False, "published": False, "url": False, "quote": False}
INDICATOR_KEYS = {
    "id": True,
    "description": True,
    "kind": True,
    "threshold": False,
    "likelihood_ratio": True,
    "likelihood_ratio_if_not_met": False,
    "rationale": False,
    "repeats": False,
    "group": False,
    "fires_when": False,
    "decides": False,
    "range": False,
    "bears_on": False,
    "effective": False,
}
BEARS_ON_KEYS = {"proposition": True, "likelihood_ratio": True, "likelihood_ratio_if_not_met": False, "rationale": False}
CHOICES = {
    "decay": DECAYS, "origin": ("commentary", "analyst"), "repeats": REPEATS, "fires_when": ("above", "below"),
    "decides": ("yes", "no"), "team": POOLS,
}  # fmt: skip


@dataclass(frozen=True)
class CatalogProblem:
    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.message}" if self.path else f"{self.file}: {self.message}"


@dataclass
class SourceDef:
    title: str
    author: str | None = None
    publisher: str | None = None
    published: str | None = None
    url: str | None = None


@dataclass
class IndicatorDef:
    id: str
    proposition_id: str
    description: str
    kind: str
    likelihood_ratio: float
    threshold: float | None = None
    likelihood_ratio_if_not_met: float | None = None
    rationale: str | None = None
    repeats: str | None = None
    group_name: str | None = None
    fires_when: str | None = None
    decides: str | None = None
    range_low: float | None = None  # `range: [lo, hi]`: a value outside it is refused as a typo
    range_high: float | None = None
    bears_of: str | None = None  # a `bears_on` entry: the signpost whose observations it counts for this proposition
    effective: str | None = None  # from when a changed definition counts (not part of the definition)

    def row(self) -> dict[str, Any]:
        """The definition as the `indicator` table stores it."""
        data = asdict(self)
        data.pop("effective")
        return data

    def fingerprint(self) -> str:
        data = self.row()
        for key in ("range_low", "range_high", "bears_of"):  # keys added later: absent, as before they existed
            if data[key] is None:
                data.pop(key)
        return _fingerprint(data)


@dataclass
class PropositionDef:
    id: str
    statement: str
    question: str
    resolution_criteria: str
    opened: str
    resolve_by: str
    prior: float
    source: SourceDef
    prior_phrase: str | None = None
    quote: str | None = None
    tags: list[str] = field(default_factory=list)
    decay: str = DEFAULT_DECAY
    origin: str = "commentary"
    team: str = DEFAULT_POOL  # how the forecasters' tracks pool into the team number
    file: str = ""
    indicators: list[IndicatorDef] = field(default_factory=list)
    decay_given: bool = False  # whether the file names `decay` (sync warns when a scheduled event needs it)
    effective: str | None = None  # from when a changed `decay` counts

    def fields(self) -> dict[str, Any]:
        """The definition as `asdict` gives it, without its indicators (which `asdict` would copy deeply
        only to be dropped: most of a large sync's time)."""
        data = {f.name: getattr(self, f.name) for f in dataclass_fields(self) if f.name != "indicators"}
        data["source"], data["tags"] = asdict(self.source), list(self.tags)
        return data

    def fingerprint(self) -> str:
        data = self.fields()
        for key in ("file", "decay_given", "effective"):
            data.pop(key)
        if data["team"] == DEFAULT_POOL:
            data.pop("team")  # so a definition that names no pool keeps the fingerprint it had before `team`
        return _fingerprint(data)


def _fingerprint(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


class _Collector:
    def __init__(self, file: str):
        self.file = file
        self.problems: list[CatalogProblem] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(CatalogProblem(self.file, path, message))

    def text(self, data: dict, key: str, path: str, required: bool) -> str | None:
        value = data.get(key)
        if value is None:
            if required:
                self.add(f"{path}.{key}", "required key is missing")
            return None
        if isinstance(value, (dict, list)):
            self.add(f"{path}.{key}", f"expected text, got a {type(value).__name__}")
            return None
        text = joined_surrogates(str(value).strip())
        if text is None:
            self.add(f"{path}.{key}", "holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is not text")
            return None
        if required and not text:
            self.add(f"{path}.{key}", "must not be empty")
            return None
        if len(text) > MAX_TEXT:
            self.add(f"{path}.{key}", f"{len(text)} characters is longer than the {MAX_TEXT} allowed")
            return None
        if "\x00" in text:
            self.add(f"{path}.{key}", "contains a NUL character")
            return None
        return text

    def date(self, data: dict, key: str, path: str, required: bool) -> str | None:
        value = data.get(key)
        if value is None:
            if required:
                self.add(f"{path}.{key}", "required key is missing")
            return None
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            return value.isoformat()
        try:
            return dt.date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            self.add(f"{path}.{key}", f"{value!r} is not an ISO date (YYYY-MM-DD)")
            return None

    def number(self, data: dict, key: str, path: str, required: bool) -> float | None:
        value = data.get(key)
        if value is None:
            if required:
                self.add(f"{path}.{key}", "required key is missing")
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            self.add(f"{path}.{key}", f"expected a number, got {value!r}")
            return None
        try:
            number = float(value)
        except ValueError:
            self.add(f"{path}.{key}", f"expected a number, got {value!r}")
            return None
        if math.isnan(number) or math.isinf(number):
            self.add(f"{path}.{key}", f"expected a finite number, got {value!r}")
            return None
        return number

    def unknown_keys(self, data: dict, allowed: dict, path: str) -> None:
        for key in data:
            if key not in allowed:
                self.add(f"{path}.{key}" if path else str(key), f"unknown key (allowed: {', '.join(allowed)})")

    def choice(self, data: dict, key: str, path: str) -> str | None:
        if isinstance(data.get(key), bool):  # YAML reads a bare yes/no as a boolean
            data = {**data, key: "yes" if data[key] else "no"}
        value = self.text(data, key, path, False)
        if value is not None and value not in CHOICES[key]:
            self.add(f"{path}.{key}", f"{value!r} is not one of {', '.join(CHOICES[key])}")
            return None
        return value

    def slug(self, data: dict, path: str) -> str | None:
        value = self.text(data, "id", path, True)
        if value is not None and not SLUG.match(value):
            self.add(f"{path}.id", f"{value!r} is not a slug (lowercase letters, digits and single hyphens)")
            return None
        return value


def _yaml_12_scalars(loader: Any) -> None:
    """Plain scalars read as YAML 1.2 reads them, not as PyYAML's YAML 1.1: only true/false are
    booleans, only decimal digits are numbers. Under 1.1 `statement: yes` became "True", a time such
    as `12:30` the number 750 and `0x1F` 31, silently; now each stays the text written, and a number
    field given such text refuses it with its key path."""
    import re

    bool_tag, int_tag, float_tag = (f"tag:yaml.org,2002:{t}" for t in ("bool", "int", "float"))
    loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in (bool_tag, int_tag, float_tag)]
        for first, resolvers in loader.yaml_implicit_resolvers.items()
    }
    loader.add_implicit_resolver(bool_tag, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
    loader.add_implicit_resolver(int_tag, re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
    number = r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$|^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$"
    loader.add_implicit_resolver(float_tag, re.compile(number), list("-+0123456789."))


def _read_yaml(text: str, c: _Collector) -> Any:
    """The document, or None with the problem recorded. Dates stay text, so `2025-13-01` is our error
    with a key path, not PyYAML's crash."""
    import yaml

    class _Loader(yaml.SafeLoader):
        def compose_node(self, parent, index):
            # An alias (*name) repeats a node; nested, a 1 KB file expands to gigabytes (a "billion
            # laughs"). A catalog has no use for them, so they are refused before anything expands.
            if self.check_event(yaml.AliasEvent):
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed in a catalog", mark)
            return super().compose_node(parent, index)

    def as_text(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        return loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None

    _Loader.add_constructor("tag:yaml.org,2002:timestamp", as_text)
    _yaml_12_scalars(_Loader)
    try:
        return yaml.load(text, Loader=_Loader)
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        mark = getattr(exc, "problem_mark", None)
        c.add(f"line {mark.line + 1}" if mark else "", f"not valid YAML: {getattr(exc, 'problem', None) or exc}")
        return None


def _mapping(c: _Collector, value: Any, path: str) -> dict | None:
    if not isinstance(value, dict):
        c.add(path, "required mapping is missing" if value is None else "must be a mapping")
        return None
    return value


def _prior(c: _Collector, prop: dict) -> float | None:
    if prop.get("prior") is None:
        c.add("proposition.prior", "required key is missing")
        return None
    try:
        return parse_probability(prop["prior"], field="prior")
    except InputError as exc:
        c.add("proposition.prior", exc.message)
        return None


def _tags(c: _Collector, prop: dict) -> list[str]:
    raw = prop.get("tags") or []
    if not isinstance(raw, list) or not all(isinstance(t, (str, int)) for t in raw):
        c.add("proposition.tags", "expected a list of words")
        return []
    return [str(t) for t in raw]


def _source(c: _Collector, prop: dict) -> tuple[SourceDef | None, str | None]:
    src = _mapping(c, prop.get("source"), "proposition.source")
    if src is None:
        return None, None
    path = "proposition.source"
    c.unknown_keys(src, SOURCE_KEYS, path)
    source = SourceDef(
        title=c.text(src, "title", path, True) or "",
        author=c.text(src, "author", path, False),
        publisher=c.text(src, "publisher", path, False),
        published=c.date(src, "published", path, False),
        url=c.text(src, "url", path, False),
    )
    return source, c.text(src, "quote", path, False)


def _indicator(c: _Collector, ind: Any, path: str, proposition_id: str | None) -> IndicatorDef | None:
    if not isinstance(ind, dict):
        c.add(path, "must be a mapping")
        return None
    c.unknown_keys(ind, INDICATOR_KEYS, path)
    iid = c.slug(ind, path)
    description = c.text(ind, "description", path, True)
    kind = c.text(ind, "kind", path, True)
    if kind is not None and kind not in KINDS:
        c.add(f"{path}.kind", f"{kind!r} is not one of {', '.join(KINDS)}")
        kind = None
    threshold = c.number(ind, "threshold", path, kind in ("count", "level"))
    if kind == "event" and ind.get("threshold") is not None:
        c.add(f"{path}.threshold", "an event indicator has no threshold")
    ratios = _ratios(c, ind, path)
    rationale = c.text(ind, "rationale", path, False)
    repeats, fires_when = c.choice(ind, "repeats", path), c.choice(ind, "fires_when", path)
    if fires_when is not None and kind == "event":
        c.add(f"{path}.fires_when", "an event indicator fires when it happens; fires_when is for a count or level")
    if repeats == "latest" and kind == "event":
        c.add(f"{path}.repeats", "an event happens; 'latest' is for a count or level (a series of readings)")
    decides, effective = c.choice(ind, "decides", path), c.date(ind, "effective", path, False)
    low, high = _value_range(c, ind.get("range"), f"{path}.range", kind)
    group = ind.get("group")
    if group is not None and (not isinstance(group, str) or not SLUG.match(group)):
        c.add(f"{path}.group", f"{group!r} is not a slug (lowercase letters, digits and single hyphens)")
        group = None
    if not (iid and description and kind and ratios["likelihood_ratio"] is not None):
        return None
    return IndicatorDef(
        id=iid,
        proposition_id=proposition_id or "",
        description=description,
        kind=kind,
        likelihood_ratio=ratios["likelihood_ratio"],
        threshold=threshold,
        likelihood_ratio_if_not_met=ratios["likelihood_ratio_if_not_met"],
        rationale=rationale,
        repeats=repeats,
        group_name=group,
        fires_when=fires_when,
        decides=decides,
        range_low=low,
        range_high=high,
        effective=effective,
    )


def _ratios(c: _Collector, data: dict, path: str) -> dict[str, float | None]:
    """`likelihood_ratio` (required) and `likelihood_ratio_if_not_met` of a signpost or a `bears_on`
    entry: each > 0 and within `probability.check_ratio`'s range, or None with the problem recorded."""
    ratios: dict[str, float | None] = {}
    for key, required in (("likelihood_ratio", True), ("likelihood_ratio_if_not_met", False)):
        ratio = c.number(data, key, path, required)
        if ratio is not None and ratio <= 0:
            c.add(f"{path}.{key}", f"{ratio:g} must be > 0")
            ratio = None
        elif ratio is not None:
            try:
                check_ratio(ratio)
            except InputError as exc:
                c.add(f"{path}.{key}", exc.message)
                ratio = None
        ratios[key] = ratio
    return ratios


def _value_range(c: _Collector, raw: Any, path: str, kind: str | None) -> tuple[float | None, float | None]:
    """`range: [lo, hi]`: the plausible values of a count or level, lo < hi, both finite."""
    if raw is None:
        return None, None
    if kind == "event":
        c.add(path, "an event takes 1 or 0; range is for a count or level")
        return None, None
    ok = isinstance(raw, list) and len(raw) == 2 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw)
    if not ok or not all(math.isfinite(v) for v in raw) or raw[0] >= raw[1]:
        c.add(path, "expected [low, high]: two finite numbers, low below high")
        return None, None
    return float(raw[0]), float(raw[1])


def _indicators(c: _Collector, raw: Any, proposition_id: str | None) -> list[IndicatorDef]:
    if raw is None:
        c.add("indicators", "required list is missing")
        return []
    if not isinstance(raw, list):
        c.add("indicators", "must be a list")
        return []
    indicators: list[IndicatorDef] = []
    seen: set[str] = set()
    for i, ind in enumerate(raw):
        definition = _indicator(c, ind, f"indicators[{i}]", proposition_id)
        iid = ind.get("id") if isinstance(ind, dict) else None
        if isinstance(iid, str) and iid in seen:
            c.add(f"indicators[{i}].id", f"duplicate indicator id {iid!r}")
        if isinstance(iid, str):
            seen.add(iid)
        if definition is not None:
            indicators.append(definition)
            if isinstance(ind, dict):
                indicators += _bears_on(c, ind.get("bears_on"), f"indicators[{i}].bears_on", definition)
    return indicators


def _bears_on(c: _Collector, raw: Any, path: str, source: IndicatorDef) -> list[IndicatorDef]:
    """`bears_on: [{proposition, likelihood_ratio, likelihood_ratio_if_not_met, rationale}]`: the same
    signpost counted for other propositions, each with its own ratio. Each entry is an indicator of
    that proposition (`SOURCE@PROPOSITION`) whose observations are the source's; how it fires (kind,
    threshold, fires_when, repeats, group) is the source's, counted per proposition."""
    if raw is None:
        return []
    if not isinstance(raw, list) or not raw:
        c.add(path, "expected a list of {proposition, likelihood_ratio, ...}")
        return []
    out, seen = [], set()
    for k, entry in enumerate(raw):
        where = f"{path}[{k}]"
        if not isinstance(entry, dict):
            c.add(where, "must be a mapping")
            continue
        c.unknown_keys(entry, BEARS_ON_KEYS, where)
        target = entry.get("proposition")
        if not isinstance(target, str) or not SLUG.match(target):
            c.add(f"{where}.proposition", f"{target!r} is not a proposition id")
            continue
        if target == source.proposition_id:
            c.add(f"{where}.proposition", "a signpost already counts for its own proposition")
            continue
        if target in seen:
            c.add(f"{where}.proposition", f"{target!r} is listed twice")
            continue
        seen.add(target)
        ratios = _ratios(c, entry, where)
        if ratios["likelihood_ratio"] is None:
            continue
        out.append(IndicatorDef(
            id=f"{source.id}@{target}", proposition_id=target, description=source.description, kind=source.kind,
            likelihood_ratio=ratios["likelihood_ratio"], threshold=source.threshold,
            likelihood_ratio_if_not_met=ratios["likelihood_ratio_if_not_met"], rationale=c.text(entry, "rationale", where, False),
            repeats=source.repeats, group_name=source.group_name, fires_when=source.fires_when,
            range_low=source.range_low, range_high=source.range_high, bears_of=source.id, effective=source.effective,
        ))  # fmt: skip
    return out


def draft_todos(prop: Any) -> list[str]:
    """The keys of a proposition (and its source) still saying TODO, as `extract` drafts them: such a
    file is refused with one line naming them, not a problem per key."""
    if not isinstance(prop, dict):
        return []
    found = []
    for key, value in prop.items():
        if isinstance(value, str) and value.strip().upper().startswith("TODO"):
            found.append(str(key))
        elif key == "source" and isinstance(value, dict):
            found += [f"source.{k}" for k, v in value.items() if isinstance(v, str) and v.strip().upper().startswith("TODO")]
    return found


def parse_proposition_file(text: str, file: str) -> tuple[PropositionDef | None, list[CatalogProblem]]:
    """Parse one catalog file's text. Returns the definition (None if unusable) and its problems."""
    c = _Collector(file)
    doc = _read_yaml(text, c)
    if c.problems:
        return None, c.problems
    if not isinstance(doc, dict):
        c.add("", f"expected a mapping with 'proposition' and 'indicators', got {type(doc).__name__}")
        return None, c.problems
    prop = doc.get("proposition")
    if todos := draft_todos(prop):
        c.add("", f"a draft: fill {', '.join(todos)} (still TODO), then sync again")
        return None, c.problems
    c.unknown_keys(doc, {"proposition": True, "indicators": True}, "")
    prop = _mapping(c, prop, "proposition")
    if prop is None:
        return None, c.problems
    c.unknown_keys(prop, PROPOSITION_KEYS, "proposition")
    pid = c.slug(prop, "proposition")
    fields = {key: c.text(prop, key, "proposition", True) for key in ("statement", "question", "resolution_criteria")}
    opened = c.date(prop, "opened", "proposition", True)
    resolve_by = c.date(prop, "resolve_by", "proposition", True)
    if opened and resolve_by and resolve_by <= opened:
        c.add("proposition.resolve_by", f"{resolve_by} must be after opened ({opened})")
    prior = _prior(c, prop)
    prior_phrase = c.text(prop, "prior_phrase", "proposition", False)
    tags = _tags(c, prop)
    decay = c.choice(prop, "decay", "proposition") or DEFAULT_DECAY
    team = c.choice(prop, "team", "proposition") or DEFAULT_POOL
    effective = c.date(prop, "effective", "proposition", False)
    origin = c.choice(prop, "origin", "proposition") or "commentary"
    source, quote = _source(c, prop)
    indicators = _indicators(c, doc.get("indicators"), pid)
    if c.problems:
        return None, c.problems
    # no problem was found, so every required value was read
    assert pid and opened and resolve_by and prior is not None and source is not None and all(fields.values())
    definition = PropositionDef(
        id=pid, opened=opened, resolve_by=resolve_by, prior=prior, source=source, prior_phrase=prior_phrase, quote=quote,
        tags=tags, decay=decay, team=team, origin=origin, file=file, indicators=indicators, statement=fields["statement"] or "",
        decay_given=prop.get("decay") is not None, effective=effective,
        question=fields["question"] or "", resolution_criteria=fields["resolution_criteria"] or "",
    )  # fmt: skip
    return definition, []


def load_catalog(directory: str | Path) -> tuple[list[PropositionDef], list[CatalogProblem]]:
    """Read every `*.yaml`/`*.yml` file of a catalog folder, checking ids across files too."""
    folder = Path(directory)
    shown = shown_path(folder)
    try:
        if not folder.is_dir():
            raise InputError(f"{shown} is not a folder", "catalog")
        files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    except OSError as exc:  # a name too long, a folder that cannot be read
        raise InputError(f"cannot read {shown}: {exc.strerror or exc}", "catalog") from None
    definitions: list[PropositionDef] = []
    problems: list[CatalogProblem] = []
    stems: dict[str, str] = {}
    for path in files:
        if path.stem in stems:  # p.yaml and p.yml would both define proposition p
            problems.append(CatalogProblem(path.name, "", f"{path.stem!r} is also defined by {stems[path.stem]}; keep one file"))
            continue
        stems[path.stem] = path.name
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            problems.append(CatalogProblem(path.name, "", f"not UTF-8 text (byte {exc.start})"))
            continue
        definition, found = parse_proposition_file(text, path.name)
        problems.extend(found)
        if definition is not None:
            expected = path.stem
            if definition.id != expected:
                problems.append(
                    CatalogProblem(path.name, "proposition.id", f"{definition.id!r} must match the file name {expected!r}")
                )
                continue
            definitions.append(definition)
    known = {d.id for d in definitions}
    for definition in definitions:
        for ind in definition.indicators:
            if ind.bears_of is not None and ind.proposition_id not in known:
                problems.append(CatalogProblem(definition.file, f"indicator {ind.bears_of}: bears_on",
                                               f"no proposition {ind.proposition_id!r} in the catalog"))  # fmt: skip
    owner: dict[str, str] = {}
    for definition in definitions:
        for i, ind in enumerate(definition.indicators):
            if ind.id in owner:
                problems.append(
                    CatalogProblem(
                        definition.file, f"indicators[{i}].id", f"duplicate indicator id {ind.id!r} (also in {owner[ind.id]})"
                    )
                )
            owner[ind.id] = definition.file
    return definitions, problems


_NEGATIONS = frozenset(
    "not no never neither nor without fails fail failed none nobody nothing cannot isn't aren't wasn't weren't "
    "doesn't don't didn't won't wouldn't hasn't haven't hadn't can't couldn't shouldn't".split()
)


def polarity_warning(d: PropositionDef) -> str | None:
    """A warning when the statement and the question disagree in polarity by a simple check (negation
    words in one of them only: "The Fed does not cut" beside "Will the Fed cut?"), since the
    probability shown is the question's and would read inverted beside the statement."""

    def negated(text: str) -> bool:
        words = {w.strip(".,;:!?()\"'").lower() for w in text.replace("’", "'").split()}
        return bool(words & _NEGATIONS)

    if negated(d.statement) == negated(d.question):
        return None
    which = "statement" if negated(d.statement) else "question"
    return (f"{d.id}: the {which} is negated and the other is not ({d.statement!r} / {d.question!r}); the "
            f"probability is of the question: phrase both the same way")  # fmt: skip
