"""lookalike-domain: a From domain confusable with a registered or provider domain."""

from __future__ import annotations

import pytest

from mailhook.checks import PIPELINE, registered
from mailhook.checks.lookalike_domain import check_lookalike_domain
from mailhook.context import CheckContext
from mailhook.message import Channel, Envelope, InboundMessage, parse_message
from tests.mailhook.checks.header_support import load, run
from tests.support import make_message

NAME = "lookalike-domain"


def test_is_registered_and_runs_after_from_mailbox() -> None:
    assert registered()[NAME].run is check_lookalike_domain
    assert PIPELINE.index(NAME) > PIPELINE.index("from-mailbox")


def test_a_registered_domain_itself_passes() -> None:
    finding = run(NAME, parse_message(make_message(), Envelope(), Channel.API))
    assert finding.result == "pass"
    assert finding.reason == (
        "The From domain acme.pl does not imitate a registered customer domain or one of ours."
    )


def test_an_idn_is_shown_as_read_and_as_an_a_label() -> None:
    finding = run(NAME, "from-idn-mixed-case")
    assert finding.result == "pass"
    assert finding.reason == (
        "The From domain ŻÓŁW.pl (xn--w-uga1v8h.pl) does not imitate a registered customer "
        "domain or one of ours."
    )


def test_a_cyrillic_letter_fails_naming_the_imitated_domain_and_the_letter() -> None:
    finding = run(NAME, "lookalike-cyrillic-domain")
    assert finding.result == "fail"
    assert finding.reason == (
        "The From domain аcme.pl (xn--cme-5cd.pl: 'а' is CYRILLIC SMALL LETTER A) looks like "
        "acme.pl but is a different domain: the message does not come from acme.pl."
    )


def test_the_same_domain_written_in_punycode_fails_alike() -> None:
    finding = run(NAME, "lookalike-punycode-domain")
    assert finding.result == "fail"
    assert finding.reason == run(NAME, "lookalike-cyrillic-domain").reason


def test_rn_for_m_fails() -> None:
    finding = run(NAME, "lookalike-rn-for-m")
    assert finding.result == "fail"
    assert finding.reason == (
        "The From domain acrne.pl looks like acme.pl but is a different domain: "
        "the message does not come from acme.pl."
    )


def test_a_capital_i_for_a_small_l_fails_showing_it_as_written() -> None:
    finding = run(NAME, "lookalike-capital-i-for-l")
    assert finding.result == "fail"
    assert finding.reason == (
        "The From domain Iokal.pl (iokal.pl) looks like lokal.pl but is a different domain: "
        "the message does not come from lokal.pl."
    )


def test_a_digit_for_a_letter_in_a_provider_domain_fails() -> None:
    finding = run(NAME, "lookalike-digit-for-letter")
    assert finding.result == "fail"
    assert finding.reason == (
        "The From domain h0sting.example looks like hosting.example but is a different "
        "domain: the message does not come from hosting.example."
    )


def test_mixed_scripts_in_a_label_imitating_nothing_known_are_a_warning() -> None:
    finding = run(NAME, "lookalike-mixed-script")
    assert finding.result == "warn"
    assert finding.reason == (
        "The From domain shор.pl (xn--sh-gmci.pl: 'о' is CYRILLIC SMALL LETTER O; 'р' is "
        "CYRILLIC SMALL LETTER ER) mixes Cyrillic and Latin letters in one label, as "
        "look-alike domains do."
    )


def test_the_lookup_gets_the_domain_as_written() -> None:
    asked: list[str] = []

    def lookalike_of(domain: str) -> None:
        asked.append(domain)

    message = load("lookalike-capital-i-for-l")
    check_lookalike_domain(message, CheckContext(lookalike_of=lookalike_of))
    assert asked == ["Iokal.pl"]


def test_without_a_usable_from_there_is_nothing_to_judge() -> None:
    finding = run(NAME, "no-from-header")
    assert finding.result == "none"
    assert finding.reason == "The From domain cannot be judged: From has no usable address."


def from_domain(domain: str) -> InboundMessage:
    """A message From jan@``domain``, the domain written in UTF-8 (RFC 6532)."""
    raw = make_message().replace(b"<jan@acme.pl>", f"<jan@{domain}>".encode())
    return parse_message(raw, Envelope(), Channel.API)


@pytest.mark.parametrize(
    ("sender_domain", "imitated"),
    [
        pytest.param("\u0430\u0441me.pl", "acme.pl", id="cyrillic-a-and-es"),
        pytest.param("\u03b1cme.pl", "acme.pl", id="greek-alpha"),
        pytest.param("\u0585ka\u056c.pl", None, id="armenian-letters-imitating-nothing-known"),
        pytest.param("lok\u0561l.pl", None, id="armenian-ayb-is-no-a"),
        pytest.param("l\u0585kal.pl", "lokal.pl", id="armenian-oh"),
        pytest.param("\uab7acme.pl", "acme.pl", id="cherokee-small-go-for-a"),
        pytest.param("\u13aacme.pl", "acme.pl", id="cherokee-capital-go-for-a"),
        pytest.param("\uff41\u0441me.pl", "acme.pl", id="fullwidth-a-beside-cyrillic-es"),
        pytest.param("ho\u0455ting.example", "hosting.example", id="cyrillic-dze-in-ours"),
        pytest.param("\u0440\u043e\u0441\u0437ta.pl", None, id="cyrillic-imitating-nothing-known"),
    ],
)
def test_letters_of_other_scripts_imitating_a_known_domain_fail(
    sender_domain: str, imitated: str | None
) -> None:
    finding = run(NAME, from_domain(sender_domain))
    if imitated is None:
        assert finding.result != "fail", finding.reason
    else:
        assert finding.result == "fail", finding.reason
        assert f"looks like {imitated} but is a different domain" in finding.reason


@pytest.mark.parametrize(
    "sender_domain",
    [
        pytest.param("\uff41\uff43\uff4d\uff45.pl", id="fullwidth"),
        pytest.param("\U0001d41a\U0001d41c\U0001d426\U0001d41e.pl", id="mathematical-bold"),
    ],
)
def test_compatibility_forms_of_a_known_domain_are_that_domain(sender_domain: str) -> None:
    # IDNA (UTS #46 §4) maps them to acme.pl: the mail goes to acme.pl, which it is.
    finding = run(NAME, from_domain(sender_domain))
    assert finding.result == "pass", finding.reason
