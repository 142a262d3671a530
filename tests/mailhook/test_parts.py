"""The parts of a message a person may open: which are read, how each is decoded."""

from __future__ import annotations

import base64
import quopri
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailhook import parts
from mailhook.message import MAX_NESTED_PARTS, Channel, Envelope, parse_message
from mailhook.parts import MAX_PARTS, message_parts


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


@pytest.mark.parametrize("charset", ["x-no-such-charset", "idna", "undefined"])
def test_text_in_an_unknown_charset_that_is_not_utf8_cannot_be_read(charset: str) -> None:
    # Read as UTF-8 with replacement characters it passed as read: a client shows such
    # bytes its own way, so what was checked need not be what the agent sees.
    message = single_part(POLISH.encode("windows-1250"), f"text/plain; charset={charset}")
    (part,) = message_parts(message).parts
    assert part.text is None
    assert part.problem == f"text in a charset that cannot be read ({charset!r})"


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


def labelled(message: EmailMessage) -> list[tuple[str, bool, str | None]]:
    return [(p.label, p.attached, p.text) for p in message_parts(message).parts]


def test_an_attached_message_is_read_with_its_subject_as_an_attachment() -> None:
    inner = EmailMessage()
    inner["Subject"] = "Transfer"
    inner.set_content("kod AuthInfo\n")
    message = EmailMessage()
    message["From"] = "jan@acme.pl"
    message.set_content("Zobacz.\n")
    message.add_attachment(inner)
    assert labelled(parse(message.as_bytes())) == [
        ("1 text/plain", False, "Zobacz.\n"),
        ("2 attachment (message/rfc822)", True, "Transfer"),
        ("3 attachment (text/plain)", True, "kod AuthInfo\n"),
    ]


def test_a_named_inline_text_part_is_an_attachment() -> None:
    message = EmailMessage()
    message["From"] = "jan@acme.pl"
    message.set_content("Zobacz.\n")
    message.add_attachment("kod\n", disposition="inline", filename="notatka.txt")
    assert labelled(parse(message.as_bytes()))[1] == (
        "2 attachment notatka.txt (text/plain)",
        True,
        "kod\n",
    )


def test_signatures_are_not_parts_to_read() -> None:
    message = EmailMessage()
    message["From"] = "jan@acme.pl"
    message.set_content("Podpisane.\n")
    message.add_attachment(b"sig", maintype="application", subtype="pkcs7-signature")
    assert labelled(parse(message.as_bytes())) == [("1 text/plain", False, "Podpisane.\n")]


def test_parts_nested_past_the_parse_limit_cannot_be_read() -> None:
    nested = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(MAX_NESTED_PARTS + 1)
    )
    message = parse(b"From: jan@acme.pl\r\nMIME-Version: 1.0\r\n" + nested + b"x\r\n")
    (part,) = message_parts(message).parts
    assert (part.text, part.problem) == (None, "its parts were not parsed")


def test_more_parts_than_the_limit_are_cut() -> None:
    message = EmailMessage()
    message["From"] = "jan@acme.pl"
    message.set_content("a\n")
    for _ in range(MAX_PARTS + 5):
        message.add_attachment("b\n", filename="b.txt")
    found = message_parts(parse(message.as_bytes()))
    assert found.cut and len(found.parts) == MAX_PARTS


@pytest.mark.parametrize(
    ("parameters", "text"),
    [
        pytest.param("; format=flowed; delsp=yes", "kod AuthInfo i transfer\r\n", id="delsp"),
        pytest.param("; format=flowed", "kod Auth Info i trans fer\r\n", id="flowed"),
        pytest.param("", "kod Auth \r\nInfo i trans \r\nfer\r\n", id="fixed"),
    ],
)
def test_flowed_text_is_read_as_a_client_joins_it(parameters: str, text: str) -> None:
    # RFC 3676: a line ending in a space is continued by the next one.
    body = b"kod Auth \r\nInfo i trans \r\nfer\r\n"
    assert first_text(single_part(body, "text/plain; charset=utf-8" + parameters)) == text


def test_a_part_that_breaks_the_reader_is_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(text: str) -> None:
        raise ValueError("no")

    monkeypatch.setattr(parts, "render_html", broken)
    message = single_part(b"<p>x</p>", "text/html; charset=utf-8")
    (part,) = message_parts(message).parts
    assert (part.text, part.problem) == (None, "malformed part")


