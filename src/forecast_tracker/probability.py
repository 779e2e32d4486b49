"""Pure probability arithmetic: parsing, ICD 203 words, odds, likelihood ratios, and the one rule
for whether an observation fires and which ratio it carries.

Nothing here touches a database or a file.
"""

from __future__ import annotations

import math
from typing import Protocol

from .errors import InputError

P_MIN = 0.001
P_MAX = 0.999
# The range a likelihood ratio may have: +-60 dB. Odds stay within [1/999, 999] (the clamps), so any
# product of odds and ratios in this range is far from a float's limits, where a ratio of 1e308 took
# 0.999 to inf odds and then to 0.001. One signpost worth more than a million to one is not evidence
# but the answer: record it with `resolve`.
RATIO_MIN = 1e-6
RATIO_MAX = 1e6

# ICD 203 bands: (term, synonym, low, high). A term maps to its band's midpoint.
ICD203_BANDS: tuple[tuple[str, str, float, float], ...] = (
    ("almost no chance", "remote", 0.01, 0.05),
    ("very unlikely", "highly improbable", 0.05, 0.20),
    ("unlikely", "improbable", 0.20, 0.45),
    ("roughly even chance", "roughly even odds", 0.45, 0.55),
    ("likely", "probable", 0.55, 0.80),
    ("very likely", "highly probable", 0.80, 0.95),
    ("almost certain", "nearly certain", 0.95, 0.99),
)

_TERMS: dict[str, float] = {}
for _term, _synonym, _low, _high in ICD203_BANDS:
    _TERMS[_term] = _TERMS[_synonym] = round((_low + _high) / 2, 6)


def _adverb(phrase: str) -> str:
    """`probable` -> `probably`, `almost certain` -> `almost certainly`: how analysts also write the words."""
    head, _, last = phrase.rpartition(" ")
    last = last[:-1] + "y" if last.endswith("ble") else last + "ly" if last.endswith("certain") else last
    return f"{head} {last}".strip()


# the adverb and inflected forms ("probably", "almost certainly", "improbably", "very probably"), the
# same band as their adjective; "likely" and "unlikely" are already both
for _phrase, _value in list(_TERMS.items()):
    _TERMS.setdefault(_adverb(_phrase), _value)
    if _phrase.startswith("highly "):
        _TERMS.setdefault("very " + _adverb(_phrase).removeprefix("highly "), _value)

ICD203_TERMS: tuple[str, ...] = tuple(_TERMS)


def parse_probability(text: str | float, *, field: str = "probability") -> float:
    """Parse `0.7`, `70%` or an ICD 203 term into a probability within [0.001, 0.999]: certainty is
    recorded with `resolve`, not with a probability."""
    if isinstance(text, bool):
        raise InputError(f"expected a probability, got {text!r}", field)
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        raw = str(text).strip()
        key = " ".join(raw.lower().replace("_", " ").replace("-", " ").split())
        if key in _TERMS:
            return _TERMS[key]
        try:
            value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
        except ValueError:
            raise InputError(
                f"{raw[:40]!r} is not a probability (use 0.7, 70% or an ICD 203 term such as 'likely')", field
            ) from None
    if math.isnan(value) or math.isinf(value):
        raise InputError(f"{value} is not a probability", field)
    if not (P_MIN <= value <= P_MAX):
        raise InputError(f"{value:g} is outside [{P_MIN}, {P_MAX}] (record certainty with 'resolve', not a probability)", field)
    return value


def icd203_term(probability: float) -> str:
    """The ICD 203 term whose band holds `probability` (band edges go to the band nearer 50%)."""
    p = float(probability)
    if p < 0.5:
        for term, _syn, _low, high in ICD203_BANDS:
            if p < high:
                return term
        return ICD203_BANDS[3][0]
    for term, _syn, low, _high in reversed(ICD203_BANDS):
        if p > low:
            return term
    return ICD203_BANDS[3][0]


def two_places(probability: float) -> str:
    """A probability to two places, as every page and line shows it; beyond the ICD 203 bands (below
    0.01, above 0.99) it prints `<0.01` or `>0.99`, never `0.00` or `1.00`, which would read as the
    certainty the tool refuses to record."""
    p = float(probability)
    if p < 0.01:
        return "<0.01"
    if p > 0.99:
        return ">0.99"
    return f"{p:.2f}"


def describe(probability: float) -> str:
    """A probability with its word, as reports show it: `0.85 (very likely)`. The word is the shown
    number's, so one number never reads as two words (0.049 and 0.05 both print `0.05 (very unlikely)`)."""
    return f"{two_places(probability)} ({shown_word(probability)})"


def shown_word(probability: float) -> str:
    """The ICD 203 word of a probability as shown to two places (the word `describe` prints)."""
    shown = two_places(probability)
    return icd203_term(float(shown) if shown[0].isdigit() else probability)


def clamp(probability: float) -> float:
    """Keep a probability within [0.001, 0.999]."""
    return min(P_MAX, max(P_MIN, probability))


def odds(probability: float) -> float:
    return probability / (1.0 - probability)


def probability_from_odds(value: float) -> float:
    return value / (1.0 + value)


