"""Erasing a customer empties the answers kept under an Idempotency-Key about them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest
from alembic import command
from sqlalchemy import func, insert, inspect, select, update

from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.db.models import AuditEntry, IdempotencyKey, table_of
from app.decision.service import DecisionService
from app.records.erasure import ANY_CUSTOMER
from tests.app.api.common import KOWALSKI, assert_error, register, submit
from tests.app.api.test_reviews import FROM_ACME, verdict
from tests.app.delivery.test_webhooks import (  # noqa: F401 (fixtures used by name)
    hooks_fixture,
    hooks_server_fixture,
)
from tests.app.records.test_audit import alembic_config
from tests.support import make_message

ERASE = {"agent": "agent.ola", "reason": "The customer asked, ticket 123."}
# Sends one POST whose answer is about ACME, always the same request.
Send = Callable[[dict[str, str]], httpx.Response]


def _key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def _review(api: httpx.Client) -> Send:
    target = verdict(api, "otp_required")["id"]
    body = {"decision": "accepted", "agent": "agent.ola", "reason": "Confirmed by phone."}
    return lambda key: api.post(f"/v1/verdicts/{target}/review", json=body, headers=key)


def _action(api: httpx.Client) -> Send:
    target = verdict(api, "accepted")["id"]
    body = {
        "agent": "agent.ola",
        "action": "contact_changed",
        "details": "Panel address of acme.pl changed.",
        "login": "acme",
    }
    return lambda key: api.post(f"/v1/verdicts/{target}/actions", json=body, headers=key)


def _documents(api: httpx.Client) -> Send:
    register(api)
    raw = make_message(sender="jan@acme.pl", subject="Cesja domeny acme.pl", body="Prosze.\n")
    target = submit(api, raw, **FROM_ACME).json()["id"]
    body = {
        "agent": "agent.ola",
        "checked": {"name": True, "address": False, "signature_or_stamp": True},
        "note": "Signed by Jan Kowalski, Warszawa.",
    }
    return lambda key: api.post(f"/v1/verdicts/{target}/documents", json=body, headers=key)


def _code(api: httpx.Client) -> Send:
    register(api)
    return lambda key: api.post("/v1/customers/acme/codes", headers=key)


def _verification(api: httpx.Client) -> Send:
    register(api)
    call = {"channel": "phone", "service": "acme.pl", "agent": "agent.ola", "nip": "5260250274"}
    return lambda key: api.post("/v1/verifications", json=call, headers=key)


ABOUT_ACME = [
    pytest.param(_review, id="a review of ACME's verdict"),
    pytest.param(_action, id="an action under ACME's verdict"),
    pytest.param(_documents, id="documents received for ACME's verdict"),
    pytest.param(_code, id="a one-time code issued to ACME"),
    pytest.param(_verification, id="a phone verification that found ACME"),
]


def _erase(api: httpx.Client, login: str = "acme") -> dict[str, object]:
    erased = api.post(f"/v1/customers/{login}/erasure", json=ERASE)
    assert erased.status_code == 201, erased.text
    body: dict[str, object] = erased.json()
    return body


def _entries(service: DecisionService) -> int:
    with service.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def _responses(service: DecisionService) -> list[tuple[int, str]]:
    with service.sessions() as session:
        rows = session.execute(select(IdempotencyKey.status, IdempotencyKey.response))
        return [(row.status, row.response) for row in rows]


@pytest.mark.parametrize("prepare", ABOUT_ACME)
def test_a_retry_after_the_customer_is_erased_is_410_and_records_nothing(
    api: httpx.Client, service: DecisionService, prepare: Callable[[httpx.Client], Send]
) -> None:
    send = prepare(api)
    key = _key()
    first = send(key)
    assert first.status_code == 201, first.text
    assert send(key).json() == first.json()  # kept until the erasure
    assert _erase(api)["idempotency_answers_erased"] == 1
    assert _responses(service) == [(410, "")]
    recorded = _entries(service)
    again = send(key)
    assert_error(again, 410, "idempotency_answer_erased", "erased", "not recorded again")
    assert "acme" not in again.text
    assert _entries(service) == recorded


def test_another_request_under_an_erased_answer_key_is_still_409(
    api: httpx.Client, service: DecisionService
) -> None:
    send = _action(api)
    key = _key()
    assert send(key).status_code == 201
    _erase(api)
    target = verdict(api, "accepted")["id"]
    body = {"agent": "agent.ola", "action": "x", "details": "y", "login": "acme"}
    other = api.post(f"/v1/verdicts/{target}/actions", json=body, headers=key)
    assert_error(other, 409, "idempotency_key_reused")


def test_answers_about_another_customer_or_no_customer_survive_the_erasure(
    hooks: httpx.Client, service: DecisionService
) -> None:
    # A client of an API that lets a webhook be subscribed, on the same store.
    api = hooks
    assert register(api, "kowalska", **KOWALSKI).status_code == 201
    acme = _code(api)
    acme_key = _key()
    assert acme(acme_key).status_code == 201
    kowalska_key = _key()
    kowalska = api.post("/v1/customers/kowalska/codes", headers=kowalska_key)
    assert kowalska.status_code == 201, kowalska.text
    hook = {"url": "https://127.0.0.1:9/hook", "events": ["verdict.recorded"]}
    hook_key = _key()
    created = api.post("/v1/webhooks", json=hook, headers=hook_key)
    assert created.status_code == 201, created.text
    unmatched = verdict(api, "review")["id"]
    assert unmatched and verdict(api, "review")["customer"] is None
    review = {"decision": "rejected", "agent": "agent.ola", "reason": "Nobody we know."}
    review_key = _key()
    reviewed = api.post(f"/v1/verdicts/{unmatched}/review", json=review, headers=review_key)
    assert reviewed.status_code == 201, reviewed.text

    erasure_key = _key()
    erasure = api.post("/v1/customers/acme/erasure", json=ERASE, headers=erasure_key)
    assert erasure.status_code == 201, erasure.text
    assert erasure.json()["idempotency_answers_erased"] == 1

    assert acme(acme_key).status_code == 410
    again = api.post("/v1/customers/kowalska/codes", headers=kowalska_key)
    assert (again.status_code, again.json()) == (201, kowalska.json())
    assert api.post("/v1/webhooks", json=hook, headers=hook_key).json() == created.json()
    replayed = api.post(f"/v1/verdicts/{unmatched}/review", json=review, headers=review_key)
    assert replayed.json() == reviewed.json()
    # The erasure's own answer (counts and the login) is given again, and erasing the
    # same customer again (registered anew) does not empty it.
    again_erasure = api.post("/v1/customers/acme/erasure", json=ERASE, headers=erasure_key)
    assert again_erasure.json() == erasure.json()
    assert register(api).status_code == 201
    _erase(api)
    replayed = api.post("/v1/customers/acme/erasure", json=ERASE, headers=erasure_key)
    assert replayed.json() == erasure.json()


def test_an_answer_kept_before_migration_0016_is_emptied_by_any_erasure(
    api: httpx.Client, service: DecisionService
) -> None:
    assert register(api, "kowalska", **KOWALSKI).status_code == 201
    send = _code(api)
    key = _key()
    assert send(key).status_code == 201
    with service.sessions.begin() as session:
        session.execute(update(IdempotencyKey).values(customer=ANY_CUSTOMER))
    assert _erase(api, "kowalska")["idempotency_answers_erased"] == 1
    assert_error(send(key), 410, "idempotency_answer_erased")


def test_migration_0016_marks_the_answers_it_cannot_attribute(empty_database: str) -> None:
    engine = make_engine(empty_database)
    table = table_of(IdempotencyKey)
    try:
        upgrade(engine, "0015")
        with engine.begin() as connection:
            for route in ("/v1/customers/{login}/codes", "/v1/webhooks"):
                # Only the columns of 0015: the model's customer column is not there yet.
                connection.execute(
                    insert(table).values(
                        principal="admin",
                        route=route,
                        key="k",
                        request_mac="0" * 64,
                        status=201,
                        response="sealed",
                        created_at=datetime.now(UTC),
                    )
                )
        upgrade(engine)
        with engine.connect() as connection:
            marked = dict(connection.execute(select(table.c.route, table.c.customer)).all())
        assert marked == {"/v1/customers/{login}/codes": ANY_CUSTOMER, "/v1/webhooks": None}
        command.downgrade(alembic_config(engine), "0015")
        columns = {c["name"] for c in inspect(engine).get_columns("idempotency_keys")}
        assert "customer" not in columns
        upgrade(engine)
    finally:
        engine.dispose()
