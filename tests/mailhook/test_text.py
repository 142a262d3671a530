"""Text as a person reads it: subjects, own text apart from history, folding."""

from __future__ import annotations

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
    _LEET,
    _LEET_WORD,
    _SENT_HEADERS,
    _SEPARATORS,
    _may_end_text,
    _read_digits,
    fold,
    lines,
    respelled,
    split_written,
    subject,
    subjects,
    without_quotes,
)


def parse(raw: bytes) -> EmailMessage:
    return parse_message(raw, Envelope(), Channel.PIPE).parsed


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
    ],
)
def test_history_and_forwards_are_dropped(history: str) -> None:
    assert fold(without_quotes("Prosze o fakture.\n" + history)) == "prosze o fakture."


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


@pytest.mark.parametrize(
    ("text", "own", "quoted", "forwarded"),
    [
        pytest.param(
            "Prosze o fakture.\n-- \nJan\nPS. kod AuthInfo",
            "Prosze o fakture.\n-- \nJan\nPS. kod AuthInfo",
            "",
            "",
            id="the signature and a ps under it are the sender's own",
        ),
        pytest.param(
            "Tak.\n> kod AuthInfo\nJan",
            "Tak.\nJan",
            "> kod AuthInfo",
            "",
            id="quoted lines are quoted",
        ),
        pytest.param(
            "Tak.\nOn Tue, 10 Nov 2026, Ola wrote:\nkod AuthInfo",
            "Tak.",
            "On Tue, 10 Nov 2026, Ola wrote:\nkod AuthInfo",
            "",
            id="a reply's history is quoted",
        ),
        pytest.param(
            "Tak.\n-----Original Message-----\nkod",
            "Tak.",
            "-----Original Message-----\nkod",
            "",
            id="an original message is quoted",
        ),
        pytest.param(
            "Tak.\nFrom: Ola\nSent: wtorek\nkod",
            "Tak.",
            "From: Ola\nSent: wtorek\nkod",
            "",
            id="an outlook header block is quoted with its first line",
        ),
        pytest.param(
            "Zobacz.\n---------- Forwarded message ---------\nFrom: Ola\nkod",
            "Zobacz.",
            "",
            "---------- Forwarded message ---------\nFrom: Ola\nkod",
            id="a forwarded message is forwarded",
        ),
        pytest.param(
            "Zobacz.\nPoczątek przekazywanej wiadomości:\nkod",
            "Zobacz.",
            "",
            "Początek przekazywanej wiadomości:\nkod",
            id="a polish forward is forwarded",
        ),
    ],
)
def test_text_is_split_by_who_wrote_it(text: str, own: str, quoted: str, forwarded: str) -> None:
    written = split_written(text)
    assert (written.own, written.quoted, written.forwarded) == (own, quoted, forwarded)


def test_history_is_kept_up_to_the_limit_and_own_text_after_quotes_is_read() -> None:
    text = "> cytat\n" * 1000 + "Prosze o kod AuthInfo"
    written = split_written(text, limit=100)
    assert written.own == "Prosze o kod AuthInfo"
    assert 100 < len(written.quoted) <= 100 + len("> cytat\n")


def test_every_subject_instance_is_read() -> None:
    raw = b"From: a@b.pl\r\nSubject: Faktura\r\nSubject: =?utf-8?q?Kod_AuthInfo?=\r\n\r\nx"
    assert subjects(parse(raw)) == ["Faktura", "Kod AuthInfo"]
    assert subject(parse(raw)) == "Faktura"


@pytest.mark.parametrize(
    ("written", "read"),
    [
        pytest.param("k o d  A u t h I n f o", "kod  AuthInfo", id="spelt out"),
        pytest.param("dla b e t a . p l.", "dla beta.pl.", id="a domain spelt out"),
        pytest.param("k0d 4uth1nf0", "kod authinfo", id="digits for letters"),
        pytest.param("vps-12345, 11/2026, kod 1234-5678", None, id="numbers stay"),
        pytest.param("kod a-u-t-h-i-n-f-o.", "kod authinfo.", id="letters between dashes"),
        pytest.param("kod A.U.T.H.I.N.F.O.", "kod AUTHINFO.", id="letters between dots"),
        pytest.param("J.K., e-mail, www.a.b.c.pl", None, id="initials and names stay"),
    ],
)
def test_words_spelt_out_or_in_digits_are_read_as_words(written: str, read: str | None) -> None:
    assert respelled(written) == read


@settings(max_examples=3000, deadline=None)
@given(st.text(st.sampled_from(list("ab0134_-. \n5x9Z²ą٣é")), max_size=40))
def test_digits_read_as_letters_word_by_word_as_over_the_whole_text(text: str) -> None:
    # Only the words holding a digit beside another word character are rewritten; the
    # result must be the pattern's over the whole text, whatever the text.
    whole = _LEET_WORD.sub(lambda word: word.group(0).translate(_LEET), text)
    assert _read_digits(text) == whole
