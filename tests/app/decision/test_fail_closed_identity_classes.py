"""Fail closed on who sent it, round 2: authentication that vouches for the wrong sender.

The rows of the fail-closed table (the same Row, stack and doors as
test_fail_closed_identity) for five more classes of identity: an SPF pass any host gets,
a mail client's own answer echoing someone else's subject, a DKIM key that refuses the
signature made with it, DMARC's relaxed alignment joining a platform's customers, and
another registered customer handing mail over in the customer's name. Attacks are never
``accepted``; legitimate mail of the same domains through the same paths stays accepted.
The metamorphic tests state each class as a relation between two messages.

Besides acme, beta and agencja, the registry holds kowal (jan@kowal.pl), pacme and pevil
(customers on subdomains of platform.pl) and wjan and wewa (two customers on wspolna.pl);
their zones are in fixtures/dns.
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
    Route,
    Stack,
)
from tests.app.decision.fail_closed.rows import OK, REJECTED, REVIEW, Row
from tests.app.decision.fail_closed.test_fail_closed import stack
from tests.app.decision.fail_closed.test_fail_closed import (
    test_what_a_person_can_read_decides as as_the_table_decides,
)
from tests.app.decision.test_fail_closed_identity import verdict_of

__all__ = ["stack"]

I6 = "identity 6 (an SPF pass any host gets)"
I7 = "identity 7 (an answer a mail client writes by itself over someone else's subject)"
I8 = "identity 8 (a DKIM key record that refuses the signature made with it)"
I9 = "identity 9 (relaxed alignment joining two customers of one platform)"
I10 = "identity 10 (another registered customer handing mail over in the customer's name)"

MORE_CUSTOMERS = {
    "kowal": {"panel_email": "jan@kowal.pl", "services": ["kowal.pl"], "name": "Kowal Serwis"},
    "pacme": {
        "panel_email": "jan@acme.platform.pl",
        "services": ["acme.platform.pl"],
        "name": "Platforma Pierwsza",
    },
    "pevil": {
        "panel_email": "zly@evil.platform.pl",
        "services": ["evil.platform.pl"],
        "name": "Platforma Druga",
    },
    "wjan": {"panel_email": "jan@wspolna.pl", "services": ["wspolna.pl"], "name": "Wspólna Jeden"},
    "wewa": {"panel_email": "ewa@wspolna.pl", "services": ["ewa-sklep.pl"], "name": "Wspólna Dwa"},
}
INVOICE = "Dzień dobry,\nproszę o duplikat faktury 11/2026.\n\nPozdrawiam\n"

# kowal.pl's own server, and the host of someone abusing records any host passes.
KOWAL_MX = Route("192.0.2.44", "mx.kowal.pl", "jan@kowal.pl")
ABUSER = Route("203.0.113.66", "mx.spf-abuser.example", "jan@kowal.pl")
PLATFORM_ACME = Route("192.0.2.80", "acme.platform.pl", "jan@acme.platform.pl")
PLATFORM_EVIL = Route("203.0.113.66", "evil.platform.pl", "zly@evil.platform.pl")
WSPOLNA_MX = Route("192.0.2.90", "mx.wspolna.pl", "jan@wspolna.pl")


@pytest.fixture(scope="module", autouse=True)
def more_customers(stack: Stack) -> None:
    for login, customer in MORE_CUSTOMERS.items():
        response = stack.api.put(f"/v1/customers/{login}", json={"kind": "company", **customer})
        assert response.status_code in (200, 201), response.text


def invoice(sender: str = "Jan <jan@kowal.pl>", **fields: Any) -> Mail:
    return Mail(subject="Faktura", plain=INVOICE, sender=sender, **fields)


def attack(sentence: str, guards: str, mail: Mail, decisions: frozenset[str], **fields: Any) -> Any:
    return pytest.param(Row(guards, mail, decisions, **fields), id=f"{guards}: {sentence}")


def legit(sentence: str, mail: Mail, **fields: Any) -> Any:
    row = Row(OK, mail, frozenset({"accepted"}), attack=False, kinds=("invoice_duplicate",))
    return pytest.param(replace(row, **fields), id=f"{OK}: {sentence}")


FROM_OUTSIDE = replace(OUTSIDE, mail_from="jan@kowal.pl")


def relay_reports(mail_from: str) -> str:
    """Our relay's Authentication-Results for an SPF pass of ``mail_from`` (no DKIM)."""
    return (
        f"{TRUSTED_AUTHSERV_ID}; spf=pass smtp.mailfrom={mail_from}; dkim=none; "
        "dmarc=pass header.from=kowal.pl"
    )


