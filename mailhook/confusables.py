"""Skeletons of domain names: two names that look alike to a reader share one (UTS #39).

Unicode Technical Standard #39 §4 defines the *skeleton* of a string: every character
replaced by the prototype it is confusable with, so that ``X`` and ``Y`` are confusable
exactly when ``skeleton(X) == skeleton(Y)``. A domain that imitates one of our
customers' imitates Latin letters, so the table used is every entry of Unicode's
``confusables.txt`` whose prototype is Latin letters, digits or a hyphen
(mailhook/_confusables_data.py, generated from the file at a pinned Unicode version),
including its ASCII confusions (``rn``/``m``, ``0``/``O``, ``1``/``l``, ``I``/``l``).

Departures from the standard, as Chromium's IDN spoof checker makes them when it
compares a name with its list of top domains:

- the name is cleaned first (mailhook.normalise.clean: NFKC, invisible characters
  removed, dashes as "-", ideographic full stops as "."), and case is folded;
- diacritics are removed (``acmé.pl`` looks like ``acme.pl`` to anyone not looking for
  the accent), and so is the stroke of letters that have no decomposition (``ł``,
  ``đ``, ``ø``…: mailhook.normalise.UNDECOMPOSABLE);
- two ASCII confusions the table lacks and domain look-alikes use: ``vv``/``w`` and
  ``cl``/``d``.

The ``services.skeleton`` column stores these skeletons: a change to the table or the
steps below needs a migration that recomputes it (see 0006 in app/db/migrations).
"""

from __future__ import annotations

import codecs
import unicodedata
from typing import Final

from mailhook.normalise import LATIN_PROTOTYPES, UNDECOMPOSABLE, clean, fold_letters

# Beyond confusables.txt: confusions of lower-case ASCII that look-alike registrations
# use (``acrne.pl`` for ``acme.pl`` is the table's own; these two are not in it).
_DOMAIN_CONFUSIONS: Final = {"w": "vv", "d": "cl"}


def _in_skeleton_alphabet(prototype: str) -> str:
    """A lower-case ASCII prototype with the table's and the domain confusions applied."""
    return "".join(
        _DOMAIN_CONFUSIONS.get(char, LATIN_PROTOTYPES.get(char, char)) for char in prototype
    )


# Every source character to its final form: applied before case folding (so that
# capital I becomes l, not i) and again after it (for letters that folding or the
# removal of marks reveals). The values are fixed points: a second pass changes nothing.
_TABLE: Final = str.maketrans(
    {
        **{char: _in_skeleton_alphabet(form) for char, form in LATIN_PROTOTYPES.items()},
        **{char: _in_skeleton_alphabet(bare) for char, bare in UNDECOMPOSABLE.items()},
        **_DOMAIN_CONFUSIONS,
    }
)


def skeleton(domain: str) -> str:
    """The UTS #39 skeleton of ``domain``, as written (U-label or A-label, any case).

    ``acme.pl``, ``аcme.pl`` (Cyrillic а), ``xn--cme-5cd.pl``, ``acrne.pl``, ``ａｃｍｅ。ｐｌ``
    and ``ACME.PL`` all have the skeleton ``acrne.pl``.
    """
    written = clean(domain).strip().rstrip(".")
    text = clean(".".join(_decoded_label(label) for label in written.split(".")))
    folded = fold_letters(text.translate(_TABLE))
    return unicodedata.normalize("NFC", folded).translate(_TABLE)


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
