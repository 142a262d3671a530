"""PUT/GET/DELETE /v1/customers/{login} over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

import httpx
from sqlalchemy import select, text

from app.db.models import Customer
from app.decision.service import DecisionService
from tests.app.api.common import ACME, KOWALSKI, NIP, PESEL, REGON, assert_error, register


def test_put_creates_then_replaces(api: httpx.Client) -> None:
    created = register(api)
    assert created.status_code == 201, created.text
    assert created.json()["panel_email"] == "jan@acme.pl"

    replaced = register(api, name="ACME S.A.", services=["acme.pl", "acme.com.pl"])
    assert replaced.status_code == 200, replaced.text
    body = replaced.json()
    assert body["name"] == "ACME S.A."
    assert [s["name"] for s in body["services"]] == ["acme.pl", "acme.com.pl"]
    assert body["created_at"] == created.json()["created_at"]
    assert body["updated_at"] >= created.json()["updated_at"]
    assert api.get("/v1/customers/acme").json() == body


def test_get_shows_identifiers_masked_and_idn_services_both_ways(api: httpx.Client) -> None:
    register(api, nip=NIP, regon=REGON, services=["acme.pl", "ŻÓŁW.pl", "srv-1234"])
    response = api.get("/v1/customers/acme")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["kind"] == "company"
    assert body["nip"] == "*******274"
    assert body["regon"] == "******785"
    assert body["pesel"] is None
    assert body["services"] == [
        {"kind": "domain", "name": "acme.pl", "ascii": "acme.pl"},
        {"kind": "domain", "name": "żółw.pl", "ascii": "xn--w-uga1v8h.pl"},
        {"kind": "server", "name": "srv-1234", "ascii": "srv-1234"},
    ]


def test_a_person_is_shown_with_a_masked_pesel(api: httpx.Client) -> None:
    response = api.put("/v1/customers/anna.k", json=KOWALSKI)
    assert response.status_code == 201, response.text
    assert response.json()["pesel"] == "********359"
    assert api.get("/v1/customers/anna.k").json()["pesel"] == "********359"


def test_identifiers_are_never_in_clear_in_responses_or_the_database(
    api: httpx.Client, service: DecisionService
) -> None:
    responses = [
        api.put("/v1/customers/anna.k", json={**KOWALSKI, "pesel": "440514 01359"}),
        api.get("/v1/customers/anna.k"),
        register(api, nip=NIP, regon=REGON),
        api.get("/v1/customers/acme"),
    ]
    for response in responses:
        assert response.status_code in (200, 201), response.text
        for secret in (PESEL, NIP, REGON, "526-025-02-74"):
            assert secret not in response.text

    with service.sessions() as session:
        rows = session.execute(text("SELECT * FROM customers")).all()
        assert len(rows) == 2
        stored = " ".join(str(value) for row in rows for value in row)
        hashes = session.execute(select(Customer.pesel_hash, Customer.nip_hash)).all()
    for secret in (PESEL, NIP, REGON):
        assert secret not in stored
    # What is kept is a keyed hash (so equal numbers can be matched), not the number.
    assert {len(h) for row in hashes for h in row if h} == {64}


def test_delete_removes_the_customer(api: httpx.Client) -> None:
    register(api)
    response = api.delete("/v1/customers/acme")
    assert response.status_code == 204
    assert response.content == b""
    assert_error(api.get("/v1/customers/acme"), 404, "not_found", "acme")
    assert_error(api.delete("/v1/customers/acme"), 404, "not_found", "acme")


def test_get_of_an_unknown_customer_is_404(api: httpx.Client) -> None:
    assert_error(api.get("/v1/customers/nobody"), 404, "not_found", "no customer", "'nobody'")


def test_a_service_held_by_another_customer_is_a_conflict_naming_the_holder(
    api: httpx.Client,
) -> None:
    register(api)
    beta = {**ACME, "panel_email": "ola@beta.pl", "nip": None, "services": ["beta.pl", "acme.pl"]}
    detail = assert_error(api.put("/v1/customers/beta", json=beta), 409, "conflict")
    assert "acme.pl" in detail
    assert "'acme'" in detail
    # Nothing of the refused request was stored.
    assert_error(api.get("/v1/customers/beta"), 404, "not_found")
    # The IDN written as an A-label is the same service.
    beta["services"] = ["XN--W-UGA1V8H.PL"]
    assert_error(api.put("/v1/customers/beta", json=beta), 409, "conflict", "żółw.pl", "'acme'")


def test_a_service_moves_once_the_first_customer_gives_it_up(api: httpx.Client) -> None:
    register(api)
    beta = {**ACME, "panel_email": "ola@beta.pl", "nip": None, "services": ["żółw.pl"]}
    assert register(api, services=["acme.pl"]).status_code == 200
    moved = api.put("/v1/customers/beta", json=beta)
    assert moved.status_code == 201, moved.text
    assert [s["ascii"] for s in moved.json()["services"]] == ["xn--w-uga1v8h.pl"]
    assert [s["name"] for s in api.get("/v1/customers/acme").json()["services"]] == ["acme.pl"]


def test_services_of_a_deleted_customer_are_free_again(api: httpx.Client) -> None:
    register(api)
    assert api.delete("/v1/customers/acme").status_code == 204
    beta = {**ACME, "panel_email": "ola@beta.pl", "services": ["acme.pl", "żółw.pl"]}
    assert api.put("/v1/customers/beta", json=beta).status_code == 201


def test_panel_email_changed_at_moves_only_when_the_address_changes(api: httpx.Client) -> None:
    first = register(api).json()
    # The same address written differently is not a change.
    same = register(api, panel_email="JAN@ACME.PL", name="ACME S.A.").json()
    assert same["panel_email"] == "jan@acme.pl"
    assert same["panel_email_changed_at"] == first["panel_email_changed_at"]
    assert same["updated_at"] >= first["updated_at"]

    changed = register(api, panel_email="biuro@acme.pl").json()
    assert changed["panel_email"] == "biuro@acme.pl"
    assert _at(changed["panel_email_changed_at"]) > _at(first["panel_email_changed_at"])
    again = register(api, panel_email="biuro@acme.pl").json()
    assert again["panel_email_changed_at"] == changed["panel_email_changed_at"]


def test_a_customer_is_committed_before_the_response(
    api: httpx.Client, service: DecisionService
) -> None:
    # Another replica reading right after a 201 must see what was acknowledged.
    for n in range(15):
        login = f"customer{n}"
        response = register(api, login, services=[f"domain{n}.pl"])
        assert response.status_code == 201, response.text
        with service.sessions() as session:
            stored = session.scalar(select(Customer.login).where(Customer.login == login))
        assert stored == login


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)