# The MAIL FROM at a subdomain of kowal.pl whose SPF record any host passes (relaxed
# alignment joins it to From kowal.pl), and what the record says.
ANYONE_PASSES = {
    "+all": "jan@all.kowal.pl",
    "ip4:0.0.0.0/1 ip4:128.0.0.0/1": "jan@wide.kowal.pl",
    "a:%{h}, the HELO name": "jan@helo.kowal.pl",
    "a:%{l}, the local part": "mx.spf-abuser.example@local.kowal.pl",
    "exists: a name that does not depend on the client": "jan@exists.kowal.pl",
    "include: of a record with +all": "jan@include.kowal.pl",
    "redirect= to a record with +all": "jan@redirect.kowal.pl",
}
SPF_ANYONE = [
    attack(
        f"an SPF record any host passes ({record}) does not authenticate the sender",
        I6,
        invoice(),
        REJECTED,
        route=replace(ABUSER, mail_from=mail_from),
        checks=(("spf", "pass"), ("dmarc", "reject")),
    )
    for record, mail_from in ANYONE_PASSES.items()
] + [
    attack(
        "our relay's header reporting such a pass (and DMARC on it) vouches for no one",
        I6,
        invoice(on_top=(("Authentication-Results", relay_reports("jan@all.kowal.pl")),)),
        REJECTED,
        route=replace(ABUSER, mail_from="jan@all.kowal.pl"),
        rest_relay=True,
        checks=(("upstream-results", "pass"), ("dmarc", "reject")),
    ),
    legit(
        "our relay's header reporting kowal.pl's own server",
        invoice(on_top=(("Authentication-Results", relay_reports("jan@kowal.pl")),)),
        route=replace(FROM_OUTSIDE, client_ip="192.0.2.44"),
        rest_relay=True,
    ),
    legit("kowal.pl's own server", invoice(), route=KOWAL_MX),
    legit(
        "a per-client record (exists:%{i}…) passing kowal.pl's own server",
        invoice(),
        route=replace(KOWAL_MX, mail_from="jan@perclient.kowal.pl"),
    ),
]

# What Outlook, Thunderbird and others write by themselves, with the subject of the
# message they answer, which anyone may have written (an invitation to the customer).
OWN_ANSWERS = (
    "Accepted: ",
    "Tentative: ",
    "Declined: ",
    "Zaakceptowano: ",
    "Wstępnie zaakceptowano: ",
    "Recall: ",
    "Odwołanie: ",
    "Read receipt: ",
    "Return Receipt (displayed) - ",
    "Potwierdzenie odczytu: ",
)
PROGRAM_MARKS = {
    "X-MS-Exchange-Inbox-Rules-Loop": "jan@acme.pl",
    "X-MS-Exchange-Generated-Message-Source": "Mailbox Rules Agent",
    "X-Forwarded-For": f"jan@acme.pl {DESK}",
    "X-Loop": "jan@acme.pl",
    "List-Unsubscribe": "<mailto:leave@lists.example>",
    "List-Post": "<mailto:klienci@lists.example>",
}
ACME = "Jan Kowalski <jan@acme.pl>"
ECHOES = [
    attack(
        f"a subject starting {prefix.strip()!r} is the client's answer to someone else's",
        I7,
        replace(invoice(ACME, dkim_headers=SIGNED), subject=prefix + "Faktura"),
        REVIEW,
        checks=(("auto-submitted", "auto"),),
    )
    for prefix in OWN_ANSWERS
] + [
    attack(
        f"{header} marks mail a program sent on or wrote",
        I7,
        invoice(ACME, dkim_headers=(*SIGNED, header.lower()), headers=((header, value),)),
        REVIEW,
        checks=(("auto-submitted", "auto"),),
    )
    for header, value in PROGRAM_MARKS.items()
]

KEYS = [
    attack(
        "a key published for sha1 only (h=sha1) does not verify a rsa-sha256 signature",
        I8,
        invoice(dkim_headers=SIGNED, dkim_domain="kowal.pl", dkim_selector="sha1"),
        REJECTED,
        route=FROM_OUTSIDE,
        checks=(("dkim", "fail"), ("dmarc", "reject")),
    ),
    attack(
        "a key flagged t=s does not verify a signature whose i= is a subdomain of d=",
        I8,
        invoice(
            dkim_headers=SIGNED,
            dkim_domain="kowal.pl",
            dkim_selector="strict",
            dkim_identity="@mail.kowal.pl",
        ),
        REJECTED,
        route=FROM_OUTSIDE,
        checks=(("dkim", "fail"), ("dmarc", "reject")),
    ),
    legit(
        "a key for sha256 only (h=sha256)",
        invoice(dkim_headers=SIGNED, dkim_domain="kowal.pl", dkim_selector="sha256"),
        route=FROM_OUTSIDE,
    ),
    legit(
        "a key for any service (s=*)",
        invoice(dkim_headers=SIGNED, dkim_domain="kowal.pl", dkim_selector="any"),
        route=FROM_OUTSIDE,
    ),
    legit(
        "a key flagged t=s, i= at d= itself",
        invoice(
            dkim_headers=SIGNED,
            dkim_domain="kowal.pl",
            dkim_selector="strict",
            dkim_identity="jan@kowal.pl",
        ),
        route=FROM_OUTSIDE,
    ),
]

