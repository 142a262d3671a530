"""Builders for the fail-closed suites: messages as a mail client shows them, and the doors.

A ``Mail`` says what a person would see (headers, a plain and an HTML alternative,
inline parts, attachments, attached messages) and how it was made (a DKIM signature of
acme.pl with a fixture key, header lines put on top of it afterwards). ``build`` turns it
into bytes once per delivery, with a fresh Date and Message-ID, so the same row sent
through two doors is never taken for a replay. ``{code}`` in any text is replaced by a
one-time code issued for that delivery.

``Stack`` holds one store and the doors in front of it: the REST API served on loopback,
an SMTP receiver behind a trusted relay (XFORWARD says which client sent the message)
and one taking mail straight from the sending client.
"""

from __future__ import annotations

import contextlib
import ipaddress
import smtplib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email.header import Header
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate
from typing import Any, Literal
from unittest import mock

import dkim
import httpx

from tests.smtp_server import SmtpThread
from tests.support import FIXTURES

DESK = "support@hosting.example"
# Customers of the registry: acme sends; beta and agencja are the others it may name.
ACME = {
    "panel_email": "jan@acme.pl",
    "kind": "company",
    "name": "ACME sp. z o.o.",
    "services": ["acme.pl", "vps-12345"],
}
BETA = {
    "panel_email": "ola@beta.pl",
    "kind": "person",
    "name": "Ola Nowak",
    "services": ["beta.pl", "kwiaty.pl", "łąka.pl", "vps-77777"],
}
AGENCJA = {
    "panel_email": "biuro@agencja.pl",
    "kind": "company",
    "name": "Agencja Interaktywna",
    "services": ["agencja.pl"],
}
CUSTOMERS = {"acme": ACME, "beta": BETA, "agencja": AGENCJA}
# An Authentication-Results writer the test stacks trust (TRUSTED_AUTHSERV_IDS).
TRUSTED_AUTHSERV_ID = "mx.hosting.example"
HELD = frozenset({"review", "rejected", "otp_required", "postal_required"})


@dataclass(frozen=True)
class Route:
    """The SMTP envelope: the client that connected, its HELO name and MAIL FROM."""

    client_ip: str
    helo: str
    mail_from: str


# acme.pl's own server, which its SPF record authorises: SPF aligns with From.
ACME_MX = Route("192.0.2.10", "mx.acme.pl", "jan@acme.pl")
# Anywhere else on the Internet: only a DKIM signature of acme.pl can authenticate.
OUTSIDE = Route("203.0.113.66", "mail.outside.example", "jan@acme.pl")


@dataclass(frozen=True)
class Part:
    """A further MIME part: inline text, a text attachment, a binary file or a message."""

    content: str | bytes | Mail
    subtype: str = "plain"
    maintype: str = "text"
    filename: str | None = None
    disposition: str = "attachment"


@dataclass(frozen=True)
class Mail:
    """What a mail client displays, and how the message was signed and tampered with."""

    subject: str = "Sprawa"
    plain: str | None = None
    html: str | None = None
    parts: tuple[Part, ...] = ()
    sender: str = "Jan Kowalski <jan@acme.pl>"
    # Header lines written as they are, below To (after Subject, Date, Message-ID).
    headers: tuple[tuple[str, str], ...] = ()
    # Header lines put on top of the finished (and signed) message.
    on_top: tuple[tuple[str, str], ...] = ()
    # A Subject written as it is (encoded words), instead of encoding ``subject``.
    raw_subject: str | None = None
    # Sign with acme.pl's rsa2048 fixture key, covering these headers (RFC 6376 §5.4).
    dkim_headers: tuple[str, ...] | None = None
    # Content-Transfer-Encoding of the text parts, e.g. "quoted-printable".
    cte: str | None = None
    # The selector of acme.pl the signature names (fixtures/dns/acme.pl.zone): the key is
    # the rsa2048 one either way.
    dkim_selector: str = "rsa2048"
    # The signing domain (d=) and, when given, the i= identity; the key is rsa2048's.
    dkim_domain: str = "acme.pl"
    dkim_identity: str | None = None
    # Whom the author wrote to (To); the envelope recipient is the desk whatever it says.
    to: str = DESK
    # The MIME body written as it is, from its Content-Type field on (for structures the
    # builder does not write: an encoded attached message, a part's description…);
    # ``plain``, ``html``, ``parts`` and ``cte`` are then not used.
    body: bytes | None = None
    # Sign with l= (the body length at signing), and what is then done to the signed bytes
    # (what the signature leaves open: text after l=, a header above the signed one…),
    # before ``on_top`` is put above them.
    dkim_length: bool = False
    after_signing: Callable[[bytes], bytes] | None = None
    # The Date written (an old message replayed); a fresh one when None.
    date: str | None = None
    # The signing time (t=, seconds since the epoch); now when None.
    dkim_time: int | None = None


