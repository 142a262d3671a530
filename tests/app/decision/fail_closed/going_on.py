"""Fail-closed rows of classes 26 and 27: a request going on from the recognised one in a
sentence or clause of its own ("A także kod.", "Faktura oraz kod"), and one asked in a
language of ASCII letters the request lists held no word of."""

from __future__ import annotations

from tests.adversarial_mail import Mail
from tests.app.decision.fail_closed.rows import (
    OWN_TRANSFER,
    REVIEW,
    attack,
    legit,
    metamorphic_rows,
    plain,
)

C26 = "class 26 (a request going on from the recognised one, in words of addition)"
C27 = "class 27 (a request in a language of ASCII letters the lists held no word of)"
INVOICE = "Dzień dobry,\nproszę o duplikat faktury 11/2026 za acme.pl."
SIGNATURE = "\n\nPozdrawiam\nJan Kowalski\n"


def _after_invoice(sentence: str) -> list[tuple[str, Mail]]:
    """``sentence`` after acme's invoice request: on a line of its own, on the request's."""
    return [
        ("on a line of its own", plain("Faktura", f"{INVOICE}\n{sentence}{SIGNATURE}")),
        ("on the request's line", plain("Faktura", f"{INVOICE} {sentence}{SIGNATURE}")),
    ]


# Each ended accepted on main: the invoice request recognised, and the sentence going
# on from it read as asking nothing (no request word, and a joining word the reader did
# not know).
GOING_ON = [
    attack(f"«{sentence}» {where}", C26, mail, REVIEW)
    for sentence in (
        "A także kod.",
        "A kod również.",
        "Jak i kod.",
        "Ponadto kod.",
        "Poza tym kod do domeny.",
        "Dodatkowo kod.",
        "Przy okazji kod.",
        "Jeszcze kod.",
        "As well as the code.",
        "Too the code, thanks.",
        "Besides, the code.",
        "In addition the transfer code.",
        "The code as well.",
        "Kwiaty tak samo.",
    )
    for where, mail in _after_invoice(sentence)
]

# A clause joined to the recognised one by "+", "&" or a conjunction, asking for no
# more in words of its own ("Duplikat faktury + kod").
JOINED = [
    attack(f"«{text}»", C26, plain("Faktura", f"Dzień dobry,\n{text}{SIGNATURE}"), REVIEW)
    for text in (
        "Duplikat faktury + kod.",
        "Duplikat faktury & kod.",
        "Duplikat faktury i kod.",
        "Duplikat faktury oraz kod.",
        "Duplikat faktury plus kod AuthInfo.",
        "Duplikat faktury i dane do przelewu.",
    )
] + [
    attack(f"the subject «{subject}»", C26, plain(subject, f"{INVOICE}{SIGNATURE}"), REVIEW)
    for subject in ("Duplikat faktury + kod", "Duplikat faktury oraz kod")
]

# Each ended accepted on main: the invoice request recognised, the sentence beside it
# in words the request lists did not hold.
LANGUAGES = [
    attack(f"«{sentence}» beside an invoice request", C27, mail, REVIEW)
    for sentence in (
        # Swahili, Tagalog, Lithuanian, Estonian and Vietnamese without their marks.
        "Tafadhali tuma msimbo wa uhamisho pia.",
        "Pakipadala rin ang code ng paglipat.",
        "Atsiuskite ir perkelimo koda.",
        "Palun saatke ka ulekandekood.",
        "Gui ma chuyen nhuong nua.",
        # A code compounded with the word for what it is for.
        "Send ogsa overforselskoden.",
        "En de verhuiscode graag.",
        # Turkish and Polish without diacritics.
        "Lutfen transfer kodunu da gonderin.",
        "Agencja tez prosi o kod.",
    )
    for where, mail in _after_invoice(sentence)[:1]
]

# One request going on from the invoice request, written with each joining word: each
# is read (the sender's own AuthInfo request asks for the code) or held.
METAMORPHIC_GOING_ON = metamorphic_rows(
    "kod AuthInfo",
    [
        lambda payload: [
            (f"after «{joiner}»", plain("Faktura", f"{INVOICE}\n{joiner} {payload}.{SIGNATURE}"))
            for joiner in ("A także", "Ponadto", "Dodatkowo", "Poza tym", "Jak i", "Oraz", "I")
        ],
        lambda payload: [
            (f"before «{joiner}»", plain("Faktura", f"{INVOICE}\n{payload} {joiner}.{SIGNATURE}"))
            for joiner in ("też", "także", "również", "tak samo")
        ],
    ],
    OWN_TRANSFER,
)

GOING_ON_LEGITIMATE = [
    legit(f"«{text.strip()}»", plain("Faktura", text), "accepted", ("invoice_duplicate",))
    for text in (
        f"{INVOICE}\nDziękuję również za szybką pomoc.\n",
        f"{INVOICE}\nJeszcze raz dziękuję.\n",
        f"{INVOICE}\nPozdrawiam również księgowość.\n",
        "Dzień dobry,\nproszę o duplikat faktury 11/2026 oraz fakturę korygującą 12/2026.\n",
        "Dzień dobry,\nduplikat faktury 11/2026, domena acme.pl.\n",
        "Hi,\nplease send a duplicate of invoice 11/2026.\nAlso, thanks for the quick help.\n",
    )
]
