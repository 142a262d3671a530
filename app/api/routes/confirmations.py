"""/v1/verdicts/{id}/confirmation/resend: the owner's confirmation mail, once more."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, status

from app.api.deps import SessionDep, SettingsDep, require
from app.api.idempotency import IdempotencyDep, about_verdict_customer
from app.api.schemas import ErrorBody, ResendOut
from app.auth import Principal
from app.db.types import utcnow
from app.records.confirmations import resend as resend_confirmation

router = APIRouter(prefix="/v1/verdicts", tags=["desk"])


@router.post(
    "/{verdict_id}/confirmation/resend",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ResendOut,
    responses={
        404: {"model": ErrorBody},
        409: {"model": ErrorBody},
        429: {"model": ErrorBody},
    },
)
def resend(
    verdict_id: str,
    session: SessionDep,
    settings: SettingsDep,
    _: Annotated[Principal, Depends(require("review"))],
    idempotency: IdempotencyDep,
) -> Any:
    """Queue a new confirmation link to the registered panel address (the previous link
    stops working). 409 unless the verdict is confirmation_required, unanswered and not
    reviewed; 429 within 5 minutes of the last mail or past the customer's hourly limit
    (CONFIRM_MAX_PER_HOUR)."""
    return idempotency.run(
        session,
        lambda: resend_confirmation(session, verdict_id, utcnow(), settings.confirm_max_per_hour),
        ResendOut,
        202,
        about_verdict_customer(session, verdict_id),
    )
