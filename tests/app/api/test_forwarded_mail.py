"""Forwarded mail end to end: a trusted ARC sealer lets a customer's message authenticate."""

from __future__ import annotations

import dataclasses
from email.utils import formatdate, make_msgid

import httpx
import pytest

from app.decision.service import DecisionService
from fixtures.generators.arc_dmarc import forwarded
from tests.app.api.common import check, register, submit

# How the list delivers to us: from its own server, with its own bounce address.
FROM_THE_LIST = {
    "client_ip": "203.0.113.50",
    "helo": "lists.example",
    "mail_from": "klienci-bounces@lists.example",
    "rcpt": "support@hosting.example",
}


@pytest.fixture
def trusting_lists_example(service: DecisionService, monkeypatch: pytest.MonkeyPatch) -> None:
    """The live service trusts lists.example as an ARC sealer, for one test."""
    trust = dataclasses.replace(service.trust, trusted_arc_sealers=frozenset({"lists.example"}))
    monkeypatch.setattr(service, "trust", trust)


def fresh_forwarded_message() -> bytes:
    """Jan's question, forwarded and sealed by lists.example now (Date and seal current)."""
    return forwarded("lists.example", formatdate(), make_msgid(domain="acme.pl"))


def test_a_customer_forwarded_by_a_trusted_sealer_is_authenticated(
    api: httpx.Client, trusting_lists_example: None
) -> None:
    assert register(api).status_code == 201
    response = submit(api, fresh_forwarded_message(), **FROM_THE_LIST)
    assert response.status_code == 201, response.text
    verdict = response.json()
    assert verdict["customer"] == "acme"
    assert verdict["assurance"] == "authenticated", verdict["checks"]
    # A question about the service needs exactly that.
    assert verdict["decision"] == "accepted", verdict["reasons"]
    assert check(verdict, "arc")["result"] == "pass"
    dmarc = check(verdict, "dmarc")
    assert dmarc == {
        "name": "dmarc",
        "result": "pass",
        "reason": "DMARC passes for acme.pl, rescued by the trusted ARC sealer lists.example: "
        "upstream DKIM pass for acme.pl (DMARC record at _dmarc.acme.pl).",
    }


def test_the_same_message_from_an_untrusted_sealer_is_not(api: httpx.Client) -> None:
    assert register(api).status_code == 201
    response = submit(api, fresh_forwarded_message(), **FROM_THE_LIST)
    assert response.status_code == 201, response.text
    verdict = response.json()
    assert verdict["assurance"] == "asserted"
    assert verdict["decision"] == "rejected"
    assert check(verdict, "arc")["result"] == "untrusted"
    assert check(verdict, "dmarc")["result"] == "reject"
