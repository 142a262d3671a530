"""from-mailbox: header From must hold exactly one valid mailbox."""

from __future__ import annotations

from email import policy

from hypothesis import given, settings
from hypothesis import strategies as st

from mailhook.checks import PIPELINE, registered
from mailhook.checks._headers import _PLAIN_MAILBOX, plain_mailbox
from mailhook.checks.from_mailbox import check_from_mailbox
from mailhook.context import CheckContext
from mailhook.findings import Finding
from mailhook.message import Channel, Envelope, parse_message
from tests.support import FIXTURES, make_message

MAIL = FIXTURES / "mail"


def check(scenario: str) -> Finding:
    raw = (MAIL / f"{scenario}.eml").read_bytes()
    return check_from_mailbox(parse_message(raw, Envelope(), Channel.PIPE), CheckContext())


def test_is_registered_under_its_name_and_runs_first() -> None:
    assert registered()["from-mailbox"].run is check_from_mailbox
    assert PIPELINE[0] == "from-mailbox"


def test_a_plain_from_passes_with_the_address_folded_to_lower_case() -> None:
    message = parse_message(make_message(sender="Jan <JAN@ACME.PL>"), Envelope(), Channel.API)
    finding = check_from_mailbox(message, CheckContext())
    assert finding.name == "from-mailbox"
    assert finding.result == "pass"
    assert finding.reason == "The message is from jan@acme.pl."
    assert finding.evidence == {"address": "jan@acme.pl", "display_name": "Jan"}


def test_an_internationalised_domain_becomes_an_a_label_and_case_is_folded() -> None:
    finding = check("from-idn-mixed-case")
    assert finding.result == "pass"
    assert finding.reason == "The message is from jan.kowalski@xn--w-uga1v8h.pl."
    assert finding.evidence["address"] == "jan.kowalski@xn--w-uga1v8h.pl"
    assert finding.evidence["display_name"] == "Jan Kowalski"


def test_a_utf8_local_part_is_a_valid_mailbox() -> None:
    # RFC 6532 §3.2: an internationalised message may carry UTF-8 in the local part.
    finding = check("from-utf8-local-part")
    assert finding.result == "pass"
    assert finding.reason == "The message is from paweł@xn--w-uga1v8h.pl."


def test_no_from_header_fails() -> None:
    finding = check("from-header-missing")
    assert finding.result == "fail"
    assert finding.reason == "The message has no From header, so its sender cannot be identified."


def test_two_from_headers_fail() -> None:
    finding = check("from-header-twice")
    assert finding.result == "fail"
    assert finding.reason == (
        "The message has 2 From headers; RFC 5322 allows one, "
        "and a second one is a common way to show a forged sender."
    )


def test_two_mailboxes_in_one_from_fail() -> None:
    finding = check("two-mailboxes-in-from")
    assert finding.result == "fail"
    assert finding.reason == (
        "The From header holds 2 mailboxes; exactly one is needed to know who sent the message."
    )


def test_a_group_fails() -> None:
    finding = check("from-group-syntax")
    assert finding.result == "fail"
    assert finding.reason == "The From header holds a group, not a single mailbox."


def test_an_invalid_address_fails_naming_it() -> None:
    finding = check("from-invalid-address")
    assert finding.result == "fail"
    prefix = "The From address 'jan@-acme.pl' is not a valid mailbox: "
    assert finding.reason.startswith(prefix), finding.reason
    assert "hyphen" in finding.reason
    assert "address" not in finding.evidence


def test_an_unterminated_address_is_reported_as_malformed() -> None:
    finding = check("from-unterminated-angle-addr")
    assert finding.result == "fail"
    assert finding.reason == "The From header is malformed (missing trailing '>' on angle-addr)."


def test_a_from_the_parser_cannot_read_fails_without_crashing() -> None:
    # Python 3.11's address parser raises on this input instead of recording a
    # defect; the check turns either into a finding.
    finding = check("from-unparseable")
    assert finding.result == "fail"
    assert finding.reason.startswith(
        ("The From header cannot be parsed (", "The From header is malformed (")
    ), finding.reason
    assert "address" not in finding.evidence


