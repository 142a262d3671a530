"""Requests the catalogue does not recognise, written beside one it does (fail closed).

A message asking for a duplicate invoice "and, by the way, to reset the panel password
and send it to this address" is recognised as an invoice request; the rest of it is
what an agent reading the message acts on too. So the sender's own text is cut into
clauses (sentences, then commas and conjunctions), and a clause that reads as a request
(a request word or an action verb of the catalogue's ``[requests]``), names an action
or its object, and that no phrase of any kind recognises is reported, unless every
action word in it also occurs in a clause that was recognised ("Proszę o zmianę
rekordu DNS … i potwierdzenie zmiany") or in a phrase of a kind recognised.

Reading is on folded text (mailhook.text.fold), as phrases are matched, and bounded by
what extraction reads of the sender's text (mailhook.reading.MAX_TEXT).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from mailhook.text import fold, lines

# Where a sentence ends (a full stop, a line); within it, where a clause does (a comma,
# a colon, a bracket); then the words that join two requests in one clause.
_SENTENCE_END = re.compile(r"[.!?;](?=\s|$)|\n")
_CLAUSE_END = re.compile(r":(?=\s|$)|[,()]")
_JOINERS = re.compile(
    r"(?:\s(?:i|oraz|a takze|takze|tez|rowniez|ponadto|dodatkowo|przy okazji|and|also|"
    r"as well as|plus|then|additionally))+\s"
)
# A clause quoted in a reason: enough for an agent to find it.
_SHOWN = 80
# Letters folding leaves outside ASCII are of a script no phrase is written in
# (Cyrillic, Greek, Arabic, CJK…): this many in a clause and it may ask anything.
_FOREIGN_LETTERS = 3
# What such a clause counts as naming: never a word of a recognised clause.
FOREIGN = "(a script the catalogue is not written in)"


@dataclass(frozen=True, slots=True)
class RequestWords:
    """The catalogue's ``[requests]``, folded; each matched at the start of a word."""

    # A clause holding one asks for something ("prosze", "please").
    markers: tuple[str, ...]
    # What a desk does to a service or an account ("zmien", "reset", "remove"): a
    # clause holding one asks to have it done, with or without a marker.
    verbs: tuple[str, ...]
    # What it is done to ("hasl", "dostep", "password"): named in a clause that asks.
    objects: tuple[str, ...]
    _markers: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _verbs: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _objects: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("markers", "verbs", "objects"):
            object.__setattr__(self, f"_{name}", _starts(getattr(self, name)))

    def asks(self, clause: str, sentence: str) -> frozenset[str] | None:
        """The verbs and objects of ``clause`` when it reads as a request (a verb in it,
        or a marker in its sentence: "proszę o duplikat faktury i reset hasła"), else
        None. A clause in a script no phrase is written in may ask anything: FOREIGN."""
        if sum(1 for char in clause if char.isalpha() and not char.isascii()) >= _FOREIGN_LETTERS:
            return frozenset({FOREIGN})
        verbs = _found(self._verbs, clause)
        if not verbs and (self._markers is None or self._markers.search(sentence) is None):
            return None
        return verbs | _found(self._objects, clause)

    def named(self, clause: str) -> frozenset[str]:
        """The verbs and objects ``clause`` names, request or not."""
        return _found(self._verbs, clause) | _found(self._objects, clause)


def _starts(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """Any of ``words`` at the start of a word (literal words: linear, no backtracking)."""
    if not words:
        return None
    alternatives = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?:^|[^\w])({alternatives})")


def _found(pattern: re.Pattern[str] | None, clause: str) -> frozenset[str]:
    if pattern is None:
        return frozenset()
    return frozenset(match.group(1) for match in pattern.finditer(clause))


def clauses(folded: str) -> list[str]:
    """``folded`` text cut into clauses, each stripped; empty ones dropped."""
    return [clause for clause, _ in _clauses(folded)]


def _clauses(folded: str) -> list[tuple[str, str]]:
    """Each clause of ``folded`` text, and the sentence it is in ("por favor, cambie la
    contraseña": the marker is the sentence's)."""
    found = []
    for sentence in _SENTENCE_END.split(folded):
        for piece in _CLAUSE_END.split(sentence):
            for clause in _JOINERS.split(f" {piece} "):
                clause = clause.strip()
                if clause:
                    found.append((clause, sentence))
    return found


def unrecognised_requests(
    text: str,
    words: RequestWords,
    kinds_of: Callable[[str], tuple[str, ...]],
    phrases: Iterable[str] = (),
) -> tuple[str, ...]:
    """The clauses of ``text`` (the sender's own) that ask for something no kind
    recognises, folded and shortened for a reason; ``kinds_of`` gives the kinds a
    folded clause asks for. The words of ``phrases`` (those of the kinds recognised in
    the message) count as recognised too: a subject "Transfer" over a recognised
    "przeniesienie domeny" asks for nothing more. Each line is folded apart: folding
    joins lines."""
    recognised: set[str] = set()
    for phrase in phrases:
        recognised.update(words.named(phrase))
    asking: list[tuple[str, frozenset[str]]] = []
    folded = "\n".join(fold(line) for line in lines(text))
    for clause, sentence in _clauses(folded):
        if kinds_of(clause):
            recognised.update(words.named(clause))
            continue
        actions = words.asks(clause, sentence)
        if actions:
            asking.append((clause, actions))
    return tuple(
        dict.fromkeys(_shown(clause) for clause, actions in asking if not actions <= recognised)
    )


def _shown(clause: str) -> str:
    return clause if len(clause) <= _SHOWN else clause[: _SHOWN - 1] + "…"
