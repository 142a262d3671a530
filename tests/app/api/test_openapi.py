"""/openapi.json says what the API does: ids, errors, auth, bodies; unknown parameters refused."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.app.api.common import assert_error

METHODS = ("get", "put", "post", "delete", "patch")


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref", "")
    if ref:
        resolved: dict[str, Any] = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
        return resolved
    return schema


def test_every_operation_has_a_readable_unique_id(api: httpx.Client) -> None:
    document = api.get("/openapi.json").json()
    ids = [operation.get("operationId", "") for _, _, operation in _operations(document)]
    assert len(ids) == len(set(ids)), ids
    for method, path, operation in _operations(document):
        assert re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]*)+", operation["operationId"]), (method, path)
    by_id = {op["operationId"]: (m, p) for m, p, op in _operations(document)}
    assert by_id["getVerdict"] == ("get", "/v1/verdicts/{verdict_id}")
    assert by_id["listVerdicts"] == ("get", "/v1/verdicts")
    assert by_id["createCustomer"] == ("put", "/v1/customers/{login}")


def test_every_protected_operation_declares_401_and_403(api: httpx.Client) -> None:
    document = api.get("/openapi.json").json()
    protected = [(m, p, op) for m, p, op in _operations(document) if op.get("security")]
    assert len(protected) > 20
    for method, path, operation in protected:
        assert {"401", "403"} <= set(operation["responses"]), (method, path)


def test_every_error_response_has_the_real_error_body(api: httpx.Client) -> None:
    document = api.get("/openapi.json").json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    seen = 0
    for method, path, operation in _operations(document):
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            seen += 1
            schema = _resolve(document, response["content"]["application/json"]["schema"])
            assert set(schema["properties"]) == {"error", "detail"}, (method, path, status)
            assert set(schema["required"]) == {"error", "detail"}, (method, path, status)
    assert seen > 50


def test_every_operation_with_parameters_or_body_declares_422(api: httpx.Client) -> None:
    document = api.get("/openapi.json").json()
    for method, path, operation in _operations(document):
        assert "422" in operation["responses"], (method, path)


def test_the_message_body_is_message_rfc822(api: httpx.Client) -> None:
    document = api.get("/openapi.json").json()
    body = document["paths"]["/v1/messages"]["post"]["requestBody"]
    assert body["required"] is True
    assert "message/rfc822" in body["content"]


def test_an_unknown_query_parameter_is_422_on_every_route(api: httpx.Client) -> None:
    document = api.get("/openapi.json").json()
    for method, path, _ in _operations(document):
        url = re.sub(r"\{[^}]+\}", "x", path)
        response = api.request(method.upper(), url, params={"bogus": "1"})
        assert_error(response, 422, "invalid_request", "bogus", "unknown query parameter")


def test_declared_query_parameters_are_still_accepted(api: httpx.Client) -> None:
    assert api.get("/v1/verdicts", params={"limit": "5"}).status_code == 200
    assert api.get("/healthz").status_code == 200
