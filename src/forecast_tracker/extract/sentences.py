"""Plain text or Markdown -> sentences, each with the line it starts on.

A paragraph (text between blank lines), a Markdown heading, list item or block quote is a block of
its own; within a block, lines are joined and split at a full stop, question or exclamation mark
(after any closing quotes or brackets) that is followed by a capital, a digit or an opening quote.
A full stop after a known abbreviation (Mr., Nov., approx., U.S.) or a single initial (R.) does not
end a sentence, nor does an ellipsis followed by a lower-case word. Markdown emphasis, links and
inline code marks are removed; the words are kept as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Words that end with a full stop without ending a sentence, compared lower-case without the stop.
# A list, not a model: it covers titles, months, units and Latin short forms an outlook uses.
ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof st sr jr gen col lt capt sgt gov sen rep pres hon rev messrs mt ft
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun
    no nos vol vols fig figs p pp ch sec art para approx ca c cf e.g i.e viz vs v al
    co corp inc ltd llc plc bros dept univ assn est govt min max avg
    a.m p.m u.s u.k u.n e.u u.s.a""".split()
)

_BLOCK_START = re.compile(r"^\s*(?:#{1,6}\s+|[-*+]\s+|\d{1,3}[.)]\s+|>\s?)")
_MARKUP = (
    (re.compile(r"!?\[([^\]]*)\]\([^)]*\)"), r"\1"),  # [text](url) -> text
    (re.compile(r"`([^`]*)`"), r"\1"),
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<![\w*])[*_](?=\S)(.+?)(?<=\S)[*_](?![\w*])"), r"\1"),
)
# a candidate end: terminal marks, closing quotes/brackets, then space and the next sentence's start
_END = re.compile(r"""([.!?…]+)(["'”’)\]]*)(\s+)(?=["'“‘(\[]?[A-Z0-9])""")
_TOKEN_BEFORE = re.compile(r"(\S+)$")


@dataclass(frozen=True)
class Sentence:
    text: str
    line: int  # 1-based line of the file where it starts
    number: int  # 1-based position among the file's sentences


def _blocks(text: str) -> list[list[tuple[int, str]]]:
    """Each paragraph, heading, list item and quote as its lines: (line number, text without markup)."""
    blocks: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or (len(line) >= 3 and set(line) <= set("-=*_#")):  # blank or a rule
            if current:
                blocks.append(current)
            current = []
            continue
        marker = _BLOCK_START.match(raw)
        if marker:
            if current:
                blocks.append(current)
            current = []
            line = raw[marker.end() :].strip()
        cleaned = _plain(line)
        if cleaned:
            current.append((number, cleaned))
    if current:
        blocks.append(current)
    return blocks


def _plain(text: str) -> str:
    for pattern, replacement in _MARKUP:
        text = pattern.sub(replacement, text)
    return " ".join(text.split())


def _is_abbreviation(before: str, marks: str) -> bool:
    if marks != ".":
        return False
    match = _TOKEN_BEFORE.search(before)
    if match is None:
        return False
    token = match.group(1).lstrip("(\"'“‘[").lower()
    if token in ABBREVIATIONS:
        return True
    return len(token) == 1 and token.isalpha()  # an initial: "R. Okonjo"


def split(text: str) -> list[Sentence]:
    """The sentences of a text, in order."""
    sentences: list[Sentence] = []
    for lines in _blocks(text):
        block = " ".join(line for _number, line in lines)
        starts: list[tuple[int, int]] = []
        offset = 0  # where each line begins in the joined block
        for number, line in lines:
            starts.append((offset, number))
            offset += len(line) + 1

        def line_of(position: int, starts: list[tuple[int, int]] = starts) -> int:
            return max((o, n) for o, n in starts if o <= position)[1]

        begin = 0
        for match in _END.finditer(block):
            if _is_abbreviation(block[begin : match.start()], match.group(1)):
                continue
            piece = block[begin : match.end(2)].strip()
            if piece:
                sentences.append(Sentence(piece, line_of(begin), len(sentences) + 1))
            begin = match.end()
        rest = block[begin:].strip()
        if rest:
            sentences.append(Sentence(rest, line_of(begin), len(sentences) + 1))
    return sentences
