"""Fail closed on who sent it, round 3: what the signature does not cover, and replays.

The attacker holds one genuine message of the customer, DKIM-signed by the customer's
domain, and changes what the signature leaves open: a header field it does not sign (or
signs once, with another instance put above), the body after its l= length, the user it
names in i=, a comment in From; or sends the same signed message again. Rows of the
fail-closed table (the same Row, stack and doors as test_fail_closed_identity_classes),
attacks never ``accepted``; the same messages left as signed stay accepted. The
metamorphic tests state each class as a relation: the same legitimate signed message,
one uncovered change at a time, never stays accepted.

Besides acme, beta and agencja, the registry holds the customers of
test_fail_closed_identity_classes (jan@acme.platform.pl and zly@evil.platform.pl on one
platform; jan@wspolna.pl and ewa@wspolna.pl on one domain).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.adversarial_mail import (
    ACME_MX,
    OUTSIDE,
    SIGNED,
    SIGNED_AS_GMAIL,
    Door,
    Mail,
    Route,
    build,
)
from tests.app.decision.fail_closed.rows import OK, REVIEW, Row
from tests.app.decision.fail_closed.signed import (
    AFTER_LENGTH,
    ANSWERED_BY_EWA,
    COMMENTS,
    DNS_CHANGE,
    I13,
    I14,
    ROWS,
    WSPOLNA,
    WSPOLNA_MX,
    Change,
    above,
    invoice,
    rewritten,
)
from tests.app.decision.fail_closed.test_fail_closed import stack
from tests.app.decision.fail_closed.test_fail_closed import (
    test_what_a_person_can_read_decides as as_the_table_decides,
)
from tests.app.decision.test_fail_closed_identity import verdict_of
from tests.app.decision.test_fail_closed_identity_classes import (
    decision,
    more_customers,
    reason_of,
)

__all__ = ["more_customers", "stack"]


@pytest.mark.parametrize("door", ["rest", "smtp"])
@pytest.mark.parametrize("row", ROWS)
def test_what_the_signature_covers_decides(stack: Any, row: Row, door: Door) -> None:
    as_the_table_decides(stack, row, door)


# I11, metamorphic: one change the signature does not cover at a time, to a message
# signed over every field a reader is shown (a header put above it), or to the same
# message signed as Gmail signs (its Content-Type rewritten).
OPEN_CHANGES: dict[str, tuple[tuple[str, ...], Change]] = {
    "a Reply-To above": (SIGNED, above("Reply-To: ksiegowa@acme.pl")),
    "a Sender above": (SIGNED, above("Sender: sekretariat@acme.pl")),
    "a Mail-Reply-To above": (SIGNED, above("Mail-Reply-To: ksiegowa@acme.pl")),
    "a Content-Type above": (SIGNED, above("Content-Type: text/html; charset=utf-8")),
    "a Content-Transfer-Encoding above": (SIGNED, above("Content-Transfer-Encoding: base64")),
    "a MIME-Version above": (SIGNED, above("MIME-Version: 1.0")),
    "a Subject above": (SIGNED, above("Subject: Kod AuthInfo")),
    "a From above": (SIGNED, above("From: jan@acme.pl")),
    "the unsigned charset rewritten": (
        SIGNED_AS_GMAIL,
        rewritten(b"charset=", b"charset=iso-8859-2; x="),
    ),
    "the unsigned Content-Type rewritten": (
        SIGNED_AS_GMAIL,
        rewritten(b"Content-Type: text/plain", b"Content-Type: text/html"),
    ),
}


@pytest.mark.parametrize("door", ["rest", "smtp"])
@pytest.mark.parametrize("change", sorted(OPEN_CHANGES))
def test_a_change_the_signature_leaves_open_never_keeps_a_message_accepted(
    stack: Any, door: Door, change: str
) -> None:
    # Sent on from outside: DKIM alone authenticates it. Signed over what a reader is
    # shown it is accepted; changed where the signature does not reach, it is not.
    signed = Row(OK, invoice(dkim_headers=SIGNED), frozenset(), route=OUTSIDE)
    assert decision(stack, signed, door) == "accepted"
    headers, how = OPEN_CHANGES[change]
    changed = replace(signed.mail, dkim_headers=headers, after_signing=how)
    assert decision(stack, replace(signed, mail=changed), door) != "accepted"


@pytest.mark.parametrize("door", ["rest", "smtp"])
def test_a_signature_leaving_the_body_s_fields_open_vouches_only_with_the_own_server(
    stack: Any, door: Door
) -> None:
    # The cost of I11: mail signed as Gmail signs is accepted from the customer's own
    # server, and held when only the signature authenticates it (a forward, a replay).
    row = Row(OK, invoice(dkim_headers=SIGNED_AS_GMAIL), frozenset(), route=ACME_MX)
    assert decision(stack, row, door) == "accepted"
    verdict = verdict_of(stack, replace(row, route=OUTSIDE), door)
    assert verdict["decision"] == "review"
    assert reason_of(verdict, "signed-headers") == (
        "The DKIM signature of acme.pl does not cover the Content-Type header field (it is "
        "not in h=) or the Content-Transfer-Encoding header field (it is not in h=): anyone "
        "on the way may have added what it does not sign (RFC 6376 §5.4.2), and a mail "
        "client may show that instead of the signed one."
    )


@pytest.mark.parametrize("door", ["rest", "smtp"])
@pytest.mark.parametrize("what", sorted(AFTER_LENGTH))
def test_text_after_the_signed_length_never_keeps_a_message_accepted(
    stack: Any, door: Door, what: str
) -> None:
    # I12: the same message signed with l=, accepted as signed, held once anything follows.
    signed = Row(OK, invoice(dkim_headers=SIGNED, dkim_length=True), frozenset(), route=OUTSIDE)
    assert decision(stack, signed, door) == "accepted"
    longer = replace(signed.mail, after_signing=AFTER_LENGTH[what])
    assert decision(stack, replace(signed, mail=longer), door) != "accepted"


AGAIN: dict[str, tuple[Route, Change | None]] = {
    "the same bytes from another client": (
        replace(OUTSIDE, client_ip="198.51.100.7", helo="mail.other.example"),
        None,
    ),
    "with a new envelope sender": (replace(OUTSIDE, mail_from="bounce@outside.example"), None),
    "with a Received line added": (
        OUTSIDE,
        above("Received: from mail.other.example by mx.hosting.example; Sat, 5 Dec 2026"),
    ),
    "with a Reply-To added": (OUTSIDE, above("Reply-To: ksiegowa@acme.pl")),
}
DOORS: tuple[Door, Door] = ("rest", "smtp")


@pytest.mark.parametrize("first", DOORS)
@pytest.mark.parametrize("how", sorted(AGAIN))
def test_a_signed_request_sent_again_is_never_accepted_again(
    stack: Any, first: Door, how: str
) -> None:
    # I13: a DNS change the desk carried out (and the customer may since have undone),
    # sent again later through either door: the signature's b= is the one first seen.
    raw = build(Mail(subject="Zmiana DNS", plain=DNS_CHANGE, dkim_headers=SIGNED))
    route, change = AGAIN[how]
    again = change(raw) if change is not None else raw
    door = DOORS[1 - DOORS.index(first)]
    verdict = deliver_raw(stack, raw, OUTSIDE, first)
    assert verdict["decision"] == "accepted", verdict["reasons"]
    replayed = deliver_raw(stack, again, route, door)
    if again == raw:
        # The very same bytes are answered with the first verdict, recorded once: no
        # second instruction reaches the desk, whoever hands them over.
        assert replayed["id"] == verdict["id"]
        return
    assert replayed["decision"] == "rejected", replayed["reasons"]
    assert reason_of(replayed, "replay").startswith(
        "A message with the same DKIM signature was first seen "
    )


@pytest.mark.parametrize("door", ["rest", "smtp"])
def test_an_old_signed_request_is_held_even_the_first_time_it_is_seen(
    stack: Any, door: Door
) -> None:
    # I13: a request signed three weeks ago and never sent to the desk (no fingerprint
    # to match): its signed Date gives it away.
    mail = Mail(
        subject="Zmiana DNS",
        plain=DNS_CHANGE,
        dkim_headers=SIGNED,
        date="Sat, 14 Nov 2026 10:00:00 +0100",
    )
    row = Row(I13, mail, REVIEW, route=OUTSIDE, checks=(("date-header", "fail"),))
    as_the_table_decides(stack, row, door)


def deliver_raw(stack: Any, raw: bytes, route: Route, door: Door) -> dict[str, Any]:
    if door == "smtp":
        verdict: dict[str, Any] = stack.smtp(raw, route)
        return verdict
    delivered = stack.rest(raw, route)
    assert delivered is not None
    return delivered


@pytest.mark.parametrize("door", ["rest", "smtp"])
@pytest.mark.parametrize(
    ("identity", "expected"),
    [("jan@wspolna.pl", "accepted"), ("ewa@wspolna.pl", "review")],
    ids=["own", "another customer"],
)
def test_only_another_customer_in_i_holds_a_signed_message(
    stack: Any, door: Door, identity: str, expected: str
) -> None:
    # I14: the same signed message, i= naming the sender or another registered customer.
    mail = invoice(
        sender=WSPOLNA, dkim_headers=SIGNED, dkim_domain="wspolna.pl", dkim_identity=identity
    )
    assert decision(stack, Row(I14, mail, frozenset(), route=WSPOLNA_MX), door) == expected


@pytest.mark.parametrize("door", ["rest", "smtp"])
@pytest.mark.parametrize("what", sorted(COMMENTS))
def test_a_comment_showing_another_address_never_keeps_a_message_accepted(
    stack: Any, door: Door, what: str
) -> None:
    # I15: the same signed message; From with a comment holding another address.
    plain = Row(OK, invoice(sender="jan@acme.pl", dkim_headers=SIGNED), frozenset(), route=OUTSIDE)
    assert decision(stack, plain, door) == "accepted"
    commented = replace(plain.mail, sender=COMMENTS[what])
    assert decision(stack, replace(plain, mail=commented), door) != "accepted"


def test_the_reason_names_another_customer_where_the_answer_goes(stack: Any) -> None:
    row = Row(I14, ANSWERED_BY_EWA, REVIEW, route=WSPOLNA_MX)
    assert reason_of(verdict_of(stack, row, "rest"), "handed-over-by") == (
        "The message is from the address of customer wjan, but the answer would go to "
        "ewa@wspolna.pl (Reply-To), the panel address of customer wewa: one customer wrote "
        "in another's name. Confirm with wjan before acting on it."
    )
