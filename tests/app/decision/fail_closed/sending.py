"""Rows of the fail-closed table for identity round 4: who vouches is a service, not the
customer; a signature past its expiry; another customer's envelope.

Identity classes 16 to 20 (test_fail_closed_identity_services): an SPF pass for a host a
shared relay's record authorises, a platform's own name above the customer's registered
subdomain, a subdomain delegated to a sending platform, a DKIM signature past its x=
expiry, and another registered customer's mailbox handing a signed message over from
another organisation. The zones are fixtures/dns/sklepik.pl.zone (a shop whose SPF record
includes sharedrelay.example's), sharedrelay.example.zone and platform.pl.zone.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from dkim.canonicalization import Relaxed

from tests.adversarial_mail import ACME_MX, OUTSIDE, SIGNED, Mail, Route, sign_as_acme
from tests.app.decision.fail_closed.rows import OK, REJECTED, REVIEW, Row, attack
from tests.support import FIXTURES

I16 = "identity 16 (an SPF pass for a host of a shared relay the domain's record includes)"
I17 = "identity 17 (a platform's own name above the customer's registered subdomain)"
I18 = "identity 18 (a subdomain delegated to a sending platform, handed over by it)"
I19 = "identity 19 (a DKIM signature past its x= expiry)"
I20 = "identity 20 (another registered customer's mailbox as the envelope sender)"

INVOICE = "Dzień dobry,\nproszę o duplikat faktury 11/2026.\n\nJan Kowalski\n"
# Customers besides acme, beta, agencja and those of test_fail_closed_identity_classes.
SENDING_CUSTOMERS = {
    login: {"panel_email": f"jan@{domain}", "services": [domain], "name": name}
    for login, domain, name in (
        ("sklep", "sklepik.pl", "Sklepik"),
        ("poczta", "poczta.sklepik.pl", "Poczta Sklepiku"),
        ("siec", "siec.sklepik.pl", "Sieć Sklepiku"),
        ("oddzial", "oddzial.sklepik.pl", "Oddział Sklepiku"),
        ("nazwany", "nazwany.sklepik.pl", "Sklepik Nazwany"),
        ("wlasny", "wlasny.sklepik.pl", "Sklepik Własny"),
        ("klient", "klient.sklepik.pl", "Sklepik Klient"),
    )
}

SKLEPIK = "Jan <jan@sklepik.pl>"
# sklepik.pl's own server, and a host of the relay its record includes (any tenant's).
SKLEPIK_MX = Route("192.0.2.60", "mx.sklepik.pl", "jan@sklepik.pl")
RELAY = Route("198.51.100.140", "out.sharedrelay.example", "jan@sklepik.pl")
# The relay handing over a bulk sender's mail with its own bounce address.
BULK = replace(RELAY, mail_from="bounce@sharedrelay.example")
PLATFORM = "Jan <jan@acme.platform.pl>"
# platform.pl's own server and bounce address, which send for every customer's subdomain.
PLATFORM_MX = Route("192.0.2.81", "mx.platform.pl", "bounce@platform.pl")
Change = Callable[[bytes], bytes]


def invoice(**fields: Any) -> Mail:
    return Mail(subject="Faktura", plain=INVOICE, **fields)


def legit(sentence: str, mail: Mail, **fields: Any) -> Any:
    row = Row(OK, mail, frozenset({"accepted"}), attack=False, kinds=("invoice_duplicate",))
    return pytest.param(replace(row, **fields), id=f"{OK}: {sentence}")


def signed_again(domain: str) -> Change:
    """A second DKIM signature, of ``domain``, on top of the message."""
    return lambda raw: sign_as_acme(raw, SIGNED, domain=domain)


def expiring(expires_in: int) -> Change:
    """A DKIM signature of acme.pl over SIGNED with t= and x= (RFC 6376 §3.5), made by hand
    as §3.7 says: dkimpy's sign() writes no x=. It expires ``expires_in`` seconds from now
    (negative: that long ago), and was made ten minutes before it expired or before now,
    whichever is earlier (x= is never before t=)."""

    def sign(raw: bytes) -> bytes:
        now = int(time.time())
        expiry = now + expires_in
        head, _, body = raw.partition(b"\r\n\r\n")
        body_hash = base64.b64encode(hashlib.sha256(Relaxed.canonicalize_body(body)).digest())
        tags = (
            (
                f"v=1; a=rsa-sha256; c=relaxed/relaxed; d=acme.pl; s=rsa2048; "
                f"t={min(now, expiry) - 600}; x={expiry}; h={':'.join(SIGNED)}; "
            ).encode()
            + b"bh="
            + body_hash
            + b"; b="
        )
        fields = [tuple(line.split(b":", 1)) for line in re.split(rb"\r\n(?![ \t])", head)]
        chosen = _signed_instances([(name, value) for name, value in fields])
        canonical = Relaxed.canonicalize_headers([*chosen, (b"DKIM-Signature", b" " + tags)])
        signed = b"".join(name + b":" + value for name, value in canonical)
        # RFC 6376 §3.7: the signature's own field is hashed without its final CRLF.
        key = serialization.load_pem_private_key(
            (FIXTURES / "keys" / "rsa2048.pem").read_bytes(), password=None
        )
        assert isinstance(key, rsa.RSAPrivateKey)
        b = key.sign(signed.removesuffix(b"\r\n"), padding.PKCS1v15(), hashes.SHA256())
        return b"DKIM-Signature: " + tags + base64.b64encode(b) + b"\r\n" + raw

    return sign


def _signed_instances(fields: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The instance of each SIGNED name that h= signs: the last one (RFC 6376 §5.4.2); a
    name the message lacks signs nothing."""
    chosen = []
    for name in SIGNED:
        found = [f for f in fields if f[0].strip().lower() == name.encode()]
        chosen.extend(found[-1:])
    return chosen


