"""dkim: every DKIM signature verified, with its domain, key and result (RFC 6376, 8463)."""

from __future__ import annotations

import binascii
import re

import dkim
from dkim.canonicalization import CanonicalizationPolicy, InvalidCanonicalizationPolicyError
from dkim.util import InvalidTagValueList, parse_tag_value

from mailhook.checks import _dkim_patches
from mailhook.checks._dkim_keys import DKIM, key_refuses, parse_key_record, testing_key
from mailhook.checks._dkim_results import (
    KEY_TYPES,
    SignatureResult,
    cut,
    malformed,
    plain,
    signature_result,
    text,
)
from mailhook.checks._registry import register
from mailhook.context import CheckContext
from mailhook.dns import DnsTempError, Resolver
from mailhook.findings import Finding
from mailhook.message import InboundMessage

NAME = "dkim"
RESULTS: tuple[str, ...] = ("pass", "fail", "permerror", "temperror", "none")
# RFC 8301 §3.2: verifiers MUST NOT consider signatures with RSA keys under 1024 bits valid.
MIN_RSA_BITS = 1024
# Each signature costs a DNS lookup; a message does not get to make us do hundreds.
MAX_SIGNATURES = 10
# RFC 6376 §3.5: a signature past its x= expiry is not valid, "verifiers MAY allow some
# leeway" for clocks. dkimpy allows ten hours, long enough to send a captured message
# again after the signer said it stops vouching for it; five minutes is for clocks only.
EXPIRY_LEEWAY_SECONDS = 300


@register(
    NAME, "every DKIM signature verified, with its domain, key size and result", results=RESULTS
)
def check_dkim(message: InboundMessage, context: CheckContext) -> Finding:
    # Only a signed message is handed to dkimpy, which splits the header section again
    # (slowly, for a header folded into thousands of lines).
    if not any(key.lower() == "dkim-signature" for key in message.parsed):
        return _unsigned()
    head, body = split_for_dkimpy(message.raw, message.crlf_only)
    _dkim_patches.apply()  # before anything reaches dkimpy; once per process (its docstring)
    try:
        # minkey=0: the key size is judged below, so the reason can say what it was.
        verifier = DKIM(head, minkey=0)
    except dkim.DKIMException as exc:
        # dkimpy cannot split the header section; a signature in it cannot be checked.
        return _finding(
            "permerror",
            "The DKIM signatures cannot be checked: the header section is malformed "
            f"({plain(exc)}).",
            [],
        )
    if body is not None:
        verifier.body = body
    fields = [value for key, value in verifier.headers if key.lower() == b"dkim-signature"]
    if not fields:
        return _unsigned()
    if context.resolver is None:
        return _finding(
            "none", "The DKIM signatures cannot be checked: no DNS resolver is configured.", []
        )
    results = [
        verify_signature(verifier, index, field, context.resolver, now=context.now.timestamp())
        for index, field in enumerate(fields[:MAX_SIGNATURES])
    ]
    return _finding(_overall(results), _summary(results, len(fields)), results)


# The end of the header section: the first empty line, with lines ending in CRLF or LF.
_HEADER_END = re.compile(rb"\n\r?\n")


def split_for_dkimpy(raw: bytes, crlf_only: bool = False) -> tuple[bytes, bytes | None]:
    """``raw`` as dkimpy reads it: (header section, body with every line end CRLF).

    dkimpy splits the whole message into lines with a regex and joins the body again;
    for a 5 MB message that took 0.6 s, more than verifying it. Handing it the header
    section alone and setting ``body`` to the same bytes (split on CRLF or LF, joined
    with CRLF, as two replaces do) takes milliseconds. A message that opens with an
    empty line or has none is handed over whole (body None), as before. ``crlf_only``:
    every line end of ``raw`` is known to be a CRLF already (InboundMessage.crlf_only).
    """
    end = None if raw.startswith((b"\n", b"\r\n")) else _HEADER_END.search(raw)
    if end is None:
        return raw, None
    rest = raw[end.end() :]
    if crlf_only or rest.count(b"\n") == rest.count(b"\r\n"):
        # Every LF ends a CRLF already (as in all mail received by SMTP): the two
        # replaces would give back the same bytes, at two copies of the body.
        return raw[: end.end()], rest
    return raw[: end.end()], rest.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def verify_signature(
    verifier: dkim.DKIM, index: int, field: bytes, resolver: Resolver, *, now: float
) -> SignatureResult:
    """Verify the ``index``-th DKIM-Signature (``field``) of the message ``verifier`` holds,
    at ``now`` (seconds since the epoch)."""
    try:
        tags = parse_tag_value(field)
    except InvalidTagValueList:
        return malformed({}, "its tag=value list cannot be read (RFC 6376 §3.2)")
    unusable = _unusable(tags, now)
    if unusable is not None:
        return unusable
    key_name = cut(f"{text(tags[b's'])}._domainkey.{text(tags[b'd'])}")
    fetch_key = KeyFetcher(resolver)
    error: str | None = None
    verified = False
    try:
        verified = bool(verifier.verify(idx=index, dnsfunc=fetch_key))
    except DnsTempError as exc:
        return signature_result(tags, "temperror", f"its key could not be fetched ({exc})")
    except dkim.MessageFormatError as exc:
        return malformed(tags, plain(exc))
    except dkim.ValidationError as exc:
        error = plain(exc)
        if error.startswith("body hash mismatch"):
            error = "body hash mismatch (the body was changed after signing)"
    except dkim.DKIMException as exc:
        error = plain(exc)
    except (binascii.Error, ValueError, TypeError, IndexError) as exc:
        # dkimpy uses a few tag values it does not validate (an l= without digits, say).
        return malformed(tags, f"it cannot be read ({type(exc).__name__}: {plain(exc)})")
    return _judge(verifier, tags, verified, error, key_name, fetch_key.record)


