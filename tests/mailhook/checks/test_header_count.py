"""header-count: every header field RFC 5322 §3.6 allows once, counted."""

from __future__ import annotations

import pytest

from mailhook.checks import PIPELINE, registered
from mailhook.checks.header_count import RESULTS, SINGLE_FIELDS, check_header_count
from mailhook.message import Channel, Envelope, parse_message
from tests.mailhook.checks.header_support import run
from tests.support import make_message

NAME = "header-count"


def test_is_registered_and_in_the_pipeline() -> None:
    check = registered()[NAME]
    assert check.run is check_header_count
    assert check.results == (*RESULTS, "temperror", "error")
    assert RESULTS == ("pass", "fail")
    assert NAME in PIPELINE


def test_a_message_with_each_field_once_passes() -> None:
    finding = run(NAME, "reply-to-same-organisation")
    assert finding.result == "pass"
    assert finding.reason == (
        "No header field that RFC 5322 §3.6 allows once appears more than once."
    )


def test_a_subject_prepended_above_the_message_fails() -> None:
    finding = run(NAME, "subject-prepended-above-dkim-signed")
    assert finding.result == "fail"
    assert finding.reason == (
        "The message has 2 Subject header fields, where RFC 5322 §3.6 allows one of each; "
        "a mail client shows one instance and a reader may act on another."
    )
    assert finding.evidence["repeated"] == {"Subject": 2}


def test_repeats_are_counted_whatever_the_case_and_space_before_the_colon() -> None:
    finding = run(NAME, "to-and-reply-to-twice")
    assert finding.result == "fail"
    assert finding.reason.startswith("The message has 3 Reply-To, 2 To header fields,")


@pytest.mark.parametrize("field", SINGLE_FIELDS)
def test_every_field_allowed_once_is_counted(field: str) -> None:
    others = "".join(f"{name}: x\r\n" for name in SINGLE_FIELDS if name != field)
    raw = f"{field}: first\r\n{others}{field.upper()}: second\r\n\r\nbody\r\n".encode()
    finding = run(NAME, parse_message(raw, Envelope(), Channel.API))
    assert finding.result == "fail"
    assert finding.evidence["repeated"] == {field: 2}


def test_fields_rfc_5322_allows_many_times_are_not_counted() -> None:
    raw = (
        b"From: jan@acme.pl\r\nReceived: a\r\nReceived: b\r\nComments: one\r\nComments: two\r\n"
        b"Keywords: a\r\nKeywords: b\r\nResent-From: x@y.pl\r\nResent-From: z@y.pl\r\n\r\nbody\r\n"
    )
    assert run(NAME, parse_message(raw, Envelope(), Channel.API)).result == "pass"


@pytest.mark.parametrize("field", ["MIME-Version", "Content-Type", "Content-Transfer-Encoding"])
def test_a_second_mime_field_above_the_message_fails(field: str) -> None:
    # RFC 2045: once each. The standard library reads the topmost Content-Type, dkimpy
    # verifies the bottom-most (identity class 11).
    raw = f"{field}: x\r\n".encode() + make_message()
    finding = run(NAME, parse_message(raw, Envelope(), Channel.API))
    assert finding.result == "fail"
    assert finding.evidence["repeated"] == {field: 2}
    assert f"2 {field} header fields, where RFC 5322 and 2045 allows one of each" in (
        finding.reason
    )
