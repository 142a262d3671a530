"""Fail-closed rows of classes 10 to 14: second requests, other words, languages, drawing."""

from __future__ import annotations

from typing import Any

from tests.adversarial_mail import Part
from tests.app.decision.fail_closed.rows import (
    C2,
    C10,
    C11,
    C12,
    C13,
    C14,
    FOREIGN,
    NOT_ACCEPTED,
    OWN_HOLDER,
    OWN_TRANSFER,
    REJECTED,
    REVIEW,
    attack,
    html,
    legit,
    plain,
)

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
