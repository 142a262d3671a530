"""Where the sender's text points elsewhere for its request; attachment names that ask."""

from __future__ import annotations

import re

from mailhook.catalogue import Catalogue, any_phrase, first_phrase
from mailhook.text import fold

# Where the sender's own text points elsewhere for the request: the subject, the quoted
# or forwarded message, an attachment. Folded (no diacritics), each word a stem.
POINTERS: tuple[str, ...] = (
    "w temacie",
    "w tytule",
    "patrz temat",
    "jak wyzej",
    "jak ponizej",
    "jak nizej",
    "patrz ponizej",
    "patrz nizej",
    "w zalaczniku",
    "w zalaczonym",
    "patrz zalacznik",
    "as in the subject",
    "in the subject",
    "see subject",
    "see the subject",
    "per subject",
    "as below",
    "as above",
    "see below",
    "see above",
    "as quoted",
    "see attach",
    "see the attach",
    "in the attach",
    "as attached",
)


# The longest word of each pointer, one of which every pointer holds.
_POINTER_WORDS = re.compile("|".join(sorted({max(p.split(), key=len) for p in POINTERS})))

# Words in an attachment's name that suggest it carries an instruction: a power of
# attorney, an authorisation, an assignment, a request or a form (folded stems).
ATTACHMENT_WORDS: tuple[str, ...] = (
    "pelnomocnictw",
    "upowaznieni",
    "authoriz",
    "authoris",
    "transfer",
    "cesj",
    "wniosek",
    "wniosk",
    "request",
    "form",
    "formularz",
    "zleceni",
    "dyspozycj",
    "authinfo",
)


NAME_SEPARATORS = re.compile(r"[\W_]+")


def pointer(folded: str) -> str | None:
    """The phrase by which ``folded`` text points at the subject, history or an attachment."""
    if _POINTER_WORDS.search(folded) is None:
        # Most texts: one scan finds none of the words any pointer needs.
        return None
    return first_phrase(POINTERS, folded)


def name_suggests(filename: str, catalogue: Catalogue) -> bool:
    """Whether an attachment's name reads as an instruction (a form, a request…)."""
    folded = fold(NAME_SEPARATORS.sub(" ", filename))
    phrases = [*ATTACHMENT_WORDS, *(p for kind in catalogue.kinds for p in kind.phrases)]
    return any_phrase(phrases, folded)
