"""Fail-closed rows of class 1: requests the catalogue does not recognise."""

from __future__ import annotations

from tests.adversarial_mail import Part
from tests.app.decision.fail_closed.rows import (
    C1,
    DOCX,
    FOREIGN,
    OWN_HOLDER,
    OWN_TRANSFER,
    PDF,
    PNG,
    QUOTE_INTRO,
    REVIEW,
    attack,
    plain,
)

UNRECOGNISED = [
    attack(
        "a paraphrase moving the domain to another registrar is never accepted",
        C1,
        plain("Domena", "Proszę przenieść domenę acme.pl do innego rejestratora."),
        OWN_TRANSFER,
    ),
    attack(
        "a request for the authorisation code in other words is never accepted",
        C1,
        plain("Domena acme.pl", "Proszę o przesłanie kodu autoryzacyjnego do domeny acme.pl."),
        OWN_TRANSFER,
    ),
    attack(
        "a request for a transfer code is never accepted",
        C1,
        plain("Prośba", "Poproszę kod transferowy dla acme.pl."),
        OWN_TRANSFER,
    ),
    attack(
        "moving the domain out to another operator in other words is never accepted",
        C1,
        plain("acme.pl", "Chcę wyprowadzić domenę acme.pl do innego operatora."),
        OWN_TRANSFER,
    ),
    attack(
        "an English request for the transfer key is never accepted",
        C1,
        plain("Domain", "Please release acme.pl to my new registrar and send the transfer key."),
        OWN_TRANSFER,
    ),
    attack(
        "a paraphrase re-registering the domain to someone else is never accepted",
        C1,
        plain("Domena", "Proszę przepisać domenę acme.pl na moją żonę, Annę Kowalską."),
        OWN_HOLDER,
    ),
    attack(
        "an English request to change the owner is never accepted",
        C1,
        plain("Owner", "Please change the owner of acme.pl to Example Holdings Ltd."),
        OWN_HOLDER,
    ),
    attack(
        "a request the catalogue does not know is held for review",
        C1,
        plain("Sprawa", "Proszę zrobić to, o czym rozmawialiśmy wczoraj przez telefon."),
        REVIEW,
        checks=(("instruction-kind", "none"),),
    ),
    attack(
        "an English request the catalogue does not know is held for review",
        C1,
        plain("Follow-up", "As agreed on the phone, please go ahead with it today."),
        REVIEW,
        checks=(("instruction-kind", "none"),),
    ),
    attack(
        "a message asking for nothing recognisable is held for review",
        C1,
        plain("Dzień dobry", "Dzień dobry, pozdrawiam serdecznie."),
        REVIEW,
    ),
    attack(
        "a request only in a text attachment is held for review",
        C1,
        plain(
            "Zlecenie",
            "Dzień dobry, przesyłam zlecenie.",
            parts=(
                Part(
                    "Proszę o przeniesienie domeny acme.pl. Kod jednorazowy: {code}",
                    filename="zlecenie.txt",
                ),
            ),
        ),
        REVIEW,
        code=True,
    ),
    attack(
        "a request only in a PDF attachment is held for review",
        C1,
        plain(
            "Zlecenie",
            "Dzień dobry, zlecenie w załączniku.",
            parts=(Part(PDF, "pdf", "application", "zlecenie.pdf"),),
        ),
        REVIEW,
    ),
    attack(
        "a request only in a screenshot is held for review",
        C1,
        plain(
            "Zlecenie",
            "Proszę zrobić to, co na zrzucie ekranu.",
            parts=(Part(PNG, "png", "image", "zrzut.png"),),
        ),
        REVIEW,
    ),
    attack(
        "see attached with an office document is held for review",
        C1,
        plain(
            "Request",
            "Hello, please see attached and proceed.",
            parts=(
                Part(
                    DOCX,
                    "vnd.openxmlformats-officedocument.wordprocessingml.document",
                    "application",
                    "request.docx",
                ),
            ),
        ),
        REVIEW,
    ),
    attack(
        "another customer's request forwarded inline is never accepted",
        C1,
        plain(
            "Fwd: Kod AuthInfo",
            "Proszę o realizację.\n\n---------- Forwarded message ---------\n"
            "From: Ola Nowak <ola@beta.pl>\nSubject: Kod AuthInfo\n\n"
            "Proszę o kod AuthInfo dla beta.pl.\n",
        ),
        FOREIGN,
    ),
    attack(
        "another customer's request forwarded as an attached message is never accepted",
        C1,
        plain(
            "Fwd: Transfer",
            "Przesyłam dalej, proszę o realizację.",
            parts=(
                Part(plain("Transfer", "Proszę o kod AuthInfo dla beta.pl.", sender="ola@beta.pl")),
            ),
        ),
        FOREIGN,
    ),
    attack(
        "as in the subject of a reply is held for review",
        C1,
        plain("Re: Kod AuthInfo dla acme.pl", "Proszę jak w temacie."),
        REVIEW,
    ),
    attack(
        "as in the previous message is held for review",
        C1,
        plain("Domena acme.pl", "Proszę zrobić to samo co w poprzedniej wiadomości."),
        REVIEW,
    ),
    attack(
        "as below pointing at quoted history is held for review",
        C1,
        plain(
            "Re: Domena",
            "Proszę o realizację jak poniżej."
            + QUOTE_INTRO.replace("Ola Nowak <ola@beta.pl>", "Jan Kowalski <jan@acme.pl>")
            + "> Proszę o zmianę abonenta domeny acme.pl\n",
        ),
        REVIEW,
    ),
    attack(
        "as quoted in English is held for review",
        C1,
        plain(
            "Re: Domain",
            "Please do as quoted.\n\nOn Tue, 1 Dec 2026, Jan Kowalski <jan@acme.pl> wrote:\n"
            "> Please transfer the domain acme.pl\n",
        ),
        REVIEW,
    ),
]
