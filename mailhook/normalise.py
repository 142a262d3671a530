"""One normaliser for matching: text as a reader sees it, whichever characters wrote it.

Two mail clients render ``trans\\u00adfer``, ``trans\\u200bfer``, ``trаnsfer`` (Cyrillic
а) and ``ｔｒａｎｓｆｅｒ`` as the same word; whatever compares text with text (catalogue
phrases, separators, codes, domains) compares what this module makes of both sides.

- ``clean``: NFKC (Unicode Standard Annex #15: fullwidth, ligatures, mathematical
  letters become plain ones), every character that renders as nothing removed
  (format and bidi controls, soft hyphen, variation selectors, tags…), every dash
  and minus sign written "-", ideographic full stops written ".". Case and letters
  are kept: for codes, domains and identifiers.
- ``normalise``: ``clean``, then case and diacritics folded and white space collapsed,
  then every non-ASCII letter confusable with Latin ones (UTS #39 confusables.txt, see
  mailhook/_confusables_data.py) written as its Latin prototype. ASCII is never mapped
  to other ASCII ("rn" and "m", "1" and "l" are ordinary words and numbers in text).
"""

from __future__ import annotations

import contextlib
import re
import threading
import unicodedata
from collections.abc import Callable, Iterator
from typing import Final

from mailhook._confusables_data import APOSTROPHES, PROTOTYPES

# Default_Ignorable_Code_Point (DerivedCoreProperties.txt) beyond category Cf and the
# variation selectors: Other_Default_Ignorable_Code_Point of PropList.txt, characters
# a renderer shows as nothing (Hangul fillers, Khmer inherent vowels, the combining
# grapheme joiner U+034F), and the reserved rest of the tag block.
_OTHER_IGNORABLE: Final = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x2065, 0x2065),
    (0x3164, 0x3164),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
)
_RLO: Final = "\u202e"
# A right-to-left override run: to the next POP DIRECTIONAL FORMATTING or line break.
_OVERRIDE_RUN: Final = re.compile("\u202e([^\u202c\n\r\u2029]*)\u202c?")
# The tag block, reserved code points included (tags themselves are category Cf).
_TAGS: Final = range(0xE0000, 0xE1000)
# RFC 3490 §3.1: the dots IDNA reads as label separators, beside "." itself.
_FULL_STOPS: Final = frozenset({"\u3002", "\uff0e", "\uff61"})
# Latin letters with a stroke or bar, which have no decomposition into letter + mark
# for NFKD to strip, and the two whose prototype is itself such a letter (Greek κ and
# Cyrillic к have the prototype ĸ). Chromium's IDN spoof checker folds them the same way.
UNDECOMPOSABLE: Final[dict[str, str]] = {
    "ł": "l",
    "Ł": "l",
    "đ": "d",
    "Đ": "d",
    "ø": "o",
    "Ø": "o",
    "ħ": "h",
    "Ħ": "h",
    "ŀ": "l",
    "Ŀ": "l",
    "ȷ": "j",
    "ĸ": "k",
    "ß": "ss",
}
# str.translate tables filled as characters are first met: a bounded number of them
# is kept, so that a text of every Unicode character cannot grow them without end.
_CACHED_CHARACTERS: Final = 65536


def clean(text: str) -> str:
    """``text`` in NFKC, invisible characters removed, dashes as "-", full stops as "."."""
    if text.isascii():
        # No format character, dash or compatibility form is ASCII.
        return text
    # Invisible characters go first: between a letter and its accent they would keep
    # NFKC from composing the two. The second pass unifies what NFKC produced (a small
    # em dash becomes an em dash).
    text = visual_order(text)
    return unicodedata.normalize("NFKC", text.translate(_CLEAN)).translate(_CLEAN)


def visual_order(text: str) -> str:
    """``text`` with each right-to-left override run in the order a reader sees it.

    UAX #9 §2.2, rule X4: after RIGHT-TO-LEFT OVERRIDE (U+202E) every character is drawn
    right to left up to POP DIRECTIONAL FORMATTING (U+202C) or the end of the paragraph
    (rule X8): "\u202elp.ateb" is drawn "beta.pl", and is read so here before the control
    characters are removed. Embeddings and isolates do not reverse Latin letters.
    """
    if _RLO not in text:
        return text
    return _OVERRIDE_RUN.sub(lambda run: run.group(1)[::-1], text)


_reading = threading.local()
# Far more distinct texts than one message's reading holds (its text is at most 64 KB).
_MEMO_SIZE: Final = 8192


@contextlib.contextmanager
def one_reading() -> Iterator[None]:
    """Within: a text normalised once is not normalised again, in this thread.

    Reading one message asks for the same sentence's normalised form many times over
    (the benchmark's corpus: 244 asks a message for 27 texts); what is remembered is
    forgotten when the outermost reading ends, so one message's reading never serves
    another's.
    """
    if getattr(_reading, "memo", None) is not None:
        yield
        return
    _reading.memo = {}
    try:
        yield
    finally:
        _reading.memo = None


def normalise(text: str) -> str:
    """``text`` cleaned, case- and diacritic-folded, confusables as Latin, spaces collapsed.

    What the catalogue's phrases and the message text are compared in.
    """
    memo: dict[str, str] | None = getattr(_reading, "memo", None)
    if memo is None:
        return _normalised(text)
    folded = memo.get(text)
    if folded is None:
        if len(memo) >= _MEMO_SIZE:
            memo.clear()
        folded = memo[text] = _normalised(text)
    return folded