PLATFORM = "Jan <jan@acme.platform.pl>"
ACROSS = [
    attack(
        f"a signature of {signer} (relaxed alignment: same organisation platform.pl) does "
        "not authenticate acme.platform.pl",
        I9,
        invoice(PLATFORM, dkim_headers=SIGNED, dkim_domain=signer),
        REVIEW,
        route=replace(PLATFORM_EVIL, mail_from=f"zly@{signer}"),
        checks=(("dmarc", "pass"), ("registered-alignment", "crossed")),
    )
    for signer in ("evil.platform.pl", "other.platform.pl")
] + [
    attack(
        "an SPF pass of evil.platform.pl's server does not authenticate acme.platform.pl",
        I9,
        invoice(PLATFORM),
        REVIEW,
        route=PLATFORM_EVIL,
        checks=(("dmarc", "pass"), ("registered-alignment", "crossed")),
    ),
    legit(
        "acme.platform.pl signing its own mail",
        invoice(PLATFORM, dkim_headers=SIGNED, dkim_domain="acme.platform.pl"),
        route=PLATFORM_ACME,
    ),
]

WSPOLNA = "Jan <jan@wspolna.pl>"
EWA = "ewa@wspolna.pl"
HANDED_OVER = (
    [
        attack(
            "another customer of the same domain as the envelope sender",
            I10,
            invoice(WSPOLNA, dkim_headers=SIGNED, dkim_domain="wspolna.pl"),
            REVIEW,
            route=replace(WSPOLNA_MX, mail_from=EWA),
            checks=(("dmarc", "pass"), ("handed-over-by", "other-customer")),
        ),
    ]
    + [
        attack(
            f"another customer of the same domain in {header}",
            I10,
            invoice(
                WSPOLNA,
                dkim_headers=(*SIGNED, header.lower()),
                dkim_domain="wspolna.pl",
                headers=((header, EWA),),
            ),
            REVIEW,
            route=WSPOLNA_MX,
            checks=(("handed-over-by", "other-customer"),),
        )
        for header in ("Sender", "Resent-From", "Resent-Sender")
    ]
    + [
        legit(
            "jan through the shared server",
            invoice(WSPOLNA, dkim_headers=SIGNED, dkim_domain="wspolna.pl"),
            route=WSPOLNA_MX,
        ),
        legit(
            "a secretary who is no customer sending on jan's behalf (Sender)",
            invoice(
                WSPOLNA,
                dkim_headers=(*SIGNED, "sender"),
                dkim_domain="wspolna.pl",
                headers=(("Sender", "sekretariat@wspolna.pl"),),
            ),
            route=replace(WSPOLNA_MX, mail_from="sekretariat@wspolna.pl"),
        ),
    ]
)

ROWS = [*SPF_ANYONE, *ECHOES, *KEYS, *ACROSS, *HANDED_OVER]


def decision(stack: Stack, row: Row, door: Door) -> str:
    result: str = verdict_of(stack, row, door)["decision"]
    return result


@pytest.mark.parametrize("door", ["rest", "smtp"])
@pytest.mark.parametrize("row", ROWS)
def test_who_sent_it_decides(stack: Stack, row: Row, door: Door) -> None:
    # The table's own assertions, on these rows.
    as_the_table_decides(stack, row, door)


@pytest.mark.parametrize("door", ["rest", "smtp"])
@pytest.mark.parametrize("mail_from", sorted(ANYONE_PASSES.values()))
def test_an_spf_pass_any_host_gets_decides_as_an_spf_fail(
    stack: Stack, door: Door, mail_from: str
) -> None:
    # I6: from the same host, MAIL FROM at kowal.pl itself fails SPF; at a name whose
    # record any host passes it passes, and the verdict is the same.
    failing = Row(I6, invoice(), HELD, route=ABUSER)
    passing = replace(failing, route=replace(ABUSER, mail_from=mail_from))
    assert decision(stack, failing, door) == "rejected"
    assert decision(stack, passing, door) == decision(stack, failing, door)


