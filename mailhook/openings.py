"""Scanning text with a catalogue pattern only where one of its matches can start.

The service patterns in ``rules/`` (server ids, logins, codes) open with ``\\b`` and an
alternation of words, case-insensitively. The ``re`` engine finds no fixed opening in
such a pattern and tries a full match at every position of the text: over the bench
corpus that was a tenth of verifying a message. Every match does start with one of the
words, though, and a substring search finds those far faster. ``finditer`` here finds
where they occur and tries the pattern only there, which gives the same matches.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

# re's own parser and opcode names: private, so anything unexpected in what they give
# means "no openings known", and the pattern is scanned as a whole as before.
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any


def caseless(text: str) -> str:
    """``text`` lower-cased, with every character IGNORECASE equates to ASCII made it.

    Each character stays one character at its place, so a place found in the result is
    the same place in ``text``. Besides what ``lower()`` does, re equates dotless i and
    long s with i and s, and reads U+0130 as i, where ``lower()`` gives two characters
    (the only one it lengthens; tests/mailhook/test_openings.py checks every code point).
    """
    if text.isascii():
        return text.lower()
    return text.replace("\u0130", "i").lower().replace("\u0131", "i").replace("\u017f", "s")


@dataclass(frozen=True, slots=True)
class OpeningScan:
    """A pattern, and the texts one of which opens each of its matches (or None)."""

    pattern: re.Pattern[str]
    openings: tuple[str, ...] | None
    ignore_case: bool

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        """What ``pattern.finditer(text)`` yields."""
        if self.openings is None:
            return self.pattern.finditer(text)
        searched = caseless(text) if self.ignore_case else text
        if not any(opening in searched for opening in self.openings):
            return iter(())
        return self._at_openings(text, searched)

    def _at_openings(self, text: str, searched: str) -> Iterator[re.Match[str]]:
        # finditer's leftmost match from ``end`` starts at the first place from there
        # where the pattern matches; only an opening's place can be one. Each match is
        # at least its opening long, never empty, so the next search starts at its end.
        end = 0
        for start in _places(searched, self.openings or ()):
            if start < end:
                continue
            match = self.pattern.match(text, start)
            if match is not None:
                yield match
                end = match.end()


def _places(text: str, openings: tuple[str, ...]) -> list[int]:
    """Every index of ``text`` where one of ``openings`` starts, in order."""
    places: set[int] = set()
    for opening in openings:
        at = text.find(opening)
        while at >= 0:
            places.add(at)
            at = text.find(opening, at + 1)
    return sorted(places)


@functools.lru_cache(maxsize=64)
def opening_scan(pattern: re.Pattern[str]) -> OpeningScan:
    """The scan for ``pattern``; patterns whose openings are not found scan as before."""
    ignore_case = bool(pattern.flags & re.IGNORECASE)
    try:
        openings = _openings(list(sre_parse.parse(pattern.pattern, pattern.flags)))
    except Exception:  # noqa: BLE001 - re's internals changed: scan the plain way
        openings = None
    if openings is not None and ignore_case:
        if not all(opening.isascii() for opening in openings):
            openings = None  # caseless() is right for ASCII openings only
        else:
            openings = tuple(opening.lower() for opening in openings)
    return OpeningScan(pattern, openings, ignore_case)


def _openings(items: list[tuple[Any, Any]]) -> tuple[str, ...] | None:
    """The literal texts, one per alternative, that every match of ``items`` opens with."""
    while items and items[0][0] is sre.AT:  # \b, ^ and the like take no character
        items = items[1:]
    if not items:
        return None
    op, av = items[0]
    if op is sre.SUBPATTERN:
        _group, add_flags, del_flags, inner = av
        return None if add_flags or del_flags else _openings(list(inner))
    if op is sre.BRANCH:
        found: list[str] = []
        for alternative in av[1]:
            opening = _literal_run(list(alternative))
            if not opening:
                return None
            found.append(opening)
        return tuple(found)
    opening = _literal_run(items)
    return (opening,) if opening else None


def _literal_run(items: list[tuple[Any, Any]]) -> str:
    """The characters the sequence ``items`` opens with, literally."""
    run = []
    for op, av in items:
        if op is not sre.LITERAL:
            break
        run.append(chr(av))
    return "".join(run)
