"""Another customer named by company or person name, from message to decision, on both stores."""

from __future__ import annotations

import dataclasses

import pytest

from app.decision.service import DecisionService
from app.registry.customers import CustomerData
from app.verdict_types import Verdict as VerdictJson
from mailhook.message import Channel, parse_message
from tests.app.decision.test_instruction_decisions import (
    ACME,
    FROM_ACME,
    html_only,
    plain,
    register,
)

# The sender (acme, "ACME sp. z o.o.", jan@acme.pl: SPF and DMARC pass) and customers
# it may name: companies with and without a one-word name, persons, and names made of
# words every message uses.
OTHERS = {
    "beta": CustomerData("ola@beta.pl", "company", "Beta sp. z o.o.", ("beta.pl",)),
    "nowak": CustomerData("ola@nowak.example", "person", "Ola Nowak", ("olanowak.pl",)),
    "wojcik": CustomerData("lw@wojcik.example", "person", "Łucja Wójcik"),
    "kwiatex": CustomerData("biuro@kwiatex.example", "company", "Kwiatex S.A.", ("kwiatex.pl",)),
    "zielony": CustomerData("zo@zielony.example", "company", "Zielony Ogród sp.j."),
    "dane": CustomerData("d@dane.example", "company", "Dane sp. z o.o."),
    "listopad": CustomerData("l@listopad.example", "company", "Listopad sp. z o.o."),
    "faktura": CustomerData("f@faktura.example", "company", "Faktura sp. z o.o."),
    "max": CustomerData("m@max.example", "company", "MAX S.A."),
}
ASK = "Proszę o duplikat faktury {} za listopad."


def registered(service: DecisionService, sender: CustomerData = ACME) -> DecisionService:
    register(service, "acme", sender)
    for login, data in OTHERS.items():
        register(service, login, data)
    return service


def submit(service: DecisionService, raw: bytes) -> VerdictJson:
    return service.submit(parse_message(raw, FROM_ACME, Channel.API))


def result_of(verdict: VerdictJson, check: str = "named-customer") -> str | None:
    return next((c["result"] for c in verdict["checks"] if c["name"] == check), None)


def asking(name: str) -> bytes:
    return plain("Faktura", ASK.format(name))


NAMED_OTHER = [
    pytest.param(asking("dla Beta sp. z o.o."), "beta", id="a company name as registered"),
    pytest.param(asking("dla BETA SP. Z O.O."), "beta", id="in capitals"),
    pytest.param(asking("dla beta sp. z o.o."), "beta", id="in lower case before its form"),
    pytest.param(asking("dla Beta Sp.z o.o."), "beta", id="the form written without spaces"),
    pytest.param(asking("dla Beta sp. z o. o."), "beta", id="the form with spaced dots"),
    pytest.param(
        asking("dla Beta spółka z ograniczoną odpowiedzialnością"),
        "beta",
        id="the form written out",
    ),
    pytest.param(
        asking("dla Beta spolka z ograniczona odpowiedzialnoscia"),
        "beta",
        id="the form written out without diacritics",
    ),
    pytest.param(asking("dla Beta S.A."), "beta", id="another form than the registered one"),
    pytest.param(asking("dla firmy Beta"), "beta", id="without its form, within a sentence"),
    pytest.param(asking("dla firmy „Beta”"), "beta", id="in Polish quotation marks"),
    pytest.param(asking('dla firmy "beta"'), "beta", id="in straight quotes, lower case"),
    pytest.param(asking("dla firmy «Beta»"), "beta", id="in guillemets"),
    pytest.param(
        plain("Invoice", "Please send a duplicate invoice for BETA Ltd."),
        "beta",
        id="in English with an English form",
    ),
    pytest.param(asking("dla Beta\nsp. z o.o."), "beta", id="split over a line break"),
    pytest.param(
        html_only("Faktura", f"<p>{ASK.format('dla <b>Beta</b> sp.&nbsp;z&nbsp;o.o.')}</p>"),
        "beta",
        id="inside HTML markup",
    ),
    pytest.param(
        plain("Faktura dla Beta sp. z o.o.", "Proszę o duplikat faktury za listopad."),
        "beta",
        id="in the subject",
    ),
    pytest.param(asking("dla Ola Nowak"), "nowak", id="a person's first and last name"),
    pytest.param(asking("dla Nowak Ola"), "nowak", id="a person's last and first name"),
    pytest.param(asking("dla OLA NOWAK"), "nowak", id="a person's name in capitals"),
    pytest.param(asking("dla Ola\nNowak"), "nowak", id="a person's name over a line break"),
    pytest.param(asking("dla Lucja Wojcik"), "wojcik", id="a person's name without diacritics"),
    pytest.param(asking("dla ŁUCJA WÓJCIK"), "wojcik", id="a person's name with them, in capitals"),
    pytest.param(asking("dla Kwiatex"), "kwiatex", id="a distinctive one-word name alone"),
    pytest.param(asking("dla Zielony Ogród"), "zielony", id="a two-word name without its form"),
    pytest.param(asking("dla Zielony Ogrod Sp. J."), "zielony", id="with its form, no diacritics"),
    pytest.param(
        asking("dla ACME sp. z o.o. oraz dla Beta sp. z o.o."),
        "beta",
        id="beside the sender's own name",
    ),
]


