"""dkim: every signature verified over real DNS, with its key, result and reason."""

from __future__ import annotations

import time
from typing import Any
from unittest import mock

import dkim
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailhook.checks import PIPELINE, registered
from mailhook.checks.dkim import MAX_SIGNATURES, check_dkim, split_for_dkimpy
from mailhook.context import CheckContext
from mailhook.dns import Resolver
from mailhook.findings import Finding
from mailhook.message import Channel, Envelope, parse_message
from tests.adversarial_mail import SIGNED, sign_as_acme
from tests.dns_server import FixtureDnsServer
from tests.support import FIXTURES, make_message

MAIL = FIXTURES / "mail"


@pytest.fixture
def resolver(dns_server: FixtureDnsServer) -> Resolver:
    return Resolver([dns_server.address], timeout=0.5)


def check_raw(raw: bytes, resolver: Resolver | None) -> Finding:
    message = parse_message(raw, Envelope(), Channel.PIPE)
    return check_dkim(message, CheckContext(resolver=resolver))


def check(scenario: str, resolver: Resolver) -> Finding:
    return check_raw((MAIL / f"{scenario}.eml").read_bytes(), resolver)


def only_signature(finding: Finding) -> dict[str, Any]:
    (signature,) = finding.evidence["signatures"]
    return dict(signature)


def test_is_registered_and_runs_after_spf_and_before_dmarc() -> None:
    assert registered()["dkim"].run is check_dkim
    assert PIPELINE.index("spf") < PIPELINE.index("dkim")
    if "dmarc" in PIPELINE:
        assert PIPELINE.index("dkim") < PIPELINE.index("dmarc")


@pytest.mark.parametrize(
    ("key", "algorithm", "bits"),
    [
        ("rsa2048", "rsa-sha256", 2048),
        ("rsa1024", "rsa-sha256", 1024),
        ("ed25519", "ed25519-sha256", 256),
    ],
)
def test_a_valid_signature_passes(resolver: Resolver, key: str, algorithm: str, bits: int) -> None:
    finding = check(f"dkim-pass-{key}", resolver)
    assert finding.name == "dkim"
    assert finding.result == "pass"
    assert finding.reason == f"1 signature: acme.pl ({algorithm}, {bits} bits) passes."
    assert finding.evidence["pass_domains"] == ["acme.pl"]
    signature = only_signature(finding)
    assert signature.pop("b")
    # h= as listed, lower case: signed-headers counts the instances it covers.
    assert signature.pop("h")[:2] == ["from", "to"]
    # i= as written: the user the signer vouches for (handed-over-by reads it).
    assert signature.pop("i") == "@acme.pl"
    assert signature == {
        "d": "acme.pl",
        "s": key,
        "a": algorithm,
        "bits": bits,
        "result": "pass",
        "reason": "the signature verifies",
        "partial_body": False,
    }


def test_the_b_value_is_given_without_white_space(resolver: Resolver) -> None:
    raw = (MAIL / "dkim-pass-rsa2048.eml").read_bytes()
    b_value = only_signature(check("dkim-pass-rsa2048", resolver))["b"]
    folded = raw.split(b" b=", 1)[1].split(b"\r\nFrom:", 1)[0]
    assert b_value == b"".join(folded.split()).decode()
    assert len(b_value) == 344  # a 2048-bit RSA signature in base64


def test_a_weak_key_fails_with_the_size_it_needed(resolver: Resolver) -> None:
    finding = check("dkim-weak-key-rsa512", resolver)
    assert finding.result == "fail"
    assert finding.reason == (
        "1 signature: acme.pl (rsa-sha256, 512 bits) fails: the key is too weak: 1024 bits "
        "needed, key has 512 (RFC 8301 §3.2)."
    )
    assert finding.evidence["pass_domains"] == []
    assert only_signature(finding)["bits"] == 512


def test_a_body_altered_after_signing_fails(resolver: Resolver) -> None:
    finding = check("dkim-body-altered", resolver)
    assert finding.result == "fail"
    assert finding.reason == (
        "1 signature: acme.pl (rsa-sha256, 2048 bits) fails: body hash mismatch (the body was "
        "changed after signing)."
    )


