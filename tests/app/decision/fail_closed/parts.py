"""Fail-closed rows of classes 3 and 4: one part read, and phrases matched loosely."""

from __future__ import annotations

import pytest

from tests.adversarial_mail import Mail, Part
from tests.app.decision.fail_closed.rows import (
    C3,
    C4,
    FOREIGN,
    OWN_HOLDER,
    OWN_TRANSFER,
    PDF,
    REJECTED,
    REVIEW,
    Row,
    attack,
    fullwidth,
    html,
    plain,
    transfer,
)

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
