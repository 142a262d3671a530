"""The transactional outbox: events written with the verdict, delivered by a worker.

``enqueue`` adds an event row in the caller's transaction, so an event exists exactly
when what it reports was committed. ``OutboxWorker`` runs apart from the request path
(a thread started by ``intakeguard serve``/``api``): it turns each event into one
delivery per matching webhook subscription (and an alert to the registered owner when
due), then posts deliveries, oldest first per subscription, retrying with exponential
back-off and jitter for more than 24 hours before it dead-letters one.

Several replicas on PostgreSQL: one dispatcher at a time (a transaction-scoped advisory
lock), deliveries claimed with ``FOR UPDATE SKIP LOCKED`` and a lease, so no two
workers post the same delivery at once. SQLite has a single writer and ignores
``FOR UPDATE``; a plain select is enough there. The worker's write transactions take the
store's writer turn (app.db.engine.writer_turn) like the batches of verdicts do: a
dispatch that met a batch at SQLite's lock instead slept in its busy handler, and so did
the batch that met the dispatch, up to tens of milliseconds each with the lock free.
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import httpx
from sqlalchemy import exists, insert, or_, select, text, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from app import metrics
from app.db.engine import read_only_sessions, store_errors, write_transaction
from app.db.models import OutboxDelivery, OutboxEvent, WebhookSubscription, table_of
from app.db.types import utcnow
from app.delivery.alerts import AlertSender, alert_sender_from_settings, plain, plan_alert
from app.delivery.confirmations import ConfirmationMailer, plan_confirmation, token_key
from app.delivery.webhooks import (
    EVENTS,
    DeliveryFailed,
    SecretBox,
    WebhookSender,
    delivery_body,
    get_subscription,
    list_subscriptions,
    wants,
)
from app.errors import Conflict, NotFound, StoreUnavailable
from app.settings import Settings

log = logging.getLogger(__name__)

# 30 s, 1, 2, 4 … min, capped at 1 h: the 32nd attempt comes 25 h after the first at
# the earliest (jitter only ever adds), so an endpoint down for a day loses nothing.
FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)
MAX_ATTEMPTS = 32
JITTER = 0.2
# How long a claimed delivery is left to its worker before another may take it over.
LEASE = timedelta(minutes=5)
BATCH = 100
# Arbitrary but fixed: the key of the PostgreSQL advisory lock the dispatcher holds.
_DISPATCH_LOCK = 0x1A7A_0B0C

Status = Literal["pending", "delivered", "dead"]
# Unexpected errors no retry can cure: a URL (or address) that cannot be encoded or parsed.
_HOPELESS: tuple[type[Exception], ...] = (httpx.InvalidURL, UnicodeError)
_ERROR_LIMIT = 500
OUTBOX_EVENTS = table_of(OutboxEvent)


# Events for the outbox's own deliveries, never posted to webhooks: a confirmation mail
# asked for again (app.records.confirmations.resend), a panel address changed (the notice
# to the old address).
INTERNAL_EVENTS: tuple[str, ...] = ("confirmation.requested", "customer.panel_email_changed")


def enqueue(session: Session, event: str, data: Mapping[str, Any]) -> str:
    """Add ``event`` in the caller's transaction; returns the event id."""
    row = event_row(event, data)
    # A Core insert, not session.add: the row is only ever inserted here, and the unit of
    # work's flush at commit cost more than the insert itself (one per recorded verdict).
    session.execute(insert(OUTBOX_EVENTS), [row])
    return str(row["id"])


