"""GET /v1/customers?service=: who holds a service, for the desk and ticketing systems."""

from __future__ import annotations

import httpx
import pytest

from app.decision.service import DecisionService
from tests.app.api.common import KOWALSKI, assert_error, register
from tests.app.api.test_auth import token_with


@pytest.mark.parametrize("spelling", ["żółw.pl", "xn--w-uga1v8h.pl", "ŻÓŁW.pl."])
def test_the_holder_of_a_service_with_the_panel_address_in_full(
    anonymous: httpx.Client, api: httpx.Client, service: DecisionService, spelling: str
) -> None:
    assert register(api).status_code == 201
    assert register(api, "kowalska", **KOWALSKI).status_code == 201
    reader = token_with(service, "registry:read")
    response = anonymous.get("/v1/customers", params={"service": spelling}, headers=reader)
    assert response.status_code == 200, response.text
    [holder] = response.json()["items"]
    assert holder["login"] == "acme"
    assert holder["panel_email"] == "jan@acme.pl"
    assert holder["nip"] == "*******274"
    assert [s["name"] for s in holder["services"]] == ["acme.pl", "żółw.pl"]


def test_a_service_nobody_holds_lists_nobody(api: httpx.Client) -> None:
    assert register(api).status_code == 201
    for name in ("nikt.pl", "www.acme.pl", "acme"):
        response = api.get("/v1/customers", params={"service": name})
        assert response.status_code == 200, response.text
        assert response.json() == {"items": []}, name


def test_finding_a_holder_needs_registry_read(
    anonymous: httpx.Client, api: httpx.Client, service: DecisionService
) -> None:
    assert register(api).status_code == 201
    response = anonymous.get(
        "/v1/customers", params={"service": "acme.pl"}, headers=token_with(service, "verdicts:read")
    )
    assert_error(response, 403, "forbidden", "registry:read")
    assert_error(anonymous.get("/v1/customers", params={"service": "acme.pl"}), 401, "unauthorized")


@pytest.mark.parametrize(
    ("params", "mention"),
    [
        pytest.param({}, "query.service", id="no service"),
        pytest.param({"service": ""}, "query.service", id="an empty service"),
        pytest.param({"service": "a..pl"}, "not a valid domain name", id="a malformed domain"),
        pytest.param({"service": "acme.pl", "login": "acme"}, "query.login", id="an unknown one"),
    ],
)
def test_a_malformed_question_is_422(
    api: httpx.Client, params: dict[str, str], mention: str
) -> None:
    response = api.get("/v1/customers", params=params)
    assert response.status_code == 422, response.text
    assert mention in response.text
