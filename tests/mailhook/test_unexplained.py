"""A sentence beside the recognised request that points somewhere (mailhook.unexplained).

Table-driven over the shipped catalogue: a sentence naming a service, a number, an IP
or another party, or asking in words no list holds, is reported with its reason; a
greeting, a signature, a contact line, a label, a courtesy and a question about the
own service are not. And the header fields a person reads, malformed ones included.
"""

from __future__ import annotations

import pytest

from app.decision.rules import load_rules
from mailhook.instructions import extract
from mailhook.message import Channel, Envelope, parse_message
from mailhook.shown_headers import shown_header_texts
from tests.adversarial_mail import Mail, build
from tests.support import FIXTURES, RULES

CATALOGUE = load_rules(RULES).catalogue
ENVELOPE = Envelope(client_ip="192.0.2.10", helo="mx.acme.pl", mail_from="jan@acme.pl")
INVOICE = "Dzień dobry,\nproszę o duplikat faktury 11/2026 za acme.pl.\n"


def text_finding(body: str, subject: str = "Faktura") -> tuple[str | None, str]:
    raw = build(Mail(subject=subject, plain=body))
    instruction = extract(parse_message(raw, ENVELOPE, Channel.API), CATALOGUE)
    for finding in instruction.findings:
        if finding.name == "instruction-text":
            return finding.result, finding.reason
    return None, ""


@pytest.mark.parametrize(
    ("extra", "shown"),
    [
        ("acme.pl idzie do OVH.", "«acme.pl idzie do ovh.»"),
        ("I sold acme.pl, please register it to them.", "«i sold acme.pl"),
        ("acme.pl -> OVH", "«acme.pl -> ovh»"),
        ("Marek Nowak przejmuje panel.", "«marek nowak przejmuje panel.»"),
        ("Proszę wygasić usługi.", "«prosze wygasic uslugi.»"),
        ("Niech żona dostanie kod.", "«niech zona dostanie kod.»"),
        ("Move everything to my new company.", "«move everything to my new company.»"),
    ],
)
def test_a_sentence_pointing_somewhere_is_unexplained(extra: str, shown: str) -> None:
    result, reason = text_finding(f"{INVOICE}{extra}\n\nJan Kowalski\n")
    assert result == "unexplained"
    assert shown in reason
    assert "an agent should read it" in reason


@pytest.mark.parametrize(
    "written",
    ["serwer 77777", "VPS ID 77777", "77777 (vps)", "203.0.113.77", "2001:db8::77", "fe::ab"],
)
def test_a_server_named_loosely_in_the_request_is_unexplained(written: str) -> None:
    result, reason = text_finding(f"Proszę o duplikat faktury 11/2026 za {written}.\n")
    assert result == "unexplained", reason
    # Without another digit in the sentence too (an IPv6 address may have none).
    result, reason = text_finding(f"Proszę o duplikat faktury za {written}.\n")
    assert result == "unexplained", reason


def test_a_clause_of_the_recognised_sentence_is_read() -> None:
    result, reason = text_finding("Proszę o duplikat faktury 11/2026, a kod proszę dać Markowi.\n")
    assert result == "unexplained"
    assert "«a kod prosze dac markowi.»" in reason


@pytest.mark.parametrize(
    "extra",
    [
        "Dziękuję.\n-- \nJan Kowalski\nACME sp. z o.o.\ntel. 600 100 200, e-mail: jan@acme.pl\n",
        "Dotyczy: acme.pl\nPozdrawiam\nJan\n",
        "https://www.acme.pl/kontakt\n",
        "Proszę o potwierdzenie.\nZ góry dziękuję!\n",
        "Strona acme.pl działa poprawnie.\n",
        "Serwer vps-12345 działa bez zarzutu.\n",
        "Ola Nowak\n",
        "Hosting mamy u Was od 2019 roku.\n",
        "Lista dyskusyjna klientów: wypisz się pod adresem lista@mailer.example\n",
    ],
)
def test_harmless_forms_are_not_reported(extra: str) -> None:
    assert text_finding(INVOICE + extra) == (None, "")