def test_a_display_name_holding_another_address_passes_with_the_real_address() -> None:
    # Whether the sender is entitled is for customer-match; this check only reports
    # the addr-spec, never the address the display name shows.
    finding = check("display-name-holds-other-address")
    assert finding.result == "pass"
    assert finding.reason == "The message is from mallory@evil.example."
    assert finding.evidence == {"address": "mallory@evil.example", "display_name": "jan@acme.pl"}


def test_a_from_header_too_long_for_one_mailbox_fails_without_parsing_it() -> None:
    raw = b"From: " + b", ".join([b"a@acme.pl"] * 20_000) + b"\r\nSubject: x\r\n\r\nbody\r\n"
    finding = check_from_mailbox(parse_message(raw, Envelope(), Channel.API), CheckContext())
    assert finding.result == "fail"
    assert finding.reason == "The From header is 214 KB long; one mailbox never is."


def stdlib_mailbox(value: str) -> tuple[str, str] | None:
    """(display name, addr-spec) when the standard library reads one clean mailbox."""
    header = policy.default.header_factory("From", value)
    if header.defects or len(header.addresses) != 1:
        return None
    if any(group.display_name is not None for group in header.groups):
        return None
    return header.addresses[0].display_name, header.addresses[0].addr_spec


@settings(max_examples=500, deadline=None)
@given(st.from_regex(_PLAIN_MAILBOX, fullmatch=True))
def test_a_plain_from_is_read_as_the_standard_library_reads_it(value: str) -> None:
    assert plain_mailbox(value) is not None
    assert plain_mailbox(value) == stdlib_mailbox(value)


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet='aZ09 .<>@-_+"(),:;\t=?', max_size=40))
def test_what_is_read_as_plain_the_standard_library_reads_alike(value: str) -> None:
    plain = plain_mailbox(value)
    if plain is not None:
        assert plain == stdlib_mailbox(value)


def test_a_value_in_another_form_goes_to_the_parser() -> None:
    assert plain_mailbox("Klient 623 <klient623@bench04.example>") == (
        "Klient 623",
        "klient623@bench04.example",
    )
    assert plain_mailbox("jan@acme.pl") == ("", "jan@acme.pl")
    for value in ['"Jan" <jan@acme.pl>', "Jan  K <a@b>", "=?utf-8?q?J?= <a@b>", "a@b (c)"]:
        assert plain_mailbox(value) is None


def test_a_from_two_address_parsers_read_differently_fails() -> None:
    # The standard library decodes an encoded word inside the address (RFC 2047 §5
    # forbids one there), mailhook.addresses does not: a client may show either.
    raw = b"From: Jan <=?utf-8?q?jan?= @acme.pl>\r\nSubject: x\r\n\r\nbody\r\n"
    finding = check_from_mailbox(parse_message(raw, Envelope(), Channel.API), CheckContext())
    assert finding.result == "fail"
    assert finding.reason == (
        "The From header reads as jan@acme.pl to one address parser and as "
        "=?utf-8?q?jan?=@acme.pl to another; a mail client may show either, so the sender "
        "is not known."
    )


def test_forms_both_parsers_read_alike_pass() -> None:
    for value, address in (
        ('"jan@acme.pl" <mallory@evil.example>', "mallory@evil.example"),
        ("jan@acme.pl (Jan <x@evil.example>)", "jan@acme.pl"),
        ("jan(@evil.example)@acme.pl", "jan@acme.pl"),
        ("=?utf-8?q?jan=40acme.pl?= <mallory@evil.example>", "mallory@evil.example"),
        ('"Kowalski, Jan" <JAN@żółw.pl>', "jan@xn--w-uga1v8h.pl"),
    ):
        raw = f"From: {value}\r\nSubject: x\r\n\r\nbody\r\n".encode()
        finding = check_from_mailbox(parse_message(raw, Envelope(), Channel.API), CheckContext())
        assert (finding.result, finding.evidence.get("address")) == ("pass", address), value
