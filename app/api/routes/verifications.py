"""/v1/verifications: phone and live-chat callers checked against the registry and codes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy.orm import Session

from app.api.deps import SessionDep, SettingsDep, require
from app.api.idempotency import IdempotencyDep, about_named_customer
from app.api.schemas import ErrorBody
from app.auth import Principal
from app.db.types import utcnow
from app.records.verifications import CallerClaims, record_verification
from app.registry.codes import normalise_code
from app.registry.customers import LOGIN
from app.registry.identifiers import IdentifierKind
from app.settings import Settings

router = APIRouter(prefix="/v1/verifications", tags=["desk"])


class VerificationIn(BaseModel):
    """What the caller told the agent; PESEL, NIP and REGON are never echoed or stored."""

    model_config = ConfigDict(extra="forbid")

    channel: Literal["phone", "chat"]
    service: str = Field(min_length=1, max_length=253, description="Domain or server id named")
    pesel: str | None = Field(default=None, max_length=20)
    nip: str | None = Field(default=None, max_length=20)
    regon: str | None = Field(default=None, max_length=20)
    login: str | None = Field(default=None, max_length=64, pattern=LOGIN.pattern)
    code: str | None = Field(
        default=None, max_length=20, description='One-time code, "1234-5678" or "12345678"'
    )
    agent: str = Field(min_length=1, max_length=100)

    @field_validator("code")
    @classmethod
    def _code(cls, value: str | None) -> str | None:
        if value is None:
            return None
        digits = normalise_code(value)
        if digits is None:
            raise ValueError("a one-time code is 8 digits, like 1234-5678")
        return digits

    @model_validator(mode="after")
    def _one_identifier(self) -> Self:
        given = [kind for kind in ("pesel", "nip", "regon") if getattr(self, kind) is not None]
        if len(given) > 1:
            raise ValueError("give one identifier: pesel, nip or regon")
        if self.code is not None and self.login is None:
            raise ValueError("a one-time code is checked together with the login")
        return self


class VerificationOut(BaseModel):
    id: str
    stage: Literal["none", "identified", "authorized"]
    customer: str | None
    reasons: list[str]
    recorded_at: datetime


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=VerificationOut,
    responses={422: {"model": ErrorBody}},
)
def verify(
    body: VerificationIn,
    session: SessionDep,
    settings: SettingsDep,
    _: Annotated[Principal, Depends(require("review"))],
    idempotency: IdempotencyDep,
) -> Any:
    """Which stage the caller passes: ``identified`` or ``authorized`` (the code is used up)."""
    return idempotency.run(
        session,
        lambda: _verify(session, settings, body),
        VerificationOut,
        201,
        about_named_customer,
    )


def _verify(session: Session, settings: Settings, body: VerificationIn) -> dict[str, Any]:
    kind = next(
        (k for k in IdentifierKind if getattr(body, k.value) is not None),
        None,
    )
    return record_verification(
        session,
        CallerClaims(
            channel=body.channel,
            service=body.service,
            agent=body.agent,
            identifier_kind=kind,
            identifier=getattr(body, kind.value) if kind else None,
            login=body.login,
            code=body.code,
        ),
        settings.require_secret_key(),
        utcnow(),
    )
