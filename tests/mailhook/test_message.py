"""parse_message: the one canonical message, and reading its headers without crashing."""

from __future__ import annotations

import hashlib
from email import policy
from email.message import Message
from email.parser import BytesParser
from pathlib import Path

import pytest

from mailhook.errors import MailhookError, UnusableMessage
from mailhook.message import (
    Channel,
    Envelope,
    InboundMessage,
    _parse_bytes,
    header_values,
    parse_message,
)
from tests.support import FIXTURES, make_message

ENVELOPE = Envelope(client_ip="192.0.2.7", helo="mx.acme.pl", mail_from="jan@acme.pl")


def parse(raw: bytes) -> InboundMessage:
    return parse_message(raw, ENVELOPE, Channel.PIPE)


@pytest.mark.parametrize("raw", [b"", b"   ", b"\r\n\r\n", b"\n \t\n"], ids=repr)
def test_empty_input_is_unusable(raw: bytes) -> None:
    with pytest.raises(UnusableMessage, match="empty"):
        parse(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b"Prosze o kod AuthInfo dla acme.pl.\r\nJan\r\n",
        b"\r\nA body after an empty header section.\r\n",
        b"<html><body>Hello</body></html>",
    ],
    ids=["text only", "body only", "html"],
)
def test_input_without_a_header_section_is_unusable(raw: bytes) -> None:
    with pytest.raises(UnusableMessage, match="no RFC 5322 header section"):
        parse(raw)


def test_unusable_message_belongs_to_the_mailhook_error_tree() -> None:
    assert issubclass(UnusableMessage, MailhookError)


def test_keeps_raw_bytes_envelope_and_channel() -> None:
    raw = make_message()
    message = parse_message(raw, ENVELOPE, Channel.SMTP)
    assert message.raw == raw
    assert message.envelope == ENVELOPE
    assert message.channel is Channel.SMTP
    assert message.parsed["To"] == "support@hosting.example"


def test_sha256_is_the_digest_of_the_raw_bytes() -> None:
    raw = make_message()
    assert parse(raw).sha256 == hashlib.sha256(raw).hexdigest()
    assert parse(raw + b"\r\n").sha256 != parse(raw).sha256


def test_message_id_is_the_first_one_stripped() -> None:
    raw = b"From: a@acme.pl\r\nMessage-ID:   <one@acme.pl>  \r\nMessage-ID: <two@acme.pl>\r\n\r\nx"
    assert parse(raw).message_id == "<one@acme.pl>"


def test_message_id_is_none_when_absent_or_empty() -> None:
    assert parse(b"From: jan@acme.pl\r\n\r\nx").message_id is None
    assert parse(b"From: jan@acme.pl\r\nMessage-ID:\r\n\r\nx").message_id is None


def test_a_folded_message_id_is_read_on_one_line() -> None:
    raw = b"From: jan@acme.pl\r\nMessage-ID:\r\n <folded@acme.pl>\r\n\r\nx"
    assert parse(raw).message_id == "<folded@acme.pl>"


def test_message_id_is_cut_to_the_line_length_limit() -> None:
    raw = b"From: jan@acme.pl\r\nMessage-ID: <" + b"a" * 2000 + b"@acme.pl>\r\n\r\nx"
    message_id = parse(raw).message_id
    assert message_id is not None
    assert len(message_id) == 998
    assert message_id.startswith("<aaa")


def test_header_values_returns_every_value_case_insensitively() -> None:
    raw = b"From: jan@acme.pl\r\nReceived: one\r\nRECEIVED: two\r\nreceived: three\r\n\r\nx"
    assert header_values(parse(raw).parsed, "Received") == ["one", "two", "three"]
    assert header_values(parse(raw).parsed, "X-Absent") == []


def test_header_values_decodes_encoded_words() -> None:
    raw = b"From: jan@acme.pl\r\nSubject: =?utf-8?q?Zmiana_adresu_=C5=82=C3=B3d=C5=BA?=\r\n\r\nx"
    assert header_values(parse(raw).parsed, "Subject") == ["Zmiana adresu łódź"]


def test_header_values_reads_raw_utf8_headers() -> None:
    raw = "From: jan@acme.pl\r\nSubject: Zażółć gęślą jaźń\r\n\r\nx".encode()
    assert header_values(parse(raw).parsed, "Subject") == ["Zażółć gęślą jaźń"]


def test_header_values_tolerates_a_header_the_parser_raises_on() -> None:
    # The standard library raises on "jan@" in an address header; the raw value is
    # kept as evidence instead.
    raw = b"From: jan@\r\nSubject: x\r\n\r\nbody"
    assert header_values(parse(raw).parsed, "From") == ["jan@"]


@pytest.mark.parametrize(
    "value",
    [
        b"=?utf-8?b?!!!not-base64?= tail",
        b"=?x-no-such-charset?q?abc?=",
        b"=?utf-8?q?unterminated",
        "Łódź".encode("iso-8859-2"),
        b"\xff\xfe\x00",
    ],
    ids=["bad base64", "unknown charset", "unterminated", "8-bit latin-2", "garbage bytes"],
)
def test_header_values_tolerates_broken_encodings(value: bytes) -> None:
    raw = b"From: jan@acme.pl\r\nSubject: " + value + b"\r\nMessage-ID: " + value + b"\r\n\r\nx"
    message = parse(raw)
    (subject,) = header_values(message.parsed, "Subject")
    assert isinstance(subject, str)
    assert message.message_id is None or isinstance(message.message_id, str)


