"""Fail closed (issue 13): what a person can read decides, through both doors, on both stores.

Each row is a message as an attacker or a real customer would send it, the envelope it
comes with, and the decisions it may get. Attacks are never ``accepted`` and never reach
``authorized``; where the issue says which hold applies the row names exactly one
decision (``rejected``: another customer's service is the only one named and the sender
is not its owner; ``review``: unrecognised, mixed, hidden, unreadable, disagreeing parts,
automatic replies, repeated headers). Legitimate customers' mail stays accepted (or
asks for the one-time code a transfer needs). Every row's id names the class of issue
13 it guards, 1 to 8 (class 9, rules that fail open, is tested with the rules).

The sender throughout is customer acme (jan@acme.pl), with an account and valid one-time
codes of its own; beta and agencja are the other customers it may name.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.api import build_service, create_app
from app.auth import create_token
from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.server.handoff import InProcessHandoff
from mailhook.smtp_config import SmtpConfig
from tests.adversarial_mail import (
    ACME_MX,
    CUSTOMERS,
    DESK,
    HELD,
    OUTSIDE,
    SIGNED,
    TRUSTED_AUTHSERV_ID,
    Door,
    Hop,
    Mail,
    Part,
    Route,
    Stack,
    build,
    check_result,
    loopback,
)
from tests.dns_server import FixtureDnsServer
from tests.smtp_server import SmtpThread
from tests.support import ADMIN_TOKEN, TLS, LiveServer, make_settings

BACKENDS = ["sqlite", "postgresql"]

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


UNRECOGNISED = [
    attack(
        "a paraphrase moving the domain to another registrar is never accepted",
        C1,
        plain("Domena", "Proszę przenieść domenę acme.pl do innego rejestratora."),
        OWN_TRANSFER,
    ),
    attack(
        "a request for the authorisation code in other words is never accepted",
        C1,
        plain("Domena acme.pl", "Proszę o przesłanie kodu autoryzacyjnego do domeny acme.pl."),
        OWN_TRANSFER,
    ),
    attack(
        "a request for a transfer code is never accepted",
        C1,
        plain("Prośba", "Poproszę kod transferowy dla acme.pl."),
        OWN_TRANSFER,
    ),
    attack(
        "moving the domain out to another operator in other words is never accepted",
        C1,
        plain("acme.pl", "Chcę wyprowadzić domenę acme.pl do innego operatora."),
        OWN_TRANSFER,
    ),
    attack(
        "an English request for the transfer key is never accepted",
        C1,
        plain("Domain", "Please release acme.pl to my new registrar and send the transfer key."),
        OWN_TRANSFER,
    ),
    attack(
        "a paraphrase re-registering the domain to someone else is never accepted",
        C1,
        plain("Domena", "Proszę przepisać domenę acme.pl na moją żonę, Annę Kowalską."),
        OWN_HOLDER,
    ),
    attack(
        "an English request to change the owner is never accepted",
        C1,
        plain("Owner", "Please change the owner of acme.pl to Example Holdings Ltd."),
        OWN_HOLDER,
    ),
    attack(
        "a request the catalogue does not know is held for review",
        C1,
        plain("Sprawa", "Proszę zrobić to, o czym rozmawialiśmy wczoraj przez telefon."),
        REVIEW,
        checks=(("instruction-kind", "none"),),
    ),
    attack(
        "an English request the catalogue does not know is held for review",
        C1,
        plain("Follow-up", "As agreed on the phone, please go ahead with it today."),
        REVIEW,
        checks=(("instruction-kind", "none"),),
    ),
    attack(
        "a message asking for nothing recognisable is held for review",
        C1,
        plain("Dzień dobry", "Dzień dobry, pozdrawiam serdecznie."),
        REVIEW,
    ),
    attack(
        "a request only in a text attachment is held for review",
        C1,
        plain(
            "Zlecenie",
            "Dzień dobry, przesyłam zlecenie.",
            parts=(
                Part(
                    "Proszę o przeniesienie domeny acme.pl. Kod jednorazowy: {code}",
                    filename="zlecenie.txt",
                ),
            ),
        ),
        REVIEW,
        code=True,
    ),
    attack(
        "a request only in a PDF attachment is held for review",
        C1,
        plain(
            "Zlecenie",
            "Dzień dobry, zlecenie w załączniku.",
            parts=(Part(PDF, "pdf", "application", "zlecenie.pdf"),),
        ),
        REVIEW,
    ),
    attack(
        "a request only in a screenshot is held for review",
        C1,
        plain(
            "Zlecenie",
            "Proszę zrobić to, co na zrzucie ekranu.",
            parts=(Part(PNG, "png", "image", "zrzut.png"),),
        ),
        REVIEW,
    ),
    attack(
        "see attached with an office document is held for review",
        C1,
        plain(
            "Request",
            "Hello, please see attached and proceed.",
            parts=(
                Part(
                    DOCX,
                    "vnd.openxmlformats-officedocument.wordprocessingml.document",
                    "application",
                    "request.docx",
                ),
            ),
        ),
        REVIEW,
    ),
    attack(
        "another customer's request forwarded inline is never accepted",
        C1,
        plain(
            "Fwd: Kod AuthInfo",
            "Proszę o realizację.\n\n---------- Forwarded message ---------\n"
            "From: Ola Nowak <ola@beta.pl>\nSubject: Kod AuthInfo\n\n"
            "Proszę o kod AuthInfo dla beta.pl.\n",
        ),
        FOREIGN,
    ),
    attack(
        "another customer's request forwarded as an attached message is never accepted",
        C1,
        plain(
            "Fwd: Transfer",
            "Przesyłam dalej, proszę o realizację.",
            parts=(
                Part(plain("Transfer", "Proszę o kod AuthInfo dla beta.pl.", sender="ola@beta.pl")),
            ),
        ),
        FOREIGN,
    ),
    attack(
        "as in the subject of a reply is held for review",
        C1,
        plain("Re: Kod AuthInfo dla acme.pl", "Proszę jak w temacie."),
        REVIEW,
    ),
    attack(
        "as in the previous message is held for review",
        C1,
        plain("Domena acme.pl", "Proszę zrobić to samo co w poprzedniej wiadomości."),
        REVIEW,
    ),
    attack(
        "as below pointing at quoted history is held for review",
        C1,
        plain(
            "Re: Domena",
            "Proszę o realizację jak poniżej."
            + QUOTE_INTRO.replace("Ola Nowak <ola@beta.pl>", "Jan Kowalski <jan@acme.pl>")
            + "> Proszę o zmianę abonenta domeny acme.pl\n",
        ),
        REVIEW,
    ),
    attack(
        "as quoted in English is held for review",
        C1,
        plain(
            "Re: Domain",
            "Please do as quoted.\n\nOn Tue, 1 Dec 2026, Jan Kowalski <jan@acme.pl> wrote:\n"
            "> Please transfer the domain acme.pl\n",
        ),
        REVIEW,
    ),
]

SERVICES = [
    attack(
        "beta's domain named without its suffix after the word domain is never accepted",
        C2,
        plain("DNS", "Proszę o zmianę rekordu DNS typu A dla domeny beta na 192.0.2.11."),
        FOREIGN,
    ),
    attack(
        "beta's domain named without its suffix beside acme.pl is never accepted",
        C2,
        plain("DNS", "Proszę o zmianę rekordu DNS typu A dla acme.pl i kwiaty na 192.0.2.11."),
        FOREIGN,
    ),
    attack(
        "beta's domain named without its suffix in English is never accepted",
        C2,
        plain("DNS", "Please change the A record of the domain beta to 192.0.2.11."),
        FOREIGN,
    ),
    legit(
        "the customer's own domain named without its suffix stays accepted",
        plain("DNS", "Proszę o zmianę rekordu DNS typu A dla domeny acme na 192.0.2.11."),
        "accepted",
        ("dns_change",),
    ),
    attack(
        "beta's domain with a space after its dot beside acme.pl is never accepted",
        C2,
        transfer("acme.pl i beta. pl"),
        FOREIGN,
        code=True,
    ),
    attack(
        "beta's domain with a space after its dot, alone, is never accepted",
        C2,
        transfer("beta. pl"),
        FOREIGN,
        code=True,
    ),
    attack(
        "beta's domain with a hyphen for its dot beside acme.pl is never accepted",
        C2,
        transfer("acme.pl i beta-pl"),
        FOREIGN,
        code=True,
    ),
    attack(
        "beta's domain with a hyphen for its dot, alone, is never accepted",
        C2,
        transfer("beta-pl"),
        FOREIGN,
        code=True,
    ),
    attack(
        "beta's domain with quotes around its label beside acme.pl is never accepted",
        C2,
        transfer("acme.pl i 'beta'.pl"),
        FOREIGN,
        code=True,
    ),
    attack(
        "beta's domain with quotes around its label, alone, is never accepted",
        C2,
        transfer("'beta'.pl"),
        FOREIGN,
        code=True,
    ),
    attack(
        "beta's domain broken over a line at its dot beside acme.pl is never accepted",
        C2,
        transfer("acme.pl i beta.\npl"),
        FOREIGN,
        code=True,
    ),
    attack(
        "beta's domain broken over a line at its dot, alone, is never accepted",
        C2,
        transfer("beta.\npl"),
        FOREIGN,
        code=True,
    ),
    attack(
        "beta's domain with its label hyphenated over a line beside acme.pl is never accepted",
        C2,
        transfer("acme.pl i be-\nta.pl"),
        FOREIGN,
        code=True,
    ),
    attack(
        "beta's domain with its label hyphenated over a line, alone, is never accepted",
        C2,
        transfer("be-\nta.pl"),
        FOREIGN,
        code=True,
    ),
    attack(
        "beta's domain with its suffix in brackets beside acme.pl is never accepted",
        C2,
        transfer("acme.pl i beta (pl)"),
        FOREIGN,
        code=True,
    ),
    attack(
        "beta's domain with its suffix in brackets, alone, is never accepted",
        C2,
        transfer("beta (pl)"),
        FOREIGN,
        code=True,
    ),
    attack(
        "another customer's domain written as a URL is rejected",
        C2,
        transfer("https://beta.pl/"),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's domain as a URL with www and a path is rejected",
        C2,
        transfer("http://www.beta.pl/kontakt"),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's domain with a zero-width space inside is rejected",
        C2,
        transfer("be\u200bta.pl"),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's domain with a soft hyphen inside is rejected",
        C2,
        transfer("kwia\u00adty.pl"),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's domain with a word joiner before the dot is rejected",
        C2,
        transfer("beta\u2060.pl"),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's domain with a fullwidth dot is rejected",
        C2,
        transfer("beta\uff0epl"),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's domain in fullwidth letters is rejected",
        C2,
        transfer(fullwidth("beta.pl")),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's domain with an ideographic full stop is rejected",
        C2,
        transfer("kwiaty\u3002pl"),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's domain with a Cyrillic i is never accepted",
        C2,
        transfer("kw\u0456aty.pl"),
        FOREIGN,
        code=True,
    ),
    attack(
        "another customer's domain with a Cyrillic e is never accepted",
        C2,
        transfer("b\u0435ta.pl"),
        FOREIGN,
        code=True,
    ),
    attack(
        "another customer's domain as a www subdomain is rejected",
        C2,
        transfer("www.beta.pl"),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's domain as a poczta subdomain is rejected",
        C2,
        transfer("poczta.kwiaty.pl"),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's domain written with [.] is rejected",
        C2,
        transfer("beta[.]pl"),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's domain written with (dot) is rejected",
        C2,
        transfer("beta (dot) pl"),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's domain with a Lisu tone mark for its dot beside the sender's own "
        "is held for review",
        C2,
        transfer("acme.pl oraz beta\ua4f8pl"),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain with an Arabic-Indic zero for its dot is rejected",
        C2,
        transfer("beta\u0660pl"),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's domain with a middle dot beside the sender's own is held",
        C2,
        transfer("acme.pl oraz kwiaty\u00b7pl"),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain as a URL with a percent-encoded host beside the sender's "
        "own is held for review",
        C2,
        transfer("acme.pl oraz https://%62eta.pl/"),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain only in a link whose host is percent-encoded is rejected",
        C2,
        html(
            "Kod AuthInfo",
            '<p>Proszę o kod AuthInfo dla <a href="https://%62%65ta.pl/">mojej domeny</a>.</p>'
            "<p>Kod jednorazowy: {code}</p>",
        ),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's domain split by an unknown element a client draws inline is held",
        C2,
        html(
            "Kod AuthInfo",
            "<p>Proszę o kod AuthInfo dla acme.pl oraz b<x-a>eta</x-a>.pl.</p>"
            "<p>Kod jednorazowy: {code}</p>",
        ),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain in a Word smart tag beside the sender's own is held",
        C2,
        html(
            "Kod AuthInfo",
            "<p>Proszę o kod AuthInfo dla acme.pl oraz <st1:place>beta</st1:place>.pl.</p>"
            "<p>Kod jednorazowy: {code}</p>",
        ),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain split by an image of no size beside the sender's own is held",
        C2,
        html(
            "Kod AuthInfo",
            '<p>Proszę o kod AuthInfo dla acme.pl oraz beta<img src="cid:x" width="0">.pl.</p>'
            "<p>Kod jednorazowy: {code}</p>",
        ),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain written backwards under a right-to-left override is held",
        C2,
        transfer("acme.pl oraz \u202elp.ateb\u202c"),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain written backwards in a bdo element is held",
        C2,
        html(
            "Kod AuthInfo",
            '<p>Proszę o kod AuthInfo dla acme.pl oraz <bdo dir="rtl">lp.ateb</bdo>.</p>'
            "<p>Kod jednorazowy: {code}</p>",
        ),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain written backwards under a CSS bidi override is held",
        C2,
        html(
            "Kod AuthInfo",
            "<p>Proszę o kod AuthInfo dla acme.pl oraz "
            '<span style="unicode-bidi:bidi-override;direction:rtl">lp.ateb</span>.</p>'
            "<p>Kod jednorazowy: {code}</p>",
        ),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain drawn by a row-reverse flex box is held for review",
        C2,
        html(
            "DNS",
            "<p>Proszę o zmianę rekordu DNS dla acme.pl oraz "
            '<span style="display:inline-flex;flex-direction:row-reverse">'
            "<span>pl</span><span>.</span><span>beta</span></span>.</p>",
        ),
        REVIEW,
    ),
    attack(
        "another customer's domain drawn by flex order is held for review",
        C2,
        html(
            "DNS",
            '<p>Proszę o zmianę rekordu DNS dla acme.pl oraz <span style="display:inline-flex">'
            '<span style="order:2">.pl</span><span style="order:1">beta</span></span>.</p>',
        ),
        REVIEW,
    ),
    attack(
        "another customer's domain split by a space of negative letter spacing is held",
        C2,
        html(
            "Kod AuthInfo",
            "<p>Proszę o kod AuthInfo dla acme.pl oraz beta"
            '<span style="letter-spacing:-1em"> </span>.pl</p><p>Kod jednorazowy: {code}</p>',
        ),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain split by a space of no size is held for review",
        C2,
        html(
            "Kod AuthInfo",
            "<p>Proszę o kod AuthInfo dla acme.pl oraz beta"
            '<span style="font-size:0"> </span>.pl</p><p>Kod jednorazowy: {code}</p>',
        ),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain split across two table cells is held for review",
        C2,
        html(
            "Kod AuthInfo",
            '<table cellpadding="0" cellspacing="0"><tr><td>Proszę o kod AuthInfo dla acme.pl '
            "oraz beta</td><td>.pl</td></tr></table><p>Kod jednorazowy: {code}</p>",
        ),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain only in an address in a DNS change is held for review",
        C2,
        plain(
            "DNS",
            "Proszę o zmianę rekordu DNS typu MX dla acme.pl jak dla domeny hostmaster@beta.pl.",
        ),
        REVIEW,
    ),
    attack(
        "another customer's domain with its dot written as a word beside the sender's own "
        "is held for review",
        C2,
        transfer("acme.pl oraz beta kropka pl"),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain with a bullet for its dot beside the sender's own is held",
        C2,
        transfer("acme.pl oraz beta\u2022pl"),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain as an emphasised word beside the sender's own is held",
        C2,
        transfer("acme.pl oraz _beta.pl_"),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain after a list dash beside the sender's own is held",
        C2,
        plain(
            "Kod AuthInfo",
            "Proszę o kody AuthInfo dla domen:\n-acme.pl\n-beta.pl\nKod jednorazowy: {code}\n",
        ),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain after a slash beside the sender's own is held for review",
        C2,
        transfer("acme.pl/beta.pl"),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain in a URL with one slash beside the sender's own is held",
        C2,
        transfer("acme.pl oraz http:/beta.pl"),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain in a block of an obsolete element right after the "
        "sender's own is held for review",
        C2,
        html(
            "Kod AuthInfo",
            "<p>Proszę o kod AuthInfo dla acme.pl<xmp>beta.pl</xmp></p>"
            "<p>Kod jednorazowy: {code}</p>",
        ),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain with a trailing dot is rejected",
        C2,
        transfer("beta.pl."),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's IDN domain as its A-label is rejected",
        C2,
        transfer("xn--ka-ola7v.pl"),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's IDN domain with a decomposed ogonek is rejected",
        C2,
        transfer("ła\u0328ka.pl"),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's IDN domain in capitals with a zero-width joiner is rejected",
        C2,
        transfer("ŁĄ\u200dKA.PL"),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's domain only in a Re: subject is never accepted",
        C2,
        plain("Re: beta.pl", "Proszę o kod AuthInfo.\nKod jednorazowy: {code}"),
        FOREIGN,
        code=True,
    ),
    attack(
        "another customer's domain only in quoted lines is never accepted",
        C2,
        plain(
            "Re: Domena",
            "Proszę o kod AuthInfo dla tej domeny. Kod jednorazowy: {code}"
            + QUOTE_INTRO
            + "> Domena beta.pl wygasa za miesiąc.\n",
        ),
        FOREIGN,
        code=True,
    ),
    attack(
        "another customer's domain only in a link's href is rejected",
        C2,
        html(
            "Kod AuthInfo",
            '<p>Proszę o kod AuthInfo dla <a href="https://beta.pl/">mojej domeny</a>.</p>'
            "<p>Kod jednorazowy: {code}</p>",
        ),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's domain only in a mailto link is never accepted",
        C2,
        html(
            "Kod AuthInfo",
            '<p>Proszę o kod AuthInfo dla domeny <a href="mailto:admin@beta.pl">z adresu</a>.'
            "</p><p>Kod jednorazowy: {code}</p>",
        ),
        FOREIGN,
        code=True,
    ),
    attack(
        "another customer's server id with a zero-width space is rejected",
        C2,
        plain("Rezygnacja", "Rezygnuję z usługi vps\u200b-77777 z końcem miesiąca."),
        REJECTED,
    ),
    attack(
        "another customer's server id in capitals is rejected",
        C2,
        plain("Rezygnacja", "Rezygnuję z usługi VPS-77777 z końcem miesiąca."),
        REJECTED,
    ),
    attack(
        "another customer's server id written with a space beside the sender's own is held",
        C2,
        plain("Rezygnacja", "Rezygnuję z usług vps-12345 oraz vps 77777 z końcem miesiąca."),
        REVIEW,
    ),
    attack(
        "another customer's server id written with an underscore is rejected",
        C2,
        plain("Rezygnacja", "Rezygnuję z usługi VPS_77777 z końcem miesiąca."),
        REJECTED,
    ),
    attack(
        "another customer's server id written without its dash beside the sender's own is held",
        C2,
        plain("Rezygnacja", "Rezygnuję z usług vps-12345 oraz vps77777 z końcem miesiąca."),
        REVIEW,
    ),
    attack(
        "another customer's server id written with a number sign is rejected",
        C2,
        plain("Rezygnacja", "Rezygnuję z usługi VPS #77777 z końcem miesiąca."),
        REJECTED,
    ),
    attack(
        "another customer's server id written with nr is rejected",
        C2,
        plain("Rezygnacja", "Rezygnuję z usługi vps nr 77777 z końcem miesiąca."),
        REJECTED,
    ),
    attack(
        "another customer's domain as a URL in a DNS change is rejected",
        C2,
        plain("DNS", "Proszę o zmianę rekordu DNS typu A dla https://kwiaty.pl na 203.0.113.66."),
        REJECTED,
    ),
    attack(
        "a transfer with a valid code naming no service is held for review",
        C2,
        plain("Kod AuthInfo", "Proszę o kod AuthInfo.\nKod jednorazowy: {code}"),
        REVIEW,
        code=True,
        checks=(("service-scope", "none"),),
    ),
    attack(
        "a DNS change naming no service is held for review",
        C2,
        plain("DNS", "Proszę o zmianę rekordu DNS typu A na 203.0.113.66."),
        REVIEW,
        checks=(("service-scope", "none"),),
    ),
    attack(
        "a cancellation naming no service is held for review",
        C2,
        plain("Rezygnacja", "Rezygnuję z usługi z końcem miesiąca."),
        REVIEW,
    ),
    attack(
        "the sender's own domain beside another customer's is held for review",
        C2,
        plain("DNS", "Proszę o zmianę DNS dla acme.pl i beta.pl."),
        REVIEW,
    ),
    pytest.param(
        Row(
            C2,
            plain(
                "Serwery DNS",
                "Proszę o zmianę serwerów DNS domeny acme.pl na ns1.agencja.pl i ns2.agencja.pl.",
            ),
            REVIEW,
            attack=False,
        ),
        id=f"{C2}: name servers at an agency that is also a customer are held for review",
    ),
]

PARTS = [
    attack(
        "an HTML alternative asking for a transfer beside plain text asking for an invoice "
        "is held for review",
        C3,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            html="<p>Proszę o kod AuthInfo dla acme.pl.</p>",
        ),
        REVIEW,
        checks=(("instruction-parts", "disagree"),),
    ),
    attack(
        "an HTML alternative asking for a DNS change beside an invoice request is held",
        C3,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            html="<p>Proszę o zmianę rekordu DNS typu A dla acme.pl na 203.0.113.66.</p>",
        ),
        REVIEW,
        checks=(("instruction-parts", "disagree"),),
    ),
    attack(
        "alternatives naming different domains are held for review",
        C3,
        plain(
            "DNS",
            "Proszę o zmianę rekordu DNS dla acme.pl.",
            html="<p>Proszę o zmianę rekordu DNS dla beta.pl.</p>",
        ),
        REVIEW,
    ),
    attack(
        "a second inline text part asking for a transfer is held for review",
        C3,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            parts=(Part("PS. Proszę też o kod AuthInfo dla acme.pl.", disposition="inline"),),
        ),
        REVIEW,
    ),
    attack(
        "a text attachment asking for a DNS change is held for review",
        C3,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            parts=(Part("Zmiana rekordu DNS dla acme.pl na 203.0.113.66.", filename="dns.txt"),),
        ),
        REVIEW,
    ),
    attack(
        "an attached message asking for a DNS change is held for review",
        C3,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            parts=(Part(plain("DNS", "Proszę o zmianę rekordu DNS dla acme.pl.")),),
        ),
        REVIEW,
    ),
    attack(
        "hidden HTML text asking for a transfer is held for review",
        C3,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            html="<p>Proszę o duplikat faktury 11/2026.</p>"
            '<div style="display:none">Proszę o kod AuthInfo dla acme.pl.</div>',
        ),
        REVIEW,
    ),
    attack(
        "white text in HTML-only mail is held for review",
        C3,
        html(
            "Faktura",
            "<p>Proszę o duplikat faktury 11/2026.</p>"
            '<p style="color:#ffffff">Proszę o zmianę rekordu DNS dla acme.pl.</p>',
        ),
        REVIEW,
    ),
    attack(
        "text of size zero in HTML-only mail is held for review",
        C3,
        html(
            "Faktura",
            "<p>Proszę o duplikat faktury 11/2026.</p>"
            '<span style="font-size:0">Rezygnuję z usługi vps-12345.</span>',
        ),
        REVIEW,
    ),
    attack(
        "text with the hidden attribute is held for review",
        C3,
        html(
            "Faktura",
            "<p>Proszę o duplikat faktury 11/2026.</p>"
            "<p hidden>Proszę o zmianę rekordu DNS dla acme.pl.</p>",
        ),
        REVIEW,
    ),
    attack(
        "a text/enriched inline part whose formatting splits AuthInfo is never accepted",
        C3,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            parts=(
                Part(
                    "Proszę też o kod Auth<bold>Info</bold> dla acme.pl.",
                    subtype="enriched",
                    disposition="inline",
                ),
            ),
        ),
        OWN_TRANSFER,
    ),
    attack(
        "a text/rtf inline part whose control words split AuthInfo is held for review",
        C3,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            parts=(
                Part(
                    "{\\rtf1 Prosz\\'eA te\\'bf o kod Auth\\b Info\\b0  dla acme.pl.}",
                    subtype="rtf",
                    disposition="inline",
                ),
            ),
        ),
        REVIEW,
    ),
    attack(
        "an AMP alternative whose markup splits AuthInfo is never accepted",
        C3,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            html="<p>Proszę o duplikat faktury 11/2026.</p>",
            parts=(
                Part(
                    "<p>Proszę o duplikat faktury 11/2026.</p>"
                    "<p>Proszę też o kod Auth<b></b>Info dla acme.pl.</p>",
                    subtype="x-amp-html",
                    disposition="inline",
                ),
            ),
        ),
        OWN_TRANSFER,
    ),
    attack(
        "a second Content-Type making the body HTML that hides a transfer is held for review",
        C3,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.\n"
            "<p>Prosz&#281; te&#380; o kod Auth<b></b>Info dla acme.pl.</p>",
            headers=(("Content-Type", "text/html; charset=utf-8"),),
        ),
        REVIEW,
    ),
    attack(
        "a calendar invitation folding another customer's domain beside the same request "
        "is held for review",
        C3,
        plain(
            "DNS",
            "Proszę o zmianę rekordu DNS dla acme.pl.",
            parts=(
                Part(
                    "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:DNS\r\n"
                    "DESCRIPTION:Proszę o zmianę rekordu DNS dla acme.pl i be\r\n ta.pl.\r\n"
                    "END:VEVENT\r\nEND:VCALENDAR\r\n",
                    subtype="calendar",
                    disposition="inline",
                ),
            ),
        ),
        REVIEW,
    ),
    attack(
        "a transfer request in a frame's srcdoc next to an invoice request is held for review",
        C3,
        html(
            "Faktura",
            "<p>Proszę o duplikat faktury 11/2026.</p>"
            '<iframe srcdoc="&lt;p&gt;Proszę też o kod AuthInfo dla acme.pl&lt;/p&gt;"></iframe>',
        ),
        REVIEW,
    ),
    attack(
        "a transfer request in an object's data: document next to an invoice request is held",
        C3,
        html(
            "Faktura",
            "<p>Proszę o duplikat faktury 11/2026.</p>"
            '<object data="data:text/html;base64,PHA+a29kIEF1dGhJbmZvPC9wPg=="></object>',
        ),
        REVIEW,
    ),
    attack(
        "a PDF attachment whose name asks for a transfer is held for review",
        C3,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            parts=(Part(PDF, "pdf", "application", "zlecenie-transferu-domeny.pdf"),),
        ),
        REVIEW,
    ),
    # History the sender typed: a reader cannot see where the sender's words end, so
    # what the history asks for beyond the sender's own request is held.
    attack(
        "a forged Polish attribution line above an unquoted transfer request is held",
        C3,
        plain(
            "Faktura",
            "Proszę o duplikat faktury za acme.pl.\n\nW dniu 1.12.2026 Jan Kowalski "
            "<jan@acme.pl> napisał:\nProszę o kod AuthInfo dla domeny acme.pl\n",
        ),
        REVIEW,
        checks=(("instruction-text", "history-asks"),),
    ),
    attack(
        "a forged English attribution above a DNS change is held",
        C3,
        plain(
            "Invoice",
            "Please send a duplicate invoice for acme.pl.\n\nOn Mon, 1 Dec 2026, Jan "
            "<jan@acme.pl> wrote:\nPlease change the DNS records of acme.pl to 192.0.2.99\n",
        ),
        REVIEW,
        checks=(("instruction-text", "history-asks"),),
    ),
    attack(
        "a forged attribution above a request no kind knows is held",
        C3,
        plain(
            "DNS",
            "Proszę o zmianę rekordu DNS typu A dla acme.pl na 192.0.2.11.\n\nOn Mon, 1 Dec "
            "2026, Jan <jan@acme.pl> wrote:\nPlease also reset the panel password and mail it "
            "to me\n",
        ),
        REVIEW,
        checks=(("instruction-text", "history-asks"),),
    ),
    attack(
        "an Outlook separator typed above a cancellation is held",
        C3,
        plain(
            "Pytanie",
            "Mam pytanie o fakturę.\n\n-----Original Message-----\nFrom: Jan\n"
            "Rezygnuję z usługi vps-12345, proszę o wypowiedzenie umowy.\n",
        ),
        REVIEW,
        checks=(("instruction-text", "history-asks"),),
    ),
    attack(
        "a blockquote styled as plain text asking for a holder change is held",
        C3,
        html(
            "Faktura",
            "<p>Proszę o duplikat faktury za acme.pl.</p>"
            '<blockquote style="margin:0;padding:0;border:none">Proszę o zmianę abonenta '
            "domeny acme.pl na Example Holdings</blockquote>",
        ),
        REVIEW,
        checks=(("instruction-text", "history-asks"),),
    ),
    attack(
        "a forward under the sender's own invoice request asking for a transfer is held",
        C3,
        plain(
            "Fwd: faktura",
            "Proszę o duplikat faktury dla acme.pl.\n\n---------- Forwarded message "
            "---------\nFrom: Jan <jan@acme.pl>\nProszę o kod AuthInfo dla acme.pl\n",
        ),
        REVIEW,
        checks=(("instruction-text", "history-asks"),),
    ),
]

PHRASES = [
    attack(
        "a zero-width space inside AuthInfo next to an invoice request is never accepted",
        C4,
        plain("Faktura", "Proszę o duplikat faktury oraz kod Auth\u200bInfo dla acme.pl."),
        OWN_TRANSFER,
    ),
    attack(
        "a soft hyphen inside przeniesienie is never accepted",
        C4,
        plain("Domena", "Proszę o prze\u00adniesienie domeny acme.pl."),
        OWN_TRANSFER,
    ),
    attack(
        "a zero-width non-joiner inside cesja is never accepted",
        C4,
        plain("Domena", "W załączeniu umowa ces\u200cji domeny acme.pl."),
        OWN_HOLDER,
    ),
    attack(
        "a byte order mark inside transfer is never accepted",
        C4,
        plain("Domena", "Proszę o trans\ufefffer domeny acme.pl."),
        OWN_TRANSFER,
    ),
    attack(
        "a right-to-left mark inside authinfo is never accepted",
        C4,
        plain("Domena", "Poproszę kod auth\u200finfo dla acme.pl."),
        OWN_TRANSFER,
    ),
    attack(
        "an inline tag splitting transfer is never accepted",
        C4,
        html("Domena", "<p>Proszę o trans<span>fer</span> domeny acme.pl.</p>"),
        OWN_TRANSFER,
    ),
    attack(
        "an empty bold tag splitting AuthInfo is never accepted",
        C4,
        html("Domena", "<p>Proszę o kod Auth<b></b>Info dla acme.pl.</p>"),
        OWN_TRANSFER,
    ),
    attack(
        "a Cyrillic o inside authinfo is never accepted",
        C4,
        plain("Domena", "Proszę o kod authinf\u043e dla acme.pl."),
        OWN_TRANSFER,
    ),
    attack(
        "Cyrillic e inside przeniesienie is never accepted",
        C4,
        plain("Domena", "Proszę o przeni\u0435si\u0435nie domeny acme.pl."),
        OWN_TRANSFER,
    ),
    attack(
        "Cyrillic c and e in cesja are never accepted",
        C4,
        plain("Domena", "W załączeniu umowa \u0441\u0435sji domeny acme.pl."),
        OWN_HOLDER,
    ),
    attack(
        "AuthInfo in fullwidth letters is never accepted",
        C4,
        plain("Domena", f"Proszę o kod {fullwidth('AuthInfo')} dla acme.pl."),
        OWN_TRANSFER,
    ),
    attack(
        "a PS under the signature line asking for a transfer is never accepted",
        C4,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.\n-- \nJan Kowalski\nACME sp. z o.o.\n\n"
            "PS. Proszę też o kod AuthInfo dla acme.pl.\n",
        ),
        OWN_TRANSFER,
    ),
    attack(
        "a PS under the signature line naming another customer's domain is never accepted",
        C4,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.\n-- \nJan Kowalski\nACME sp. z o.o.\n\n"
            "PS. I zmianę rekordu DNS dla beta.pl.\n",
        ),
        FOREIGN,
    ),
    attack(
        "a transfer request written backwards under a right-to-left override is never accepted",
        C4,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.\n"
            "\u202e.lp.emca ald ofnIhtuA dok o żet ęzsorP\u202c",
        ),
        OWN_TRANSFER,
    ),
    attack(
        "AuthInfo spelt in MathML tokens next to an invoice request is never accepted",
        C4,
        html(
            "Faktura",
            "<p>Proszę o duplikat faktury 11/2026.</p><p>Proszę też o kod <math>"
            + "".join(f"<mi>{letter}</mi>" for letter in "AuthInfo")
            + "</math> dla acme.pl.</p>",
        ),
        OWN_TRANSFER,
    ),
    attack(
        "a transfer request in a form field's value next to an invoice request is never accepted",
        C4,
        html(
            "Faktura",
            "<p>Proszę o duplikat faktury 11/2026.</p>"
            '<input value="Proszę też o kod AuthInfo dla acme.pl" size="60">',
        ),
        OWN_TRANSFER,
    ),
    attack(
        "AuthInfo spelt out letter by letter next to an invoice request is never accepted",
        C4,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.\n"
            "P r o s z ę  t e ż  o  k o d  A u t h I n f o  d l a  acme.pl",
        ),
        OWN_TRANSFER,
    ),
    attack(
        "AuthInfo in digits for letters next to an invoice request is never accepted",
        C4,
        plain("Faktura", "Proszę o duplikat faktury 11/2026.\nProszę też o k0d 4uth1nf0."),
        OWN_TRANSFER,
    ),
    attack(
        "another customer's domain spelt out letter by letter beside the sender's own is held",
        C4,
        transfer("acme.pl oraz b e t a . p l"),
        REVIEW,
        code=True,
    ),
    attack(
        "a transfer request in a tooltip next to an invoice request is never accepted",
        C4,
        html(
            "Faktura",
            '<p title="Proszę też o kod AuthInfo dla acme.pl">Proszę o duplikat faktury.</p>',
        ),
        OWN_TRANSFER,
    ),
    attack(
        "text CSS draws from an attribute next to an invoice request is held for review",
        C4,
        html(
            "Faktura",
            "<style>p::after { content: attr(data-x) }</style>"
            '<p data-x=" Proszę też o kod AuthInfo dla acme.pl">Proszę o duplikat faktury.</p>',
        ),
        REVIEW,
    ),
    attack(
        "AuthInfo hyphenated at the end of a line next to an invoice request is never accepted",
        C4,
        plain("Faktura", "Proszę o duplikat faktury 11/2026.\nProszę też o kod Auth-\nInfo."),
        OWN_TRANSFER,
    ),
    attack(
        "a code written with an en dash for another customer's domain is rejected",
        C4,
        plain(
            "Kod AuthInfo",
            "Proszę o kod AuthInfo dla beta.pl.\nKod jednorazowy: {code}",
        ),
        REJECTED,
        code=True,
        code_dash="\u2013",
    ),
    attack(
        "an encoded-word subject asking for a transfer is never accepted",
        C4,
        Mail(
            raw_subject="=?utf-8?b?S29kIEF1dGhJbmZv?= dla acme.pl",
            plain="Dzień dobry, proszę o realizację.",
        ),
        OWN_TRANSFER,
    ),
    pytest.param(
        Row(
            C4,
            plain("Kod AuthInfo", "Proszę o kod AuthInfo dla acme.pl.\nKod jednorazowy: {code}"),
            frozenset({"accepted"}),
            attack=False,
            code=True,
            code_dash="\u2013",
            kinds=("transfer_out",),
        ),
        id=f"{C4}: the sender's own valid code written with an en dash is read as the code",
    ),
]

HEADERS = [
    attack(
        "a second Subject prepended above a DKIM-signed message is held for review",
        C5,
        plain(
            "Pytanie",
            "Dzień dobry, proszę o realizację.",
            dkim_headers=SIGNED,
            on_top=(("Subject", "Zmiana rekordu DNS dla acme.pl na 203.0.113.66"),),
        ),
        REVIEW,
        route=OUTSIDE,
        checks=(("header-count", "fail"),),
    ),
    attack(
        "a second Subject asking for a cancellation above a signed one is held for review",
        C5,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            dkim_headers=SIGNED,
            on_top=(("Subject", "Rezygnacja z usługi vps-12345"),),
        ),
        REVIEW,
        route=OUTSIDE,
        checks=(("header-count", "fail"),),
    ),
    attack(
        "a second From prepended above a DKIM-signed message is never accepted",
        C5,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            dkim_headers=SIGNED,
            on_top=(("From", "Ola Nowak <ola@beta.pl>"),),
        ),
        FOREIGN,
        route=OUTSIDE,
    ),
    attack(
        "two Subject headers from the customer's own server are held for review",
        C5,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            headers=(("Subject", "Zmiana rekordu DNS dla acme.pl"),),
        ),
        REVIEW,
        checks=(("header-count", "fail"),),
    ),
    attack(
        "two To headers are held for review",
        C5,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            headers=(("To", "ola@beta.pl"),),
        ),
        REVIEW,
        checks=(("header-count", "fail"),),
    ),
    attack(
        "two Cc headers are held for review",
        C5,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            headers=(("Cc", "anna@acme.pl"), ("Cc", "ola@beta.pl")),
        ),
        REVIEW,
        checks=(("header-count", "fail"),),
    ),
    attack(
        "two In-Reply-To headers are held for review",
        C5,
        plain(
            "Re: Faktura",
            "Proszę o duplikat faktury 11/2026.",
            headers=(("In-Reply-To", "<a@hosting.example>"), ("In-Reply-To", "<b@beta.pl>")),
        ),
        REVIEW,
        checks=(("header-count", "fail"),),
    ),
    attack(
        "a second Subject above a signed message from acme's own server is held for review",
        C5,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            dkim_headers=SIGNED,
            on_top=(("Subject", "Kod AuthInfo dla acme.pl"),),
        ),
        REVIEW,
        checks=(("header-count", "fail"),),
    ),
    attack(
        "a Mail-Followup-To to another address put above a replayed signed message is held",
        C5,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026 za acme.pl.",
            dkim_headers=SIGNED,
            on_top=(("Mail-Followup-To", "ksiegowa@example.org"),),
        ),
        NOT_ACCEPTED,
        route=OUTSIDE,
        checks=(("sender-headers", "fail"),),
    ),
    attack(
        "a Mail-Reply-To to another address put above a replayed signed message is held",
        C5,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026 za acme.pl.",
            dkim_headers=SIGNED,
            on_top=(("Mail-Reply-To", "ksiegowa@example.org"),),
        ),
        NOT_ACCEPTED,
        route=OUTSIDE,
        checks=(("sender-headers", "fail"),),
    ),
    attack(
        "a Disposition-Notification-To elsewhere put above a replayed signed message is held",
        C5,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026 za acme.pl.",
            dkim_headers=SIGNED,
            on_top=(("Disposition-Notification-To", "ksiegowa@example.org"),),
        ),
        NOT_ACCEPTED,
        route=OUTSIDE,
        checks=(("sender-headers", "fail"),),
    ),
    attack(
        "a Resent-From to another address put above a replayed signed message is held",
        C5,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026 za acme.pl.",
            dkim_headers=SIGNED,
            on_top=(("Resent-From", "ksiegowa@example.org"),),
        ),
        NOT_ACCEPTED,
        route=OUTSIDE,
        checks=(("sender-headers", "fail"),),
    ),
    attack(
        "two Reply-To headers are held for review",
        C5,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            headers=(("Reply-To", "jan@acme.pl"), ("Reply-To", "ola@beta.pl")),
        ),
        REVIEW,
        checks=(("header-count", "fail"),),
    ),
    attack(
        "two References headers are held for review",
        C5,
        plain(
            "Re: Faktura",
            "Proszę o duplikat faktury 11/2026.",
            headers=(("References", "<a@hosting.example>"), ("References", "<b@beta.pl>")),
        ),
        REVIEW,
        checks=(("header-count", "fail"),),
    ),
    attack(
        "a Subject the DKIM signature does not cover is held for review",
        C5,
        plain(
            "Zmiana rekordu DNS dla acme.pl na 203.0.113.66",
            "Dzień dobry, proszę o realizację.",
            dkim_headers=("from", "to", "date", "message-id"),
        ),
        REVIEW,
        route=OUTSIDE,
    ),
]

DNS_CHANGE_TEXT = "Proszę o zmianę rekordu DNS typu A dla acme.pl na 203.0.113.66."

AUTOMATIC = [
    attack(
        "a signed message from the null reverse-path, as vacation responders send, is held",
        C6,
        plain("DNS", DNS_CHANGE_TEXT, dkim_headers=SIGNED),
        REVIEW,
        route=Route("203.0.113.66", "mail.outside.example", ""),
        checks=(("envelope-from", "bounce"),),
    ),
    attack(
        "a mailing list's copy of a signed request is held for review",
        C6,
        plain("DNS", DNS_CHANGE_TEXT, dkim_headers=SIGNED, on_top=(("List-Id", "<k.acme.pl>"),)),
        REVIEW,
        route=OUTSIDE,
        checks=(("auto-submitted", "auto"),),
    ),
    attack(
        "an out-of-office reply echoing a DNS change is held for review",
        C6,
        plain(
            "Automatyczna odpowiedź: Re: Zmiana rekordu DNS dla acme.pl",
            "Jestem na urlopie do 15.12.2026.\n\n> Proszę o zmianę rekordu DNS dla acme.pl.\n",
            headers=(("Auto-Submitted", "auto-replied"),),
        ),
        REVIEW,
        checks=(("auto-submitted", "auto"),),
    ),
    attack(
        "an auto-reply whose body repeats the request is held for review",
        C6,
        plain(
            "Re: Rezygnacja",
            "Dziękujemy za wiadomość. Treść: Rezygnuję z usługi vps-12345.",
            headers=(("Auto-Submitted", "auto-replied"),),
        ),
        REVIEW,
        checks=(("auto-submitted", "auto"),),
    ),
    attack(
        "a message marked auto-generated is held for review",
        C6,
        plain(
            "Zmiana DNS acme.pl",
            "Proszę o zmianę rekordu DNS dla acme.pl.",
            headers=(("Auto-Submitted", "auto-generated"),),
        ),
        REVIEW,
        checks=(("auto-submitted", "auto"),),
    ),
    attack(
        "X-Autoreply is held for review",
        C6,
        plain(
            "Re: Zmiana DNS acme.pl",
            "Proszę o zmianę rekordu DNS dla acme.pl.",
            headers=(("X-Autoreply", "yes"),),
        ),
        REVIEW,
        checks=(("auto-submitted", "auto"),),
    ),
    attack(
        "X-Autorespond is held for review",
        C6,
        plain(
            "Re: Zmiana DNS acme.pl",
            "Proszę o zmianę rekordu DNS dla acme.pl.",
            headers=(("X-Autorespond", "Out of office"),),
        ),
        REVIEW,
        checks=(("auto-submitted", "auto"),),
    ),
    attack(
        "Precedence auto_reply is held for review",
        C6,
        plain(
            "Re: Zmiana DNS acme.pl",
            "Proszę o zmianę rekordu DNS dla acme.pl.",
            headers=(("Precedence", "auto_reply"),),
        ),
        REVIEW,
        checks=(("auto-submitted", "auto"),),
    ),
    attack(
        "Precedence bulk is held for review",
        C6,
        plain(
            "Zmiana DNS acme.pl",
            "Proszę o zmianę rekordu DNS dla acme.pl.",
            headers=(("Precedence", "bulk"),),
        ),
        REVIEW,
        checks=(("auto-submitted", "auto"),),
    ),
    attack(
        "an English out-of-office subject without headers is held for review",
        C6,
        plain(
            "Out of Office: Re: DNS change for acme.pl",
            "I am out of the office until 15 December.\n> Please change the DNS records of "
            "acme.pl.\n",
        ),
        REVIEW,
        checks=(("auto-submitted", "auto"),),
    ),
    attack(
        "a Polish auto-reply subject without headers is held for review",
        C6,
        plain(
            "Automatyczna odpowiedź: Zmiana DNS acme.pl",
            "Dziękuję za wiadomość, odpowiem po powrocie.\n"
            "Proszę o zmianę rekordu DNS dla acme.pl.",
        ),
        REVIEW,
        checks=(("auto-submitted", "auto"),),
    ),
]

DNS_CHANGE = "Proszę o zmianę rekordu DNS typu A dla acme.pl na 203.0.113.66."

RESULTS = [
    attack(
        "a trusted authserv-id sent straight from the client is a forgery",
        C7,
        plain("DNS acme.pl", DNS_CHANGE, on_top=(("Authentication-Results", FORGED_RESULTS),)),
        REJECTED,
        route=OUTSIDE,
        hop="direct",
        checks=(("upstream-results", "forged"),),
    ),
    attack(
        "a trusted authserv-id claimed by a REST caller without the relay scope is a forgery",
        C7,
        plain("DNS acme.pl", DNS_CHANGE, on_top=(("Authentication-Results", FORGED_RESULTS),)),
        REJECTED,
        route=OUTSIDE,
        hop="direct",
        rest_token="intake",
        rest_relay=True,
        checks=(("upstream-results", "forged"),),
    ),
    attack(
        "a trusted authserv-id reporting only a DKIM pass, straight from the client, is a forgery",
        C7,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            on_top=(
                (
                    "Authentication-Results",
                    f"{TRUSTED_AUTHSERV_ID}; dkim=pass header.d=acme.pl header.s=rsa2048",
                ),
            ),
        ),
        REJECTED,
        route=OUTSIDE,
        hop="direct",
        checks=(("upstream-results", "forged"),),
    ),
    attack(
        "a trusted authserv-id with a valid code straight from the client never authorizes",
        C7,
        Mail(
            subject="Kod AuthInfo",
            plain="Proszę o kod AuthInfo dla acme.pl.\nKod jednorazowy: {code}",
            on_top=(("Authentication-Results", FORGED_RESULTS),),
        ),
        REJECTED,
        route=OUTSIDE,
        hop="direct",
        code=True,
        checks=(("upstream-results", "forged"),),
    ),
    attack(
        "a trusted authserv-id under a header the client wrote itself is a forgery",
        C7,
        plain(
            "DNS acme.pl",
            DNS_CHANGE,
            on_top=(
                ("Authentication-Results", "mx.outside.example; spf=pass"),
                ("Authentication-Results", FORGED_RESULTS),
            ),
        ),
        REJECTED,
        route=OUTSIDE,
        hop="direct",
        checks=(("upstream-results", "forged"),),
    ),
    legit(
        "Authentication-Results of our own relay are believed when it hands the message over",
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            on_top=(("Authentication-Results", FORGED_RESULTS),),
        ),
        "accepted",
        ("invoice_duplicate",),
        route=OUTSIDE,
        hop="relay",
        rest_relay=True,
    ),
]

ADDRESSES = [
    attack(
        "a quoted local part holding the customer's address in MAIL FROM is never accepted",
        C8,
        plain("DNS acme.pl", DNS_CHANGE),
        frozenset({"rejected", "review"}),
        route=Route("203.0.113.66", "mail.evil.example", '"jan@acme.pl"@evil.example'),
    ),
    attack(
        "a quoted local part holding an outside address in MAIL FROM at acme.pl is never accepted",
        C8,
        plain("DNS acme.pl", DNS_CHANGE),
        frozenset({"rejected", "review"}),
        route=Route("203.0.113.66", "mail.evil.example", '"jan@evil.example"@acme.pl'),
    ),
    attack(
        "a From whose quoted local part holds the customer's address is never accepted",
        C8,
        plain("DNS acme.pl", DNS_CHANGE, sender='Jan Kowalski <"jan@acme.pl"@evil.example>'),
        frozenset({"rejected", "review"}),
        route=Route("203.0.113.66", "mail.evil.example", '"jan@acme.pl"@evil.example'),
    ),
    attack(
        "a From whose comment holds the customer's address is never accepted",
        C8,
        plain("DNS acme.pl", DNS_CHANGE, sender="jan@evil.example (jan@acme.pl)"),
        frozenset({"rejected", "review"}),
        route=Route("203.0.113.66", "mail.evil.example", "jan@evil.example"),
    ),
    attack(
        "a From whose encoded-word name holds the customer's address is never accepted",
        C8,
        plain(
            "DNS acme.pl",
            DNS_CHANGE,
            sender="=?utf-8?q?jan=40acme=2Epl?= <jan@evil.example>",
        ),
        frozenset({"rejected", "review"}),
        route=Route("203.0.113.66", "mail.evil.example", "jan@evil.example"),
    ),
]

ADDRESSES += [
    attack(
        "a Reply-To whose quoted local part holds the customer's address is never accepted",
        C8,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            headers=(("Reply-To", '"jan@acme.pl"@evil.example'),),
        ),
        frozenset({"rejected", "review"}),
    ),
    attack(
        "a Sender whose comment holds the customer's address is never accepted",
        C8,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            headers=(("Sender", "jan@evil.example (jan@acme.pl)"),),
        ),
        frozenset({"rejected", "review"}),
    ),
]

LEGITIMATE = [
    legit(
        "a plain invoice request from the registered address through acme's own server",
        plain("Faktura", "Dzień dobry,\nproszę o duplikat faktury 11/2026.\n\nJan Kowalski\n"),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "a DKIM-signed invoice request from elsewhere",
        plain("Faktura", "Proszę o duplikat faktury VAT za acme.pl.", dkim_headers=SIGNED),
        "accepted",
        ("invoice_duplicate",),
        route=OUTSIDE,
    ),
    legit(
        "a DKIM-signed DNS change for the customer's own domain",
        plain("DNS", DNS_CHANGE, dkim_headers=SIGNED),
        "accepted",
        ("dns_change",),
        route=OUTSIDE,
    ),
    legit(
        "a reply with quoted history that asks for an invoice",
        plain(
            "Re: Faktura",
            "Dziękuję, proszę jeszcze o duplikat faktury 11/2026."
            + QUOTE_INTRO.replace("Ola Nowak <ola@beta.pl>", "Biuro <biuro@hosting.example>")
            + "> Dzień dobry, w czym możemy pomóc?\n",
        ),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "an HTML and plain alternative that agree",
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026 dla acme.pl.",
            html="<p>Proszę o <b>duplikat faktury</b> 11/2026 dla acme.pl.</p>",
        ),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "a signature with the company's own www domain",
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.\n-- \nJan Kowalski\nACME sp. z o.o.\n"
            "https://www.acme.pl | tel. 600 100 200\n",
        ),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "a DNS change naming the customer's own domain as a URL",
        plain("DNS", "Proszę o zmianę rekordu DNS typu A dla https://acme.pl/ na 192.0.2.11."),
        "accepted",
        ("dns_change",),
    ),
    legit(
        "a transfer of the customer's own domain without a code asks for one",
        plain("Transfer", "Proszę o przeniesienie domeny acme.pl do innego rejestratora."),
        "otp_required",
        ("transfer_out",),
    ),
    legit(
        "a transfer of the customer's own domain with a valid code",
        transfer("acme.pl"),
        "accepted",
        ("transfer_out",),
        code=True,
    ),
    legit(
        "an English question about the customer's domain",
        plain("Question", "Could you tell me when acme.pl expires?"),
        "accepted",
        ("inquiry",),
    ),
    legit(
        "a DNS change for the customer's own www host",
        plain("DNS", "Proszę o zmianę rekordu DNS typu CNAME dla www.acme.pl na acme.pl."),
        "accepted",
        ("dns_change",),
    ),
    legit(
        "a cancellation of the customer's own server",
        plain("Rezygnacja", "Rezygnuję z usługi vps-12345 z końcem miesiąca."),
        "accepted",
        ("cancellation",),
    ),
    legit(
        "a cancellation of the customer's own server written with a space",
        plain("Rezygnacja", "Rezygnuję z usługi VPS 12345 z końcem miesiąca."),
        "accepted",
        ("cancellation",),
    ),
    legit(
        "a change of contact details for the customer's own domain",
        plain("Dane", "Proszę o zmianę danych kontaktowych dla acme.pl."),
        "accepted",
        ("contact_change",),
    ),
    legit(
        "a From address written in capitals",
        plain("Faktura", "Proszę o duplikat faktury 11/2026.", sender="Jan Kowalski <JAN@ACME.PL>"),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "a request written without Polish diacritics",
        plain("Faktura", "Prosze o duplikat faktury za acme.pl, dziekuje."),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "a holder change of the customer's own domain asks for paper",
        plain("Abonent", "Proszę o zmianę abonenta domeny acme.pl na spółkę."),
        "postal_required",
        ("holder_change",),
    ),
    legit(
        "a person's mail marked Auto-Submitted no",
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            headers=(("Auto-Submitted", "no"),),
        ),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "a reply whose own text asks for an invoice",
        plain("Re: Faktura 11/2026", "Proszę o duplikat faktury 11/2026 dla acme.pl."),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "an HTML-only request for the customer's own domain",
        html("DNS", "<p>Proszę o <b>zmianę&nbsp;rekordu DNS</b> dla acme.pl.</p>"),
        "accepted",
        ("dns_change",),
    ),
    legit(
        "a quoted-printable request with diacritics",
        plain(
            "Faktura",
            "Dzień dobry, proszę o duplikat faktury za żółty miesiąc dla acme.pl.",
            cte="quoted-printable",
        ),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "Word HTML with smart tags, empty paragraphs and a signature table",
        html(
            "Faktura",
            '<div class="WordSection1"><p class="MsoNormal">Dzień dobry,<o:p></o:p></p>'
            '<p class="MsoNormal">proszę o duplikat faktury 11/2026 dla '
            "<st1:PersonName>ACME</st1:PersonName> sp. z o.o.<o:p></o:p></p>"
            "<table><tr><td>Jan Kowalski</td><td>tel. 600 100 200</td><td>"
            '<a href="https://www.acme.pl">www.acme.pl</a></td></tr></table>'
            '<img src="https://acme.pl/t.gif" width="1" height="1"></div>',
        ),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "Outlook HTML with a logo shown inline is held, as any image may carry text",
        plain(
            "Faktura",
            "Dzień dobry,\nproszę o duplikat faktury 11/2026.\n\nJan Kowalski\n",
            html="<p>Dzień dobry,</p><p>proszę o duplikat faktury 11/2026.</p>"
            '<p>Jan Kowalski<br><img src="cid:logo" alt="" width="120" height="40"></p>',
            parts=(Part(PNG, "png", "image", "logo.png", disposition="inline"),),
        ),
        "review",
        ("invoice_duplicate",),
    ),
    legit(
        "Apple Mail with an image between two HTML parts",
        html(
            "Faktura",
            "<div>Proszę o duplikat faktury 11/2026 dla acme.pl,</div>",
            parts=(
                Part(PNG, "png", "image", "skan.png", disposition="inline"),
                Part("<div>jak na zrzucie powyżej.</div>", subtype="html", disposition="inline"),
            ),
        ),
        "review",
        ("invoice_duplicate",),
    ),
    legit(
        "a Gmail reply with quoted history and a mobile signature",
        plain(
            "Re: Faktura 11/2026",
            "Proszę o duplikat faktury 11/2026.\n\nSent from my iPhone"
            + QUOTE_INTRO.replace("Ola Nowak <ola@beta.pl>", "Biuro <biuro@hosting.example>")
            + "> Dzień dobry, w czym możemy pomóc?\n",
            html='<div dir="ltr">Proszę o duplikat faktury 11/2026.<br><br>Sent from my iPhone'
            '</div><div class="gmail_quote"><div dir="ltr" class="gmail_attr">W dniu '
            "1.12.2026 o 10:00 Biuro &lt;biuro@hosting.example&gt; napisał:<br></div>"
            '<blockquote class="gmail_quote">Dzień dobry, w czym możemy pomóc?</blockquote>'
            "</div>",
        ),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "an invoice question with the PDF invoice attached is held, not rejected",
        plain(
            "Faktura 11/2026",
            "Proszę o duplikat faktury 11/2026, w załączeniu oryginał z błędem.",
            parts=(Part(PDF, "pdf", "application", "faktura-11-2026.pdf"),),
        ),
        "review",
        ("invoice_duplicate",),
    ),
    legit(
        "an HTML request with link tooltips and a signature giving the panel address",
        html(
            "DNS",
            '<p>Proszę o zmianę rekordu DNS typu A dla <a href="https://acme.pl" title="Strona">'
            "acme.pl</a> na 192.0.2.11.</p><p>Jan Kowalski, jan@acme.pl, "
            'biuro: <a href="mailto:biuro@acme.pl" title="Biuro">biuro@acme.pl</a></p>',
        ),
        "accepted",
        ("dns_change",),
    ),
    legit(
        "a signature giving an address that is not the customer's is held, not rejected",
        html(
            "DNS",
            '<p>Proszę o zmianę rekordu DNS typu A dla <a href="https://acme.pl" title="Strona">'
            "acme.pl</a> na 192.0.2.11.</p><p>Jan Kowalski, jan@acme.pl, "
            'kopia: <a href="mailto:biuro@gmail.com" title="Biuro">biuro@gmail.com</a></p>',
        ),
        "review",
        ("dns_change",),
    ),
    legit(
        "a plain request with a dashed list, emphasis and a sentence ending after the domain",
        plain(
            "DNS",
            "Dzień dobry,\nproszę o zmianę rekordów DNS domeny *acme.pl*:\n- A na 192.0.2.11\n"
            "- MX na mx.acme.pl.\nDziękuję. Pozdrawiam,\n_Jan Kowalski_\n",
        ),
        "accepted",
        ("dns_change",),
    ),
    legit(
        "a DKIM-signed request from acme's own server with a link to its site",
        plain(
            "DNS",
            "Proszę o zmianę rekordu DNS typu MX dla acme.pl.\n-- \nhttps://www.acme.pl/kontakt\n",
            dkim_headers=SIGNED,
        ),
        "accepted",
        ("dns_change",),
    ),
]

INVOICE_REQUEST = "Dzień dobry,\nproszę o duplikat faktury 11/2026 za acme.pl.\n"
RIDING = [
    attack(
        "a password reset beside an invoice request is held",
        C10,
        plain("Faktura", INVOICE_REQUEST + "Proszę też zresetować hasło do panelu.\nJan\n"),
        REVIEW,
        checks=(("instruction-kind", "partial"),),
    ),
    attack(
        "a new panel address beside an invoice request is held",
        C10,
        plain(
            "Faktura",
            INVOICE_REQUEST + "Dodatkowo proszę zmienić adres e-mail w panelu.\nJan\n",
        ),
        REVIEW,
        checks=(("instruction-kind", "partial"),),
    ),
    attack(
        "an administrator added, in English, beside an invoice request is held",
        C10,
        plain(
            "Invoice",
            "Please send a duplicate of invoice 11/2026 for acme.pl. Also please add my "
            "colleague as an administrator of the account.\n",
        ),
        REVIEW,
        checks=(("instruction-kind", "partial"),),
    ),
    attack(
        "two-factor authentication switched off in the subject of an invoice request is held",
        C10,
        plain("Proszę wyłączyć weryfikację dwuetapową", INVOICE_REQUEST),
        REVIEW,
        checks=(("instruction-kind", "partial"),),
    ),
    attack(
        "an invoice sent to an address that is not the customer's is held",
        C10,
        plain(
            "Faktura",
            "Proszę o przesłanie duplikatu faktury 11/2026 na adres ksiegowa@example.org.\n",
        ),
        REVIEW,
        checks=(("named-addresses", "other"),),
    ),
    attack(
        "mail forwarding to an address written with [at] is held",
        C10,
        plain(
            "Poczta acme.pl",
            "Proszę ustawić przekierowanie poczty z acme.pl na adres biuro [at] example.org\n",
        ),
        REVIEW,
        checks=(("named-addresses", "other"),),
    ),
    attack(
        "an address only in a mailto: link is held",
        C10,
        html(
            "Faktura",
            "<p>Proszę o duplikat faktury 11/2026 za acme.pl, wysłany "
            '<a href="mailto:ksiegowa@example.org">do księgowej</a>.</p>',
        ),
        REVIEW,
        checks=(("named-addresses", "other"),),
    ),
    attack(
        "an attached list asking for an action no kind knows is held",
        C10,
        plain(
            "Faktura",
            INVOICE_REQUEST,
            parts=(Part("domena;akcja\nacme.pl;transfer\n", "csv", "text", "lista.csv"),),
        ),
        REVIEW,
        checks=(("instruction-parts", "attachment"),),
    ),
    legit(
        "an invoice sent to an address at the customer's own domain stays accepted",
        plain(
            "Faktura",
            "Proszę o przesłanie duplikatu faktury 11/2026 na adres ksiegowosc@acme.pl.\n",
        ),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "a DNS change asking to confirm the change stays accepted",
        plain(
            "Zmiana DNS",
            "Proszę o zmianę rekordu DNS typu A dla acme.pl na 192.0.2.11 i potwierdzenie "
            "zmiany. Z góry dziękuję!\n-- \nJan Kowalski\ntel. 600 100 200, e-mail: "
            "jan@acme.pl\n",
        ),
        "accepted",
        ("dns_change",),
    ),
]

DNS_REQUEST = "Dzień dobry,\nproszę o zmianę rekordu DNS typu A dla acme.pl na 192.0.2.11.\n"


def unlisted(sentence: str, request: str, extra: str) -> Any:
    """``extra`` after acme's own recognised ``request``: held as instruction-kind partial."""
    subject = "Faktura" if request is INVOICE_REQUEST else "DNS"
    return attack(
        sentence,
        C11,
        plain(subject, f"{request}{extra}\n\nJan Kowalski\n"),
        REVIEW,
        checks=(("instruction-kind", "partial"),),
    )


