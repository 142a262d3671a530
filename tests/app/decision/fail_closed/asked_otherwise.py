"""Fail-closed rows of class 24: a second request asked in words the request lists did
not hold (other forms of asking, other languages' verbs of sending, a code), joined to a
courtesy that excused its whole sentence, or in a sentence going on from the request."""

from __future__ import annotations

from tests.adversarial_mail import Mail
from tests.app.decision.fail_closed.rows import REVIEW, attack, legit, plain

C24 = "class 24 (a request asked otherwise, or joined to a courtesy)"
INVOICE = "Dzień dobry,\nproszę o duplikat faktury 11/2026 za acme.pl.\n"
SIGNATURE = "\nPozdrawiam\nJan Kowalski\n"


def _beside_invoice(sentence: str) -> Mail:
    return plain("Faktura", f"{INVOICE}{sentence}\n{SIGNATURE}")


# Each but the last ended accepted on main: the invoice request recognised, and the
# sentence beside it holding no request word (or one a courtesy excused) and no listed
# verb or object. "Zależy mi na czasie i na kodzie" was held on main: it guards the
# courtesy "zależy mi na czasie" added since.
ASKED_OTHERWISE = [
    attack(f"«{sentence}» beside an invoice request", C24, _beside_invoice(sentence), REVIEW)
    for sentence in (
        # Polish asking without "proszę".
        "Poproszę też kod wyjściowy.",
        "Dorzućcie też kod.",
        "Mogę prosić też o sekretny kod domeny?",
        "Czy mogę dostać kod do domeny?",
        "Zależy nam też na kodzie do domeny.",
        # Other languages, in ASCII letters (no marks to tell them by).
        "Graag ook de verhuiscode sturen.",
        "Stuur mij ook de verhuistoken.",
        "Mandatemi anche il codice.",
        "Skicka aven flyttkoden.",
        "Lahetakaa myos siirtokoodi.",
        "Posalji mi i kod za prijenos.",
        # A courtesy joined to a request in one sentence.
        "Proszę o szybką odpowiedź i kod.",
        "Czy mogę prosić o szybką odpowiedź i kod?",
        "Zależy mi na czasie i na kodzie.",
        # A sentence going on from the request, and a code asked for in plain English.
        "Kod też.",
        "Oraz kod.",
        "+ kod do domeny",
        "Send the code.",
        "Regards, and send the code.",
    )
]

# A code named in the subject as one of its topics, over an invoice request in the body
# ("Faktura + kod"): a subject names what the message asks for without a word of asking.
# Each ended accepted on main ("faktura" alone is no kind's phrase, so nothing joined
# the code to a request).
SUBJECT_TOPICS = [
    attack(
        f"subject «{subject}» over an invoice request",
        C24,
        plain(subject, f"{INVOICE}{SIGNATURE}"),
        REVIEW,
    )
    for subject in (
        "Faktura + kod",
        "Faktura i kod",
        "Faktura, kod",
        "Invoice + code",
        "Faktura & kod",
        "Fattura e codice",
    )
]

ASKED_OTHERWISE_LEGITIMATE = [
    *(
        legit(
            f"subject «{subject}» over an invoice request",
            plain(subject, f"{INVOICE}{SIGNATURE}"),
            "accepted",
            ("invoice_duplicate",),
        )
        for subject in ("Faktura", "Duplikat faktury", "Prośba o duplikat faktury")
    ),
    *(
        legit(f"«{text.strip()}»", plain("Faktura", text), "accepted", ("invoice_duplicate",))
        for text in (
            "Dzień dobry,\npoproszę o duplikat faktury 11/2026.\n",
            "Dzień dobry,\nczy mogę prosić o duplikat faktury 11/2026?\n",
            "Dzień dobry,\nczy możecie przesłać duplikat faktury 11/2026?\n",
            f"{INVOICE}Czy mogę prosić o szybką odpowiedź?\n",
            f"{INVOICE}Zależy nam na czasie.\n",
            f"{INVOICE}Proszę o kontakt, z góry dziękuję.\n",
            f"{INVOICE}I miłego dnia!\n",
            f"{INVOICE}Też pozdrawiam.\n",
            f"{INVOICE}Dziękuję też.\n",
            "Hi,\nplease send a duplicate of invoice 11/2026.\nAnd have a nice day.\n",
        )
    ),
]
