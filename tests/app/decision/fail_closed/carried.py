"""Fail-closed rows of classes 16 to 18: a request carried where the lines of a part are
not, in an encoding the reader did not open, or in characters drawn two ways.

Each class is a table of surfaces for one payload (``surfaces``); ``metamorphic`` puts
one payload on every surface this round and the earlier ones read, and every one holds.
"""

from __future__ import annotations

import base64
import quopri
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from tests.adversarial_mail import Mail
from tests.app.decision.fail_closed.rows import (
    C2,
    C14,
    FOREIGN,
    OWN_TRANSFER,
    REVIEW,
    attack,
    legit,
    plain,
)
from tests.app.decision.fail_closed.unexplained import C15

C16 = "class 16 (an encoding or container the reader did not open)"
C17 = "class 17 (a request carried outside a part's lines: a link, a description)"
C18 = "class 18 (characters some clients draw as a blank and others as nothing)"
NAMED = "named customer (another customer's name as written)"
INVOICE = "Dzień dobry,\nproszę o duplikat faktury 11/2026 za acme.pl.\n"
SIGNATURE = "\nPozdrawiam\nJan Kowalski\n"
# Requests an agent must see: each alone is held (a code, another customer, an unlisted
# request), so beside the invoice request none may end accepted.
PAYLOADS = (
    "Proszę też o kod AuthInfo dla acme.pl.",
    "Please also send the AuthInfo code for beta.pl.",
    "Proszę też zresetować hasło do panelu klienta.",
    "Proszę zmienić adres e-mail w panelu na marek@evil.example.",
)
PNG = base64.encodebytes(bytes.fromhex("89504e470d0a1a0a0000000d49484452") + b"\0" * 16)


def _crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode()


def leaf(content_type: str, body: bytes, cte: str = "8bit", fields: str = "") -> bytes:
    """One MIME part as written: its header fields, a blank line, its body."""
    return (
        f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: {cte}\r\n{fields}\r\n".encode()
        + body
    )


def mixed(*parts: bytes) -> bytes:
    out = b'Content-Type: multipart/mixed; boundary="carried"\r\n\r\n'
    for part in parts:
        out += b"--carried\r\n" + part + b"\r\n"
    return out + b"--carried--\r\n"


def text(body: str, fields: str = "") -> bytes:
    return leaf("text/plain; charset=utf-8", _crlf(body), fields=fields)


def raw(body: bytes, subject: str = "Faktura") -> Mail:
    return Mail(subject=subject, body=body)


def _card(line: str) -> bytes:
    return _crlf(f"BEGIN:VCARD\nVERSION:2.1\nFN:Jan Kowalski\n{line}\nEND:VCARD\n")


def _event(line: str) -> bytes:
    return _crlf(
        f"BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nSUMMARY:Spotkanie\n{line}\n"
        "DTSTART:20261201T100000Z\nEND:VEVENT\nEND:VCALENDAR\n"
    )


def _qp(payload: str) -> str:
    """``payload`` quoted-printable as vCard 2.1 writes it: spaces too, a soft break."""
    encoded = quopri.encodestring(payload.encode(), quotetabs=True).decode()
    return f"{encoded[:20]}=\n{encoded[20:]}"


def encoded(payload: str) -> list[tuple[str, Mail]]:
    """Class 16: ``payload`` in an encoding or container a client opens."""
    own = text(INVOICE + SIGNATURE)
    b64 = base64.b64encode(payload.encode()).decode()
    message = _crlf(f"From: Jan <jan@acme.pl>\nSubject: notatka\n\n{payload}\n")
    return [
        (
            "a vCard NOTE in base64",
            raw(mixed(own, leaf("text/vcard", _card(f"NOTE;ENCODING=BASE64:{b64}")))),
        ),
        (
            "a vCard NOTE in quoted-printable over two lines",
            raw(
                mixed(
                    own,
                    leaf(
                        "text/x-vcard",
                        _card(f"NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:{_qp(payload)}"),
                    ),
                )
            ),
        ),
        (
            "a calendar DESCRIPTION in base64",
            raw(mixed(own, leaf("text/calendar", _event(f"DESCRIPTION;ENCODING=B:{b64}")))),
        ),
        (
            "an attached message in base64",
            raw(mixed(own, leaf("message/rfc822", base64.encodebytes(message), "base64"))),
        ),
        (
            "an attached message in quoted-printable",
            raw(
                mixed(own, leaf("message/rfc822", quopri.encodestring(message), "quoted-printable"))
            ),
        ),
        (
            "an inline PGP-encrypted block (a client with the key shows it)",
            plain(
                "Faktura",
                f"{INVOICE}\n-----BEGIN PGP MESSAGE-----\n\nhQEMA{b64}\n=abcd\n"
                f"-----END PGP MESSAGE-----\n{SIGNATURE}",
            ),
        ),
    ]