def event_row(event: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The ``outbox_events`` row of ``event``, for the caller to insert in its transaction."""
    if event not in EVENTS and event not in INTERNAL_EVENTS:
        raise ValueError(f"unknown outbox event {event!r}; add it to app.delivery.webhooks.EVENTS")
    return {"id": str(uuid.uuid4()), "event": event, "data": data, "created_at": utcnow()}


def backoff(attempts: int, jitter: float) -> timedelta:
    """The wait after the ``attempts``-th failed attempt; ``jitter`` in [0, 1)."""
    base: timedelta = min(FIRST_DELAY * 2 ** (attempts - 1), MAX_DELAY)
    # Jitter only lengthens the wait, so the whole schedule never gets shorter than 24 h.
    return base * (1 + JITTER * jitter)


@dataclass(frozen=True, slots=True)
class _Claimed:
    id: str
    kind: str


class OutboxWorker:
    """Dispatches events and posts deliveries; ``run_once`` is one full pass."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        webhooks: WebhookSender,
        alerts: AlertSender | None = None,
        alert_interval: timedelta = timedelta(hours=1),
        now: Callable[[], datetime] = utcnow,
        poll_seconds: float = 2.0,
        jitter: Callable[[], float] = random.random,
        confirmations: ConfirmationMailer | None = None,
    ) -> None:
        self.sessions = sessions
        # Deliveries are read in sessions that do not take SQLite's write lock.
        self._reads = read_only_sessions(sessions)
        # Confirmation mail to registered owners (app.delivery.confirmations), if on.
        self.confirmations = confirmations
        self.webhooks = webhooks
        self.alerts = alerts
        self.alert_interval = alert_interval
        # Injectable so tests move time forward instead of waiting for back-off.
        self.now = now
        self.poll_seconds = poll_seconds
        self.jitter = jitter
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        sessions: sessionmaker[Session],
        kind_titles: Mapping[str, str] | None = None,
    ) -> OutboxWorker:
        """``kind_titles``: the catalogue's title of each instruction kind, which
        confirmation mail names the request by."""
        box = SecretBox(settings.require_secret_key())
        alerts = alert_sender_from_settings(settings)
        confirmations = None
        if alerts is not None and settings.public_url is not None:
            confirmations = ConfirmationMailer(
                alerts,
                token_key(settings.require_secret_key()),
                settings.public_url,
                timedelta(minutes=settings.confirm_ttl_minutes),
                kind_titles or {},
                per_hour=settings.confirm_max_per_hour,
            )
        return cls(
            sessions,
            WebhookSender(box, settings.webhook_allowed_hosts, settings.webhook_timeout),
            alerts,
            alert_interval=timedelta(minutes=settings.alert_interval_minutes),
            confirmations=confirmations,
        )

    def start(self) -> None:
        """Run passes in a daemon thread every ``poll_seconds`` until ``stop``."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="outbox-worker", daemon=True)
        self._thread.start()
        log.info("outbox worker started")

    def stop(self, timeout: float = 15.0) -> None:
        """Ask the thread to finish its current attempt and wait up to ``timeout`` s."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("outbox worker still busy after %.0f s; leaving it", timeout)
            self._thread = None
        self.webhooks.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except StoreUnavailable as exc:
                log.warning("outbox worker: store unavailable, retrying later: %s", exc)
            # log.exception keeps the traceback: the thread must outlive any one bad pass.
            except Exception:
                log.exception("outbox worker: unexpected error; retrying later")
            self._stop.wait(self.poll_seconds)

    def run_once(self) -> int:
        """Dispatch waiting events, then post every due delivery; returns attempts made."""
        while self.dispatch() == BATCH:
            pass
        attempts = 0
        # A success makes the subscription's next delivery due, hence the repeated claims.
        while not self._stop.is_set():
            claimed = self._claim()
            if not claimed:
                break
            for delivery in claimed:
                self._attempt(delivery)
            attempts += len(claimed)
        return attempts

    def dispatch(self) -> int:
        """Turn up to BATCH events into deliveries; returns how many events it took."""
        now = self.now()
        with self._write() as session:
            if session.get_bind().dialect.name == "postgresql" and not session.scalar(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _DISPATCH_LOCK}
            ):
                # Another replica dispatches now; one at a time keeps events in order.
                return 0
            subscriptions = list_subscriptions(session)
            if not subscriptions and self.alerts is None and self.confirmations is None:
                return _mark_dispatched(session, now)
            events = list(
                session.scalars(
                    select(OutboxEvent)
                    .where(OutboxEvent.dispatched_at.is_(None))
                    .order_by(OutboxEvent.seq)
                    .limit(BATCH)
                )
            )
            for event in events:
                for subscription in subscriptions if event.event in EVENTS else ():
                    if wants(subscription, event.event, event.data):
                        session.add(_delivery(event, now, "webhook", subscription.id))
                if self.alerts is not None:
                    alert = plan_alert(session, event.event, event.data, now, self.alert_interval)
                    if alert is not None:
                        session.add(_delivery(event, now, "alert", payload=alert))
                if self.confirmations is not None:
                    confirmation = plan_confirmation(
                        session, event.event, event.data, now, self.confirmations.per_hour
                    )
                    if confirmation is not None:
                        payload = {"confirmation_id": confirmation}
                        session.add(_delivery(event, now, "confirm", payload=payload))
                event.dispatched_at = now
            return len(events)

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """A write transaction begun in the store's writer turn, held to its commit."""
        with write_transaction(self.sessions) as session:
            yield session

    def _claim(self) -> list[_Claimed]:
        now = self.now()
        older = aliased(OutboxDelivery)
        # Oldest first per subscription: a delivery waits while an older one is pending.
        blocked = exists().where(
            older.subscription_id == OutboxDelivery.subscription_id,
            older.status == "pending",
            older.seq < OutboxDelivery.seq,
        )
        query = (
            select(OutboxDelivery)
            .where(
                OutboxDelivery.status == "pending",
                OutboxDelivery.next_attempt_at <= now,
                or_(OutboxDelivery.claimed_until.is_(None), OutboxDelivery.claimed_until < now),
                ~blocked,
            )
            .order_by(OutboxDelivery.seq)
            .limit(BATCH)
            .with_for_update(skip_locked=True, of=OutboxDelivery)
        )
        with self._write() as session:
            rows = list(session.scalars(query))
            for row in rows:
                # A lease, not a held lock: no transaction stays open across the HTTP call.
                row.claimed_until = now + LEASE
            return [_Claimed(row.id, row.kind) for row in rows]

    def _attempt(self, claimed: _Claimed) -> None:
        now = self.now()
        try:
            if claimed.kind == "alert":
                self._send_alert(claimed.id)
            elif claimed.kind == "confirm":
                self._send_confirmation(claimed.id, now)
            else:
                self._send_webhook(claimed.id, now)
        except DeliveryFailed as exc:
            self._record(claimed.id, now, str(exc), exc.permanent)
        except StoreUnavailable:
            raise  # nothing can be recorded now; the lease runs out and the pass is retried
        # One delivery's surprise must not stop the pass: the others in the batch would
        # starve behind it and this one would stay pending, unexplained, for ever.
        except Exception as exc:
            log.exception("outbox: unexpected error in %s delivery %s", claimed.kind, claimed.id)
            self._record(
                claimed.id,
                now,
                f"unexpected error: {type(exc).__name__}: {exc}",
                isinstance(exc, _HOPELESS),
            )
        else:
            self._record(claimed.id, now, None, False)

    def _send_webhook(self, delivery_id: str, now: datetime) -> None:
        with store_errors(), self._reads() as session:
            delivery = session.scalar(
                select(OutboxDelivery).where(OutboxDelivery.id == delivery_id)
            )
            if delivery is None or delivery.subscription_id is None:
                return  # the subscription was deleted meanwhile, its deliveries with it
            subscription = session.get(WebhookSubscription, delivery.subscription_id)
            event = session.get(OutboxEvent, delivery.event_seq)
            assert subscription is not None and event is not None
            body = delivery_body(event.id, event.event, event.created_at, event.data)
        self.webhooks.send(subscription, delivery, body, now)

    def _send_alert(self, delivery_id: str) -> None:
        payload = self._payload(delivery_id)
        if payload is None:
            return
        if self.alerts is None:
            raise DeliveryFailed("alerts are off (no relay configured); not sent")
        self.alerts.send(payload, delivery_id)

    def _send_confirmation(self, delivery_id: str, now: datetime) -> None:
        payload = self._payload(delivery_id)
        if payload is None:
            return
        if self.confirmations is None:
            raise DeliveryFailed("confirmation mail is off (no relay or PUBLIC_URL); not sent")
        self.confirmations.send(self.sessions, str(payload["confirmation_id"]), delivery_id, now)

    def _payload(self, delivery_id: str) -> dict[str, Any] | None:
        with store_errors(), self._reads() as session:
            delivery = session.scalar(
                select(OutboxDelivery).where(OutboxDelivery.id == delivery_id)
            )
            if delivery is None or delivery.payload is None:
                return None
            return dict(delivery.payload)

    def _record(self, delivery_id: str, now: datetime, error: str | None, permanent: bool) -> None:
        with self._write() as session:
            row = session.scalar(select(OutboxDelivery).where(OutboxDelivery.id == delivery_id))
            if row is None:
                return
            row.attempts += 1
            row.last_attempt_at = now
            row.claimed_until = None
            # An exception's text may quote anything (a NUL refused by PostgreSQL included).
            row.last_error = None if error is None else plain(error, _ERROR_LIMIT)
            if error is not None:
                metrics.WEBHOOK_FAILURES.inc()
            if error is None:
                row.status = "delivered"
                row.delivered_at = now
            elif permanent or row.attempts >= MAX_ATTEMPTS:
                row.status = "dead"
                log.warning(
                    "outbox: %s delivery %s dead-lettered after %d attempt(s): %s",
                    row.kind,
                    row.id,
                    row.attempts,
                    error,
                )
            else:
                row.next_attempt_at = now + backoff(row.attempts, self.jitter())
                log.info(
                    "outbox: %s delivery %s failed (attempt %d), next at %s: %s",
                    row.kind,
                    row.id,
                    row.attempts,
                    row.next_attempt_at.isoformat(),
                    error,
                )


