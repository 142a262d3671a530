"""Privacy: raw messages kept only for the retention period, and a customer's erasure.

Both remove data and record that they did, as audit entries; neither touches an
audit entry, so the chain verifies afterwards exactly as before.

Erasure removes: the customer's registry row (panel address, name, masked and hashed
PESEL/NIP/REGON, services, one-time codes), the personal side data of every audit entry
about them (registry changes, and the free text of reviews and actions under their
verdicts), the raw messages of their verdicts, and the envelope (client IP, HELO, MAIL
FROM) kept beside those verdicts, and the copies of those verdicts and alerts waiting in
or delivered from the outbox. It keeps: the verdicts as signed (they are the record of
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
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.audit import chain
from app.db.engine import checkpoint_sqlite, store_errors
from app.db.models import (
    AuditEntry,
    AuditPersonal,
    Customer,
    OutboxDelivery,
    OutboxEvent,
    StoredMessage,
    Verdict,
)
from app.db.types import utcnow
from app.errors import NotFound, StoreUnavailable

log = logging.getLogger(__name__)

# The name of the check of app.decision.checks.customer_match, as recorded verdicts
# hold it: the records read what the decision wrote, they do not import the decision
# (tests/app/records/test_retention.py holds the two names equal).
CUSTOMER_MATCH = "customer-match"

# Raw messages emptied per transaction (and named per audit entry): short transactions,
# so the chain lock and SQLite's write lock are never held for long.
PURGE_BATCH = 500


def purge_batch(session: Session, before: datetime, limit: int = PURGE_BATCH) -> int:
    """Empty up to ``limit`` raw messages received before ``before``; return how many."""
    hashes = list(
        session.scalars(
            select(StoredMessage.sha256)
            .where(StoredMessage.received_at < before, StoredMessage.purged_at.is_(None))
            .order_by(StoredMessage.received_at, StoredMessage.sha256)
            .limit(limit)
        )
    )
    if hashes:
        _empty_raw(session, hashes, utcnow())
        chain.append(
            session,
            "retention_purge",
            "raw-messages",
            {"received_before": before.isoformat(), "message_sha256": sorted(hashes)},
        )
    return len(hashes)


def run_retention(sessions: sessionmaker[Session], days: int, now: datetime | None = None) -> int:
    """Purge every raw message older than ``days``, a batch per transaction.

    The server's periodic loop and ``intakeguard retention run`` call this; it raises
    StoreUnavailable when the database cannot be reached, and is safe to re-run.
    """
    before = (now or utcnow()) - timedelta(days=days)
    total = 0
    while True:
        with store_errors(), sessions.begin() as session:
            count = purge_batch(session, before)
        total += count
        if count < PURGE_BATCH:
            break
    with store_errors(), sessions.begin() as session:
        outbox = purge_outbox(session, before)
    if outbox:
        log.info("retention: emptied %d outbox copy(ies) older than %s", outbox, before)
    if total or outbox:
        checkpoint_sqlite(sessions.kw["bind"])
        log.info("retention: emptied %d raw message(s) received before %s", total, before)
    return total


def purge_outbox(session: Session, before: datetime) -> int:
    """Empty the verdict copies of outbox events and the alerts finished before ``before``.

    Events still to be dispatched or with a delivery still pending keep their data: a
    ticketing system that was down must still get what happened. Returns how many rows
    were emptied.
    """
    pending = exists().where(
        OutboxDelivery.event_seq == OutboxEvent.seq, OutboxDelivery.status == "pending"
    )
    events = session.execute(
        update(OutboxEvent)
        .where(
            OutboxEvent.created_at < before,
            OutboxEvent.dispatched_at.is_not(None),
            ~pending,
        )
        .values(data={"purged": True})
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    alerts = session.execute(
        update(OutboxDelivery)
        .where(
            OutboxDelivery.kind == "alert",
            OutboxDelivery.status != "pending",
            OutboxDelivery.next_attempt_at < before,
            OutboxDelivery.payload.is_not(None),
        )
        .values(payload=None)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    return int(events) + int(alerts)


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


def _empty_raw(session: Session, hashes: list[str], now: datetime) -> None:
    session.execute(
        update(StoredMessage).where(StoredMessage.sha256.in_(hashes)).values(raw=b"", purged_at=now)
    )


@dataclass(frozen=True, slots=True)
class ErasureReport:
    login: str
    customer_removed: bool
    personal_records: int
    raw_messages: int
    verdicts: int
    entry_seq: int

    def as_dict(self) -> dict[str, object]:
        return {
            "login": self.login,
            "customer_removed": self.customer_removed,
            "personal_records_erased": self.personal_records,
            "raw_messages_erased": self.raw_messages,
            "verdicts_kept": self.verdicts,
            "audit_entry": self.entry_seq,
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
        _empty_raw(session, hashes[start : start + PURGE_BATCH], utcnow())
    outbox = _erase_outbox(session, login)
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
            "reason": reason,
            "customer_removed": bool(removed),
            "erased_entries": entries,
            "raw_message_sha256": hashes,
            "evidence_kept_sha256": sorted({row.message_sha256 for row in verdicts} - set(hashes)),
            "outbox_copies_erased": outbox,
        },
    )
    log.info(
        "erased customer %s for %s: %d personal record(s), %d raw message(s)",
        login,
        agent,
        len(entries),
        len(hashes),
    )
    return ErasureReport(login, bool(removed), len(entries), len(hashes), len(verdicts), entry.seq)


def _third_party_attempt(decision: str, checks: list[dict[str, object]]) -> bool:
    """Whether a verdict rejected a message whose sender was not the registered address."""
    return decision == "rejected" and any(
        check.get("name") == CUSTOMER_MATCH and check.get("result") == "fail" for check in checks
    )


class RetentionWorker:
    """Runs ``run_retention`` shortly after start and then every ``interval`` in a thread.

    Several replicas may each run one: a purge is idempotent, at worst a batch is emptied
    twice and recorded twice in the chain.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        days: int,
        interval: timedelta = timedelta(hours=1),
        first_delay: float = 60.0,
    ) -> None:
        self.sessions = sessions
        self.days = days
        self.interval = interval
        self.first_delay = first_delay
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="retention", daemon=True)
        self._thread.start()
        log.info(
            "retention: raw messages are kept %d days; purging every %s", self.days, self.interval
        )

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        wait = self.first_delay
        while not self._stop.wait(wait):
            try:
                run_retention(self.sessions, self.days)
            except StoreUnavailable as exc:
                log.warning("retention: store unavailable, trying again later: %s", exc)
            # log.exception keeps the traceback: the thread must outlive any one bad pass.
            except Exception:
                log.exception("retention: unexpected error; trying again later")
            wait = self.interval.total_seconds()
