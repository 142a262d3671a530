"""Rows of the fail-closed table: the Row, the classes it names, and builders of its mail."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import pytest

from tests.adversarial_mail import ACME_MX, HELD, TRUSTED_AUTHSERV_ID, Hop, Mail, Route

C1 = "class 1 (unrecognised)"
C2 = "class 2 (service not found)"
C3 = "class 3 (one part read)"
C4 = "class 4 (phrase matching)"
C5 = "class 5 (header instances)"
C6 = "class 6 (automatic mail)"
C7 = "class 7 (believed Authentication-Results)"
C8 = "class 8 (addresses parsed loosely)"
C10 = "class 10 (a second request riding on a recognised one)"
C11 = "class 11 (a request in words the request lists do not hold)"
C12 = "class 12 (a second request in the recognised request's own clause)"
C13 = "class 13 (a request in a language the catalogue is not written in)"
C14 = "class 14 (text read otherwise than a person sees it)"
OK = "legitimate"

REVIEW = frozenset({"review"})
REJECTED = frozenset({"rejected"})
# Held for an agent, or refused: what an attack may get where the issue names no one hold.
NOT_ACCEPTED = HELD
# Another customer's service named in a disguise: rejected when the disguise is seen
# through, review when it is reported as a look-alike.
FOREIGN = frozenset({"rejected", "review"})
# The sender's own transfer (or holder change) request written in a way the extractor
# must see through: it then needs the code (or paper), or an agent reads it.
OWN_TRANSFER = frozenset({"otp_required", "review"})
OWN_HOLDER = frozenset({"postal_required", "review"})

QUOTE_INTRO = "\n\nW dniu 1.12.2026 o 10:00 Ola Nowak <ola@beta.pl> napisała:\n"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\0" * 16
DOCX = b"PK\x03\x04" + b"\0" * 26 + b"word/document.xml"
FORGED_RESULTS = (
    f"{TRUSTED_AUTHSERV_ID}; spf=pass smtp.mailfrom=jan@acme.pl; "
    "dkim=pass header.d=acme.pl header.s=rsa2048; dmarc=pass header.from=acme.pl"
)


@dataclass(frozen=True)
class Row:
    guards: str
    mail: Mail
    decisions: frozenset[str]
    attack: bool = True
    route: Route = ACME_MX
    # Issue a one-time code of acme for each delivery, written where the text says {code}.
    code: bool = False
    # How the code is written: "1234-5678", or with another dash a person would type.
    code_dash: str = "-"
    # Check results the issue names explicitly for this case.
    checks: tuple[tuple[str, str], ...] = ()
    # For legitimate mail: the kinds it asks for.
    kinds: tuple[str, ...] | None = None
    # How the SMTP door gets it: through our relay, or straight from the client.
    hop: Hop = "relay"
    # The REST caller: the admin token, or one with only the intake scope.
    rest_token: Literal["admin", "intake"] = "admin"
    # Whether the REST caller says the message came through one of our relays.
    rest_relay: bool = False


def fullwidth(ascii_text: str) -> str:
    """``ascii_text`` in fullwidth forms (U+FF01-U+FF5E), which NFKC maps back."""
    return "".join(chr(ord(char) + 0xFEE0) if "!" <= char <= "~" else char for char in ascii_text)


def plain(subject: str, body: str, **fields: Any) -> Mail:
    return Mail(subject=subject, plain=body, **fields)


def html(subject: str, body: str, **fields: Any) -> Mail:
    return Mail(subject=subject, html=f"<html><body>{body}</body></html>", **fields)


def attack(sentence: str, guards: str, mail: Mail, decisions: frozenset[str], **fields: Any):
    return pytest.param(Row(guards, mail, decisions, **fields), id=f"{guards}: {sentence}")


def legit(sentence: str, mail: Mail, decision: str, kinds: tuple[str, ...], **fields: Any) -> Any:
    row = Row(OK, mail, frozenset({decision}), attack=False, kinds=kinds, **fields)
    return pytest.param(row, id=f"{OK}: {sentence}")


def transfer(domain_text: str) -> Mail:
    """acme asks, with a valid code of its own, for the AuthInfo code of ``domain_text``."""
    return plain(
        "Kod AuthInfo",
        f"Dzień dobry,\nproszę o kod AuthInfo dla domeny {domain_text}.\n"
        "Kod jednorazowy: {code}\n\nJan Kowalski\n",
    )


# A class's surfaces: each place one payload is written, and the mail it makes.
Surfaces = Callable[[str], list[tuple[str, Mail]]]


def on_surfaces(
    payloads: tuple[str, ...], classes: tuple[tuple[str, Surfaces], ...], held: frozenset[str]
) -> list[Any]:
    """A row for each payload on each surface of each class: held as ``held`` says."""
    return [
        attack(f"{where}: «{payload}»", guards, mail, held)
        for payload in payloads
        for guards, surfaces in classes
        for where, mail in surfaces(payload)
    ]


def metamorphic_rows(payload: str, surfaces: list[Surfaces], held: frozenset[str]) -> list[Any]:
    """One payload on every surface of ``surfaces``: each is held as ``held`` says."""
    return [
        attack(f"metamorphic, {where}: «{payload}»", "metamorphic", mail, held)
        for each in surfaces
        for where, mail in each(payload)
    ]
