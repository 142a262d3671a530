"""sender-headers: Sender and Reply-To in the organisation of the From domain."""

from __future__ import annotations

import pytest

from mailhook.checks import PIPELINE, registered
from mailhook.checks.sender_headers import check_sender_headers
from mailhook.message import Channel, Envelope, parse_message
from tests.mailhook.checks.header_support import run
from tests.support import make_message

NAME = "sender-headers"


def test_is_registered_and_runs_after_from_mailbox() -> None:
    assert registered()[NAME].run is check_sender_headers
    assert PIPELINE.index(NAME) > PIPELINE.index("from-mailbox")


def test_no_sender_or_reply_to_passes() -> None:
    finding = run(NAME, parse_message(make_message(), Envelope(), Channel.API))
    assert finding.result == "pass"
    assert (
        finding.reason == "There is no Sender or Reply-To header; replies go to the From address."
    )


def test_a_reply_to_in_a_subdomain_of_the_same_organisation_passes() -> None:
    finding = run(NAME, "reply-to-same-organisation")
    assert finding.result == "pass"
    assert finding.reason == "Reply-To is in the From domain's organisation acme.pl."


def test_a_reply_to_a_free_mailbox_fails_saying_where_replies_go() -> None:
    finding = run(NAME, "reply-to-freemail")
    assert finding.result == "fail"
    assert finding.reason == (
        "Reply-To points to jan.kowalski.acme@gmail.com (a free mailbox at gmail.com), outside "
        "the From domain's organisation acme.pl: replies would go to someone else."
    )


def test_a_sender_in_another_organisation_fails() -> None:
    finding = run(NAME, "sender-other-organisation")
    assert finding.result == "fail"
    assert finding.reason == (
        "Sender points to owner-klienci@lists.example, outside the From domain's organisation "
        "acme.pl: someone else handed the message over for the author."
    )


def test_two_reply_to_headers_fail() -> None:
    # RFC 5322 §3.6: at most one Reply-To.
    finding = run(NAME, "reply-to-twice")
    assert finding.result == "fail"
    assert finding.reason == "The message has 2 Reply-To headers; one is allowed."


def test_both_headers_pointing_elsewhere_are_both_named() -> None:
    raw = make_message(
        sender="jan@acme.pl", Sender="bot@mailer.example", Reply_To="a@x.example, b@acme.pl"
    )
    finding = run(NAME, parse_message(raw, Envelope(), Channel.API))
    assert finding.result == "fail"
    assert finding.reason == (
        "Sender points to bot@mailer.example, outside the From domain's organisation acme.pl: "
        "someone else handed the message over for the author. Reply-To points to a@x.example, "
        "outside the From domain's organisation acme.pl: replies would go to someone else."
    )


def test_organisations_come_from_the_public_suffix_list() -> None:
    # shop.com.pl and other.com.pl share only the public suffix com.pl.
    raw = make_message(sender="biuro@shop.com.pl", Reply_To="biuro@other.com.pl")
    finding = run(NAME, parse_message(raw, Envelope(), Channel.API))
    assert finding.result == "fail"
    assert "outside the From domain's organisation shop.com.pl" in finding.reason


def test_a_reply_to_that_is_no_address_fails() -> None:
    for value in ("<<<@@@", "jan"):
        raw = f"From: jan@acme.pl\r\nReply-To: {value}\r\nSubject: x\r\n\r\nbody\r\n".encode()
        finding = run(NAME, parse_message(raw, Envelope(), Channel.API))
        assert finding.result == "fail"
        assert finding.reason == f"The Reply-To header ({value}) is not a valid address."


def test_an_empty_reply_to_counts_as_none() -> None:
    raw = b"From: jan@acme.pl\r\nReply-To: undisclosed:;\r\nSubject: x\r\n\r\nbody\r\n"
    finding = run(NAME, parse_message(raw, Envelope(), Channel.API))
    assert finding.result == "pass"
    assert (
        finding.reason == "There is no Sender or Reply-To header; replies go to the From address."
    )


def test_without_a_usable_from_there_is_nothing_to_compare() -> None:
    finding = run(NAME, "two-from-headers")
    assert finding.result == "none"
    assert finding.reason == "Sender and Reply-To cannot be compared: From has no usable address."


def test_a_reply_to_too_long_to_be_real_is_not_parsed() -> None:
    raw = make_message(sender="jan@acme.pl", Reply_To=", ".join(["a@x.example"] * 2_000))
    finding = run(NAME, parse_message(raw, Envelope(), Channel.API))
    assert finding.result == "fail"
    assert finding.reason == (
        "The Reply-To header is 26 KB long, far longer than any list of addresses a mail "
        "program writes."
    )


@pytest.mark.parametrize(
    ("header", "consequence"),
    [
        ("Resent-From", "someone else handed the message on"),
        ("Resent-Sender", "someone else handed the message on"),
        ("Mail-Reply-To", "replies would go to someone else"),
        ("Mail-Followup-To", "replies would go to someone else"),
        ("Disposition-Notification-To", "read receipts would go to someone else"),
        ("Return-Receipt-To", "receipts would go to someone else"),
    ],
)
def test_every_header_that_sends_answers_elsewhere_fails(header: str, consequence: str) -> None:
    """A signed message replayed with one of these added would have the desk answer, or
    acknowledge to, the attacker."""
    raw = f"{header}: Someone <someone@example.org>\r\n".encode() + make_message()
    finding = run(NAME, parse_message(raw, Envelope(), Channel.API))
    assert finding.result == "fail"
    assert finding.reason == (
        f"{header} points to someone@example.org, outside the From domain's organisation "
        f"acme.pl: {consequence}."
    )


@pytest.mark.parametrize("header", ["Mail-Followup-To", "Disposition-Notification-To"])
def test_the_same_headers_inside_the_organisation_pass(header: str) -> None:
    raw = f"{header}: Jan <jan@acme.pl>\r\n".encode() + make_message()
    assert run(NAME, parse_message(raw, Envelope(), Channel.API)).result == "pass"
