"""Rows of the fail-closed table for identity round 3: what the signature does not cover.

Identity classes 11 to 15 (test_fail_closed_identity_signed): a header field the
signature leaves open, text after l=, a signed message sent again, another customer in
i= or where the answer goes, another address in a comment of From. The messages are a
genuine signed message of the customer, changed afterwards where the signature does not
reach (``Mail.after_signing``, ``Mail.on_top``).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import replace
from email.utils import formatdate
from typing import Any

import pytest

from tests.adversarial_mail import ACME_MX, OUTSIDE, SIGNED, SIGNED_AS_GMAIL, Mail, Route
from tests.app.decision.fail_closed.rows import OK, REJECTED, REVIEW, Row, attack

I11 = "identity 11 (a header field the signature leaves open: Reply-To, Content-Type…)"
I12 = "identity 12 (text after the body length the signature covers, l=)"
I13 = "identity 13 (a signed message sent again, or signed at another time than now)"
I14 = "identity 14 (another customer in the signature's i= or where the answer goes)"
I15 = "identity 15 (another address in a comment of From)"

INVOICE = "Dzień dobry,\nproszę o duplikat faktury 11/2026.\n\nJan Kowalski\n"
DNS_CHANGE = "Proszę o zmianę rekordu DNS typu A dla acme.pl na 203.0.113.66."
Change = Callable[[bytes], bytes]


def above(line: str) -> Change:
    """Put a header line above the signed message (where no signature reaches)."""
    return lambda raw: f"{line}\r\n".encode() + raw


def rewritten(old: bytes, new: bytes) -> Change:
    """Rewrite the first ``old`` of the signed message (a field the signature leaves out)."""

    def change(raw: bytes) -> bytes:
        assert old in raw, f"{old!r} is not in the message"
        return raw.replace(old, new, 1)

    return change


def appended(text: bytes) -> Change:
    return lambda raw: raw + text


def invoice(**fields: Any) -> Mail:
    return Mail(subject="Faktura", plain=INVOICE, **fields)


def legit(sentence: str, mail: Mail, **fields: Any) -> Any:
    row = Row(OK, mail, frozenset({"accepted"}), attack=False, **fields)
    return pytest.param(row, id=f"{OK}: {sentence}")


def utf7(text: str) -> bytes:
    """``text`` as one UTF-7 shifted run (RFC 2152): nothing in it reads as a word."""
    return b"+" + base64.b64encode(text.encode("utf-16-be")).rstrip(b"=") + b"-"


# The customer's genuine message: a covering note and a spreadsheet as a text attachment,
# which someone else prepared (its lines are the attacker's). With the top Content-Type's
# boundary rewritten to BBB, the note becomes the preamble and the part inside the
# spreadsheet is the message a reader is shown.
LISTED = (
    b'Content-Type: multipart/mixed; boundary="AAA"\r\n\r\n--AAA\r\n'
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    + "Dzień dobry,\nw załączeniu zestawienie.\n\nJan Kowalski\n".replace("\n", "\r\n").encode()
    + b'--AAA\r\nContent-Type: text/csv; name="zestawienie.csv"\r\n'
    b'Content-Disposition: attachment; filename="zestawienie.csv"\r\n\r\n'
    b"nr;kwota\r\n--BBB\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n\r\n" + DNS_CHANGE.encode() + b"\r\n--BBB--\r\n--AAA--\r\n"
)
# The customer's request quoting a reference someone else gave; read as UTF-7 (its
# Content-Type unsigned, the charset rewritten) the reference is a DNS change.
REFERENCED = (
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
    b"Dzien dobry,\r\nprosze o duplikat faktury 11/2026.\r\nNumer sprawy: "
    + utf7(DNS_CHANGE)
    + b"\r\n\r\nJan Kowalski\r\n"
)
# The same with the reference in quoted-printable escapes, its Content-Transfer-Encoding
# unsigned and rewritten.
ESCAPED = (
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
    b"Dzien dobry,\r\nprosze o duplikat faktury 11/2026.\r\nNumer sprawy: "
    + "".join(f"={byte:02X}" for byte in DNS_CHANGE.encode()).encode()
    + b"\r\n\r\nJan Kowalski\r\n"
)
# A Date of now, as an attacker writes it in place of an unsigned old one.
TODAY = f"Date: {formatdate()}".encode()
PLATFORM = "Jan <jan@acme.platform.pl>"
FROM_PLATFORM_OUTSIDE = replace(OUTSIDE, mail_from="jan@acme.platform.pl")

UNCOVERED = [
    attack(
        "a Reply-To of a neighbour on the platform put above a signed message is held",
        I11,
        invoice(
            sender=PLATFORM,
            dkim_headers=SIGNED,
            dkim_domain="acme.platform.pl",
            on_top=(("Reply-To", "zly@evil.platform.pl"),),
        ),
        REVIEW,
        route=FROM_PLATFORM_OUTSIDE,
        checks=(("sender-headers", "pass"), ("signed-headers", "uncovered")),
    ),
    attack(
        "a Reply-To within the customer's organisation put above a signed message is held",
        I11,
        invoice(dkim_headers=SIGNED, on_top=(("Reply-To", "ksiegowa@acme.pl"),)),
        REVIEW,
        route=OUTSIDE,
        checks=(("signed-headers", "uncovered"),),
    ),
    attack(
        "a Mail-Followup-To within the organisation put above a signed message is held",
        I11,
        invoice(dkim_headers=SIGNED, on_top=(("Mail-Followup-To", "ksiegowa@acme.pl"),)),
        REVIEW,
        route=OUTSIDE,
        checks=(("signed-headers", "uncovered"),),
    ),
    attack(
        "a Sender within the organisation put above a signed message is held",
        I11,
        invoice(dkim_headers=SIGNED, on_top=(("Sender", "sekretariat@acme.pl"),)),
        REVIEW,
        route=OUTSIDE,
        checks=(("signed-headers", "uncovered"),),
    ),
    attack(
        "a second Content-Type above the signed one, another boundary: another part shown",
        I11,
        Mail(
            subject="Zestawienie",
            body=LISTED,
            dkim_headers=SIGNED,
            after_signing=above('Content-Type: multipart/mixed; boundary="BBB"'),
        ),
        REVIEW,
        route=OUTSIDE,
        checks=(("header-count", "fail"), ("signed-headers", "uncovered")),
    ),
    attack(
        "an unsigned Content-Type rewritten to another boundary: another part shown",
        I11,
        Mail(
            subject="Zestawienie",
            body=LISTED,
            dkim_headers=SIGNED_AS_GMAIL,
            after_signing=rewritten(b'boundary="AAA"', b'boundary="BBB"'),
        ),
        REVIEW,
        route=OUTSIDE,
        checks=(("dmarc", "pass"), ("signed-headers", "uncovered")),
    ),
    attack(
        "an unsigned Content-Type rewritten to UTF-7: a quoted reference reads as a request",
        I11,
        Mail(
            subject="Faktura",
            body=REFERENCED,
            dkim_headers=SIGNED_AS_GMAIL,
            after_signing=rewritten(b"charset=utf-8", b"charset=utf-7"),
        ),
        REVIEW,
        route=OUTSIDE,
        checks=(("signed-headers", "uncovered"),),
    ),
    attack(
        "an unsigned Content-Transfer-Encoding rewritten: escapes read as a request",
        I11,
        Mail(
            subject="Faktura",
            body=ESCAPED,
            dkim_headers=SIGNED_AS_GMAIL,
            after_signing=rewritten(b"Encoding: 7bit", b"Encoding: quoted-printable"),
        ),
        REVIEW,
        route=OUTSIDE,
        checks=(("signed-headers", "uncovered"),),
    ),
    attack(
        "a second Content-Transfer-Encoding above the signed one is held",
        I11,
        Mail(
            subject="Faktura",
            body=ESCAPED,
            dkim_headers=SIGNED,
            on_top=(("Content-Transfer-Encoding", "quoted-printable"),),
        ),
        REVIEW,
        route=OUTSIDE,
        checks=(("header-count", "fail"), ("signed-headers", "uncovered")),
    ),
    attack(
        "a second MIME-Version above the signed one is held",
        I11,
        invoice(dkim_headers=SIGNED, on_top=(("MIME-Version", "1.0"),)),
        REVIEW,
        route=OUTSIDE,
        checks=(("header-count", "fail"),),
    ),
    attack(
        "a second Content-Type above a message from the customer's own server is held",
        I11,
        invoice(dkim_headers=SIGNED_AS_GMAIL, on_top=(("Content-Type", "text/html"),)),
        REVIEW,
        checks=(("header-count", "fail"),),
    ),
    attack(
        "an old signed request whose unsigned Date was rewritten to today is held",
        I11,
        Mail(
            subject="Zmiana DNS",
            plain=DNS_CHANGE,
            dkim_headers=tuple(name for name in SIGNED if name != "date"),
            date="Sat, 14 Nov 2026 10:00:00 +0100",
            after_signing=rewritten(b"Date: Sat, 14 Nov 2026 10:00:00 +0100", TODAY),
        ),
        REVIEW,
        route=OUTSIDE,
        checks=(("date-header", "pass"), ("signed-headers", "uncovered")),
    ),
    legit(
        "a Reply-To within the organisation the signature covers, from outside",
        invoice(
            dkim_headers=(*SIGNED, "reply-to"),
            headers=(("Reply-To", "ksiegowa@acme.pl"),),
        ),
        route=OUTSIDE,
    ),
    legit(
        "a message signed as Gmail signs (no Content-Type) from the customer's own server",
        invoice(dkim_headers=SIGNED_AS_GMAIL),
        route=ACME_MX,
    ),
    legit(
        "a Reply-To the signature leaves out, from the customer's own server",
        invoice(dkim_headers=SIGNED, on_top=(("Reply-To", "ksiegowa@acme.pl"),)),
        route=ACME_MX,
    ),
    legit(
        "a message signed over every field a reader is shown, from outside",
        invoice(dkim_headers=SIGNED, sender=PLATFORM, dkim_domain="acme.platform.pl"),
        route=FROM_PLATFORM_OUTSIDE,
    ),
]

AFTER_LENGTH = {
    "a request after the signed text": appended(f"\r\n{DNS_CHANGE}\r\n".encode()),
    "a new MIME part after the closing boundary": appended(
        b"--extra\r\nContent-Type: text/plain\r\n\r\n" + DNS_CHANGE.encode() + b"\r\n"
    ),
    "a line of signature-like text": appended(b"--\r\nJan Kowalski, tel. 600 100 200\r\n"),
}
PARTIAL = [
    attack(
        f"{what} (l=) does not keep the signature's pass",
        I12,
        invoice(dkim_headers=SIGNED, dkim_length=True, after_signing=change),
        REJECTED,
        route=OUTSIDE,
        checks=(("dkim", "fail"), ("dmarc", "reject")),
    )
    for what, change in AFTER_LENGTH.items()
] + [
    legit(
        "a signature with l= covering the whole body",
        invoice(dkim_headers=SIGNED, dkim_length=True),
        route=OUTSIDE,
    )
]

WSPOLNA = "Jan <jan@wspolna.pl>"
# wspolna.pl's own server, shared by its customers (fixtures/dns).
WSPOLNA_MX = Route("192.0.2.90", "mx.wspolna.pl", "jan@wspolna.pl")
# jan's signed message, a Reply-To of customer ewa put above it.
ANSWERED_BY_EWA = Mail(
    subject="Faktura",
    plain=INVOICE,
    sender=WSPOLNA,
    dkim_headers=SIGNED,
    dkim_domain="wspolna.pl",
    on_top=(("Reply-To", "ewa@wspolna.pl"),),
)
OTHERS = [
    attack(
        "a signature whose i= is another customer's panel address",
        I14,
        invoice(
            sender=WSPOLNA,
            dkim_headers=SIGNED,
            dkim_domain="wspolna.pl",
            dkim_identity="ewa@wspolna.pl",
        ),
        REVIEW,
        route=WSPOLNA_MX,
        checks=(("dmarc", "pass"), ("handed-over-by", "other-customer")),
    ),
    attack(
        "a Reply-To of another customer, from the shared server",
        I14,
        ANSWERED_BY_EWA,
        REVIEW,
        route=WSPOLNA_MX,
        checks=(("handed-over-by", "other-customer"),),
    ),
    attack(
        "a Reply-To of another customer that the signature covers",
        I14,
        invoice(
            sender=WSPOLNA,
            dkim_headers=(*SIGNED, "reply-to"),
            dkim_domain="wspolna.pl",
            headers=(("Reply-To", "ewa@wspolna.pl"),),
        ),
        REVIEW,
        route=WSPOLNA_MX,
        checks=(("signed-headers", "pass"), ("handed-over-by", "other-customer")),
    ),
    legit(
        "i= naming the sender's own mailbox",
        invoice(
            sender=WSPOLNA,
            dkim_headers=SIGNED,
            dkim_domain="wspolna.pl",
            dkim_identity="jan@wspolna.pl",
        ),
        route=WSPOLNA_MX,
    ),
    legit(
        "i= naming a secretary who is no customer",
        invoice(
            sender=WSPOLNA,
            dkim_headers=SIGNED,
            dkim_domain="wspolna.pl",
            dkim_identity="sekretariat@wspolna.pl",
        ),
        route=WSPOLNA_MX,
    ),
    legit(
        "a Reply-To of a secretary who is no customer",
        invoice(
            sender=WSPOLNA,
            dkim_headers=(*SIGNED, "reply-to"),
            dkim_domain="wspolna.pl",
            headers=(("Reply-To", "sekretariat@wspolna.pl"),),
        ),
        route=WSPOLNA_MX,
    ),
]

COMMENTS = {
    "an address in a comment in place of a name": "jan@acme.pl (Ola Nowak <ola@beta.pl>)",
    "an encoded address in a comment beside the name": (
        "Jan <jan@acme.pl> (=?utf-8?q?ola=40beta=2Epl?=)"
    ),
    "a nested comment holding an address": "jan@acme.pl (Ola (ola@beta.pl))",
}
COMMENTED = [
    attack(
        f"{what} of a signed From",
        I15,
        invoice(sender=sender, dkim_headers=SIGNED),
        REJECTED,
        route=OUTSIDE,
        checks=(("dmarc", "pass"), ("display-name", "fail")),
    )
    for what, sender in COMMENTS.items()
] + [legit("a name in a comment", invoice(sender="jan@acme.pl (Jan Kowalski)"))]

# RFC 6376 §3.5: a signature made later than now (t=) or past its expiry (x=) is not
# valid; dkimpy allows ten hours for clocks.
TIMED = [
    attack(
        "a signature claiming to be made two days from now does not authenticate",
        I13,
        invoice(dkim_headers=SIGNED, dkim_time=int(time.time()) + 2 * 86400),
        REJECTED,
        route=OUTSIDE,
        checks=(("dkim", "fail"), ("dmarc", "reject")),
    ),
    legit(
        "a signature made an hour ago",
        invoice(dkim_headers=SIGNED, dkim_time=int(time.time()) - 3600),
        route=OUTSIDE,
    ),
]

ROWS = [*UNCOVERED, *PARTIAL, *TIMED, *OTHERS, *COMMENTED]