# Each ended accepted before: the second request had no request word and no listed verb,
# or its verb sat in another clause than its object, or its object was not listed.
UNLISTED = [
    unlisted("a new password declared beside a DNS change", DNS_REQUEST, "Nowe hasło: Lato2026!"),
    unlisted(
        "a panel login declared with niech beside an invoice request",
        INVOICE_REQUEST,
        "Login do panelu niech będzie teraz marek.nowak.",
    ),
    unlisted(
        "full access for someone else beside an invoice request",
        INVOICE_REQUEST,
        "Marek ma dostać pełny dostęp do konta.",
    ),
    unlisted(
        "a proxy for the domain declared beside a DNS change",
        DNS_REQUEST,
        "Niech pełnomocnikiem do spraw domeny będzie od dziś Marek Nowak.",
    ),
    unlisted(
        "a server reinstalled in verbs the lists do not hold",
        INVOICE_REQUEST,
        "Zrestartujcie vps-12345 i zainstalujcie system od nowa.",
    ),
    unlisted(
        "a refund account given as a label and a value",
        INVOICE_REQUEST,
        "Numer konta do zwrotu: PL61109010140000071219812874.",
    ),
    unlisted(
        "the owner's contact details given as a label and a value",
        DNS_REQUEST,
        "Dane kontaktowe właściciela: Marek Nowak, ul. Polna 1, Warszawa.",
    ),
    unlisted(
        "billing details changed with the verb in a clause of its own",
        DNS_REQUEST,
        "Zmieńcie też dane do faktury na Example Sp. z o.o., NIP 1234567890.",
    ),
    unlisted(
        "the account's phone number changed beside a DNS change",
        DNS_REQUEST,
        "Przy okazji zmieńcie numer telefonu na koncie na 600100200.",
    ),
    unlisted(
        "FTP access and a password with no verb at all",
        INVOICE_REQUEST,
        "Dostęp FTP dla marek, hasło dowolne.",
    ),
    unlisted("the account taken over", INVOICE_REQUEST, "Marek przejmuje konto."),
    unlisted(
        "an English declaration of a new password",
        INVOICE_REQUEST,
        "My new password should be Summer2026!",
    ),
    unlisted(
        "an English change of owner without a listed verb",
        DNS_REQUEST,
        "Mark takes over as the account owner.",
    ),
    unlisted(
        "the account given away in the first person", INVOICE_REQUEST, "Oddaję konto Markowi."
    ),
    unlisted(
        "who manages the account from now on",
        INVOICE_REQUEST,
        "Od teraz kontem zarządza Marek.",
    ),
    unlisted(
        "a new holder stated as a fact",
        INVOICE_REQUEST,
        "Abonentem acme.pl jest teraz Example sp. z o.o.",
    ),
    unlisted(
        "the account's owner stated in English", INVOICE_REQUEST, "The account now belongs to Mark."
    ),
    unlisted(
        "a panel login given under a label of more than the word",
        INVOICE_REQUEST,
        "Login do panelu: marek.nowak",
    ),
    attack(
        "another customer's login after 'klienta', without a colon, is never accepted",
        C2,
        plain("Faktura", f"{INVOICE_REQUEST}Chodzi o fakturę dla klienta beta.\nJan\n"),
        FOREIGN,
    ),
    attack(
        "another customer's login in English is never accepted",
        C2,
        plain("Invoice", "Please send a duplicate of invoice 11/2026 for customer beta.\n"),
        REJECTED,
    ),
    attack(
        "another customer's login ending a sentence is never accepted",
        C2,
        plain("Faktura", f"{INVOICE_REQUEST}Login: beta.\nJan\n"),
        FOREIGN,
    ),
    legit(
        "the sender's own login after 'klienta' stays accepted",
        plain("Faktura", f"{INVOICE_REQUEST}Konto klienta acme.\nJan\n"),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "the sender's own login after 'Login:' stays accepted",
        plain("Faktura", f"{INVOICE_REQUEST}Login: acme\nJan\n"),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "an invoice request that asks to be told when it is done stays accepted",
        plain(
            "Faktura",
            f"{INVOICE_REQUEST}Dajcie znać, gdyby czegoś brakowało. Proszę o informację "
            "zwrotną.\n-- \nJan Kowalski\nTel.: 600 100 200\nE-mail: jan@acme.pl\n",
        ),
        "accepted",
        # "Proszę o informację" is the inquiry's phrase.
        ("inquiry", "invoice_duplicate"),
    ),
]


