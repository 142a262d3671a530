"""What extraction needs of a compiled catalogue pattern, whichever engine compiled it.

The operator's patterns in ``rules/instructions.toml`` are compiled by the rules loader
on a linear-time engine (RE2, ``app/decision/regex_safety.py``); mailhook only scans text with
them and does not depend on that engine.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol


class PatternMatch(Protocol):
    """One match: the text of the whole match (group 0) or of a capturing group."""

    def group(self, index: int = 0, /) -> str | Any: ...


class TextPattern(Protocol):
    """A compiled pattern: its source, its capturing groups, and its matches in a text."""

    @property
    def pattern(self) -> str: ...

    @property
    def groups(self) -> int: ...

    def finditer(self, text: str, /) -> Iterator[PatternMatch]: ...

    def search(self, text: str, /) -> PatternMatch | None: ...


class PhraseIndex(Protocol):
    """Every catalogue phrase at once: which kinds' phrases occur in a folded text.

    Built by the rules loader on a linear-time engine (one pass over the text for all
    phrases); it must find exactly what ``mailhook.catalogue.phrase_pattern`` finds,
    phrase by phrase.
    """

    def kinds_in(self, folded: str, /) -> frozenset[str]: ...
