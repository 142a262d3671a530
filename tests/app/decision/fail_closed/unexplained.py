"""Fail-closed rows of class 15: a sentence beside the request that points somewhere."""

from __future__ import annotations

from typing import Any

from tests.adversarial_mail import Mail, Part
from tests.app.decision.fail_closed.rows import REVIEW, attack, html, legit, plain

C15 = "class 15 (a sentence beside the request pointing somewhere no kind explains)"
INVOICE = "Dzień dobry,\nproszę o duplikat faktury 11/2026 za acme.pl.\n"
SIGNATURE = "\nPozdrawiam\nJan Kowalski\n"


def surfaces(payload: str) -> list[tuple[str, Mail]]:
    """``payload`` beside acme's recognised invoice request, where a person reads it."""
    return [
        ("a paragraph of its own", plain("Faktura", f"{INVOICE}{payload}\n{SIGNATURE}")),
        (
            "after the signature delimiter",
            plain("Faktura", f"{INVOICE}\n-- \nJan Kowalski\n{payload}\n"),
        ),
        ("in a PS", plain("Faktura", f"{INVOICE}{SIGNATURE}\nPS {payload}\n")),
        ("an HTML paragraph", html("Faktura", f"<p>{INVOICE}</p><p>{payload}</p>")),
        ("the subject", plain(payload, INVOICE + SIGNATURE)),
        (
            "the plain alternative only",
            Mail(subject="Faktura", plain=f"{INVOICE}{payload}\n", html=f"<p>{INVOICE}</p>"),
        ),
        (
            "a text attachment",
            plain("Faktura", INVOICE, parts=(Part(f"{payload}\n", "plain", "text", "uwagi.txt"),)),
        ),
        (
            "a calendar invitation's description",
            plain(
                "Faktura",
                INVOICE,
                parts=(Part(_event(payload), "calendar", "text", "spotkanie.ics"),),
            ),
        ),
        ("the From display name", plain("Faktura", INVOICE, sender=f'"{payload}" <jan@acme.pl>')),
        ("the Organization field", plain("Faktura", INVOICE, headers=(("Organization", payload),))),
    ]


def _event(description: str) -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:Spotkanie\r\n"
        f"DESCRIPTION:{description}\r\nDTSTART:20261201T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def metamorphic(payload: str) -> list[Any]:
    """One payload on every surface: each is held the same way (review)."""
    return [
        attack(f"«{payload}» in {where}", C15, mail, REVIEW) for where, mail in surfaces(payload)
    ]


# Each ended accepted before: the invoice request was recognised, and the sentence
# beside it held no word of the request lists, or only a misspelt one.
PARAPHRASES = [
    attack(
        f"a paraphrase: {sentence}",
        C15,
        plain("Faktura", f"{INVOICE}{sentence}\n{SIGNATURE}"),
        REVIEW,
    )
    for sentence in (
        "I sold acme.pl, please register it to them.",
        "Ownership of acme.pl passes to Example Ltd.",
        "Please let OVH take acme.pl.",
        "acme.pl -> OVH",
        "Niech OVH dostanie acme.pl.",
        "Domena ma trafić do firmy Example.",
        "Proszę też o authlnfo dla acme.pl.",
        "Proszę też o przenisienie acme.pl do OVH.",
        "Please also trasnfer acme.pl to OVH.",
    )
]


def clause(sentence: str, extra: str, request: str = INVOICE) -> Any:
    """``extra`` written in the recognised request's own sentence."""
    body = f"{request.rstrip().rstrip('.')}{extra}.\n{SIGNATURE}"
    return attack(f"in the request's sentence: {sentence}", C15, plain("Faktura", body), REVIEW)


