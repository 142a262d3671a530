"""/v1/verdicts/{id}/review(s) and /actions: agents' decisions and what they then did."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, status

from app.api.deps import ReadSessionDep, SessionDep, require
from app.api.idempotency import IdempotencyDep, about_verdict_customer
from app.api.schemas import ActionIn, ActionOut, ErrorBody, ReviewIn, ReviewOut, ReviewState
from app.auth import Principal
from app.db.types import utcnow
from app.records.reviews import (
    ActionRequest,
    ReviewRequest,
    list_actions,
    record_action,
    record_review,
    review_state,
)

router = APIRouter(prefix="/v1/verdicts", tags=["desk"])

_REFUSED: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody}, 409: {"model": ErrorBody}}


@router.post(
    "/{verdict_id}/review",
    status_code=status.HTTP_201_CREATED,
    response_model=ReviewOut,
    responses=_REFUSED,
)
def review(
    verdict_id: str,
    body: ReviewIn,
    session: SessionDep,
    _: Annotated[Principal, Depends(require("review"))],
    idempotency: IdempotencyDep,
) -> Any:
    """Decide a review, otp_required or confirmation_required verdict (until the owner
    answers); a second review must name the one it supersedes. The signed verdict itself
    is never changed."""
    request = ReviewRequest(body.decision, body.agent, body.reason, body.supersedes)
    return idempotency.run(
        session,
        lambda: record_review(session, verdict_id, request, utcnow()),
        ReviewOut,
        201,
        about_verdict_customer(session, verdict_id),
    )


@router.get(
    "/{verdict_id}/reviews", response_model=ReviewState, responses={404: {"model": ErrorBody}}
)
def reviews(
    verdict_id: str,
    session: ReadSessionDep,
    _: Annotated[Principal, Depends(require("verdicts:read"))],
) -> dict[str, Any]:
    """The verdict's current decision and every review of it, oldest first."""
    return review_state(session, verdict_id)


@router.post(
    "/{verdict_id}/actions",
    status_code=status.HTTP_201_CREATED,
    response_model=ActionOut,
    responses=_REFUSED,
)
def act(
    verdict_id: str,
    body: ActionIn,
    session: SessionDep,
    _: Annotated[Principal, Depends(require("review"))],
    idempotency: IdempotencyDep,
) -> Any:
    """Record a change made for the customer; refused (409) unless the verdict now stands
    accepted (as recorded, on review, or by complete postal documents) and is about that
    customer. ``code_ref``, if given, must be the id of the verdict or verification that
    used one of the customer's one-time codes."""
    request = ActionRequest(body.agent, body.action, body.details, body.login, body.code_ref)
    return idempotency.run(
        session,
        lambda: record_action(session, verdict_id, request, utcnow()),
        ActionOut,
        201,
        about_verdict_customer(session, verdict_id),
    )


@router.get(
    "/{verdict_id}/actions", response_model=list[ActionOut], responses={404: {"model": ErrorBody}}
)
def actions(
    verdict_id: str,
    session: ReadSessionDep,
    _: Annotated[Principal, Depends(require("verdicts:read"))],
) -> list[dict[str, Any]]:
    """Every action recorded under the verdict, oldest first."""
    return list_actions(session, verdict_id)