@pytest.mark.parametrize(("raw", "other"), NAMED_OTHER)
def test_another_customer_named_by_name_is_held_for_review(
    service: DecisionService, raw: bytes, other: str
) -> None:
    verdict = submit(registered(service), raw)
    assert verdict["instruction"]["kinds"] == ["invoice_duplicate"], verdict["reasons"]
    assert result_of(verdict) == "other", verdict["checks"]
    assert verdict["decision"] == "review", verdict["reasons"]
    reason = next(c["reason"] for c in verdict["checks"] if c["name"] == "named-customer")
    assert f"is the name of customer {other}." in reason
    # Whom it names, by login; nothing the registry holds about that customer.
    data = OTHERS[other]
    texts = " ".join([*verdict["reasons"], *(c["reason"] for c in verdict["checks"])])
    assert data.panel_email not in texts
    assert not any(service in texts for service in data.services)


LEGITIMATE = [
    pytest.param(asking("dla ACME sp. z o.o."), ACME, "pass", id="the sender's own company name"),
    pytest.param(asking("dla Acme"), ACME, "pass", id="the sender's own name without its form"),
    pytest.param(
        asking("dla Jan Kowalski"),
        dataclasses.replace(ACME, kind="person", name="Jan Kowalski"),
        "pass",
        id="the sender's own person name",
    ),
    pytest.param(
        plain("Faktura", ASK.format("") + "\n\nPozdrawiam,\nJan Kowalski\nACME sp. z o.o."),
        dataclasses.replace(ACME, name="ACME sp. z o.o."),
        "pass",
        id="the sender's own name in the signature",
    ),
    pytest.param(asking("dla Gamma sp. z o.o."), ACME, "none", id="a company nobody registered"),
    pytest.param(asking("dla Anna Zielińska"), ACME, "none", id="a person nobody registered"),
    pytest.param(
        plain("Dane", "Proszę o duplikat faktury.\nDane na fakturze są poprawne."),
        ACME,
        "none",
        id="a registered one-word name starting sentences",
    ),
    pytest.param(
        plain("Faktura", "Proszę o duplikat faktury za listopad."),
        ACME,
        "none",
        id="a registered one-word name as a word in lower case",
    ),
    pytest.param(
        plain("Faktura", "Proszę o duplikat faktury. Faktura za listopad nie dotarła."),
        ACME,
        "none",
        id="a generic word registered as a company's name",
    ),
    pytest.param(
        plain("Faktura", "Proszę o duplikat faktury, kwota to MAX 100 zł."),
        ACME,
        "none",
        id="a three-letter name in capitals",
    ),
    pytest.param(
        plain("Faktura", "Proszę o duplikat faktury, nowy ogród zielony kwitnie."),
        ACME,
        "none",
        id="a two-word name as ordinary lower-case words",
    ),
]


