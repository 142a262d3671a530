"""/v1/verdicts: reading recorded verdicts."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from app.api.deps import ReadSessionDep, require
from app.api.schemas import ErrorBody, VerdictOut, VerdictPage
from app.auth import Principal
from app.registry import LOGIN
from app.verdicts import MAX_PAGE, get_verdict, list_verdicts

router = APIRouter(prefix="/v1/verdicts", tags=["verdicts"])

# The database refuses NUL even in a comparison; no stored Message-ID holds one.
NO_NUL = r"^[^\x00]*$"

DecisionFilter = Literal["accepted", "rejected", "review", "otp_required", "postal_required"]


@router.get("/{verdict_id}", response_model=VerdictOut, responses={404: {"model": ErrorBody}})
def read_verdict(
    verdict_id: str,
    session: ReadSessionDep,
    _: Annotated[Principal, Depends(require("verdicts:read"))],
) -> dict[str, Any]:
    return get_verdict(session, verdict_id)


@router.get("", response_model=VerdictPage)
def read_verdicts(
    session: ReadSessionDep,
    _: Annotated[Principal, Depends(require("verdicts:read"))],
    decision: DecisionFilter | None = None,
    customer: Annotated[str | None, Query(max_length=64, pattern=LOGIN.pattern)] = None,
    message_id: Annotated[str | None, Query(max_length=998, pattern=NO_NUL)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> dict[str, Any]:
    """Newest first, filtered; follow ``next_cursor`` for older verdicts."""
    page = list_verdicts(
        session,
        decision=decision,
        customer=customer,
        message_id=message_id,
        limit=limit,
        cursor=cursor,
    )
    return {"items": page.items, "next_cursor": page.next_cursor}
