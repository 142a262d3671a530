"""All catalogue phrases in one RE2 set: the kinds a folded text asks for, in one pass.

With a few hundred phrases, searching for each in turn was most of the cost of reading
a message (each search, or the substring test before it, scans the whole text). An
RE2::Set runs every phrase's automaton over the text together, in time linear in the
text whatever the number of phrases, and says which matched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import re2

from mailhook.instructions import InstructionKind

# What Python's ``\w`` is for str patterns (letters, numbers, the underscore; marks are
# not): the phrase patterns of mailhook.instructions are written with it.
_WORD = r"[\p{L}\p{N}_]"
_WORD_START = r"(?:^|[^\p{L}\p{N}_])"
_BETWEEN_WORDS = _WORD + r"*\s+"


def phrase_source(phrase: str) -> str:
    """The RE2 form of ``mailhook.instructions.phrase_pattern(phrase)``.

    The first word starts a word; each further word starts the word after the
    previous one's, with white space between: every word may be a stem.
    """
    words = [re.escape(word) for word in phrase.split()]
    return _WORD_START + _BETWEEN_WORDS.join(words)


@dataclass(frozen=True, slots=True)
class Re2PhraseIndex:
    """A mailhook PhraseIndex: each phrase's kind, by its index in the RE2 set."""

    matcher: Any  # re2.Set (the package has no type information)
    kind_of: tuple[str, ...]

    @classmethod
    def of(cls, kinds: Iterable[InstructionKind]) -> Re2PhraseIndex:
        options = re2.Options()
        # Folded text can be long (64 KB); a set of a few hundred phrases needs room.
        options.max_mem = 64 << 20
        matcher = re2.Set.SearchSet(options)
        kind_of: list[str] = []
        for kind in kinds:
            for phrase in kind.phrases:
                matcher.Add(phrase_source(phrase))
                kind_of.append(kind.name)
        matcher.Compile()
        return cls(matcher, tuple(kind_of))

    def kinds_in(self, folded: str, /) -> frozenset[str]:
        matched = self.matcher.Match(folded)
        return frozenset(self.kind_of[index] for index in matched) if matched else frozenset()
