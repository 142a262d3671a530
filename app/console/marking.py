"""The text as read, with what the decision recognised in it marked: the phrases of the
kinds the message asks for and the services it names (the verdict page's evidence).

Phrases are found as extraction finds them (mailhook.catalogue.phrase_pattern over
folded text); each folded character remembers the character of the text it came from,
so a match is marked where the agent reads it, to the end of its word ("Zmianę" for
"zmian"). Every character
of the text is escaped: message text is written by whoever sent it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from markupsafe import Markup, escape

from mailhook.catalogue import phrase_pattern
from mailhook.text import fold

# Marks beyond this many are not drawn: the page is evidence, not a concordance.
MAX_MARKS = 500


def marked(text: str, phrases: Iterable[str], services: Iterable[str]) -> Markup:
    """``text`` escaped, with each occurrence of ``phrases`` (folded catalogue phrases)
    and ``services`` (names as the verdict gives them) inside ``<mark>``."""
    folded, origin = _folded(text)
    spans: list[tuple[int, int]] = []
    for phrase in dict.fromkeys(phrases):
        spans.extend(
            (origin[match.start()], _word_end(text, origin[match.end() - 1] + 1))
            for match in _pattern(phrase).finditer(folded)
            if match.end() > match.start()
        )
    lowered = text.lower()
    for service in dict.fromkeys(name.lower() for name in services if name):
        start = lowered.find(service)
        while start != -1 and len(spans) < MAX_MARKS:
            spans.append((start, start + len(service)))
            start = lowered.find(service, start + len(service))
    return _with_marks(text, _merged(spans)[:MAX_MARKS])


def _word_end(text: str, end: int) -> int:
    """Where the word ending a stem's match ends: "faktur" marks "faktury" whole."""
    while end < len(text) and text[end].isalnum():
        end += 1
    return end


def _folded(text: str) -> tuple[str, list[int]]:
    """``text`` folded a character at a time, and for each folded character the index
    of the character it came from (whitespace kept as one space)."""
    pieces: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        folded = " " if char.isspace() else _fold_char(char)
        pieces.append(folded)
        origin.extend([index] * len(folded))
    return "".join(pieces), origin


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    return fold(char)


@lru_cache(maxsize=1024)
def _pattern(phrase: str) -> re.Pattern[str]:
    return phrase_pattern(phrase)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` sorted, overlapping ones joined."""
    joined: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if joined and start <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(end, joined[-1][1]))
        else:
            joined.append((start, end))
    return joined


def _with_marks(text: str, spans: list[tuple[int, int]]) -> Markup:
    out: list[str] = []
    at = 0
    for start, end in spans:
        out.append(escape(text[at:start]))
        out.append(Markup("<mark>") + escape(text[start:end]) + Markup("</mark>"))
        at = end
    out.append(escape(text[at:]))
    return Markup("").join(out)
