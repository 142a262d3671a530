"""message-id: exactly one Message-ID of the form <left@right>."""

from __future__ import annotations

from mailhook.checks import PIPELINE, registered
from mailhook.checks.message_id import check_message_id
from mailhook.message import Channel, Envelope, parse_message
from tests.mailhook.checks.header_support import run

NAME = "message-id"


def with_id(value: str) -> str:
    raw = f"From: jan@acme.pl\r\nMessage-ID: {value}\r\n\r\nbody\r\n".encode()
    return run(NAME, parse_message(raw, Envelope(), Channel.API)).result


def test_is_registered_and_in_the_pipeline() -> None:
    assert registered()[NAME].run is check_message_id
    assert NAME in PIPELINE


def test_a_well_formed_message_id_passes() -> None:
    finding = run(NAME, "reply-to-twice")
    assert finding.result == "pass"
    assert finding.reason == (
        "The message has one well-formed Message-ID, <reply-to-twice@test.example>."
    )


def test_a_missing_message_id_fails() -> None:
    finding = run(NAME, "missing-message-id")
    assert finding.result == "fail"
    assert finding.reason == (
        "The message has no Message-ID header; every mail program adds one, and without it a "
        "copy of the message sent again cannot be recognised."
    )


def test_two_message_ids_fail() -> None:
    finding = run(NAME, "message-id-twice")
    assert finding.result == "fail"
    assert finding.reason == "The message has 2 Message-ID headers; RFC 5322 allows one."


def test_a_malformed_message_id_fails_quoting_it() -> None:
    finding = run(NAME, "message-id-invalid")
    assert finding.result == "fail"
    assert finding.reason == (
        'The Message-ID "20261128100000.jan at acme.pl" is not of the form <left@right> that '
        "RFC 5322 §3.6.4 requires."
    )


def test_the_forms_rfc_5322_allows() -> None:
    assert with_id("<a.b-c+d@example.com>") == "pass"
    assert with_id("<abc@[127.0.0.1]>") == "pass"  # no-fold-literal
    assert with_id("<zażółć@żółw.pl>") == "pass"  # RFC 6532 UTF-8
    assert with_id("  <folded@x.example>  ") == "pass"
    for wrong in ("<no-at-sign>", "<a@b", "a@b", "<a..b@c>", "<a@b@c>", "<a b@c>", "<>"):
        assert with_id(wrong) == "fail", wrong
