"""Request and response bodies of the REST API (table models live in ``app/db``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.db.models import Customer


class ErrorBody(BaseModel):
    error: str
    detail: Any


class CustomerIn(BaseModel):
    """A customer as the Customer Panel registers it."""

    model_config = ConfigDict(extra="forbid")

    panel_email: str = Field(max_length=320, description="The address registered in the panel")
    kind: Literal["person", "company"]
    name: str = Field(max_length=300)
    pesel: str | None = Field(default=None, max_length=20)
    nip: str | None = Field(default=None, max_length=20)
    regon: str | None = Field(default=None, max_length=20)
    services: list[str] = Field(default_factory=list, max_length=5000)


class ServiceOut(BaseModel):
    kind: Literal["domain", "server"]
    name: str = Field(description="The name as people read it (U-label for IDN)")
    ascii: str = Field(description="The name as DNS has it (A-label for IDN)")


class CustomerOut(BaseModel):
    login: str
    panel_email: str
    kind: str
    name: str
    pesel: str | None = Field(description="Masked; the number itself is never stored")
    nip: str | None
    regon: str | None
    services: list[ServiceOut]
    created_at: datetime
    updated_at: datetime
    panel_email_changed_at: datetime

    @classmethod
    def of(cls, row: Customer) -> CustomerOut:
        return cls(
            login=row.login,
            panel_email=row.panel_email,
            kind=row.kind,
            name=row.name,
            pesel=row.pesel_masked,
            nip=row.nip_masked,
            regon=row.regon_masked,
            services=[
                ServiceOut(kind=s.kind, name=s.name_unicode, ascii=s.name_ascii)
                for s in row.services
            ],
            created_at=row.created_at,
            updated_at=row.updated_at,
            panel_email_changed_at=row.panel_email_changed_at,
        )


class CheckOut(BaseModel):
    name: str
    result: str
    reason: str


class InstructionOut(BaseModel):
    kinds: list[str]
    services: list[str]


class VerdictOut(BaseModel):
    """A recorded verdict; ``signature`` covers every other field (see /v1/keys)."""

    id: str
    message_id: str | None
    recorded_at: str
    channel: Literal["smtp", "pipe", "api"]
    decision: Literal["accepted", "rejected", "review", "otp_required", "postal_required"]
    assurance: Literal["none", "asserted", "authenticated", "authorized"]
    customer: str | None
    instruction: InstructionOut
    checks: list[CheckOut]
    reasons: list[str]
    rules_version: str
    signature: str


class VerdictPage(BaseModel):
    items: list[VerdictOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page")


class PublicKey(BaseModel):
    kid: str
    alg: Literal["Ed25519"] = "Ed25519"
    public_key: str = Field(description="Raw 32-byte key, base64url without padding")


class KeySet(BaseModel):
    keys: list[PublicKey]
