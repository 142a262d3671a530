"""dkimpy's verifiers with each key record parsed once and RSA checked by ``cryptography``.

dkimpy parses a key record (base64, then ASN.1 in pure Python) for every signature it
verifies, and checks RSA signatures with pure-Python integer arithmetic; for a message
with one RSA-2048 signature that was most of the DKIM check's CPU. Here:

- a key record is parsed once per distinct record text (a bounded LRU). The record
  itself still comes from our resolver on every verification, with its TTL, so a key
  that is changed or revoked in DNS is seen as soon as the resolver sees it;
- an RSA signature is checked by OpenSSL through ``cryptography`` where that gives
  exactly dkimpy's answer, and by dkimpy's own code otherwise (see ``_rsa_verify``).

The key cache works through the DKIM and ARC classes below; the RSA function takes
effect when _dkim_patches.apply() puts it in dkimpy's place, with the faster relaxed
header canonicalisation (_dkim_relaxed). Body canonicalisation, tag parsing and every
other rule stay dkimpy's.
"""

from __future__ import annotations

import binascii
import functools
from typing import Any

import dkim
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from dkim.util import InvalidTagValueList, parse_tag_value

# Distinct key records kept parsed: far more selectors than one receiver sees in a TTL.
MAX_CACHED_KEYS = 1024
# The RSA keys OpenSSL verifies with no limit of its own that dkimpy lacks: OpenSSL
# refuses moduli over 16384 bits and large exponents with large moduli, dkimpy does not.
_FAST_BITS = range(1024, 8192 + 1)
_FAST_EXPONENTS = frozenset({3, 65537})

# (public key, bits, key type, tlsrpt service) as dkim.evaluate_pk returns them.
ParsedKey = tuple[Any, int | None, bytes | None, bool]


class RsaKey(dict[str, int]):
    """dkimpy's RSA key (a dict of modulus and exponent), with an OpenSSL key beside it."""

    def __init__(self, numbers: dict[str, int]) -> None:
        super().__init__(numbers)
        self.openssl: rsa.RSAPublicKey | None = _openssl_key(numbers)


def _openssl_key(numbers: dict[str, int]) -> rsa.RSAPublicKey | None:
    modulus, exponent = numbers.get("modulus"), numbers.get("publicExponent")
    if modulus is None or exponent not in _FAST_EXPONENTS:
        return None
    if modulus.bit_length() not in _FAST_BITS:
        return None
    try:
        return rsa.RSAPublicNumbers(exponent, modulus).public_key()
    except ValueError:
        return None  # a key OpenSSL will not load (an even modulus…): dkimpy's way


def parse_key_record(name: bytes, record: bytes | None) -> ParsedKey:
    """dkim.evaluate_pk(name, record), parsed once per distinct ``record``.

    Raises what evaluate_pk raises; failures are not cached (lru_cache keeps results only).
    """
    if not record:
        return dkim.evaluate_pk(name, record)  # type: ignore[no-any-return]  # names the key
    return _parsed(record)


@functools.lru_cache(maxsize=MAX_CACHED_KEYS)
def _parsed(record: bytes) -> ParsedKey:
    # evaluate_pk uses its name argument only to say which key is missing (not here).
    pk, bits, key_type, tlsrpt = dkim.evaluate_pk(b"", record)
    if key_type == b"rsa" and isinstance(pk, dict):
        pk = RsaKey(pk)
    return pk, bits, key_type, tlsrpt


class CachedKeys:
    """Mixin for dkim.DKIM and dkim.ARC: DomainSigner.verify_sig with parse_key_record.

    The same steps and the same answers as dkimpy 1.1's verify_sig; only the key
    parsing goes through the cache.
    """

    timeout: float
    pk: Any
    keysize: int | None
    ktag: bytes | None
    seqtlsrpt: bool

    def verify_sig(self, sig: Any, include_headers: Any, sig_header: Any, dnsfunc: Any) -> Any:
        name = sig[b"s"] + b"._domainkey." + sig[b"d"] + b"."
        try:
            record = dnsfunc(name, timeout=self.timeout)
            self.pk, self.keysize, self.ktag, self.seqtlsrpt = parse_key_record(name, record)
        except (dkim.KeyFormatError, binascii.Error, dkim.DnsTimeoutError):
            # dkimpy logs these and answers "does not verify"; the check says why.
            return False
        return self.verify_sig_process(  # type: ignore[attr-defined]
            sig, include_headers, sig_header, dnsfunc
        )


