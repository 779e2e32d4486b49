"""Words of estimative probability: which words say how likely, on which scale, and what numbers
in words are.

Every phrase maps to a **level** 1-7 shared by both scales (1 the least likely band, 4 the middle,
7 the most likely); a scale turns a level into its term and the band's midpoint. docs/extract.md
prints this table (a test holds them equal): change them together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..probability import ICD203_BANDS

# (term, low, high) per level 1..7
SCALES: dict[str, tuple[tuple[str, float, float], ...]] = {
    "icd203": tuple((term, low, high) for term, _synonym, low, high in ICD203_BANDS),
    # the UK Professional Head of Intelligence Analysis yardstick (its gaps between bands are kept)
    "phia": (
        ("remote chance", 0.0, 0.05),
        ("highly unlikely", 0.10, 0.20),
        ("unlikely", 0.25, 0.35),
        ("realistic possibility", 0.40, 0.50),
        ("likely or probable", 0.55, 0.75),
        ("highly likely", 0.80, 0.90),
        ("almost certain", 0.95, 1.0),
    ),
}


def band(scale: str, level: int) -> tuple[str, float, float, float]:
    """(term, low, high, midpoint) of a level on a scale; the midpoint is the prior a draft gets,
    kept within the tool's [0.001, 0.999]."""
    term, low, high = SCALES[scale][level - 1]
    return term, low, high, round(min(0.999, max(0.001, (low + high) / 2)), 6)


# Phrases that place a statement in a band. Matched whole-word, case-insensitive, longest first.
# `X|Y` alternatives share a level. Forms: the ICD 203 terms and synonyms, their adverbs and
# inflections, the PHIA terms, and the verbs and nouns outlooks use for the same idea.
LEVEL_PHRASES: dict[int, tuple[str, ...]] = {
    1: ("almost no chance", "remote chance", "remote possibility", "remote prospect", "virtually impossible",
        "no realistic prospect", "almost certainly not", "almost certainly won't", "almost certainly will not"),
    2: ("very unlikely", "highly unlikely", "highly improbable", "very improbable", "slight chance",
        "small chance", "little chance", "slim chance", "very doubtful", "low probability", "low likelihood"),
    3: ("unlikely", "improbable", "improbably", "probably not", "doubtful", "we doubt", "doubt that",
        "sceptical", "skeptical", "less likely than not", "not likely", "not expected", "not anticipated"),
    4: ("roughly even chance", "roughly even odds", "even chance", "even odds", "toss-up", "fifty-fifty",
        "realistic possibility", "foreseeable", "high risk", "heightened risk", "serious risk",
        "significant risk", "real risk", "elevated risk"),
    5: ("likely", "probable", "probably", "more likely than not", "expected", "anticipated", "projected",
        "forecast to", "set to", "poised to", "on course to", "on track to", "should", "we expect", "expects"),
    6: ("very likely", "highly likely", "highly probable", "very probable", "very probably", "in all likelihood",
        "strongly expected"),
    7: ("almost certain", "almost certainly", "nearly certain", "nearly certainly", "virtually certain",
        "all but certain", "near certainty"),
}  # fmt: skip

# Words that say a thing may happen without saying how likely: drafted with `prior: TODO`.
MODAL_PHRASES = ("could", "may", "might", "possible", "possibly", "perhaps", "cannot be ruled out",
                 "can't be ruled out", "not impossible", "not be ruled out", "conceivably")  # fmt: skip

# A future stated as plain fact: drafted with `prior: TODO` (the words give no probability).
FUTURE_PHRASES = ("will", "won't", "shall", "is going to", "are going to", "is due to", "are due to")

# A development the text presents as under way and growing: a forecast of its continuation.
TREND_PHRASES = ("growing", "rising", "mounting", "increasing", "deepening", "spreading", "escalating",
                 "intensifying", "has fueled new", "has fuelled new", "have fueled new", "have fuelled new",
                 "has sparked new", "have sparked new", "has triggered new", "have triggered new")  # fmt: skip

# A band phrase after these is a judgement someone held then, not a forecast now.
PAST_MARKERS = ("was", "were", "had", "had been", "was widely", "were widely")

# A future after these reports someone's intention or words, not the author's judgement.
REPORTING_VERBS = ("said", "says", "has said", "have said", "announced", "has announced", "stated", "pledged",
                   "promised", "told", "added", "insisted", "claimed", "vowed")  # fmt: skip

NEGATIONS = ("not", "never", "no longer", "hardly", "n't")

# Markers of an assessment with no band of their own; they add to the words that decided.
ASSESSMENT_MARKERS = ("we assess", "we judge", "we believe", "we estimate", "in our view", "our base case")


