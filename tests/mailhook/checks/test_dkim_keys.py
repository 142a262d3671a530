"""Key records parsed once, RSA verified by OpenSSL: the same answers as dkimpy's own code."""

from __future__ import annotations

import base64
import hashlib

import dkim
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mailhook.checks._dkim_keys import RsaKey, _dkimpy_rsa_verify, _rsa_verify, parse_key_record
from tests.support import FIXTURES

NAME = b"sel._domainkey.example.com."


def private_key(name: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key((FIXTURES / "keys" / f"{name}.pem").read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def record_of(key: rsa.RSAPrivateKey) -> bytes:
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)


def digest_of(data: bytes, algorithm: str = "sha256") -> dkim.HashThrough:
    hasher = dkim.HashThrough(getattr(hashlib, algorithm)())
    hasher.update(data)
    return hasher


def sign(key: rsa.RSAPrivateKey, data: bytes, algorithm: str = "sha256") -> bytes:
    chosen = hashes.SHA256() if algorithm == "sha256" else hashes.SHA1()
    return key.sign(data, padding.PKCS1v15(), chosen)


def both(data: bytes, signature: bytes, key: RsaKey, algorithm: str = "sha256") -> set[bool]:
    """What OpenSSL's path and dkimpy's own code answer (a set of one when they agree)."""
    return {
        _rsa_verify(digest_of(data, algorithm), signature, key),
        _dkimpy_rsa_verify(digest_of(data, algorithm), signature, dict(key)),
    }


@pytest.fixture(scope="module")
def rsa2048() -> tuple[rsa.RSAPrivateKey, RsaKey]:
    key = private_key("rsa2048")
    parsed, bits, key_type, _ = parse_key_record(NAME, record_of(key))
    assert isinstance(parsed, RsaKey)
    assert (bits, key_type) == (2048, b"rsa")
    return key, parsed


def test_a_2048_bit_key_gets_an_openssl_twin(rsa2048: tuple[rsa.RSAPrivateKey, RsaKey]) -> None:
    _, parsed = rsa2048
    assert parsed.openssl is not None
    assert parsed.openssl.key_size == 2048


def test_a_512_bit_key_is_left_to_dkimpy() -> None:
    parsed, bits, _, _ = parse_key_record(NAME, record_of(private_key("rsa512")))
    assert bits == 512
    assert isinstance(parsed, RsaKey)
    assert parsed.openssl is None
    data = b"signed header fields"
    assert both(data, sign(private_key("rsa512"), data), parsed) == {True}


def test_good_and_bad_signatures_get_dkimpys_answer(
    rsa2048: tuple[rsa.RSAPrivateKey, RsaKey],
) -> None:
    key, parsed = rsa2048
    signature = sign(key, b"From: jan@acme.pl")
    assert both(b"From: jan@acme.pl", signature, parsed) == {True}
    assert both(b"From: eve@acme.pl", signature, parsed) == {False}
    flipped = signature[:-1] + bytes([signature[-1] ^ 1])
    assert both(b"From: jan@acme.pl", flipped, parsed) == {False}
    assert both(b"From: jan@acme.pl", b"", parsed) == {False}
    # SHA-1 is dkimpy's business (the check then refuses rsa-sha1 with its own reason).
    sha1 = sign(key, b"From: jan@acme.pl", "sha1")
    assert both(b"From: jan@acme.pl", sha1, parsed, "sha1") == {True}


def test_a_signature_without_its_leading_zero_byte_verifies_as_in_dkimpy(
    rsa2048: tuple[rsa.RSAPrivateKey, RsaKey],
) -> None:
    key, parsed = rsa2048
    # About one signature in 256 starts with a zero byte; dkimpy reads the value, not
    # the length, so the signature without that byte verifies too. OpenSSL would refuse.
    data, signature = next(
        (data, signature)
        for data in (f"message {n}".encode() for n in range(20_000))
        if (signature := sign(key, data))[0] == 0
    )
    assert both(data, signature, parsed) == {True}
    assert both(data, signature[1:], parsed) == {True}


def test_a_signature_above_the_modulus_verifies_as_in_dkimpy(
    rsa2048: tuple[rsa.RSAPrivateKey, RsaKey],
) -> None:
    key, parsed = rsa2048
    modulus = parsed["modulus"]
    # s + n gives the same value modulo n: dkimpy reduces it and accepts, OpenSSL refuses.
    data, value = next(
        (data, value)
        for data in (f"message {n}".encode() for n in range(20_000))
        if (value := int.from_bytes(sign(key, data), "big") + modulus).bit_length() <= 2048
    )
    assert both(data, value.to_bytes(256, "big"), parsed) == {True}


def test_a_changed_record_is_a_changed_key(rsa2048: tuple[rsa.RSAPrivateKey, RsaKey]) -> None:
    _, parsed = rsa2048
    other, _, _, _ = parse_key_record(NAME, record_of(private_key("rsa1024")))
    assert other["modulus"] != parsed["modulus"]
    again, _, _, _ = parse_key_record(NAME, record_of(private_key("rsa2048")))
    assert again is parsed


@pytest.mark.parametrize(
    ("record", "problem"),
    [(None, "missing public key"), (b"v=DKIM1; k=rsa; p=", "could not parse RSA public key")],
)
def test_an_unusable_record_raises_dkimpys_error(record: bytes | None, problem: str) -> None:
    with pytest.raises(dkim.KeyFormatError, match=problem):
        parse_key_record(NAME, record)
    with pytest.raises(dkim.KeyFormatError, match=problem):
        parse_key_record(NAME, record)
