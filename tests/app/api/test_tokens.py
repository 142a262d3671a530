"""GET /v1/tokens and DELETE /v1/tokens/{id} (scope tokens:admin), and expiry."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import update

from app.auth import create_token
from app.db.models import ApiToken
from app.db.types import utcnow
from app.decision.service import DecisionService
from tests.app.api.common import assert_error
from tests.app.api.test_auth import token_with


def new_token(service: DecisionService, name: str, *scopes: str, days: int | None = None) -> str:
    with service.sessions.begin() as session:
        return create_token(session, name, list(scopes), days)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_list_shows_tokens_without_their_secrets(
    anonymous: httpx.Client, service: DecisionService
) -> None:
    reader = new_token(service, "ticketing", "verdicts:read", "review", days=7)
    admin = new_token(service, "operator", "tokens:admin")
    response = anonymous.get("/v1/tokens", headers=bearer(admin))
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [(t["name"], t["scopes"], t["state"]) for t in items] == [
        ("ticketing", ["review", "verdicts:read"], "active"),
        ("operator", ["tokens:admin"], "active"),
    ]
    assert set(items[0]) == {
        "id", "name", "scopes", "created_at", "expires_at", "revoked_at", "state",
    }  # fmt: skip
    assert items[0]["expires_at"] is not None and items[1]["expires_at"] is None
    for secret in (reader, admin):
        assert secret not in response.text and secret[4:20] not in response.text


def test_a_revoked_token_is_refused_from_the_next_request(
    anonymous: httpx.Client, api: httpx.Client, service: DecisionService
) -> None:
    reader = new_token(service, "ticketing", "verdicts:read")
    assert anonymous.get("/v1/verdicts", headers=bearer(reader)).status_code == 200
    [listed] = api.get("/v1/tokens").json()["items"]
    assert api.delete(f"/v1/tokens/{listed['id']}").status_code == 204
    refused = anonymous.get("/v1/verdicts", headers=bearer(reader))
    assert_error(refused, 401, "unauthorized", "revoked")
    [after] = api.get("/v1/tokens").json()["items"]
    assert after["state"] == "revoked" and after["revoked_at"] is not None
    # Again: nothing changes, the first revocation's time stays.
    assert api.delete(f"/v1/tokens/{listed['id']}").status_code == 204
    assert api.get("/v1/tokens").json()["items"] == [after]


def test_an_expired_token_is_refused_like_a_revoked_one(
    anonymous: httpx.Client, api: httpx.Client, service: DecisionService
) -> None:
    reader = new_token(service, "ticketing", "verdicts:read", days=1)
    assert anonymous.get("/v1/verdicts", headers=bearer(reader)).status_code == 200
    with service.sessions.begin() as session:
        session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    refused = anonymous.get("/v1/verdicts", headers=bearer(reader))
    assert_error(refused, 401, "unauthorized", "expired")
    assert refused.headers["www-authenticate"] == "Bearer"
    [listed] = api.get("/v1/tokens").json()["items"]
    assert listed["state"] == "expired" and listed["revoked_at"] is None


def test_unknown_tokens_and_ids_are_404_or_422(api: httpx.Client) -> None:
    assert_error(api.delete("/v1/tokens/12345"), 404, "not_found", "12345")
    assert_error(api.delete("/v1/tokens/0"), 422, "invalid_request", "path.token_id")
    assert_error(api.delete("/v1/tokens/abc"), 422, "invalid_request", "path.token_id")
    assert_error(api.delete(f"/v1/tokens/{2**63}"), 422, "invalid_request", "path.token_id")


def test_tokens_need_the_tokens_admin_scope(
    anonymous: httpx.Client, service: DecisionService
) -> None:
    others = token_with(
        service, "intake", "verdicts:read", "messages:read", "review", "registry:read",
        "registry:write", "codes:issue", "audit", "webhooks", "relay",
    )  # fmt: skip
    assert_error(anonymous.get("/v1/tokens", headers=others), 403, "forbidden", "tokens:admin")
    assert_error(anonymous.delete("/v1/tokens/1", headers=others), 403, "forbidden", "tokens:admin")
    assert_error(anonymous.get("/v1/tokens"), 401, "unauthorized")
