"""/v1/customers/{login}/codes: one-time codes for the Customer Panel to show once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from app.api.deps import SessionDep, SettingsDep, require
from app.api.idempotency import IdempotencyDep, about_customer
from app.api.routes.customers import Login
from app.api.schemas import ErrorBody
from app.auth import Principal
from app.db.types import utcnow
from app.registry.codes import code_key, issue_code
from app.registry.customers import get_customer
from app.settings import Settings

router = APIRouter(prefix="/v1/customers", tags=["codes"])


class CodeOut(BaseModel):
    code: str = Field(description='Shown once, as "1234-5678"; only its keyed hash is kept')
    expires_at: datetime


@router.post(
    "/{login}/codes",
    status_code=status.HTTP_201_CREATED,
    response_model=CodeOut,
    responses={404: {"model": ErrorBody}},
)
def issue(
    login: Login,
    session: SessionDep,
    settings: SettingsDep,
    _: Annotated[Principal, Depends(require("codes:issue"))],
    idempotency: IdempotencyDep,
) -> Any:
    """Issue a single-use code for the customer to copy into a message or tell an agent."""
    return idempotency.run(
        session, lambda: _issue(session, settings, login), CodeOut, 201, about_customer(login)
    )


def _issue(session: Session, settings: Settings, login: str) -> CodeOut:
    customer = get_customer(session, login)
    issued = issue_code(
        session,
        customer,
        code_key(settings.require_secret_key()),
        timedelta(minutes=settings.code_ttl_minutes),
        utcnow(),
    )
    return CodeOut(code=issued.code, expires_at=issued.expires_at)