def test_a_header_altered_after_signing_fails(resolver: Resolver) -> None:
    finding = check("dkim-headers-altered", resolver)
    assert finding.result == "fail"
    assert finding.reason == (
        "1 signature: acme.pl (rsa-sha256, 2048 bits) fails: the signature does not match the "
        "signed header fields (one was changed after signing, or the key is not the one it "
        "was made with)."
    )


def test_l_tag_with_appended_text_does_not_vouch_for_the_body(resolver: Resolver) -> None:
    # RFC 6376 §8.2: the signature verifies, but only over the text before the footer.
    finding = check("dkim-l-tag-appended-text", resolver)
    assert finding.result == "fail"
    assert finding.reason == (
        "1 signature: acme.pl (rsa-sha256, 2048 bits) does not cover the whole body: it signs "
        "only the first 102 of 181 body bytes (l=), so the last 79 could have been added by "
        "anyone."
    )
    assert finding.evidence["pass_domains"] == []
    signature = only_signature(finding)
    assert signature["result"] == "partial-body"
    assert signature["partial_body"] is True


def test_l_tag_covering_the_whole_body_passes(resolver: Resolver) -> None:
    finding = check("dkim-l-tag-whole-body", resolver)
    assert finding.result == "pass"
    assert only_signature(finding)["partial_body"] is False


def test_every_signature_is_verified_and_one_pass_is_enough(resolver: Resolver) -> None:
    finding = check("dkim-two-signatures-one-broken", resolver)
    assert finding.result == "pass"
    assert finding.reason == (
        "2 signatures: acme.pl (rsa-sha256, 2048 bits) passes; mailer.example (rsa-sha256, "
        "2048 bits) fails: body hash mismatch (the body was changed after signing)."
    )
    assert finding.evidence["pass_domains"] == ["acme.pl"]
    assert [s["result"] for s in finding.evidence["signatures"]] == ["pass", "fail"]
    assert [s["d"] for s in finding.evidence["signatures"]] == ["acme.pl", "mailer.example"]


def test_a_third_party_signature_passes_for_its_own_domain(resolver: Resolver) -> None:
    finding = check("dkim-third-party-domain", resolver)
    assert finding.result == "pass"
    assert finding.reason == "1 signature: mailer.example (rsa-sha256, 2048 bits) passes."
    # Alignment with the From domain (acme.pl) is DMARC's question, not this check's.
    assert finding.evidence["pass_domains"] == ["mailer.example"]


@pytest.mark.parametrize(("fault", "kind"), [("timeout", "timed out"), ("servfail", "failed")])
def test_a_key_lookup_that_fails_for_now_is_temperror_never_fail_or_pass(
    resolver: Resolver, dns_faults: dict[str, str], fault: str, kind: str
) -> None:
    dns_faults["flaky._domainkey.acme.pl"] = fault
    finding = check("dkim-key-dns-timeout", resolver)
    assert finding.result == "temperror"
    assert finding.reason == (
        "1 signature: acme.pl (rsa-sha256) cannot be checked for now: its key could not be "
        f"fetched (DNS query for flaky._domainkey.acme.pl TXT {kind})."
    )
    assert finding.evidence["pass_domains"] == []
    assert only_signature(finding)["result"] == "temperror"


def test_the_same_message_passes_once_dns_answers(resolver: Resolver) -> None:
    assert check("dkim-key-dns-timeout", resolver).result == "pass"


def test_temperror_outweighs_a_failing_signature(
    resolver: Resolver, dns_faults: dict[str, str]
) -> None:
    # The passing signature's key cannot be fetched: the broken one must not decide.
    dns_faults["rsa2048._domainkey.acme.pl"] = "timeout"
    finding = check("dkim-two-signatures-one-broken", resolver)
    assert finding.result == "temperror"
    assert [s["result"] for s in finding.evidence["signatures"]] == ["temperror", "fail"]


