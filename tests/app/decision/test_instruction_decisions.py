"""Realistic instructions, Polish and English, from message to decision through submit."""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid
from pathlib import Path

import pytest

from app.db.models import Base
from app.decision import service as decision_service
from app.decision.rules import load_rules
from app.decision.service import DecisionService
from app.delivery.alerts import plan_alert
from app.errors import ConfigError
from app.registry.customers import CustomerData, put_customer, validate
from app.registry.identifiers import mask
from mailhook.message import Channel, Envelope, parse_message
from tests.support import RULES, SECRET_KEY, make_message

FROM_ACME = Envelope(client_ip="192.0.2.10", helo="mx.acme.pl", mail_from="jan@acme.pl")
ACME = CustomerData(
    panel_email="jan@acme.pl",
    kind="company",
    name="ACME sp. z o.o.",
    services=("acme.pl", "żółw.pl", "vps-12345"),
)
BETA = CustomerData(
    panel_email="ola@beta.pl", kind="person", name="Ola Nowak", services=("beta.pl",)
)
QUOTED = (
    "\n\nDnia 12.11.2026 o 10:00 Jan Kowalski <jan@acme.pl> napisał(a):\n"
    "> Proszę o kod AuthInfo dla acme.pl\n"
)


def register(service: DecisionService, login: str, data: CustomerData) -> None:
    with service.sessions.begin() as session:
        put_customer(session, validate(login, data), SECRET_KEY.encode())


def plain(subject: str, body: str) -> bytes:
    return make_message(sender="Jan Kowalski <jan@acme.pl>", subject=subject, body=body)