def riding(
    sentence: str, guards: str, extra: str, joined: str = "\n", held: frozenset[str] = REVIEW
) -> Any:
    """``extra`` joined to acme's own recognised invoice request: held (for review)."""
    body = f"{INVOICE_REQUEST.rstrip().rstrip('.')}{joined}{extra}\n\nJan Kowalski\n"
    return attack(sentence, guards, plain("Faktura", body), held)


# Each ended accepted before: the clause was recognised as an invoice request, and what
# else it asked for was taken as part of that request.
SAME_CLAUSE = [
    riding(
        "a holder change after 'a potem'", C12, "o przepisanie acme.pl na Example.", " a potem "
    ),
    riding(
        "a transfer after 'a następnie'", C12, "o przeniesienie acme.pl do OVH.", " a następnie "
    ),
    riding("a holder change after 'wraz z'", C12, "przepisaniem acme.pl na Example.", " wraz z "),
    riding("an imperative with no comma before it", C12, "zmieńcie operatora acme.pl na OVH.", " "),
    riding("a deletion with no comma before it", C12, "proszę skasować acme.pl.", " "),
    riding("a password with no comma before it", C12, "please change the password.", " "),
    attack(
        "a holder change written as a change of the holder's details is held",
        C12,
        plain("Dane", "Proszę o zmianę danych abonenta domeny acme.pl na Example sp. z o.o."),
        OWN_HOLDER,
    ),
    attack(
        "a holder change written as an update of the registrant's details is held",
        C12,
        plain("Dane", "Proszę zaktualizować dane właściciela acme.pl: Example sp. z o.o."),
        OWN_HOLDER,
    ),
]
# Each ended accepted before: no word of the request lists in it, or only an object.
LANGUAGES = [
    riding("a Czech transfer", C13, "Převeďte doménu acme.pl k jinému registrátorovi."),
    riding("a Slovak holder change", C13, "Zmeňte držiteľa domény acme.pl na Example s.r.o."),
    riding("a German deletion", C13, "Löschen Sie die Domain acme.pl."),
    riding(
        "a German holder declared", C13, "Neuer Inhaber der Domain acme.pl ist die Example GmbH."
    ),
    riding("a Spanish transfer", C13, "Transfieran el dominio acme.pl a otro registrador."),
    riding("a Spanish holder declared", C13, "El nuevo titular de acme.pl es Example SL."),
    riding("a French authorisation code", C13, "Envoyez-moi le code d'autorisation pour acme.pl."),
    riding("an Italian transfer", C13, "Trasferite il dominio acme.pl a un altro registrar."),
    riding(
        "a Ukrainian transfer in the same clause",
        C13,
        "передайте домен acme.pl іншому реєстратору.",
        " ",
    ),
    riding(
        "a Czech request in the same sentence",
        C13,
        "a převod domény acme.pl k jinému registrátorovi.",
        " ",
    ),
    attack(
        "a whole Czech message with an invoice word in it is held",
        C13,
        plain(
            "Faktura", "Dobrý den, prosím o kopie faktury 11/2026 a změnu držitele domény acme.pl."
        ),
        REVIEW,
    ),
    riding(
        "a refund to a bank account with no request word",
        C10,
        "Zwrot nadpłaty na PL61 1090 1014 0000 0712 1981 2874.",
    ),
]
OVERRIDE = "unicode-bidi:bidi-override;direction:rtl"
# Each ended accepted before.
DRAWN = [
    riding(
        "an AuthInfo code spelt with dashes",
        C14,
        "Proszę też o kod a-u-t-h-i-n-f-o.",
        held=OWN_TRANSFER,
    ),
    riding(
        "an AuthInfo code spelt with dots",
        C14,
        "Proszę też o kod A.U.T.H.I.N.F.O.",
        held=OWN_TRANSFER,
    ),
    riding("a verb spelt out with spaces", C14, "P r z e n i e ś c i e  acme.pl do OVH."),
    attack(
        "a paragraph drawn right to left by CSS is read as it is drawn",
        C14,
        html(
            "Faktura",
            "<p>Proszę o duplikat faktury 11/2026.</p>"
            f'<p style="{OVERRIDE}">{"Proszę też o kod AuthInfo dla acme.pl."[::-1]}</p>',
        ),
        NOT_ACCEPTED,
    ),
    attack(
        "a UTF-16 text attachment labelled with no charset is read",
        C14,
        plain(
            "Faktura",
            INVOICE_REQUEST,
            parts=(
                Part(
                    "Proszę o kod AuthInfo dla acme.pl.".encode("utf-16"), "plain", "text", "x.txt"
                ),
            ),
        ),
        REVIEW,
    ),
]

