"""Request and response bodies of the REST API (table models live in ``app/db``)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from app.db.models import Customer
from app.verdict_types import Assurance, Channel, Decision


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


class CustomerList(BaseModel):
    items: list[CustomerOut] = Field(
        description="The customer holding the service asked for: one, or none when nobody does"
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
    channel: Channel
    decision: Decision
    assurance: Assurance
    customer: str | None
    instruction: InstructionOut
    checks: list[CheckOut]
    reasons: list[str]
    rules_version: str
    signature: str


class VerdictPage(BaseModel):
    items: list[VerdictOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page")


class HeaderOut(BaseModel):
    name: str
    value: str = Field(description="As a mail client shows it (RFC 2047 words decoded)")


class PartOut(BaseModel):
    label: str = Field(description='How an agent finds it: "1 text/plain", "2 attachment …"')
    content_type: str
    filename: str | None
    attached: bool = Field(description="An attachment, or inside an attached message")
    read: bool = Field(description="Whether its text could be read (else see problem)")
    problem: str
    hidden_text: str = Field(description="HTML text kept out of sight (also in its text)")
    links: list[str] = Field(description="Where its HTML links point")


class TextOut(BaseModel):
    role: Literal["subject", "reply-subject", "own", "attached", "quoted", "forwarded", "unread"]
    part: str | None = Field(description="The label of its part; null for a subject")
    text: str


class MessageOut(BaseModel):
    verdict_id: str
    message_id: str | None
    message_sha256: str
    envelope: dict[str, Any] = Field(description="As recorded with the verdict")
    raw_kept: bool = Field(
        description="false once retention or an erasure emptied the message: "
        "then headers, parts and text are empty and only the verdict's record remains"
    )
    emptied_at: datetime | None
    problem: str = Field(description="Why the kept message could not be read; empty if read")
    headers: list[HeaderOut] = Field(description="The fields the checks read, top to bottom")
    parts: list[PartOut]
    text: list[TextOut] = Field(description="Every piece read, in the order a reader meets it")
    truncated: bool = Field(description="The sender's text was longer than what is read")


class TokenOut(BaseModel):
    id: int
    name: str = Field(description="Who or what uses it")
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None = Field(description="Refused from then on; null: never")
    revoked_at: datetime | None
    state: Literal["active", "expired", "revoked"]


class TokenList(BaseModel):
    items: list[TokenOut]


class PublicKey(BaseModel):
    kid: str
    alg: Literal["Ed25519"] = "Ed25519"
    public_key: str = Field(description="Raw 32-byte key, base64url without padding")


class KeySet(BaseModel):
    keys: list[PublicKey]


class WebhookIn(BaseModel):
    """A ticketing system's subscription."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2048, description="http(s) URL on an allowed host")
    events: list[str] = Field(
        min_length=1, max_length=20, description='e.g. ["verdict.recorded"], or ["*"] for all'
    )
    decisions: list[Decision] | None = Field(
        default=None, max_length=5, description="Only verdicts with these decisions"
    )
    secret: str | None = Field(
        default=None,
        max_length=200,
        description="Signing secret (24-200 printable characters); a random one if left out",
    )

    @field_validator("url", "events", "secret")
    @classmethod
    def _no_control_characters(cls, value: str | list[str] | None) -> str | list[str] | None:
        # PostgreSQL refuses NUL in text (a 500 instead of a 422), and none has a use here.
        texts = [value] if isinstance(value, str) else value or []
        if any(_WEBHOOK_CONTROL.search(text) for text in texts):
            raise ValueError("must not contain control characters (NUL, tab, line breaks)")
        return value


# C0 controls, DEL and C1 controls.
_WEBHOOK_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str]
    decisions: list[str] | None
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="Shown once; kept only sealed, for signing deliveries")


class DeliveryOut(BaseModel):
    id: str = Field(description="Sent as Intakeguard-Delivery; the same on every retry")
    event: str
    status: Literal["pending", "delivered", "dead"]
    attempts: int
    next_attempt_at: datetime | None = Field(description="When a pending delivery is due")
    last_attempt_at: datetime | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


# C0 controls (NUL among them: PostgreSQL refuses it in text), DEL and C1 controls; a
# free text may keep its line breaks and tabs, a one-line field nothing of the kind.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _one_line(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters (NUL, line breaks, tabs)")
    return value


def _free_text(value: str) -> str:
    if _CONTROL_IN_TEXT.search(value):
        raise ValueError("must not contain control characters other than line breaks and tabs")
    return value


OneLine = Annotated[str, AfterValidator(_one_line)]
FreeText = Annotated[str, AfterValidator(_free_text)]


