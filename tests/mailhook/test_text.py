"""Readable text of a message: which part is read, how it is decoded, how it is folded."""

from __future__ import annotations

import base64
import quopri
import string
from email import policy
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailhook.message import Channel, Envelope, parse_message
from mailhook.text import (
    _ATTRIBUTION_ENDS,
    _ATTRIBUTION_STARTS,
    _FROM_HEADERS,
    _SENT_HEADERS,
    _SEPARATORS,
    _may_end_text,
    body_text,
    fold,
    html_to_text,
    lines,
    subject,
    without_quotes,
)

POLISH = "Zażółć gęślą jaźń. ŁÓDŹ, Śląsk, Żółw"


def parse(raw: bytes) -> EmailMessage:
    return parse_message(raw, Envelope(), Channel.PIPE).parsed


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


def test_prefers_text_plain_over_html() -> None:
    message = EmailMessage()
    message["From"] = "jan@acme.pl"
    message.set_content("<p>the HTML part</p>", subtype="html")
    message.add_alternative("the plain part\n", subtype="plain")
    assert body_text(parse(message.as_bytes())).strip() == "the plain part"


def test_converts_an_html_only_message_to_text() -> None:
    html = (
        "<html><head><title>Re: acme.pl</title><style>p { color: red }</style></head>"
        "<body><p>Prosz&#281; o <b>kod&nbsp;AuthInfo</b> dla acme.pl</p>"
        "<script>alert('x')</script><!-- a comment --><div>Jan &amp; Anna</div></body></html>"
    )
    text = body_text(single_part(html.encode(), "text/html; charset=utf-8"))
    assert "<" not in text
    assert "alert" not in text
    assert "color" not in text
    assert "Re: acme.pl" not in text
    assert "comment" not in text
    assert fold(text) == "prosze o kod authinfo dla acme.pl jan & anna"
    # Paragraphs stay lines of their own.
    lines = [fold(line) for line in text.splitlines() if line.strip()]
    assert lines == ["prosze o kod authinfo dla acme.pl", "jan & anna"]


def test_html_quotes_become_quoted_lines() -> None:
    # A one-line HTML reply: what the sender wrote is kept, the quoted original is not.
    html = (
        "<div>Pytanie o fakture</div><div class=quote>W dniu 1.12 napisano:"
        "<blockquote><div>Prosze o kod AuthInfo</div><blockquote>starsze</blockquote>"
        "</blockquote></div>"
    )
    text = html_to_text(html)
    assert "> Prosze o kod AuthInfo" in text
    assert "> > starsze" in text
    kept = fold(without_quotes(text))
    assert kept == "pytanie o fakture w dniu 1.12 napisano:"


@pytest.mark.parametrize("charset", ["iso-8859-2", "windows-1250"])
@pytest.mark.parametrize("encoding", ["8bit", "quoted-printable", "base64"])
def test_decodes_polish_bodies_in_legacy_charsets(charset: str, encoding: str) -> None:
    body = encoded(POLISH + "\n", charset, encoding)
    message = single_part(body, f"text/plain; charset={charset}", encoding)
    assert body_text(message).strip() == POLISH


def test_the_two_polish_charsets_differ_where_it_matters() -> None:
    # ą, ś and ź sit at different bytes in ISO-8859-2 and Windows-1250; reading one as
    # the other would garble exactly the letters the catalogue folds.
    assert "ąśź".encode("iso-8859-2") != "ąśź".encode("windows-1250")
    body = "ąśź".encode("windows-1250")
    assert body_text(single_part(body, "text/plain; charset=windows-1250")).strip() == "ąśź"


def test_utf8_without_a_declared_charset_is_read_as_utf8() -> None:
    raw = b"From: jan@acme.pl\r\nSubject: x\r\n\r\n" + POLISH.encode()
    assert body_text(parse(raw)).strip() == POLISH


@pytest.mark.parametrize("charset", ["x-no-such-charset", "idna", "undefined", "base64", ""])
def test_an_unknown_or_unusable_charset_does_not_crash(charset: str) -> None:
    message = single_part(POLISH.encode(), f"text/plain; charset={charset}")
    assert body_text(message).strip() == POLISH


def test_bytes_that_are_not_the_declared_charset_are_replaced_not_fatal() -> None:
    message = single_part("Łódź".encode("iso-8859-2"), "text/plain; charset=utf-8")
    text = body_text(message)
    assert "\ufffd" in text
    assert text.strip().endswith("d\ufffd")


def test_broken_base64_does_not_crash() -> None:
    message = single_part(b"!!!not base64 at all***", "text/plain; charset=utf-8", "base64")
    assert isinstance(body_text(message), str)


def test_a_message_with_only_an_attachment_has_no_body_text() -> None:
    message = EmailMessage()
    message["From"] = "jan@acme.pl"
    message.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="f.pdf")
    assert body_text(parse(message.as_bytes())) == ""


