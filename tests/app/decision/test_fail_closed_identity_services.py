"""Fail closed on who sent it, round 4: a service vouches, not the customer; old signatures.

DMARC authenticates a domain through whatever aligns. Here what aligns is something that
sends for many: a shared relay the domain's SPF record includes (I16), the platform's own
name above a customer's registered subdomain (I17), a subdomain delegated to a bulk
sender that hands the mail over itself (I18). Besides: a signature its signer stopped
vouching for at x= (I19), and another registered customer's mailbox handing a signed
message over from another organisation (I20). Rows of the fail-closed table (the same
Row, stack and doors as the earlier rounds), attacks never ``accepted``; legitimate mail
of the same domains through the same paths stays accepted. The metamorphic tests state
each class as a relation: what the customer's own mail system adds (its own signature,
its own server) is what makes the same message acceptable, and nothing else does.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from app.console.explanations import EXPLANATIONS, explanation
from tests.adversarial_mail import ACME_MX, OUTSIDE, SIGNED, Door, Stack
from tests.app.decision.fail_closed import forms
from tests.app.decision.fail_closed.forms import I21, RECORD_CUSTOMERS, REWRITTEN_FROM
from tests.app.decision.fail_closed.rows import OK, REVIEW, Row
from tests.app.decision.fail_closed.sending import (
    BULK,
    EXPIRIES,
    I16,
    I17,
    I18,
    I19,
    I20,
    OTHER_CUSTOMERS,
    PLATFORM,
    PLATFORM_MX,
    RELAY,
    ROWS,
    SENDING_CUSTOMERS,
    SKLEPIK,
    SKLEPIK_MX,
    STILL_VALID,
    expiring,
    invoice,
    signed_again,
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


@pytest.fixture(scope="module", autouse=True)
def sending_customers(stack: Stack) -> None:
    for login, customer in {**SENDING_CUSTOMERS, **RECORD_CUSTOMERS}.items():
        response = stack.api.put(f"/v1/customers/{login}", json={"kind": "company", **customer})
        assert response.status_code in (200, 201), response.text


@pytest.mark.parametrize("door", ["rest", "smtp"])
@pytest.mark.parametrize("row", [*ROWS, *forms.ROWS])
def test_who_vouches_decides(stack: Stack, row: Row, door: Door) -> None:
    as_the_table_decides(stack, row, door)


# I16, metamorphic: the same unsigned message from a host of the shared relay is held
# whichever way the record reaches the relay's; the customer's own signature added to it,
# or its own server handing it over, is what makes it acceptable.
SHARED_SENDERS = (
    "jan@sklepik.pl",
    "jan@poczta.sklepik.pl",
    "jan@siec.sklepik.pl",
    "jan@nazwany.sklepik.pl",
)


@pytest.mark.parametrize("door", ["rest", "smtp"])
@pytest.mark.parametrize("sender", SHARED_SENDERS)
def test_only_the_customer_s_own_signature_makes_relayed_mail_acceptable(
    stack: Stack, door: Door, sender: str
) -> None:
    domain = sender.partition("@")[2]
    relayed = Row(
        I16, invoice(sender=f"Jan <{sender}>"), REVIEW, route=replace(RELAY, mail_from=sender)
    )
    signed = replace(relayed, mail=replace(relayed.mail, dkim_headers=SIGNED, dkim_domain=domain))
    assert decision(stack, relayed, door) == "review"
    assert decision(stack, signed, door) == "accepted"


@pytest.mark.parametrize("door", ["rest", "smtp"])
def test_the_relay_s_host_and_the_customer_s_own_differ_only_in_who_authorises_them(
    stack: Stack, door: Door
) -> None:
    # The same message and MAIL FROM; SPF passes both ways, DMARC aligns both ways.
    own = Row(OK, invoice(sender=SKLEPIK), REVIEW, route=SKLEPIK_MX)
    shared = replace(own, route=RELAY)
    own_verdict, shared_verdict = verdict_of(stack, own, door), verdict_of(stack, shared, door)
    assert own_verdict["decision"] == "accepted"
    assert shared_verdict["decision"] == "review"
    for verdict in (own_verdict, shared_verdict):
        results = {c["name"]: c["result"] for c in verdict["checks"]}
        assert (results["spf"], results["dmarc"]) == ("pass", "pass")


# I17, metamorphic: acme.platform.pl's mail signed by itself, by the platform's own name,
# and by both.
SIGNERS = {
    "its own name": ({"dkim_domain": "acme.platform.pl"}, "accepted"),
    "the platform's name": ({"dkim_domain": "platform.pl"}, "review"),
    "both": (
        {"dkim_domain": "acme.platform.pl", "after_signing": signed_again("platform.pl")},
        "accepted",
    ),
}


@pytest.mark.parametrize("door", ["rest", "smtp"])
@pytest.mark.parametrize("signer", sorted(SIGNERS))
def test_the_platform_s_own_name_vouches_for_no_customer_below_it(
    stack: Stack, door: Door, signer: str
) -> None:
    how, expected = SIGNERS[signer]
    mail = invoice(sender=PLATFORM, dkim_headers=SIGNED, **how)
    assert decision(stack, Row(I17, mail, REVIEW, route=PLATFORM_MX), door) == expected


# I18, metamorphic: the same message signed by the delegated subdomain, handed over by the
# bulk sender or by sklepik.pl's own server.
@pytest.mark.parametrize("door", ["rest", "smtp"])
def test_a_delegated_subdomain_vouches_only_beside_the_customer_s_own_server(
    stack: Stack, door: Door
) -> None:
    mail = invoice(sender=SKLEPIK, dkim_headers=SIGNED, dkim_domain="news.sklepik.pl")
    assert decision(stack, Row(I18, mail, REVIEW, route=BULK), door) == "review"
    assert decision(stack, Row(I18, mail, REVIEW, route=SKLEPIK_MX), door) == "accepted"
    own = replace(mail, dkim_domain="sklepik.pl")
    assert decision(stack, Row(I18, own, REVIEW, route=BULK), door) == "accepted"


# I19, metamorphic: one request signed at the same time, its x= moved across now.
@pytest.mark.parametrize("door", ["rest", "smtp"])
@pytest.mark.parametrize("when", sorted({**EXPIRIES, **STILL_VALID}))
def test_a_signature_vouches_until_its_expiry_and_no_longer(
    stack: Stack, door: Door, when: str
) -> None:
    offset = {**EXPIRIES, **STILL_VALID}[when]
    row = Row(I19, invoice(after_signing=expiring(offset)), REVIEW, route=OUTSIDE)
    unsigned = replace(row, mail=invoice())
    if when in STILL_VALID:
        assert decision(stack, row, door) == "accepted"
    else:
        assert decision(stack, row, door) == decision(stack, unsigned, door) == "rejected"


# I20, metamorphic: the same signed request, MAIL FROM changed only.
@pytest.mark.parametrize("door", ["rest", "smtp"])
@pytest.mark.parametrize("route", [OUTSIDE, ACME_MX], ids=["outside", "acme's server"])
def test_only_another_customer_s_mailbox_as_envelope_sender_holds_a_signed_request(
    stack: Stack, door: Door, route: Any
) -> None:
    row = Row(I20, invoice(dkim_headers=SIGNED), REVIEW, route=route)
    assert decision(stack, replace(row, route=replace(route, mail_from="kto@gmail.com")), door) == (
        "accepted"
    )
    for address in OTHER_CUSTOMERS.values():
        assert decision(stack, replace(row, route=replace(route, mail_from=address)), door) == (
            "review"
        )


# I21, metamorphic: acme's own From, from acme's own server, accepted; the same From
# rewritten into any other form, held.
@pytest.mark.parametrize("door", ["rest", "smtp"])
@pytest.mark.parametrize("form", sorted(REWRITTEN_FROM))
def test_from_in_any_other_form_than_one_mailbox_is_never_accepted(
    stack: Stack, door: Door, form: str
) -> None:
    plain = Row(I21, invoice(), REVIEW, route=ACME_MX)
    rewritten = replace(plain, mail=invoice(sender=REWRITTEN_FROM[form]))
    assert decision(stack, plain, door) == "accepted"
    assert decision(stack, rewritten, door) != "accepted"


REASONS = {
    "sending-service": (
        Row(I16, invoice(sender=SKLEPIK), REVIEW, route=RELAY),
        "DMARC passes for sklepik.pl only through SPF for sklepik.pl, whose record passes "
        "the host through spf.sharedrelay.example, another organisation's name (an include, "
        "a redirect or a host it names): that service sends for all its customers alike, so "
        "the pass shows which service handed the message over, not that the customer wrote "
        "it. No DKIM signature of sklepik.pl vouches for it; an agent should confirm who "
        "sent it.",
    ),
    "registered-alignment": (
        Row(I17, invoice(sender=PLATFORM), REVIEW, route=PLATFORM_MX),
        "DMARC passes for acme.platform.pl only through platform.pl, a name above it that "
        "relaxed alignment lets vouch for it; but acme.platform.pl is within the registered "
        "service acme.platform.pl, and platform.pl lies above that service and is not "
        "registered to the same customer: it signs or sends for every name below it alike, "
        "so it does not show which customer sent the message. An agent should confirm who "
        "sent it.",
    ),
    "handed-over-by": (
        Row(
            I20,
            invoice(dkim_headers=SIGNED),
            REVIEW,
            route=replace(OUTSIDE, mail_from="ola@beta.pl"),
        ),
        "The message is from the address of customer acme, but ola@beta.pl (MAIL FROM) "
        "handed it over, the panel address of customer beta: one customer wrote in another's "
        "name. Confirm with acme before acting on it.",
    ),
}


@pytest.mark.parametrize("name", sorted(REASONS))
def test_the_reason_tells_an_agent_why(stack: Stack, name: str) -> None:
    row, reason = REASONS[name]
    assert reason_of(verdict_of(stack, row, "rest"), name) == reason


def test_an_expired_signature_s_reason_says_when_it_expired(stack: Stack) -> None:
    row = Row(I19, invoice(after_signing=expiring(-3600)), REVIEW, route=OUTSIDE)
    reason = reason_of(verdict_of(stack, row, "rest"), "dkim")
    assert reason.startswith(
        "1 signature: acme.pl (rsa-sha256) fails: the signature has expired (x="
    )
    assert reason.endswith(", 60 minutes before it was checked; RFC 6376 §3.5).")


def test_the_console_says_handed_over_by_covers_where_the_answer_goes() -> None:
    # English is the catalogue's source text; Polish its translation.
    english = EXPLANATIONS["handed-over-by.pass"]
    polish = explanation("pl", "handed-over-by", "pass")
    assert "Reply-To" in english and "answer" in english, english
    assert polish is not None and "Reply-To" in polish and "odpowiedzi" in polish, polish
