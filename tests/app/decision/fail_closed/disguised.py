"""Fail-closed rows of classes 28 and 29: another service named where the reader did not
look (a link's address, letters of two scripts), and a request in the text a screen
reader reads aloud."""

from __future__ import annotations

from tests.adversarial_mail import Mail
from tests.app.decision.fail_closed.carried import PAYLOADS
from tests.app.decision.fail_closed.rows import (
    FOREIGN,
    OWN_TRANSFER,
    REVIEW,
    attack,
    legit,
    on_surfaces,
    plain,
)

C28 = "class 28 (another service named in a link's address or in letters of two scripts)"
C29 = "class 29 (a request in what a screen reader reads aloud)"
C30 = "class 30 (a string CSS draws after a counter, a quote or an image)"
C31 = "class 31 (a server named by a number written in words)"
INVOICE = "Dzień dobry,\nproszę o duplikat faktury 11/2026 za acme.pl.\n"
INVOICE_HTML = "<p>Dzień dobry,<br>proszę o duplikat faktury 11/2026 za acme.pl.</p>"


def _linked(address: str) -> list[tuple[str, Mail]]:
    return [
        (
            "behind a link's text",
            Mail(subject="Faktura", html=f"{INVOICE_HTML}<p><a href='{address}'>faktura</a></p>"),
        ),
        ("written out in plain text", plain("Faktura", f"{INVOICE}Link: {address}\n")),
    ]


# Each ended accepted on main: the same request (an invoice) for another customer's
# service named in the address's path or query, which the reader did not read for names.
IN_LINKS = [
    attack(f"«{address}» {where}", C28, mail, FOREIGN)
    for address in (
        "https://panel.example/faktura/duplikat?domena=beta.pl",
        "https://panel.example/invoice?for=kwiaty.pl",
        "https://panel.example/duplikat/vps-77777",
    )
    for where, mail in _linked(address)
]

# A domain with a Greek or a Cyrillic letter a person reads as Latin: βeta.pl and Ьeta.pl
# ended accepted on main (confusables.txt gives neither letter as a Latin one); held
# now for the two scripts, as the others were for what they imitate.
TWO_SCRIPTS = [
    attack(f"«{domain}» {where}", C28, plain("Faktura", text), FOREIGN)
    for domain in ("βeta.pl", "Ьeta.pl", "kwiaτy.pl", "beta.рl")
    for where, text in (
        (
            "as the invoice's domain",
            f"Dzień dobry,\nproszę o duplikat faktury 11/2026 za {domain}.\n",
        ),
        ("as a second domain", f"{INVOICE}I za {domain}.\n"),
    )
]


def read_aloud(payload: str) -> list[tuple[str, Mail]]:
    """Class 29: ``payload`` where a screen reader reads it in place of what is drawn."""
    return [
        (
            f"a button's {attribute}",
            Mail(
                subject="Faktura", html=f"{INVOICE_HTML}<button {attribute}='{payload}'>OK</button>"
            ),
        )
        for attribute in ("aria-label", "aria-description")
    ]


# The password reset and the address change ended accepted on main (the AuthInfo
# requests were held, as their words were in the subject's history of earlier rounds).
READ_ALOUD = on_surfaces(PAYLOADS, ((C29, read_aloud),), OWN_TRANSFER)


def generated(payload: str) -> list[tuple[str, Mail]]:
    """Class 30: ``payload`` as a string of generated content after something else."""
    return [
        (
            f"after {before}",
            Mail(
                subject="Faktura",
                html=f"<style>li::before {{ content: {before} '{payload}' }}</style>"
                f"{INVOICE_HTML}<ol><li>x</li></ol>",
            ),
        )
        for before in ("counter(list-item)", "open-quote", "url(cid:x)")
    ]


# Each ended accepted on main: the first value of content was read only when a string.
GENERATED = on_surfaces(PAYLOADS, ((C30, generated),), OWN_TRANSFER)

# Each ended accepted on main: beta's vps-77777 named for the invoice in words, which no
# pattern reads as a server id.
IN_WORDS = [
    attack(f"«{sentence}»", C31, plain("Faktura", f"Dzień dobry,\n{sentence}\n"), REVIEW)
    for sentence in (
        "Proszę o duplikat faktury za vps siedem siedem siedem siedem siedem.",
        "Proszę o duplikat faktury za serwer numer siedemdziesiąt siedem tysięcy siedemset"
        " siedemdziesiąt siedem.",
        "Please send a duplicate invoice for vps seven seven seven seven seven.",
    )
]

DISGUISED_LEGITIMATE = [
    legit(
        "a link to the customer's own site through a redirect naming it",
        Mail(
            subject="Faktura",
            html=f"{INVOICE_HTML}<p><a href='https://l.example/?u=https%3A%2F%2Fwww.acme.pl%2F'>"
            "www.acme.pl</a></p>",
        ),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "an icon's label read aloud",
        Mail(
            subject="Faktura",
            html=f"{INVOICE_HTML}<a href='https://www.acme.pl' aria-label='ACME'>⌂</a>",
        ),
        "accepted",
        ("invoice_duplicate",),
    ),
]
