"""A text's words and how each stands there, for the runs of words a reader may take for
a name (mailhook.names.NameRuns): where a sentence goes on, what ends a run of one name,
what stands within quotation marks. Read in bulk, as a long text has thousands of words
and NameRuns reads every one of them whenever a customer matched."""

from __future__ import annotations

import bisect
import re
from functools import partial
from itertools import accumulate
from typing import Final, NamedTuple

from mailhook.normalise import normalise

# A word: letters and digits, as mailhook.names reads a name's words; everything else
# separates words. The group keeps the words in a split.
WORD_SPLIT: Final = re.compile(r"([^\W_]+)")
# Text between quotation marks of any kind a reader knows („…”, “…”, "…", «…», »…«, ‚…’),
# on one line. The straight apostrophe is left out: it is also a letter of names (O'Neil).
QUOTES: Final = '„“”"«»‚‘’'
QUOTED: Final = re.compile(f"[{QUOTES}]([^{QUOTES}\\n]{{1,200}})[{QUOTES}]")
# What may stand before a word in the middle of a sentence (not after a full stop, a
# colon or at the start of the text).
WITHIN_SENTENCE: Final = ",;(&/+-"
# What ends a run of words that may be one name: no name holds these between its words
# (a full stop does only after an initial, "P.H.U. Kowalski"; legal forms, "sp. z o.o.",
# are read after the run).
ENDS_RUN: Final = frozenset(".,;:!?()[]{}<>|")


class Word(NamedTuple):
    """A word of a text and how it stands there (a tuple: a long text has thousands,
    and a tuple is the cheapest thing to make)."""

    folded: str
    raw: str
    start: int
    end: int
    # Capitalised or within quotation marks.
    named: bool
    quoted: bool
    within_sentence: bool
    # Whether it may be part of one name with the word before it (see ENDS_RUN).
    joined: bool


# A Word from its fields in order, made as a tuple is (no keyword parsing a word).
_as_word: Final = partial(tuple.__new__, Word)


def words_of(text: str) -> tuple[Word, ...]:
    """The words of ``text`` and how each stands there, read in bulk: split once into
    words and the gaps between them, each distinct gap and word judged once (a text
    repeats " " and ", ", and most of its words), the rest zipped (NameRuns: this is
    its cost when a customer matched)."""
    # Gap, word, gap, word, …, gap: the pattern's group keeps the words.
    parts = WORD_SPLIT.split(text)
    raws = parts[1::2]
    if not raws:
        return ()
    # What stands before each word; before the first, nothing: as a line break.
    gaps = parts[0:-1:2]
    gaps[0] = "\n"
    bounds = list(accumulate(map(len, parts)))
    starts, ends = bounds[0:-1:2], bounds[1::2]
    read = {gap: _gap_reading(gap) for gap in set(gaps)}
    readings = list(map(read.__getitem__, gaps))
    # A full stop after an initial ("P.H.U. Kowalski") does not end a run.
    initial = [False, *(len(raw) == 1 for raw in raws[:-1])]
    joined = [
        not (ends_run and not (initial_before and dot))
        for (_, ends_run, dot), initial_before in zip(readings, initial, strict=True)
    ]
    quoted = _quoted(text, starts) if _has_quotes(text) else [False] * len(raws)
    # normalise() of an ASCII word is its lower case.
    folding = {raw: raw.lower() if raw.isascii() else normalise(raw) for raw in set(raws)}
    return tuple(
        map(
            _as_word,
            zip(
                map(folding.__getitem__, raws),
                raws,
                starts,
                ends,
                [raw[0].isupper() or inside for raw, inside in zip(raws, quoted, strict=True)],
                quoted,
                [within for within, _, _ in readings],
                joined,
                strict=True,
            ),
        )
    )


def _gap_reading(gap: str) -> tuple[bool, bool, bool]:
    """What the text between two words says of the second: whether the sentence goes on
    (another word or a comma before it on its line; a full stop, a colon or a line break
    ends it, as a line often ends without a full stop: a greeting, the subject above the
    body), whether it ends a run (ENDS_RUN), and whether it is a full stop alone."""
    mark = gap.rstrip(" \t")[-1:]
    within = "\n" not in gap and (not mark or mark in WITHIN_SENTENCE)
    return within, not ENDS_RUN.isdisjoint(gap), gap.strip() == "."


def _quoted(text: str, starts: list[int]) -> list[bool]:
    """Whether each word (by where it starts) stands within quotation marks."""
    spans = [(match.start(1), match.end(1)) for match in QUOTED.finditer(text)]
    opened = [start for start, _ in spans]
    quoted = []
    for start in starts:
        at = bisect.bisect_right(opened, start) - 1
        quoted.append(at >= 0 and start < spans[at][1])
    return quoted


def _has_quotes(text: str) -> bool:
    return any(quote in text for quote in QUOTES)
