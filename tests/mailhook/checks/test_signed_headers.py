"""signed-headers: the aligned DKIM signature covers every From and Subject instance."""

from __future__ import annotations

import dkim
import pytest

from mailhook.checks import PIPELINE, registered
from mailhook.checks.dkim import check_dkim
from mailhook.checks.from_mailbox import check_from_mailbox
from mailhook.checks.signed_headers import RESULTS, check_signed_headers
from mailhook.context import CheckContext
from mailhook.dns import Resolver
from mailhook.findings import Finding
from mailhook.message import Channel, Envelope, parse_message
from tests.dns_server import FixtureDnsServer
from tests.support import FIXTURES, make_message, signed_by_acme

MAIL = FIXTURES / "mail"
NAME = "signed-headers"


@pytest.fixture
def resolver(dns_server: FixtureDnsServer) -> Resolver:
    return Resolver([dns_server.address], timeout=0.5)


def check_raw(raw: bytes, resolver: Resolver) -> Finding:
    """The finding after from-mailbox and dkim ran, as in the pipeline."""
    message = parse_message(raw, Envelope(), Channel.PIPE)
    context = CheckContext(resolver=resolver)
    earlier = {
        "from-mailbox": check_from_mailbox(message, context),
        "dkim": check_dkim(message, context),
    }
    return check_signed_headers(message, context.with_earlier(earlier))


def check(scenario: str, resolver: Resolver) -> Finding:
    return check_raw((MAIL / f"{scenario}.eml").read_bytes(), resolver)


def test_is_registered_after_dkim_and_before_dmarc() -> None:
    check_ = registered()[NAME]
    assert check_.run is check_signed_headers
    assert check_.results == (*RESULTS, "temperror", "error")
    assert RESULTS == ("pass", "none", "uncovered")
    assert PIPELINE.index("dkim") < PIPELINE.index(NAME) < PIPELINE.index("dmarc")


def test_a_signature_covering_from_and_subject_passes(resolver: Resolver) -> None:
    finding = check("dkim-pass-rsa2048", resolver)
    assert finding.result == "pass"
    assert finding.reason == (
        "The DKIM signature of acme.pl covers every From and Subject header field of the message."
    )


def test_a_subject_prepended_above_the_signed_one_is_uncovered(resolver: Resolver) -> None:
    finding = check("subject-prepended-above-dkim-signed", resolver)
    assert finding.result == "uncovered"
    assert finding.reason == (
        "The DKIM signature of acme.pl does not cover the topmost of the 2 Subject header "
        "fields: anyone on the way may have added what it does not sign (RFC 6376 §5.4.2), "
        "and a mail client may show that instead of the signed one."
    )
    assert finding.evidence["uncovered"] == {"Subject": 1}
    assert finding.evidence["present"] == {"From": 1, "Subject": 2}
    assert finding.evidence["d"] == "acme.pl"


def test_a_subject_the_signer_left_out_of_h_is_uncovered(resolver: Resolver) -> None:
    finding = check("dkim-subject-not-signed", resolver)
    assert finding.result == "uncovered"
    assert finding.reason.startswith(
        "The DKIM signature of acme.pl does not cover the Subject header field (it is not in h=)"
    )


def test_a_subject_signed_twice_covers_two_instances(resolver: Resolver) -> None:
    # RFC 6376 §5.4.2: a name listed twice signs the two bottom instances.
    raw = make_message(subject="Pytanie", Keywords="x")
    signed = signed_by_acme(raw.replace(b"Subject: Pytanie\r\n", b"Subject: A\r\nSubject: B\r\n"))
    assert check_raw(signed, resolver).result == "uncovered"  # h= lists subject once
    twice = raw.replace(b"Subject: Pytanie\r\n", b"Subject: A\r\nSubject: B\r\n")
    signature = dkim.sign(
        twice,
        b"rsa2048",
        b"acme.pl",
        (FIXTURES / "keys" / "rsa2048.pem").read_bytes(),
        include_headers=[b"from", b"subject", b"subject"],
    )
    assert check_raw(signature + twice, resolver).result == "pass"


def test_a_subject_written_with_space_before_the_colon_is_never_covered(
    resolver: Resolver,
) -> None:
    # RFC 5322 §4.5.3 obsolete syntax: clients show "Subject :" as the subject. The
    # signature no longer verifies over such a header section, so nothing is covered.
    signed = (MAIL / "dkim-pass-rsa2048.eml").read_bytes()
    raw = signed.replace(b"\r\nFrom:", b"\r\nSubject : Transfer acme.pl\r\nFrom:", 1)
    finding = check_raw(raw, resolver)
    assert finding.result == "none", finding.reason


def test_a_signature_of_another_organisation_gives_none(resolver: Resolver) -> None:
    finding = check("dkim-third-party-domain", resolver)
    assert finding.result == "none"
    assert finding.reason == (
        "No DKIM signature of the From domain's organisation verifies, so there is no signed "
        "header to compare the message's From and Subject with."
    )


@pytest.mark.parametrize(
    "scenario",
    ["dkim-l-tag-appended-text", "dkim-body-altered", "dkim-weak-key-rsa512"],
)
def test_a_signature_that_does_not_authenticate_gives_none(
    resolver: Resolver, scenario: str
) -> None:
    # l= shorter than the body (RFC 6376 §8.2) does not authenticate: nothing to compare.
    assert check(scenario, resolver).result == "none"


def test_an_unsigned_message_gives_none(resolver: Resolver) -> None:
    assert check_raw(make_message(), resolver).result == "none"
