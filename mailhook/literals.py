"""A first look at a whole text for a list of words: does it hold any of them at all?

The reader asks each sentence whether it holds a word of a list (another party, a
demand, a courtesy, a request word), with Python patterns that try an alternation of
dozens of words at every position: a hundred microseconds and more over a message's
text, whatever it holds. Most texts hold none of most lists' words. One RE2 automaton
for all of a list's words, run over the whole text first, says so in a few
microseconds, and the sentences are not asked at all.

A gate only ever answers "maybe" for a text a pattern of the list's words could match:
whatever the pattern asks around a word (the start of a word, a whole word), the word
itself is in the text as written. Folding is per character (mailhook.normalise), so a
folded sentence's words are in the folded text of the whole.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

import re2

log = logging.getLogger(__name__)


def _always(text: str) -> bool:
    return True


def _never(text: str) -> bool:
    return False


@functools.lru_cache(maxsize=64)
def literal_gate(words: tuple[str, ...]) -> Callable[[str], bool]:
    """Whether a text holds one of ``words`` anywhere (as written, case and all)."""
    words = tuple(word for word in words if word)
    if not words:
        return _never
    try:
        options = re2.Options()
        options.max_mem = 16 << 20
        automaton = re2.compile("|".join(re2.escape(word) for word in words), options)
    except Exception:  # noqa: BLE001 - no gate is a slower reading, never a weaker one
        log.warning("no RE2 gate for %d words; every sentence is read", len(words))
        return _always

    def holds(text: str) -> bool:
        return automaton.search(text) is not None

    return holds