def linked(payload: str) -> list[tuple[str, Mail]]:
    """Class 17: ``payload`` in a link's address or a part's description."""
    words = quote(payload)
    dashed = quote(payload.replace(" ", "-"))
    return [
        (
            "a written link's query",
            plain("Faktura", f"{INVOICE}https://acme.pl/f?q={words}\n{SIGNATURE}"),
        ),
        (
            "a written link's fragment",
            plain("Faktura", f"{INVOICE}https://acme.pl/#{words}\n{SIGNATURE}"),
        ),
        (
            "a written link's path",
            plain("Faktura", f"{INVOICE}https://acme.pl/{dashed}\n{SIGNATURE}"),
        ),
        (
            "a mailto link's body",
            plain("Faktura", f"{INVOICE}mailto:support@hosting.example?body={words}\n{SIGNATURE}"),
        ),
        (
            "an HTML link's query",
            Mail(
                subject="Faktura",
                html=f"<p>{INVOICE}</p><p><a href='https://acme.pl/?q={words}'>szczegóły</a></p>",
            ),
        ),
        (
            "the body part's Content-Description",
            raw(text(INVOICE + SIGNATURE, f"Content-Description: {payload}\r\n")),
        ),
        (
            "a text attachment's Content-Description",
            raw(
                mixed(
                    text(INVOICE + SIGNATURE),
                    leaf(
                        "text/plain; charset=utf-8",
                        _crlf("Faktura 11/2026 w załączniku.\n"),
                        fields=f"Content-Disposition: attachment; filename=uwagi.txt\r\n"
                        f"Content-Description: {payload}\r\n",
                    ),
                )
            ),
        ),
    ]


# Characters a client draws as a blank where another draws nothing (or the reverse).
BLANK_OR_NOTHING = {
    "HANGUL FILLER": "\u3164",
    "HALFWIDTH HANGUL FILLER": "\uffa0",
    "MONGOLIAN VOWEL SEPARATOR": "\u180e",
    "HANGUL CHOSEONG FILLER": "\u115f",
}


def drawn(payload: str) -> list[tuple[str, Mail]]:
    """Class 18: ``payload`` with its spaces written in characters drawn two ways."""
    found: list[tuple[str, Mail]] = []
    for name, char in BLANK_OR_NOTHING.items():
        spaced = payload.replace(" ", char)
        found.append((f"{name} for spaces", plain("Faktura", f"{INVOICE}{spaced}\n{SIGNATURE}")))
        found.append(
            (
                f"{name} for spaces in HTML",
                Mail(subject="Faktura", html=f"<p>{INVOICE}</p><p>{spaced}</p>"),
            )
        )
    found.append(
        ("HANGUL FILLER in the subject", plain(PAYLOADS[0].replace(" ", "\u3164"), INVOICE))
    )
    return found


CLASSES: tuple[tuple[str, Callable[[str], list[tuple[str, Mail]]]], ...] = (
    (C16, encoded),
    (C17, linked),
    (C18, drawn),
)

# Each ended accepted on main before this round: the invoice request was recognised and
# the payload beside it was not read. Read, the sender's own AuthInfo request asks for
# the code (a link's path is the sender's text too); held as hidden, it is review.
CARRIED = [
    attack(f"{where}: «{payload}»", guards, mail, OWN_TRANSFER)
    for payload in PAYLOADS
    for guards, surfaces in CLASSES
    for where, mail in surfaces(payload)
]


def _earlier_surfaces(payload: str) -> list[tuple[str, Mail]]:
    """Surfaces earlier rounds made the reader read: transfer encodings and charsets,
    flowed text, alternatives and text attachments."""
    body = f"{INVOICE}{payload}\n{SIGNATURE}"
    utf16 = base64.encodebytes(b"\xff\xfe" + body.encode("utf-16-le"))
    return [
        (
            "a base64 text part",
            raw(leaf("text/plain; charset=utf-8", base64.encodebytes(_crlf(body)), "base64")),
        ),
        ("UTF-16 with a byte order mark", raw(leaf("text/plain; charset=utf-16", utf16, "base64"))),
        (
            "flowed text with DelSp=yes joining a word",
            raw(
                leaf(
                    "text/plain; charset=utf-8; format=flowed; delsp=yes",
                    _crlf(f"{INVOICE}{payload[:9]} \n{payload[9:]}\n"),
                )
            ),
        ),
        (
            "a third alternative in text/enriched",
            raw(
                b'Content-Type: multipart/alternative; boundary="alt"\r\n\r\n--alt\r\n'
                + text(INVOICE)
                + b"\r\n--alt\r\n"
                + leaf("text/enriched; charset=utf-8", _crlf(body))
                + b"\r\n--alt--\r\n"
            ),
        ),
        (
            "a text part after an image",
            raw(mixed(text(INVOICE), leaf("image/png", PNG, "base64"), text(payload))),
        ),
        (
            "a text part marked as an attachment",
            raw(mixed(text(INVOICE), text(payload, "Content-Disposition: attachment\r\n"))),
        ),
    ]