def test_a_pass_outweighs_a_temperror_of_another_signature(
    resolver: Resolver, dns_faults: dict[str, str]
) -> None:
    dns_faults["rsa2048._domainkey.mailer.example"] = "timeout"
    finding = check("dkim-two-signatures-one-broken", resolver)
    assert finding.result == "pass"
    assert [s["result"] for s in finding.evidence["signatures"]] == ["pass", "temperror"]
    assert finding.evidence["pass_domains"] == ["acme.pl"]


@pytest.mark.parametrize(
    ("scenario", "bits", "why"),
    [
        ("dkim-key-not-published", None, "no key is published at retired._domainkey.acme.pl"),
        (
            "dkim-key-revoked",
            None,
            "the key at revoked._domainkey.acme.pl has been revoked (empty p=)",
        ),
        (
            "dkim-key-type-mismatch",
            2048,
            "the key at mismatch._domainkey.acme.pl is an RSA key, not one for ed25519-sha256",
        ),
        ("dkim-rsa-sha1", 2048, "rsa-sha1 is no longer accepted (RFC 8301)"),
    ],
)
def test_key_and_algorithm_problems_fail(
    resolver: Resolver, scenario: str, bits: int | None, why: str
) -> None:
    finding = check(scenario, resolver)
    signature = only_signature(finding)
    key = f"{signature['a']}, {bits} bits" if bits else signature["a"]
    assert finding.result == "fail"
    assert finding.reason == f"1 signature: acme.pl ({key}) fails: {why}."
    assert signature["bits"] == bits


def test_a_malformed_signature_is_permerror(resolver: Resolver) -> None:
    finding = check("dkim-malformed-signature", resolver)
    assert finding.result == "permerror"
    assert finding.reason == "1 signature: acme.pl (rsa-sha256) is malformed: missing bh=."
    assert finding.evidence["pass_domains"] == []


def test_a_signature_that_does_not_sign_from_is_permerror(resolver: Resolver) -> None:
    raw = (MAIL / "dkim-pass-rsa2048.eml").read_bytes()
    start = raw.index(b"h=")
    end = raw.index(b";", start)
    unsigned_from = raw[:start] + b"h=to : subject" + raw[end:]
    finding = check_raw(unsigned_from, resolver)
    assert finding.result == "permerror"
    assert finding.reason == (
        "1 signature: acme.pl (rsa-sha256) is malformed: it does not sign the From header "
        "field (RFC 6376 §6.1.1)."
    )


def test_an_unsigned_message_is_none(resolver: Resolver) -> None:
    finding = check_raw(make_message(), resolver)
    assert finding.result == "none"
    assert finding.reason == "The message carries no DKIM signature."
    assert finding.evidence == {"signatures": [], "pass_domains": []}
    assert resolver.stats.queries == 0


def test_garbage_signatures_are_permerror_never_a_crash(resolver: Resolver) -> None:
    raw = make_message(DKIM_Signature="v=1; a=rsa-sha256; b=!!!; bh=???; d=acme.pl; s=x; h=from")
    finding = check_raw(raw, resolver)
    assert finding.result == "permerror"
    assert "is malformed: b= value is not valid base64" in finding.reason
    raw = make_message(DKIM_Signature="this is not a tag list")
    finding = check_raw(raw, resolver)
    assert finding.result == "permerror"
    assert finding.reason == (
        "1 signature: (no d=) () is malformed: its tag=value list cannot be read (RFC 6376 §3.2)."
    )


def test_a_header_section_dkimpy_cannot_split_is_permerror(resolver: Resolver) -> None:
    raw = (MAIL / "dkim-pass-rsa2048.eml").read_bytes()
    raw = raw.replace(b"\r\nMIME-Version:", b"\r\nnot a header line\r\nMIME-Version:", 1)
    finding = check_raw(raw, resolver)
    assert finding.result == "permerror"
    assert finding.reason.startswith(
        "The DKIM signatures cannot be checked: the header section is malformed"
    )


