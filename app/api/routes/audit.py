"""/v1/audit: whether the record's hash chain is intact, and its signed checkpoints."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query

from app.api.deps import ReadSessionDep, ServiceDep, require
from app.api.schemas import ChainReportOut, CheckpointOut
from app.audit.checkpoints import CheckpointError, parse, recent
from app.auth import Principal
from app.errors import InvalidInput
from app.records.audit_verify import verify_against, verify_chain

router = APIRouter(prefix="/v1/audit", tags=["audit"])
# Checkpoints posted at once: a year of hourly ones fits.
_MAX_CHECKPOINT_TEXT = 2_000_000


@router.get("/verify", response_model=ChainReportOut)
def verify(
    session: ReadSessionDep,
    _: Annotated[Principal, Depends(require("audit"))],
) -> dict[str, Any]:
    """Walk the chain and recompute every hash; 200 either way, ``intact`` says which,
    and ``broken_seq`` names the first entry that does not verify."""
    return verify_chain(session).as_dict()


@router.post(
    "/verify",
    response_model=ChainReportOut,
)
def verify_checkpoints(
    session: ReadSessionDep,
    service: ServiceDep,
    _: Annotated[Principal, Depends(require("audit"))],
    checkpoints: Annotated[
        str,
        Body(
            media_type="text/plain",
            max_length=_MAX_CHECKPOINT_TEXT,
            description="One or more signed checkpoints, as `intakeguard audit checkpoint` "
            "prints them and GET /v1/audit/checkpoints returns them",
        ),
    ],
) -> dict[str, Any]:
    """As GET, and the chain must still extend every checkpoint given: a truncation or a
    rewrite after one makes ``intact`` false. 422 for a checkpoint that is unreadable or
    not signed by this service's key."""
    try:
        parsed = parse(checkpoints, service.signer)
    except CheckpointError as exc:
        raise InvalidInput(f"checkpoint: {exc}") from None
    return verify_against(session, parsed).as_dict()


@router.get("/checkpoints", response_model=list[CheckpointOut])
def checkpoints(
    session: ReadSessionDep,
    _: Annotated[Principal, Depends(require("audit"))],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """The newest signed chain heads kept, newest first; ``checkpoint`` is the signed text."""
    return [
        {
            "size": row.size,
            "head_hash": row.head_hash,
            "signed_at": row.signed_at,
            "checkpoint": row.note,
        }
        for row in recent(session, limit)
    ]