def _unusable(tags: dict[bytes, bytes], now: float) -> SignatureResult | None:
    """The result of a signature that cannot be verified as it is written, or None."""
    try:
        dkim.validate_signature_fields(tags)
    except dkim.ValidationError as exc:
        problem = plain(exc)
        if problem.startswith("x= value is past"):
            # RFC 6376 §3.5: a signature past its x= expiry is not valid.
            return signature_result(tags, "fail", f"the signature has expired ({problem})")
        if problem.startswith("t= value is in the future"):
            return signature_result(
                tags, "fail", f"the signature claims a future signing time ({problem})"
            )
        return malformed(tags, problem)
    expiry = tags.get(b"x", b"").strip()
    if expiry.isdigit() and int(expiry) < now - EXPIRY_LEEWAY_SECONDS:
        # dkimpy's own test above only refuses one ten hours past (EXPIRY_LEEWAY_SECONDS).
        return signature_result(
            tags,
            "fail",
            f"the signature has expired (x={int(expiry)}, {_ago(now - int(expiry))} before "
            "it was checked; RFC 6376 §3.5)",
        )
    signed = [name.strip().lower() for name in tags[b"h"].split(b":")]
    if b"from" not in signed:
        # RFC 6376 §6.1.1: a signature that does not sign From is to be ignored.
        return malformed(tags, "it does not sign the From header field (RFC 6376 §6.1.1)")
    return None