def metamorphic(payload: str) -> list[Any]:
    """One payload on every surface, this round's and the earlier ones': each is held
    (the sender's own transfer, read, asks for the one-time code; unread, for review)."""
    everywhere = [*_earlier_surfaces(payload)]
    for _, surfaces in CLASSES:
        everywhere.extend(surfaces(payload))
    return [
        attack(f"metamorphic, {where}: «{payload}»", "metamorphic", mail, OWN_TRANSFER)
        for where, mail in everywhere
    ]


METAMORPHIC = metamorphic("Proszę też o przeniesienie domeny acme.pl do innego rejestratora.")

# What the new readings must leave alone: links, descriptions and cards customers send.
CARRIED_LEGITIMATE = [
    legit(
        "a signature link with tracking parameters",
        plain(
            "Faktura",
            f"{INVOICE}\n--\nJan Kowalski | ACME\n"
            "https://www.acme.pl/kontakt?utm_source=podpis&utm_medium=email#zespol\n",
        ),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "an HTML footer's unsubscribe and social links",
        Mail(
            subject="Faktura",
            html=f"<p>{INVOICE}</p><p><a href='https://www.acme.pl/newsletter/wypisz?id=ab12'>"
            "Wypisz</a> | <a href='https://www.linkedin.com/company/acme-sp-z-o-o/'>LinkedIn</a></p>",
        ),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "the body part's description naming what it is",
        raw(text(INVOICE + SIGNATURE, "Content-Description: Wiadomość\r\n")),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "an attached message in base64 that asks for nothing",
        raw(
            mixed(
                text(INVOICE + SIGNATURE),
                leaf(
                    "message/rfc822",
                    base64.encodebytes(
                        _crlf(
                            "From: Biuro <biuro@hosting.example>\nSubject: Faktura\n\n"
                            "W załączeniu faktura.\n"
                        )
                    ),
                    "base64",
                ),
            )
        ),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "a PGP-signed (not encrypted) request",
        plain(
            "Faktura",
            f"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n{INVOICE}\n"
            "-----BEGIN PGP SIGNATURE-----\n\niHUEARYIAB0WIQ\n=abcd\n-----END PGP SIGNATURE-----\n",
        ),
        "accepted",
        ("invoice_duplicate",),
    ),
]


# Round 2's leftovers, each accepted on main: another party in capitals after "na rzecz"
# or a direction word, in a recognised request or in a question, and another customer's
# person name written in lower case.
def _beside_invoice(sentence: str, subject: str = "Faktura") -> Mail:
    return plain(subject, f"{INVOICE}{sentence}\n{SIGNATURE}")


UNEXPLAINED = (("instruction-text", "unexplained"),)
LEFTOVERS = [
    *(
        attack(f"{why}: {sentence}", C15, _beside_invoice(sentence), REVIEW, checks=UNEXPLAINED)
        for why, sentence in (
            (
                "a cancellation 'na rzecz' a company in capitals",
                "Rezygnujemy z acme.pl na rzecz OVH.",
            ),
            ("a cancellation 'in favour of' one", "We cancel acme.pl in favour of OVH."),
            (
                "a paraphrase in a question, the party in capitals",
                "Could acme.pl go to OVH next week?",
            ),
            (
                "a Polish question, the party in capitals after 'do'",
                "Czy acme.pl może przejść do OVH?",
            ),
        )
    ),
    *(
        attack(
            f"another customer's person name written «{written}»",
            NAMED,
            plain("Faktura", f"Dzień dobry,\nproszę o duplikat faktury 11/2026 dla {written}.\n"),
            REVIEW,
            checks=(("named-customer", "other"),),
        )
        for written in ("ola nowak", "ola Nowak", "nowak ola")
    ),
]