def test_at_most_ten_signatures_are_checked(resolver: Resolver) -> None:
    raw = (MAIL / "dkim-pass-rsa2048.eml").read_bytes()
    signature, rest = raw.split(b"\r\nFrom:", 1)
    forged = (signature.replace(b"s=rsa2048", b"s=retired") + b"\r\n") * 12
    finding = check_raw(forged + signature + b"\r\nFrom:" + rest, resolver)
    assert len(finding.evidence["signatures"]) == MAX_SIGNATURES
    assert finding.result == "fail"
    assert finding.reason.startswith("13 signatures: acme.pl (rsa-sha256) fails: no key")
    assert finding.reason.endswith("; 3 more not checked (at most 10 are).")


def test_without_a_resolver_signatures_cannot_be_checked() -> None:
    finding = check_raw((MAIL / "dkim-pass-rsa2048.eml").read_bytes(), None)
    assert finding.result == "none"
    assert finding.reason == "The DKIM signatures cannot be checked: no DNS resolver is configured."


# Messages built of the pieces whose handling could differ: CR, LF, CRLF, blank lines,
# folded lines and an mbox "From " line.
_PIECES = st.sampled_from(
    [b"A: 1", b"From jan", b"\r", b"\n", b"\r\n", b" folded", b"body text", b"\t", b""]
)


@given(st.lists(_PIECES, max_size=20))
def test_split_for_dkimpy_reads_a_message_as_dkimpy_does(pieces: list[bytes]) -> None:
    raw = b"".join(pieces)
    head, body = split_for_dkimpy(raw)
    assert _parsed(head, body) == _parsed(raw, None)
    crlf = raw.count(b"\r\n")
    if raw.count(b"\n") == crlf == raw.count(b"\r"):
        # What InboundMessage.crlf_only says of such a message: the same split.
        assert split_for_dkimpy(raw, crlf_only=True) == (head, body)


def _parsed(raw: bytes, body: bytes | None) -> object:
    """dkimpy's (headers, body) of ``raw`` (``body`` replacing its own), or what it raised."""
    try:
        headers, rest = dkim.rfc822_parse(raw)
    except Exception as exc:  # noqa: BLE001 - dkimpy raises IndexError on some input
        return type(exc)
    return headers, rest if body is None else body


def test_a_signature_of_a_domain_testing_dkim_counts_as_none(resolver: Resolver) -> None:
    # RFC 6376 §3.6.1 t=y: such mail is not to be treated otherwise than unsigned mail.
    raw = make_message(sender="jan@acme.pl")
    key = (FIXTURES / "keys" / "rsa2048.pem").read_bytes()
    signed = dkim.sign(raw, b"testing", b"acme.pl", key, include_headers=[b"from"]) + raw
    finding = check_raw(signed, resolver)
    assert finding.result == "fail"
    assert finding.reason == (
        "1 signature: acme.pl (rsa-sha256, 2048 bits) counts as unsigned: the key at "
        "testing._domainkey.acme.pl says the domain is testing DKIM (t=y)."
    )
    assert only_signature(finding)["result"] == "testing"
    assert finding.evidence["pass_domains"] == []


def test_a_signature_made_later_than_now_fails(resolver: Resolver) -> None:
    # RFC 6376 §3.5 t=: a signing time in the future (beyond dkimpy's ten hours for
    # clocks) is no signature made now.
    ahead = int(time.time()) + 2 * 86400
    with mock.patch.object(dkim.time, "time", return_value=ahead):
        signed = sign_as_acme(make_message(), SIGNED)
    finding = check_raw(signed, resolver)
    assert finding.result == "fail"
    assert finding.reason == (
        "1 signature: acme.pl (rsa-sha256) fails: the signature claims a future signing "
        f"time (t= value is in the future ({ahead}))."
    )
    assert only_signature(finding)["i"] == "@acme.pl"


def test_i_is_reported_as_written(resolver: Resolver) -> None:
    signed = sign_as_acme(make_message(), SIGNED, identity="jan@acme.pl")
    assert only_signature(check_raw(signed, resolver))["i"] == "jan@acme.pl"