def fill(text: str, code: str | None) -> str:
    return text.replace("{code}", code or "0000-0000")


def mime_body(mail: Mail, code: str | None) -> EmailMessage:
    """The MIME structure of ``mail``: alternatives, then inline parts and attachments."""
    body = EmailMessage()
    options: dict[str, Any] = {"cte": mail.cte} if mail.cte else {}
    if mail.plain is not None:
        body.set_content(fill(mail.plain, code), **options)
        if mail.html is not None:
            body.add_alternative(fill(mail.html, code), subtype="html", **options)
    elif mail.html is not None:
        body.set_content(fill(mail.html, code), subtype="html", **options)
    else:
        body.set_content("", **options)
    for part in mail.parts:
        attach(body, part, code)
    return body


def attach(body: EmailMessage, part: Part, code: str | None) -> None:
    extra: dict[str, Any] = {"disposition": part.disposition}
    if part.filename is not None:
        extra["filename"] = part.filename
    if isinstance(part.content, Mail):
        body.add_attachment(message_object(part.content, code), **extra)
    elif isinstance(part.content, str):
        body.add_attachment(fill(part.content, code), subtype=part.subtype, **extra)
    else:
        body.add_attachment(part.content, maintype=part.maintype, subtype=part.subtype, **extra)


def message_object(mail: Mail, code: str | None) -> EmailMessage:
    """``mail`` as an EmailMessage, for attaching as message/rfc822."""
    message = mime_body(mail, code)
    message["From"] = mail.sender
    message["To"] = DESK
    message["Subject"] = fill(mail.subject, code)
    message["Date"] = formatdate()
    return message


def header_line(name: str, value: str) -> bytes:
    if value.isascii():
        return f"{name}: {value}\r\n".encode()
    encoded = Header(value, "utf-8", header_name=name).encode(linesep="\r\n")
    return f"{name}: {encoded}\r\n".encode()


def build(mail: Mail, code: str | None = None) -> bytes:
    """The bytes of ``mail``, with a fresh Date and Message-ID; signed if it says so."""
    subject = (
        header_line("Subject", fill(mail.subject, code))
        if mail.raw_subject is None
        else f"Subject: {mail.raw_subject}\r\n".encode()
    )
    head = b"".join(
        [
            header_line("From", mail.sender),
            header_line("To", mail.to),
            subject,
            header_line("Date", mail.date or formatdate()),
            # uuid4, not make_msgid: hypothesis seeds `random`, and make_msgid's
            # random part would then repeat, which is a replay.
            header_line("Message-ID", f"<{uuid.uuid4().hex}@acme.pl>"),
            *(header_line(name, fill(value, code)) for name, value in mail.headers),
        ]
    )
    if mail.body is not None:
        body = mail.body.replace(b"{code}", fill("{code}", code).encode())
        raw = head + b"MIME-Version: 1.0\r\n" + body
    else:
        raw = head + mime_body(mail, code).as_bytes(policy=SMTP)
    if mail.dkim_headers is not None:
        raw = sign_as_acme(
            raw,
            mail.dkim_headers,
            mail.dkim_selector,
            mail.dkim_domain,
            mail.dkim_identity,
            length=mail.dkim_length,
            timestamp=mail.dkim_time,
        )
    if mail.after_signing is not None:
        raw = mail.after_signing(raw)
    return b"".join(header_line(name, fill(value, code)) for name, value in mail.on_top) + raw


