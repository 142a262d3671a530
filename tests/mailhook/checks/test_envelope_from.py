"""envelope-from: the envelope sender (MAIL FROM) against the header From."""

from __future__ import annotations

from mailhook.checks import PIPELINE, registered
from mailhook.checks.envelope_from import check_envelope_from
from mailhook.message import Envelope
from tests.mailhook.checks.header_support import load, run

NAME = "envelope-from"


def with_mail_from(
    mail_from: str | None, scenario: str = "reply-to-same-organisation"
) -> tuple[str, str]:
    finding = run(NAME, load(scenario, Envelope(mail_from=mail_from)))
    return finding.result, finding.reason


def test_is_registered_and_in_the_pipeline() -> None:
    assert registered()[NAME].run is check_envelope_from
    assert NAME in PIPELINE


def test_the_same_organisation_passes() -> None:
    assert with_mail_from("bounces@mail.acme.pl") == (
        "pass",
        "The envelope sender bounces@mail.acme.pl is in the From domain's organisation acme.pl.",
    )


def test_another_organisation_is_a_warning_not_a_failure() -> None:
    assert with_mail_from("<bounce-123@lists.example>") == (
        "warn",
        "The envelope sender bounce-123@lists.example is in lists.example, not in the From "
        "domain's organisation acme.pl, as for mail sent through a list or a service.",
    )


def test_a_null_sender_is_reported_as_a_bounce() -> None:
    for null in ("", "<>", " <> "):
        assert with_mail_from(null) == (
            "bounce",
            "The envelope sender is empty (<>), as for a bounce or an auto-reply; "
            "an instruction is not expected to arrive as one.",
        )


def test_no_envelope_at_all_is_nothing_to_compare() -> None:
    assert with_mail_from(None) == (
        "none",
        "No envelope sender (MAIL FROM) was given with the message.",
    )


def test_an_envelope_sender_without_a_domain_is_a_warning() -> None:
    assert with_mail_from("postmaster") == (
        "warn",
        "The envelope sender postmaster is not an address of the form local@domain.",
    )


def test_the_domain_after_a_quoted_local_part_is_compared() -> None:
    # RFC 5321 §4.1.2: "jan@acme.pl" is the local part; the domain is lists.example.
    assert with_mail_from('"jan@acme.pl"@lists.example') == (
        "warn",
        'The envelope sender "jan@acme.pl"@lists.example is in lists.example, not in the From '
        "domain's organisation acme.pl, as for mail sent through a list or a service.",
    )
    assert with_mail_from("<@relay.example:bounces@MAIL.ACME.PL.>")[0] == "pass"


def test_an_envelope_sender_that_cannot_be_read_is_a_warning() -> None:
    assert with_mail_from('"jan@acme.pl') == (
        "warn",
        'The envelope sender "jan@acme.pl is not an address (the quoted local part is not closed).',
    )


def test_without_a_usable_from_there_is_nothing_to_compare() -> None:
    assert with_mail_from("jan@acme.pl", "two-from-headers") == (
        "none",
        "The envelope sender jan@acme.pl cannot be compared: From has no usable address.",
    )
