"""Polish personal and company identifiers: validation with a clear error, keyed hashes.

PESEL, NIP and REGON are never stored or logged in clear: the store keeps an
HMAC-SHA256 keyed with the secret key (so equal numbers can be
matched) and a masked form an agent can read back to a caller. The checksum rules
themselves live in ``mailhook.identifiers``, which the mail side shares.
"""

from __future__ import annotations

import hashlib
import hmac

from app.errors import InvalidInput
from mailhook.identifiers import Identifier, IdentifierKind, mask, valid

__all__ = ["IdentifierKind", "identifier_hash", "keyed_hash", "mask", "normalise"]


def normalise(kind: IdentifierKind, value: str) -> str:
    """Digits of ``value`` (spaces and hyphens dropped) if its checksum is valid."""
    digits = "".join(char for char in value if char not in " -")
    if not digits.isdigit() or not digits.isascii():
        raise InvalidInput(f"{kind.value}: must contain only digits")
    if not digits.strip("0"):
        # All zeros passes the NIP and REGON checksums but is never issued: a placeholder.
        raise InvalidInput(f"{kind.value}: the number is not valid (all zeros)")
    if not valid(kind, digits):
        raise InvalidInput(f"{kind.value}: the number is not valid (wrong length or checksum)")
    return digits


def keyed_hash(key: bytes, kind: IdentifierKind, digits: str) -> str:
    """HMAC-SHA256 of the identifier, separated by kind; what the store keeps."""
    return hmac.new(key, f"{kind.value}:{digits}".encode(), hashlib.sha256).hexdigest()


def identifier_hash(key: bytes, identifier: Identifier) -> str:
    """The keyed hash of an identifier found in a message, to look it up in the registry."""
    return keyed_hash(key, identifier.kind, identifier.reveal())
