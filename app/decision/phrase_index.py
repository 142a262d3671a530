r"""All catalogue phrases in one RE2 set: the kinds a folded text asks for, in one pass.

With a few hundred phrases, searching for each in turn was most of the cost of reading
a message (each search, or the substring test before it, scans the whole text). An
RE2::Set runs every phrase's automaton over the text together, in time linear in the
text whatever the number of phrases, and says which matched.

Unicode classes (``\p{L}``) make every phrase's automaton large: a few hundred phrases
took seconds to compile (at every start, and in every ``intakeguard pipe`` run) and a
few dozen more would not fit RE2's memory budget at all. When every phrase is ASCII, as
the catalogue's folded phrases are, the set is built with ASCII classes instead and the
text is searched with each non-ASCII word character written as "_", which is a word
character as it was and completes no phrase: the same matches as Python's ``\w``
patterns (mailhook.catalogue.phrase_pattern), compiled in milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import re2

from app.errors import ConfigError
from mailhook.catalogue import InstructionKind

# What Python's ``\w`` is for str patterns (letters, numbers, the underscore; marks are
# not): the phrase patterns of mailhook.instructions are written with it.
_WORD = r"[\p{L}\p{N}_]"
_WORD_START = r"(?:^|[^\p{L}\p{N}_])"
_BETWEEN_WORDS = _WORD + r"*\s+"
# The same over text whose non-ASCII word characters are written as "_" (ascii_words).
_ASCII_WORD = r"[A-Za-z0-9_]"
_ASCII_WORD_START = r"(?:^|[^A-Za-z0-9_])"
_ASCII_BETWEEN_WORDS = _ASCII_WORD + r"*\s+"
_NON_ASCII_WORD = re.compile(r"(?![\x00-\x7f])\w")


def phrase_source(phrase: str, ascii_classes: bool = False) -> str:
    """The RE2 form of ``mailhook.catalogue.phrase_pattern(phrase)``.

    The first word starts a word; each further word starts the word after the
    previous one's, with white space between: every word may be a stem. With
    ``ascii_classes``, for text passed through ascii_words.
    """
    words = [re.escape(word) for word in phrase.split()]
    if ascii_classes:
        return _ASCII_WORD_START + _ASCII_BETWEEN_WORDS.join(words)
    return _WORD_START + _BETWEEN_WORDS.join(words)


def ascii_words(text: str) -> str:
    r"""``text`` with each non-ASCII word character (Python's ``\w``) written as "_"."""
    return text if text.isascii() else _NON_ASCII_WORD.sub("_", text)


@dataclass(frozen=True, slots=True)
class Re2PhraseIndex:
    """A mailhook PhraseIndex: each phrase's kind, by its index in the RE2 set."""

    matcher: Any  # re2.Set (the package has no type information)
    kind_of: tuple[str, ...]
    # Built with ASCII classes: the text is searched through ascii_words.
    ascii_classes: bool = True

    @classmethod
    def of(cls, kinds: Iterable[InstructionKind]) -> Re2PhraseIndex:
        """The set of every phrase of ``kinds``; ConfigError when RE2 cannot build it."""
        pairs = [(phrase, kind.name) for kind in kinds for phrase in kind.phrases]
        ascii_classes = all(phrase.isascii() for phrase, _ in pairs)
        options = re2.Options()
        # Folded text can be long (64 KB); a set of a few hundred phrases needs room.
        options.max_mem = 64 << 20
        matcher = re2.Set.SearchSet(options)
        for phrase, _ in pairs:
            matcher.Add(phrase_source(phrase, ascii_classes))
        try:
            matcher.Compile()
        except re2.error as exc:
            raise ConfigError(
                f"instructions.toml: the {len(pairs)} phrases of [kinds] do not fit in one "
                f"search set ({exc}); write fewer or shorter phrases (a phrase's words may be "
                "stems), or keep them to letters without diacritics"
            ) from exc
        return cls(matcher, tuple(kind for _, kind in pairs), ascii_classes)

    def kinds_in(self, folded: str, /) -> frozenset[str]:
        if self.ascii_classes:
            folded = ascii_words(folded)
        matched = self.matcher.Match(folded)
        return frozenset(self.kind_of[index] for index in matched) if matched else frozenset()
