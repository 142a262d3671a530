"""display-name: a display name must not show an address other than the real one."""

from __future__ import annotations

import time

from mailhook.checks import PIPELINE, registered
from mailhook.checks.display_name import _addresses, check_display_name
from mailhook.message import Channel, Envelope, parse_message
from tests.mailhook.checks.header_support import run
from tests.support import make_message

NAME = "display-name"
WRONG_SENDER = (
    "but the message is from mallory@evil.example: a reader would take it for the wrong sender."
)


def from_header(value: str) -> str:
    raw = f"From: {value}\r\nSubject: x\r\n\r\nbody\r\n".encode()
    return run(NAME, parse_message(raw, Envelope(), Channel.API)).reason


def test_is_registered_and_runs_after_from_mailbox() -> None:
    assert registered()[NAME].run is check_display_name
    assert PIPELINE.index(NAME) > PIPELINE.index("from-mailbox")


def test_a_plain_name_passes() -> None:
    finding = run(NAME, parse_message(make_message(), Envelope(), Channel.API))
    assert finding.result == "pass"
    assert finding.reason == 'The display name "Jan Kowalski" shows no address.'


def test_no_display_name_is_nothing_to_judge() -> None:
    finding = run(NAME, parse_message(make_message(sender="jan@acme.pl"), Envelope(), Channel.API))
    assert finding.result == "none"
    assert finding.reason == "The From header has no display name."


def test_another_address_in_the_display_name_fails_naming_both() -> None:
    finding = run(NAME, "display-name-holds-other-address")
    assert finding.result == "fail"
    assert finding.reason == (
        'The display name "jan@acme.pl" shows the address jan@acme.pl, ' + WRONG_SENDER
    )


def test_a_fullwidth_at_sign_is_seen_through() -> None:
    finding = run(NAME, "display-name-fullwidth-at")
    assert finding.result == "fail"
    assert finding.reason == (
        'The display name "jan＠acme.pl" shows the address jan@acme.pl (written with U+FF20 '
        "FULLWIDTH COMMERCIAL AT in place of '@'), " + WRONG_SENDER
    )


def test_a_small_at_sign_is_seen_through() -> None:
    finding = run(NAME, "display-name-small-at")
    assert finding.result == "fail"
    assert finding.reason == (
        'The display name "jan﹫acme.pl" shows the address jan@acme.pl (written with U+FE6B '
        "SMALL COMMERCIAL AT in place of '@'), " + WRONG_SENDER
    )


def test_an_at_spelled_out_is_seen_through() -> None:
    finding = run(NAME, "display-name-spelled-at")
    assert finding.result == "fail"
    assert finding.reason == (
        'The display name "jan (at) acme (dot) pl" shows the address jan@acme.pl '
        "(with the '@' spelled out), " + WRONG_SENDER
    )


def test_invisible_characters_do_not_hide_an_address() -> None:
    finding = run(NAME, "display-name-zero-width")
    assert finding.result == "fail"
    assert finding.reason == (
        'The display name "jan@ac\u200bme.pl" shows the address jan@acme.pl '
        "(with invisible characters inside), " + WRONG_SENDER
    )


def test_the_senders_own_address_as_display_name_passes() -> None:
    finding = run(NAME, "display-name-own-address")
    assert finding.result == "pass"
    assert finding.reason == "The display name repeats the sender's own address jan@acme.pl."


def test_other_spellings_of_at() -> None:
    for name in ('"jan [at] acme.pl"', '"jan at acme.pl"', '"jan(małpa)acme.pl"', '"JAN@ACME.PL"'):
        reason = from_header(f"{name} <mallory@evil.example>")
        assert "shows the address jan@acme.pl" in reason, name


def test_words_around_at_without_a_domain_are_no_address() -> None:
    reason = from_header('"Anna at ACME Support" <anna@acme.pl>')
    assert reason == 'The display name "Anna at ACME Support" shows no address.'


def test_an_address_hidden_behind_padding_is_still_found() -> None:
    for padding in ("a" * 3_000, "@" * 3_000, "a@" * 1_500):
        reason = from_header(f'"{padding} jan@acme.pl" <mallory@evil.example>')
        assert "shows the address jan@acme.pl" in reason, padding[:10]


def test_addresses_are_found_in_linear_time() -> None:
    # Each "@" is looked at within a bounded window: 200 KB of them costs little. The
    # bound is a hang guard only (quadratic scanning took minutes), not a speed target.
    started = time.monotonic()
    assert _addresses("@" * 4_000 + "a" * 200_000 + " jan@acme.pl") == ["jan@acme.pl"]
    assert time.monotonic() - started < 10


def test_without_a_usable_from_there_is_nothing_to_judge() -> None:
    finding = run(NAME, "from-two-mailboxes")
    assert finding.result == "none"
    assert finding.reason == "The display name cannot be judged: From has no usable address."


def test_an_address_in_a_from_comment_fails() -> None:
    # RFC 5322 §3.2.2: clients show the comment as the name when there is no other.
    assert from_header("mallory@evil.example (Jan Kowalski <jan@acme.pl>)") == (
        'The display name "Jan Kowalski <jan@acme.pl>" shows the address jan@acme.pl, '
        + WRONG_SENDER
    )


def test_an_encoded_address_in_a_comment_beside_the_name_fails() -> None:
    assert from_header("Mallory <mallory@evil.example> (=?utf-8?q?jan=40acme=2Epl?=)") == (
        'The display name "Mallory jan@acme.pl" shows the address jan@acme.pl, ' + WRONG_SENDER
    )


def test_a_quoted_parenthesis_is_no_comment() -> None:
    assert from_header('"Jan (jan@acme.pl" <mallory@evil.example>') == (
        'The display name "Jan (jan@acme.pl" shows the address jan@acme.pl, ' + WRONG_SENDER
    )
    finding = run(
        NAME, parse_message(make_message(sender="jan@acme.pl (Jan)"), Envelope(), Channel.API)
    )
    assert finding.reason == 'The display name "Jan" shows no address.'