def _mark_dispatched(session: Session, now: datetime) -> int:
    """Mark up to BATCH waiting events dispatched, in one statement; how many it marked.

    For a dispatch with nothing to deliver (no subscription, no alerts, no confirmation
    mail): loading the events (each one's data a whole verdict) and flushing them back
    took a dispatch of 100 events 50-150 ms in a worker busy checking mail, all of it
    holding the store's write lock, which every batch of verdicts waited for."""
    waiting = (
        select(OutboxEvent.seq)
        .where(OutboxEvent.dispatched_at.is_(None))
        .order_by(OutboxEvent.seq)
        .limit(BATCH)
        .scalar_subquery()
    )
    marked = session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.seq.in_(waiting))
        .values(dispatched_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(marked.rowcount)  # type: ignore[attr-defined]


def _delivery(
    event: OutboxEvent,
    now: datetime,
    kind: str,
    subscription_id: str | None = None,
    payload: dict[str, Any] | None = None,
) -> OutboxDelivery:
    return OutboxDelivery(
        # The Intakeguard-Delivery header: the receiver's idempotency key, so it is fixed
        # here, once, and every retry carries the same value.
        id=str(uuid.uuid4()),
        kind=kind,
        subscription_id=subscription_id,
        event_seq=event.seq,
        event=event.event,
        payload=payload,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )


def list_deliveries(
    session: Session, subscription_id: str, status: Status | None = None, limit: int = 50
) -> list[OutboxDelivery]:
    """A subscription's deliveries, newest first, optionally of one status."""
    subscription = get_subscription(session, subscription_id)
    query = (
        select(OutboxDelivery)
        .where(OutboxDelivery.subscription_id == subscription.id)
        .order_by(OutboxDelivery.seq.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(OutboxDelivery.status == status)
    return list(session.scalars(query))


def retry_delivery(session: Session, delivery_id: str, now: datetime) -> OutboxDelivery:
    """Put a dead webhook delivery back in line with a fresh schedule (same delivery id)."""
    try:
        canonical = str(uuid.UUID(delivery_id))
    except ValueError:
        raise NotFound(f"no delivery with id {delivery_id[:100]!r}") from None
    row = session.scalar(
        select(OutboxDelivery)
        .where(OutboxDelivery.id == canonical, OutboxDelivery.kind == "webhook")
        .with_for_update()
    )
    if row is None:
        raise NotFound(f"no delivery with id {delivery_id[:100]!r}")
    if row.status != "dead":
        raise Conflict(f"delivery {row.id} is {row.status}; only a dead delivery can be retried")
    row.status = "pending"
    row.attempts = 0
    row.next_attempt_at = now
    row.claimed_until = None
    session.flush()
    return row
