"""Table models. Request and response schemas live apart, in ``app/api/schemas.py``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from app.db.types import BigIntegerKey, UTCDateTime


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


def table_of(model: type[Base]) -> Table:
    """The table of ``model``, for plain Core statements on the hot path.

    An insert or select naming the model goes through the ORM's bulk and loading
    machinery and costs about three times what the same statement on the table costs;
    rows only ever inserted, or read as plain values, need none of it. Unlike an ORM
    statement, such a statement does not flush the session first.
    """
    return cast(Table, model.__table__)


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


class CustomerNameKey(Base):
    """A key a customer's name is found by in a message's text (mailhook.names): a
    company's name without its legal form, a person's first and last name. Written with
    the customer (app.registry.name_keys); read by the key, through the index."""

    __tablename__ = "customer_name_keys"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(300), primary_key=True, index=True)


class RegistryVersion(Base):
    """One row: a number every change of ``customers``, ``services`` or
    ``customer_name_keys`` raises, in the change's own transaction (database triggers,
    migrations 0010 and 0015), so a process can tell whether what it remembers of the
    registry (app.registry.index) is still current."""

    __tablename__ = "registry_version"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)


class ApiToken(Base):
    """A bearer token, kept only as its SHA-256, with the scopes it grants."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[Any]]
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    # Refused from this moment on, as if revoked; None: until revoked.
    expires_at: Mapped[datetime | None]


class StoredMessage(Base):
    """The raw message a verdict is about, referenced by its SHA-256."""

    __tablename__ = "messages"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime]
    # Set when retention (app.records.retention) emptied ``raw``; the SHA-256 and verdicts stay.
    purged_at: Mapped[datetime | None]


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
    # "confirmation_required" is 21 characters (migration 0009 widened the column).
    decision: Mapped[str] = mapped_column(String(32))
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
    # HMAC-SHA256 under a key derived from the secret key (app.registry.codes), never the code.
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


class AuditEntry(Base):
    """One link of the tamper-evident record (app.audit.chain); rows are only ever inserted."""

    __tablename__ = "audit_entries"

    # Numbered by the appender under the chain lock, not by the database: a gap or a
    # duplicate can only come from tampering.
    seq: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=False)
    # Kept as the exact text that was hashed, so no driver or timezone round trip alters it.
    recorded_at: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(253), index=True)
    # Canonical JSON (app.signing.canonical_json) without personal data.
    payload: Mapped[str] = mapped_column(Text)
    # Unique: two entries claiming the same predecessor would be a fork.
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    entry_hash: Mapped[str] = mapped_column(String(64))


class AuditPersonal(Base):
    """Personal data an entry commits to by salted hash; erasure deletes the row."""

    __tablename__ = "audit_personal"

    entry_seq: Mapped[int] = mapped_column(
        ForeignKey("audit_entries.seq"), primary_key=True, autoincrement=False
    )
    salt: Mapped[str] = mapped_column(String(32))
    data: Mapped[str] = mapped_column(Text)


class AuditCheckpoint(Base):
    """A signed chain head (app.audit.checkpoints), kept to be read back and published."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    # The chain's size (its last seq) and that entry's hash when it was signed.
    size: Mapped[int] = mapped_column(BigInteger)
    head_hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[str] = mapped_column(String(32))
    # The signed text, exactly as printed and published.
    note: Mapped[str] = mapped_column(Text)


class IdempotencyKey(Base):
    """A POST's Idempotency-Key and its first answer (app.api.idempotency), sealed."""

    __tablename__ = "idempotency_keys"

    # Scoped per caller (the token's principal) and per route (its path template).
    principal: Mapped[str] = mapped_column(String(200), primary_key=True)
    route: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    # A keyed hash of the method, path, query and body: a different request is refused.
    request_mac: Mapped[str] = mapped_column(String(64))
    status: Mapped[int]
    # The response body, sealed (it may carry a one-time code or a webhook secret).
    response: Mapped[str] = mapped_column(Text)
    # Retention forgets keys after app.records.retention.IDEMPOTENCY_WINDOW.
    created_at: Mapped[datetime] = mapped_column(index=True)
    # The login of the customer the answer is about, if any: erasing that customer
    # (app.records.erasure) empties the answer; ANY_CUSTOMER on answers kept before 0016.
    customer: Mapped[str | None] = mapped_column(String(64), index=True)


class Review(Base):
    """An agent's decision on a review/otp_required verdict; rows are only ever inserted."""

    __tablename__ = "reviews"

    seq: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    verdict_id: Mapped[str] = mapped_column(ForeignKey("verdicts.id"), index=True)
    recorded_at: Mapped[datetime]
    decision: Mapped[str] = mapped_column(String(20))
    agent: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    # Unique both: a review is superseded at most once, and a verdict gets one first
    # review, even when two agents answer at the same moment.
    supersedes: Mapped[str | None] = mapped_column(String(36), unique=True)
    first_for_verdict: Mapped[str | None] = mapped_column(String(36), unique=True)


class AgentAction(Base):
    """What an agent changed on the customer's behalf after a verdict; insert-only."""

    __tablename__ = "agent_actions"

    seq: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    verdict_id: Mapped[str] = mapped_column(ForeignKey("verdicts.id"), index=True)
    recorded_at: Mapped[datetime]
    agent: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(100))
    details: Mapped[str] = mapped_column(Text)
    login: Mapped[str] = mapped_column(String(64))
    # A reference to the one-time code used (its id or the verification id), never the code.
    code_ref: Mapped[str | None] = mapped_column(String(100))


