"""Rows of the fail-closed table for identity round 4: From written so that a parser, a
mail client and DMARC may each read another address; and From domains whose records say
little or nothing.

Identity classes 21 and 22 (test_fail_closed_identity_services). They were held before
round 4 already; the rows keep them so. I21: the attacker signs as, and sends from,
evil.platform.pl (SPF and DKIM pass for it) and writes the customer's address into From
in a form other than one plain mailbox. I22: customers whose domains publish DMARC p=none,
a pct=0 sample, two DMARC records or none, a subdomain policy (sp=, np=), or an SPF record
that evaluation refuses (too many void lookups, too many lookups, two records), sent from
a host those records do not name, or from one a refused record lists.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tests.adversarial_mail import ACME_MX, HELD, OUTSIDE, SIGNED, Route
from tests.app.decision.fail_closed.rows import REJECTED, REVIEW, attack
from tests.app.decision.fail_closed.sending import invoice, legit

I21 = "identity 21 (From written so that parsers and readers may see another address)"
I22 = "identity 22 (a From domain whose DMARC or SPF record says little or nothing)"

# evil.platform.pl's own server: its SPF and its signature pass, for evil.platform.pl.
EVIL = Route("203.0.113.66", "evil.platform.pl", "zly@evil.platform.pl")
FORMS = {
    "the customer's address first of two": "jan@acme.pl, zly@evil.platform.pl",
    "the customer's address second of two": "zly@evil.platform.pl, jan@acme.pl",
    "a group holding both addresses": "Acme: jan@acme.pl, zly@evil.platform.pl;",
    "a group holding only the customer's address": "Acme: jan@acme.pl;",
    "an encoded word showing the customer's mailbox as the name": (
        "=?utf-8?q?Jan_=3Cjan=40acme=2Epl=3E?= <zly@evil.platform.pl>"
    ),
    "an encoded word standing for the whole mailbox": "=?utf-8?q?Jan_=3Cjan=40acme=2Epl=3E?=",
    "an encoded word standing for the address": "=?utf-8?q?jan=40acme=2Epl?=",
    "a percent hack (jan%acme.pl@…)": "jan%acme.pl@evil.platform.pl",
    "a source route through evil.platform.pl": "Jan <@evil.platform.pl:jan@acme.pl>",
    "a source route through acme.pl": "Jan <@acme.pl:zly@evil.platform.pl>",
    "a quoted local part holding the address": '"jan@acme.pl"@evil.platform.pl',
    "the customer's address as the display name": "jan@acme.pl <zly@evil.platform.pl>",
    "a trailing dot after the domain": "Jan <jan@acme.pl.>",
    "the domain in fullwidth letters": "Jan <jan@ａｃｍｅ.pl>",
}
FROM_FORMS = (
    [
        attack(
            f"{what} in From is never accepted",
            I21,
            invoice(sender=sender, dkim_headers=SIGNED, dkim_domain="evil.platform.pl"),
            HELD,
            route=EVIL,
        )
        for what, sender in FORMS.items()
    ]
    + [
        attack(
            f"{what}, on evil.platform.pl's own message",
            I21,
            invoice(
                sender="zly@evil.platform.pl",
                dkim_headers=SIGNED,
                dkim_domain="evil.platform.pl",
                **{where: (header,)},
            ),
            HELD,
            route=EVIL,
        )
        for what, where, header in (
            (
                "a field named 'From ' (a space before the colon) above",
                "on_top",
                ("From ", "jan@acme.pl"),
            ),
            ("a Resent-From of the customer", "headers", ("Resent-From", "jan@acme.pl")),
        )
    ]
    + [
        attack(
            "an empty From with Sender the customer's address, from the customer's own server",
            I21,
            invoice(sender="", headers=(("Sender", "jan@acme.pl"),)),
            HELD,
        ),
        legit(
            "From in capitals, from the customer's own server", invoice(sender="Jan <JAN@ACME.PL>")
        ),
    ]
)

# The same From of acme, rewritten; from acme's own server each one is held (metamorphic).
REWRITTEN_FROM = {
    "a second address": "Jan <jan@acme.pl>, Ola <ola@beta.pl>",
    "a group": "Acme: Jan <jan@acme.pl>;",
    "a group with another address": "Acme: Jan <jan@acme.pl>, ola@beta.pl;",
    "an encoded word for the whole mailbox": "=?utf-8?q?Jan_=3Cjan=40acme=2Epl=3E?=",
    "a source route": "Jan <@mx.acme.pl:jan@acme.pl>",
    "a trailing dot": "Jan <jan@acme.pl.>",
    "a comment holding another address": "Jan <jan@acme.pl> (ola@beta.pl)",
}

# Customers on the zones of fixtures/dns whose records say little.
RECORD_CUSTOMERS = {
    f"r{number}": {"panel_email": f"jan@{domain}", "services": [domain], "name": f"Rekord {number}"}
    for number, domain in enumerate(
        (
            "monitor.pl",
            "sampled.pl",
            "broken-dmarc.pl",
            "no-dmarc.pl",
            "ghost.parent.pl",
            "shop.parent.pl",
            "void.spf-cases.example",
            "lookups.spf-cases.example",
            "two-records.spf-cases.example",
        )
    )
}


def _from_outside(domain: str) -> Route:
    return replace(OUTSIDE, mail_from=f"jan@{domain}")


# (what the record says, the From domain, the host it comes from, the hold, the dmarc result)
SAYS_LITTLE: tuple[tuple[str, str, Route, frozenset[str], str], ...] = (
    ("p=none", "monitor.pl", _from_outside("monitor.pl"), REVIEW, "fail"),
    ("pct=0 of p=quarantine", "sampled.pl", _from_outside("sampled.pl"), REVIEW, "fail"),
    ("two DMARC records", "broken-dmarc.pl", _from_outside("broken-dmarc.pl"), REVIEW, "permerror"),
    ("no DMARC record", "no-dmarc.pl", _from_outside("no-dmarc.pl"), REVIEW, "none"),
    (
        "np=reject (no such name)",
        "ghost.parent.pl",
        _from_outside("ghost.parent.pl"),
        REJECTED,
        "reject",
    ),
    ("sp=quarantine", "shop.parent.pl", _from_outside("shop.parent.pl"), REJECTED, "quarantine"),
    (
        "an SPF record with three void lookups, from the host it lists",
        "void.spf-cases.example",
        replace(ACME_MX, mail_from="jan@void.spf-cases.example"),
        REVIEW,
        "none",
    ),
    (
        "an SPF record of more than ten lookups, from the host it lists",
        "lookups.spf-cases.example",
        replace(ACME_MX, mail_from="jan@lookups.spf-cases.example"),
        REVIEW,
        "none",
    ),
    (
        "two SPF records, one of them +all",
        "two-records.spf-cases.example",
        _from_outside("two-records.spf-cases.example"),
        REVIEW,
        "none",
    ),
)
RECORDS = [
    attack(
        f"mail of a domain whose record says {what} is held",
        I22,
        invoice(sender=f"Jan <jan@{domain}>"),
        held,
        route=route,
        checks=(("dmarc", result),),
    )
    for what, domain, route, held, result in SAYS_LITTLE
] + [
    legit(
        "a p=none domain's own server",
        invoice(sender="Jan <jan@monitor.pl>"),
        route=Route("192.0.2.22", "mx.monitor.pl", "jan@monitor.pl"),
    ),
    legit(
        "the own server of a domain without a DMARC record",
        invoice(sender="Jan <jan@no-dmarc.pl>"),
        route=Route("192.0.2.27", "mx.no-dmarc.pl", "jan@no-dmarc.pl"),
    ),
]

ROWS: list[Any] = [*FROM_FORMS, *RECORDS]