@pytest.mark.parametrize("door", ["rest", "smtp"])
@pytest.mark.parametrize("prefix", OWN_ANSWERS)
def test_a_client_answer_prefix_never_makes_a_request_acceptable(
    stack: Stack, door: Door, prefix: str
) -> None:
    # I7: the same signed request, its subject prefixed as a client prefixes its own
    # answers, is held; without the prefix it is accepted.
    typed = Row(I7, invoice(ACME, dkim_headers=SIGNED), HELD, route=ACME_MX)
    answered = replace(typed, mail=replace(typed.mail, subject=prefix + typed.mail.subject))
    assert decision(stack, typed, door) == "accepted"
    assert decision(stack, answered, door) == "review"


@pytest.mark.parametrize("door", ["rest", "smtp"])
@pytest.mark.parametrize(
    ("selector", "identity"), [("sha1", None), ("strict", "@mail.kowal.pl")], ids=["h", "t=s"]
)
def test_a_refused_key_decides_as_no_signature(
    stack: Stack, door: Door, selector: str, identity: str | None
) -> None:
    # I8 (RFC 6376 §3.6.1): a signature whose key refuses it is no signature.
    unsigned = Row(I8, invoice(), HELD, route=FROM_OUTSIDE)
    refused = replace(
        unsigned,
        mail=invoice(
            dkim_headers=SIGNED,
            dkim_domain="kowal.pl",
            dkim_selector=selector,
            dkim_identity=identity,
        ),
    )
    assert decision(stack, refused, door) == decision(stack, unsigned, door) == "rejected"


@pytest.mark.parametrize("door", ["rest", "smtp"])
def test_a_platform_subdomain_authenticates_only_its_own_mail(stack: Stack, door: Door) -> None:
    # I9: evil.platform.pl's signature is accepted on its own customer's mail and held on
    # acme.platform.pl's, though DMARC aligns both.
    own = Row(
        OK,
        invoice("Zly <zly@evil.platform.pl>", dkim_headers=SIGNED, dkim_domain="evil.platform.pl"),
        HELD,
        route=PLATFORM_EVIL,
    )
    across = replace(own, mail=replace(own.mail, sender=PLATFORM))
    assert decision(stack, own, door) == "accepted"
    assert decision(stack, across, door) == "review"


@pytest.mark.parametrize("door", ["rest", "smtp"])
@pytest.mark.parametrize("sender", [EWA, "sekretariat@wspolna.pl"], ids=["customer", "no one"])
def test_only_another_customer_handing_mail_over_holds_it(
    stack: Stack, door: Door, sender: str
) -> None:
    # I10: the same message handed over by a colleague: held when the colleague is a
    # registered customer, accepted when not.
    row = Row(
        I10,
        invoice(WSPOLNA, dkim_headers=SIGNED, dkim_domain="wspolna.pl"),
        HELD,
        route=replace(WSPOLNA_MX, mail_from=sender),
    )
    assert decision(stack, row, door) == ("review" if sender == EWA else "accepted")


def reason_of(verdict: dict[str, Any], name: str) -> str:
    reason: str = next(check["reason"] for check in verdict["checks"] if check["name"] == name)
    return reason


REASONS = {
    "registered-alignment": (
        Row(I9, invoice(PLATFORM, dkim_headers=SIGNED, dkim_domain="evil.platform.pl"), HELD),
        PLATFORM_EVIL,
        "DMARC passes for acme.platform.pl only through evil.platform.pl, which relaxed "
        "alignment joins to it by their common organisational domain platform.pl; but "
        "acme.platform.pl is within the registered service acme.platform.pl, and "
        "evil.platform.pl is not (it is within evil.platform.pl, registered to another "
        "customer): its signature or server need not be the customer's. An agent should "
        "confirm who sent the message.",
    ),
    "handed-over-by": (
        Row(I10, invoice(WSPOLNA, dkim_headers=SIGNED, dkim_domain="wspolna.pl"), HELD),
        replace(WSPOLNA_MX, mail_from=EWA),
        "The message is from the address of customer wjan, but ewa@wspolna.pl (MAIL FROM) "
        "handed it over, the panel address of customer wewa: one customer wrote in another's "
        "name. Confirm with wjan before acting on it.",
    ),
    "dkim": (
        Row(I8, invoice(dkim_headers=SIGNED, dkim_domain="kowal.pl", dkim_selector="sha1"), HELD),
        FROM_OUTSIDE,
        "1 signature: kowal.pl (rsa-sha256, 2048 bits) fails: the key at "
        "sha1._domainkey.kowal.pl allows only sha1 hashes (h=), not the signature's sha256 "
        "(RFC 6376 §3.6.1).",
    ),
}


@pytest.mark.parametrize("name", sorted(REASONS))
def test_the_reason_tells_an_agent_why(stack: Stack, name: str) -> None:
    row, route, reason = REASONS[name]
    assert reason_of(verdict_of(stack, replace(row, route=route), "rest"), name) == reason