LEFTOVERS_LEGITIMATE = [
    legit(
        "a help page's link naming the request the sender makes",
        plain(
            "DNS",
            "Dzień dobry,\nzgodnie z https://pomoc.hosting.example/jak-zmienic-rekord-dns "
            "proszę o zmianę rekordu DNS typu A dla acme.pl na 192.0.2.11.\n",
        ),
        "accepted",
        ("dns_change",),
    ),
    legit(
        "an invoice made out 'na rzecz' the sender's own company in capitals",
        plain(
            "Faktura",
            "Dzień dobry,\nproszę o duplikat faktury 11/2026 wystawionej\n"
            "na rzecz ACME sp. z o.o.\n",
        ),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "an amount's limit in capitals after Polish 'to'",
        plain("Faktura", f"{INVOICE}Kwota to MAX 100 zł.\n{SIGNATURE}"),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "the sender's own name in lower case",
        plain("Faktura", f"{INVOICE}\njan kowalski\n"),
        "accepted",
        ("invoice_duplicate",),
    ),
]


DNS_FOR = "Dzień dobry,\nproszę o zmianę rekordu MX dla {} na mx.acme.pl.\n"
# Another customer's service written so that a person reads it and the reader did not:
# each ended accepted on main (services: acme.pl only).
ASKING_FOR = {"a DNS change": DNS_FOR, "an invoice": INVOICE.replace("acme.pl", "acme.pl i {}")}
NAMED_AS_READ = [
    attack(
        f"another customer's service {how}, in {request}",
        C2,
        plain("DNS", template.format(written)),
        FOREIGN,
    )
    for how, written, requests in (
        ("without its suffix after 'dla'", "kwiaty", ("a DNS change",)),
        ("with a combining dot under a letter of its suffix", "kwiaty.p\u0323l", tuple(ASKING_FOR)),
        (
            "as the user name of a link to an address",
            "http://beta.pl@192.0.2.1/",
            tuple(ASKING_FOR),
        ),
    )
    for request in requests
    for template in (ASKING_FOR[request],)
]

NAMED_AS_READ_LEGITIMATE = [
    legit(
        "a DNS change for the sender's own domain named without its suffix",
        plain("DNS", "Dzień dobry,\nproszę o zmianę rekordu MX dla acme na mx1.acme.pl.\n"),
        "accepted",
        ("dns_change",),
    ),
    legit(
        "a DNS change 'for' a word that names no domain",
        plain("DNS", "Hi,\nplease change the MX record for acme.pl to mx1.acme.pl for us.\n"),
        "accepted",
        ("dns_change",),
    ),
]


def _with_bytes(body: bytes, content_type: str = "text/plain; charset=utf-8") -> Mail:
    return raw(leaf(content_type, _crlf(INVOICE) + body + _crlf(f"\n{SIGNATURE}")))


# Text a client draws otherwise than the reader read it (each accepted on main): control
# characters between letters, which no client draws; comments a browser ends where the
# reader did not; bytes the charset does not decode, which a client may show as letters.
DRAWN_AS_READ = [
    *(
        attack(
            f"{name} between the letters of «{payload}»",
            C14,
            _with_bytes(char.join(payload).encode()),
            OWN_TRANSFER,
        )
        for name, char in (("NUL", "\x00"), ("SOH", "\x01"), ("ESC", "\x1b"), ("DEL", "\x7f"))
        for payload in PAYLOADS[:2]
    ),
    *(
        attack(
            f"a comment a browser ends at «{closing}», then «{payload}»",
            C14,
            Mail(subject="Faktura", html=f"<p>{INVOICE}</p>{opening}{payload}<!-- -->"),
            OWN_TRANSFER,
        )
        for closing, opening in (("<!--->", "<!--->"), ("--!>", "<!-- x --!>"))
        for payload in PAYLOADS[:2]
    ),
    attack(
        "a cp1250 request in a part labelled UTF-8",
        C14,
        _with_bytes("Hasło do panelu: zmienić na Lato2026".encode("cp1250")),
        REVIEW,
        checks=(("instruction-parts", "unreadable"),),
    ),
    attack(
        "'&#0;' between the letters of a request in HTML (drawn as U+FFFD)",
        C14,
        Mail(subject="Faktura", html=f"<p>{INVOICE}</p><p>{'&#0;'.join(PAYLOADS[2])}</p>"),
        REVIEW,
    ),
]

DRAWN_AS_READ_LEGITIMATE = [
    legit(
        "a mailer's comment closed with '--!>' before the request",
        Mail(subject="Faktura", html=f"<!-- generated --!><p>{INVOICE}</p>"),
        "accepted",
        ("invoice_duplicate",),
    ),
]