def _ago(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 120:
        return f"{minutes} minutes"
    hours = minutes // 60
    return f"{hours} hours" if hours < 48 else f"{hours // 24} days"


class KeyFetcher:
    """dkimpy's ``dnsfunc`` over our Resolver, keeping the key record it handed over.

    Used for DKIM signatures and for ARC seals alike (both fetch keys the same way).

    A DnsTempError is let through on purpose: dkimpy's verify_sig turns only its own
    DnsTimeoutError into a plain "fails", and a key we could not fetch proves nothing
    either way, so the caller reports it as temperror.
    """

    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self.record: bytes | None = None

    def __call__(self, name: bytes, timeout: float = 5) -> bytes | None:
        try:
            records = self.resolver.txt(name.decode("utf-8").rstrip("."))
        except UnicodeDecodeError:
            records = []
        # RFC 6376 §3.6.2.2: the strings of one TXT record, concatenated (txt() joins them).
        self.record = records[0] if records else None
        return self.record


def _judge(
    verifier: dkim.DKIM,
    tags: dict[bytes, bytes],
    verified: bool,
    error: str | None,
    key_name: str,
    record: bytes | None,
) -> SignatureResult:
    """The result of a signature dkimpy has run through, and why; the key is judged first."""
    bits, key_type, key_problem = _key_facts(record)
    algorithm = text(tags[b"a"])
    if record is None:
        # RFC 6376 §6.1.2: no key record is a permanent failure of this signature.
        return signature_result(tags, "fail", f"no key is published at {key_name}")
    key_problem = key_problem or key_refuses(record, tags)
    if key_problem:
        return signature_result(tags, "fail", f"the key at {key_name} {key_problem}", bits=bits)
    if key_type != algorithm.partition("-")[0]:
        # RFC 6376 §6.1.2: a key not suitable for the a= algorithm (inappropriate key algorithm).
        return signature_result(
            tags,
            "fail",
            f"the key at {key_name} is {KEY_TYPES.get(key_type or '', 'an unknown')} key, "
            f"not one for {algorithm}",
            bits=bits,
        )
    if error is not None:
        return signature_result(tags, "fail", error, bits=bits)
    if not verified:
        return signature_result(
            tags,
            "fail",
            "the signature does not match the signed header fields (one was changed after "
            "signing, or the key is not the one it was made with)",
            bits=bits,
        )
    if algorithm == "rsa-sha1":
        # RFC 8301 §3.1: rsa-sha1 MUST NOT be used for signing or verifying.
        return signature_result(
            tags, "fail", "rsa-sha1 is no longer accepted (RFC 8301)", bits=bits
        )
    if key_type == "rsa" and bits is not None and bits < MIN_RSA_BITS:
        return signature_result(
            tags,
            "fail",
            f"the key is too weak: {MIN_RSA_BITS} bits needed, key has {bits} (RFC 8301 §3.2)",
            bits=bits,
        )
    # Without a usable l= the signature covers the whole body; only with one is the
    # body canonicalised again to be measured (a second pass over a large body).
    limited = tags.get(b"l", b"").isdigit()
    body_length = _canonical_body_length(verifier, tags) if limited else 0
    signed_length = int(tags[b"l"]) if limited else body_length
    if signed_length < body_length:
        # RFC 6376 §8.2: content after l= bytes is not signed, so anyone could have
        # appended it; such a signature does not vouch for the body.
        return signature_result(
            tags,
            "partial-body",
            f"it signs only the first {signed_length} of {body_length} body bytes (l=), "
            f"so the last {body_length - signed_length} could have been added by anyone",
            bits=bits,
            partial_body=True,
        )
    if testing_key(record):
        # RFC 6376 §3.6.1 t=y: verifiers MUST NOT treat mail of a domain testing DKIM
        # differently from unsigned mail, so its signature vouches for nothing.
        return signature_result(
            tags,
            "testing",
            f"the key at {key_name} says the domain is testing DKIM (t=y)",
            bits=bits,
        )
    return signature_result(tags, "pass", "the signature verifies", bits=bits)


def _key_facts(record: bytes | None) -> tuple[int | None, str | None, str | None]:
    """(bits, key type, what is wrong with it) of a key record (RFC 6376 §3.6.1)."""
    if record is None:
        return None, None, None
    try:
        tags = parse_tag_value(record)
    except InvalidTagValueList:
        return None, None, "is not a valid key record"
    if tags.get(b"p", b"x").strip() == b"":
        # RFC 6376 §3.6.1: an empty p= means the key has been revoked.
        return None, None, "has been revoked (empty p=)"
    try:
        _key, bits, key_type, _tlsrpt = parse_key_record(b"", record)
    except (dkim.DKIMException, binascii.Error, ValueError) as exc:
        return None, None, f"cannot be used ({plain(exc)})"
    return int(bits) if bits else None, text(key_type or b""), None


def _canonical_body_length(verifier: dkim.DKIM, tags: dict[bytes, bytes]) -> int:
    try:
        policy = CanonicalizationPolicy.from_c_value(tags.get(b"c", b"simple/simple"))
    except InvalidCanonicalizationPolicyError:
        return len(verifier.body)
    return len(policy.canonicalize_body(verifier.body))


def _overall(results: list[SignatureResult]) -> str:
    """pass if any signature fully passes; else temperror, fail, permerror in that order."""
    outcomes = {r.result for r in results}
    if "pass" in outcomes:
        return "pass"
    if "temperror" in outcomes:
        return "temperror"
    if outcomes & {"fail", "partial-body", "testing"}:
        return "fail"
    return "permerror"


def _summary(results: list[SignatureResult], total: int) -> str:
    count = "1 signature" if total == 1 else f"{total} signatures"
    said = "; ".join(r.summary() for r in results)
    unchecked = total - len(results)
    if unchecked:
        said += f"; {unchecked} more not checked (at most {MAX_SIGNATURES} are)"
    return f"{count}: {said}."


def _finding(result: str, reason: str, results: list[SignatureResult]) -> Finding:
    return Finding(
        name=NAME,
        result=result,
        reason=reason,
        evidence={
            "signatures": [r.as_evidence() for r in results],
            "pass_domains": sorted({r.d.lower() for r in results if r.passes}),
        },
    )


def _unsigned() -> Finding:
    return _finding("none", "The message carries no DKIM signature.", [])