class DKIM(CachedKeys, dkim.DKIM):  # type: ignore[misc]  # dkimpy has no types
    """dkim.DKIM with cached key parsing and OpenSSL RSA verification."""


class ARC(CachedKeys, dkim.ARC):  # type: ignore[misc]  # dkimpy has no types
    """dkim.ARC with cached key parsing and OpenSSL RSA verification."""


# dkimpy's own, which _rsa_verify falls back on (read at import, before any apply()).
_dkimpy_rsa_verify = dkim.RSASSA_PKCS1_v1_5_verify


def _rsa_verify(hash: Any, signature: bytes, public_key: Any) -> bool:
    """dkimpy's RSASSA_PKCS1_v1_5_verify, by OpenSSL for keys from parse_key_record.

    Put in dkimpy's place by _dkim_patches.apply(): verify_sig_process calls the module's
    function by name. Keys that are not an RsaKey (anyone else's use of dkimpy) take
    dkimpy's own code unchanged.

    OpenSSL's PKCS #1 v1.5 check (00 01 FF… 00 DigestInfo, compared whole) is the one
    dkimpy makes, with two differences it is kept away from: OpenSSL refuses a signature
    shorter than the modulus or not below it, where dkimpy pads the first and reduces
    the second. Those, SHA-1 and keys without an OpenSSL twin go to dkimpy's code.
    """
    key = getattr(public_key, "openssl", None)
    if key is None or hash.name != "sha256" or len(signature) != (key.key_size + 7) // 8:
        return bool(_dkimpy_rsa_verify(hash, signature, public_key))
    if int.from_bytes(signature, "big") >= public_key["modulus"]:
        return bool(_dkimpy_rsa_verify(hash, signature, public_key))
    try:
        key.verify(signature, hash.digest(), padding.PKCS1v15(), Prehashed(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def testing_key(record: bytes | None) -> bool:
    """Whether the key record's t= flags say the domain is testing DKIM (RFC 6376 §3.6.1)."""
    try:
        flags = parse_tag_value(record or b"").get(b"t", b"")
    except InvalidTagValueList:
        return False
    return b"y" in (flag.strip().lower() for flag in flags.split(b":"))


def key_refuses(record: bytes | None, signature: dict[bytes, bytes]) -> str | None:
    """What the key record says against its use for ``signature`` (its tags), or None.

    RFC 6376 §3.6.1: a key whose h= does not list the signature's hash algorithm is not
    to be used for it (§6.1.2, "inappropriate hash algorithm"); a key flagged t=s is
    for signatures whose i= domain is d= itself, never a subdomain of it.
    """
    try:
        key = parse_tag_value(record or b"")
    except InvalidTagValueList:
        return None  # judged elsewhere (the key's facts)
    algorithm = signature.get(b"a", b"").partition(b"-")[2].strip().lower()
    hashes_allowed = [h.strip().lower() for h in key.get(b"h", b"").split(b":") if h.strip()]
    if hashes_allowed and algorithm not in hashes_allowed:
        allowed = ", ".join(h.decode("ascii", "replace") for h in hashes_allowed)
        return (
            f"allows only {allowed} hashes (h=), not the signature's "
            f"{algorithm.decode('ascii', 'replace')} (RFC 6376 §3.6.1)"
        )
    flags = [flag.strip().lower() for flag in key.get(b"t", b"").split(b":")]
    identity = signature.get(b"i", b"").rpartition(b"@")[2].strip().lower().rstrip(b".")
    domain = signature.get(b"d", b"").strip().lower().rstrip(b".")
    if b"s" in flags and identity and identity != domain:
        return (
            f"says t=s: signatures may name only {domain.decode('ascii', 'replace')} itself "
            f"in i=, not {identity.decode('ascii', 'replace')} (RFC 6376 §3.6.1)"
        )
    return None
