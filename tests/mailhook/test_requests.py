"""A request the catalogue does not recognise, beside one it does (mailhook.requests).

Table-driven over the shipped catalogue: what a desk would also act on is reported,
what only restates or thanks is not; and the clause reader on its own.
"""

from __future__ import annotations

import pytest

from app.decision.rules import load_rules
from mailhook.instructions import extract
from mailhook.message import Channel, Envelope, parse_message
from mailhook.requests import clauses
from tests.adversarial_mail import Mail, build
from tests.support import RULES

CATALOGUE = load_rules(RULES).catalogue
ENVELOPE = Envelope(client_ip="192.0.2.10", helo="mx.acme.pl", mail_from="jan@acme.pl")
INVOICE = "Proszę o duplikat faktury VAT za acme.pl."


def unrecognised(body: str, subject: str = "Sprawa") -> tuple[str, ...]:
    raw = build(Mail(subject=subject, plain=body))
    return extract(parse_message(raw, ENVELOPE, Channel.API), CATALOGUE).unrecognised


RIDING = [
    "Dodatkowo proszę zmienić adres e-mail w panelu na nowy@example.org.",
    "Proszę też zresetować hasło do panelu.",
    "Also please add my colleague as an administrator of the account.",
    "Proszę nadać dostęp FTP dla nowego użytkownika.",
    "Fakturę proszę wysłać na adres: ksiegowosc@example.org",
    "Proszę zmienić dane do faktury na Example Sp. z o.o.",
    "Proszę przedłużyć domenę acme.pl o 10 lat.",
    "Zmieńcie proszę hasło do skrzynki jan@acme.pl.",
    "Please disable two-factor authentication on my account.",
    "Proszę wyłączyć weryfikację dwuetapową.",
    "I would like you to remove the SSH key from the server.",
    # Other languages and scripts: a marker and an object are enough, another script
    # is read as asking anything.
    "Bitte übertragen Sie die Domain acme.pl zu einem anderen Registrar.",
    "Prosím o převod domény acme.pl.",
    "Por favor, cambie la contraseña del panel.",
    "S'il vous plaît, changez le mot de passe.",
    "Будь ласка, передайте домен acme.pl іншому реєстратору.",
    "请把域名转移",
    # With no marker: a line of Latin letters with marks Polish does not use is of a
    # language the catalogue is not written in; and a bank account asks by itself.
    "Převeďte doménu acme.pl k jinému registrátorovi.",
    "Löschen Sie die Domain acme.pl.",
    "Zmeňte držiteľa domény acme.pl na Example s.r.o.",
    "El nuevo titular de acme.pl es Example SL.",
    "Zwrot nadpłaty na PL61 1090 1014 0000 0712 1981 2874.",
    # In the recognised request's own clause (no comma or listed conjunction before it),
    # or a holder change read as a change of details: its words beyond the recognised
    # kinds' are read.
    "Proszę o duplikat faktury VAT za acme.pl a potem o przepisanie acme.pl na Example.",
    "Proszę o duplikat faktury VAT za acme.pl a następnie o przeniesienie acme.pl do OVH.",
    "Proszę o duplikat faktury VAT za acme.pl wraz z przepisaniem acme.pl na Example.",
    "Proszę o duplikat faktury VAT za acme.pl zmieńcie operatora acme.pl na OVH.",
    "Proszę o zmianę danych abonenta domeny acme.pl na Example sp. z o.o.",
    # The login as what is changed, inflected, not as the account's label.
    "Proszę o zmianę adresu korespondencyjnego wraz z loginem na marek.nowak.",
    "Proszę o duplikat faktury передайте домен acme.pl іншому реєстратору.",
]


