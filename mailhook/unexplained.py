"""Sentences of the sender's own text that no kind explains and that point somewhere.

A recognised request can carry a second one in words no list holds ("acme.pl idzie do
OVH", "I sold acme.pl, please register it to them", "Niech nowy właściciel dostanie
kod"): paraphrases are endless, so they are not matched. Instead each sentence of the
sender's own text outside the recognised ones is read for what it points at: a service,
an address, an IP, a long number, an arrow ("a reference"), or another party ("them",
"company", a name written mid-sentence). One that does and is no known harmless form
(a signature line of names, a contact line, a label naming the service the message is
about) is unexplained: an agent reads the message (instruction-text unexplained).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from mailhook.normalise import clean
from mailhook.patterns import TextPattern
from mailhook.services import services_named, written_addresses
from mailhook.text import fold, lines

# Where a sentence of the text as written ends: a full stop, "!", "?" or ";" before a
# space, or a line. "acme.pl" and "11.2026" stay whole.
_SENTENCE_END = re.compile(r"[.!?;](?=\s|$)|\n")
# References that are no service name: an IPv4 or IPv6 address, a run of five digits
# or more (a server's or account's number).
_REFERENCE = re.compile(
    r"\b\d{1,3}(?:\.\d{1,3}){3}\b|\b[0-9a-f]{1,4}(?::[0-9a-f]{0,4}){2,7}\b|\d{5,}"
)
# An arrow says where something goes ("acme.pl -> OVH"): never a harmless form.
_ARROW = re.compile(r"->|=>|[→⇒»]")
# A line that is an item of a list: a dash, a bullet or a number before it.
_LIST_ITEM = re.compile(r"\s*(?:[-*•–]|\d{1,2}[.)])\s")
# A link or a mailto: address, written out.
_LINK = re.compile(r"(?i)\b(?:https?://|mailto:|www\.)\S+")
# A word written with a capital letter: a name of a person or a company mid-sentence.
_CAPITALISED = re.compile(r"(?<![\w.@/-])[A-ZĄĆĘŁŃÓŚŹŻ][\w-]*")
# Capitals no name is made of: an acronym of two to five capitals ("DNS", "VAT", "NIP")
# or one letter ("A" record).
_ACRONYM = re.compile(r"[A-Z0-9]{1,5}s?")
_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")


@dataclass(frozen=True, slots=True)
class HarmlessForms:
    """The catalogue's words for the forms a sentence may take and ask nothing (folded)."""

    # Words naming another party: "them", "ich", "firma", "company", "sp. z o.o.".
    parties: tuple[str, ...]
    # Words of a label or a description of the service the message is about, which
    # with the services, numbers and names it gives are the whole of a harmless
    # sentence ("Domena: acme.pl", "Dotyczy konta acme", "tel. 600 100 200").
    labels: tuple[str, ...]


def unexplained_sentences(
    text: str,
    forms: HarmlessForms,
    kinds_of: Callable[[str], tuple[str, ...]],
    server_id_pattern: TextPattern,
) -> tuple[str, ...]:
    """The sentences of ``text`` (the sender's own, as written) that no kind recognises,
    that name a reference or another party, and that are no harmless form; folded.

    The items of a list under a recognised sentence ending in a colon ("proszę o zmianę
    rekordów DNS:", "- A na 192.0.2.11") are that request's own details."""
    found = []
    listing = False
    for sentence, item in _sentences(text):
        folded = fold(sentence)
        if item and listing:
            continue
        listing = False
        if not folded or kinds_of(folded):
            listing = folded.endswith(":")
            continue
        if _points_somewhere(sentence, folded, forms, server_id_pattern) and not _harmless(
            sentence, folded, forms, server_id_pattern
        ):
            found.append(folded if len(folded) <= 80 else folded[:79] + "…")
    return tuple(dict.fromkeys(found))


def _sentences(text: str) -> Iterable[tuple[str, bool]]:
    """Each sentence of ``text``, and whether it is a list item ("- …", "1. …")."""
    for line in lines(clean(text)):
        item = _LIST_ITEM.match(line) is not None
        for sentence in _SENTENCE_END.split(line):
            if sentence.strip():
                yield sentence.strip(), item


def _points_somewhere(
    sentence: str, folded: str, forms: HarmlessForms, server_id_pattern: TextPattern
) -> bool:
    """Whether ``sentence`` names a service, an address, a reference or another party."""
    return bool(
        services_named(sentence, server_id_pattern)
        or written_addresses(sentence)
        or _REFERENCE.search(sentence)
        or _ARROW.search(sentence)
        or _any_word(forms.parties, folded)
        or _names(sentence)
    )


def _names(sentence: str) -> list[str]:
    """Capitalised words after a sentence's first word that are no acronym."""
    words = _CAPITALISED.findall(sentence)
    first = _WORD.search(sentence)
    if words and first is not None and sentence.startswith(words[0], first.start()):
        words = words[1:]
    return [word for word in words if not _ACRONYM.fullmatch(word)]


def _harmless(
    sentence: str, folded: str, forms: HarmlessForms, server_id_pattern: TextPattern
) -> bool:
    """A line of names (a signature: "Jan Kowalski", "ACME sp. z o.o."), or a label with
    what it names: every word is a label word, a name, a number or part of a service."""
    if _ARROW.search(sentence):
        return False
    # What it names goes first, the longest forms first: a link whole, an address
    # before its domain ("jan@acme.pl", then "acme.pl").
    rest = _LINK.sub(" ", sentence)
    for named in [*written_addresses(rest), *services_named(rest, server_id_pattern)]:
        rest = re.sub(re.escape(named), " ", rest, flags=re.IGNORECASE)
    rest = _REFERENCE.sub(" ", rest)
    words = _WORD.findall(rest)
    # Nothing left but what it names ("https://www.acme.pl"): which services a message
    # names, service-scope judges.
    return not _any_word(forms.parties, folded) and (
        not words
        or all(
            word[0].isupper() or word[0].isdigit() or _any_word(forms.labels, fold(word))
            for word in words
        )
    )


def _any_word(words: tuple[str, ...], folded: str) -> bool:
    """Whether one of ``words`` is in ``folded`` text: a word of four letters or more
    as the start of a word (a stem), a shorter one as a whole word ("im" is no "imie")."""
    return any(_word_pattern(word).search(folded) for word in words)


@functools.lru_cache(maxsize=1024)
def _word_pattern(word: str) -> re.Pattern[str]:
    end = "" if len(word) >= 4 else r"(?!\w)"
    return re.compile(rf"(?<!\w){re.escape(word)}{end}")
