"""Sentences that go on from the one before: "Kod też.", "Oraz kod.", "+ kod do domeny"."""

from __future__ import annotations

# Words a sentence going on from the one before starts with (folded), one to three: a
# conjunction or an adverb of addition, also after "a" or "but" ("A także kod.", "Jak i
# kod.", "Poza tym kod.", "As well as the code.").
_GOING_ON_FIRST = frozenset(
    {"oraz", "i", "takze", "tez", "rowniez", "plus", "and", "also", "ponadto", "dodatkowo"}
    | {"jeszcze", "too", "additionally", "besides", "moreover", "furthermore", "likewise"}
    | {"podobnie", "a takze", "a tez", "a rowniez", "a jeszcze", "a ponadto", "jak i"}
    | {"poza tym", "przy okazji", "na dodatek", "tak samo", "as well"}
    | {"as well as", "in addition", "and also", "but also", "what is more", "ale tez"}
    | {"ale takze", "ale i", "the same"}
)
# Words it ends with, one or two ("Kod też.", "Beta tak samo.", "The code as well.").
_GOING_ON_LAST = frozenset(
    {"tez", "takze", "rowniez", "too", "as well", "also", "tak samo", "the same", "likewise"}
    | {"podobnie", "jeszcze"}
)
# The first words of those of several words: only after one is more than a word read.
_OPENING = frozenset(phrase.split()[0] for phrase in _GOING_ON_FIRST if " " in phrase)
# The most words of one of them.
_LONGEST = 3


def goes_on(folded: str) -> bool:
    """Whether a sentence (folded) starts with a joining word ("Oraz kod.", "+ kod") or
    ends with "też" ("Kod też."); set look-ups, as it is asked of every sentence."""
    words = folded.rstrip(".!?…;: ").replace(",", " ").split()
    if not words:
        return False
    if folded[0] in "+&" or words[0] in _GOING_ON_FIRST:
        return True
    if words[0] in _OPENING and any(
        " ".join(words[:count]) in _GOING_ON_FIRST for count in range(2, _LONGEST + 1)
    ):
        return True
    return words[-1] in _GOING_ON_LAST or " ".join(words[-2:]) in _GOING_ON_LAST