def test_a_list_under_a_recognised_request_is_its_detail() -> None:
    body = "Proszę o zmianę rekordów DNS dla acme.pl:\n- A na 192.0.2.11\n- MX na mx.acme.pl\n"
    assert text_finding(body, "DNS") == (None, "")


def test_an_ip_is_the_value_of_a_dns_change_and_a_server_elsewhere() -> None:
    dns = "Proszę o zmianę rekordu DNS typu A dla acme.pl na 192.0.2.11.\n"
    assert text_finding(dns, "DNS") == (None, "")
    assert text_finding(INVOICE + "Serwer ma adres 192.0.2.11.\n")[0] == "unexplained"


def test_a_question_names_what_it_asks_about_but_no_other_party() -> None:
    question = "Proszę o informację, do kiedy opłacony jest VPS 12345.\n"
    assert text_finding(question, "Pytanie") == (None, "")
    other = "Mam pytanie o status acme.pl, after that register it to them.\n"
    assert text_finding(other, "Pytanie")[0] == "unexplained"


def test_nothing_recognised_is_left_to_instruction_kind() -> None:
    # No kind recognised: instruction-kind none holds it; nothing is read here.
    assert text_finding("acme.pl idzie do OVH.\n", "Sprawa") == (None, "")


def test_header_fields_a_person_reads() -> None:
    raw = build(
        Mail(
            subject="Faktura",
            plain=INVOICE,
            sender='"Przeniesienie acme.pl" <jan@acme.pl>',
            headers=(("Organization", "ACME"), ("X-Mailer", "Client 1.0"), ("Received", "x")),
        )
    )
    message = parse_message(raw, ENVELOPE, Channel.API)
    assert list(shown_header_texts(message.parsed)) == [
        ("From", "Przeniesienie acme.pl", True),
        ("Organization", "ACME", True),
        ("X-Mailer", "Client 1.0", False),
    ]


def test_a_field_the_standard_parser_fails_on_is_read_not_raised() -> None:
    # The fixture's From makes the standard library's address parser raise IndexError
    # (it held the message as a reader fault before): its text is read as written.
    raw = (FIXTURES / "mail" / "from-unparseable.eml").read_bytes()
    message = parse_message(raw, ENVELOPE, Channel.API)
    assert [name for name, _, _ in shown_header_texts(message.parsed)][:1] == ["From"]
    instruction = extract(message, CATALOGUE)
    assert all(finding.result != "error" for finding in instruction.findings)


@pytest.mark.parametrize(
    ("extra", "result"),
    [
        pytest.param("Proszę o szybką odpowiedź i kod.", "unexplained", id="a code joined"),
        pytest.param("Zależy mi na czasie i na kodzie.", "unexplained", id="a code after 'i'"),
        pytest.param("Poproszę też kod wyjściowy.", "unexplained", id="poproszę asks"),
        pytest.param("Czy mogę dostać kod do domeny?", "unexplained", id="czy mogę asks"),
        pytest.param("Proszę o szybką odpowiedź.", None, id="a courtesy alone"),
        pytest.param("Proszę o kontakt, z góry dziękuję.", None, id="two courtesies"),
        pytest.param("Zależy nam na czasie.", None, id="time matters"),
        pytest.param("Kod też.", "unexplained", id="going on with 'też'"),
        pytest.param("Oraz kod.", "unexplained", id="going on with 'oraz'"),
        pytest.param("+ kod do domeny", "unexplained", id="going on with a plus"),
        pytest.param("I miłego dnia!", None, id="going on with a wish"),
        pytest.param("Dziękuję też.", None, id="going on with thanks"),
    ],
)
def test_a_courtesy_excuses_only_its_own_clause_and_what_goes_on_asks(
    extra: str, result: str | None
) -> None:
    assert text_finding(f"{INVOICE}{extra}\n")[0] == result
