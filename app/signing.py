"""Verdict signatures: Ed25519 over the canonical JSON of the verdict."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the bytes a signature covers."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class PublicKey:
    """A verdict-signing key as ``GET /v1/keys`` publishes it: checks, never signs.

    Whoever holds only the public key (an auditor, a ticketing system, a key of before a
    rotation) checks signatures with it; the secret key is not needed.
    """

    def __init__(self, public_key: str) -> None:
        try:
            raw = base64.urlsafe_b64decode(public_key + "=" * (-len(public_key) % 4))
            self._public = Ed25519PublicKey.from_public_bytes(raw)
        except ValueError:
            raise ValueError(
                f"{public_key[:60]!r} is not an Ed25519 public key (base64url of 32 bytes, "
                "as GET /v1/keys gives it)"
            ) from None
        self.public_key = _b64(raw)
        self.key_id = "ed25519:" + self.public_key[:16]

    def verifies(self, text: bytes, signature: str) -> bool:
        """Whether ``signature`` (base64url) is this key's signature of ``text``."""
        try:
            raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
            self._public.verify(raw, text)
        except (ValueError, InvalidSignature):
            return False
        return True


class VerdictSigner(PublicKey):
    """Signs verdicts with a key derived from the secret key (HKDF-SHA256)."""

    def __init__(self, secret_key: bytes) -> None:
        seed = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"intakeguard verdict signing"
        ).derive(secret_key)
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        super().__init__(_b64(self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)))

    def sign_text(self, text: bytes) -> str:
        """Base64url Ed25519 signature of ``text`` (an audit checkpoint's body)."""
        return _b64(self._key.sign(text))

    def verifies_verdict(self, verdict: Mapping[str, Any]) -> bool:
        """Whether ``verdict``'s ``signature`` is this key's, over every other field."""
        key_id, _, signature = str(verdict.get("signature", "")).rpartition(".")
        payload = {k: v for k, v in verdict.items() if k != "signature"}
        return key_id == self.key_id and self.verifies(canonical_json(payload), signature)

    def sign(self, verdict: dict[str, Any]) -> str:
        """Signature of every verdict field except ``signature`` itself."""
        payload = {k: v for k, v in verdict.items() if k != "signature"}
        return f"{self.key_id}.{_b64(self._key.sign(canonical_json(payload)))}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