def sign_as_acme(
    raw: bytes,
    headers: tuple[str, ...],
    selector: str = "rsa2048",
    domain: str = "acme.pl",
    identity: str | None = None,
    *,
    length: bool = False,
    timestamp: int | None = None,
) -> bytes:
    """``raw`` with a DKIM signature of acme.pl (or ``domain``; by default selector rsa2048,
    always the rsa2048 key) on top."""
    # dkimpy writes t= from time.time() and takes no other; patched only when asked (the
    # servers of the stack verify in this process, though never while a test builds).
    clock = (
        mock.patch.object(dkim.time, "time", return_value=timestamp)
        if timestamp is not None
        else contextlib.nullcontext()
    )
    with clock:
        signature = dkim.sign(
            raw,
            selector.encode(),
            domain.encode(),
            (FIXTURES / "keys" / "rsa2048.pem").read_bytes(),
            identity=identity.encode() if identity else None,
            include_headers=[name.encode() for name in headers],
            length=length,
        )
    return signature + raw


# What a signer such as OpenDKIM signs by default: the identifying fields and those the
# body is read by (a Content-Transfer-Encoding the message lacks is signed as absent).
SIGNED = (
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
)
# What Gmail signs: no Content-Type nor Content-Transfer-Encoding.
SIGNED_AS_GMAIL = ("from", "to", "subject", "date", "message-id", "mime-version")

Door = Literal["rest", "smtp"]
# How a message reaches intakeguard: through one of our relays (which say who the client
# was), or straight from the sending client.
Hop = Literal["relay", "direct"]


@dataclass
class Stack:
    """One store and its doors; ``deliver`` returns the recorded verdict, or None when the
    door refuses the request (a REST caller claiming a relay hop it may not claim)."""

    api: httpx.Client
    intake_token: str
    smtp_relay: SmtpThread
    smtp_direct: SmtpThread
    delivered: list[str] = field(default_factory=list)

    def code(self, login: str = "acme") -> str:
        response = self.api.post(f"/v1/customers/{login}/codes")
        assert response.status_code == 201, response.text
        code: str = response.json()["code"]
        return code

    def rest(
        self, raw: bytes, route: Route, *, token: str | None = None, relay: bool = False
    ) -> dict[str, Any] | None:
        params: dict[str, str] = {
            "client_ip": route.client_ip,
            "helo": route.helo,
            "mail_from": route.mail_from,
            # As the SMTP doors are told in RCPT TO.
            "rcpt": DESK,
        }
        if relay:
            params["relay"] = "true"
        headers = {"Content-Type": "message/rfc822"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        response = self.api.post("/v1/messages", content=raw, params=params, headers=headers)
        if relay and response.status_code == 403:
            return None
        assert response.status_code == 201, response.text
        verdict: dict[str, Any] = response.json()
        return verdict

    def smtp(self, raw: bytes, route: Route, hop: Hop = "relay") -> dict[str, Any]:
        server = self.smtp_relay if hop == "relay" else self.smtp_direct
        with smtplib.SMTP("127.0.0.1", server.port, timeout=30) as client:
            if hop == "relay":
                client.ehlo("relay.hosting.example")
                client.docmd("XFORWARD", f"ADDR={route.client_ip} HELO={route.helo}")
            else:
                client.ehlo(route.helo)
            code, reply = client.docmd("MAIL", f"FROM:<{route.mail_from}>")
            assert code == 250, reply
            client.rcpt(DESK)
            code, reply = client.data(raw)
        assert code == 250, reply
        verdict_id = reply.decode().rpartition(" ")[2]
        response = self.api.get(f"/v1/verdicts/{verdict_id}")
        assert response.status_code == 200, response.text
        verdict: dict[str, Any] = response.json()
        return verdict


def loopback() -> tuple[ipaddress.IPv4Network, ...]:
    return (ipaddress.ip_network("127.0.0.1/32"),)


def check_result(verdict: dict[str, Any], name: str) -> str | None:
    """The result of check ``name`` in the verdict, None when it did not run."""
    for check in verdict["checks"]:
        if check["name"] == name:
            result: str = check["result"]
            return result
    return None
