"""One sentence -> a verdict: is it estimative, how likely do its words say, and what it states.

The verdicts, strongest first (the first that applies decides):
- `question`: it asks, it does not judge;
- `forecast`: a number ("a 70 percent chance", "one in five") or a word that places it in a band;
- `modal`: it says a thing may happen ("could", "may", "cannot be ruled out") but not how likely;
- `trend`: a development under way and growing ("a growing resentment", "has fuelled new protests");
- `future`: a future stated as plain fact ("will reopen on 15 January");
- `past-judgement`: the band words report what someone expected then ("was expected", "had expected");
- `reported`: the future is someone's stated intention ("has said it will build");
- `fact`: none of the above: what happened or is the case.
The first four are drafted; the words that decided are kept with every verdict, so a reviewer sees
why a sentence was left out. Words inside quotation marks are someone else's and decide nothing, and
a word inside an `if` clause is a condition, not a judgement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import lexicon
from .sentences import Sentence

DRAFTED = ("forecast", "modal", "trend", "future")
REASONS = {
    "question": "it asks a question; it judges nothing",
    "forecast": "its words (or number) say how likely",
    "modal": "it says this may happen, not how likely: the prior is for the analyst",
    "trend": "it describes a development under way and growing: a forecast of its continuation",
    "future": "it states a future as fact, with no words of probability: the prior is for the analyst",
    "past-judgement": "its words of probability report what was expected then, not a forecast now",
    "reported": "its future is someone's stated intention, reported",
    "fact": "no words of probability, modal, trend or future outside quotation marks: it reports what is or was",
}

_QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"")
_WORD = re.compile(r"[\w'’-]+")
# an "expected"/"anticipated"/"projected" is a judgement held now only after these words
_PARTICIPLES = ("expected", "anticipated", "projected")
_NOW = frozenset(
    """is are be been being remains remain seems seem looks look appears appear the an a its their his her our
    this these widely also now still generally currently broadly""".split()
)
_CONDITION = re.compile(r"\b(?:if|unless|whether)\b", re.IGNORECASE)
_MONTH_WORDS = frozenset("in of since until by early late mid from to before after through during next last".split())
_NOUN_WILL = frozenset("the political free good ill own his her their its of popular public".split())
_LEADING = re.compile(
    r"^(?:however|furthermore|moreover|conversely|also|in addition|additionally|therefore|thus|hence|meanwhile|"
    r"nevertheless|nonetheless|still|indeed|overall|in short|in sum|finally|first|second|third|summary)\s*[,:]\s*",
    re.IGNORECASE,
)
_REASON_CLAUSE = re.compile(
    r"^(?:given|considering|because|since|as|with)\b[^,]*(?:,\s*and\s+considering[^,]*)?,\s*", re.IGNORECASE
)


@dataclass(frozen=True)
class Reading:
    sentence: Sentence
    verdict: str
    words: tuple[str, ...]  # the words that decided, as written
    level: int | None = None  # 1..7 (see lexicon) when the words place it in a band
    number: float | None = None  # a probability the text gives as a number
    statement: str | None = None  # the clause a draft states (drafted verdicts only)

    @property
    def drafted(self) -> bool:
        return self.verdict in DRAFTED


def _blank_quotes(text: str) -> str:
    return _QUOTED.sub(lambda m: " " * len(m.group(0)), text)


_WINDOW = 200  # characters either side of a cue that are read: a run-on "sentence" stays linear


def _words_before(text: str, position: int, count: int) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(text[max(0, position - _WINDOW) : position])][-count:]


def _words_after(text: str, position: int, count: int) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(text[position : position + _WINDOW])][:count]


def _negated(text: str, start: int, end: int) -> str | None:
    """The negation within three words before or two after a cue, in the same clause."""
    low = max(0, start - _WINDOW)
    clause_start = max(text.rfind(",", low, start), text.rfind(";", low, start), low - 1) + 1
    before = _words_before(text[clause_start:start], start - clause_start, 3)
    comma = text.find(",", end, end + _WINDOW)
    after = _words_after(text[end : comma if comma >= 0 else end + _WINDOW], 0, 2)
    for word in (*before, *after):
        if word in lexicon.NEGATIONS or word.endswith("n't"):
            return word
    return None


def _in_condition(text: str, start: int) -> bool:
    found = list(_CONDITION.finditer(text, max(0, start - 3 * _WINDOW), start))  # longer is not one clause
    return bool(found) and "," not in text[found[-1].end() : start]


def _numeric(text: str) -> tuple[float, str] | None:
    for pattern in lexicon.NUMERIC_PATTERNS:
        match = pattern.search(text)
        if match is None:
            continue
        groups = match.groupdict()
        if groups.get("n") is not None:
            n, d = lexicon.number(groups["n"]), lexicon.number(re.sub(r"\s+", " ", groups["d"]))
            value = n / d if n is not None and d else None
        else:
            a = lexicon.number(groups["a"])
            b = lexicon.number(groups["b"]) if groups.get("b") else None
            value = (a if b is None else (a + b) / 2) / 100 if a is not None else None
        if value is not None and 0 <= value <= 1:
            return value, match.group(0)
    return None


def _level_of(cue: lexicon.Cue, negation: str | None) -> int:
    assert cue.level is not None
    if negation is None:
        return cue.level
    return 3 if cue.level >= 5 else 8 - cue.level  # "not very likely" is unlikely, not very unlikely


def classify(sentence: Sentence) -> Reading:
    """The verdict on one sentence, with the words that decided it."""
    text = sentence.text
    if text.rstrip("\"'”’)]").endswith("?"):
        return Reading(sentence, "question", ("?",))
    own = _blank_quotes(text)
    markers = tuple(m.group(0) for m in lexicon.MARKER_PATTERN.finditer(own))
    found = _numeric(own)
    if found is not None:
        value, words = found
        return Reading(sentence, "forecast", (words, *markers), number=round(value, 3), statement=statement_of(text, words))
    best: dict[str, tuple[lexicon.Cue, str, int | None]] = {}
    past: list[str] = []
    said = lexicon.REPORTING_PATTERN.search(own)  # the first reporting verb: a future after it is reported
    for match in lexicon.CUE_PATTERN.finditer(own):
        written = match.group(0)
        cue = lexicon.cue(written)
        before = _words_before(own, match.start(), 2)
        if cue.phrase == "may" and written[0] == "M" and (match.start() > 0 and (before[-1:] and before[-1] in _MONTH_WORDS)
                                                          or re.match(r"\s+\d", own[match.end():])):  # fmt: skip
            continue  # the month
        if cue.phrase == "will" and before[-1:] and before[-1] in _NOUN_WILL:
            continue  # "the will of the people"
        if _in_condition(own, match.start()):
            continue
        if cue.kind == "level":
            if before[-1:] and before[-1] in ("was", "were", "had") or before[-2:] == ["had", "been"]:
                past.append(f"{' '.join(before[-2:] if before[-1] == 'been' else before[-1:])} {written}")
                continue
            if cue.phrase in _PARTICIPLES and not (before[-1:] and before[-1] in _NOW):
                past.append(f"{' '.join(before[-1:])} {written}".strip())
                continue
            negation = _negated(own, match.start(), match.end()) if "not" not in cue.phrase else None
            level = _level_of(cue, negation)
            shown = f"{written} ({negation})" if negation else written
            best.setdefault("level", (cue, shown, level))
        elif cue.kind == "trend" and before[-1:] and before[-1] in ("was", "were", "had"):
            past.append(f"{before[-1]} {written}")
        elif cue.kind == "future" and said is not None and said.start() < match.start():
            best.setdefault("reported", (cue, written, None))
        else:
            best.setdefault(cue.kind, (cue, written, None))
    if "level" not in best and (risk := lexicon.HIGH_RISK.search(own)):
        best["level"] = (lexicon.cue("high risk"), risk.group(0), 4)
    for verdict, key in (("forecast", "level"), ("modal", "modal"), ("trend", "trend"), ("future", "future")):
        if key in best:
            _cue, words, band_level = best[key]
            return Reading(sentence, verdict, (words, *markers), level=band_level, statement=statement_of(text, words))
    if past:
        return Reading(sentence, "past-judgement", tuple(past))
    if "reported" in best:
        return Reading(sentence, "reported", (best["reported"][1],))
    return Reading(sentence, "fact", ())


def statement_of(text: str, words: str) -> str:
    """The clause a draft states: after "CUE that" when the sentence says so ("it is highly probable
    that X"), else the sentence without its opening connective and reason clause ("Given ..., ")."""
    clause = text
    position = text.find(words.split(" (")[0])
    if position >= 0:
        that = re.match(r"[^,;]{0,12}?\bthat\s+", text[position + len(words.split(" (")[0]) :])
        if that:
            clause = text[position + len(words.split(" (")[0]) + that.end() :]
    if clause is text:
        clause = _LEADING.sub("", clause)
        reason = _REASON_CLAUSE.match(clause)
        if reason and len(clause) - reason.end() > 20:
            clause = clause[reason.end() :]
    clause = clause.strip().rstrip(".;:,")
    first = next((i for i, ch in enumerate(clause) if ch.isalnum()), 0)  # past any opening quote
    clause = clause[:first] + clause[first : first + 1].upper() + clause[first + 1 :]
    return clause + "."


def read(sentences: list[Sentence]) -> list[Reading]:
    return [classify(s) for s in sentences]
