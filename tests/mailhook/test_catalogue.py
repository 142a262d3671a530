"""The shipped catalogue (rules/instructions.toml) against what customers really write.

Each request is read as written, and as a mail client would show it written otherwise:
without diacritics, in capitals, with a zero-width space or a soft hyphen inside its
words, with Cyrillic letters in place of Latin ones, with an en dash. Ordinary sentences
(greetings, signatures, thanks, a bank transfer) must not ask for anything risky.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import pytest

from app.decision.rules import load_rules
from mailhook.catalogue import Catalogue
from mailhook.instructions import extract
from mailhook.message import Channel, Envelope, parse_message
from tests.support import RULES, make_message

CATALOGUE: Catalogue = load_rules(RULES).catalogue
# Kinds that act on a service: a false one makes a decision stricter, a missed one lets
# a request through as something milder.
RISKY = frozenset({"transfer_out", "holder_change", "dns_change", "contact_change", "cancellation"})
# Latin letters and the Cyrillic ones that look the same.
CYRILLIC = str.maketrans("aceopxyiACEOPXHKMT", "асеорхуіАСЕОРХНКМТ")


def kinds(body: str) -> set[str]:
    raw = make_message(subject="Wiadomosc", body=body + "\n")
    return set(extract(parse_message(raw, Envelope(), Channel.API), CATALOGUE).kinds)


def inside_words(mark: str) -> Callable[[str], str]:
    """Puts ``mark`` in the middle of every word of four letters or more."""

    def insert(text: str) -> str:
        return " ".join(
            word[: len(word) // 2] + mark + word[len(word) // 2 :] if len(word) > 3 else word
            for word in text.split(" ")
        )

    return insert


def without_diacritics(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("ł", "l").replace("Ł", "L"))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def with_en_dash(text: str) -> str:
    return text.replace("-", "\u2013") if "-" in text else "\u2013 " + text


WRITTEN = {
    "as-written": lambda text: text,
    "no-diacritics": without_diacritics,
    "capitals": str.upper,
    "zero-width-space": inside_words("\u200b"),
    "soft-hyphen": inside_words("\u00ad"),
    "cyrillic-letters": lambda text: text.translate(CYRILLIC),
    "en-dash": with_en_dash,
}

REQUESTS = [
    # transfer_out, Polish
    ("Proszę przenieść domenę do innego rejestratora.", {"transfer_out"}),
    ("Chcę przenieść domenę acme.pl do innego operatora.", {"transfer_out"}),
    ("Zlecam przeniesienie domeny do innego operatora.", {"transfer_out"}),
    ("Proszę o kod autoryzacyjny do domeny.", {"transfer_out"}),
    ("Poproszę kod transferowy.", {"transfer_out"}),
    ("Proszę o kod AuthInfo.", {"transfer_out"}),
    ("Proszę przesłać hasło do transferu domeny.", {"transfer_out"}),
    ("Proszę o odblokowanie domeny, przenoszę ją.", {"transfer_out"}),
    ("Przechodzę do innego dostawcy.", {"transfer_out"}),
    ("Proszę o kod EPP.", {"transfer_out"}),
    ("Planuję transfer do innego rejestratora.", {"transfer_out"}),
    ("Proszę o kod do przeniesienia domeny.", {"transfer_out"}),
    # transfer_out, English
    ("I want to move my domain to another registrar.", {"transfer_out"}),
    ("Please send me the transfer code.", {"transfer_out"}),
    ("What is the authorization code for acme.pl?", {"transfer_out"}),
    ("Please send the auth-code.", {"transfer_out"}),
    ("Could I have the EPP key?", {"transfer_out"}),
    ("Please unlock the domain.", {"transfer_out"}),
    ("We are moving the domain to a new registrar.", {"transfer_out"}),
    ("Please release the domain to the new registrar.", {"transfer_out"}),
    # holder_change
    ("Chcę przepisać domenę na firmę żony.", {"holder_change"}),
    ("Proszę o przepisanie domeny na spółkę.", {"holder_change"}),
    ("Zgłaszam zmianę właściciela domeny.", {"holder_change"}),
    ("Od jutra nowym właścicielem jest Anna Nowak.", {"holder_change"}),
    ("Nowy właściciel domeny to Anna Nowak.", {"holder_change"}),
    ("Sprzedałem domenę, proszę o zmianę abonenta.", {"holder_change"}),
    ("Please change the owner of acme.pl.", {"holder_change"}),
    ("We request a change of ownership.", {"holder_change"}),
    ("The new owner is ACME Ltd.", {"holder_change"}),
    ("I sold the domain to my colleague.", {"holder_change"}),
    ("Firma córki przejmie domenę od stycznia.", {"holder_change"}),
    # dns_change
    ("Proszę o zmianę serwerów nazw.", {"dns_change"}),
    ("Proszę o zmianę NS na ns1.example.com.", {"dns_change"}),
    ("Proszę ustawić przekierowanie domeny na stronę acme.com.", {"dns_change"}),
    ("Proszę dodać rekord TXT dla weryfikacji.", {"dns_change"}),
    ("Please update the nameservers.", {"dns_change"}),
    ("Please point the domain to 192.0.2.10.", {"dns_change"}),
    ("Please add a CNAME for www.", {"dns_change"}),
    ("Proszę dodać rekord MX dla poczty.", {"dns_change"}),
    ("Please add a TXT entry for the verification.", {"dns_change"}),
    # contact_change
    ("Proszę o zmianę e-maila kontaktowego.", {"contact_change"}),
    ("Mój nowy adres e-mail to jan@example.com.", {"contact_change"}),
    ("Proszę o zmianę numeru telefonu.", {"contact_change"}),
    ("Proszę o aktualizację danych do faktury.", {"contact_change"}),
    ("Please update my billing address.", {"contact_change"}),
    ("Please change the e-mail address on my account.", {"contact_change"}),
    ("My new phone number is 600 100 200.", {"contact_change"}),
    ("Zmieniłem adres firmy, proszę o aktualizację.", {"contact_change"}),
    ("Our new address is 1 Main Street.", {"contact_change"}),
    # cancellation
    ("Proszę o zamknięcie konta.", {"cancellation"}),
    ("Proszę o usunięcie domeny.", {"cancellation"}),
    ("Proszę nie przedłużać domeny na kolejny rok.", {"cancellation"}),
    ("Rezygnuję z hostingu.", {"cancellation"}),
    ("Please do not renew the domain.", {"cancellation"}),
    ("Please delete the domain.", {"cancellation"}),
    ("Please stop the service at the end of the month.", {"cancellation"}),
    ("Don\u2019t renew my hosting.", {"cancellation"}),
    ("Nie będę przedłużać domeny.", {"cancellation"}),
    ("We will not renew the hosting.", {"cancellation"}),
    ("Please let the domain expire.", {"cancellation"}),
    ("We won\u2019t renew the plan.", {"cancellation"}),
    # invoices
    ("Proszę o fakturę korygującą.", {"invoice_duplicate"}),
    ("Proszę o ponowne wysłanie faktury.", {"invoice_duplicate"}),
    ("Please resend the invoice.", {"invoice_duplicate"}),
    ("Could you send another copy of the invoice?", {"invoice_duplicate"}),
    ("Nie otrzymałem faktury za listopad.", {"invoice_duplicate"}),
    ("I didn\u2019t receive the invoice for November.", {"invoice_duplicate"}),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(WRITTEN[way](text), expected, id=f"{way}: {text}")
        for text, expected in REQUESTS
        for way in WRITTEN
    ],
)
def test_a_request_is_recognised_however_it_is_written(text: str, expected: set[str]) -> None:
    found = kinds(text)
    assert expected <= found
    # Nothing riskier than asked for, either.
    assert found & RISKY == expected & RISKY


ORDINARY = [
    "Dzień dobry,",
    "Dzień dobry Państwu, pozdrawiam serdecznie.",
    "Z poważaniem, Jan Kowalski",
    "Dziękuję za szybką odpowiedź!",
    "Wysłano z mojego iPhone'a",
    "Przelew został wykonany wczoraj.",
    "Czy domena acme.pl jest opłacona do końca roku?",
    "Jestem właścicielem domeny acme.pl.",
    "Osoba kontaktowa: Jan Kowalski, tel. 600 100 200",
    "Proszę przenieść pliki do innego katalogu na serwerze.",
    "Przepisanie strony na nowszą wersję PHP skończone.",
    "Hello, thank you very much!",
    "Best regards, Jan",
    "Kind regards,\nJan Kowalski\nACME sp. z o.o.",
    "Have a nice day.",
    "Sent from my iPhone",
    "I made a bank transfer to another account yesterday.",
    "The wire transfer was sent on Monday.",
    "I am the owner of acme.pl.",
    "Please keep a record of this conversation.",
    "Could you point me to the right person?",
    "Our contact details are below.",
    "Przedłużę domenę na kolejny rok.",
    "Będę przedłużać hosting co roku.",
    "We will renew the domain next week.",
    "Please confirm the payment.",
    "Bank transfer done, thanks.",
    "The transfer done on Monday covers the invoice.",
    "Proszę o potwierdzenie płatności.",
    "W załączeniu przesyłam potwierdzenie przelewu.",
    "Mam pytanie o fakturę.",
    "Pozdrawiam, Anna\nACME sp. z o.o., ul. Nowa 1, Warszawa",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_sentences_ask_for_nothing_risky(text: str) -> None:
    assert not kinds(text) & RISKY
