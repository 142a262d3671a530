"""signed-headers: the aligned DKIM signature covers every header field a reader is shown."""

from __future__ import annotations

import dkim
import pytest

from mailhook.checks import PIPELINE, registered
from mailhook.checks.dkim import check_dkim
from mailhook.checks.from_mailbox import check_from_mailbox
from mailhook.checks.signed_headers import RESULTS, check_signed_headers, own_server_handed_over
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


def check_raw(raw: bytes, resolver: Resolver, spf: Finding | None = None) -> Finding:
    """The finding after from-mailbox, ``spf`` (none by default) and dkim ran, as in the
    pipeline."""
    message = parse_message(raw, Envelope(), Channel.PIPE)
    context = CheckContext(resolver=resolver)
    earlier = {
        "from-mailbox": check_from_mailbox(message, context),
        "dkim": check_dkim(message, context),
    }
    if spf is not None:
        earlier["spf"] = spf
    return check_signed_headers(message, context.with_earlier(earlier))


def spf_pass(domain: str, **evidence: str) -> Finding:
    """An spf finding passing the MAIL FROM domain ``domain``."""
    return Finding(
        "spf",
        "pass",
        f"SPF pass for {domain}.",
        evidence={"result": "pass", "domain": domain, "identity": "mailfrom", **evidence},
    )


def check(scenario: str, resolver: Resolver) -> Finding:
    return check_raw((MAIL / f"{scenario}.eml").read_bytes(), resolver)


def test_is_registered_after_dkim_and_before_dmarc() -> None:
    check_ = registered()[NAME]
    assert check_.run is check_signed_headers
    assert check_.results == (*RESULTS, "temperror", "error")
    assert RESULTS == ("pass", "none", "uncovered")
    assert PIPELINE.index("dkim") < PIPELINE.index(NAME) < PIPELINE.index("dmarc")


def test_a_signature_covering_what_a_reader_is_shown_passes(resolver: Resolver) -> None:
    finding = check("dkim-pass-rsa2048", resolver)
    assert finding.result == "pass"
    assert finding.reason == (
        "The DKIM signature of acme.pl covers every From, Subject, Date, MIME-Version and "
        "Content-Type header field of the message."
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
    assert finding.evidence["present"] == {
        "From": 1,
        "Subject": 2,
        "Date": 1,
        "MIME-Version": 1,
        "Content-Type": 1,
    }
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
        include_headers=[
            b"from",
            b"subject",
            b"subject",
            b"date",
            b"mime-version",
            b"content-type",
            b"content-transfer-encoding",
        ],
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


# Identity class 11: what the signature leaves open. A header the signature does not
# cover, above the signed message or in place of one it does not sign.
READ_BY = {
    "Reply-To": b"Reply-To: zly@evil.platform.pl\r\n",
    "Mail-Followup-To": b"Mail-Followup-To: ksiegowa@acme.pl\r\n",
    "Sender": b"Sender: sekretariat@acme.pl\r\n",
    "Content-Type": b'Content-Type: text/plain; charset="utf-7"\r\n',
    "Content-Transfer-Encoding": b"Content-Transfer-Encoding: quoted-printable\r\n",
    "MIME-Version": b"MIME-Version: 1.0\r\n",
}


@pytest.mark.parametrize("field", sorted(READ_BY))
def test_a_field_added_above_the_signed_message_is_uncovered(
    resolver: Resolver, field: str
) -> None:
    signed = signed_by_acme(make_message(subject="Faktura"))
    finding = check_raw(READ_BY[field] + signed, resolver)
    assert finding.result == "uncovered", finding.reason
    assert finding.evidence["uncovered"] == {field: 1}
    present = finding.evidence["present"][field]
    count = "" if present == 1 else f"topmost of the {present} "
    assert f"does not cover the {count}{field} header field" in finding.reason


def test_an_unsigned_content_type_is_uncovered(resolver: Resolver) -> None:
    raw = make_message(subject="Faktura")
    signature = dkim.sign(
        raw,
        b"rsa2048",
        b"acme.pl",
        (FIXTURES / "keys" / "rsa2048.pem").read_bytes(),
        include_headers=[b"from", b"to", b"subject", b"date", b"mime-version"],
    )
    finding = check_raw(signature + raw, resolver)
    assert finding.result == "uncovered"
    assert finding.evidence["uncovered"] == {"Content-Type": 1, "Content-Transfer-Encoding": 1}
    assert finding.reason == (
        "The DKIM signature of acme.pl does not cover the Content-Type header field (it is "
        "not in h=) or the Content-Transfer-Encoding header field (it is not in h=): anyone "
        "on the way may have added what it does not sign (RFC 6376 §5.4.2), and a mail "
        "client may show that instead of the signed one."
    )


@pytest.mark.parametrize(
    ("spf", "compared"),
    [
        pytest.param(spf_pass("acme.pl"), False, id="SPF passes From's domain"),
        pytest.param(spf_pass("bounce.acme.pl"), False, id="SPF passes a subdomain of it"),
        pytest.param(spf_pass("all.acme.pl", anyone_passes="+all"), True, id="SPF any host passes"),
        pytest.param(spf_pass("outside.example"), True, id="SPF passes another domain"),
        pytest.param(None, True, id="no SPF pass"),
    ],
)
def test_the_fields_a_reader_is_shown_are_compared_unless_from_s_own_server_handed_it_over(
    resolver: Resolver, spf: Finding | None, compared: bool
) -> None:
    # The server From's domain authorises vouches for every header it handed over.
    signed = signed_by_acme(make_message(subject="Faktura"))
    finding = check_raw(READ_BY["Reply-To"] + signed, resolver, spf)
    assert finding.result == ("uncovered" if compared else "pass"), finding.reason
    # From and Subject are compared either way.
    again = check_raw(b"Subject: Kod AuthInfo\r\n" + signed, resolver, spf)
    assert again.evidence["uncovered"] == {"Subject": 1}


@pytest.mark.parametrize(
    ("from_domain", "spf_domain", "own"),
    [
        ("acme.pl", "acme.pl", True),
        ("acme.pl", "mail.acme.pl", True),
        ("mail.acme.pl", "acme.pl", True),
        ("acme.platform.pl", "evil.platform.pl", False),
        ("acme.pl", "notacme.pl", False),
        ("acme.pl", "", False),
    ],
)
def test_own_server_means_within_from_s_domain(
    from_domain: str, spf_domain: str, own: bool
) -> None:
    context = CheckContext().with_earlier({"spf": spf_pass(spf_domain)})
    assert own_server_handed_over(context, from_domain) is own
