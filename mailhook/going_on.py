"""Sentences that go on from the one before: "Kod też.", "Oraz kod.", "+ kod do domeny"."""

from __future__ import annotations

# Words a sentence going on from the one before starts or ends with (folded).
_GOING_ON_FIRST = frozenset({"oraz", "i", "takze", "tez", "rowniez", "plus", "and", "also"})
_GOING_ON_LAST = frozenset({"tez", "takze", "rowniez", "too", "as well"})


def goes_on(folded: str) -> bool:
    """Whether a sentence (folded) starts with a joining word ("Oraz kod.", "+ kod") or
    ends with "też" ("Kod też."); set look-ups, as it is asked of every sentence."""
    words = folded.rstrip(".!?…;: ").split()
    if not words:
        return False
    if folded[0] in "+&" or words[0] in _GOING_ON_FIRST:
        return True
    return words[-1] in _GOING_ON_LAST or " ".join(words[-2:]) in _GOING_ON_LAST