class ReviewIn(BaseModel):
    """An agent's decision on a review, otp_required or confirmation_required verdict."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["accepted", "rejected"]
    agent: OneLine = Field(min_length=1, max_length=100)
    reason: FreeText = Field(min_length=1, max_length=4000, pattern=r"\S")
    supersedes: OneLine | None = Field(
        default=None,
        max_length=36,
        description="Id of the current review this one corrects; required for a second review",
    )


class ReviewOut(BaseModel):
    id: str
    verdict_id: str
    decision: Literal["accepted", "rejected"]
    agent: str
    reason: str
    supersedes: str | None
    recorded_at: str


class ConfirmationPartyOut(BaseModel):
    """One party asked to confirm: the holder, or a holder change's new holder."""

    role: Literal["holder", "new_holder"]
    status: Literal["waiting", "pending", "confirmed", "denied", "expired", "cancelled"] = Field(
        description="waiting: not asked yet (the holder answers first); cancelled: never "
        "asked, as the holder denied"
    )
    sent_at: str | None = Field(description="When their last link was sent (ISO 8601, UTC)")
    decided_at: str | None = Field(description="When they answered; null until then")


class ConfirmationOut(BaseModel):
    """The registered owner's confirmation of a confirmation_required verdict."""

    status: Literal["pending", "confirmed", "denied", "expired"]
    sent_at: str | None = Field(description="When the last link was sent (ISO 8601, UTC)")
    decided_at: str | None = Field(description="When the owner answered; null while pending")
    parties: list[ConfirmationPartyOut] = Field(
        default_factory=list,
        description="Each party asked, in order: the holder; for a holder change confirmed "
        "by both holders (e-cesja), then the new holder. Confirmed when all confirmed",
    )


class ReviewState(BaseModel):
    """A verdict's state: the signed verdict itself never changes (GET /v1/verdicts/{id})."""

    verdict_id: str
    verdict_decision: str = Field(description="The decision as recorded and signed")
    current_decision: str = Field(
        description="After the newest review, the owner's answer to a confirmation, or "
        "complete postal documents; what agents act on"
    )
    reviews: list[ReviewOut] = Field(
        description="Oldest first; each later one supersedes the one before"
    )
    confirmation: ConfirmationOut | None = Field(
        description="The owner's confirmation; null when none was sent"
    )


class ResendOut(BaseModel):
    """A confirmation mail queued again: a new link, the one before stops working."""

    verdict_id: str
    confirmation: ConfirmationOut


class ActionIn(BaseModel):
    """What an agent changed on the customer's behalf, and the one-time code it rested on."""

    model_config = ConfigDict(extra="forbid")

    agent: OneLine = Field(min_length=1, max_length=100)
    action: OneLine = Field(min_length=1, max_length=100, pattern=r"\S")
    details: FreeText = Field(min_length=1, max_length=4000)
    login: str = Field(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]+$")
    code_ref: OneLine | None = Field(
        default=None,
        max_length=100,
        description="The one-time code the action rests on, by where it was used: the id "
        "of the verdict (code in a message) or of the verification (code read on the phone "
        "or in a chat) that used one of this customer's codes; never the code itself. An id "
        "that names no use of the customer's codes is refused (409).",
    )


class ActionOut(BaseModel):
    id: str
    verdict_id: str
    agent: str
    action: str
    details: str
    login: str
    code_ref: str | None
    recorded_at: str


class ChainReportOut(BaseModel):
    intact: bool
    entries: int = Field(description="Entries verified before the first break (all if intact)")
    head_hash: str = Field(description="Hash of the last verified entry")
    broken_seq: int | None = Field(description="Sequence number of the first broken entry")
    problem: str | None
    erased_personal_records: int = Field(
        description="Entries whose personal side data was erased, each by an erasure entry"
    )


class CheckpointOut(BaseModel):
    """A signed chain head (README "Audit and records")."""

    size: int = Field(description="Entries in the chain when it was signed")
    head_hash: str = Field(description="Hash of entry number ``size``")
    signed_at: str
    checkpoint: str = Field(description="The signed text, for `audit verify --checkpoint`")


class ErasureIn(BaseModel):
    """Who asks for a customer's erasure and why (kept in the record: name no person)."""

    model_config = ConfigDict(extra="forbid")

    agent: OneLine = Field(min_length=1, max_length=100)
    reason: FreeText = Field(min_length=1, max_length=2000, pattern=r"\S")


class ErasureOut(BaseModel):
    login: str
    customer_removed: bool
    personal_records_erased: int
    raw_messages_erased: int
    verdicts_kept: int
    audit_entry: int = Field(description="Sequence number of the erasure entry in the chain")
    idempotency_answers_erased: int = Field(
        description="Answers kept for a retry (Idempotency-Key) about the customer, emptied"
    )
