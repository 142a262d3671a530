"""Skeletons of domain names: two names that look alike to a reader share one (UTS #39).

Unicode Technical Standard #39 §4 defines the *skeleton* of a string: every character
replaced by the prototype it is confusable with, so that ``X`` and ``Y`` are confusable
exactly when ``skeleton(X) == skeleton(Y)``. The full table (``confusables.txt``) has
some 6,000 entries for every script; a domain that imitates one of our customers'
imitates Latin letters, so ``_PROTOTYPES`` below keeps the entries of that table whose
prototype is a lower-case Latin letter, digit or hyphen, for the scripts seen in
look-alike registrations (Cyrillic, Greek, Armenian, Latin extensions), plus the
ASCII-only confusions of the same table (``rn``/``m``, ``vv``/``w``, ``cl``/``d``,
``0``/``o``, ``1``/``l``, ``I``/``l``).

Two departures from the standard, both as Chromium's IDN spoof checker does when it
compares a name with its list of top domains: diacritics are removed (``acmé.pl``
looks like ``acme.pl`` to anyone not looking for the accent), and so is the stroke of
letters that have no decomposition (``ł``, ``đ``, ``ø``…).

The ``services.skeleton`` column stores these skeletons: a change to the table or the
steps below needs a migration that recomputes it.
"""

from __future__ import annotations

import codecs
import unicodedata

# UTS #39 confusables.txt, prototype on the right; only characters whose prototype is a
# lower-case Latin letter, digit or hyphen. Upper-case letters are not listed: a domain
# is case-insensitive and is folded first, except "I" (see skeleton()).
_PROTOTYPES: dict[str, str] = {
    # Cyrillic
    "а": "a",  # U+0430
    "е": "e",  # U+0435
    "ё": "e",  # U+0451 (after the diaeresis is removed)
    "һ": "h",  # U+04BB
    "і": "i",  # U+0456
    "ї": "i",  # U+0457
    "ј": "j",  # U+0458
    "ӏ": "l",  # U+04CF palochka
    "о": "o",  # U+043E
    "р": "p",  # U+0440
    "ԛ": "q",  # U+051B
    "ѕ": "s",  # U+0455
    "с": "c",  # U+0441
    "у": "y",  # U+0443
    "ү": "y",  # U+04AF
    "х": "x",  # U+0445
    "ԁ": "d",  # U+0501
    "ԝ": "w",  # U+051D
    # Greek
    "α": "a",  # U+03B1
    "ι": "i",  # U+03B9
    "κ": "k",  # U+03BA
    "ν": "v",  # U+03BD
    "ο": "o",  # U+03BF
    "ρ": "p",  # U+03C1
    "ϲ": "c",  # U+03F2 lunate sigma
    "ϳ": "j",  # U+03F3
    "υ": "u",  # U+03C5
    # Armenian
    "օ": "o",  # U+0585
    "ո": "n",  # U+0578
    "ս": "u",  # U+057D
    "հ": "h",  # U+0570
    "զ": "q",  # U+0566
    "ց": "g",  # U+0581
    # Latin letters without a decomposition (Chromium's additions for ł, đ, ø, ħ)
    "ı": "i",  # U+0131 dotless i
    "ȷ": "j",  # U+0237 dotless j
    "ɑ": "a",  # U+0251 alpha
    "ł": "l",  # U+0142
    "đ": "d",  # U+0111
    "ø": "o",  # U+00F8
    "ħ": "h",  # U+0127
    "ŀ": "l",  # U+0140
    "ɡ": "g",  # U+0261 script g
    # Hyphens and dashes
    "‐": "-",  # U+2010
    "‑": "-",  # U+2011
    "‒": "-",  # U+2012
    "–": "-",  # U+2013
    "−": "-",  # U+2212 minus sign
    "˗": "-",  # U+02D7
}
# ASCII confusions: the prototypes confusables.txt gives these characters. They apply to
# the prototypes above too (Cyrillic ԁ is "d", whose prototype is "cl").
_ASCII_PROTOTYPES: dict[str, str] = {
    "0": "o",
    "1": "l",
    "|": "l",
    "m": "rn",
    "w": "vv",
    "d": "cl",
}
_TABLE = str.maketrans(
    {
        **{
            char: "".join(_ASCII_PROTOTYPES.get(c, c) for c in prototype)
            for char, prototype in _PROTOTYPES.items()
        },
        **_ASCII_PROTOTYPES,
    }
)


def skeleton(domain: str) -> str:
    """The UTS #39 skeleton of ``domain``, as written (U-label or A-label, any case).

    ``acme.pl``, ``аcme.pl`` (Cyrillic а), ``xn--cme-8cd.pl``, ``acrne.pl`` and
    ``ACME.PL`` all have the skeleton ``acrne.pl``.
    """
    labels = [_decoded_label(label) for label in domain.strip().rstrip(".").split(".")]
    # Capital I is confusable with small l (UTS #39); a domain is folded to lower case
    # before comparison, so this one has to be mapped before the fold makes it an "i".
    text = ".".join(labels).replace("I", "l")
    # NFKC folds compatibility forms (fullwidth ａ, mathematical 𝐚, the ligature ﬁ).
    text = unicodedata.normalize("NFKC", text).casefold()
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return unicodedata.normalize("NFC", bare).translate(_TABLE)


def display_form(domain: str) -> str:
    """``domain`` with its punycode labels decoded: what a mail program shows a reader."""
    return ".".join(_decoded_label(label) for label in domain.split("."))


def _decoded_label(label: str) -> str:
    """A punycode label (RFC 3492) as the Unicode it displays as; anything else unchanged."""
    if label[:4].lower() != "xn--":
        return label
    try:
        return codecs.decode(label[4:].encode("ascii"), "punycode")
    except (UnicodeError, ValueError):
        return label


def scripts_of(label: str) -> set[str]:
    """The scripts of the letters in ``label``, by the first word of their Unicode names.

    A rough stand-in for the Script property, good enough for the scripts a look-alike
    borrows from: LATIN, CYRILLIC, GREEK, ARMENIAN (Han letters are "CJK").
    """
    scripts: set[str] = set()
    for char in label:
        if char.isalpha():
            name = unicodedata.name(char, "")
            scripts.add(name.split(" ", 1)[0] if name else "UNKNOWN")
    return scripts


# UTS #39 §5.2 "highly restrictive": the script mixes East Asian writing uses normally.
_USUAL_MIXES = (
    frozenset({"LATIN", "CJK", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "CJK", "BOPOMOFO"}),
    frozenset({"LATIN", "CJK", "HANGUL"}),
)


def mixes_scripts(label: str) -> bool:
    """Whether ``label`` mixes scripts the way look-alikes do (Latin with Cyrillic…)."""
    scripts = scripts_of(label)
    return len(scripts) > 1 and not any(scripts <= usual for usual in _USUAL_MIXES)


def describe_unusual(domain: str, limit: int = 3) -> list[str]:
    """Names of the first non-ASCII characters of ``domain`` (what an agent cannot see)."""
    seen: list[str] = []
    for char in domain:
        if not char.isascii() and char not in seen:
            seen.append(char)
    return [f"'{char}' is {unicodedata.name(char, f'U+{ord(char):04X}')}" for char in seen[:limit]]