def test_subject_is_decoded_and_a_broken_one_does_not_crash() -> None:
    raw = b"From: jan@acme.pl\r\nSubject: =?iso-8859-2?q?=A3=F3d=BC?=\r\n\r\nx"
    assert subject(parse(raw)) == "Łódź"
    assert subject(parse(b"From: jan@acme.pl\r\n\r\nx")) == ""
    assert isinstance(subject(parse(b"From: a@b.pl\r\nSubject: =?utf-8?b?!!!?=\r\n\r\nx")), str)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("ŁÓDŹ", "lodz"),
        ("Zażółć gęślą jaźń", "zazolc gesla jazn"),
        ("ZMIANĘ   adresu\r\n\tkorespondencyjnego ", "zmiane adresu korespondencyjnego"),
        ("Kod AuthInfo", "kod authinfo"),
        ("STRASSE Straße", "strasse strasse"),
        ("ｋｏｄ\xa0authinfo", "kod authinfo"),
    ],
)
def test_fold_is_case_diacritic_and_space_insensitive(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_without_quotes_drops_quoted_lines_only() -> None:
    text = (
        "Prosze o duplikat faktury.\n"
        "> Prosze o kod AuthInfo dla acme.pl\n"
        ">> starsza wiadomosc\n"
        "   > wciety cytat\n"
        "Wynik: 3 > 2\n"
        "Jan\n"
    )
    assert without_quotes(text) == "Prosze o duplikat faktury.\nWynik: 3 > 2\nJan"


@pytest.mark.parametrize(
    "history",
    [
        "Dnia 12.11.2026 o 10:00 Jan Kowalski <jan@acme.pl> napisał(a):\nkod AuthInfo",
        "W dniu 12.11.2026 Jan Kowalski pisze:\nkod AuthInfo",
        "On Tue, 10 Nov 2026, Jan wrote:\nkod AuthInfo",
        "On Tue, 10 Nov 2026 at 10:00, Jan Kowalski <jan@acme.pl>\nwrote:\nkod AuthInfo",
        "-----Original Message-----\nFrom: Jan\nkod AuthInfo",
        "---------- Forwarded message ---------\nFrom: Ola\nkod AuthInfo",
        "From: Jan Kowalski\nSent: Tuesday\nkod AuthInfo",
        "-- \nJan Kowalski\nkod AuthInfo",
    ],
)
def test_history_forwards_and_signatures_are_dropped(history: str) -> None:
    assert fold(without_quotes("Prosze o fakture.\n" + history)) == "prosze o fakture."


def test_hostile_html_is_converted_in_bounded_time() -> None:
    for source in ("<script " * 200_000, "<blockquote>" * 100_000, "<" * 1_000_000):
        assert isinstance(html_to_text(source), str)


def test_without_quotes_stops_reading_past_its_limit() -> None:
    text = "Prosze o fakture.\n" * 1000
    kept = without_quotes(text, limit=100)
    assert 100 < len(kept) <= 100 + len("Prosze o fakture.\n")
    assert without_quotes(text) == text.rstrip("\n")


def test_fold_strips_marks_of_any_script_and_keeps_ascii_as_is() -> None:
    assert fold("Zażółć GĘŚLĄ jaźń") == "zazolc gesla jazn"
    assert fold("Crème brûlée, naïve résumé") == "creme brulee, naive resume"
    assert fold("plain ascii: a-b_c 123") == "plain ascii: a-b_c 123"


@pytest.mark.parametrize(
    "text",
    [
        "Prosze o KOD AuthInfo",
        "  tabs\tand\x0bvertical\x0cfeeds\x1cand\x1fseparators\r\n",
        "MiXeD CaSe, punctuation: a-b_c 123!",
        "",
        " \t ",
    ],
)
def test_fold_of_ascii_text_is_what_the_general_path_gives(text: str) -> None:
    # A non-ASCII letter sends the text down the general path; "ą" folds to "a".
    general = fold(text + " ą")
    assert fold(text) == general.removesuffix("a").rstrip()
    assert general.endswith("a")


def test_lines_of_a_long_text_split_as_splitlines_does() -> None:
    # Past the length split at once, the lines are read one at a time: the same lines.
    sample = "a\r\nb\rc\nd\x0be\x0cf\x1cg\x85h\u2028i\u2029j\n\nk\n" * 10_000
    assert len(sample) > 64 * 1024
    assert list(lines(sample)) == sample.splitlines()


# Printable ASCII and tabs: what a plain subject holds (line breaks end a header line).
_ONE_LINE = string.printable.translate(str.maketrans("", "", "\r\n\x0b\x0c"))


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=_ONE_LINE, max_size=60))
def test_a_plain_subject_reads_as_the_header_parser_reads_it(value: str) -> None:
    message = parse(b"From: a@b.pl\r\nSubject: " + value.encode() + b"\r\n\r\nx")
    (raw,) = [v for k, v in message.raw_items() if k == "Subject"]
    assert subject(message) == str(policy.default.header_factory("Subject", raw))


_ENDING_PIECES = [
    *sorted(_SEPARATORS),
    *_ATTRIBUTION_STARTS,
    *_ATTRIBUTION_ENDS,
    *_SENT_HEADERS,
    *_FROM_HEADERS,
    "Original MESSAGE",
    "Wiadomość przekazana",
    "napisał(a)：",
    "ＷＲＯＴＥ:",
    "-----",
    " ",
    "\t",
    "Jan",
]


@settings(max_examples=2000)
@given(
    st.lists(
        st.one_of(st.sampled_from(_ENDING_PIECES), st.text(max_size=8)),
        max_size=6,
    ).map("".join)
)
def test_lines_skipped_unfolded_would_not_end_the_text(line: str) -> None:
    # without_quotes folds only the lines _may_end_text lets through: any other line's
    # fold must match no separator, attribution or header test.
    if _may_end_text(line):
        return
    folded = fold(line)
    assert folded.strip("-_= ") not in _SEPARATORS
    assert not folded.endswith(_ATTRIBUTION_ENDS)
    assert not folded.startswith(_SENT_HEADERS)


def test_separators_in_any_script_still_end_the_text() -> None:
    text = "Prosze o fakture.\n－－ Original Message －－\nkod AuthInfo"
    assert without_quotes(text) == "Prosze o fakture."
    text = "Prosze o fakture.\nOn Tue, 10 Nov 2026, Jan\nWROTE：\nkod AuthInfo"
    assert without_quotes(text) == "Prosze o fakture."
