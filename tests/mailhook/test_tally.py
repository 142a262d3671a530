"""What each piece read raises beside its kinds (mailhook.tally): a domain in letters of
two scripts, a service named in a link's address the sender's text does not name."""

from __future__ import annotations

import pytest

from app.decision.rules import load_rules
from mailhook.instructions import extract
from mailhook.message import Channel, Envelope, parse_message
from tests.adversarial_mail import Mail, build
from tests.support import RULES

CATALOGUE = load_rules(RULES).catalogue
ENVELOPE = Envelope(client_ip="192.0.2.10", helo="mx.acme.pl", mail_from="jan@acme.pl")
INVOICE = "Dzień dobry,\nproszę o duplikat faktury 11/2026 za acme.pl.\n"
INVOICE_HTML = "<p>Proszę o duplikat faktury 11/2026 za acme.pl.</p>"


def read(mail: Mail) -> tuple[str, tuple[str, ...]]:
    """The reason of instruction-parts when it reports hidden text (else ""), and the
    services the sender's text names."""
    instruction = extract(parse_message(build(mail), ENVELOPE, Channel.API), CATALOGUE)
    reasons = [
        finding.reason
        for finding in instruction.findings
        if finding.name == "instruction-parts" and finding.result == "hidden"
    ]
    return (reasons[0] if reasons else ""), instruction.services


def hidden(mail: Mail) -> str:
    return read(mail)[0]


@pytest.mark.parametrize(
    ("domain", "two_scripts"),
    [
        pytest.param("βeta.pl", True, id="a Greek beta"),
        pytest.param("Ьeta.pl", True, id="a Cyrillic soft sign"),
        pytest.param("kwiaτy.pl", True, id="a Greek tau"),
        pytest.param("łąka.pl", False, id="Polish letters"),
        pytest.param("аптека.рф", False, id="Cyrillic alone"),
        pytest.param("acme.pl", False, id="ASCII"),
    ],
)
def test_a_domain_in_letters_of_two_scripts_is_hidden_text(domain: str, two_scripts: bool) -> None:
    reason = hidden(Mail(subject="Faktura", plain=f"{INVOICE}Także za {domain}.\n"))
    assert ("letters of two scripts" in reason) is two_scripts, reason


@pytest.mark.parametrize(
    ("address", "held"),
    [
        pytest.param("https://panel.example/faktura?domena=beta.pl", True, id="in the query"),
        pytest.param("https://panel.example/duplikat/vps-77777", True, id="a server in the path"),
        pytest.param("https://l.example/?u=https%3A%2F%2Fwww.acme.pl%2F", False, id="its own"),
        pytest.param("https://www.acme.pl/faktury/11-2026", False, id="no service named"),
    ],
)
def test_a_service_named_in_a_links_address_is_hidden_text(address: str, held: bool) -> None:
    # Metamorphic: the same address behind an HTML link and written out in plain text.
    for mail in (
        Mail(subject="Faktura", html=f"{INVOICE_HTML}<a href='{address}'>faktura</a>"),
        Mail(subject="Faktura", plain=f"{INVOICE}Link: {address}\n"),
    ):
        # Read either as hidden in the link, or as a service the text names (the plain
        # text's "vps-77777"): another customer's either way.
        reason, services = read(mail)
        named = any(service in ("beta.pl", "vps-77777") for service in services)
        assert ("a request in a link's address" in reason or named) is held, (mail, reason)
