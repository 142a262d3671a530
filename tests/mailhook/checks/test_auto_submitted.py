"""auto-submitted: mail written by a program is told apart from a person's (RFC 3834)."""

from __future__ import annotations

import pytest

from mailhook.checks import PIPELINE, registered
from mailhook.checks.auto_submitted import RESULTS, check_auto_submitted
from mailhook.message import Channel, Envelope, parse_message
from tests.mailhook.checks.header_support import run

NAME = "auto-submitted"


def result_of(headers: str) -> str:
    raw = f"From: jan@acme.pl\r\n{headers}\r\n\r\nbody\r\n".encode()
    return run(NAME, parse_message(raw, Envelope(), Channel.API)).result


def test_is_registered_and_in_the_pipeline() -> None:
    check = registered()[NAME]
    assert check.run is check_auto_submitted
    assert check.results == (*RESULTS, "temperror", "error")
    assert RESULTS == ("none", "auto")
    assert NAME in PIPELINE


def test_a_persons_mail_is_none() -> None:
    finding = run(NAME, "reply-to-same-organisation")
    assert finding.result == "none"
    assert finding.reason == (
        "Nothing marks the message as automatic (no Auto-Submitted, auto-reply header, "
        "bulk Precedence or auto-reply subject)."
    )


def test_an_out_of_office_reply_echoing_a_request_is_auto() -> None:
    finding = run(NAME, "auto-replied-out-of-office")
    assert finding.result == "auto"
    assert finding.reason == (
        "The message was written by a program, not typed by a person: Auto-Submitted is "
        '"auto-replied" (RFC 3834 §5); the subject "Automatyczna odpowiedź: Proszę o kod '
        'AuthInfo dla acme.pl" is that of an automatic reply. An automatic reply may echo a '
        "request without making it."
    )


def test_an_auto_reply_subject_alone_is_auto() -> None:
    finding = run(NAME, "auto-reply-subject-only")
    assert finding.result == "auto"
    assert "is that of an automatic reply" in finding.reason


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param("Auto-Submitted: no", "none", id="auto-submitted no is a person"),
        pytest.param("Auto-Submitted: No (typed)", "none", id="no with a comment"),
        pytest.param("Auto-Submitted: auto-generated", "auto", id="auto-generated"),
        pytest.param("Auto-Submitted: auto-notified; owner-email=x@y.pl", "auto", id="notified"),
        pytest.param("Auto-Submitted: x-something", "auto", id="an extension keyword"),
        pytest.param("Auto-Submitted:", "auto", id="an empty value is not no"),
        pytest.param("auto-submitted: AUTO-REPLIED", "auto", id="any case"),
        pytest.param("X-Autoreply: yes", "auto", id="x-autoreply"),
        pytest.param("X-Autorespond: Jan", "auto", id="x-autorespond"),
        pytest.param("X-Autoreply: no", "none", id="x-autoreply no"),
        pytest.param("X-Auto-Response-Suppress: DR, OOF", "auto", id="exchange oof"),
        pytest.param("X-Auto-Response-Suppress: All", "auto", id="exchange all"),
        pytest.param("X-Auto-Response-Suppress: DR", "none", id="exchange dr only"),
        pytest.param("Precedence: bulk", "auto", id="precedence bulk"),
        pytest.param("Precedence: auto_reply", "auto", id="precedence auto_reply"),
        pytest.param("Precedence: List", "auto", id="precedence list"),
        pytest.param("Precedence: junk", "auto", id="precedence junk"),
        pytest.param("Precedence: first-class", "none", id="precedence first-class"),
    ],
)
def test_header_fields(headers: str, expected: str) -> None:
    assert result_of(headers) == expected


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        pytest.param("Automatyczna odpowiedź: Transfer acme.pl", "auto", id="pl"),
        pytest.param("AUTOMATYCZNA ODPOWIEDZ: transfer", "auto", id="pl upper no diacritics"),
        pytest.param("Odpowiedź automatyczna: transfer", "auto", id="pl reversed"),
        pytest.param("Re: Automatyczna odpowiedź: transfer", "auto", id="after re"),
        pytest.param("Odp: RE: Fwd: Out of Office: transfer", "auto", id="after many prefixes"),
        pytest.param("Auto: transfer acme.pl", "auto", id="auto colon"),
        pytest.param("Autoreply: transfer", "auto", id="autoreply"),
        pytest.param("Automatic reply: transfer", "auto", id="en outlook"),
        pytest.param("Out of Office: transfer", "auto", id="out of office"),
        pytest.param("Poza biurem: transfer", "auto", id="poza biurem"),
        pytest.param("Nieobecność: transfer", "auto", id="nieobecnosc"),
        pytest.param("[Auto-Reply] transfer", "auto", id="bracketed"),
        pytest.param("Auto\u200b: transfer", "auto", id="zero-width space inside"),
        pytest.param("=?UTF-8?Q?Poza_biurem=3A_transfer?=", "auto", id="encoded word"),
        pytest.param("Read: Transfer domeny acme.pl", "auto", id="read receipt"),
        pytest.param("Przeczytano: Transfer domeny", "auto", id="read receipt pl"),
        pytest.param("Automatische Antwort: Transfer", "auto", id="de"),
        pytest.param("Автоматический ответ: transfer", "auto", id="ru"),
        pytest.param("Reading the invoice for acme.pl", "none", id="read as a word is a person"),
        pytest.param("Auto renewal of acme.pl", "none", id="auto as a word is a person"),
        pytest.param("Automatyczne odnowienie acme.pl", "none", id="automatic renewal"),
        pytest.param("Re: transfer acme.pl", "none", id="an ordinary reply"),
        pytest.param("Pytanie o ofertę", "none", id="an ordinary subject"),
    ],
)
def test_auto_reply_subjects(subject: str, expected: str) -> None:
    raw = f"From: jan@acme.pl\r\nSubject: {subject}\r\n\r\nbody\r\n".encode()
    assert run(NAME, parse_message(raw, Envelope(), Channel.API)).result == expected


def test_a_delivery_or_read_report_is_auto() -> None:
    headers = (
        "Subject: Transfer domeny acme.pl\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=disposition-notification; boundary="b"'
    )
    raw = f"From: jan@acme.pl\r\n{headers}\r\n\r\n--b\r\n\r\nread\r\n--b--\r\n".encode()
    finding = run(NAME, parse_message(raw, Envelope(), Channel.API))
    assert finding.result == "auto"
    assert "report-type disposition-notification" in finding.reason


def test_a_second_subject_is_read_too() -> None:
    assert result_of("Subject: Pytanie\r\nSubject: Auto: transfer") == "auto"