# Requests in words the lists need not hold: a declaration instead of a verb, an
# imperative of a verb not listed, a label before a value, a verb in another clause of
# the sentence than its object, an object that asks by its mention alone.
UNLISTED = [
    "Nowe hasło: Lato2026!",
    "Login do panelu niech będzie teraz marek.nowak.",
    "Login do panelu: marek.nowak",
    "Marek ma dostać pełny dostęp do konta.",
    "Niech pełnomocnikiem do spraw domeny będzie od dziś Marek Nowak.",
    "Zrestartujcie vps-12345 i zainstalujcie system od nowa.",
    "Backup z vps-12345 wrzućcie na ftp://198.51.100.7/.",
    "Numer konta do zwrotu: PL61109010140000071219812874.",
    "Dane kontaktowe właściciela: Marek Nowak, ul. Polna 1, Warszawa.",
    "Zmieńcie też dane do faktury na Example Sp. z o.o.",
    "Przy okazji zmieńcie numer telefonu na koncie na 600100200.",
    "Dostęp FTP dla marek, hasło dowolne.",
    "Reinstalacja systemu na vps-12345, dane nie są potrzebne.",
    "Marek przejmuje konto.",
    "Skrzynka biuro@acme.pl do likwidacji.",
    "My new password should be Summer2026!",
    "Mark takes over as the account owner.",
    "Wipe vps-12345 and reboot it.",
    "Give Mark full access to the account.",
]


@pytest.mark.parametrize("extra", UNLISTED)
def test_a_request_in_words_the_lists_do_not_hold_is_reported(extra: str) -> None:
    assert unrecognised(f"{INVOICE}\n{extra}\nJan")


@pytest.mark.parametrize("extra", RIDING)
def test_a_second_request_beside_a_recognised_one_is_reported(extra: str) -> None:
    assert unrecognised(f"{INVOICE}\n{extra}\nJan")


@pytest.mark.parametrize("extra", RIDING)
def test_the_same_request_in_the_subject_is_reported(extra: str) -> None:
    assert unrecognised(f"{INVOICE}\nJan", subject=extra)


@pytest.mark.parametrize(
    ("body", "subject"),
    [
        (INVOICE, "Faktura"),
        ("Please send a duplicate invoice for acme.pl.", "Invoice"),
        ("Proszę o przeniesienie domeny acme.pl do innego rejestratora.", "Transfer"),
        ("Proszę o zmianę rekordu DNS dla acme.pl i potwierdzenie zmiany.", "DNS"),
        (f"{INVOICE}\nProszę o szybką odpowiedź. Z góry dziękuję!\nJan Kowalski", "Faktura"),
        (f"{INVOICE}\n-- \nJan Kowalski\ntel. 600 100 200, e-mail: jan@acme.pl", "Faktura"),
        ("Proszę o zmianę rekordów MX i TXT dla acme.pl.", "Zmiana DNS"),
        (f"{INVOICE}\nPozdrawiam, Łukasz Żółćko-Müller, Straße 5", "Faktura"),
        (f"{INVOICE}\nDajcie znać, gdyby czegoś brakowało.\nJan", "Faktura"),
        (f"{INVOICE}\nProszę o informację zwrotną.\nJan", "Faktura"),
        (f"{INVOICE}\nW razie pytań proszę o kontakt, jestem dostępny cały dzień.", "Faktura"),
        ("Mam pytanie, do kiedy jest opłacony hosting acme.pl?", "Pytanie"),
        ("Proszę o duplikat faktury VAT za domenę acme.pl na adres jan@acme.pl.", "Faktura"),
        (f"{INVOICE}\nPozdrawiam,\nJiří Dvořák", "Faktura"),
        (
            f"{INVOICE}\nJan Kowalski\nTel.: 600 100 200\nE-mail: jan@acme.pl\nNIP: 5250001009",
            "Faktura",
        ),
        ("Proszę o zmianę abonenta domeny acme.pl na nowego abonenta login: bartek", "Cesja"),
        (f"{INVOICE} Login: acme", "Faktura"),
    ],
    ids=[
        "invoice",
        "english",
        "transfer subject",
        "confirm the change",
        "thanks",
        "signature",
        "records joined by i",
        "a name with diacritics",
        "let us know",
        "a reply asked for",
        "contact me, available",
        "paid until",
        "the service and the address in the recognised clause",
        "a Czech name in the signature",
        "a signature's labels",
        "the new holder's login in the recognised clause",
        "the account's login after the request",
    ],
)
def test_what_only_restates_thanks_or_signs_is_not(body: str, subject: str) -> None:
    assert unrecognised(body, subject) == ()