@pytest.mark.parametrize(
    ("preamble", "parts_parsed"),
    [
        (b"x BOUNDARY=y\r\n" * 100, False),
        (b"message/RFC822\r\n" * 100, False),
        (b"boundary=y\r\n" * 99, True),
        # "boundary" without "=": over the limit by the quick bound, not by the exact count.
        (b"a boundary word\r\n" * 150, True),
    ],
    ids=["101 boundaries any case", "101 encapsulated", "100 is the limit", "word only"],
)
def test_more_nested_parts_than_the_limit_leave_the_body_unparsed(
    preamble: bytes, parts_parsed: bool
) -> None:
    raw = (
        b"From: jan@acme.pl\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        + preamble
        + b"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\n"
    )
    assert parse(raw).parsed.is_multipart() is parts_parsed


def test_a_header_is_parsed_once_per_message() -> None:
    raw = b"From: Jan <jan@acme.pl>\r\nTo: a@b.pl\r\nSubject: x\r\n\r\nbody"
    first, second = parse(raw).parsed, parse(raw).parsed
    assert first["From"] is first["From"]
    assert first["From"].addresses[0].addr_spec == "jan@acme.pl"
    # Each message keeps its own: nothing parsed for one is handed to another.
    assert first["From"] is not second["From"]
    assert first["From"] == second["From"]


def test_header_classes_are_made_once_per_name() -> None:
    raw = b"From: Jan <jan@acme.pl>\r\nTo: a@b.pl\r\nX-A: 1\r\nX-B: 2\r\n\r\nbody"
    first, second = parse(raw).parsed, parse(raw).parsed
    assert type(first["From"]) is type(second["From"])
    assert type(first["X-A"]) is type(second["x-a"])
    assert type(first["X-A"]) is not type(first["X-B"])


@pytest.mark.parametrize("path", sorted((FIXTURES / "mail").glob("*.eml")), ids=lambda p: p.name)
def test_headers_read_as_the_stock_policy_reads_them(path: Path) -> None:
    # The header classes are made once; every header must read as one made afresh.
    raw = path.read_bytes()
    ours = parse(raw).parsed
    stock = BytesParser(policy=policy.default).parsebytes(raw)
    for part, expected in zip(ours.walk(), stock.walk(), strict=True):
        assert _headers_read(part) == _headers_read(expected)


def _headers_read(part: Message) -> list[object]:
    """Each header as its policy reads it: class bases, text and defects, or the error."""
    read: list[object] = []
    for name, raw in part.raw_items():
        try:
            value = part.policy.header_fetch_parse(name, raw)  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - a broken header must break both alike
            read.append(repr(exc))
            continue
        read.append((type(value).__mro__[1:], str(value), repr(value.defects)))
    return read


def _tree(message: Message) -> list[tuple[object, ...]]:
    """Everything a parse produced, part by part, to compare two parses."""
    return [
        (
            list(part.raw_items()),
            part.get_unixfrom(),
            part.preamble,
            part.epilogue,
            [repr(defect) for defect in part.defects],
            None if part.is_multipart() else part.get_payload(),
        )
        for part in message.walk()
    ]


_MULTIPART = (
    b"From: jan@acme.pl\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="b"\r\n\r\npreamble\r\n--b\r\n'
    b"Content-Type: text/plain; charset=iso-8859-2\r\n\r\n"
    + b"za\xbf\xf3\xb3\xe6 g\xea\x9cl\xb9 ja\x9f\xf1\r\n" * 700
    + b"--b\r\nContent-Type: message/rfc822\r\n\r\nFrom: x@y.pl\r\n\r\nin\r\n--b--\r\nepilogue"
)


@pytest.mark.parametrize(
    "raw",
    [
        *(path.read_bytes() for path in sorted((FIXTURES / "mail").glob("*.eml"))),
        _MULTIPART,
        # CRLF, a boundary and a header split across the 8192-byte pieces parse_message feeds.
        *(b"X" * (8192 - n) + b"\r\n" + _MULTIPART for n in (0, 1, 2, 3, 20, 30)),
        b"From: a@b.pl\r\nX: " + b"y" * 8190 + b"\r\n folded\r\n\r\n" + b"\xff\x00\r" * 9000,
    ],
)
@pytest.mark.parametrize("headers_only", [False, True])
def test_parsing_in_pieces_gives_what_the_bytes_parser_gives(
    raw: bytes, headers_only: bool
) -> None:
    # parse_message feeds the parser piece by piece to save memory: nothing else may change.
    expected = BytesParser(policy=policy.default).parsebytes(raw, headersonly=headers_only)
    parsed = _parse_bytes(raw, headers_only)
    assert _tree(parsed) == _tree(expected)
    assert _generated(parsed) == _generated(expected)


def _generated(message: Message) -> bytes | str:
    try:
        return message.as_bytes()
    except UnicodeError as exc:  # an unparsed 8-bit body is not generated back
        return repr(exc)
