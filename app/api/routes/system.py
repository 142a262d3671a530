"""Health, readiness, metrics and the public keys verdict signatures verify against."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.api.deps import ServiceDep, SettingsDep
from app.api.problems import RETRY_AFTER_SECONDS
from app.api.schemas import KeySet, PublicKey
from app.db.engine import store_errors
from app.db.migrate import current_revision, head_revision
from app.db.writable import write_problem
from app.decision.service import DecisionService
from app.errors import StoreUnavailable
from app.metrics import CONTENT_TYPE_LATEST, DNS_ANSWERING, exposition

log = logging.getLogger(__name__)
router = APIRouter(tags=["system"])

# A readiness probe must answer before the orchestrator's own timeout does.
DNS_PROBE_TIMEOUT = 2.0


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive and serves requests."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request, service: ServiceDep, settings: SettingsDep) -> JSONResponse:
    """Ready to record a verdict now: not shutting down, the database reachable, at the
    head revision and taking writes (on SQLite, with READY_MIN_FREE_MB free), rules loaded.

    DNS is reported in ``checks`` and as a metric but does not fail readiness: without it
    messages are deferred (451) one by one, while verdicts are still read and reviewed,
    and a resolver blip must not pull every replica out of the load balancer at once.
    """
    if getattr(request.app.state, "shutting_down", False):
        return _unavailable("shutting down", {})
    checks: dict[str, Any] = {}
    problem = _database_problem(service, settings.ready_min_free_mb)
    if problem is not None:
        return _unavailable(problem, checks)
    checks["database"] = "ok"
    checks["rules"] = service.rules.version
    if service.resolver is not None:
        answering = service.resolver.answering(min(DNS_PROBE_TIMEOUT, service.resolver.timeout))
        DNS_ANSWERING.set(1 if answering else 0)
        checks["dns"] = "ok" if answering else "degraded"
        if not answering:
            log.warning("no DNS server answers: messages are deferred until one does")
    return JSONResponse(
        {"status": "ready", "rules_version": service.rules.version, "checks": checks}
    )


def _database_problem(service: DecisionService, min_free_mb: int) -> str | None:
    engine = service.sessions.kw["bind"]
    try:
        with store_errors(), engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        revision = current_revision(engine)
        cannot_write = write_problem(engine, min_free_mb)
    except StoreUnavailable as exc:
        # The driver's message names hosts and ports: it goes to the log, not to callers.
        log.warning("not ready: %s", exc)
        return "the database is unreachable"
    if revision != head_revision():
        return f"database at {revision}, run `intakeguard db upgrade`"
    if cannot_write is not None:
        log.warning("not ready: %s", cannot_write)
    return cannot_write


def _unavailable(detail: str, checks: dict[str, Any]) -> JSONResponse:
    return JSONResponse(
        {"status": "unavailable", "detail": detail, "checks": checks},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


@router.get("/metrics", include_in_schema=False)
def metrics() -> Response:
    """Prometheus metrics of this process (text exposition format); no personal data."""
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)


@router.get("/v1/keys", response_model=KeySet, tags=["verdicts"])
def keys(service: ServiceDep) -> KeySet:
    """Public keys of verdict signatures (Ed25519 over canonical JSON without ``signature``)."""
    return KeySet(keys=[PublicKey(kid=service.signer.key_id, public_key=service.signer.public_key)])