@dataclass(frozen=True)
class Cue:
    phrase: str
    kind: str  # level | modal | future | trend
    level: int | None = None


def _alternation(phrases: list[str]) -> str:
    ordered = sorted(set(phrases), key=len, reverse=True)
    return "|".join(re.escape(p).replace(r"\ ", r"\s+").replace("'", "['’]") for p in ordered)


CUES: dict[str, Cue] = {}
for _level, _phrases in LEVEL_PHRASES.items():
    for _phrase in _phrases:
        CUES[_phrase] = Cue(_phrase, "level", _level)
for _kind, _phrases in (("modal", MODAL_PHRASES), ("future", FUTURE_PHRASES), ("trend", TREND_PHRASES)):
    for _phrase in _phrases:
        CUES.setdefault(_phrase, Cue(_phrase, _kind))

CUE_PATTERN = re.compile(rf"(?<![\w-])(?:{_alternation(list(CUES))})(?![\w-])", re.IGNORECASE)
REPORTING_PATTERN = re.compile(rf"(?<![\w-])(?:{_alternation(list(REPORTING_VERBS))})(?![\w-])", re.IGNORECASE)
MARKER_PATTERN = re.compile(rf"(?<![\w-])(?:{_alternation(list(ASSESSMENT_MARKERS))})(?![\w-])", re.IGNORECASE)
# "the risk of a militant attack remains high": a risk called high is a heightened risk
HIGH_RISK = re.compile(r"\brisks?\b[^.;:]{0,80}?\b(?:remains?|is|are|stays?|looks?)\s+(?:high|elevated|significant|serious)\b",
                       re.IGNORECASE)  # fmt: skip


def cue(phrase: str) -> Cue:
    key = " ".join(phrase.lower().replace("’", "'").split())
    return CUES[key]


# -- numbers ---------------------------------------------------------------------------------
_UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
          "sixteen seventeen eighteen nineteen").split()  # fmt: skip
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
NUMBER_WORDS: dict[str, int] = {word: i for i, word in enumerate(_UNITS)}
for _i, _ten in enumerate(_TENS):
    NUMBER_WORDS[_ten] = 20 + 10 * _i
    for _j, _unit in enumerate(_UNITS[1:10], 1):
        NUMBER_WORDS[f"{_ten}-{_unit}"] = NUMBER_WORDS[f"{_ten} {_unit}"] = 20 + 10 * _i + _j
NUMBER_WORDS.update({"a hundred": 100, "one hundred": 100, "a": 1, "an": 1, "half": 50})
DENOMINATORS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                "ten": 10, "twenty": 20, "a hundred": 100, "hundred": 100, "a thousand": 1000}  # fmt: skip


def number(text: str) -> float | None:
    """A number written in digits or words ("70", "seventy", "seventy-five"), else None."""
    key = " ".join(text.lower().split())
    if key in NUMBER_WORDS:
        return float(NUMBER_WORDS[key])
    if key in DENOMINATORS:
        return float(DENOMINATORS[key])
    try:
        return float(key.replace(",", ""))
    except ValueError:
        return None


_NUM = r"(?:\d+(?:\.\d+)?|" + "|".join(sorted((re.escape(w) for w in NUMBER_WORDS if len(w) > 2), key=len, reverse=True)) + ")"
_PERCENT = r"(?:%|\s*per\s*cent\b|\s*percent\b)"
_CHANCE = r"(?:chance|probability|likelihood|odds|risk|likely)"
NUMERIC_PATTERNS = (
    # "a 70 percent probability", "a 30-40% chance"
    re.compile(rf"(?<![\w.])(?P<a>{_NUM})(?:\s*(?:-|–|to)\s*(?P<b>{_NUM}))?{_PERCENT}[\s-]+{_CHANCE}\b", re.IGNORECASE),
    # "the probability of a recession ... is 25%"
    re.compile(rf"\b(?:probability|chance|likelihood|odds)\b[^.;%]{{0,100}}?\b(?:is|at|of|to|around|about|near)\s+"
               rf"(?:about\s+|around\s+|roughly\s+|some\s+)?(?P<a>{_NUM})(?:\s*(?:-|–|to)\s*(?P<b>{_NUM}))?{_PERCENT}",
               re.IGNORECASE),
    # "a one-in-three chance", "one in five", "2 in 3 odds"
    re.compile(rf"(?<![\w.])(?P<n>{_NUM})[\s-]+in[\s-]+(?P<d>{_NUM}|a\s+hundred|hundred|a\s+thousand)[\s-]+{_CHANCE}\b",
               re.IGNORECASE),
)  # fmt: skip