def _normalised(text: str) -> str:
    if text.isascii():
        # Most lines: no character to clean or fold beyond lower case (casefold() of
        # ASCII is lower()); split() splits where the general path's str.isspace() does.
        return " ".join(text.lower().split())
    text = visual_order(text)
    # Each character is normalised on its own: every step below is per character but
    # NFKC's composition of a letter with its accent, and the accent is then dropped.
    return " ".join(text.translate(_NORMALISED).split())


def is_invisible(char: str) -> bool:
    """Whether ``char`` renders as nothing: a format, bidi or ignorable character."""
    if unicodedata.category(char) == "Cf":
        # Zero-width spaces and joiners, bidi controls, soft hyphen, BOM, tags…
        return True
    code = ord(char)
    if code in _TAGS or any(low <= code <= high for low, high in _OTHER_IGNORABLE):
        return True
    return "VARIATION SELECTOR" in unicodedata.name(char, "")


def is_dash(char: str) -> bool:
    """Whether ``char`` is a dash (category Pd) or a sign UTS #39 confuses with "-"."""
    if unicodedata.category(char) == "Pd":
        return True
    # Minus signs, hyphen bullet: symbols, never letters (Coptic ⲻ has "-" as prototype).
    return PROTOTYPES.get(char) == "-" and not unicodedata.category(char).startswith("L")


def fold_letters(text: str) -> str:
    """Case folded, diacritics and strokes removed (ł, đ, ø: see UNDECOMPOSABLE)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSABLE).casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return bare.translate(_UNDECOMPOSABLE)


class _CharacterTable(dict[int, str]):
    """A str.translate table whose entries are computed on first use."""

    def __init__(self, convert: Callable[[str], str]) -> None:
        super().__init__()
        self._convert = convert

    def __missing__(self, code: int) -> str:
        value = self._convert(chr(code))
        if len(self) < _CACHED_CHARACTERS:
            self[code] = value
        return value


def _cleaned_char(char: str) -> str:
    if is_invisible(char):
        return ""
    if is_dash(char):
        return "-"
    return "." if char in _FULL_STOPS else char


def _normalised_char(char: str) -> str:
    """``char`` through clean, confusables, fold and confusables again, to a fixed point.

    Folding can reveal a confusable (Cyrillic ё loses its diaeresis and is е) and a
    prototype can have a case to fold (Cyrillic С has the prototype C): the steps
    repeat until nothing changes, so that normalise() is idempotent.
    """
    if _unchanged(char):
        return char
    text = clean(char)
    for _ in range(4):
        folded = _latin(fold_letters(_latin(text)))
        if folded == text:
            break
        text = folded
    return text


def _unchanged(char: str) -> bool:
    """A quick answer for most characters (letters of other scripts, CJK, symbols).

    A character with no decomposition, no case to fold, no confusable prototype, that
    is no mark, format character, dash, space, full stop or filler, is its own normal
    form. (Variation selectors and tags are marks and format characters.)
    """
    code = ord(char)
    return (
        code not in _LATIN
        and code not in _UNDECOMPOSABLE
        and code not in _SPECIAL
        and unicodedata.category(char) in _SELF_NORMAL_CATEGORIES
        and unicodedata.is_normalized("NFKD", char)
        and char.casefold() == char
    )


def _latin(text: str) -> str:
    return text if text.isascii() else text.translate(_LATIN)


def _ascii_prototype(prototype: str) -> str | None:
    """A confusables.txt prototype as lower-case ASCII, or None when it has no such form.

    Marks and strokes go (ł is "l" with a stroke), and a small capital is its letter
    (Cyrillic т has the prototype ᴛ, LATIN LETTER SMALL CAPITAL T): what a reader of
    Latin text takes the character for.
    """
    folded = "".join(_small_capital(char) for char in fold_letters(prototype))
    return folded if _ASCII_WORD.fullmatch(folded) else None


def _small_capital(char: str) -> str:
    name = unicodedata.name(char, "") if not char.isascii() else ""
    letter = name.removeprefix("LATIN LETTER SMALL CAPITAL ")
    return letter.lower() if letter != name and len(letter) == 1 else char


_UNDECOMPOSABLE: Final = str.maketrans(UNDECOMPOSABLE)
# Letters, digits and symbols; never marks (stripped), separators (spaces), format
# characters (removed), dashes or unassigned code points.
_SELF_NORMAL_CATEGORIES: Final = frozenset(
    {"Lo", "Ll", "Lm", "Nd", "Nl", "No", "So", "Sm", "Sc", "Sk", "Po", "Ps", "Pe", "Pi", "Pf", "Pc"}
)
# Characters of those categories that are not their own normal form all the same.
_SPECIAL: Final = frozenset(
    {ord(char) for char in _FULL_STOPS}
    | {code for low, high in _OTHER_IGNORABLE for code in range(low, high + 1)}
)
_ASCII_WORD: Final = re.compile(r"[a-z0-9-]+")
# Every source character of mailhook/_confusables_data.py whose prototype has a form in
# lower-case ASCII, to that form.
LATIN_PROTOTYPES: Final[dict[str, str]] = {
    char: ascii_form
    for char, prototype in PROTOTYPES.items()
    if (ascii_form := _ascii_prototype(prototype)) is not None
}
# Only non-ASCII characters are mapped in text (see the module docstring).
_LATIN: Final = str.maketrans(
    {
        **{char: form for char, form in LATIN_PROTOTYPES.items() if not char.isascii()},
        **dict.fromkeys(APOSTROPHES - {"`"}, "'"),
    }
)
_CLEAN: Final = _CharacterTable(_cleaned_char)
_NORMALISED: Final = _CharacterTable(_normalised_char)