SHARED = [
    attack(
        f"an SPF pass of a shared relay's host, through {how}, does not show the customer sent it",
        I16,
        invoice(sender=f"Jan <{sender}>"),
        REVIEW,
        route=replace(RELAY, mail_from=sender),
        checks=(("spf", "pass"), ("dmarc", "pass"), ("sending-service", "shared")),
    )
    for how, sender in (
        ("an include of its record", "jan@sklepik.pl"),
        ("a redirect to its record", "jan@poczta.sklepik.pl"),
        ("an include of the domain's own record that includes it", "jan@siec.sklepik.pl"),
        ("the record naming the host (a:)", "jan@nazwany.sklepik.pl"),
        ("the relay's per-client names (exists:%{i}…)", "jan@klient.sklepik.pl"),
    )
] + [
    legit(
        "sklepik.pl's own server, which its record names",
        invoice(sender=SKLEPIK),
        route=SKLEPIK_MX,
    ),
    legit(
        "sklepik.pl's own server named in the record (a:)",
        invoice(sender="Jan <jan@wlasny.sklepik.pl>"),
        route=replace(SKLEPIK_MX, mail_from="jan@wlasny.sklepik.pl"),
    ),
    legit(
        "the shared relay with sklepik.pl's own signature",
        invoice(sender=SKLEPIK, dkim_headers=SIGNED, dkim_domain="sklepik.pl"),
        route=RELAY,
    ),
]

