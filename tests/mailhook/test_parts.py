"""The parts of a message a person may open: which are read, how each is decoded."""

from __future__ import annotations

import base64
import quopri
from email.message import EmailMessage

import pytest

from mailhook.message import Channel, Envelope, parse_message
from mailhook.parts import message_parts


def parse(raw: bytes) -> EmailMessage:
    return parse_message(raw, Envelope(), Channel.PIPE).parsed


def first_text(message: EmailMessage) -> str:
    """The text of the first part read, as the old single-part reader gave it."""
    texts = [part.text for part in message_parts(message).parts if part.text is not None]
    return texts[0] if texts else ""


POLISH = "Zażółć gęślą jaźń. ŁÓDŹ, Śląsk, Żółw"


def single_part(body: bytes, content_type: str, encoding: str = "8bit") -> EmailMessage:
    headers = (
        "From: jan@acme.pl\r\nSubject: test\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n"
    )
    return parse(headers.encode() + body)


def encoded(text: str, charset: str, encoding: str) -> bytes:
    data = text.encode(charset)
    if encoding == "quoted-printable":
        return quopri.encodestring(data)
    if encoding == "base64":
        return base64.encodebytes(data)
    return data


def test_both_alternatives_are_read_as_one_group() -> None:
    # Formerly only text/plain was read: the HTML alternative is what many clients show.
    message = EmailMessage()
    message["From"] = "jan@acme.pl"
    message.set_content("<p>the HTML part</p>", subtype="html")
    message.add_alternative("the plain part\n", subtype="plain")
    parts = message_parts(parse(message.as_bytes())).parts
    assert [(p.label, (p.text or "").strip(), p.alternative) for p in parts] == [
        ("1 text/html", "the HTML part", (1, 0)),
        ("2 text/plain", "the plain part", (1, 1)),
    ]


@pytest.mark.parametrize("charset", ["iso-8859-2", "windows-1250"])
@pytest.mark.parametrize("encoding", ["8bit", "quoted-printable", "base64"])
def test_decodes_polish_bodies_in_legacy_charsets(charset: str, encoding: str) -> None:
    body = encoded(POLISH + "\n", charset, encoding)
    message = single_part(body, f"text/plain; charset={charset}", encoding)
    assert first_text(message).strip() == POLISH


def test_the_two_polish_charsets_differ_where_it_matters() -> None:
    # ą, ś and ź sit at different bytes in ISO-8859-2 and Windows-1250; reading one as
    # the other would garble exactly the letters the catalogue folds.
    assert "ąśź".encode("iso-8859-2") != "ąśź".encode("windows-1250")
    body = "ąśź".encode("windows-1250")
    assert first_text(single_part(body, "text/plain; charset=windows-1250")).strip() == "ąśź"


def test_utf8_without_a_declared_charset_is_read_as_utf8() -> None:
    raw = b"From: jan@acme.pl\r\nSubject: x\r\n\r\n" + POLISH.encode()
    assert first_text(parse(raw)).strip() == POLISH


@pytest.mark.parametrize("charset", ["x-no-such-charset", "idna", "undefined", "base64", ""])
def test_an_unknown_or_unusable_charset_does_not_crash(charset: str) -> None:
    message = single_part(POLISH.encode(), f"text/plain; charset={charset}")
    assert first_text(message).strip() == POLISH


def test_bytes_that_are_not_the_declared_charset_are_replaced_not_fatal() -> None:
    message = single_part("Łódź".encode("iso-8859-2"), "text/plain; charset=utf-8")
    text = first_text(message)
    assert "\ufffd" in text
    assert text.strip().endswith("d\ufffd")


def test_broken_base64_is_a_part_that_cannot_be_read() -> None:
    message = single_part(b"!!!not base64 at all***", "text/plain; charset=utf-8", "base64")
    (part,) = message_parts(message).parts
    assert (part.text, part.problem) == (None, "broken base64")


def test_a_message_with_only_an_attachment_has_no_first_text() -> None:
    message = EmailMessage()
    message["From"] = "jan@acme.pl"
    message.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="f.pdf")
    assert first_text(parse(message.as_bytes())) == ""
