"""addressed-to: mail only DKIM authenticates names the desk, else it may be sent on."""

from __future__ import annotations

import pytest

from mailhook.checks import PIPELINE, registered
from mailhook.checks.addressed_to import check_addressed_to
from mailhook.context import CheckContext, TrustConfig
from mailhook.findings import Finding
from mailhook.message import Channel, Envelope, parse_message
from tests.support import make_message

DESK = "support@hosting.example"
# DMARC passed for acme.pl through its DKIM signature (the dmarc check's evidence).
DMARC_PASS = Finding(
    "dmarc", "pass", "", evidence={"from_domain": "acme.pl", "aspf": None, "via": "dkim"}
)


# acme.pl's signature verified, signing one To and one Cc (the dkim check's evidence).
SIGNED = Finding(
    "dkim",
    "pass",
    "",
    evidence={
        "signatures": [{"d": "acme.pl", "result": "pass", "h": ["from", "to", "cc", "subject"]}]
    },
)


def spf(result: str, domain: str) -> Finding:
    return Finding(
        "spf", result, "", evidence={"result": result, "domain": domain, "identity": "mailfrom"}
    )


def check(
    raw: bytes,
    *earlier: Finding,
    rcpt: tuple[str, ...] = (DESK,),
    mail_from: str = "jan@acme.pl",
) -> Finding:
    message = parse_message(raw, Envelope(mail_from=mail_from, rcpt=rcpt), Channel.SMTP)
    context = CheckContext().with_earlier({f.name: f for f in (SIGNED, *earlier)})
    return check_addressed_to(message, context)


def written_to(to: str, **headers: str) -> bytes:
    raw = make_message(**headers)
    return raw.replace(f"To: {DESK}".encode(), f"To: {to}".encode(), 1)


def test_is_registered_and_runs_after_dmarc() -> None:
    assert registered()["addressed-to"].run is check_addressed_to
    assert PIPELINE.index("dmarc") < PIPELINE.index("addressed-to")


def test_a_signed_message_written_to_someone_else_is_elsewhere() -> None:
    finding = check(written_to("biuro@agencja.pl"), DMARC_PASS, spf("fail", "acme.pl"))
    assert finding.result == "elsewhere"
    assert finding.reason == (
        "Only a signature authenticates the message (no aligned SPF), and the To and Cc it "
        "covers name agencja.pl, not the desk (hosting.example): the author may have written "
        "it to someone else, who sent the signed message on to us (RFC 6376 §8.6)."
    )


@pytest.mark.parametrize(
    ("to", "cc"),
    [
        (DESK, None),
        ("domeny@hosting.example", None),
        ("biuro@agencja.pl", DESK),
        ("Biuro <biuro@agencja.pl>, Dział obsługi <support@HOSTING.example>", None),
    ],
    ids=["to the desk", "to another desk address", "the desk in Cc", "the desk among several"],
)
def test_a_signed_message_naming_the_desk_passes(to: str, cc: str | None) -> None:
    raw = written_to(to, Cc=cc) if cc else written_to(to)
    finding = check(raw, DMARC_PASS, spf("fail", "acme.pl"))
    assert finding.result == "pass"
    assert finding.reason == (
        "The message names the desk's organisation hosting.example as recipient."
    )


def test_a_bcc_from_the_senders_own_server_passes() -> None:
    # SPF aligns: the author's server handed it over, so a Bcc is the author's choice.
    finding = check(written_to("biuro@agencja.pl"), DMARC_PASS, spf("pass", "acme.pl"))
    assert finding.result == "pass"
    assert finding.reason == "SPF authenticates the sending server for acme.pl itself."


def test_strict_spf_alignment_is_the_dmarc_records() -> None:
    strict = Finding(
        "dmarc", "pass", "", evidence={"from_domain": "acme.pl", "aspf": "s", "via": "dkim"}
    )
    raw = written_to("biuro@agencja.pl")
    finding = check(raw, strict, spf("pass", "bounce.acme.pl"), mail_from="b@bounce.acme.pl")
    assert finding.result == "elsewhere"


def test_mail_that_does_not_authenticate_is_none() -> None:
    failed = Finding("dmarc", "reject", "", evidence={"from_domain": "acme.pl"})
    finding = check(written_to("biuro@agencja.pl"), failed, spf("fail", "acme.pl"))
    assert finding.result == "none"
    assert finding.reason == "The From domain does not authenticate the message."


