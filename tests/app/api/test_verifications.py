"""POST /v1/verifications over real HTTP: phone and chat callers against registry and codes."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest

from app.db.models import Verification
from app.decision.service import DecisionService
from app.registry.codes import MAX_FAILED_ATTEMPTS
from tests.app.api.common import ACME, KOWALSKI, NIP, PESEL, assert_error, register
from tests.app.api.test_auth import token_with

OTHER_PESEL = "02070803628"


def verify(api: httpx.Client, **body: Any) -> dict[str, Any]:
    response = api.post(
        "/v1/verifications", json={"channel": "phone", "agent": "agent.ola", **body}
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    assert set(result) == {"id", "stage", "customer", "reasons", "recorded_at"}
    return result


def code_for(api: httpx.Client, login: str = "acme") -> str:
    response = api.post(f"/v1/customers/{login}/codes")
    assert response.status_code == 201, response.text
    code: str = response.json()["code"]
    return code


@pytest.fixture
def registry(api: httpx.Client) -> httpx.Client:
    assert register(api).status_code == 201
    assert register(api, "kowalska", **KOWALSKI).status_code == 201
    return api


def test_service_and_matching_pesel_identify_the_caller(
    registry: httpx.Client, service: DecisionService, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        result = verify(registry, service="kowalska.pl", pesel=PESEL, channel="chat")
    assert result["stage"] == "identified"
    assert result["customer"] == "kowalska"
    matched = "The PESEL given matches the one registered for customer kowalska"
    assert matched in result["reasons"][0]
    assert "any change needs the login and a one-time code" in result["reasons"][-1]
    # The number is nowhere: not in the answer, the record or the log.
    assert PESEL not in json.dumps(result)
    assert PESEL not in caplog.text
    with service.sessions() as session:
        row = session.query(Verification).one()
        assert row.identifier_kind == "pesel" and row.stage == "identified"
        assert row.channel == "chat" and row.agent == "agent.ola"
        assert PESEL not in json.dumps([str(getattr(row, c.key)) for c in row.__table__.c])


def test_nip_written_with_dashes_identifies_a_company(registry: httpx.Client) -> None:
    result = verify(registry, service="ACME.PL", nip=ACME["nip"])
    assert result["stage"] == "identified"
    assert result["customer"] == "acme"
    assert "The NIP given matches" in result["reasons"][0]
    assert NIP not in json.dumps(result)


def test_a_wrong_identifier_identifies_no_one(registry: httpx.Client) -> None:
    result = verify(registry, service="kowalska.pl", pesel=OTHER_PESEL)
    assert result["stage"] == "none"
    assert (
        "does not match the one registered for the customer who holds kowalska.pl"
        in (result["reasons"][0])
    )
    assert "not identified for kowalska.pl" in result["reasons"][-1]
    assert OTHER_PESEL not in json.dumps(result)


def test_an_invalid_number_and_an_unregistered_kind_are_explained(registry: httpx.Client) -> None:
    bad = verify(registry, service="kowalska.pl", pesel="44051401358")
    assert bad["stage"] == "none"
    assert "The PESEL given is not a valid number (wrong length or checksum)" in bad["reasons"][0]
    assert "44051401358" not in json.dumps(bad)
    unregistered = verify(registry, service="acme.pl", pesel=PESEL)
    assert unregistered["stage"] == "none"
    assert (
        "No PESEL is registered for the customer who holds acme.pl" in (unregistered["reasons"][0])
    )


def test_an_unknown_service_is_stage_none(registry: httpx.Client) -> None:
    result = verify(registry, service="nieznana.pl", pesel=PESEL)
    assert result == {**result, "stage": "none", "customer": None}
    assert result["reasons"] == [
        "The service nieznana.pl is not in the registry; ask the caller which service they "
        "mean and check its spelling."
    ]


def test_login_and_a_valid_code_authorize_once(registry: httpx.Client) -> None:
    code = code_for(registry)
    result = verify(registry, service="acme.pl", login="acme", code=code.replace("-", ""))
    assert result["stage"] == "authorized"
    assert result["customer"] == "acme"
    assert "valid for customer acme" in result["reasons"][0]
    assert "The caller is authorized for customer acme" in result["reasons"][-1]
    again = verify(registry, service="acme.pl", login="acme", code=code)
    assert again["stage"] == "none"
    assert "has already been used" in again["reasons"][0]


def test_identified_with_a_wrong_code_stays_identified(registry: httpx.Client) -> None:
    code_for(registry)
    result = verify(registry, service="acme.pl", nip=NIP, login="acme", code="0000 0001")
    assert result["stage"] == "identified"
    assert "is not a code issued to this customer" in result["reasons"][1]


def test_a_login_that_does_not_hold_the_service_is_not_checked(registry: httpx.Client) -> None:
    code = code_for(registry, "kowalska")
    result = verify(registry, service="acme.pl", login="kowalska", code=code)
    assert result["stage"] == "none"
    assert "The login kowalska does not hold acme.pl" in result["reasons"][0]
    assert "The one-time code was not checked" in result["reasons"][1]
    # Not used: still good for its own service.
    assert verify(registry, service="kowalska.pl", login="kowalska", code=code)["stage"] == (
        "authorized"
    )


def test_guessing_codes_by_phone_locks_code_checking(registry: httpx.Client) -> None:
    code = code_for(registry)
    for _ in range(MAX_FAILED_ATTEMPTS):
        result = verify(registry, service="acme.pl", login="acme", code="9999-9990")
        assert "is not a code issued to this customer" in result["reasons"][0]
    locked = verify(registry, service="acme.pl", login="acme", code=code, channel="chat")
    assert locked["stage"] == "none"
    assert "locked after 5 wrong codes within the hour" in locked["reasons"][0]


def test_the_lockout_is_shared_with_mail(registry: httpx.Client) -> None:
    from tests.app.api.test_codes import transfer

    code = code_for(registry)
    for _ in range(MAX_FAILED_ATTEMPTS):
        verify(registry, service="acme.pl", login="acme", code="9999-9990")
    verdict = transfer(registry, code)
    assert [c["result"] for c in verdict["checks"] if c["name"] == "one-time-code"] == ["locked"]


@pytest.mark.parametrize(
    ("body", "mention"),
    [
        ({"service": "acme.pl", "pesel": PESEL, "nip": NIP}, "give one identifier"),
        ({"service": "acme.pl", "code": "1234-5678"}, "together with the login"),
        ({"service": "acme.pl", "login": "acme", "code": "1234"}, "8 digits"),
        ({"service": "acme.pl", "email": "x@y.pl"}, "email"),
        ({"service": "acme.pl", "channel": "fax"}, "channel"),
        ({"service": "ex ample"}, "neither a domain name nor a server id"),
    ],
)
def test_bad_requests_are_422(registry: httpx.Client, body: dict[str, Any], mention: str) -> None:
    response = registry.post(
        "/v1/verifications", json={"channel": "phone", "agent": "agent.ola", **body}
    )
    assert response.status_code == 422, response.text
    assert mention in response.text
    assert PESEL not in response.text


def test_verifying_needs_the_review_scope(
    registry: httpx.Client, anonymous: httpx.Client, service: DecisionService
) -> None:
    body = {"channel": "phone", "agent": "a", "service": "acme.pl"}
    panel = token_with(service, "codes:issue")
    assert_error(anonymous.post("/v1/verifications", json=body, headers=panel), 403, "forbidden")
    reviewer = token_with(service, "review")
    assert anonymous.post("/v1/verifications", json=body, headers=reviewer).status_code == 201
