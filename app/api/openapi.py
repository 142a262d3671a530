"""What /openapi.json says, and the one rule it states for every route: no unknown parameters.

Every operation has a readable id (``OPERATION_IDS``; a route without one fails at start),
declares the error body it really sends (``{"error", "detail"}``, app.api.problems) for
every error status, 401 and 403 where a token is needed, and 422 everywhere: a query
parameter the route does not declare is refused rather than silently ignored.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from app.delivery.confirmations import CONFIRM_PATH

# "METHOD path" -> operationId. Paths are the contract and never renamed; ids name them.
OPERATION_IDS = {
    "POST /v1/messages": "submitMessage",
    "GET /v1/verdicts": "listVerdicts",
    "GET /v1/verdicts/{verdict_id}": "getVerdict",
    "GET /v1/verdicts/{verdict_id}/message": "getVerdictMessage",
    "POST /v1/verdicts/{verdict_id}/review": "createReview",
    "GET /v1/verdicts/{verdict_id}/reviews": "listReviews",
    "POST /v1/verdicts/{verdict_id}/actions": "createAction",
    "GET /v1/verdicts/{verdict_id}/actions": "listActions",
    "POST /v1/verdicts/{verdict_id}/documents": "recordDocuments",
    "POST /v1/verdicts/{verdict_id}/confirmation/resend": "resendConfirmation",
    # The owner's page (not in the schema: HTML for people, not an API operation).
    "GET,HEAD /confirm/{token}": "showConfirmation",
    "POST /confirm/{token}": "answerConfirmation",
    # The agents' console (not in the schema either: app/console/).
    "GET /console/login": "showConsoleLogin",
    "POST /console/login": "consoleLogin",
    "POST /console/logout": "consoleLogout",
    "GET /console/": "showConsoleQueue",
    "GET /console/verdicts/{verdict_id}": "showConsoleVerdict",
    "POST /console/verdicts/{verdict_id}/review": "consoleReview",
    "POST /console/verdicts/{verdict_id}/actions": "consoleAction",
    "POST /console/verdicts/{verdict_id}/documents": "consoleDocuments",
    "GET /console/verify": "showConsoleVerify",
    "POST /console/verify": "consoleVerify",
    "GET /console/customers": "showConsoleCustomers",
    "GET /console/static/{name}": "getConsoleAsset",
    "GET /console/language": "chooseConsoleLanguage",
    "GET /v1/customers": "findCustomers",
    "PUT /v1/customers/{login}": "createCustomer",
    "GET /v1/customers/{login}": "getCustomer",
    "DELETE /v1/customers/{login}": "deleteCustomer",
    "POST /v1/customers/{login}/erasure": "eraseCustomer",
    "POST /v1/customers/{login}/codes": "issueCode",
    "POST /v1/verifications": "createVerification",
    "POST /v1/webhooks": "createWebhook",
    "GET /v1/webhooks": "listWebhooks",
    "GET /v1/webhooks/{subscription_id}": "getWebhook",
    "DELETE /v1/webhooks/{subscription_id}": "deleteWebhook",
    "GET /v1/webhooks/{subscription_id}/deliveries": "listWebhookDeliveries",
    "POST /v1/webhooks/deliveries/{delivery_id}/retry": "retryWebhookDelivery",
    "GET /v1/audit/verify": "verifyAuditChain",
    "POST /v1/audit/verify": "verifyAuditCheckpoints",
    "GET /v1/audit/checkpoints": "listAuditCheckpoints",
    "GET /v1/keys": "listKeys",
    # Swagger UI (app/api/routes/docs.py; not in the schema).
    "GET /docs": "showApiDocs",
    "GET /docs/static/{name}": "getApiDocsAsset",
    "GET /v1/tokens": "listTokens",
    "DELETE /v1/tokens/{token_id}": "revokeToken",
    "GET /healthz": "getHealth",
    "GET /readyz": "getReadiness",
    "GET /metrics": "getMetrics",
}

_UNKNOWN = "unknown query parameter"
_ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}
_STANDARD = {
    "401": "No bearer token, or an unknown, revoked or expired one",
    "403": "The token lacks the scope this operation needs",
    "422": "Invalid request: a malformed parameter or body, or an unknown query parameter",
}


def operation_id(route: APIRoute) -> str:
    """The readable id of ``route`` (FastAPI's ``generate_unique_id_function``)."""
    name = f"{','.join(sorted(route.methods or ()))} {route.path_format}"
    try:
        return OPERATION_IDS[name]
    except KeyError:
        raise RuntimeError(f"no operation id for {name}: add it to OPERATION_IDS") from None


def _query_names(dependant: Dependant) -> set[str]:
    # A walk over a handful of fields: cheaper than a cache (an APIRoute is not hashable).
    names = {field.alias for field in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


async def reject_unknown_query(request: Request) -> None:
    """422 for a query parameter the route does not declare (a typo would be ignored)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    if route.path.startswith(CONFIRM_PATH):
        # A link in mail: gateways and trackers append parameters of their own, and the
        # owner must still get the page, not a JSON error.
        return
    unknown = sorted(set(request.query_params) - _query_names(route.dependant))
    if unknown:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", name),
                    "msg": "unknown query parameter",
                    "type": "extra_forbidden",
                }
                for name in unknown
            ]
        )


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` describe the errors as they are sent."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe_errors(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    summary=app.summary,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def describe_errors(document: dict[str, Any]) -> dict[str, Any]:
    for item in document["paths"].values():
        for operation in item.values():
            responses: dict[str, Any] = operation["responses"]
            wanted = ["401", "403", "422"] if operation.get("security") else ["422"]
            for status in wanted:
                responses.setdefault(status, {"description": _STANDARD[status]})
            for status, response in responses.items():
                if int(status) >= 400:
                    if status == "422" and response.get("description") == "Validation Error":
                        response["description"] = _STANDARD["422"]
                    response["content"] = {"application/json": {"schema": _ERROR_BODY}}
    schemas = document["components"]["schemas"]
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas["ErrorBody"] = {
        "title": "ErrorBody",
        "description": "Every error: a machine-readable code and a sentence or a field list",
        "type": "object",
        "properties": {
            "error": {"type": "string", "title": "Error"},
            "detail": {"title": "Detail"},
        },
        "required": ["error", "detail"],
    }
    return document