class WebhookSubscription(Base):
    """A ticketing system's webhook: where to post which events, and the signing secret."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[Any]]
    # Only verdicts with one of these decisions; None for all.
    decisions: Mapped[list[Any] | None]
    # AES-GCM under a key derived from SECRET_KEY (app.delivery.webhooks.SecretBox), never in clear.
    secret_sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class OutboxEvent(Base):
    """An event written in the transaction of what it reports (app.delivery.outbox)."""

    __tablename__ = "outbox_events"

    seq: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    event: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    # Set when the worker has turned the event into deliveries.
    dispatched_at: Mapped[datetime | None] = mapped_column(index=True)


class OutboxDelivery(Base):
    """One event to one webhook subscription, or one alert; retried until done or dead."""

    __tablename__ = "outbox_deliveries"
    __table_args__ = (
        Index("ix_outbox_deliveries_status_due", "status", "next_attempt_at"),
        Index("ix_outbox_deliveries_subscription", "subscription_id", "status", "seq"),
    )

    seq: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    # Sent as Intakeguard-Delivery: the receiver's idempotency key, the same on every retry.
    id: Mapped[str] = mapped_column(String(36), unique=True)
    # "webhook", "alert" or "confirm" (a confirmation mail).
    kind: Mapped[str] = mapped_column(String(8))
    subscription_id: Mapped[str | None] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    event_seq: Mapped[int] = mapped_column(ForeignKey("outbox_events.seq"))
    event: Mapped[str] = mapped_column(String(64))
    # What an alert says (app.delivery.alerts.plan_alert); webhooks post the event's data instead.
    payload: Mapped[dict[str, Any] | None]
    # pending, delivered or dead.
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int]
    next_attempt_at: Mapped[datetime]
    # A worker's lease while it posts; another worker may take over once it has passed.
    claimed_until: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class AlertThrottle(Base):
    """When a customer was last alerted, and how many alerts were held back since."""

    __tablename__ = "alert_throttle"

    customer: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_alert_at: Mapped[datetime | None]
    suppressed: Mapped[int]


class Confirmation(Base):
    """A request to the registered owner to confirm or deny, and its single-use link.

    Delivery state only (the link's keyed hash, when it was sent, when it expires); the
    owner's answer is a record of its own, ``ConfirmationAnswer``, in the audit chain.
    """

    __tablename__ = "confirmations"

    seq: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    # "verdict" (confirm an instruction), "panel_change" (a notice to the old address),
    # or the two stages of a holder change (e-cesja): "holder", then "new_holder".
    purpose: Mapped[str] = mapped_column(String(16))
    verdict_id: Mapped[str | None] = mapped_column(ForeignKey("verdicts.id"), unique=True)
    # The second stage of a holder change: the verdict whose change the new holder (this
    # row's customer) confirms; ``verdict_id`` stays null, one confirmation per verdict.
    new_holder_for: Mapped[str | None] = mapped_column(String(36), unique=True, index=True)
    customer: Mapped[str] = mapped_column(String(64), index=True)
    # Where the link goes: the panel address (for a panel change, the old one).
    to_address: Mapped[str] = mapped_column(String(320))
    # HMAC-SHA256 of the token under a key derived from the secret key; the token itself
    # exists only in the mail. Null until the first mail is sent.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    sends: Mapped[int]
    # pending, answered or expired; a holder change's second stage is "waiting" until the
    # current holder confirms, "cancelled" when they deny.
    status: Mapped[str] = mapped_column(String(10), index=True)

    @property
    def verdict_ref(self) -> str | None:
        """The verdict this confirmation is about, whichever stage it is."""
        return self.verdict_id or self.new_holder_for


class ConfirmationAnswer(Base):
    """The owner's answer to a confirmation: insert-only, one per confirmation, chained."""

    __tablename__ = "confirmation_answers"

    seq: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    # Unique: of two answers racing (two replicas, two clicks), the second fails.
    confirmation_id: Mapped[str] = mapped_column(ForeignKey("confirmations.id"), unique=True)
    verdict_id: Mapped[str | None] = mapped_column(ForeignKey("verdicts.id"), index=True)
    customer: Mapped[str] = mapped_column(String(64), index=True)
    # confirm or deny.
    answer: Mapped[str] = mapped_column(String(8))
    recorded_at: Mapped[datetime]


class ConsoleAgent(Base):
    """A person who logs in to the agents' console; never deleted, only disabled, so the
    login on past reviews keeps naming who it was."""

    __tablename__ = "console_agents"

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # agent or lead.
    role: Mapped[str] = mapped_column(String(8))
    # argon2id, in the PHC string format argon2-cffi writes ($argon2id$v=19$m=…).
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]


class ConsoleSession(Base):
    """A logged-in browser: the SHA-256 of its cookie, never the cookie itself."""

    __tablename__ = "console_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[int] = mapped_column(
        ForeignKey("console_agents.id", ondelete="CASCADE"), index=True
    )
    # The token every form of this session carries (synchroniser pattern).
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class ConsoleLoginFailure(Base):
    """A failed login, counted per login and per client address to throttle guessing."""

    __tablename__ = "console_login_failures"

    seq: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    login: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    failed_at: Mapped[datetime] = mapped_column(index=True)