def decibans(likelihood_ratio: float) -> float:
    """Weight of evidence of a likelihood ratio: 10 x log10(LR)."""
    return 10.0 * math.log10(likelihood_ratio)


def check_ratio(likelihood_ratio: float, field: str = "likelihood_ratio") -> float:
    """A likelihood ratio within [RATIO_MIN, RATIO_MAX] (see there for why)."""
    if math.isnan(likelihood_ratio) or not RATIO_MIN <= likelihood_ratio <= RATIO_MAX:
        raise InputError(f"{likelihood_ratio:g} is outside [{RATIO_MIN:g}, {RATIO_MAX:g}] (at most 60 dB either way)", field)
    return likelihood_ratio


def apply_likelihood_ratio(prior: float, likelihood_ratio: float) -> float:
    """Posterior probability after multiplying the odds by `likelihood_ratio`, clamped."""
    if likelihood_ratio <= 0 or math.isnan(likelihood_ratio):
        raise InputError(f"{likelihood_ratio} must be > 0", "likelihood_ratio")
    return clamp(probability_from_odds(odds(prior) * likelihood_ratio))


class Signpost(Protocol):
    """What the firing rule reads of an indicator: a stored row (`records.IndicatorRow`) and a catalog
    definition (`catalog.IndicatorDef`) both have it."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def threshold(self) -> float | None: ...
    @property
    def likelihood_ratio(self) -> float: ...
    @property
    def likelihood_ratio_if_not_met(self) -> float | None: ...
    @property
    def repeats(self) -> str | None: ...
    @property
    def group_name(self) -> str | None: ...
    @property
    def fires_when(self) -> str | None: ...
    @property
    def decides(self) -> str | None: ...


REPEATS = ("latest", "once", "diminishing", "independent")  # the catalog's choices for `repeats`
# The defaults, chosen by tests/benchmarks/calibration.py (docs/evidence-model.md has its table): an
# event counts once; a count or level is a state, and weighs as its latest reading.
DEFAULT_REPEATS = {"event": "once", "count": "latest", "level": "latest"}


def repeats_of(indicator: Signpost) -> str:
    """How the indicator's repeated readings count: its own `repeats`, else its kind's default."""
    return indicator.repeats or DEFAULT_REPEATS.get(indicator.kind, "once")


def fires(indicator: Signpost, value: float | None) -> bool:
    """Whether an observation of `indicator` counts as its signpost firing: an event that happened;
    a count or level at or above its threshold (at or below it with `fires_when: below`)."""
    if indicator.kind == "event":
        return value is None or value >= 1
    if value is None or indicator.threshold is None:
        return False
    if indicator.fires_when == "below":
        return value <= indicator.threshold
    return value >= indicator.threshold


def counted_ratio(indicator: Signpost, value: float | None) -> tuple[bool, float | None]:
    """(fired, ratio): the one rule for what an observation says. The ratio is the indicator's
    `likelihood_ratio` when it fires, else `likelihood_ratio_if_not_met` (None: it says nothing)."""
    fired = fires(indicator, value)
    return fired, indicator.likelihood_ratio if fired else indicator.likelihood_ratio_if_not_met


def direction(ratio: float | None) -> str:
    """Which way a ratio points: supports (YES), opposes, or neutral."""
    if ratio is None or abs(ratio - 1) < 1e-9:  # a float: a repeat that added nothing computes to 1 or near it
        return "neutral"
    return "supports" if ratio > 1 else "opposes"


# -- pooling a team's tracks --------------------------------------------------------------------
POOLS = ("median", "geo-odds", "mean", "trimmed")  # the catalog's choices for `team`, and `--pool`
DEFAULT_POOL = "median"
GEO_ODDS_CLIP = (0.02, 0.98)  # each track's bounds before a geometric mean of odds


def pool(values: list[float], method: str = DEFAULT_POOL) -> float:
    """One team number from the forecasters' numbers on a day.

    - `median`: the middle value (the mean of the middle two for an even count);
    - `geo-odds`: the geometric mean of the odds, each value first clipped to [0.02, 0.98] so that one
      track near certainty cannot carry the team there alone;
    - `mean`: the arithmetic mean;
    - `trimmed`: the mean once the lowest and highest fifth are set aside (at least one value at each
      end once there are three or more).
    Numbers that all agree pool to that number under every method (a criterion met holds every track
    at the clamp, and the team with them); so does a single number. Tracks share the applied evidence,
    so no method extremizes."""
    if not values:
        raise ValueError("pool of no values")
    ordered = sorted(values)
    if ordered[0] == ordered[-1]:
        return ordered[0]
    n = len(ordered)
    if method == "median":
        mid = n // 2
        return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    if method == "mean":
        return math.fsum(ordered) / n
    if method == "trimmed":
        cut = max(1, n // 5) if n >= 3 else 0
        kept = ordered[cut : n - cut]
        return math.fsum(kept) / len(kept)
    if method == "geo-odds":
        low, high = GEO_ODDS_CLIP
        mean_log_odds = math.fsum(math.log(odds(min(high, max(low, p)))) for p in ordered) / n
        return probability_from_odds(math.exp(mean_log_odds))
    raise ValueError(f"unknown pool {method!r}")