QUESTION = "Dzień dobry,\nmam pytanie o status zamówienia 4411 dla acme.pl.\n"
# Each ended accepted before: a clause of the recognised sentence, with no word of the
# request lists, or a request word and no listed verb or object.
CLAUSES = [
    clause("a paraphrase after a comma", ", acme.pl idzie do OVH"),
    clause("the code given to someone named", ", a kod proszę dać Markowi"),
    clause("a declaration after 'i'", " i niech Marek dostanie acme.pl"),
    clause("a sale after a dash", " - acme.pl sprzedaliśmy firmie Example"),
    clause("an English party after a comma", ", after that register it to them"),
    clause("a paraphrase in brackets", " (acme.pl przechodzi do OVH)"),
    clause("another party in a question", ", after that register it to them", QUESTION),
]
# Each ended accepted before: a request word, and a verb or object no list holds.
UNLISTED_ASKING = [
    attack(
        f"a request in unlisted words: {sentence}",
        C15,
        plain("Faktura", f"{INVOICE}{sentence}\n{SIGNATURE}"),
        REVIEW,
    )
    for sentence in (
        "Proszę wygasić usługi.",
        "Niech żona dostanie kod.",
        "kod do wyjścia proszę dla mnie.",
        "Everything goes to my wife.",
    )
]
# Each ended accepted before: a server named by a number or an IP the server id pattern
# does not read, in a request that names no service of its own.
SERVERS = [
    attack(
        f"a server named loosely: {written}",
        C15,
        plain("Faktura", f"Dzień dobry,\nproszę o duplikat faktury 11/2026 za {written}.\n"),
        REVIEW,
    )
    for written in (
        "serwer 77777",
        "VPS ID 77777",
        "vps (77777)",
        "77777 (vps)",
        "203.0.113.77",
        "2001:db8::77",
    )
]
UNEXPLAINED = [
    *PARAPHRASES,
    *metamorphic("acme.pl idzie do OVH"),
    # A request the catalogue knows, where only header fields say it (read since).
    *metamorphic("Przeniesienie acme.pl do OVH")[-2:],
    attack(
        "a word split by a line break in HTML",
        C15,
        html("Faktura", f"<p>{INVOICE}</p><p>Proszę też o prze<br>niesienie acme.pl do OVH.</p>"),
        REVIEW,
    ),
    attack(
        "a transfer asked in the HTML title, which no client draws in the body",
        C15,
        Mail(
            subject="Faktura",
            html="<html><head><title>Proszę o przeniesienie acme.pl do OVH</title></head>"
            f"<body><p>{INVOICE}</p></body></html>",
        ),
        REVIEW,
    ),
    attack(
        "a transfer asked in a meta description",
        C15,
        Mail(
            subject="Faktura",
            html='<html><head><meta name="description" content="Proszę o przeniesienie '
            f'acme.pl do OVH"></head><body><p>{INVOICE}</p></body></html>',
        ),
        REVIEW,
    ),
    attack(
        "a Thread-Topic field asking for a holder change",
        C15,
        plain(
            "Faktura", INVOICE, headers=(("Thread-Topic", "Zmiana właściciela acme.pl na Example"),)
        ),
        REVIEW,
    ),
    *CLAUSES,
    *UNLISTED_ASKING,
    *SERVERS,
    legit(
        "a signature with names, contacts and the own site stays accepted",
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026 za acme.pl.\nDziękuję.\n-- \nJan Kowalski\n"
            "ACME sp. z o.o.\ntel. 600 100 200, e-mail: jan@acme.pl\nhttps://www.acme.pl\n",
        ),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "a DNS change listing its records under a colon stays accepted",
        plain(
            "DNS",
            "Proszę o zmianę rekordów DNS dla acme.pl:\n- A na 192.0.2.11\n- MX na mx.acme.pl\n",
        ),
        "accepted",
        ("dns_change",),
    ),
    legit(
        "a question naming the own server, and the customer's own server by a space, stay accepted",
        plain(
            "Pytanie",
            "Proszę o informację, do kiedy opłacony jest VPS 12345.\nDziękuję z góry.\n",
        ),
        "accepted",
        ("inquiry",),
    ),
    legit(
        "a generator's meta data and a title repeating the request stay accepted",
        Mail(
            subject="Faktura",
            html='<html><head><meta name="Generator" content="Microsoft Word 15 (filtered '
            'medium)"><title>Duplikat faktury</title></head>'
            f"<body><p>{INVOICE}</p></body></html>",
        ),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "an Organization field and display name of the sender's own stay accepted",
        plain("Faktura", INVOICE, headers=(("Organization", "ACME sp. z o.o."),)),
        "accepted",
        ("invoice_duplicate",),
    ),
]
