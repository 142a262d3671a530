"""Helpers shared by the REST API tests: sample customers, submitting mail, signatures."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tests.support import FIXTURES

RFC822 = {"Content-Type": "message/rfc822"}
MAIL = FIXTURES / "mail"

# Valid numbers: the checksums are right, the people and companies made up.
PESEL = "44051401359"
NIP = "5260250274"
REGON = "123456785"

ACME: dict[str, Any] = {
    "panel_email": "jan@acme.pl",
    "kind": "company",
    "name": "ACME sp. z o.o.",
    "nip": "526-025-02-74",
    "services": ["acme.pl", "żółw.pl"],
}
KOWALSKI: dict[str, Any] = {
    "panel_email": "anna@kowalska.example",
    "kind": "person",
    "name": "Anna Kowalska",
    "pesel": PESEL,
    "services": ["kowalska.pl"],
}


def register(api: httpx.Client, login: str = "acme", **changes: Any) -> httpx.Response:
    """PUT a customer (ACME unless ``changes`` say otherwise)."""
    return api.put(f"/v1/customers/{login}", json={**ACME, **changes})


def submit(api: httpx.Client, raw: bytes, **params: Any) -> httpx.Response:
    return api.post("/v1/messages", content=raw, headers=RFC822, params=params)


def load_mail(name: str) -> bytes:
    """A message of ``fixtures/mail`` by scenario name."""
    return (MAIL / f"{name}.eml").read_bytes()


def assert_error(response: httpx.Response, status: int, error: str, *mentions: str) -> Any:
    """The response is a JSON error body with ``error`` whose detail mentions each word."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error", "detail"}, body
    assert body["error"] == error, body
    detail = json.dumps(body["detail"], ensure_ascii=False)
    for word in mentions:
        assert word in detail, f"{word!r} not in {detail}"
    return body["detail"]


def check(verdict: dict[str, Any], name: str) -> dict[str, str]:
    """The entry for check ``name`` in a verdict."""
    found = [c for c in verdict["checks"] if c["name"] == name]
    assert len(found) == 1, verdict["checks"]
    return found[0]


def assert_signed(api: httpx.Client, verdict: dict[str, Any]) -> None:
    """The verdict's signature verifies with the key published at /v1/keys."""
    key = api.get("/v1/keys").json()["keys"][0]
    kid, _, signature = verdict["signature"].rpartition(".")
    assert kid == key["kid"]
    public = Ed25519PublicKey.from_public_bytes(_unb64(key["public_key"]))
    payload = {k: v for k, v in verdict.items() if k != "signature"}
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    public.verify(_unb64(signature), canonical.encode())


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
