"""HTTP errors as JSON bodies ``{"error": code, "detail": ...}``, and their handlers."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import Conflict, InvalidInput, NotFound, RateLimited, StoreUnavailable
from mailhook.errors import TemporaryFailure

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
_UNPARSABLE_BODY = "There was an error parsing the body"


class ApiProblem(Exception):
    """An HTTP error with a status, a machine-readable code and a sentence."""

    status = 400
    code = "bad_request"

    def __init__(self, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers


class Unauthorized(ApiProblem):
    status, code = 401, "unauthorized"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, {"WWW-Authenticate": "Bearer"})


class Forbidden(ApiProblem):
    status, code = 403, "forbidden"


class PayloadTooLarge(ApiProblem):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(ApiProblem):
    status, code = 415, "unsupported_media_type"


class UnprocessableMessage(ApiProblem):
    status, code = 422, "unusable_message"


def problem(
    status: int, code: str, detail: Any, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into a JSON error body."""

    @app.exception_handler(ApiProblem)
    async def _api_problem(_: Request, exc: ApiProblem) -> JSONResponse:
        return problem(exc.status, exc.code, exc.detail, exc.headers)

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: NotFound) -> JSONResponse:
        return problem(404, "not_found", str(exc))

    @app.exception_handler(RateLimited)
    async def _rate_limited(_: Request, exc: RateLimited) -> JSONResponse:
        return problem(
            429, "too_many_requests", str(exc), {"Retry-After": str(max(1, exc.retry_after))}
        )

    @app.exception_handler(Conflict)
    async def _conflict(_: Request, exc: Conflict) -> JSONResponse:
        return problem(409, "conflict", str(exc))

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        # A concurrent writer won a race on a unique key (a service, a login).
        return problem(409, "conflict", "a concurrent change conflicts with this one; retry")

    @app.exception_handler(InvalidInput)
    async def _invalid(_: Request, exc: InvalidInput) -> JSONResponse:
        return problem(422, "invalid_input", str(exc))

    @app.exception_handler(StoreUnavailable)
    async def _store(_: Request, exc: StoreUnavailable) -> JSONResponse:
        log.warning("store unavailable: %s", exc)
        return _unavailable()

    @app.exception_handler(TemporaryFailure)
    async def _temporary(_: Request, exc: TemporaryFailure) -> JSONResponse:
        log.info("temporary failure, the sender should retry: %s", exc)
        return problem(
            503,
            "temporary_failure",
            f"{exc} Nothing was recorded; retry later.",
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    @app.exception_handler(OperationalError)
    async def _operational(_: Request, exc: OperationalError) -> JSONResponse:
        log.warning("store unavailable: %s", exc.orig)
        return _unavailable()

    @app.exception_handler(PoolTimeout)
    async def _pool(_: Request, exc: PoolTimeout) -> JSONResponse:
        # Every pooled connection in use for the pool's whole wait: busy, not broken.
        log.warning("store unavailable: %s", exc)
        return _unavailable()

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": ".".join(str(part) for part in error.get("loc", ())),
                "message": error.get("msg", ""),
            }
            for error in exc.errors()
        ]
        return problem(422, "invalid_request", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == _UNPARSABLE_BODY:
            # FastAPI's answer to a JSON body that is not UTF-8 (RFC 8259 §8.1): malformed
            # JSON like any other, so the same 422 as a syntax error.
            detail = [{"field": "body", "message": "JSON decode error: the body is not UTF-8"}]
            return problem(422, "invalid_request", detail)
        code = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error"
        )
        return problem(exc.status_code, code, exc.detail, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(500, "internal_error", "an unexpected error occurred; it has been logged")


def _unavailable() -> JSONResponse:
    return problem(
        503,
        "store_unavailable",
        "the database is unavailable; retry later",
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
