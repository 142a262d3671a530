"""Fail closed on who sent it: authentication claims that must not vouch for the sender.

The rows of the fail-closed table (the same Row, stack and doors) for the classes of
identity: what the headers, the trusted relay's Authentication-Results and the DKIM keys
say about the sender. Attacks are never ``accepted``; legitimate mail through the same
paths stays accepted. The metamorphic tests state each class as a relation: what the
class adds to a message never makes its verdict more trusting.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.adversarial_mail import (
    ACME_MX,
    DESK,
    HELD,
    OUTSIDE,
    SIGNED,
    TRUSTED_AUTHSERV_ID,
    Door,
    Mail,
    Stack,
    build,
    check_result,
)

# The fail-closed table is being split into a package (tests/app/decision/fail_closed):
# its Row, stack fixture, delivery and test are imported from wherever they are, the
# test under a name pytest does not collect a second time.
try:
    from tests.app.decision.fail_closed.rows import OK, REJECTED, REVIEW, Row
    from tests.app.decision.fail_closed.test_fail_closed import deliver, stack
    from tests.app.decision.fail_closed.test_fail_closed import (
        test_what_a_person_can_read_decides as as_the_table_decides,
    )
except ModuleNotFoundError:
    from tests.app.decision.test_fail_closed import OK, REJECTED, REVIEW, Row, deliver, stack
    from tests.app.decision.test_fail_closed import (
        test_what_a_person_can_read_decides as as_the_table_decides,
    )

__all__ = ["stack"]

I1 = "identity 1 (a trusted Authentication-Results header repeated below our relay's)"
I2 = "identity 2 (an upstream SPF pass for the HELO name vouching for a real sender)"
I3 = "identity 3 (a signature of a domain testing DKIM)"
I4 = "identity 4 (a signed message written to someone else, sent on to the desk)"
I5 = "identity 5 (a recipient added above the signature, where a reply to all goes)"

INVOICE = "Dzień dobry,\nproszę o duplikat faktury 11/2026.\n\nJan Kowalski\n"
# What our relay writes on top for mail from outside that nothing authenticates.
RELAY_FAILED = (
    f"{TRUSTED_AUTHSERV_ID}; spf=fail smtp.mailfrom=jan@acme.pl; dkim=none; "
    "dmarc=fail header.from=acme.pl"
)
RELAY_PASSED = (
    f"{TRUSTED_AUTHSERV_ID}; spf=pass smtp.mailfrom=jan@acme.pl; "
    "dkim=pass header.d=acme.pl header.s=rsa2048; dmarc=pass header.from=acme.pl"
)
# Copies of our relay's id the sender writes into the message before it reaches the relay.
FORGED_COPIES = {
    "an aligned DKIM pass": f"{TRUSTED_AUTHSERV_ID}; dkim=pass header.d=acme.pl",
    "an aligned SPF pass": f"{TRUSTED_AUTHSERV_ID}; spf=pass smtp.mailfrom=jan@acme.pl",
    "a DMARC pass": f"{TRUSTED_AUTHSERV_ID}; dmarc=pass header.from=acme.pl",
    "every pass": RELAY_PASSED,
}


def invoice(**fields: Any) -> Mail:
    return Mail(subject="Faktura", plain=INVOICE, **fields)


def through_relay(
    sentence: str, guards: str, mail: Mail, decisions: frozenset[str], **fields: Any
) -> Any:
    """A row whose message reaches us through our relay, at both doors."""
    fields.setdefault("route", OUTSIDE)
    row = Row(guards, mail, decisions, hop="relay", rest_relay=True, **fields)
    return pytest.param(row, id=f"{guards}: {sentence}")


def legit(sentence: str, mail: Mail, **fields: Any) -> Any:
    row = Row(OK, mail, frozenset({"accepted"}), attack=False, kinds=("invoice_duplicate",))
    return pytest.param(replace(row, **fields), id=f"{OK}: {sentence}")


REPEATED = [
    through_relay(
        f"a copy of our relay's id claiming {claim}, under the relay's own failing header, "
        "vouches for nothing",
        I1,
        invoice(
            on_top=(("Authentication-Results", RELAY_FAILED), ("Authentication-Results", copy))
        ),
        REJECTED,
        checks=(("upstream-results", "repeated"),),
    )
    for claim, copy in FORGED_COPIES.items()
] + [
    through_relay(
        "a copy of our relay's id under a header that reports nothing is held too",
        I1,
        invoice(
            on_top=(
                ("Authentication-Results", f"{TRUSTED_AUTHSERV_ID}; none"),
                ("Authentication-Results", RELAY_PASSED),
            )
        ),
        REJECTED,
        checks=(("upstream-results", "repeated"),),
    ),
    through_relay(
        "a copy of our relay's id in mail that SPF authenticates is held for an agent",
        I1,
        invoice(
            on_top=(
                ("Authentication-Results", RELAY_PASSED),
                ("Authentication-Results", RELAY_PASSED),
            )
        ),
        REVIEW,
        route=ACME_MX,
        checks=(("upstream-results", "repeated"), ("dmarc", "pass")),
    ),
]

HELO = [
    through_relay(
        f"our relay's SPF pass for the HELO name {helo} beside MAIL FROM jan@acme.pl "
        "vouches for nothing",
        I2,
        invoice(
            on_top=(
                ("Authentication-Results", f"{TRUSTED_AUTHSERV_ID}; spf=pass smtp.helo={helo}"),
            )
        ),
        REJECTED,
        checks=(("upstream-results", "pass"), ("dmarc", "reject")),
    )
    for helo in ("acme.pl", "mx.acme.pl")
]

TESTING = [
    pytest.param(
        Row(I3, invoice(dkim_headers=SIGNED, dkim_selector="testing"), REJECTED, route=OUTSIDE),
        id=f"{I3}: a signature whose key says t=y does not authenticate mail from outside",
    ),
]

# What acme's customer wrote to others, signed by acme.pl, that they send on to the desk.
WRITTEN_ELSEWHERE = {
    "an agency that is also a customer": "biuro@agencja.pl",
    "a free mailbox": "kto@gmail.com",
    "no one but undisclosed recipients": "undisclosed-recipients:;",
}
SENT_ON = [
    pytest.param(
        Row(
            I4,
            invoice(dkim_headers=SIGNED, to=to),
            REVIEW,
            route=OUTSIDE,
            checks=(("addressed-to", "elsewhere"),),
        ),
        id=f"{I4}: a request written to {whom} and sent on from outside is held",
    )
    for whom, to in WRITTEN_ELSEWHERE.items()
] + [
    pytest.param(
        Row(
            I4,
            invoice(dkim_headers=SIGNED, to="biuro@agencja.pl", on_top=(("Cc", DESK),)),
            REVIEW,
            route=OUTSIDE,
            checks=(("addressed-to", "elsewhere"),),
        ),
        id=f"{I4}: the desk in a Cc added above the signature does not count",
    ),
]

ADDED = [
    pytest.param(
        Row(
            I5,
            invoice(dkim_headers=SIGNED, on_top=((header, "kto@gmail.com"),)),
            REVIEW,
            route=OUTSIDE,
            checks=(("addressed-to", "unsigned"),),
        ),
        id=f"{I5}: a {header} to a free mailbox put above acme's signature is held",
    )
    for header in ("Cc", "To")
]

LEGITIMATE = [
    legit(
        "our relay's one header reporting an aligned SPF pass",
        invoice(
            on_top=(
                (
                    "Authentication-Results",
                    f"{TRUSTED_AUTHSERV_ID}; spf=pass smtp.mailfrom=jan@acme.pl",
                ),
            )
        ),
        route=OUTSIDE,
        rest_relay=True,
    ),
    legit(
        "our relay's one header reporting a DKIM pass of a subdomain (relaxed alignment)",
        invoice(
            on_top=(
                (
                    "Authentication-Results",
                    f"{TRUSTED_AUTHSERV_ID}; dkim=pass header.d=mail.acme.pl",
                ),
            )
        ),
        route=OUTSIDE,
        rest_relay=True,
    ),
    legit(
        "a signed request from outside with a colleague at acme.pl in a Cc it does not sign",
        invoice(dkim_headers=SIGNED, headers=(("Cc", "ksiegowosc@acme.pl"),)),
        route=OUTSIDE,
    ),
    legit(
        "a signed request Bcc'd to the desk from acme's own server",
        invoice(dkim_headers=SIGNED, to="ksiegowosc@agencja.pl"),
    ),
    legit(
        "a signed request to the desk and the customer's agency in Cc, from outside",
        invoice(dkim_headers=(*SIGNED, "cc"), to=DESK, headers=(("Cc", "biuro@agencja.pl"),)),
        route=OUTSIDE,
    ),
]

ROWS = [*REPEATED, *HELO, *TESTING, *SENT_ON, *ADDED, *LEGITIMATE]


def verdict_of(stack: Stack, row: Row, door: Door) -> dict[str, Any]:
    verdict = deliver(stack, row, door)
    assert verdict is not None, f"the {door} door refused {row.guards}"
    return verdict


@pytest.mark.parametrize("door", ["rest", "smtp"])
@pytest.mark.parametrize("row", ROWS)
def test_who_sent_it_decides(stack: Stack, row: Row, door: Door) -> None:
    # The table's own assertions, on these rows.
    as_the_table_decides(stack, row, door)


@pytest.mark.parametrize("door", ["rest", "smtp"])
@pytest.mark.parametrize("claim", sorted(FORGED_COPIES))
def test_a_copy_of_our_relays_header_never_makes_a_verdict_more_trusting(
    stack: Stack, door: Door, claim: str
) -> None:
    # Mail our relay authenticated is accepted with its header alone; a copy of the id
    # under it, whatever it claims, holds it (I1).
    alone = Row(OK, invoice(on_top=(("Authentication-Results", RELAY_PASSED),)), HELD)
    alone = replace(alone, route=OUTSIDE, rest_relay=True)
    copied = replace(
        alone,
        mail=invoice(
            on_top=(
                ("Authentication-Results", RELAY_PASSED),
                ("Authentication-Results", FORGED_COPIES[claim]),
            )
        ),
    )
    assert verdict_of(stack, alone, door)["decision"] == "accepted"
    assert verdict_of(stack, copied, door)["decision"] in HELD


@pytest.mark.parametrize("door", ["rest", "smtp"])
@pytest.mark.parametrize("route", [OUTSIDE, ACME_MX], ids=["outside", "acme's server"])
def test_a_testing_signature_decides_as_no_signature(stack: Stack, door: Door, route: Any) -> None:
    # RFC 6376 §3.6.1 t=y (I3): mail of a domain testing DKIM is treated as unsigned mail.
    unsigned = Row(I3, invoice(), HELD, route=route)
    testing = replace(unsigned, mail=invoice(dkim_headers=SIGNED, dkim_selector="testing"))
    assert (
        verdict_of(stack, testing, door)["decision"]
        == verdict_of(stack, unsigned, door)["decision"]
    )


@pytest.mark.parametrize("door", ["rest", "smtp"])
def test_an_upstream_helo_pass_decides_as_no_header(stack: Stack, door: Door) -> None:
    # RFC 7208 §2.4 (I2): the HELO identity stands in only for a null MAIL FROM.
    bare = Row(I2, invoice(), HELD, route=OUTSIDE, rest_relay=True)
    helo = replace(
        bare,
        mail=invoice(
            on_top=(
                ("Authentication-Results", f"{TRUSTED_AUTHSERV_ID}; spf=pass smtp.helo=acme.pl"),
            )
        ),
    )
    assert verdict_of(stack, helo, door)["decision"] == verdict_of(stack, bare, door)["decision"]


@pytest.mark.parametrize("door", ["rest", "smtp"])
@pytest.mark.parametrize("to", sorted(WRITTEN_ELSEWHERE.values()))
def test_whom_a_signed_message_was_written_to_matters_only_without_spf(
    stack: Stack, door: Door, to: str
) -> None:
    # I4: from acme's own server the recipients change nothing (a Bcc); sent on from
    # outside, the same signed request written to someone else is held.
    for route, elsewhere in ((ACME_MX, "accepted"), (OUTSIDE, "review")):
        to_desk = Row(I4, invoice(dkim_headers=SIGNED), HELD, route=route)
        assert verdict_of(stack, to_desk, door)["decision"] == "accepted"
        written_elsewhere = replace(to_desk, mail=invoice(dkim_headers=SIGNED, to=to))
        assert verdict_of(stack, written_elsewhere, door)["decision"] == elsewhere


def test_a_signed_request_given_without_a_recipient_is_held_unless_spf_vouches(
    stack: Stack,
) -> None:
    # A REST caller that gives no rcpt, where no desk domain is configured (the stack sets
    # neither PROVIDER_DOMAINS nor INTAKE_RECIPIENTS): whom a signed message sent on from
    # outside was written to cannot be compared, and it is held; from acme's own server
    # the recipients change nothing.
    for route, expected in ((ACME_MX, "accepted"), (OUTSIDE, "review")):
        verdict = stack.rest(build(invoice(dkim_headers=SIGNED)), route, rcpt=False)
        assert verdict is not None
        assert verdict["decision"] == expected, verdict["reasons"]
    assert check_result(verdict, "addressed-to") == "unknown-desk"