def test_without_an_envelope_recipient_the_desk_is_not_known() -> None:
    # Fail closed: a REST caller giving no rcpt, no desk domain configured.
    finding = check(written_to("biuro@agencja.pl"), DMARC_PASS, spf("fail", "acme.pl"), rcpt=())
    assert finding.result == "unknown-desk"
    assert "whether it was written to the desk cannot be told" in finding.reason


def test_without_an_envelope_recipient_aligned_spf_still_passes() -> None:
    raw = written_to("biuro@agencja.pl")
    finding = check(raw, DMARC_PASS, spf("pass", "acme.pl"), mail_from="jan@acme.pl", rcpt=())
    assert finding.result == "pass"


def test_the_configured_desk_domains_count_as_the_desk() -> None:
    # The desk's public address (PROVIDER_DOMAINS, INTAKE_RECIPIENTS) where the mail server
    # hands the message to another address, or a REST caller gives none.
    message = parse_message(written_to(DESK), Envelope(rcpt=("intake@localhost",)), Channel.PIPE)
    trust = TrustConfig(desk_domains=frozenset({"hosting.example"}))
    earlier = {f.name: f for f in (SIGNED, DMARC_PASS, spf("fail", "acme.pl"))}
    context = CheckContext(trust=trust).with_earlier(earlier)
    assert check_addressed_to(message, context).result == "pass"
    assert check_addressed_to(message, CheckContext().with_earlier(earlier)).result == "elsewhere"


def test_no_recipient_header_at_all_is_elsewhere() -> None:
    raw = written_to(DESK).replace(f"To: {DESK}\r\n".encode(), b"", 1)
    finding = check(raw, DMARC_PASS, spf("fail", "acme.pl"))
    assert finding.result == "elsewhere"
    assert "the To and Cc it covers name nobody" in finding.reason


def test_a_cc_to_the_desk_added_above_the_signed_one_is_not_counted() -> None:
    # The signature signs one Cc, the bottom one; the desk in a second Cc on top was
    # added by whoever sent the signed message on.
    raw = f"Cc: {DESK}\r\n".encode() + written_to("biuro@agencja.pl", Cc="kto@agencja.pl")
    finding = check(raw, DMARC_PASS, spf("fail", "acme.pl"))
    assert finding.result == "elsewhere"


def test_a_to_the_signature_does_not_sign_is_not_counted() -> None:
    unsigned_to = Finding(
        "dkim",
        "pass",
        "",
        evidence={"signatures": [{"d": "acme.pl", "result": "pass", "h": ["from"]}]},
    )
    finding = check(written_to(DESK), DMARC_PASS, spf("fail", "acme.pl"), unsigned_to)
    assert finding.result == "elsewhere"


def test_a_trusted_forwarders_word_covers_every_recipient_header() -> None:
    rescued = Finding("dmarc", "pass", "", evidence={"from_domain": "acme.pl", "via": "arc"})
    unsigned_to = Finding("dkim", "fail", "", evidence={"signatures": []})
    finding = check(written_to(DESK), rescued, spf("fail", "lists.example"), unsigned_to)
    assert finding.result == "pass"


# acme.pl's signature signing To but no Cc (a Cc in h= would sign its absence too).
NO_CC = Finding(
    "dkim",
    "pass",
    "",
    evidence={"signatures": [{"d": "acme.pl", "result": "pass", "h": ["from", "to", "subject"]}]},
)


def test_a_cc_outside_both_organisations_added_above_the_signature_is_unsigned() -> None:
    raw = b"Cc: kto@gmail.com\r\n" + written_to(DESK)
    finding = check(raw, DMARC_PASS, spf("fail", "acme.pl"), NO_CC)
    assert finding.result == "unsigned"
    assert finding.reason == (
        "A To or Cc the authenticating signature does not cover names gmail.com: whoever "
        "sent the message on may have added it, and a reply to all would reach them "
        "(RFC 6376 §5.4.2)."
    )


@pytest.mark.parametrize("cc", ["ksiegowosc@acme.pl", "domeny@hosting.example"])
def test_an_unsigned_cc_in_the_senders_or_the_desks_domain_passes(cc: str) -> None:
    raw = f"Cc: {cc}\r\n".encode() + written_to(DESK)
    assert check(raw, DMARC_PASS, spf("fail", "acme.pl"), NO_CC).result == "pass"
