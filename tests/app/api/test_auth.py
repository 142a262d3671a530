"""Bearer tokens and scopes on the live API: 401 without a known token, 403 without the scope."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import update

from app.auth import create_token
from app.db.models import ApiToken
from app.db.types import utcnow
from app.decision.service import DecisionService
from tests.app.api.common import ACME, RFC822, assert_error, register, submit
from tests.support import make_message


def token_with(service: DecisionService, *scopes: str) -> dict[str, str]:
    """Authorization headers of a new token holding ``scopes``."""
    with service.sessions.begin() as session:
        token = create_token(session, "test client", list(scopes))
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/customers/acme"),
        ("PUT", "/v1/customers/acme"),
        ("DELETE", "/v1/customers/acme"),
        ("POST", "/v1/messages"),
        ("GET", "/v1/verdicts"),
        ("GET", "/v1/verdicts/00000000-0000-0000-0000-000000000000"),
    ],
)
def test_no_token_is_401_asking_for_a_bearer_token(
    anonymous: httpx.Client, method: str, path: str
) -> None:
    response = anonymous.request(method, path)
    assert_error(response, 401, "unauthorized", "bearer token is required")
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_another_authorization_scheme_is_401(anonymous: httpx.Client) -> None:
    response = anonymous.get("/v1/customers/acme", headers={"Authorization": "Basic YWRtaW46YQ=="})
    assert_error(response, 401, "unauthorized", "bearer token is required")
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_unknown_token_is_401(anonymous: httpx.Client) -> None:
    response = anonymous.get(
        "/v1/customers/acme", headers={"Authorization": "Bearer igt_not-a-token-we-issued"}
    )
    assert_error(response, 401, "unauthorized", "unknown or revoked")
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_revoked_token_is_401(anonymous: httpx.Client, service: DecisionService) -> None:
    headers = token_with(service, "registry:read")
    assert_error(anonymous.get("/v1/customers/acme", headers=headers), 404, "not_found")
    with service.sessions.begin() as session:
        session.execute(update(ApiToken).values(revoked_at=utcnow()))
    response = anonymous.get("/v1/customers/acme", headers=headers)
    assert_error(response, 401, "unauthorized", "unknown or revoked")


def test_a_read_token_reads_verdicts_until_it_is_revoked(
    api: httpx.Client, anonymous: httpx.Client, service: DecisionService
) -> None:
    recorded = submit(api, make_message())
    assert recorded.status_code == 201, recorded.text
    path = f"/v1/verdicts/{recorded.json()['id']}"
    headers = token_with(service, "verdicts:read")
    assert anonymous.get(path, headers=headers).json() == recorded.json()
    assert anonymous.get("/v1/verdicts", headers=headers).json()["items"] == [recorded.json()]
    with service.sessions.begin() as session:
        session.execute(update(ApiToken).values(revoked_at=utcnow()))
    # At once: tokens are looked up on every request, never cached.
    for refused in (
        anonymous.get(path, headers=headers),
        anonymous.get("/v1/verdicts", headers=headers),
    ):
        assert_error(refused, 401, "unauthorized", "unknown or revoked")


def test_read_scope_reads_but_does_not_write(
    api: httpx.Client, anonymous: httpx.Client, service: DecisionService
) -> None:
    register(api)
    reader = token_with(service, "registry:read")
    response = anonymous.get("/v1/customers/acme", headers=reader)
    assert response.status_code == 200, response.text
    assert response.json()["login"] == "acme"

    refused = anonymous.put("/v1/customers/acme", json={**ACME, "name": "X"}, headers=reader)
    assert_error(refused, 403, "forbidden", "registry:write")
    refused = anonymous.delete("/v1/customers/acme", headers=reader)
    assert_error(refused, 403, "forbidden", "registry:write")
    # The refused requests changed nothing.
    assert api.get("/v1/customers/acme").json()["name"] == ACME["name"]


def test_a_token_without_intake_cannot_submit_messages(
    anonymous: httpx.Client, service: DecisionService
) -> None:
    headers = {**token_with(service, "verdicts:read", "registry:read"), **RFC822}
    response = anonymous.post("/v1/messages", content=make_message(), headers=headers)
    assert_error(response, 403, "forbidden", "intake")
    listed = anonymous.get("/v1/verdicts", headers=headers)
    assert listed.status_code == 200
    assert listed.json()["items"] == []


def test_an_intake_token_submits_but_cannot_read_verdicts(
    anonymous: httpx.Client, service: DecisionService
) -> None:
    headers = {**token_with(service, "intake"), **RFC822}
    response = anonymous.post("/v1/messages", content=make_message(), headers=headers)
    assert response.status_code == 201, response.text
    refused = anonymous.get(f"/v1/verdicts/{response.json()['id']}", headers=headers)
    assert_error(refused, 403, "forbidden", "verdicts:read")


def test_health_readiness_and_keys_need_no_token(anonymous: httpx.Client) -> None:
    assert anonymous.get("/healthz").json() == {"status": "ok"}
    ready = anonymous.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"
    assert ready.json()["rules_version"].startswith("sha256:")
    keys = anonymous.get("/v1/keys")
    assert keys.status_code == 200
    assert keys.json()["keys"][0]["alg"] == "Ed25519"