@pytest.mark.parametrize(("raw", "sender", "result"), LEGITIMATE)
def test_a_legitimate_name_leaves_the_decision_as_it_was(
    service: DecisionService, raw: bytes, sender: CustomerData, result: str
) -> None:
    verdict = submit(registered(service, sender), raw)
    assert verdict["instruction"]["kinds"] == ["invoice_duplicate"], verdict["reasons"]
    assert result_of(verdict) == (None if result == "none" else result), verdict["checks"]
    assert verdict["decision"] == "accepted", verdict["reasons"]


@pytest.mark.parametrize(
    ("sender", "other", "written", "result"),
    [
        pytest.param(
            "Jan Kowalski",
            "Jan Kowalski",
            "Jan Kowalski",
            None,
            id="two persons of one name: the sender's own name is fine",
        ),
        pytest.param(
            "Beta sp. z o.o.",
            "Beta S.A.",
            "Beta sp. z o.o.",
            None,
            id="the sender's own name with its form is fine beside another form",
        ),
        pytest.param(
            "Beta sp. z o.o.",
            "Beta S.A.",
            "Beta S.A.",
            "other",
            id="the other customer's form names the other customer",
        ),
        pytest.param(
            "Beta sp. z o.o.",
            "Beta S.A.",
            "firmy Beta",
            "other",
            id="without a form it may be either",
        ),
    ],
)
def test_a_name_two_customers_share(
    service: DecisionService, sender: str, other: str, written: str, result: str | None
) -> None:
    """One of them the sender: fine only as the sender's own name written exactly."""
    kind = "company" if "." in sender else "person"
    register(service, "acme", dataclasses.replace(ACME, kind=kind, name=sender))
    register(service, "twin", CustomerData("twin@twin.example", kind, other, ("twin.pl",)))
    verdict = submit(service, asking(f"dla {written}"))
    if result is None:
        assert result_of(verdict) == "pass", verdict["checks"]
        assert verdict["decision"] == "accepted", verdict["reasons"]
    else:
        assert result_of(verdict) == result, verdict["checks"]
        assert verdict["decision"] == "review", verdict["reasons"]


# Legitimate messages that give the sender's own name, and the names of other customers
# it may be replaced with: the same message then names someone else.
TEMPLATES = [
    ("Faktura", "Proszę o duplikat faktury dla {name} za listopad."),
    ("Faktura dla {name}", "Proszę o duplikat faktury za październik."),
    ("Pytanie", "Do kiedy opłacona jest domena acme.pl? Pytam w imieniu {name}."),
    ("Invoice", "Please send a duplicate invoice.\n\nBest regards,\nJan\n{name}"),
]
REPLACEMENTS = ["Beta sp. z o.o.", "Ola Nowak", "KWIATEX S.A.", "„Zielony Ogród”"]


@pytest.mark.parametrize(("subject", "body"), TEMPLATES)
def test_the_sender_s_own_name_replaced_by_another_s_flips_to_review(
    service: DecisionService, subject: str, body: str
) -> None:
    registered(service)
    own = submit(
        service, plain(subject.format(name="ACME sp. z o.o."), body.format(name="ACME sp. z o.o."))
    )
    assert own["decision"] == "accepted", own["reasons"]
    for name in REPLACEMENTS:
        raw = plain(subject.format(name=name), body.format(name=name))
        other = submit(service, raw)
        assert other["instruction"] == own["instruction"], name
        assert result_of(other) == "other", (name, other["checks"])
        assert other["decision"] == "review", (name, other["reasons"])
