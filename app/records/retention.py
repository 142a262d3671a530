"""Privacy: raw messages kept only for the retention period, then emptied.

The purge removes data and records that it did, as audit entries; it never touches an
audit entry, so the chain verifies afterwards exactly as before. A customer's erasure,
which shares the emptying of raw messages, is app.records.erasure.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.audit import chain
from app.db.engine import checkpoint_sqlite, write_transaction
from app.db.models import (
    IdempotencyKey,
    OutboxDelivery,
    OutboxEvent,
    StoredMessage,
)
from app.db.types import utcnow
from app.records.periodic import PeriodicWorker

log = logging.getLogger(__name__)

# Raw messages emptied per transaction (and named per audit entry): short transactions,
# so the chain lock and SQLite's write lock are never held for long.
PURGE_BATCH = 500
# How long an Idempotency-Key's first answer is kept (app.api.idempotency): long enough
# for any client's retries, short enough that a copy of an answer does not outlive it.
IDEMPOTENCY_WINDOW = timedelta(hours=24)


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
        empty_raw(session, hashes, utcnow())
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
    now = now or utcnow()
    before = now - timedelta(days=days)
    total = 0
    while True:
        with write_transaction(sessions) as session:
            count = purge_batch(session, before)
        total += count
        if count < PURGE_BATCH:
            break
    with write_transaction(sessions) as session:
        outbox = purge_outbox(session, before)
    with write_transaction(sessions) as session:
        keys = session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.created_at < now - IDEMPOTENCY_WINDOW)
        ).rowcount  # type: ignore[attr-defined]
    if keys:
        log.info("retention: forgot %d idempotency key(s)", keys)
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


def empty_raw(session: Session, hashes: list[str], now: datetime) -> None:
    session.execute(
        update(StoredMessage).where(StoredMessage.sha256.in_(hashes)).values(raw=b"", purged_at=now)
    )


class RetentionWorker(PeriodicWorker):
    """Runs ``run_retention`` shortly after start and then every ``interval`` in a thread.

    Several replicas may each run one: a purge is idempotent, at worst a batch is emptied
    twice and recorded twice in the chain.
    """

    name = "retention"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        days: int,
        interval: timedelta = timedelta(hours=1),
        first_delay: float = 60.0,
    ) -> None:
        super().__init__(interval, first_delay)
        self.sessions = sessions
        self.days = days

    def describe(self) -> str:
        return f"raw messages are kept {self.days} days; purging every {self.interval}"

    def run_once(self) -> int:
        return run_retention(self.sessions, self.days)
