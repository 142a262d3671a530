"""The instruction catalogue (rules/instructions.toml) and how folded text is matched
against its phrases: which kinds a text asks for."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, get_args

from mailhook.patterns import PhraseIndex, TextPattern
from mailhook.requests import RequestWords
from mailhook.unexplained import HarmlessForms

# How sure we are that the registered customer sent a message, weakest first
# (app.decision.policy.assurance_of).
Assurance = Literal["none", "asserted", "authenticated", "authorized"]
ASSURANCE_LEVELS: tuple[Assurance, ...] = get_args(Assurance)

# The longest word of each phrase: the one least often in a text without the phrase.
_LONGEST_WORDS: dict[str, str] = {}


@dataclass(frozen=True, slots=True)
class InstructionKind:
    """One kind of instruction from the catalogue in ``rules/``."""

    name: str
    title: str
    phrases: tuple[str, ...]
    requires: str
    postal_only: bool = False
    # It changes or ends a service (a domain, a server): the message must name which one
    # of the sender's (app.decision.checks.service_scope).
    acts_on_service: bool = False
    # The request gives IP addresses of its own (a DNS record's value): an IP in it
    # is no server of someone else's (mailhook.unexplained).
    gives_addresses: bool = False
    # The request asks for information: the rest of its sentence is what is asked
    # ("proszę o informację, do kiedy opłacony jest vps-12345"), read only for requests.
    question: bool = False
    # The title in Polish, for the desk's console in Polish; None: the title is shown.
    title_pl: str | None = None


@dataclass(frozen=True, slots=True)
class Catalogue:
    """The instruction catalogue: kinds, and how services and logins are written."""

    kinds: tuple[InstructionKind, ...]
    server_id_pattern: TextPattern
    login_pattern: TextPattern
    # A one-time code as customers write it ("kod: 1234-5678"); group 1 is the code.
    code_pattern: TextPattern | None = None
    # Every kind's phrases at once; without it each phrase is searched for in turn.
    phrase_index: PhraseIndex | None = None
    # What makes a clause a request ([requests]): without it, a request no kind
    # recognises beside one that is goes unreported (mailhook.requests).
    requests: RequestWords | None = None
    # What a sentence may be and ask nothing ([unexplained]): without it, a sentence
    # beside the recognised request is not read for what it points at.
    forms: HarmlessForms | None = None


@functools.lru_cache(maxsize=1024)
def phrase_pattern(phrase: str) -> re.Pattern[str]:
    """Where a folded catalogue phrase occurs in folded text.

    Every word of the phrase matches the start of a word, so each may be a stem:
    "zmian adresu" finds "zmianę adresu" and "zmianą adresu" alike (Polish inflects
    every word of a phrase, not only the last).
    """
    words = [re.escape(word) for word in phrase.split()]
    # "(?<!\w)" written after the first word, not before: the pattern then starts with a
    # literal, which the engine finds by a fast substring scan instead of trying every
    # position (about 20 times faster on a long text, with the same matches).
    first = words[0] + rf"(?<!\w{words[0]})"
    return re.compile(r"\w*\s+".join([first, *words[1:]]))


def kinds_named(folded: str, catalogue: Catalogue) -> tuple[str, ...]:
    """The catalogue kinds whose phrases occur in ``folded`` text, in catalogue order."""
    if catalogue.phrase_index is not None:
        # Every phrase in one pass over the text (the loader builds it).
        found = catalogue.phrase_index.kinds_in(folded)
        return tuple(kind.name for kind in catalogue.kinds if kind.name in found)
    return tuple(kind.name for kind in catalogue.kinds if any_phrase(kind.phrases, folded))


def any_phrase(phrases: Iterable[str], folded: str) -> bool:
    """Whether one of ``phrases`` occurs in ``folded`` text."""
    return first_phrase(phrases, folded) is not None


def first_phrase(phrases: Iterable[str], folded: str) -> str | None:
    """The first of ``phrases`` that occurs in ``folded`` text, if any.

    Each word of a phrase occurs in the text as written wherever the phrase does: where
    its longest word is not there (a substring test, far cheaper than a search), the
    phrase is not either.
    """
    for phrase in phrases:
        word = _LONGEST_WORDS.get(phrase)
        if word is None:
            word = _LONGEST_WORDS.setdefault(phrase, max(phrase.split(), key=len))
        if word in folded and phrase_pattern(phrase).search(folded):
            return phrase
    return None
