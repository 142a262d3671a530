"""Table models. Request and response schemas live apart, in ``app/api/schemas.py``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Boolean, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from app.db.types import BigIntegerKey, UTCDateTime


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Customer(Base):
    """A customer of the Customer Panel and the address registered there."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(300))
    panel_email: Mapped[str] = mapped_column(String(320), index=True)
    panel_email_changed_at: Mapped[datetime]
    pesel_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    pesel_masked: Mapped[str | None] = mapped_column(String(16))
    nip_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    nip_masked: Mapped[str | None] = mapped_column(String(16))
    regon_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    regon_masked: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    services: Mapped[list[Service]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="Service.id"
    )


class Service(Base):
    """A domain name or server id; one belongs to at most one customer."""

    __tablename__ = "services"

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    # Domains as A-label (what we match on) and U-label (what people read).
    name_ascii: Mapped[str] = mapped_column(String(253), unique=True)
    name_unicode: Mapped[str] = mapped_column(String(253))
    # UTS #39 skeleton of a domain (mailhook.confusables), to find look-alikes with one
    # indexed lookup; None for server ids. At most two characters per character (m→rn).
    skeleton: Mapped[str | None] = mapped_column(String(506), index=True)

    customer: Mapped[Customer] = relationship(back_populates="services")


class ApiToken(Base):
    """A bearer token, kept only as its SHA-256, with the scopes it grants."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[Any]]
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class StoredMessage(Base):
    """The raw message a verdict is about, referenced by its SHA-256."""

    __tablename__ = "messages"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime]


class Verdict(Base):
    """One recorded verdict; rows are only ever inserted."""

    __tablename__ = "verdicts"
    __table_args__ = (
        Index("ix_verdicts_decision_seq", "decision", "seq"),
        Index("ix_verdicts_customer_seq", "customer", "seq"),
        Index("ix_verdicts_message_id_seq", "message_id", "seq"),
    )

    # seq orders verdicts for keyset pagination; id is the public identifier.
    seq: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    message_id: Mapped[str | None] = mapped_column(String(998))
    message_sha256: Mapped[str] = mapped_column(String(64), index=True)
    recorded_at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(8))
    decision: Mapped[str] = mapped_column(String(20))
    assurance: Mapped[str] = mapped_column(String(16))
    customer: Mapped[str | None] = mapped_column(String(64))
    instruction: Mapped[dict[str, Any]]
    checks: Mapped[list[Any]]
    reasons: Mapped[list[Any]]
    envelope: Mapped[dict[str, Any]]
    rules_version: Mapped[str] = mapped_column(String(80))
    signature: Mapped[str] = mapped_column(Text)


class MessageFingerprint(Base):
    """A DKIM signature or Message-ID of a recorded message, to recognise it again."""

    __tablename__ = "message_fingerprints"
    __table_args__ = (Index("ix_message_fingerprints_kind_value", "kind", "value", "id"),)

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    # "dkim-b" (SHA-256 of a signature's b= value) or "message-id" (SHA-256 of the value).
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(64))
    body_sha256: Mapped[str] = mapped_column(String(64))
    message_sha256: Mapped[str] = mapped_column(String(64))
    verdict_id: Mapped[str] = mapped_column(ForeignKey("verdicts.id"))
    seen_at: Mapped[datetime]


class OneTimeCode(Base):
    """A one-time code issued to a customer; only its keyed hash is kept."""

    __tablename__ = "one_time_codes"
    __table_args__ = (Index("ix_one_time_codes_customer_hash", "customer_id", "code_hash"),)

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    # HMAC-SHA256 under a key derived from the secret key (app.codes), never the code.
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    # Where the code was used: a verdict (mail) or a phone or chat verification.
    used_by_verdict: Mapped[str | None] = mapped_column(ForeignKey("verdicts.id"))
    used_by_verification: Mapped[str | None] = mapped_column(String(36))


class FailedCodeAttempt(Base):
    """A wrong, expired or used code offered for a customer; counted for the lockout."""

    __tablename__ = "failed_code_attempts"
    __table_args__ = (Index("ix_failed_code_attempts_customer_at", "customer_id", "attempted_at"),)

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    attempted_at: Mapped[datetime]
    # mail, phone or chat: where the attempt came from.
    channel: Mapped[str] = mapped_column(String(8))


class Verification(Base):
    """A phone or live-chat verification; rows are only ever inserted.

    The PESEL, NIP or REGON a caller gave is never kept, only which kind was given.
    """

    __tablename__ = "verifications"

    seq: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    recorded_at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(8))
    agent: Mapped[str] = mapped_column(String(100))
    service: Mapped[str] = mapped_column(String(253))
    identifier_kind: Mapped[str | None] = mapped_column(String(8))
    login: Mapped[str | None] = mapped_column(String(64))
    code_offered: Mapped[bool] = mapped_column(Boolean)
    stage: Mapped[str] = mapped_column(String(16))
    customer: Mapped[str | None] = mapped_column(String(64), index=True)
    reasons: Mapped[list[Any]]


class DocumentReceipt(Base):
    """Signed paper documents received for a postal_required verdict; insert-only."""

    __tablename__ = "document_receipts"

    seq: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    verdict_id: Mapped[str] = mapped_column(ForeignKey("verdicts.id"), index=True)
    recorded_at: Mapped[datetime]
    agent: Mapped[str] = mapped_column(String(100))
    name_checked: Mapped[bool] = mapped_column(Boolean)
    address_checked: Mapped[bool] = mapped_column(Boolean)
    signature_or_stamp_checked: Mapped[bool] = mapped_column(Boolean)
    complete: Mapped[bool] = mapped_column(Boolean)
    # The verdict id on a complete receipt, NULL otherwise: unique, so a verdict is
    # completed once even when two agents record at the same moment.
    completes_verdict: Mapped[str | None] = mapped_column(String(36), unique=True)
    note: Mapped[str | None] = mapped_column(Text)
