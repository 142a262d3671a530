"""PESEL, NIP and REGON in message text: checksums, and a value that never shows itself.

The checksum rules are pure functions here so the mail side can recognise a number a
customer writes without importing ``app``; ``app.registry.identifiers`` builds the registry's
keyed hashes on top of them.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum


class IdentifierKind(StrEnum):
    PESEL = "pesel"
    NIP = "nip"
    REGON = "regon"


_WEIGHTS: dict[str, tuple[int, ...]] = {
    # PESEL: control digit = (10 - weighted sum mod 10) mod 10 (Dz.U. 2021 poz. 510).
    "pesel": (1, 3, 7, 9, 1, 3, 7, 9, 1, 3),
    # NIP: control digit = weighted sum mod 11; 10 is never issued.
    "nip": (6, 5, 7, 2, 3, 4, 5, 6, 7),
    # REGON: 9 digits, or 14 digits for local units (whose first 9 are a REGON too).
    "regon9": (8, 9, 2, 3, 4, 5, 6, 7),
    "regon14": (2, 4, 8, 5, 0, 9, 7, 3, 6, 1, 2, 4, 8),
}

_PESEL_CENTURIES = (1900, 2000, 2100, 2200, 1800)


def valid(kind: IdentifierKind, digits: str) -> bool:
    """Whether ``digits`` (ASCII digits only) is a number of ``kind`` with a valid checksum."""
    if not digits.isascii() or not digits.isdigit() or not digits.strip("0"):
        # All zeros passes the NIP and REGON checksums but is never issued: a placeholder.
        return False
    match kind:
        case IdentifierKind.PESEL:
            if len(digits) != 11:
                return False
            total = _weighted(digits, _WEIGHTS["pesel"])
            return (10 - total % 10) % 10 == int(digits[10]) and _pesel_date_ok(digits)
        case IdentifierKind.NIP:
            if len(digits) != 10:
                return False
            control = _weighted(digits, _WEIGHTS["nip"]) % 11
            return control != 10 and control == int(digits[9])
        case IdentifierKind.REGON:
            if len(digits) == 9:
                return _mod11_zero_ten(digits, _WEIGHTS["regon9"])
            if len(digits) == 14:
                return _mod11_zero_ten(digits[:9], _WEIGHTS["regon9"]) and _mod11_zero_ten(
                    digits, _WEIGHTS["regon14"]
                )
            return False


def _weighted(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False))


def _mod11_zero_ten(digits: str, weights: tuple[int, ...]) -> bool:
    # REGON: a remainder of 10 is written as control digit 0.
    return _weighted(digits, weights) % 11 % 10 == int(digits[len(weights)])


def _pesel_date_ok(digits: str) -> bool:
    # The month carries the century: +80 for the 1800s, +0 for the 1900s, +20, +40, +60
    # for the 2000s, 2100s and 2200s; the date of birth must exist.
    century, month = divmod(int(digits[2:4]), 20)
    year = _PESEL_CENTURIES[century] + int(digits[0:2])
    try:
        date(year, month, int(digits[4:6]))
    except ValueError:
        return False
    return True


def mask(digits: str) -> str:
    """Masked display form: all but the last three digits hidden."""
    return "*" * (len(digits) - 3) + digits[-3:]


class Identifier:
    """A checksum-valid PESEL, NIP or REGON found in a message.

    Its ``repr`` and ``str`` show only the kind and the masked number, and it is not a
    dataclass (``asdict`` would copy the digits out) nor JSON-serialisable, so logging
    an instruction, or putting one in a verdict by mistake, cannot reveal the number.
    The digits are read only through ``reveal()``, to compute the registry's keyed hash.
    """

    __slots__ = ("_digits", "kind")

    def __init__(self, kind: IdentifierKind, digits: str) -> None:
        if not valid(kind, digits):
            raise ValueError(f"not a valid {kind.value}")
        self.kind = kind
        self._digits = digits

    def reveal(self) -> str:
        """The digits themselves: for the keyed hash only, never for display or logs."""
        return self._digits

    def __repr__(self) -> str:
        return f"Identifier({self.kind.value}, {mask(self._digits)})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Identifier):
            return NotImplemented
        return (self.kind, self._digits) == (other.kind, other._digits)

    def __hash__(self) -> int:
        return hash((self.kind, self._digits))

    # Immutable: a copy is the same object (so ``asdict`` of an Instruction keeps it
    # masked), while pickling, which would write the digits wherever the pickle goes,
    # is refused.
    def __copy__(self) -> Identifier:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Identifier:
        return self

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("an Identifier is not pickled: it would carry the number in clear")


# A number as people write it: 9, 10, 11 or 14 digits in one run, or a NIP in its
# usual groups (123-456-32-18, 123-45-67-819, with spaces too) after an optional "PL"
# (the EU VAT form). Not inside a longer run of digits, a word, a path, a decimal
# number or a phone number ("+48…", "+48 …"). Fixed-length alternatives: each position is
# tried a bounded number of times, so the scan is linear in the text.
_NUMBER = re.compile(
    r"(?<![\w+./-])(?<!\+[0-9]{2} )(?:PL ?)?"
    r"([0-9]{3}([- ])[0-9]{3}\2[0-9]{2}\2[0-9]{2}|[0-9]{3}([- ])[0-9]{2}\3[0-9]{2}\3[0-9]{3}"
    r"|[0-9]{14}|[0-9]{9,11})"
    r"(?![\w-]|[.,][0-9])",
    re.IGNORECASE,
)
# Every number _NUMBER finds starts with nine digits in a row or with three digits, a
# dash or space and two more digits (the NIP groups). A pattern opening with a character
# class is searched with the engine's fast first-character scan; _NUMBER, opening with
# look-behinds, is tried at every position. Text without such a start, which is most
# text, is passed over by this scan alone in a tenth of the time.
_NUMBER_START = re.compile(r"[0-9](?:[0-9]{2}[- ][0-9]{2}|[0-9]{8})")
_KIND_BY_LENGTH = {
    9: IdentifierKind.REGON,
    10: IdentifierKind.NIP,
    11: IdentifierKind.PESEL,
    14: IdentifierKind.REGON,
}


def find_identifiers(text: str) -> tuple[Identifier, ...]:
    """The checksum-valid PESELs, NIPs and REGONs written in ``text``, each once."""
    found: dict[Identifier, None] = {}
    if not _NUMBER_START.search(text):
        return ()
    for match in _NUMBER.finditer(text):
        digits = match.group(1).replace("-", "").replace(" ", "")
        kind = _KIND_BY_LENGTH.get(len(digits))
        if kind is None or (kind is not IdentifierKind.NIP and not match.group(1).isdigit()):
            continue
        if valid(kind, digits):
            found.setdefault(Identifier(kind, digits), None)
    return tuple(found)
