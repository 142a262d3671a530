"""Health, readiness and the public keys verdict signatures verify against."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.api.deps import ServiceDep
from app.api.problems import RETRY_AFTER_SECONDS
from app.api.schemas import KeySet, PublicKey
from app.db.engine import store_errors
from app.db.migrate import current_revision, head_revision
from app.errors import StoreUnavailable

log = logging.getLogger(__name__)
router = APIRouter(tags=["system"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request, service: ServiceDep) -> JSONResponse:
    """The database answers and is migrated to the revision this code expects."""
    engine = service.sessions.kw["bind"]
    try:
        with store_errors(), engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        revision = current_revision(engine)
    except StoreUnavailable as exc:
        # The driver's message names hosts and ports: it goes to the log, not to callers.
        log.warning("not ready: %s", exc)
        return JSONResponse(
            {"status": "unavailable", "detail": "the database is unreachable"},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if revision != head_revision():
        return JSONResponse(
            {
                "status": "unavailable",
                "detail": f"database at {revision}, run `intakeguard db upgrade`",
            },
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return JSONResponse({"status": "ready", "rules_version": service.rules.version})


@router.get("/v1/keys", response_model=KeySet, tags=["verdicts"])
def keys(service: ServiceDep) -> KeySet:
    """Public keys of verdict signatures (Ed25519 over canonical JSON without ``signature``)."""
    return KeySet(keys=[PublicKey(kid=service.signer.key_id, public_key=service.signer.public_key)])
