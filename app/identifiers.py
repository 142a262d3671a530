"""Polish personal and company identifiers: checksum validation, keyed hashes, masking.

PESEL, NIP and REGON are never stored or logged in clear: the store keeps an
HMAC-SHA256 under a key derived from the secret key (so equal numbers can be
matched) and a masked form an agent can read back to a caller.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date
from enum import StrEnum

from app.errors import InvalidInput


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


def normalise(kind: IdentifierKind, value: str) -> str:
    """Digits of ``value`` (spaces and hyphens dropped) if its checksum is valid."""
    digits = "".join(char for char in value if char not in " -")
    if not digits.isdigit() or not digits.isascii():
        raise InvalidInput(f"{kind.value}: must contain only digits")
    if not digits.strip("0"):
        # All zeros passes the NIP and REGON checksums but is never issued: a placeholder.
        raise InvalidInput(f"{kind.value}: the number is not valid (all zeros)")
    if not _valid(kind, digits):
        raise InvalidInput(f"{kind.value}: the number is not valid (wrong length or checksum)")
    return digits


def _valid(kind: IdentifierKind, digits: str) -> bool:
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


def keyed_hash(key: bytes, kind: IdentifierKind, digits: str) -> str:
    """HMAC-SHA256 of the identifier, separated by kind; what the store keeps."""
    return hmac.new(key, f"{kind.value}:{digits}".encode(), hashlib.sha256).hexdigest()


def mask(digits: str) -> str:
    """Masked display form: all but the last three digits hidden."""
    return "*" * (len(digits) - 3) + digits[-3:]
