"""A customer's erasure: their personal data removed, the record of what was decided kept.

Recorded as an audit entry; no audit entry is touched, so the chain verifies afterwards
exactly as before.

Erasure removes: the customer's registry row (panel address, name, masked and hashed
PESEL/NIP/REGON, services, one-time codes), the personal side data of every audit entry
about them (registry changes, and the free text of reviews and actions under their
verdicts), the raw messages of their verdicts, and the envelope (client IP, HELO, MAIL
FROM) kept beside those verdicts, the copies of those verdicts and alerts waiting in
or delivered from the outbox, and the answers kept for a retry under an Idempotency-Key
that are about them (app.api.idempotency: a retry then gets ERASED_ANSWER, not the
answer, and records nothing again). It keeps: the verdicts as signed (they are the record of
what was decided, and a signature cannot survive an edit, so the addresses, names and IP
addresses their check reasons quote stay), reviews, agent actions, verifications,
document receipts, the login as the pseudonymous key of all of these, and every
message's SHA-256.

It also keeps the raw message and envelope of a rejected verdict whose sender was not
the customer's registered address (its customer-match check failed): that message is a
third party's attempt in the customer's name, the evidence of an abuse, not the
customer's own mail.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.audit import chain
from app.db.models import (
    AuditEntry,
    AuditPersonal,
    Confirmation,
    Customer,
    IdempotencyKey,
    OutboxDelivery,
    OutboxEvent,
    Verdict,
)
from app.db.types import utcnow
from app.errors import NotFound
from app.logs import redact
from app.records.retention import PURGE_BATCH, empty_raw

log = logging.getLogger(__name__)

# The name of the check of app.decision.checks.customer_match, as recorded verdicts
# hold it: the records read what the decision wrote, they do not import the decision
# (tests/app/records/test_retention.py holds the two names equal).
CUSTOMER_MATCH = "customer-match"

# An answer kept under an Idempotency-Key, once erased, is this status and no body: a
# retry is told the answer is gone (410 Gone), and is not recorded a second time.
ERASED_ANSWER = 410
# idempotency_keys.customer of answers kept before migration 0016: about whom is not
# known without opening them, so every erasure empties them.
ANY_CUSTOMER = "*"


def _erase_idempotency_answers(session: Session, login: str) -> int:
    """Empty the answers kept for a retry that are about ``login``."""
    erased = session.execute(
        update(IdempotencyKey)
        .where(
            IdempotencyKey.customer.in_((login, ANY_CUSTOMER)),
            IdempotencyKey.status != ERASED_ANSWER,
        )
        .values(status=ERASED_ANSWER, response="")
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    return int(erased)


def _erase_outbox(session: Session, login: str) -> int:
    """Replace the outbox's copies of ``login``'s verdicts and alerts by a marker.

    A delivery still pending then posts the marker, so a ticketing system learns that
    the verdict's content was erased instead of receiving it.
    """
    events = list(
        session.scalars(
            select(OutboxEvent).where(OutboxEvent.data["customer"].as_string() == login)
        )
    )
    for event in events:
        event.data = {"id": event.data.get("id"), "customer": login, "erased": True}
    alerts = session.execute(
        update(OutboxDelivery)
        .where(
            OutboxDelivery.kind == "alert",
            OutboxDelivery.payload["login"].as_string() == login,
        )
        .values(payload=None)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    return len(events) + int(alerts)


@dataclass(frozen=True, slots=True)
class ErasureReport:
    login: str
    customer_removed: bool
    personal_records: int
    raw_messages: int
    verdicts: int
    entry_seq: int
    idempotency_answers: int

    def as_dict(self) -> dict[str, object]:
        return {
            "login": self.login,
            "customer_removed": self.customer_removed,
            "personal_records_erased": self.personal_records,
            "raw_messages_erased": self.raw_messages,
            "verdicts_kept": self.verdicts,
            "audit_entry": self.entry_seq,
            "idempotency_answers_erased": self.idempotency_answers,
        }


def erase_customer(session: Session, login: str, agent: str, reason: str) -> ErasureReport:
    """Erase a customer's personal data (see the module docstring) in the caller's
    transaction; NotFound when nothing at all is known about ``login``."""
    removed = session.execute(delete(Customer).where(Customer.login == login)).rowcount  # type: ignore[attr-defined]
    theirs = select(Verdict.id).where(Verdict.customer == login).scalar_subquery()
    entries = list(
        session.scalars(
            select(AuditPersonal.entry_seq)
            .join(AuditEntry, AuditEntry.seq == AuditPersonal.entry_seq)
            # Registry entries name the login; reviews and actions name the verdict.
            .where((AuditEntry.subject == login) | AuditEntry.subject.in_(theirs))
            .order_by(AuditPersonal.entry_seq)
        )
    )
    verdicts = list(
        session.execute(
            select(Verdict.id, Verdict.message_sha256, Verdict.decision, Verdict.checks).where(
                Verdict.customer == login
            )
        )
    )
    if not removed and not entries and not verdicts:
        raise NotFound(f"nothing is stored about a customer with login {login!r}")
    if entries:
        session.execute(delete(AuditPersonal).where(AuditPersonal.entry_seq.in_(entries)))
    own = [row for row in verdicts if not _third_party_attempt(row.decision, row.checks)]
    hashes = sorted({row.message_sha256 for row in own})
    for start in range(0, len(hashes), PURGE_BATCH):
        empty_raw(session, hashes[start : start + PURGE_BATCH], utcnow())
    outbox = _erase_outbox(session, login)
    answers = _erase_idempotency_answers(session, login)
    # The address each confirmation link went to; the links stop working too.
    session.execute(
        update(Confirmation)
        .where(Confirmation.customer == login)
        .values(to_address="erased", token_hash=None, status="expired")
    )
    ids = [row.id for row in own]
    for start in range(0, len(ids), PURGE_BATCH):
        # Unsigned and outside the chain: the sender's addresses the verdict was judged on.
        session.execute(
            update(Verdict)
            .where(Verdict.id.in_(ids[start : start + PURGE_BATCH]))
            .values(envelope={"erased": True})
        )
    entry = chain.append(
        session,
        chain.ERASURE,
        login,
        {
            "login": login,
            "agent": agent,
            # Permanent, in the chain: no identifier or one-time code in clear (app.logs).
            "reason": redact(reason),
            "customer_removed": bool(removed),
            "erased_entries": entries,
            "raw_message_sha256": hashes,
            "evidence_kept_sha256": sorted({row.message_sha256 for row in verdicts} - set(hashes)),
            "outbox_copies_erased": outbox,
            "idempotency_answers_erased": answers,
        },
    )
    log.info(
        "erased customer %s for %s: %d personal record(s), %d raw message(s)",
        login,
        agent,
        len(entries),
        len(hashes),
    )
    return ErasureReport(
        login, bool(removed), len(entries), len(hashes), len(verdicts), entry.seq, answers
    )


def _third_party_attempt(decision: str, checks: list[dict[str, object]]) -> bool:
    """Whether a verdict rejected a message whose sender was not the registered address."""
    return decision == "rejected" and any(
        check.get("name") == CUSTOMER_MATCH and check.get("result") == "fail" for check in checks
    )
