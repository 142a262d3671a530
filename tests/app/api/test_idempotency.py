"""Idempotency-Key on the POSTs that record something: a retry records nothing twice."""

from __future__ import annotations

import threading
import uuid

import httpx
from sqlalchemy import select

from app.db.models import AuditEntry, IdempotencyKey
from app.db.types import utcnow
from app.decision.service import DecisionService
from app.records.retention import IDEMPOTENCY_WINDOW, run_retention
from tests.app.api.common import assert_error
from tests.app.api.test_reviews import act, verdict
from tests.app.records.test_audit import assert_new_table_migrates
from tests.support import TLS


def _key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def _act(api: httpx.Client, target: str, headers: dict[str, str], **body: str) -> httpx.Response:
    payload = {
        "agent": "agent.ola",
        "action": "authinfo_sent",
        "details": "AuthInfo code for acme.pl sent to the panel address.",
        "login": "acme",
        **body,
    }
    return api.post(f"/v1/verdicts/{target}/actions", json=payload, headers=headers)


def test_an_action_posted_twice_with_one_key_is_recorded_once(api: httpx.Client) -> None:
    target = verdict(api, "accepted")["id"]
    key = _key()
    first = _act(api, target, key)
    again = _act(api, target, key)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    assert len(api.get(f"/v1/verdicts/{target}/actions").json()) == 1


def test_the_same_key_with_another_body_is_409(api: httpx.Client) -> None:
    target = verdict(api, "accepted")["id"]
    key = _key()
    assert _act(api, target, key).status_code == 201
    other = _act(api, target, key, action="domain_unlocked")
    assert_error(other, 409, "idempotency_key_reused", "Idempotency-Key")
    assert len(api.get(f"/v1/verdicts/{target}/actions").json()) == 1


def test_different_keys_and_no_key_record_each_time(api: httpx.Client) -> None:
    target = verdict(api, "accepted")["id"]
    assert _act(api, target, _key()).status_code == 201
    assert _act(api, target, _key()).status_code == 201
    assert act(api, target).status_code == 201
    assert len(api.get(f"/v1/verdicts/{target}/actions").json()) == 3


def test_a_refusal_is_not_kept_and_the_retry_is_decided_afresh(api: httpx.Client) -> None:
    target = verdict(api, "rejected")["id"]
    key = _key()
    assert _act(api, target, key).status_code == 409
    assert _act(api, target, key).status_code == 409
    assert api.get(f"/v1/verdicts/{target}/actions").json() == []


def test_two_posts_at_once_with_one_key_record_once(api: httpx.Client) -> None:
    target = verdict(api, "accepted")["id"]
    key = _key()
    start = threading.Barrier(2)
    bodies: list[tuple[int, object]] = []

    def send() -> None:
        with httpx.Client(
            verify=TLS, base_url=str(api.base_url), headers=api.headers, timeout=30
        ) as client:
            start.wait()
            response = _act(client, target, key)
            bodies.append((response.status_code, response.json()))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(bodies) == 2
    assert bodies[0][0] == 201 or bodies[1][0] == 201, bodies
    assert len(api.get(f"/v1/verdicts/{target}/actions").json()) == 1


def test_a_review_a_code_and_a_webhook_replay_with_their_key(api: httpx.Client) -> None:
    target = verdict(api, "review")["id"]
    key = _key()
    body = {"decision": "accepted", "agent": "agent.ola", "reason": "Confirmed by phone."}
    first = api.post(f"/v1/verdicts/{target}/review", json=body, headers=key)
    again = api.post(f"/v1/verdicts/{target}/review", json=body, headers=key)
    assert (first.status_code, first.json()) == (again.status_code, again.json())
    assert len(api.get(f"/v1/verdicts/{target}/reviews").json()["reviews"]) == 1
    code = api.post("/v1/customers/acme/codes", headers=key)
    assert code.status_code == 201, code.text
    assert api.post("/v1/customers/acme/codes", headers=key).json() == code.json()


def test_a_key_is_scoped_to_its_route(api: httpx.Client) -> None:
    target = verdict(api, "accepted")["id"]
    key = _key()
    assert _act(api, target, key).status_code == 201
    assert api.post("/v1/customers/acme/codes", headers=key).status_code == 201


def test_migration_0008_matches_the_model_and_downgrades(empty_database: str) -> None:
    assert_new_table_migrates(empty_database, "idempotency_keys", "0007")


def test_the_answers_kept_hold_no_one_time_code_or_webhook_secret_in_clear(
    api: httpx.Client, service: DecisionService
) -> None:
    key = _key()
    verdict(api, "accepted")
    code = api.post("/v1/customers/acme/codes", headers=key).json()["code"]
    with service.sessions() as session:
        rows = session.execute(select(IdempotencyKey)).scalars().all()
        assert rows and all(code not in row.response for row in rows)


def test_retention_forgets_keys_after_the_window(
    api: httpx.Client, service: DecisionService
) -> None:
    target = verdict(api, "accepted")["id"]
    key = _key()
    assert _act(api, target, key).status_code == 201
    run_retention(service.sessions, days=30, now=utcnow() + IDEMPOTENCY_WINDOW / 2)
    assert _count_keys(service) == 1
    run_retention(service.sessions, days=30, now=utcnow() + IDEMPOTENCY_WINDOW * 1.01)
    assert _count_keys(service) == 0
    # Forgotten: the same key is a new request.
    assert _act(api, target, key).status_code == 201
    assert len(api.get(f"/v1/verdicts/{target}/actions").json()) == 2


def _count_keys(service: DecisionService) -> int:
    with service.sessions() as session:
        return len(session.execute(select(IdempotencyKey)).all())


def test_an_erasure_posted_twice_with_one_key_is_recorded_once(
    api: httpx.Client, service: DecisionService
) -> None:
    verdict(api, "accepted")
    key = _key()
    body = {"agent": "agent.ola", "reason": "The customer asked, ticket 123."}
    first = api.post("/v1/customers/acme/erasure", json=body, headers=key)
    again = api.post("/v1/customers/acme/erasure", json=body, headers=key)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    with service.sessions() as session:
        kinds = session.execute(select(AuditEntry.kind)).scalars().all()
    assert kinds.count("erasure") == 1, kinds