@pytest.mark.parametrize(
    ("charset", "payload"),
    [
        pytest.param("utf-16", "kod AuthInfo".encode("utf-16-be"), id="utf-16 without a BOM"),
        pytest.param("utf-16", "kod AuthInfo".encode("utf-16"), id="utf-16 with a BOM"),
        pytest.param("utf-32", "kod AuthInfo".encode("utf-32-be"), id="utf-32 without a BOM"),
    ],
)
def test_utf16_without_a_byte_order_mark_is_read_big_endian(charset: str, payload: bytes) -> None:
    # RFC 2781 §4.3: without a BOM, UTF-16 is big-endian; a client shows it so.
    raw = (
        f"From: a@example.com\r\nContent-Type: text/plain; charset={charset}\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode() + base64.encodebytes(payload)
    assert message_parts(parse(raw)).parts[0].text == "kod AuthInfo"


@pytest.mark.parametrize("label", ["", "; charset=us-ascii", "; charset=utf-8"])
def test_a_utf16_byte_order_mark_under_another_charset_is_read_as_utf16(label: str) -> None:
    # Clients that sniff the mark show the text in it: read so, not as bytes with NULs.
    raw = (
        f"From: a@example.com\r\nContent-Type: text/plain{label}\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode() + base64.encodebytes("kod AuthInfo".encode("utf-16"))
    assert message_parts(parse(raw)).parts[0].text == "kod AuthInfo"


def test_a_part_with_two_content_types_is_not_read() -> None:
    raw = (
        b"From: a@example.com\r\nContent-Type: text/plain\r\nContent-Type: text/html\r\n\r\n"
        b"kod Auth<b></b>Info\r\n"
    )
    found = message_parts(parse(raw)).parts[0]
    assert found.text is None
    assert found.problem == "Content-Type given more than once"


def test_text_enriched_is_read_as_a_client_draws_it() -> None:
    raw = (
        b"From: a@example.com\r\nContent-Type: text/enriched\r\n\r\n"
        b"kod Auth<bold>Info</bold>\r\n<param>x</param>dla <<acme>\r\n\r\nkoniec\r\n"
    )
    assert message_parts(parse(raw)).parts[0].text == "kod AuthInfo dla <acme>\nkoniec "


@pytest.mark.parametrize(
    ("content_type", "problem"),
    [
        pytest.param(
            "text/plain; charset=utf-16; charset=utf-8",
            "Content-Type parameter charset given more than once",
            id="a repeated charset",
        ),
        pytest.param(
            "text/html(a comment)", "Content-Type 'text/html' not understood", id="a comment"
        ),
    ],
)
def test_a_content_type_a_client_may_read_otherwise_is_not_read(
    content_type: str, problem: str
) -> None:
    raw = f"From: a@example.com\r\nContent-Type: {content_type}\r\n\r\nkod AuthInfo\r\n"
    found = message_parts(parse(raw.encode())).parts[0]
    assert (found.text, found.problem) == (None, problem)


def test_icalendar_lines_are_unfolded_and_unescaped() -> None:
    raw = (
        b"From: a@example.com\r\nContent-Type: text/calendar\r\n\r\n"
        b"BEGIN:VEVENT\r\nDESCRIPTION:DNS dla be\r\n ta.pl\\, kod Auth\r\n\tInfo\\nkoniec\r\n"
        b"END:VEVENT\r\n"
    )
    text = message_parts(parse(raw)).parts[0].text
    assert text is not None
    assert "DESCRIPTION:DNS dla beta.pl, kod AuthInfo\nkoniec\r\n" in text


CONTROLS_AND_NEIGHBOURS = [chr(c) for c in (*range(0x00, 0x21), 0x7E, 0x7F, 0x80, 0x9F, 0xA0)]


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(
    st.text(st.sampled_from([*CONTROLS_AND_NEIGHBOURS, "a", "ż", "€", "😀"]), max_size=40),
    st.sampled_from(["", "ż", "😀"]),
)
def test_controls_are_told_as_the_pattern_tells_them(text: str, widen: str) -> None:
    # The same answer whether the string stores one, two or four bytes a character.
    for shown in (text, text + widen, widen + text):
        assert parts.holds_controls(shown) == (parts._CONTROLS.search(shown) is not None)


@pytest.mark.parametrize("code", [*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F])
def test_each_control_is_held_in_a_long_text_of_each_width(code: int) -> None:
    for filler in ("faktura ", "zamówienie ", "termin 😀 "):
        long_text = filler * 20_000
        assert not parts.holds_controls(long_text)
        assert parts.holds_controls(long_text + chr(code) + filler)


@pytest.mark.parametrize("content_type", ["message/external-body", "message/partial"])
def test_a_part_whose_content_is_elsewhere_is_not_read(content_type: str) -> None:
    message = single_part(b"Content-Type: text/plain\r\n\r\nkod AuthInfo\r\n", content_type)
    (part,) = message_parts(message).parts
    assert (part.text, part.problem) == (None, "its content is elsewhere")