ROWS = [
    *UNRECOGNISED,
    *SERVICES,
    *PARTS,
    *PHRASES,
    *HEADERS,
    *AUTOMATIC,
    *RESULTS,
    *ADDRESSES,
    *RIDING,
    *UNLISTED,
    *SAME_CLAUSE,
    *LANGUAGES,
    *DRAWN,
    *LEGITIMATE,
]


@contextmanager
def own_database(request: pytest.FixtureRequest, tmp: pytest.TempPathFactory) -> Iterator[str]:
    """A store of this module's own on the backend, so no other test empties it under us."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp.mktemp('fail-closed') / 'store.db'}"
        return
    session_url = make_url(request.getfixturevalue("postgresql_url"))
    server = create_engine(session_url, isolation_level="AUTOCOMMIT")
    name = f"intakeguard_fail_closed_{uuid.uuid4().hex[:12]}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield session_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture(scope="module", params=BACKENDS)
def stack(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    dns_server: FixtureDnsServer,
) -> Iterator[Stack]:
    """One registry (acme, beta, agencja) and the doors, set up once per backend."""
    with own_database(request, tmp_path_factory) as url:
        yield from _stack_on(url, dns_server)


def _stack_on(url: str, dns_server: FixtureDnsServer) -> Iterator[Stack]:
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    settings = make_settings(
        url,
        dns_nameservers=[dns_server.address],
        dns_timeout=1.0,
        trusted_authserv_ids=[TRUSTED_AUTHSERV_ID],
    )
    service = build_service(settings)
    with service.sessions.begin() as session:
        intake_token = create_token(session, "outside caller", ["intake"])
    relay = SmtpConfig(recipients=(DESK,), trusted_relays=loopback())
    direct = SmtpConfig(recipients=(DESK,), max_connections_per_minute=100_000)
    with (
        LiveServer(create_app(settings, service)) as live,
        httpx.Client(
            verify=TLS,
            base_url=live.url,
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            timeout=30,
        ) as api,
        SmtpThread(lambda: InProcessHandoff(service), relay) as smtp_relay,
        SmtpThread(lambda: InProcessHandoff(service), direct) as smtp_direct,
    ):
        for login, customer in CUSTOMERS.items():
            response = api.put(f"/v1/customers/{login}", json=customer)
            assert response.status_code == 201, response.text
        yield Stack(api, intake_token, smtp_relay, smtp_direct)
    service.sessions.kw["bind"].dispose()


def deliver(stack: Stack, row: Row, door: Door) -> dict[str, Any] | None:
    """The verdict ``row`` gets through ``door``; None when the REST door refuses the call."""
    code = stack.code() if row.code else None
    raw = build(row.mail, code.replace("-", row.code_dash) if code else None)
    if door == "smtp":
        return stack.smtp(raw, row.route, row.hop)
    token = stack.intake_token if row.rest_token == "intake" else None
    return stack.rest(raw, row.route, token=token, relay=row.rest_relay)


@pytest.mark.parametrize("door", ["rest", "smtp"])
@pytest.mark.parametrize("row", ROWS)
def test_what_a_person_can_read_decides(stack: Stack, row: Row, door: Door) -> None:
    verdict = deliver(stack, row, door)
    if verdict is None:
        assert row.attack, f"{row.guards}: the {door} door refused legitimate mail"
        return
    seen = (
        f"{row.guards} via {door}: {verdict['decision']} / {verdict['assurance']} "
        f"{verdict['instruction']} {verdict['reasons']}"
    )
    assert verdict["decision"] in row.decisions, seen
    if row.attack:
        assert verdict["decision"] != "accepted", seen
        assert verdict["assurance"] != "authorized", seen
    if row.kinds is not None:
        assert verdict["instruction"]["kinds"] == list(row.kinds), seen
    for name, result in row.checks:
        assert check_result(verdict, name) == result, f"{seen}; {name} should be {result}"