ABOVE = [
    attack(
        "a signature of platform.pl, the platform's own name above the customer's subdomain",
        I17,
        invoice(sender=PLATFORM, dkim_headers=SIGNED, dkim_domain="platform.pl"),
        REVIEW,
        route=replace(OUTSIDE, mail_from="jan@acme.platform.pl"),
        checks=(("dmarc", "pass"), ("registered-alignment", "crossed")),
    ),
    attack(
        "an SPF pass of the platform's bounce address platform.pl from its server",
        I17,
        invoice(sender=PLATFORM),
        REVIEW,
        route=PLATFORM_MX,
        checks=(("dmarc", "pass"), ("registered-alignment", "crossed")),
    ),
    attack(
        "a signature of sklepik.pl on mail of its branch, a customer of its own",
        I17,
        invoice(
            sender="Jan <jan@oddzial.sklepik.pl>", dkim_headers=SIGNED, dkim_domain="sklepik.pl"
        ),
        REVIEW,
        route=replace(OUTSIDE, mail_from="jan@oddzial.sklepik.pl"),
        checks=(("dmarc", "pass"), ("registered-alignment", "crossed")),
    ),
    legit(
        "the branch signing its own mail",
        invoice(
            sender="Jan <jan@oddzial.sklepik.pl>",
            dkim_headers=SIGNED,
            dkim_domain="oddzial.sklepik.pl",
        ),
        route=replace(OUTSIDE, mail_from="jan@oddzial.sklepik.pl"),
    ),
    legit(
        "acme.platform.pl's own signature beside the platform's",
        invoice(
            sender=PLATFORM,
            dkim_headers=SIGNED,
            dkim_domain="acme.platform.pl",
            after_signing=signed_again("platform.pl"),
        ),
        route=PLATFORM_MX,
    ),
]

# A bulk sender signing with news.sklepik.pl, which sklepik.pl delegated to it.
NEWSLETTER = invoice(sender=SKLEPIK, dkim_headers=SIGNED, dkim_domain="news.sklepik.pl")
DELEGATED = [
    attack(
        f"a signature of news.sklepik.pl on mail {how}",
        I18,
        NEWSLETTER,
        REVIEW,
        route=route,
        checks=(("dmarc", "pass"), ("sending-service", "subdomain")),
    )
    for how, route in (
        ("the bulk sender hands over with its own bounce address", BULK),
        ("the shared relay hands over, SPF passing through its record", RELAY),
    )
] + [
    legit(
        "a signature of news.sklepik.pl on mail sklepik.pl's own server hands over",
        NEWSLETTER,
        route=SKLEPIK_MX,
    ),
]

# Seconds from now to x= (negative: past), and whether the signature still vouches: five
# minutes of leeway for clocks (mailhook.checks.dkim.EXPIRY_LEEWAY_SECONDS).
EXPIRIES = {"a day ago": -86400, "an hour ago": -3600, "six minutes ago": -360}
STILL_VALID = {"in an hour": 3600, "two minutes ago": -120}
EXPIRED = [
    attack(
        f"a signature of acme.pl that expired {when} does not authenticate",
        I19,
        invoice(after_signing=expiring(offset)),
        REJECTED,
        route=OUTSIDE,
        checks=(("dkim", "fail"), ("dmarc", "reject")),
    )
    for when, offset in EXPIRIES.items()
] + [
    legit(
        f"a signature of acme.pl expiring {when}",
        invoice(after_signing=expiring(offset)),
        route=OUTSIDE,
    )
    for when, offset in STILL_VALID.items()
]

# acme's signed request, handed over by the mailbox of another registered customer.
OTHER_CUSTOMERS = {"beta": "ola@beta.pl", "agencja": "biuro@agencja.pl"}
ENVELOPES = [
    attack(
        f"acme's signed request with MAIL FROM {address}, customer {login}'s panel address",
        I20,
        invoice(dkim_headers=SIGNED),
        REVIEW,
        route=replace(route, mail_from=address),
        checks=(("dmarc", "pass"), ("envelope-from", "warn"), ("handed-over-by", "other-customer")),
    )
    for login, address in OTHER_CUSTOMERS.items()
    for route in (OUTSIDE, ACME_MX)
] + [
    legit(
        "acme's signed request with a list's bounce address as MAIL FROM",
        invoice(dkim_headers=SIGNED),
        route=replace(OUTSIDE, mail_from="bounce-jan=acme.pl@lists.example"),
    ),
]

ROWS = [*SHARED, *ABOVE, *DELEGATED, *EXPIRED, *ENVELOPES]
