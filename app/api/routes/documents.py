"""/v1/verdicts/{id}/documents: signed paper documents received for a postal verdict."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from app.api.deps import SessionDep, require
from app.api.idempotency import IdempotencyDep, about_verdict_customer
from app.api.schemas import ErrorBody
from app.auth import Principal
from app.db.types import utcnow
from app.records.documents import DocumentChecks, record_documents

router = APIRouter(prefix="/v1/verdicts", tags=["desk"])


class Checked(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: bool
    address: bool
    signature_or_stamp: bool


class DocumentsIn(BaseModel):
    """What the agent checked on the documents received by post or fax."""

    model_config = ConfigDict(extra="forbid")

    agent: str = Field(min_length=1, max_length=100)
    checked: Checked
    note: str | None = Field(default=None, max_length=2000)


class DocumentsOut(BaseModel):
    id: str
    verdict_id: str
    agent: str
    checked: Checked
    complete: bool = Field(description="True when name, address and signature are all checked")
    note: str | None
    reason: str
    recorded_at: datetime


@router.post(
    "/{verdict_id}/documents",
    status_code=status.HTTP_201_CREATED,
    response_model=DocumentsOut,
    responses={404: {"model": ErrorBody}, 409: {"model": ErrorBody}},
)
def receive(
    verdict_id: str,
    body: DocumentsIn,
    session: SessionDep,
    _: Annotated[Principal, Depends(require("review"))],
    idempotency: IdempotencyDep,
) -> Any:
    """Record the receipt; a complete one completes the verdict, which itself is unchanged."""
    return idempotency.run(
        session,
        lambda: _record(session, verdict_id, body),
        DocumentsOut,
        201,
        about_verdict_customer(session, verdict_id),
    )


def _record(session: Session, verdict_id: str, body: DocumentsIn) -> dict[str, Any]:
    return record_documents(
        session,
        verdict_id,
        body.agent,
        DocumentChecks(
            name=body.checked.name,
            address=body.checked.address,
            signature_or_stamp=body.checked.signature_or_stamp,
        ),
        body.note,
        utcnow(),
    )