def single_part(subject: str, body: str, content_type: str, charset: str) -> bytes:
    headers = (
        f"From: Jan Kowalski <jan@acme.pl>\r\nTo: support@hosting.example\r\n"
        f"Subject: {subject}\r\nDate: {formatdate()}\r\nMessage-ID: {make_msgid(domain='acme.pl')}"
        f"\r\nMIME-Version: 1.0\r\nContent-Type: {content_type}; charset={charset}\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    )
    return headers.encode() + body.replace("\n", "\r\n").encode(charset)


def headed(subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Jan Kowalski <jan@acme.pl>"
    message["To"] = "support@hosting.example"
    message["Subject"] = subject
    message["Date"] = formatdate()
    message["Message-ID"] = make_msgid(domain="acme.pl")
    return message


def html_only(subject: str, html: str) -> bytes:
    message = headed(subject)
    message.set_content(html, subtype="html")
    return message.as_bytes(policy=SMTP)


def alternatives(plain_body: str, html: str) -> bytes:
    message = headed("Sprawa")
    message.set_content(plain_body)
    message.add_alternative(html, subtype="html")
    return message.as_bytes(policy=SMTP)


def with_pdf(body: str, filename: str) -> bytes:
    message = headed("Faktura")
    message.set_content(body)
    message.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename=filename)
    return message.as_bytes(policy=SMTP)


@dataclasses.dataclass(frozen=True)
class Row:
    raw: bytes
    kinds: tuple[str, ...]
    services: tuple[str, ...]
    decision: str


def row(subject: str, body: str, kinds: tuple[str, ...], services: tuple[str, ...], decision: str):
    return pytest.param(Row(plain(subject, body), kinds, services, decision), id=subject)


ROWS = [
    # Questions and invoices: authenticated mail is enough.
    row("Pytanie", "Mam pytanie o domenę acme.pl.", ("inquiry",), ("acme.pl",), "accepted"),
    row(
        "Hosting",
        "Proszę o informację, do kiedy opłacony jest vps-12345.",
        ("inquiry",),
        ("vps-12345",),
        "accepted",
    ),
    row(
        "Question",
        "Could you tell me when acme.pl expires?",
        ("inquiry",),
        ("acme.pl",),
        "accepted",
    ),
    row(
        "Faktura",
        "Proszę o duplikat faktury VAT nr 12/2026.",
        ("invoice_duplicate",),
        (),
        "accepted",
    ),
    row(
        "Faktura 2",
        "Proszę o wystawienie duplikatu faktury VAT za acme.pl.",
        ("invoice_duplicate",),
        ("acme.pl",),
        "accepted",
    ),
    row(
        "Kopia",
        "Proszę o przesłanie kopii faktury za listopad.",
        ("invoice_duplicate",),
        (),
        "accepted",
    ),
    row(
        "Invoice",
        "Please send a duplicate invoice for acme.pl.",
        ("invoice_duplicate",),
        ("acme.pl",),
        "accepted",
    ),
    row(
        "Invoice copy",
        "Could I get a copy of invoice 7/2026?",
        ("invoice_duplicate",),
        (),
        "accepted",
    ),
    # Contact details.
    row(
        "Adres",
        "Proszę o zmianę adresu korespondencyjnego na ul. Polną 5.",
        ("contact_change",),
        (),
        # Contact details are a service's (the domain's registrant data): which one, an
        # agent asks.
        "review",
    ),
    row(
        "Dane",
        "Proszę o zmianę danych kontaktowych dla acme.pl.",
        ("contact_change",),
        ("acme.pl",),
        "accepted",
    ),
    row(
        "Address",
        "Please change my address to the new office.",
        ("contact_change",),
        (),
        "review",
    ),
    row(
        "Contact",
        "Please update my contact details, phone 600 100 200.",
        ("contact_change",),
        (),
        "review",
    ),
    # DNS.
    row(
        "DNS",
        "Proszę o zmianę rekordu DNS typu A dla acme.pl na 192.0.2.1.",
        ("dns_change",),
        ("acme.pl",),
        "accepted",
    ),
    row(
        "Serwery",
        "Proszę o zmianę serwerów DNS domeny żółw.pl na ns1.acme.pl.",
        ("dns_change",),
        # ns1.acme.pl is a host of acme.pl: the name servers are the customer's own.
        ("żółw.pl", "acme.pl"),
        "accepted",
    ),
    row(
        "MX", "Please update the MX records of acme.pl.", ("dns_change",), ("acme.pl",), "accepted"
    ),
    row(
        "Nameservers",
        "Please change the name servers of xn--w-uga1v8h.pl.",
        ("dns_change",),
        ("żółw.pl",),
        "accepted",
    ),
    # Cancellation.
    row(
        "Rezygnacja",
        "Rezygnuję z usługi vps-12345 z końcem miesiąca.",
        ("cancellation",),
        ("vps-12345",),
        "accepted",
    ),
    row(
        "Wypowiedzenie",
        "Niniejszym składam wypowiedzenie umowy na hosting acme.pl.",
        ("cancellation",),
        ("acme.pl",),
        "accepted",
    ),
    row(
        "Cancel",
        "I want to cancel my hosting plan on vps-12345.",
        ("cancellation",),
        ("vps-12345",),
        "accepted",
    ),
    # Transfer out: a one-time code is needed.
    row(
        "Transfer",
        "Proszę o przeniesienie domeny acme.pl do innego rejestratora.",
        ("transfer_out",),
        ("acme.pl",),
        "otp_required",
    ),
    row(
        "AuthInfo",
        "Proszę o przesłanie kodu AuthInfo dla domeny żółw.pl.",
        ("transfer_out",),
        ("żółw.pl",),
        "otp_required",
    ),
    row(
        "Przeniesienie",
        "Chcę dokonać przeniesienia domeny ŻÓŁW.PL do nowego operatora.",
        ("transfer_out",),
        ("żółw.pl",),
        "otp_required",
    ),
    row(
        "Transfer out",
        "Please send me the EPP code for acme.pl, I am transferring out.",
        ("transfer_out",),
        ("acme.pl",),
        "otp_required",
    ),
    row(
        "Transfer EN",
        "Please transfer the domain acme.pl to another registrar.",
        ("transfer_out",),
        ("acme.pl",),
        "otp_required",
    ),
    # Holder change: signed documents by post.
    row(
        "Cesja",
        "W załączeniu umowa cesji praw do domeny acme.pl.",
        ("holder_change",),
        ("acme.pl",),
        "postal_required",
    ),
    row(
        "Abonent",
        "Proszę o zmianę abonenta domeny żółw.pl na spółkę.",
        ("holder_change",),
        ("żółw.pl",),
        "postal_required",
    ),
    row(
        "Registrant",
        "We request a change of registrant for acme.pl.",
        ("holder_change",),
        ("acme.pl",),
        "postal_required",
    ),
    # Several instructions: the strictest applies.
    row(
        "Dwie sprawy",
        "Proszę o duplikat faktury oraz kod AuthInfo dla acme.pl.",
        ("invoice_duplicate", "transfer_out"),
        ("acme.pl",),
        "otp_required",
    ),
    row(
        "Three",
        "Please change the DNS records of acme.pl and cancel vps-12345; also a "
        "change of registrant for żółw.pl.",
        ("dns_change", "cancellation", "holder_change"),
        ("acme.pl", "żółw.pl", "vps-12345"),
        "postal_required",
    ),
    # Quoted history is not the sender's request, whichever way it is introduced; but
    # where it asks for more than the sender's own text, a reader may take it for part
    # of the request (an "On … wrote:" line the sender typed above it): held.
    row(
        "Re: AuthInfo",
        "Dziękuję, proszę jeszcze o duplikat faktury." + QUOTED,
        ("invoice_duplicate",),
        (),
        "review",
    ),
    row(
        "Re: faktura",
        "Proszę jeszcze o duplikat faktury za listopad.\n\nDnia 12.11.2026 o 10:00 Jan "
        "Kowalski <jan@acme.pl> napisał(a):\n> Proszę o duplikat faktury za październik\n",
        ("invoice_duplicate",),
        (),
        "accepted",
    ),
    row(
        "Re: transfer",
        "Thanks, all good now.\n\nOn Tue, 10 Nov 2026, Jan <jan@acme.pl> "
        "wrote:\nPlease send the AuthInfo code for acme.pl\n",
        (),
        (),
        "review",
    ),
    row(
        "RE: domena",
        "Proszę o zmianę DNS dla acme.pl.\n\n-----Original Message-----\n"
        "From: Jan\nProszę o kod AuthInfo dla żółw.pl\n",
        ("dns_change",),
        ("acme.pl",),
        "review",
    ),
    row(
        "Re: pisze",
        "Pytanie o fakturę.\nW dniu 1.11.2026 Jan Kowalski pisze:\nRezygnuję z usługi vps-12345\n",
        ("inquiry",),
        (),
        "review",
    ),
    # The signature is the sender's own text too: a client shows it, and a PS under it.
    row(
        "Podpis",
        "Proszę o duplikat faktury.\n-- \nJan Kowalski\nACME, acme.pl, "
        "transfer domeny to nasza specjalność\n",
        ("invoice_duplicate", "transfer_out"),
        ("acme.pl",),
        "otp_required",
    ),
    # Forwarded: the forwarder's own text above is the instruction, but a forwarded
    # request about another customer's service is on the reader's screen: held.
    row(
        "Fwd: faktura",
        "Proszę o duplikat tej faktury dla acme.pl.\n\n"
        "---------- Forwarded message ---------\nFrom: ola@beta.pl\n"
        "Proszę o kod AuthInfo dla beta.pl\n",
        ("invoice_duplicate",),
        ("acme.pl",),
        "review",
    ),
    # Someone else's service, or two customers' services.
    row("Beta", "Proszę o kod AuthInfo dla beta.pl.", ("transfer_out",), ("beta.pl",), "rejected"),
    row(
        "Dwie domeny",
        "Proszę o zmianę DNS dla acme.pl i beta.pl.",
        ("dns_change",),
        ("acme.pl", "beta.pl"),
        "review",
    ),
    # Nothing the catalogue recognises: an agent reads it, whatever the assurance.
    row("Hej", "Dzień dobry, pozdrawiam serdecznie.", (), (), "review"),
    row("Hello", "Hi there, just saying thanks for acme.pl.", (), ("acme.pl",), "review"),
    # Other encodings and HTML-only mail.
    pytest.param(
        Row(
            single_part(
                "Faktura",
                "Proszę o duplikat faktury VAT dla żółw.pl.",
                "text/plain",
                "windows-1250",
            ),
            ("invoice_duplicate",),
            ("żółw.pl",),
            "accepted",
        ),
        id="windows-1250",
    ),
    pytest.param(
        Row(
            single_part(
                "Transfer", "Proszę o przeniesienie domeny żółw.pl.", "text/plain", "iso-8859-2"
            ),
            ("transfer_out",),
            ("żółw.pl",),
            "otp_required",
        ),
        id="iso-8859-2",
    ),
    pytest.param(
        Row(
            html_only(
                "DNS",
                "<html><body><p>Proszę o <b>zmianę&nbsp;rekordu DNS</b> dla "
                "acme.pl</p><blockquote>Proszę o kod AuthInfo dla żółw.pl</blockquote>"
                "</body></html>",
            ),
            ("dns_change",),
            ("acme.pl",),
            "review",
        ),
        id="html-only",
    ),
    # Everything a person can see is read; what cannot be trusted either way is held.
    pytest.param(
        Row(
            alternatives("Proszę o duplikat faktury.", "<p>Proszę o kod AuthInfo dla acme.pl</p>"),
            ("invoice_duplicate", "transfer_out"),
            ("acme.pl",),
            "review",
        ),
        id="plain asks for an invoice, html for a transfer",
    ),
    pytest.param(
        Row(
            html_only(
                "Faktura",
                "<p>Proszę o duplikat faktury.</p>"
                '<p style="display:none">Proszę o zmianę DNS dla acme.pl</p>',
            ),
            ("invoice_duplicate", "dns_change"),
            ("acme.pl",),
            "review",
        ),
        id="hidden html text",
    ),
    row(
        "Re: zmiana DNS acme.pl",
        "Dzień dobry, proszę jak w temacie.",
        ("dns_change",),
        ("acme.pl",),
        "review",
    ),
    pytest.param(
        Row(
            with_pdf("Proszę o duplikat faktury.", "faktura.pdf"),
            ("invoice_duplicate",),
            (),
            "review",
        ),
        id="a pdf that cannot be read",
    ),
]


@pytest.mark.parametrize("case", ROWS)
def test_instruction_decision(service: DecisionService, case: Row) -> None:
    register(service, "acme", ACME)
    register(service, "beta", BETA)
    verdict = service.submit(parse_message(case.raw, FROM_ACME, Channel.API))
    assert verdict["instruction"]["kinds"] == list(case.kinds), verdict["reasons"]
    assert verdict["instruction"]["services"] == list(case.services)
    assert verdict["decision"] == case.decision, verdict["reasons"]


def test_a_recent_panel_address_change_raises_the_requirement(service: DecisionService) -> None:
    register(service, "acme", dataclasses.replace(ACME, panel_email="old@acme.pl"))
    register(service, "acme", ACME)
    raw = plain("Faktura", "Proszę o duplikat faktury VAT dla acme.pl.")
    verdict = service.submit(parse_message(raw, FROM_ACME, Channel.API))
    assert verdict["decision"] == "otp_required"
    assert any("panel address was changed recently" in r for r in verdict["reasons"])


def test_a_change_long_ago_does_not_raise_it(service: DecisionService) -> None:
    register(service, "acme", dataclasses.replace(ACME, panel_email="old@acme.pl"))
    register(service, "acme", ACME)
    saved = service.clock
    service.clock = lambda: datetime.now(UTC) + timedelta(days=15)
    try:
        raw = plain("Faktura", "Proszę o duplikat faktury VAT dla acme.pl.")
        verdict = service.submit(parse_message(raw, FROM_ACME, Channel.API))
    finally:
        service.clock = saved
    assert verdict["decision"] != "otp_required"


def test_a_changed_rules_file_changes_the_decision(
    service: DecisionService, repo_rules: Path
) -> None:
    register(service, "acme", ACME)
    path = repo_rules / "instructions.toml"
    text = path.read_text(encoding="utf-8")
    old = 'title = "Duplicate of an invoice"\n'
    start = text.index(old)
    end = text.index('requires = "authenticated"', start)
    path.write_text(
        text[:end] + 'requires = "authorized"' + text[end + len('requires = "authenticated"') :],
        encoding="utf-8",
    )
    edited = DecisionService(
        service.sessions,
        load_rules(repo_rules),
        service.signer,
        resolver=service.resolver,
        trust=service.trust,
        code_key=service.code_key,
    )
    body = "Proszę o duplikat faktury VAT dla acme.pl."
    before = service.submit(parse_message(plain("Faktura", body), FROM_ACME, Channel.API))
    after = edited.submit(parse_message(plain("Faktura", body), FROM_ACME, Channel.API))
    assert before["decision"] == "accepted"
    assert after["decision"] == "otp_required"


# PESEL / NIP / REGON in the text: evidence of the customer, never shown in clear.
ACME_NIP = "5260250274"
BETA_PESEL = "44051401359"


def register_with_identifiers(service: DecisionService) -> None:
    register(service, "acme", dataclasses.replace(ACME, nip=ACME_NIP, regon="123456785"))
    register(service, "beta", dataclasses.replace(BETA, pesel=BETA_PESEL))


def identifier_check(verdict: dict[str, object]) -> dict[str, str]:
    checks = verdict["checks"]
    assert isinstance(checks, list)
    return next(c for c in checks if c["name"] == "customer-identifier")


@pytest.mark.parametrize(
    ("body", "identifiers", "result", "customer", "decision"),
    [
        # The NIP alone says which customer: acme, whose address the sender is.
        ("Proszę o duplikat faktury VAT. NIP 526-025-02-74.", ["nip"], "pass", "acme", "accepted"),
        (
            "Please send a duplicate invoice, VAT id PL5260250274.",
            ["nip"],
            "pass",
            "acme",
            "accepted",
        ),
        (
            "Proszę o duplikat faktury dla acme.pl, REGON 123456785.",
            ["regon"],
            "pass",
            "acme",
            "accepted",
        ),
        # Beta's PESEL with a service of acme: which account is meant? An agent asks.
        (
            "Proszę o zmianę DNS dla acme.pl, PESEL 44051401359.",
            ["pesel"],
            "mismatch",
            "acme",
            "review",
        ),
        # Beta's PESEL alone names beta, whose address the sender is not.
        (
            "Proszę o zmianę adresu korespondencyjnego. PESEL 44051401359",
            ["pesel"],
            "pass",
            "beta",
            "rejected",
        ),
        # A valid NIP that no customer registered: recorded, it changes nothing.
        (
            "Proszę o duplikat faktury dla acme.pl. NIP 7740001454.",
            ["nip"],
            "none",
            "acme",
            "accepted",
        ),
    ],
    ids=[
        "nip alone",
        "eu vat form",
        "regon with service",
        "another customer's pesel",
        "pesel of another customer alone",
        "unregistered nip",
    ],
)
def test_an_identifier_in_the_text_is_evidence_of_the_customer(
    service: DecisionService,
    body: str,
    identifiers: list[str],
    result: str,
    customer: str,
    decision: str,
) -> None:
    register_with_identifiers(service)
    verdict = service.submit(parse_message(plain("Sprawa", body), FROM_ACME, Channel.API))
    # Only the kind is named, in the check; the verdict's instruction keeps its shape.
    assert set(verdict["instruction"]) == {"kinds", "services"}
    check = identifier_check(verdict)
    assert check["result"] == result
    assert f"gives a {identifiers[0].upper()} " in check["reason"].replace("the ", "a ")
    assert verdict["customer"] == customer
    assert verdict["decision"] == decision, verdict["reasons"]


def test_an_invalid_checksum_is_not_an_identifier(service: DecisionService) -> None:
    register_with_identifiers(service)
    raw = plain("Faktura", "Proszę o duplikat faktury dla acme.pl. PESEL 44051401358.")
    verdict = service.submit(parse_message(raw, FROM_ACME, Channel.API))
    assert all(c["name"] != "customer-identifier" for c in verdict["checks"])


def test_an_identifier_is_unchecked_without_the_key(service: DecisionService) -> None:
    register_with_identifiers(service)
    keyless = DecisionService(
        service.sessions,
        service.rules,
        service.signer,
        resolver=service.resolver,
        trust=service.trust,
        code_key=service.code_key,
    )
    raw = plain("Faktura", "Proszę o duplikat faktury dla acme.pl. NIP 5260250274.")
    verdict = keyless.submit(parse_message(raw, FROM_ACME, Channel.API))
    assert identifier_check(verdict)["result"] == "unchecked"
    assert verdict["decision"] == "accepted"


def test_no_identifier_reaches_the_verdict_the_log_or_the_store_in_clear(
    service: DecisionService, caplog: pytest.LogCaptureFixture
) -> None:
    register_with_identifiers(service)
    body = "Proszę o zmianę DNS dla acme.pl. NIP 526-025-02-74, PESEL 44051401359, REGON 123456785."
    caplog.set_level(logging.DEBUG)
    verdict = service.submit(parse_message(plain("DNS", body), FROM_ACME, Channel.API))
    assert identifier_check(verdict)["reason"].startswith(
        "The message gives a PESEL registered for customer beta, but names services or the "
    )
    assert verdict["decision"] == "review"
    secrets = (ACME_NIP, "526-025-02-74", BETA_PESEL, "123456785")
    shown = json.dumps(verdict, ensure_ascii=False)
    logged = caplog.text + "".join(repr(r.args) for r in caplog.records)
    with service.sessions() as session:
        # Every stored row but the raw message itself, kept as evidence as received.
        stored = "".join(
            repr(tuple(row))
            for table in Base.metadata.sorted_tables
            if table.name != "messages"
            for row in session.execute(table.select())
        )
    assert verdict["id"] in stored and "customer-identifier" in stored
    for secret in secrets:
        assert secret not in shown
        assert secret not in logged
        assert secret not in stored
    # Not even masked (the registry keeps its own masked column for agents).
    assert mask(BETA_PESEL) not in shown + logged


# Which services a message is about, found the way an agent would (issue 13): a host of a
# registered domain names that domain, a look-alike names what it imitates, and another
# customer's service is never accepted. The agency is a customer too: a DNS target there
# is ordinary, and must not alarm it.
AGENCY = CustomerData(
    panel_email="biuro@studio-web.pl",
    kind="company",
    name="Studio Web",
    services=("studio-web.pl",),
)
# acme holds a host under the agency's domain: the longest registered name is its holder.
ACME_WITH_SHOP = dataclasses.replace(ACME, services=(*ACME.services, "sklep.studio-web.pl"))
OTHERS_ADDRESSES = (BETA.panel_email, AGENCY.panel_email)


@dataclasses.dataclass(frozen=True)
class Scoped:
    body: str
    decision: str
    services: tuple[str, ...]
    # The service-scope result, and the customer the verdict is about.
    scope: str
    customer: str
    # Whose panel address the owner's alert is planned for; None: no alert.
    alerted: str | None = None
    # Domains the extractor finds only in quoted or forwarded text.
    mentioned: tuple[str, ...] = ()


SCOPES = [
    pytest.param(
        Scoped("Proszę o zmianę DNS dla www.acme.pl.", "accepted", ("acme.pl",), "pass", "acme"),
        id="a host of the sender's own domain is that domain and is accepted",
    ),
    pytest.param(
        Scoped(
            "Proszę o zmianę DNS dla www.sklep.studio-web.pl.",
            "accepted",
            ("sklep.studio-web.pl",),
            "pass",
            "acme",
        ),
        id="the longest registered parent decides whose host it is",
    ),
    pytest.param(
        Scoped(
            "Proszę o kod AuthInfo dla www.beta.pl.",
            "rejected",
            ("beta.pl",),
            "foreign",
            "beta",
            alerted=BETA.panel_email,
        ),
        id="a www host of another customer's domain is rejected and its owner alerted",
    ),
    pytest.param(
        Scoped(
            "Proszę o zmianę rekordu DNS MX dla poczta.beta.pl.",
            "rejected",
            ("beta.pl",),
            "foreign",
            "beta",
            alerted=BETA.panel_email,
        ),
        id="a mail host of another customer's domain is rejected and its owner alerted",
    ),
    pytest.param(
        Scoped(
            "Login: acme. Proszę o kod AuthInfo dla beta.pl.",
            "rejected",
            ("beta.pl",),
            "foreign",
            "beta",
            alerted=BETA.panel_email,
        ),
        id="the sender's own login does not make another customer's service theirs",
    ),
    pytest.param(
        Scoped(
            "Proszę o kod AuthInfo dla b\u0435ta.pl.",
            "rejected",
            ("beta.pl",),
            "lookalike",
            "beta",
            alerted=BETA.panel_email,
        ),
        id="a Cyrillic look-alike names the domain it imitates and is rejected",
    ),
    pytest.param(
        Scoped(
            "Proszę o zmianę DNS dla studi0-web.pl.",
            "rejected",
            ("studio-web.pl",),
            "lookalike",
            "agencja",
            alerted=AGENCY.panel_email,
        ),
        id="a digit in place of a letter names the domain it imitates and is rejected",
    ),
    pytest.param(
        Scoped(
            "Proszę o zmianę DNS dla \u0430cme.pl.", "review", ("acme.pl",), "lookalike", "acme"
        ),
        id="a look-alike of the sender's own domain is held for an agent",
    ),
    pytest.param(
        Scoped(
            "Proszę o zmianę rekordu DNS dla acme.pl: CNAME www na studio-web.pl.",
            "review",
            ("acme.pl", "studio-web.pl"),
            "mixed",
            "acme",
        ),
        id="a DNS target at an agency that is a customer is held without alarming the agency",
    ),
    pytest.param(
        Scoped(
            "Proszę o zmianę serwerów DNS domeny acme.pl na ns1.studio-web.pl.",
            "review",
            ("acme.pl", "studio-web.pl"),
            "mixed",
            "acme",
        ),
        id="name servers at an agency's host are held without alarming the agency",
    ),
    pytest.param(
        Scoped(
            "Proszę o zmianę DNS dla acme.pl, jak w wiadomości poniżej.",
            "review",
            ("acme.pl",),
            "mixed",
            "acme",
            mentioned=("beta.pl",),
        ),
        id="another customer's service only in quoted lines holds a DNS change",
    ),
    pytest.param(
        Scoped(
            "Proszę o kod AuthInfo.",
            "review",
            (),
            "mixed",
            "acme",
            mentioned=("beta.pl",),
        ),
        id="another customer's service only in quoted lines never rejects the message",
    ),
    pytest.param(
        Scoped(
            "Proszę o duplikat faktury dla acme.pl.",
            "review",
            ("acme.pl",),
            "mixed",
            "acme",
            mentioned=("beta.pl",),
        ),
        # What is marked as history is on the reader's screen all the same, and an
        # attribution line is as easy to write as any other.
        id="another customer's service only in quoted lines holds even an invoice request",
    ),
    pytest.param(
        Scoped(
            "Proszę o zmianę serwerów DNS na ns1.example.com i ns2.example.com.",
            "review",
            (),
            "none",
            "acme",
        ),
        id="a DNS change naming none of the sender's services is held",
    ),
    pytest.param(
        Scoped("Mam pytanie o fakturę za listopad.", "accepted", (), "pass", "acme"),
        id="an inquiry naming no service is accepted as it acts on none",
    ),
    pytest.param(
        Scoped(
            "Proszę zrobić dla acme.pl to, o czym rozmawialiśmy.",
            "review",
            ("acme.pl",),
            "pass",
            "acme",
        ),
        id="an authenticated request the catalogue does not recognise is held",
    ),
]


@pytest.mark.parametrize("case", SCOPES)
def test_the_services_a_message_is_about(
    service: DecisionService, case: Scoped, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(service, "acme", ACME_WITH_SHOP)
    register(service, "beta", BETA)
    register(service, "agencja", AGENCY)
    if case.mentioned:
        # What the extractor reports for quoted and forwarded text, handed in as it will.
        real = decision_service.extract
        monkeypatch.setattr(
            decision_service,
            "extract",
            lambda message, catalogue: dataclasses.replace(
                real(message, catalogue), mentioned_services=case.mentioned
            ),
        )
    verdict = service.submit(parse_message(plain("Sprawa", case.body), FROM_ACME, Channel.API))
    checks = {c["name"]: c for c in verdict["checks"]}
    assert verdict["decision"] == case.decision, verdict["reasons"]
    assert verdict["instruction"]["services"] == list(case.services)
    assert checks["service-scope"]["result"] == case.scope, checks["service-scope"]
    assert verdict["customer"] == case.customer
    shown = json.dumps(verdict, ensure_ascii=False)
    for address in OTHERS_ADDRESSES:
        assert address not in shown
    with service.sessions.begin() as session:
        alert = plan_alert(session, "verdict.recorded", verdict, datetime.now(UTC), timedelta(0))
    assert (alert["to"] if alert else None) == case.alerted


def test_an_unrecognised_request_names_what_the_agent_must_do(service: DecisionService) -> None:
    register(service, "acme", ACME)
    raw = plain("Sprawa", "Proszę przepisać wszystko na nową firmę.")
    verdict = service.submit(parse_message(raw, FROM_ACME, Channel.API))
    assert (verdict["decision"], verdict["assurance"]) == ("review", "authenticated")
    kind = next(c for c in verdict["checks"] if c["name"] == "instruction-kind")
    assert kind["result"] == "none"
    assert kind["reason"] == (
        "The instruction catalogue does not recognise what the message asks for; an agent "
        "must read it and decide."
    )
    assert verdict["reasons"] == [kind["reason"]]


def test_a_reader_fault_holds_the_message_for_an_agent(
    service: DecisionService, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A defect of the reader (here injected: no real text is known to raise) is neither a
    temporary failure retried until the mail bounces nor a message asking for nothing."""
    register(service, "acme", ACME)

    def broken(message: object) -> object:
        raise IndexError("list index out of range")

    monkeypatch.setattr("mailhook.instructions.read_message", broken)
    raw = plain("Duplikat faktury", "Proszę o duplikat faktury za październik dla acme.pl.")
    verdict = service.submit(parse_message(raw, FROM_ACME, Channel.API))
    assert verdict["decision"] == "review"
    text = next(c for c in verdict["checks"] if c["name"] == "instruction-text")
    assert text["result"] == "error"
    assert "IndexError" in text["reason"]
    assert any("instruction reader failed" in r.getMessage() for r in caplog.records)


def test_the_kinds_that_change_a_service_are_marked_in_the_catalogue() -> None:
    rules = load_rules(RULES)
    assert {kind.name for kind in rules.catalogue.kinds if kind.acts_on_service} == {
        "transfer_out",
        "dns_change",
        "holder_change",
        "contact_change",
        "cancellation",
    }


def test_acts_on_service_must_be_true_or_false(repo_rules: Path) -> None:
    path = repo_rules / "instructions.toml"
    text = path.read_text(encoding="utf-8")
    start = text.index("[kinds.dns_change]")
    old = "acts_on_service = true\n"
    at = text.index(old, start)
    path.write_text(text[:at] + 'acts_on_service = "yes"\n' + text[at + len(old) :], "utf-8")
    line = path.read_text(encoding="utf-8").splitlines().index('acts_on_service = "yes"') + 1
    with pytest.raises(ConfigError) as refused:
        load_rules(repo_rules)
    assert str(refused.value) == (
        f"{path}: [kinds.dns_change] acts_on_service: true or false (line {line})"
    )
