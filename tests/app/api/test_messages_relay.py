"""POST /v1/messages?relay=true: Authentication-Results believed only from our relays."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from sqlalchemy import select

from app.auth import SCOPES, create_token
from app.db.models import Verdict
from app.decision.service import DecisionService
from tests.app.api.common import assert_error, check, load_mail, register, submit

# trusted-authentication-results.eml: on top, mx.hosting.example (our MTA) reports
# SPF, DKIM and DMARC pass for acme.pl.
TRUSTED_RESULTS = "trusted-authentication-results"
FROM_OUR_MTA = {"client_ip": "198.51.100.25", "helo": "mx.hosting.example"}


@pytest.fixture
def trusting_our_mta(service: DecisionService, monkeypatch: pytest.MonkeyPatch) -> None:
    """The live service trusts mx.hosting.example's Authentication-Results, for one test."""
    trust = dataclasses.replace(
        service.trust, trusted_authserv_ids=frozenset({"mx.hosting.example"})
    )
    monkeypatch.setattr(service, "trust", trust)


def token_with(service: DecisionService, *scopes: str) -> dict[str, str]:
    with service.sessions.begin() as session:
        token = create_token(session, "remote receiver", list(scopes))
    return {"Authorization": f"Bearer {token}"}


def test_relay_is_a_scope_and_the_admin_token_holds_it() -> None:
    assert "relay" in SCOPES


def test_without_relay_a_trusted_header_is_the_senders_own_text(
    api: httpx.Client, trusting_our_mta: None
) -> None:
    assert register(api).status_code == 201
    response = submit(api, load_mail(TRUSTED_RESULTS), **FROM_OUR_MTA)
    assert response.status_code == 201, response.text
    verdict = response.json()
    upstream = check(verdict, "upstream-results")
    assert upstream["result"] == "forged"
    assert "came straight from the sending client" in upstream["reason"]
    assert verdict["decision"] == "rejected"
    assert verdict["assurance"] != "authenticated"


def test_with_relay_and_the_scope_our_mtas_header_is_believed(
    api: httpx.Client, service: DecisionService, trusting_our_mta: None
) -> None:
    assert register(api).status_code == 201
    relay = token_with(service, "intake", "relay")
    response = api.post(
        "/v1/messages",
        content=load_mail(TRUSTED_RESULTS),
        headers={"Content-Type": "message/rfc822", **relay},
        params={**FROM_OUR_MTA, "relay": "true"},
    )
    assert response.status_code == 201, response.text
    verdict = response.json()
    assert check(verdict, "upstream-results")["result"] == "pass"
    assert check(verdict, "dmarc")["result"] == "pass"


def test_the_admin_token_may_relay(
    api: httpx.Client, service: DecisionService, trusting_our_mta: None
) -> None:
    assert register(api).status_code == 201
    response = submit(api, load_mail(TRUSTED_RESULTS), relay="true", **FROM_OUR_MTA)
    assert response.status_code == 201, response.text
    assert check(response.json(), "upstream-results")["result"] == "pass"
    # The record says the hop was declared ours.
    with service.sessions() as session:
        wanted = select(Verdict.envelope).where(Verdict.id == response.json()["id"])
        assert session.scalar(wanted)["trusted_hop"] is True


def test_relay_without_the_scope_is_403_and_records_nothing(
    api: httpx.Client, service: DecisionService
) -> None:
    intake_only = token_with(service, "intake")
    response = api.post(
        "/v1/messages",
        content=load_mail(TRUSTED_RESULTS),
        headers={"Content-Type": "message/rfc822", **intake_only},
        params={"relay": "true"},
    )
    assert_error(response, 403, "forbidden", "relay=true needs the scope 'relay'")
    assert api.get("/v1/verdicts").json()["items"] == []


def test_the_relay_scope_alone_does_not_make_a_hop(
    api: httpx.Client, service: DecisionService, trusting_our_mta: None
) -> None:
    # A relay token submitting without relay=true speaks for mail from anyone.
    response = api.post(
        "/v1/messages",
        content=load_mail(TRUSTED_RESULTS),
        headers={"Content-Type": "message/rfc822", **token_with(service, "intake", "relay")},
    )
    assert response.status_code == 201, response.text
    assert check(response.json(), "upstream-results")["result"] == "forged"
