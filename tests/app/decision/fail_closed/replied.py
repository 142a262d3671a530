"""Fail-closed rows of class 19: a request only in the subject of the message replied to.

Someone sends the customer "Zmiana rekordów DNS domeny acme.pl — proszę potwierdzić" with
Reply-To naming the desk; the customer answers "Tak, potwierdzam" from their own,
authenticated address. The request is the first message's words, whoever wrote them:
an agent confirms what the customer wants (instruction-text points-elsewhere).
"""

from __future__ import annotations

from tests.app.decision.fail_closed.rows import REVIEW, attack, html, legit, plain

C19 = "class 19 (a request only in the subject of the message replied to)"
QUOTED = "\n\n> Prosimy o potwierdzenie zmiany.\n"
ANSWERS = ("Tak, potwierdzam.", "OK", "Dziękuję, zgoda.", "Yes, confirmed.")
SUBJECTS = (
    "Re: Zmiana rekordów DNS domeny acme.pl",
    "RE: Zmiana adresu korespondencyjnego",
    "Odp: Rezygnacja z hostingu acme.pl",
    "AW: Re: Duplikat faktury za acme.pl",
)

REPLIED = [
    *(
        attack(f"«{answer}» under «{subject}»", C19, plain(subject, answer + QUOTED), REVIEW)
        for subject in SUBJECTS
        for answer in ANSWERS[:2]
    ),
    *(
        attack(f"«{answer}» in HTML under «{SUBJECTS[0]}»", C19, html(SUBJECTS[0], answer), REVIEW)
        for answer in ANSWERS[2:]
    ),
    legit(
        "a reply that asks in its own words",
        plain("Re: Duplikat faktury", "Dzień dobry,\nproszę o duplikat faktury za acme.pl.\n"),
        "accepted",
        ("invoice_duplicate",),
    ),
]
