"""/v1/audit/verify: whether the record's hash chain is intact."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from app.api.deps import ReadSessionDep, require
from app.api.schemas import ChainReportOut
from app.auth import Principal
from app.records.audit_verify import verify_chain

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("/verify", response_model=ChainReportOut)
def verify(
    session: ReadSessionDep,
    _: Annotated[Principal, Depends(require("audit"))],
) -> dict[str, Any]:
    """Walk the chain and recompute every hash; 200 either way, ``intact`` says which,
    and ``broken_seq`` names the first entry that does not verify."""
    return verify_chain(session).as_dict()