@pytest.mark.parametrize("odd", [", : x", "( : x", ":x", " , :", "a, :: b", ",\t: tak"])
def test_a_colon_with_no_label_before_it_is_read_without_error(odd: str) -> None:
    """A colon after a comma or a bracket with nothing between is no label (it once
    crashed the reader); the password beside the invoice request still holds it."""
    assert unrecognised(f"{INVOICE}\nhasło{odd}\nJan")


def test_nothing_recognised_is_left_to_instruction_kind_none() -> None:
    assert unrecognised("Proszę zresetować hasło do panelu.") == ()


@pytest.mark.parametrize(
    ("folded", "expected"),
    [
        (
            "prosze o duplikat faktury. prosze tez o reset",
            ["prosze o duplikat faktury", "prosze", "o reset"],
        ),
        ("dns dla acme.pl, i mx", ["dns dla acme.pl", "mx"]),
        ("please send a copy and also reset it", ["please send a copy", "reset it"]),
        ("a: b; c\nd", ["a", "b", "c", "d"]),
    ],
)
def test_clauses(folded: str, expected: list[str]) -> None:
    assert clauses(folded) == expected


@pytest.mark.parametrize(
    ("body", "subject", "held"),
    [
        pytest.param("Dzień dobry,\nduplikat faktury + kod.", "Sprawa", True, id="a plus"),
        pytest.param("Dzień dobry,\nduplikat faktury & kod.", "Sprawa", True, id="an ampersand"),
        pytest.param("Dzień dobry,\nduplikat faktury i kod.", "Sprawa", True, id="'i'"),
        pytest.param("Dzień dobry.", "Duplikat faktury oraz kod", True, id="in the subject"),
        pytest.param("Duplikat faktury i dane do przelewu.", "Sprawa", True, id="payment details"),
        pytest.param(
            "Dzień dobry,\nduplikat faktury, domena acme.pl.",
            "Sprawa",
            False,
            id="the domain it is for",
        ),
        pytest.param(
            "Duplikat faktury za domenę acme.pl, konto acme.",
            "Sprawa",
            False,
            id="the account it is for",
        ),
        pytest.param(
            "Proszę o duplikat faktury 11/2026 oraz fakturę korygującą 12/2026.",
            "Sprawa",
            False,
            id="a second invoice",
        ),
    ],
)
def test_a_clause_joined_to_a_recognised_one_asks_as_it_does(
    body: str, subject: str, held: bool
) -> None:
    """ "Duplikat faktury + kod": the clause after the request asks with no word of its own;
    what a request names in passing (the domain, the account) asks for nothing more."""
    assert bool(unrecognised(body, subject)) is held


@pytest.mark.parametrize(
    "sentence",
    [
        "Send ogsa overforselskoden.",
        "En de verhuiscode graag.",
        "Palun saatke ka ulekandekood.",
        "Stuur ook de overdrachtscode.",
        "Tafadhali tuma msimbo wa uhamisho pia.",
        "Pakipadala rin ang code ng paglipat.",
        "Atsiuskite ir perkelimo koda.",
        "Gui ma chuyen nhuong nua.",
    ],
)
def test_a_code_asked_for_in_a_compound_or_a_language_of_ascii_letters(sentence: str) -> None:
    assert unrecognised(f"{INVOICE}\n{sentence}\nJan")


def test_a_compound_code_word_is_the_object_code_and_a_short_word_is_not() -> None:
    words = CATALOGUE.requests
    assert words is not None
    assert words.found("overforselskoden")[1] == frozenset({"code"})
    assert words.found("ulekandekood")[1] == frozenset({"code"})
    assert words.found("decode")[1] == frozenset()


@pytest.mark.parametrize(
    ("subject", "reported"),
    [
        ("Faktura + kod", ("kod",)),
        ("Invoice, code", ("code",)),
        ("Faktura", ()),
        ("Duplikat faktury", ()),
        # Named in the body without a word of asking, a code is no request of its own.
        ("Sprawa", ()),
    ],
)
def test_a_code_named_in_the_subject_is_asked_for(subject: str, reported: tuple[str, ...]) -> None:
    assert unrecognised(f"{INVOICE}\nKod klienta podam telefonicznie.", subject) == reported
